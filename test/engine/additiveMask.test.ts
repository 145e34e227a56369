// Where(mask, scores, -inf) rewritten as scores + Where(mask, 0, -inf) gives the same bits, leaves
// other Where nodes alone, and finds the default pack's four attention masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { additiveMasks } from '../../src/engine/additiveMask';
import { FLOAT, GraphBuilder } from '../../src/engine/hf/onnxGraph';
import { ROOT } from './helpers';

const S = 9;

/** softmax(Where(causal, x, fill)) or, mirrored, softmax(Where(!causal, fill, x)), on x [2, S, S]. */
function maskedSoftmax(fill: number, mirrored: boolean): onnx.ModelProto {
  const g = new GraphBuilder();
  g.input('x', FLOAT, [2, S, S]);
  const r = g.o('Range', [g.constI([0], []), g.constI([S], []), g.constI([1], [])]);
  const later = g.o('Greater', [r, g.o('Unsqueeze', [r, g.constI([-1])])]);
  const f = g.constF([fill], []);
  const scores = mirrored ? g.o('Where', [later, f, 'x']) : g.o('Where', [g.o('Not', [later]), 'x', f]);
  g.output(g.o('Softmax', [scores], { axis: -1 }), 'y', FLOAT, null);
  g.output(scores, 'scores', FLOAT, null);
  return onnx.ModelProto.decode(g.encode('masked'));
}

async function run(m: onnx.ModelProto, x: Float32Array): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish(), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [2, S, S]) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

const x = Float32Array.from({ length: 2 * S * S }, (_, i) => Math.sin(i * 12.9898) * 40 - (i % 7 === 0 ? 0 : 3));

for (const mirrored of [false, true]) {
  test(`additiveMasks: Where(${mirrored ? 'mask, -inf, x' : 'mask, x, -inf'}) becomes an Add with the same bits`, async () => {
    const before = await run(maskedSoftmax(-Infinity, mirrored), x);
    const m = maskedSoftmax(-Infinity, mirrored);
    assert.equal(additiveMasks(m.graph as onnx.GraphProto), 1);
    const ops = m.graph!.node!.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'Where').length, 1, 'one Where left, on the mask');
    assert.ok(ops.includes('Add'));
    const after = await run(m, x);
    assert.deepEqual(Array.from(after.y), Array.from(before.y));
    assert.deepEqual(Array.from(after.scores), Array.from(before.scores));
  });
}

test('additiveMasks: a finite fill is not -inf, and is left as it is', () => {
  const m = maskedSoftmax(-1e9, false);
  const n = m.graph!.node!.length;
  assert.equal(additiveMasks(m.graph as onnx.GraphProto), 0);
  assert.equal(m.graph!.node!.length, n);
});

test("additiveMasks: the default pack's forward graph has its four attention masks rewritten", () => {
  const m = onnx.ModelProto.decode(readFileSync(join(ROOT, 'models', 'default', 'forward.onnx')));
  assert.equal(additiveMasks(m.graph as onnx.GraphProto), 4);
});
