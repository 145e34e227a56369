// forWebGpu: the ops WebGPU lacks (FusedMatMul, LogSoftmax) are rewritten into ops it has, and the
// rewritten graph computes the same values. Checked on the CPU, so that it runs everywhere;
// webgpu.test.ts runs the rewritten graphs on WebGPU itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { appendStatistics, STAT_NAMES } from '../../src/engine/hf/statistics';
import { forWebGpu } from '../../src/engine/webgpuGraph';
import { ROOT } from './helpers';

const F = onnx.TensorProto.DataType.FLOAT;
const vi = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const INTS = onnx.AttributeProto.AttributeType.INT;

/** float16 bits of x, for values with at most 10 significant bits (exact here). */
function f16(x: number): number {
  const u = new Uint32Array(Float32Array.of(x).buffer)[0];
  const e = ((u >>> 23) & 0xff) - 127 + 15;
  return e <= 0 ? 0 : ((u >>> 16) & 0x8000) | (e << 10) | ((u & 0x7fffff) >>> 13);
}

/**
 * x [2,3,8] -> FusedMatMul(x, W^T) [2,3,5] -> LogSoftmax; the same through a float16 weight and its
 * Cast (how graphs built from float16 or bfloat16 folders read weights); and a FusedMatMul with
 * alpha 2, left alone.
 */
function model(): Uint8Array {
  const w = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3);
  const w16 = Array.from({ length: 40 }, (_, i) => i / 8 - 2);
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: 'g',
      initializer: [
        { name: 'w', dims: [5, 8], dataType: F, floatData: w },
        { name: 'w16', dims: [5, 8], dataType: onnx.TensorProto.DataType.FLOAT16, int32Data: w16.map(f16) },
      ],
      node: [
        { name: 'cast', opType: 'Cast', input: ['w16'], output: ['w16f'], attribute: [{ name: 'to', type: INTS, i: F }] },
        { name: 'mm16', opType: 'FusedMatMul', domain: 'com.microsoft', input: ['x', 'w16f'], output: ['v'], attribute: [{ name: 'transB', type: INTS, i: 1 }] },
        { name: 'mm', opType: 'FusedMatMul', domain: 'com.microsoft', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'transB', type: INTS, i: 1 }] },
        { name: 'lsm', opType: 'LogSoftmax', input: ['y'], output: ['z'], attribute: [{ name: 'axis', type: INTS, i: -1 }] },
        {
          name: 'scaled',
          opType: 'FusedMatMul',
          domain: 'com.microsoft',
          input: ['x', 'w'],
          output: ['u'],
          attribute: [
            { name: 'transB', type: INTS, i: 1 },
            { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 2 },
          ],
        },
      ],
      input: [vi('x', [2, 3, 8])],
      output: [vi('z', [2, 3, 5]), vi('u', [2, 3, 5]), vi('v', [2, 3, 5])],
    },
  }).finish();
}

function opTypes(g: onnx.IGraphProto): string[] {
  return (g.node ?? []).flatMap((n) => [n.opType ?? '', ...(n.attribute ?? []).flatMap((a) => (a.g ? opTypes(a.g) : []))]);
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const out = await (fetches ? s.run(feeds, fetches) : s.run(feeds));
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await s.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
}

test('forWebGpu: x W^T and LogSoftmax become MatMul on a transpose and a shifted log-sum-exp, with the same values', async () => {
  const before = model();
  const after = forWebGpu(before).bytes;
  const ops = opTypes(onnx.ModelProto.decode(after).graph!);
  assert.ok(!ops.includes('LogSoftmax'), ops.join(' '));
  assert.deepEqual(
    ops.filter((o) => o === 'FusedMatMul'),
    ['FusedMatMul'],
    'the FusedMatMul with alpha 2 is left as it is',
  );
  assert.ok(ops.includes('Transpose') && ops.includes('ReduceMax'));
  // Large logits: the log-sum-exp must take the maximum out before exp (exp(89) overflows float32).
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 48 }, (_, i) => Math.cos(i) * 40),
    [2, 3, 8],
  );
  const want = await run(before, { x });
  const got = await run(after, { x });
  assert.ok(Math.min(...Array.from(want.z)) < -89, 'logits far enough apart that exp() without the shift overflows');
  assert.ok(maxDiff(got.z, want.z) < 1e-5, `LogSoftmax ${maxDiff(got.z, want.z)}`);
  assert.ok(got.z.every(Number.isFinite));
  assert.equal(maxDiff(got.u, want.u), 0);
  assert.ok(maxDiff(got.v, want.v) < 1e-5, `float16 weight ${maxDiff(got.v, want.v)}`);
  assert.ok(Math.max(...Array.from(want.v).map(Math.abs)) > 1);
});

test('forWebGpu: a graph without those ops comes back as the same bytes', () => {
  const plain = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: [{ name: 'a', opType: 'Add', input: ['x', 'x'], output: ['y'] }], input: [vi('x', [4])], output: [vi('y', [4])] },
  }).finish();
  assert.equal(forWebGpu(plain).bytes, plain);
  assert.deepEqual(forWebGpu(plain).cpuNodes, []);
});

test('forWebGpu: the default pack with its statistics appended scores the same rows the same way', async () => {
  const bytes = appendStatistics(readFileSync(join(ROOT, 'models', 'default', 'forward.onnx')), { logits: 'logits', hiddenStates: 'hidden_states', attentions: 'attentions' });
  const after = forWebGpu(bytes).bytes;
  assert.ok(!opTypes(onnx.ModelProto.decode(after).graph!).includes('LogSoftmax'));
  const B = 2;
  const S = 9;
  const rows = [0, 3, 8, 9, 17];
  const feeds = {
    input_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 131 + 7) % 4096)),
      [B, S],
    ),
    [STAT_NAMES.rows]: new ort.Tensor('int64', BigInt64Array.from(rows.map(BigInt)), [rows.length]),
    [STAT_NAMES.targetIds]: new ort.Tensor('int64', BigInt64Array.from(rows.map((r) => BigInt((r * 977) % 4096))), [rows.length]),
    [STAT_NAMES.topK]: new ort.Tensor('int64', BigInt64Array.of(5n), [1]),
    [STAT_NAMES.full]: new ort.Tensor('bool', Uint8Array.of(0), []),
    [STAT_NAMES.scores]: new ort.Tensor('bool', Uint8Array.of(1), []),
  };
  const fetches = [STAT_NAMES.targetLogprob, STAT_NAMES.entropy, STAT_NAMES.topLogprobs, STAT_NAMES.greater, STAT_NAMES.topIds];
  const want = await run(bytes, feeds, fetches);
  const got = await run(after, feeds, fetches);
  for (const k of [STAT_NAMES.targetLogprob, STAT_NAMES.entropy, STAT_NAMES.topLogprobs]) assert.ok(maxDiff(got[k], want[k]) < 1e-5, `${k} ${maxDiff(got[k], want[k])}`);
  for (const k of [STAT_NAMES.greater, STAT_NAMES.topIds]) assert.deepEqual(Array.from(got[k]), Array.from(want[k]), k);
});

test('forWebGpu: Sin and Cos are named for the CPU (WGSL approximates them), in subgraphs too', () => {
  const branch = { name: 'b', node: [{ opType: 'Cos', input: ['x'], output: ['c'] }], output: [vi('c', [4])] };
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [
        { name: 'rope_sin', opType: 'Sin', input: ['x'], output: ['s'] },
        { name: 'if', opType: 'If', input: ['flag'], output: ['c'], attribute: [{ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch }, { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch }] },
      ],
      input: [vi('x', [4]), { name: 'flag', type: { tensorType: { elemType: onnx.TensorProto.DataType.BOOL, shape: { dim: [] } } } }],
      output: [vi('s', [4]), vi('c', [4])],
    },
  }).finish();
  const w = forWebGpu(bytes);
  // The unnamed Cos of each branch gets a name of its own.
  assert.deepEqual(w.cpuNodes, ['rope_sin', 'lm_probe_webgpu_cpu_1', 'lm_probe_webgpu_cpu_2']);
  const names = opTypes(onnx.ModelProto.decode(w.bytes).graph!);
  assert.ok(names.includes('Cos') && names.includes('Sin'));
});
