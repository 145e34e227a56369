// The recipe writes the default pack's weights also as Hugging Face GPT-2 folders
// (models/recipe/export_hf_gpt2.py -> models/default-hf). The graph LM Probe builds from them must
// be the committed ONNX pack: same logits, hidden states and attentions to 1e-4, both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadHfModel } from '../../src/engine/hf/source';
import { Engine } from '../../src/engine/engine';
import { builtFeeds } from './feeds';

process.env.LM_PROBE_CACHE_DIR = mkdtempSync(join(tmpdir(), 'lm-probe-cache-'));
const ROOT = join(__dirname, '..', '..', 'models');

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const dir of ['forward', 'backward'] as const) {
  test(`default-hf/${dir}: built graph = models/default/${dir}.onnx (logits, hidden states, attentions) within 1e-4`, async () => {
    const m = await loadHfModel(join(ROOT, 'default-hf', dir));
    const built = await ort.InferenceSession.create(m.graphs.forward, { executionProviders: ['cpu'] });
    const pack = await ort.InferenceSession.create(join(ROOT, 'default', `${dir}.onnx`), { executionProviders: ['cpu'] });
    try {
      // two rows of the full context, ids spread over the vocabulary, BOS first
      const S = 256;
      const rows = [0, 1].map((r) => Array.from({ length: S }, (_, i) => (i === 0 ? 0 : ((r * S + i) * 2654435761) % 4096)));
      const feed = builtFeeds(rows);
      const names = ['logits', 'hidden_states', 'attentions'];
      const a = await built.run(feed, names);
      const b = await pack.run({ input_ids: feed.input_ids }, names);
      for (const n of names) {
        assert.deepEqual(a[n].dims, b[n].dims, n);
        const d = maxAbsDiff(a[n].data as Float32Array, b[n].data as Float32Array);
        assert.ok(d < 1e-4, `${n}: max abs difference ${d}`);
      }
    } finally {
      await built.release();
      await pack.release();
    }
  });
}

test('default-hf pair.json probes like the default pack (surprisal within 1e-5 bits, same ranks, top-k and delta)', async () => {
  const text = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)  # naïve 👋🏽\r\n';
  const pair = await Engine.open(join(ROOT, 'default-hf'));
  const pack = await Engine.open(join(ROOT, 'default'));
  try {
    assert.equal(pair.pack.info.hasBackward, true);
    const a = await pair.probe(text, { topK: 5 });
    const b = await pack.probe(text, { topK: 5 });
    assert.equal(a.tokens.length, b.tokens.length);
    for (let i = 0; i < a.tokens.length; i++) {
      const [x, y] = [a.tokens[i], b.tokens[i]];
      assert.deepEqual([x.id, x.start, x.end], [y.id, y.start, y.end]);
      for (const d of ['forward', 'backward'] as const) {
        const [s, t] = [x[d]!, y[d]!];
        assert.ok(Math.abs(s.surprisalBits - t.surprisalBits) < 1e-5, `token ${i} ${d}: ${s.surprisalBits} vs ${t.surprisalBits}`);
        assert.ok(Math.abs(s.entropyBits - t.entropyBits) < 1e-3, `token ${i} ${d} entropy`);
        assert.equal(s.rank, t.rank, `token ${i} ${d} rank`);
        assert.deepEqual(s.top.map((o) => o.id), t.top.map((o) => o.id), `token ${i} ${d} top-k`);
      }
    }
    assert.ok(Math.abs(a.summary.delta! - b.summary.delta!) < 1e-5);
  } finally {
    await pair.dispose();
    await pack.dispose();
  }
});
