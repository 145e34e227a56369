// Streaming ridge statistics: recovers a known affine map, the held-out MSE from statistics equals
// the direct computation, and the probe file round-trips with its checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RidgeStats, heldOutMse, solveRidge } from '../../src/engine/analysis/ridge';
import { loadProbes, writeProbes } from '../../src/engine/analysis/probes';
import { BigramCounter, bigramPredict } from '../../src/engine/analysis/futureLens';

function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

test('ridge: recovers y = x A + b from streamed rows (tiny lambda), bias unpenalized', () => {
  const g = rng(3);
  const D = 6;
  const A = Float64Array.from({ length: D * D }, g);
  const b = Float64Array.from({ length: D }, () => 5 + g());
  const n = 400;
  const X = new Float32Array(n * D).map(() => g() + 2);
  const Y = new Float32Array(n * D);
  for (let t = 0; t < n; t++) for (let j = 0; j < D; j++) {
    let v = b[j];
    for (let i = 0; i < D; i++) v += X[t * D + i] * A[i * D + j];
    Y[t * D + j] = v;
  }
  const s = new RidgeStats(D, D);
  s.add(X, 0, Y, 0, 150); // in two pieces: streaming
  s.add(X, 150, Y, 150, n - 150);
  const fit = solveRidge(s, 1e-10);
  for (let i = 0; i < D * D; i++) assert.ok(Math.abs(fit.A[i] - A[i]) < 1e-3, `A[${i}] ${fit.A[i]} vs ${A[i]}`);
  for (let j = 0; j < D; j++) assert.ok(Math.abs(fit.b[j] - b[j]) < 1e-3);
  // a big lambda shrinks A towards 0 but b still fits the means
  const big = solveRidge(s, 1e6);
  for (let j = 0; j < D; j++) {
    let my = 0;
    for (let t = 0; t < n; t++) my += Y[t * D + j] / n;
    assert.ok(Math.abs(big.b[j] - my) < 0.05 * (1 + Math.abs(my)), 'bias = mean(y) when A ~ 0');
  }
});

test('ridge: held-out MSE from statistics equals the direct computation', () => {
  const g = rng(4);
  const D = 5;
  const n = 120;
  const X = new Float32Array(n * D).map(() => g());
  const Y = new Float32Array(n * D).map((_, i) => X[i] * 0.5 + g());
  const tr = new RidgeStats(D, D);
  tr.add(X, 0, Y, 0, 80);
  const ho = new RidgeStats(D, D);
  ho.add(X, 80, Y, 80, 40);
  for (const lam of [1e-4, 0.1, 10]) {
    const m = solveRidge(tr, lam);
    let sse = 0;
    for (let t = 80; t < n; t++) for (let j = 0; j < D; j++) {
      let p = m.b[j];
      for (let i = 0; i < D; i++) p += X[t * D + i] * m.A[i * D + j];
      sse += (Y[t * D + j] - p) ** 2;
    }
    const direct = sse / (40 * D);
    assert.ok(Math.abs(heldOutMse(ho, m) - direct) < 1e-9 * (1 + direct), `${heldOutMse(ho, m)} vs ${direct}`);
  }
});

test('probe file: round trip, shape and path checks with clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-probes-'));
  const D = 4;
  const maps = [0, 1].flatMap((layer) =>
    [1, 2].map((offset) => ({
      layer,
      offset,
      identity: layer === 1 && offset === 1,
      lambda: 0.01,
      heldOutMse: 1,
      A: Float64Array.from({ length: D * D }, (_, i) => i + layer + offset / 10),
      b: Float64Array.from({ length: D }, (_, i) => -i),
    })),
  );
  const bg = new BigramCounter(10, [1, 2]);
  bg.add([1, 2, 3, 1, 2, 4, 1, 2, 3]);
  const table = bg.table();
  assert.equal(bigramPredict(table, 0, 1), 2);
  assert.equal(bigramPredict(table, 1, 1), 3);
  assert.equal(bigramPredict(table, 0, 9), 1); // unseen: the most frequent token (1 and 2 tie at 3; smaller id... 1)
  const meta = {
    width: D,
    modelLayers: 1,
    vocabSize: 10,
    layers: [0, 1],
    offsets: [1, 2],
    lambdaGrid: [0.01],
    selection: 'test',
    fittedOn: { files: ['x'], tokens: 9, heldOutTokens: 0, windows: 1, pack: 'p' },
    bigram: table,
    createdAt: 'now',
  };
  const path = join(dir, 'probes.json');
  writeProbes(path, meta, maps);
  const expect = { width: D, layers: 1, vocabSize: 10 };
  const p = loadProbes(path, expect);
  assert.equal(p.maps.length, 4);
  const m = p.get(1, 2)!;
  assert.equal(m.a[5], Math.fround(5 + 1 + 0.2));
  assert.equal(m.bias[3], -3);
  assert.ok(p.get(1, 1)!.identity);
  assert.throws(() => loadProbes(path, { ...expect, width: 8 }), /fitted for width 4, the model pack has width 8/);
  assert.throws(() => loadProbes(path, { ...expect, layers: 3 }), /fitted for 1 layers, the model pack has 3/);
  assert.throws(() => loadProbes(path, { ...expect, vocabSize: 11 }), /bigram/);
  assert.throws(() => loadProbes(join(dir, 'nope.json'), expect), /does not exist/);
  const h = JSON.parse(readFileSync(path, 'utf8'));
  const variant = (name: string, edit: (x: typeof h) => void) => {
    const c = JSON.parse(JSON.stringify(h));
    edit(c);
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(c));
    return f;
  };
  assert.throws(() => loadProbes(variant('a.json', (x) => (x.binary = '../probes.bin')), expect), /leaves the folder/);
  assert.throws(() => loadProbes(variant('b.json', (x) => (x.maps[3].A.byteOffset = 10_000)), expect), /A lies outside/);
  assert.throws(() => loadProbes(variant('c.json', (x) => (x.maps[0].A.shape = [4, 3])), expect), /A.shape must be \[4, 4\]/);
  assert.throws(() => loadProbes(variant('d.json', (x) => (x.format = 'other')), expect), /field "format"/);
  assert.throws(() => loadProbes(variant('e.json', (x) => (x.maps[1].layer = 7)), expect), /layer must be an integer in 0..1/);
  writeFileSync(join(dir, 'bad.json'), '{not json');
  assert.throws(() => loadProbes(join(dir, 'bad.json'), expect), /not valid JSON/);
  // a pack's own probes must resolve inside the pack
  const other = mkdtempSync(join(tmpdir(), 'lm-probe-pack-'));
  symlinkSync(path, join(other, 'probes.json'));
  assert.throws(() => loadProbes(join(other, 'probes.json'), expect, other), /resolves outside/);
});
