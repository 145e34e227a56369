// The analyses on the bundled default pack (models/default), when it is installed with its probes:
// precision@1 at (L, 1) equals the model's own next-token accuracy on real text, through both
// eval-probes and probe(). Skipped (with the reason) when the pack or its probes are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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
