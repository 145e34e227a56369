// Per-token statistics computed inside the graph (appended to a pack's graphs when they open, or
// written by the graph builder) equal the JavaScript reduction of the logits (rowStats).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { Engine } from '../../src/engine/engine';
import type { ProbeResult } from '../../src/engine/schema';
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
  await opensAsItIs(dir, TINY);
});

/** `dir` opens with its graphs as they are, and scores TEXT as `plainDir` does without statistics. */
async function opensAsItIs(dir: string, plainDir: string): Promise<ProbeResult> {
  const a = await Engine.open(dir, { providers: ['cpu'] });
  const b = await Engine.open(plainDir, { providers: ['cpu'], inGraphStatistics: false });
  try {
    assert.equal(a.pack.manifest.graph.statistics, undefined, 'both graphs as they are, not one of each');
    const ra = await a.probe(TEXT, { topK: 3 });
    const rb = await b.probe(TEXT, { topK: 3 });
    assert.deepEqual(ra.tokens.map((t) => [t.forward.surprisalBits, t.backward?.surprisalBits]), rb.tokens.map((t) => [t.forward.surprisalBits, t.backward?.surprisalBits]));
    return ra;
  } finally {
    await a.dispose();
    await b.dispose();
  }
}

test('a graph that adds a per-position tensor before its final norm (no batch rows to take early) falls back to its own graphs, with the same scores', async () => {
  // logits = W ln_f(h + wpe[0:S]): wpe[0:S] is [1, S, D], so its rows are not the batch's rows.
  const addPositions = (file: string) => {
    const model = onnx.ModelProto.decode(readFileSync(file));
    const g = model.graph as onnx.GraphProto;
    const lnF = (g.node as onnx.NodeProto[]).find((n) => n.opType === 'LayerNormalization' && n.input[1] === 'ln_f.weight')!;
    const c = (name: string, v: number[], dims: number[]) =>
      onnx.NodeProto.create({ opType: 'Constant', output: [name], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dataType: onnx.TensorProto.DataType.INT64, dims, int64Data: v } }] });
    const n = (opType: string, input: string[], output: string) => onnx.NodeProto.create({ opType, input, output: [output] });
    const nodes = [
      c('t_zero', [0], []),
      c('t_one', [1], []),
      c('t_axes', [0], [1]),
      n('Shape', ['input_ids'], 't_shape'),
      n('Gather', ['t_shape', 't_one'], 't_len'),
      n('Range', ['t_zero', 't_len', 't_one'], 't_pos'),
      n('Gather', ['wpe.weight', 't_pos'], 't_table'),
      n('Unsqueeze', ['t_table', 't_axes'], 't_per_position'),
      n('Add', [lnF.input[0], 't_per_position'], 't_h'),
    ];
    lnF.input[0] = 't_h';
    (g.node as onnx.NodeProto[]).splice((g.node as onnx.NodeProto[]).indexOf(lnF), 0, ...nodes);
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
  };
  const dir = tempPack(TINY, (m, d) => {
    addPositions(join(d, m.forward as string));
    addPositions(join(d, m.backward as string));
  });
  const ra = await opensAsItIs(dir, dir);
  assert.ok(ra.tokens.length > 40, 'several windows: batches of more than one row');
  const plain = await Engine.open(TINY, { providers: ['cpu'] });
  const rp = await plain.probe(TEXT, { topK: 3 });
  await plain.dispose();
  assert.notDeepEqual(ra.tokens.map((t) => t.forward.surprisalBits), rp.tokens.map((t) => t.forward.surprisalBits), 'the added positions change the scores');
});
