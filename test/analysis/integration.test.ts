// The analyses through the real engine on the tiny-gpt fixture (full graph contract): fit and
// evaluate probes, precision@1 at (L, 1) equals the model's own next-token accuracy, the
// ProbeResult's analyses agree with direct computations from run(), long selections.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { evalProbes, fitProbes } from '../../src/engine/analysis/futureLens';
import { runHead } from '../../src/engine/analysis/host';
import { loadProbes, writeProbes, type LoadedProbes } from '../../src/engine/analysis/probes';
import { attentionRows } from '../../src/engine/analysis/importance';
import { designFromColumns, lasso } from '../../src/engine/analysis/lasso';
import { matrixEntropy } from '../../src/engine/analysis/geometry';
import { rowsOf } from '../../src/engine/analysis/linalg';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

const ROOT = resolve(__dirname, '..', '..');
const TINY = join(ROOT, 'test', 'fixtures', 'tiny-gpt');
const TEXT_FILES = ['docs/model-pack.md', 'src/engine/engine.ts', 'src/engine/pack.ts'].map((f) => join(ROOT, f));
const EVAL_FILE = join(ROOT, 'src', 'engine', 'surprisal.ts');

let engine: Engine;
let probes: LoadedProbes;
let probesPath: string;
before(async () => {
  engine = await Engine.open(TINY);
  const fit = await fitProbes(engine, { files: TEXT_FILES, maxTokens: 6000 });
  probesPath = join(mkdtempSync(join(tmpdir(), 'lm-probe-fit-')), 'probes.json');
  writeProbes(probesPath, fit.meta, fit.maps);
  const a = engine.pack.manifest.architecture;
  probes = loadProbes(probesPath, { width: a.width, layers: a.layers, vocabSize: a.vocabSize });
});
after(async () => engine?.dispose());

test('head(h_L) reproduces the forward logits (what the probes decode through)', async () => {
  const ids = engine.tokenize('def f(x):\n    return x + 1\n').ids;
  const out = await engine.run('forward', ids);
  const { T, L, D, V } = out.dims;
  const logits = await runHead(engine, out.hidden!.slice(L * T * D, (L + 1) * T * D), T);
  let d = 0;
  for (let i = 0; i < T * V; i++) d = Math.max(d, Math.abs(logits[i] - out.logits[i]));
  assert.ok(d < 1e-4, `max |head(h_L) - logits| = ${d}`);
});

test('fit-probes: one map per (layer, offset), identity at (L, 1), penalties from the grid, bigram table', () => {
  const h = probes.header;
  const L = engine.pack.manifest.architecture.layers;
  assert.deepEqual(h.layers, [0, 1, 2]);
  assert.deepEqual(h.offsets, [1, 2, 3]);
  assert.equal(probes.maps.length, (L + 1) * 3);
  const id = probes.get(L, 1)!;
  assert.ok(id.identity);
  for (const m of probes.maps) if (!m.identity) assert.ok(h.lambdaGrid.includes(m.lambda!) && m.heldOutMse! > 0);
  assert.ok(h.fittedOn.tokens >= 3000 && h.fittedOn.tokens <= 6000 + 255 && h.fittedOn.heldOutTokens > 0, JSON.stringify(h.fittedOn));
  assert.equal(h.bigram!.next[0].length, engine.pack.manifest.architecture.vocabSize);
});

test('eval-probes: precision@1 at (L, 1) equals the model\'s own next-token accuracy', async () => {
  const r = await evalProbes(engine, probes, [EVAL_FILE], { maxTokens: 3000 });
  const L = engine.pack.manifest.architecture.layers;
  assert.equal(r.precisionAt1[L][0], r.modelNextTokenAccuracy);
  for (const row of r.precisionAt1) for (const p of row) assert.ok(p >= 0 && p <= 1);
  assert.ok(r.positions[0] > r.positions[2]);
  assert.ok(r.bigramPrecisionAt1 && r.bigramPrecisionAt1.every((p) => p >= 0 && p <= 1));
});

test('probe(): future lens of a selection matches the ranks of the surprisal pass at (L, 1)', async () => {
  // Greedy text makes hits: the model's own argmax continuation, then a few other tokens.
  const W = engine.pack.manifest.contextLength - 1;
  let ids = engine.tokenize('The model').ids;
  while (ids.length < 10) {
    const out = await engine.run('forward', ids);
    const { T, V } = out.dims;
    let best = 0;
    for (let v = 1; v < V; v++) if (out.logits[(T - 1) * V + v] > out.logits[(T - 1) * V + best]) best = v;
    ids = [...ids, best];
  }
  const bytes = ids.flatMap((i) => Array.from(engine.pack.tokenizer.tokenBytes(i)));
  let text = new TextDecoder().decode(new Uint8Array(bytes)) + ' ok';
  text = text.slice(0, 200);
  const r = await engine.probe(text, { forwardOnly: true, analyses: { futureLens: { probesFile: probesPath } } });
  const fl = r.analyses!.futureLens!;
  assert.ok(r.tokens.length <= W);
  const L = fl.layers.length - 1;
  let hits = 0;
  for (let i = 1; i < r.tokens.length; i++) if (r.tokens[i].forward.rank === 1) hits++;
  assert.ok(hits > 0, 'the greedy prefix gives the model some hits');
  assert.equal(fl.precisionAt1[L][0], hits / (r.tokens.length - 1));
  assert.equal(fl.positions[0], r.tokens.length - 1);
  // cells are indexed like tokens, and (L, 1) names the model's argmax
  for (let i = 0; i + 1 < r.tokens.length; i++) {
    const g = fl.cells[i]![L][0];
    assert.equal(g.hit, r.tokens[i + 1].forward.rank === 1, `token ${i}: hit ${g.hit} id ${g.id} p ${g.prob}; next ${r.tokens[i + 1].id} rank ${r.tokens[i + 1].forward.rank} top ${JSON.stringify(r.tokens[i + 1].forward.top.slice(0, 2))}`);
    if (g.hit) assert.equal(g.id, r.tokens[i + 1].id);
    assert.ok(g.prob > 0 && g.prob <= 1);
  }
  assert.equal(fl.cells[r.tokens.length - 1]![L][0].hit, null);
  assert.equal(fl.source, probesPath);
});

test('probe(): importance and geometry agree with direct computations from run()', async () => {
  const text = readFileSync(EVAL_FILE, 'utf8').slice(0, 120);
  const r = await engine.probe(text, { forwardOnly: true, analyses: { importance: { target: 20, layer: 1, alpha: 0.01 }, geometry: true } });
  const a = r.analyses!;
  const imp = a.importance!;
  assert.equal(imp.target, 20);
  assert.equal(imp.layer, 1);
  assert.equal(imp.attentionLayer, 0);
  const ids = r.tokens.slice(a.window.start, a.window.end).map((t) => t.id);
  const out = await engine.run('forward', ids);
  const { T, L, D, H } = out.dims;
  const s0 = a.window.start;
  const tl = 20 - s0; // the target's index in the window
  const att = attentionRows(out.attentions!, L, H, T, tl);
  assert.equal(imp.attention.length, L);
  assert.equal(imp.attention[0].length, 20);
  for (let l = 0; l < L; l++) for (let j = 0; j < tl; j++) assert.ok(Math.abs(imp.attention[l][s0 + j]! - att[l][j]) < 1e-6);
  // renormalized over the earlier tokens (BOS and the target itself removed)
  for (let l = 0; l < L; l++) assert.ok(Math.abs(att[l].reduce((s, x) => s + x, 0) - 1) < 1e-9, 'attention rows sum to 1 over the earlier tokens');
  assert.equal(imp.attentionRenormalized, true);
  const states = rowsOf(out.hidden!, D, 1 * T, T);
  const direct = lasso(designFromColumns(states.slice(0, tl), D), states[tl], 0.01, { tol: 1e-12, maxIter: 100000 });
  for (let j = 0; j < tl; j++) assert.ok(Math.abs(imp.lasso[s0 + j]! - direct.coef[j]) < 1e-6);
  // information gain: >= 0 and equal to the log-det increments of I + Z Z' / lambda on the unit-norm states
  const lam = imp.informationGainLambda;
  const unit = states.map((v) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  let prev = 0;
  for (let t = 0; t < T; t++) {
    const Z = new Matrix(unit.slice(0, t + 1).map((v) => Array.from(v)));
    const ld = new EigenvalueDecomposition(Z.mmul(Z.transpose()).div(lam).add(Matrix.eye(t + 1)), { assumeSymmetric: true }).realEigenvalues.reduce((acc, e) => acc + Math.log(e), 0);
    const g = imp.informationGainNats[s0 + t]!;
    assert.ok(g >= 0 && Math.abs(g - (ld - prev)) < 1e-6, `token ${s0 + t}: gain ${g} vs log-det difference ${ld - prev}`);
    prev = ld;
  }
  assert.ok(imp.path.length === 12 && imp.path[0].coef.every((c) => Math.abs(c) < 1e-12) && imp.path[5].coef.length === 20 - a.window.start);
  assert.equal(imp.informationGainNats.length, r.tokens.length);
  imp.informationGainNats.forEach((g, i) => assert.ok(i >= a.window.end || i < a.window.start ? g === null : Number.isFinite(g)));
  const ref = imp.reference!;
  assert.ok(ref.chanceTopKOverlap > 0 && ref.chanceTopKOverlap <= 1 && ref.chanceSpearman95! > 0);
  assert.ok(Number.isFinite(ref.recency.spearman) && ref.earlierCopies >= 0);
  assert.ok(imp.agreement.k === 5 && imp.agreement.topKOverlap >= 0 && imp.agreement.topKOverlap <= 1);
  const geo = a.geometry!;
  assert.equal(geo.entropyNats.length, L + 1);
  // the reference: the same layers on the reference text's first T tokens, run on their own
  const { REFERENCE_TEXT } = await import('../../src/engine/analysis/referenceText');
  const refOut = await engine.run('forward', engine.tokenize(REFERENCE_TEXT).ids.slice(0, T));
  assert.equal(geo.reference!.tokens, T);
  for (let l = 0; l <= L; l++) assert.ok(Math.abs(geo.reference!.normalized[l] - matrixEntropy(rowsOf(refOut.hidden!, D, l * T, T)).normalized) < 1e-5, `reference layer ${l}`);
  for (let l = 0; l <= L; l++) {
    const e = matrixEntropy(rowsOf(out.hidden!, D, l * T, T));
    assert.ok(Math.abs(geo.entropyNats[l] - e.entropyNats) < 1e-9);
    assert.ok(geo.normalized[l] > 0 && geo.normalized[l] <= 1 + 1e-12, `layer ${l}: ${geo.normalized[l]}`);
  }
});

test('probe(): a selection longer than the context is analysed on the window centred on the target', async () => {
  const text = readFileSync(EVAL_FILE, 'utf8').slice(0, 600);
  const W = engine.pack.manifest.contextLength - 1;
  const r = await engine.probe(text, { forwardOnly: true, analyses: { importance: { target: 40 }, geometry: true, futureLens: { probesFile: probesPath } } });
  const a = r.analyses!;
  assert.ok(r.tokens.length > W);
  const start = 40 - Math.floor(W / 2);
  assert.equal(a.window.start, start);
  assert.equal(a.window.end, start + W);
  assert.equal(a.window.total, r.tokens.length);
  assert.ok(a.window.firstLine! >= 1 && a.window.lastLine! >= a.window.firstLine!);
  assert.ok(a.notes!.some((n) => /longer than the model's context/.test(n)));
  const imp = a.importance!;
  assert.equal(imp.lasso.length, 40);
  assert.equal(imp.lasso[a.window.start - 1], null);
  assert.notEqual(imp.lasso[a.window.start], null);
  assert.equal(a.futureLens!.cells.length, r.tokens.length);
  assert.equal(a.futureLens!.cells[a.window.start - 1], null);
  assert.notEqual(a.futureLens!.cells[a.window.start], null);
  // default target: the last token, the last window
  const r2 = await engine.probe(text, { forwardOnly: true, analyses: { importance: {} } });
  assert.equal(r2.analyses!.window.start, r.tokens.length - W);
  assert.equal(r2.analyses!.window.end, r.tokens.length);
  const r3 = await engine.probe(text, { forwardOnly: true, analyses: { importance: { target: 10_000 } } });
  assert.equal(r3.analyses!.importance!.target, r.tokens.length - 1);
  assert.ok(r3.analyses!.notes!.some((n) => /not a token index of this selection/.test(n)));
});

test('probe(): a pack without probes says so in notes', async () => {
  const r = await engine.probe('hello world', { forwardOnly: true, analyses: { futureLens: true, geometry: true } });
  assert.equal(r.analyses!.futureLens, undefined);
  assert.ok(r.analyses!.notes!.some((n) => /no future-token probes/.test(n)));
  assert.ok(r.analyses!.geometry);
  assert.ok(existsSync(probesPath));
});

test('fit: the ONNX Runtime accumulation of x\'x and x\'y equals the float64 JavaScript one', async () => {
  const { accumulateWindow } = await import('../../src/engine/analysis/futureLens');
  const { RidgeStats } = await import('../../src/engine/analysis/ridge');
  const ids = engine.tokenize(readFileSync(EVAL_FILE, 'utf8').slice(0, 400)).ids.slice(0, 31);
  const out = await engine.run('forward', ids);
  const { T, L, D } = out.dims;
  const keys = [0, 1, 2].flatMap((layer) => [1, 2, 3].map((offset) => ({ layer, offset })));
  const fast = keys.map(() => new RidgeStats(D, D));
  await accumulateWindow(out, keys, fast);
  keys.forEach(({ layer, offset }, i) => {
    const ref = new RidgeStats(D, D);
    ref.add(out.hidden!, layer * T, out.hidden!, L * T + offset - 1, T - offset + 1);
    assert.equal(fast[i].n, ref.n);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
      let scale = 1e-9;
      for (let j = 0; j < b.length; j++) scale = Math.max(scale, Math.abs(b[j]));
      for (let j = 0; j < b.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-5 * scale, `${what}[${j}] (${layer},${offset}): ${a[j]} vs ${b[j]}`);
    };
    close(fast[i].sxx, ref.sxx, 'sxx');
    close(fast[i].sxy, ref.sxy, 'sxy');
    close(fast[i].sx, ref.sx, 'sx');
    close(fast[i].sy, ref.sy, 'sy');
    assert.ok(Math.abs(fast[i].syy - ref.syy) < 1e-9 * ref.syy);
  });
});

test('decodeWindow (batched ONNX Runtime map, head, top-1) equals the plain JavaScript computation', async () => {
  const { decodeWindow, applyMap, top1Rows } = await import('../../src/engine/analysis/futureLens');
  const ids = engine.tokenize(readFileSync(EVAL_FILE, 'utf8').slice(0, 300)).ids.slice(0, 31);
  const out = await engine.run('forward', ids);
  const { T, D, V } = out.dims;
  const keys = [0, 1, 2].flatMap((layer) => [1, 2, 3].map((offset) => ({ layer, offset })));
  const dec = await decodeWindow(engine, probes, out, keys);
  for (const [i, { layer, offset }] of keys.entries()) {
    const m = probes.get(layer, offset)!;
    const y = new Float32Array(T * D);
    if (m.identity) y.set(out.hidden!.subarray(layer * T * D, (layer + 1) * T * D));
    else applyMap(out.hidden!, layer * T * D, T, D, m.a, m.bias, y, 0);
    const logits = await runHead(engine, y, T);
    const id = new Int32Array(T);
    const p = new Float32Array(T);
    top1Rows(m.identity ? out.logits : logits, V, T, id, p);
    assert.deepEqual(Array.from(dec.ids[i]), Array.from(id), `(${layer}, ${offset}) ids`);
    for (let t = 0; t < T; t++) assert.ok(Math.abs(dec.probs[i][t] - p[t]) < 1e-4, `(${layer}, ${offset}) prob`);
  }
});
