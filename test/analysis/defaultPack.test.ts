// The analyses on the bundled default pack (models/default), when it is installed with its probes:
// precision@1 at (L, 1) equals the model's own next-token accuracy on real text, through both
// eval-probes and probe(). Skipped (with the reason) when the pack or its probes are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { evalProbes } from '../../src/engine/analysis/futureLens';
import { loadProbes } from '../../src/engine/analysis/probes';

const ROOT = resolve(__dirname, '..', '..');
const PACK = process.env.LM_PROBE_TEST_PACK ?? join(ROOT, 'models', 'default');
const manifest = existsSync(join(PACK, 'manifest.json')) ? JSON.parse(readFileSync(join(PACK, 'manifest.json'), 'utf8')) : null;
const skip = !manifest ? 'models/default is not installed' : !manifest.probes ? 'models/default has no probes (lm-probe fit-probes --set-manifest)' : false;
// Text outside the training corpus: this project's own engine sources.
const TEXT = join(ROOT, 'src', 'engine', 'surprisal.ts');

test('default pack: precision@1 at (L, 1) equals the model\'s next-token accuracy (eval-probes and probe())', { skip }, async () => {
  const engine = await Engine.open(PACK);
  try {
    const a = engine.pack.manifest.architecture;
    const probes = loadProbes(engine.pack.files.probes!, { width: a.width, layers: a.layers, vocabSize: a.vocabSize }, engine.pack.dir);
    const r = await evalProbes(engine, probes, [TEXT], { maxTokens: 1500 });
    assert.equal(r.precisionAt1[a.layers][0], r.modelNextTokenAccuracy);
    assert.ok(r.modelNextTokenAccuracy > 0.01, `the model gets some tokens right (${r.modelNextTokenAccuracy})`);
    // probe(): a selection within one window, ranks of the surprisal pass
    const text = readFileSync(TEXT, 'utf8').slice(0, 600);
    const p = await engine.probe(text, { forwardOnly: true, analyses: { futureLens: true, importance: {}, geometry: true } });
    assert.ok(p.tokens.length < engine.pack.manifest.contextLength);
    const fl = p.analyses!.futureLens!;
    let hits = 0;
    for (let i = 1; i < p.tokens.length; i++) if (p.tokens[i].forward.rank === 1) hits++;
    assert.equal(fl.precisionAt1[fl.layers.length - 1][0], hits / (p.tokens.length - 1));
    assert.equal(p.analyses!.geometry!.entropyNats.length, a.layers + 1);
    assert.equal(p.analyses!.importance!.target, p.tokens.length - 1);
  } finally {
    await engine.dispose();
  }
});

const skipBaselines = skip || (!manifest.baselines ? 'models/default has no baselines.json (models/recipe/skip_bigrams.ts)' : false);

test('default pack: the shipped skip-bigram table and the greedy rollout, recomputed independently, give eval-probes\' figures', { skip: skipBaselines }, async () => {
  const { loadBaselines } = await import('../../src/engine/analysis/baselines');
  const engine = await Engine.open(PACK);
  try {
    const a = engine.pack.manifest.architecture;
    const V = a.vocabSize;
    const probes = loadProbes(engine.pack.files.probes!, { width: a.width, layers: a.layers, vocabSize: V }, engine.pack.dir);
    const baselines = loadBaselines(engine.pack.files.baselines!, V);
    // The raw bytes of baselines.bin, read here without the loader: next[k][token] is uint16.
    const header = JSON.parse(readFileSync(engine.pack.files.baselines!, 'utf8'));
    const bin = readFileSync(join(PACK, header.binary));
    const nextOf = (oi: number, tok: number) => bin.readUInt16LE(header.skipBigram[oi].next.byteOffset + 2 * tok);
    for (let oi = 0; oi < 3; oi++) for (let tok = 0; tok < V; tok++) {
      assert.ok(baselines.topCount[oi][tok] <= baselines.total[oi][tok]);
      if (baselines.total[oi][tok] === 0) assert.equal(nextOf(oi, tok), header.fallback);
    }
    // A short file read whole: one chunk, windows [0, W) and [W, n).
    const file = join(mkdtempSync(join(tmpdir(), 'lm-probe-baselines-')), 'text.txt');
    writeFileSync(file, readFileSync(TEXT, 'utf8').slice(0, 1000));
    const r = await evalProbes(engine, probes, [file], { maxTokens: 100_000, baselines, rolloutEvery: 5 });
    const ids = engine.tokenize(readFileSync(file, 'utf8')).ids;
    const W = engine.pack.manifest.contextLength - 1;
    assert.ok(ids.length > W && ids.length < 2 * W, `${ids.length} tokens`);
    assert.equal(r.windows, 2);
    const sbHits = [0, 0, 0];
    const pos = [0, 0, 0];
    const roHits = [0, 0, 0];
    const roPos = [0, 0, 0];
    const wins: [number, number][] = [[0, W], [W, ids.length - W]];
    let counter = 0;
    const argmax = (logits: Float32Array, row: number) => {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[row * V + v] > logits[row * V + best]) best = v;
      return best;
    };
    for (const [s, len] of wins) {
      const win = await engine.run('forward', ids.slice(s, s + len));
      for (let t = s; t < s + len; t++) {
        let rolled: number[] | null = null;
        if (counter++ % 5 === 0) {
          // greedy rollout by hand: the window's guess for t + 1, then each guess fed back (the
          // context loses its first tokens so that the two fed-back guesses fit one window)
          rolled = [argmax(win.logits, t - s)];
          let seq = ids.slice(Math.max(s, t + 1 - (W - 2)), t + 1);
          for (let k = 2; k <= 3; k++) {
            seq = [...seq, rolled[rolled.length - 1]];
            rolled.push(argmax((await engine.run('forward', seq)).logits, seq.length - 1));
          }
        }
        for (let oi = 0; oi < 3; oi++) {
          if (t + oi + 1 >= ids.length) continue;
          pos[oi]++;
          if (nextOf(oi, ids[t]) === ids[t + oi + 1]) sbHits[oi]++;
          if (rolled) {
            roPos[oi]++;
            if (rolled[oi] === ids[t + oi + 1]) roHits[oi]++;
          }
        }
      }
    }
    assert.deepEqual(r.positions, pos);
    assert.deepEqual(r.skipBigram!.precisionAt1, sbHits.map((h, i) => h / pos[i]));
    assert.deepEqual(r.rollout!.positions, roPos);
    assert.deepEqual(r.rollout!.precisionAt1, roHits.map((h, i) => h / roPos[i]));
    // k = 1 of the rollout is the model's own next-token guess
    assert.ok(Math.abs(r.rollout!.precisionAt1[0] - r.comparisons.find((c) => c.offset === 1 && c.baseline === 'greedy rollout')!.probe) < 1e-12);
    // one file: no document bootstrap; 2 windows: no block bootstrap either, and the note says why
    assert.ok(r.comparisons.every((c) => c.interval === null));
    assert.match(r.intervalNote, /1 document\(s\) and 2 window\(s\), at least 10/);
  } finally {
    await engine.dispose();
  }
});
