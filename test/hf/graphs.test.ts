// The graphs LM Probe builds from Hugging Face folders, against an independent numpy reference
// (scripts/hf_reference.py, written from the architectures' papers and transformers' conventions):
// random-weight folders of each family (test/fixtures/hf/*, scripts/make-hf-fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { loadHfModel } from '../../src/engine/hf/source';
import { builtFeeds } from './feeds';

process.env.LM_PROBE_CACHE_DIR = mkdtempSync(join(tmpdir(), 'lm-probe-cache-'));
const ROOT = join(__dirname, '..', 'fixtures', 'hf');

interface Reference {
  inputIds: number[][];
  logits: number[];
  hiddenStates: number[];
  attentions: number[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const name of readdirSync(ROOT).filter((n) => existsSync(join(ROOT, n, 'reference.json')))) {
  test(`${name}: built graph = numpy reference (logits, hidden states, attentions) within 1e-4`, async () => {
    const ref = JSON.parse(readFileSync(join(ROOT, name, 'reference.json'), 'utf8')) as Reference;
    const m = await loadHfModel(join(ROOT, name));
    const s = await ort.InferenceSession.create(m.graphs.forward, { executionProviders: ['cpu'] });
    try {
      const ids = ref.inputIds;
      const out = await s.run(builtFeeds(ids), ['logits', 'hidden_states', 'attentions']);
      const errs = {
        logits: maxAbsDiff(out.logits.data as Float32Array, ref.logits),
        hidden: maxAbsDiff(out.hidden_states.data as Float32Array, ref.hiddenStates),
        attentions: maxAbsDiff(out.attentions.data as Float32Array, ref.attentions),
      };
      if (process.env.LM_PROBE_TEST_VERBOSE) console.log(name, errs, Math.max(...ref.logits.map(Math.abs)));
      for (const [k, v] of Object.entries(errs)) assert.ok(v < 1e-4, `${name} ${k}: max abs difference ${v}`);
      const head = await ort.InferenceSession.create(m.graphs.head, { executionProviders: ['cpu'] });
      const L = m.spec.layers;
      const T = ids[0].length;
      const D = m.spec.width;
      const last = (out.hidden_states.data as Float32Array).slice(L * T * D, (L + 1) * T * D);
      const hl = await head.run({ hidden: new ort.Tensor('float32', last, [T, D]) });
      assert.ok(maxAbsDiff(hl.logits.data as Float32Array, out.logits.data as Float32Array) < 1e-4, 'head(hidden_states[L]) = logits');
      await head.release();

      // A scoring run: rows out of order, the last block's tail run on those rows only.
      const B = ids.length;
      const V = m.spec.vocabSize;
      const rows = [B * T - 1, 0, Math.floor((B * T) / 2)];
      const targets = rows.map((r) => (r * 7 + 3) % V);
      const feeds = builtFeeds(ids);
      feeds.lm_probe_rows = new ort.Tensor('int64', BigInt64Array.from(rows.map(BigInt)), [rows.length]);
      feeds.lm_probe_target_ids = new ort.Tensor('int64', BigInt64Array.from(targets.map(BigInt)), [rows.length]);
      feeds.lm_probe_full = new ort.Tensor('bool', Uint8Array.of(0), []);
      const lp = (await s.run(feeds, ['lm_probe_target_logprob'])).lm_probe_target_logprob.data as Float32Array;
      rows.forEach((r, j) => {
        const z = ref.logits.slice(r * V, (r + 1) * V);
        const mx = Math.max(...z);
        const want = z[targets[j]] - mx - Math.log(z.reduce((a, x) => a + Math.exp(x - mx), 0));
        assert.ok(Math.abs(lp[j] - want) < 1e-4, `${name} row ${r}: ${lp[j]} vs ${want}`);
      });
      const main = onnx.ModelProto.decode(readFileSync(m.graphs.forward)).graph!.node!;
      const early = main.filter((n) => n.name!.startsWith('lm_probe/') && /MatMul/.test(n.opType!));
      assert.ok(early.length >= 4, `${name}: the last block's attention output, MLP and the unembedding run on the scored rows (${early.length} matrix products)`);
    } finally {
      await s.release();
    }
  });
}

test('short windows (1 to 5 positions: some of the query blocks empty) give the prefix of a longer window, and attention rows that sum to 1 with zeros after the query', async () => {
  for (const name of ['gpt2-tiny', 'llama-gqa', 'neox-tiny']) {
    const m = await loadHfModel(join(ROOT, name));
    const s = await ort.InferenceSession.create(m.graphs.forward, { executionProviders: ['cpu'] });
    try {
      const ids = [0, 5, 9, 13, 17, 21, 25];
      const V = m.spec.vocabSize;
      const long = (await s.run(builtFeeds([ids]), ['logits'])).logits.data as Float32Array;
      for (let S = 1; S <= 5; S++) {
        const out = await s.run(builtFeeds([ids.slice(0, S)]), ['logits', 'attentions']);
        assert.ok(maxAbsDiff(out.logits.data as Float32Array, long.subarray(0, S * V)) < 1e-5, `${name} S=${S}: logits`);
        assert.deepEqual(out.attentions.dims, [m.spec.layers, 1, m.spec.heads, S, S]);
        const att = out.attentions.data as Float32Array;
        for (let r = 0; r < att.length / S; r++) {
          const row = att.subarray(r * S, (r + 1) * S);
          assert.ok(Math.abs(row.reduce((a, x) => a + x, 0) - 1) < 1e-5, `${name} S=${S}: row ${r} sums to 1`);
          assert.ok(row.subarray((r % S) + 1).every((x) => x === 0), `${name} S=${S}: row ${r} is 0 after its query`);
        }
      }
    } finally {
      await s.release();
    }
  }
});
