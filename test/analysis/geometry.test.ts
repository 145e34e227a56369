// Matrix entropy (Tan et al. 2024): isotropic states near ln d, rank one 0, covariance and Gram
// routes agree; the information-gain identity: the increments of log det(I + Z_t Z_t' / lambda) are
// ln(1 + r_t / lambda) >= 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, CholeskyDecomposition, EigenvalueDecomposition } from 'ml-matrix';
import { covarianceSpectrum, entropyOfSpectrum, gramSpectrum, matrixEntropy, normalizedRows, svdSpectrum } from '../../src/engine/analysis/geometry';
import { informationGain } from '../../src/engine/analysis/infoGain';

function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function gaussian(T: number, d: number, seed: number): Float64Array[] {
  const g = rng(seed);
  return Array.from({ length: T }, () => Float64Array.from({ length: d }, g));
}

test('matrix entropy: isotropic Gaussian states give H / ln d near 1', () => {
  const r = matrixEntropy(gaussian(4000, 16, 1));
  assert.ok(r.normalized > 0.99 && r.normalized <= 1 + 1e-12, `normalized ${r.normalized}`);
  console.log(`# isotropic (T=4000, d=16): H/ln d = ${r.normalized.toFixed(5)}`);
});

test('matrix entropy: rank-one states give 0', () => {
  const g = rng(2);
  const v = Float64Array.from({ length: 24 }, g);
  const states = Array.from({ length: 50 }, () => {
    const a = g() * 3 + 1;
    return v.map((x) => a * x + 0.5 * x); // all on the line through 0 along v
  });
  const r = matrixEntropy(states);
  assert.ok(Math.abs(r.entropyNats) < 1e-9, `H = ${r.entropyNats}`);
});

test('matrix entropy: k orthogonal equal directions give ln k; scale does not matter', () => {
  const d = 12;
  const states: Float64Array[] = [];
  for (let rep = 0; rep < 10; rep++)
    for (let i = 0; i < 4; i++) for (const s of [1, -1]) {
      const v = new Float64Array(d);
      v[i] = s * (1 + rep);
      states.push(v);
    }
  const r = matrixEntropy(states);
  assert.ok(Math.abs(r.entropyNats - Math.log(4)) < 1e-9, `H = ${r.entropyNats}`);
});

test('matrix entropy: covariance (d x d), Gram (T x T) and SVD routes agree', () => {
  for (const [T, d] of [
    [40, 10],
    [10, 40],
    [33, 33],
  ]) {
    const states = gaussian(T, d, T * 7 + d).map((v, i) => v.map((x, j) => x * (1 + (j % 5)) + (i % 3)));
    const z = normalizedRows(states);
    const a = covarianceSpectrum(z).filter((e) => e > 1e-12);
    const b = gramSpectrum(z).filter((e) => e > 1e-12);
    assert.equal(a.length, b.length);
    const c = svdSpectrum(z).filter((e) => e > 1e-12);
    assert.equal(a.length, c.length);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-10, `eig ${i}: ${a[i]} vs ${b[i]}`);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - c[i]) < 1e-10, `eig ${i}: ${a[i]} vs svd ${c[i]}`);
    const hc = matrixEntropy(states, 'covariance').entropyNats;
    const hg = matrixEntropy(states, 'gram').entropyNats;
    const hs = matrixEntropy(states, 'svd').entropyNats;
    assert.equal(matrixEntropy(states).entropyNats, T < d ? hg : hc, 'auto takes the smaller product');
    assert.ok(Math.abs(hc - hg) < 1e-10, `${hc} vs ${hg}`);
    assert.ok(Math.abs(hc - hs) < 1e-10, `${hc} vs svd ${hs}`);
    assert.ok(Math.abs(a.reduce((s, x) => s + x, 0) - 1) < 1e-10, 'tr Sigma = 1 for unit rows');
  }
  assert.equal(entropyOfSpectrum([0, 0]), 0);
});

function logDet(m: Matrix): number {
  const c = new CholeskyDecomposition(m);
  const L = c.lowerTriangularMatrix;
  let s = 0;
  for (let i = 0; i < m.rows; i++) s += 2 * Math.log(L.get(i, i));
  return s;
}

test('information gain: log det(I + Z_t Z_t\' / lambda) grows by ln(1 + ridge residual / lambda) >= 0', () => {
  const states = gaussian(30, 8, 5).map((v, i) => v.map((x) => x + 0.1 * i)); // T > d: later tokens are nearly explained
  for (const lambda of [1e-3, 0.1, 2]) {
    const ig = informationGain(states, lambda);
    let worst = 0;
    let prev = 0;
    for (let t = 0; t < states.length; t++) {
      // log det of I + the (t+1) x (t+1) Gram / lambda, eigenvalues from ml-matrix's EVD
      const Z = new Matrix(states.slice(0, t + 1).map((r) => Array.from(r)));
      const G = Z.mmul(Z.transpose()).div(lambda).add(Matrix.eye(t + 1));
      const eig = new EigenvalueDecomposition(G, { assumeSymmetric: true }).realEigenvalues;
      const ld = eig.reduce((s, e) => s + Math.log(e), 0);
      worst = Math.max(worst, Math.abs(ld - prev - ig.gainNats[t]));
      assert.ok(ig.gainNats[t] >= 0, `lambda ${lambda}, t ${t}: gain ${ig.gainNats[t]} < 0`);
      prev = ld;
      // the ridge residual directly: min_w ||h - Z w||^2 + lambda ||w||^2 = lambda h'(ZZ' + lambda I)^-1 h
      const h = Matrix.columnVector(Array.from(states[t]));
      let r = h.transpose().mmul(h).get(0, 0);
      if (t > 0) {
        const P = new Matrix(states.slice(0, t).map((x) => Array.from(x))).transpose(); // d x t
        const A = P.transpose().mmul(P).add(Matrix.eye(t).mul(lambda));
        const w = new CholeskyDecomposition(A).solve(P.transpose().mmul(h));
        const res = h.sub(P.mmul(w));
        r = res.transpose().mmul(res).get(0, 0) + lambda * w.transpose().mmul(w).get(0, 0);
      }
      assert.ok(Math.abs(r - ig.residual[t]) < 1e-8 * (1 + r), `lambda ${lambda}, t ${t}: residual ${r} vs ${ig.residual[t]}`);
      assert.ok(Math.abs(Math.log1p(r / lambda) - ig.gainNats[t]) < 1e-8, `lambda ${lambda}, t ${t}: ln(1 + r/lambda)`);
    }
    assert.ok(worst < 1e-8, `lambda ${lambda}: identity error ${worst}`);
    const all = new Matrix(states.map((r) => Array.from(r)));
    assert.ok(Math.abs(logDet(all.mmul(all.transpose()).div(lambda).add(Matrix.eye(30))) - ig.gainNats.reduce((s, x) => s + x, 0)) < 1e-8);
    console.log(`# info-gain identity, lambda ${lambda}: max error ${worst.toExponential(2)}`);
  }
  assert.throws(() => informationGain(states, 0), /lambda must be > 0/);
});

test('information gain and Lasso from one Gram matrix of the raw states equal the separate computations', async () => {
  const { informationGainOfUnitRows, unitRows } = await import('../../src/engine/analysis/infoGain');
  const { importanceCore } = await import('../../src/engine/analysis/importance');
  const states = gaussian(40, 12, 9).map((v, i) => v.map((x, j) => x * (1 + (j % 3)) + 0.2 * i));
  states[7] = new Float64Array(12); // a zero state stays a zero row
  const T = states.length;
  const g = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) g[i * T + j] = states[i].reduce((s, x, k) => s + x * states[j][k], 0);
  const a = informationGain(unitRows(states), 0.01);
  const b = informationGainOfUnitRows(g, T, 0.01);
  for (let t = 0; t < T; t++) assert.ok(Math.abs(a.gainNats[t] - b.gainNats[t]) < 1e-10, `t ${t}: ${a.gainNats[t]} vs ${b.gainNats[t]}`);
  for (const target of [1, 20, T - 1]) {
    const plain = importanceCore({ states, target, attention: null, attentionLayer: 0 });
    const shared = importanceCore({ states, target, attention: null, attentionLayer: 0, gram: { data: g, size: T } });
    assert.equal(shared.alphaMax, plain.alphaMax);
    for (let j = 0; j < target; j++) assert.ok(Math.abs(shared.lasso[j] - plain.lasso[j]) < 1e-9, `target ${target}, coef ${j}`);
    assert.equal(shared.path.length, plain.path.length);
  }
});
