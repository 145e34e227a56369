// The fused head + top-1 graph (head.onnx with ArgMax / Softmax / GatherElements appended by
// protobuf surgery) gives the ids and probabilities of the head's logits read in JavaScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { Engine } from '../../src/engine/engine';
import { fusedHeadBytes, headTop1, releaseHeadTop1 } from '../../src/engine/analysis/headTop1';
import { runHead } from '../../src/engine/analysis/host';
import { top1Rows } from '../../src/engine/analysis/futureLens';

const ROOT = resolve(__dirname, '..', '..');

for (const pack of [join(ROOT, 'test', 'fixtures', 'tiny-gpt'), join(ROOT, 'models', 'default'), join(ROOT, 'test', 'fixtures', 'hf', 'llama-gqa')]) {
  test(`head + top-1 in one run equals head, then top-1 in JavaScript (${pack.split('/').slice(-2).join('/')})`, async () => {
    const engine = await Engine.open(pack, { providers: ['cpu'] });
    try {
      const { width: D, vocabSize: V } = engine.pack.manifest.architecture;
      const n = 300;
      let s = 7;
      const h = Float32Array.from({ length: n * D }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 6);
      const ids = new Int32Array(n);
      const probs = new Float32Array(n);
      assert.equal(await headTop1(engine, h, n, ids, probs), true, 'the fused graph runs on the cpu');
      const refIds = new Int32Array(n);
      const refProbs = new Float32Array(n);
      top1Rows(await runHead(engine, h, n), V, n, refIds, refProbs);
      assert.deepEqual(Array.from(ids), Array.from(refIds));
      for (let r = 0; r < n; r++) assert.ok(Math.abs(probs[r] - refProbs[r]) < 1e-5 * (1 + refProbs[r]), `row ${r}: ${probs[r]} vs ${refProbs[r]}`);
    } finally {
      await releaseHeadTop1(engine);
      await engine.dispose();
    }
  });
}

test('fusedHeadBytes: the head keeps its own outputs and gains the top-1 ones (onnx-proto round trip)', () => {
  const head = readFileSync(join(ROOT, 'test', 'fixtures', 'tiny-gpt', 'head.onnx'));
  const before = onnx.ModelProto.decode(head).graph as onnx.GraphProto;
  const after = onnx.ModelProto.decode(fusedHeadBytes(head, before.output[0].name as string)).graph as onnx.GraphProto;
  assert.deepEqual(after.output.map((o) => o.name), [...before.output.map((o) => o.name), 'lm_probe_top1_id', 'lm_probe_top1_prob']);
  assert.equal(after.initializer.length, before.initializer.length);
  assert.deepEqual(after.node.slice(0, before.node.length).map((n) => n.opType), before.node.map((n) => n.opType));
  assert.throws(() => fusedHeadBytes(Uint8Array.from([0x08]), 'logits'));
});
