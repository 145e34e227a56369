// The probes' decoding in one ONNX Runtime run: the pack's head.onnx with four nodes appended,
// i = ArgMax(logits), p = Exp(GatherElements(LogSoftmax(logits), i)), fetched alone. The logits
// [N, V] (16 MB for 1,000 rows) then never leave ONNX Runtime: no copy into JavaScript, no second
// session call, no garbage to collect. Appending is plain protobuf: fields of a message may come in
// any number of pieces, so the graph's bytes gain `node` and `output` entries and only the model's
// length prefix of the graph changes. CPU only (the head's own session serves other providers); any
// failure to build or run the fused graph falls back to head + top-1 (host.ts), once and for all.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ort } from '../runtime';
import type { AnalysisEngine } from './host';

const OUT_ID = 'lm_probe_top1_id';
const OUT_PROB = 'lm_probe_top1_prob';

// ---- a few protobuf helpers (wire types 0 and 2 are all that is written) ----

function varint(n: number): number[] {
  const b: number[] = [];
  let v = n;
  do {
    let x = v % 128;
    v = Math.floor(v / 128);
    if (v) x |= 0x80;
    b.push(x);
  } while (v);
  return b;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const bytesField = (field: number, data: number[]) => [...key(field, 2), ...varint(data.length), ...data];
const strField = (field: number, s: string) => bytesField(field, [...Buffer.from(s, 'utf8')]);
const intField = (field: number, n: number) => [...key(field, 0), ...varint(n)];
// AttributeProto: name 1, i 3, type 20 (INT = 2)
const attrInt = (name: string, v: number) => [...strField(1, name), ...intField(3, v), ...intField(20, 2)];
// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
const node = (name: string, ins: string[], outs: string[], op: string, attrs: number[][] = []) => [
  ...ins.flatMap((s) => strField(1, s)),
  ...outs.flatMap((s) => strField(2, s)),
  ...strField(3, name),
  ...strField(4, op),
  ...attrs.flatMap((a) => bytesField(5, a)),
];
// ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1), no shape
const output = (name: string, elemType: number) => [...strField(1, name), ...bytesField(2, bytesField(1, intField(1, elemType)))];

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated protobuf');
    v += (b & 0x7f) * mul;
    if (!(b & 0x80)) return [v, pos];
    mul *= 128;
  }
}

/** The ModelProto bytes of `model` with `extra` appended to its graph (field 7). */
export function appendToGraph(model: Uint8Array, extra: number[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let pos = 0;
  let found = false;
  while (pos < model.length) {
    const start = pos;
    const [tag, p1] = readVarint(model, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    pos = p1;
    if (wire === 0) pos = readVarint(model, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, p2] = readVarint(model, pos);
      pos = p2 + len;
      if (field === 7) {
        const graph = model.subarray(p2, pos);
        parts.push(Uint8Array.from([...key(7, 2), ...varint(graph.length + extra.length)]), graph, Uint8Array.from(extra));
        found = true;
        continue;
      }
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
    if (pos > model.length) throw new Error('truncated protobuf');
    parts.push(model.subarray(start, pos));
  }
  if (!found) throw new Error('the model has no graph');
  return Buffer.concat(parts);
}

/** head.onnx's bytes with the top-1 nodes appended (logits output `logits`, rank 2, axis 1). */
export function fusedHeadBytes(head: Uint8Array, logits: string): Uint8Array {
  // p = exp(GatherElements(LogSoftmax(z), i)): ONNX Runtime's LogSoftmax keeps the exponentials in
  // registers and writes z - max - log(sum) once, where Softmax writes the exponentials and then
  // divides them; about a third less time for the whole head run (same ids, probabilities within
  // float32 rounding).
  const extra = [
    ...bytesField(1, node('lm_probe_argmax', [logits], [OUT_ID], 'ArgMax', [attrInt('axis', 1), attrInt('keepdims', 1)])),
    ...bytesField(1, node('lm_probe_logsoftmax', [logits], ['lm_probe_logsoftmax_out'], 'LogSoftmax', [attrInt('axis', 1)])),
    ...bytesField(1, node('lm_probe_gather', ['lm_probe_logsoftmax_out', OUT_ID], ['lm_probe_top1_logprob'], 'GatherElements', [attrInt('axis', 1)])),
    ...bytesField(1, node('lm_probe_exp', ['lm_probe_top1_logprob'], [OUT_PROB], 'Exp')),
    ...bytesField(12, output(OUT_ID, 7)),
    ...bytesField(12, output(OUT_PROB, 1)),
  ];
  return appendToGraph(head, extra);
}

const fused = new WeakMap<object, Promise<ort.InferenceSession | null>>();

function fusedSession(engine: AnalysisEngine): Promise<ort.InferenceSession | null> {
  let s = fused.get(engine);
  if (!s) {
    const file = engine.pack.files.head;
    s =
      !file || engine.provider.split('+')[0] !== 'cpu'
        ? Promise.resolve(null)
        : (async () => {
            const plain = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], logSeverityLevel: 3 });
            const logits = plain.outputNames[0];
            await plain.release();
            return ort.InferenceSession.create(fusedHeadBytes(readFileSync(file), logits), {
              executionProviders: ['cpu'],
              logSeverityLevel: 3,
              graphOptimizationLevel: 'all',
              enableCpuMemArena: false,
              // All cores but one: the decode runs while the worker thread of the other analyses
              // (stateThread.ts) takes a core. On 2 cores, a second ORT thread fought the worker
              // for its core (the benchmark's ratio 0.88-1.05 with two threads, 0.78-0.81 with one).
              intraOpNumThreads: Math.max(1, availableParallelism() - 1),
              extra: { session: { intra_op: { allow_spinning: '0' } } },
            });
          })().catch(() => null);
    fused.set(engine, s);
  }
  return s;
}

/**
 * Top-1 id and probability of head(hidden) for n rows [n, D], in one run; false when the fused
 * graph is not available here (the caller then runs the head and the top-1 graph apart).
 */
export async function headTop1(engine: AnalysisEngine, hidden: Float32Array, n: number, ids: Int32Array, probs: Float32Array): Promise<boolean> {
  const s = await fusedSession(engine);
  if (!s) return false;
  const D = engine.pack.manifest.architecture.width;
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', hidden, [n, D]) }, [OUT_ID, OUT_PROB]);
  } catch {
    fused.set(engine, Promise.resolve(null));
    await s.release().catch(() => undefined);
    return false;
  }
  const i = out[OUT_ID].data as BigInt64Array;
  const p = out[OUT_PROB].data as Float32Array;
  for (let r = 0; r < n; r++) {
    ids[r] = Number(i[r]);
    probs[r] = p[r];
  }
  return true;
}

export async function releaseHeadTop1(engine: AnalysisEngine): Promise<void> {
  const s = fused.get(engine);
  fused.delete(engine);
  if (s) await (await s)?.release().catch(() => undefined);
}
