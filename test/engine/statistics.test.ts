// Per-token statistics computed inside the graph (appended to a pack's graphs when they open, or
// written by the graph builder) equal the JavaScript reduction of the logits (rowStats).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { Engine } from '../../src/engine/engine';
import { MARKOV, ROOT, TINY, tempPack } from './helpers';

const TEXT = 'def f(x):\n    return x ** 2  # 平方 👋🏽 e\u0301\r\n' + 'The quick brown fox jumps over the lazy dog. '.repeat(12);

for (const pack of [join(ROOT, 'models', 'default'), TINY, MARKOV, join(ROOT, 'test', 'fixtures', 'markov-forward-int32')]) {
  test(`in-graph statistics = JavaScript statistics (${pack.split('/').slice(-2).join('/')}): surprisal within 1e-5 bits, same ranks and top-k`, async () => {
    const a = await Engine.open(pack, { providers: ['cpu'] });
    const b = await Engine.open(pack, { providers: ['cpu'], inGraphStatistics: false });
    try {
      assert.ok(a.pack.manifest.graph.statistics, 'the statistics were appended');
      assert.equal(b.pack.manifest.graph.statistics, undefined);
      const ra = await a.probe(TEXT, { topK: 7 });
      const rb = await b.probe(TEXT, { topK: 7 });
      assert.equal(ra.tokens.length, rb.tokens.length);
      for (let i = 0; i < ra.tokens.length; i++) {
        for (const d of ['forward', 'backward'] as const) {
          const x = ra.tokens[i][d];
          const y = rb.tokens[i][d];
          if (!x || !y) {
            assert.equal(x, y);
            continue;
          }
          assert.ok(Math.abs(x.surprisalBits - y.surprisalBits) < 1e-5, `${i} ${d}: ${x.surprisalBits} vs ${y.surprisalBits}`);
          assert.ok(Math.abs(x.entropyBits - y.entropyBits) < 1e-4, `${i} ${d} entropy`);
          assert.equal(x.rank, y.rank, `${i} ${d} rank`);
          assert.deepEqual(x.top.map((t) => t.id), y.top.map((t) => t.id), `${i} ${d} top ids`);
          x.top.forEach((t, j) => assert.ok(Math.abs(t.prob - y.top[j].prob) < 1e-5));
        }
      }
      assert.ok(Math.abs(ra.summary.forward.meanNats - rb.summary.forward.meanNats) < 1e-6);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
}

test('a pack whose backward graph cannot take the statistics (external weights) opens both graphs as they are, with the same scores', async () => {
  const dir = tempPack(TINY, (m, d) => {
    // the backward graph with its weights moved to a file beside it
    const file = join(d, m.backward as string);
    const model = onnx.ModelProto.decode(readFileSync(file));
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const t of model.graph?.initializer ?? []) {
      if (!t.rawData || t.rawData.length === 0) continue;
      const raw = Buffer.from(t.rawData);
      chunks.push(raw);
      t.rawData = new Uint8Array(0);
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: 'backward.weights' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      offset += raw.length;
    }
    writeFileSync(join(d, 'backward.weights'), Buffer.concat(chunks));
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
  });
  const a = await Engine.open(dir, { providers: ['cpu'] });
  const b = await Engine.open(TINY, { providers: ['cpu'], inGraphStatistics: false });
  try {
    assert.equal(a.pack.manifest.graph.statistics, undefined, 'both graphs as they are, not one of each');
    const ra = await a.probe(TEXT, { topK: 3 });
    const rb = await b.probe(TEXT, { topK: 3 });
    assert.deepEqual(ra.tokens.map((t) => [t.forward.surprisalBits, t.backward?.surprisalBits]), rb.tokens.map((t) => [t.forward.surprisalBits, t.backward?.surprisalBits]));
  } finally {
    await a.dispose();
    await b.dispose();
  }
});
