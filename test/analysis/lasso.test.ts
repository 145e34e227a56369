// The Lasso solver against scikit-learn 1.2 (fixtures from scripts/make-analysis-fixtures.py):
// tight solutions (the optimum) and scikit-learn's default stopping, iterations included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alphaMax, designFromRows, lasso, lassoPath } from '../../src/engine/analysis/lasso';

interface Case {
  name: string;
  alpha: number;
  X: number[][];
  y: number[];
  tight: { tol: number; max_iter: number; coef: number[]; iterations: number };
  default: { tol: number; max_iter: number; coef: number[]; iterations: number };
}
const cases: Case[] = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'analysis', 'lasso-cases.json'), 'utf8'));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

test('lasso matches scikit-learn (tol=1e-12) to 1e-6 on every fixture, with the same sweep count', () => {
  assert.ok(cases.length >= 20);
  let worst = 0;
  for (const c of cases) {
    const fit = lasso(designFromRows(c.X), c.y, c.alpha, { tol: c.tight.tol, maxIter: c.tight.max_iter });
    const d = maxDiff(fit.coef, c.tight.coef);
    worst = Math.max(worst, d);
    assert.ok(d < 1e-6, `${c.name}: max |coef - sklearn| = ${d}`);
    assert.equal(fit.iterations, c.tight.iterations, `${c.name}: iterations`);
  }
  console.log(`# lasso vs sklearn (tight): max abs diff ${worst.toExponential(2)} over ${cases.length} problems`);
});

test("lasso reproduces scikit-learn's default stopping (tol=1e-4, max_iter=1000) exactly", () => {
  let worst = 0;
  for (const c of cases) {
    const fit = lasso(designFromRows(c.X), c.y, c.alpha, { tol: c.default.tol, maxIter: c.default.max_iter });
    const d = maxDiff(fit.coef, c.default.coef);
    worst = Math.max(worst, d);
    assert.ok(d < 1e-9, `${c.name}: max |coef - sklearn default| = ${d}`);
    assert.equal(fit.iterations, c.default.iterations, `${c.name}: iterations`);
  }
  console.log(`# lasso vs sklearn (defaults): max abs diff ${worst.toExponential(2)}`);
});

test('lasso: alpha >= alpha_max gives all zeros; the optimum satisfies the KKT conditions', () => {
  for (const c of cases) {
    const X = designFromRows(c.X);
    const amax = alphaMax(X, c.y);
    const zero = lasso(X, c.y, amax * 1.0001, { tol: 1e-12 });
    assert.ok(zero.coef.every((w) => w === 0), `${c.name}: all zero above alpha_max`);
    const fit = lasso(X, c.y, c.alpha, { tol: 1e-12, maxIter: 1_000_000 });
    const n = X.n;
    const r = c.y.map((yi, i) => yi - X.cols.reduce((s, col, j) => s + col[i] * fit.coef[j], 0));
    X.cols.forEach((col, j) => {
      const g = col.reduce((s, v, i) => s + v * r[i], 0) / n; // X_j' r / n
      if (fit.coef[j] !== 0) assert.ok(Math.abs(g - Math.sign(fit.coef[j]) * c.alpha) < 1e-6 * (1 + c.alpha), `${c.name}: KKT active ${j}`);
      else if (X.cols[j].some((v) => v !== 0)) assert.ok(Math.abs(g) <= c.alpha * (1 + 1e-6) + 1e-9, `${c.name}: KKT inactive ${j}`);
    });
  }
});

test('lasso path: starts all-zero at alpha_max, warm starts reach the cold-start optimum', () => {
  const c = cases.find((x) => x.name.startsWith('wide-'))!;
  const X = designFromRows(c.X);
  const path = lassoPath(X, c.y, { nAlphas: 12, eps: 1e-2, tol: 1e-12, maxIter: 1_000_000 });
  assert.equal(path.length, 12);
  assert.ok(path[0].coef.every((w) => w === 0));
  for (let i = 1; i < path.length; i++) assert.ok(path[i].alpha < path[i - 1].alpha);
  const last = path[path.length - 1];
  const cold = lasso(X, c.y, last.alpha, { tol: 1e-12, maxIter: 1_000_000 });
  assert.ok(maxDiff(last.coef, cold.coef) < 1e-6);
});

test('lasso: argument checks', () => {
  assert.throws(() => lasso(designFromRows([[1, 2]]), [1, 2], 0.1), /y has 2 values/);
  assert.throws(() => lasso(designFromRows([[1, 2]]), [1], -1), /alpha must be >= 0/);
  assert.throws(() => designFromRows([[1, 2], [1]]), /row 1 has 1 values/);
});

test('Gram-matrix Lasso (the panel solver) reaches the scikit-learn optimum to 1e-6', async () => {
  const { GramLasso } = await import('../../src/engine/analysis/lasso');
  let worst = 0;
  for (const c of cases) {
    const X = designFromRows(c.X);
    const g = new GramLasso(X, c.y);
    assert.ok(Math.abs(g.alphaMax() - alphaMax(X, c.y)) < 1e-12 * (1 + g.alphaMax()));
    const fit = g.fit(c.alpha, { tol: 1e-12, maxIter: 1_000_000 });
    const d = maxDiff(fit.coef, c.tight.coef);
    worst = Math.max(worst, d);
    assert.ok(d < 1e-6, `${c.name}: ${d}`);
  }
  console.log(`# Gram Lasso vs sklearn (tight): max abs diff ${worst.toExponential(2)}`);
});

test('Gram-matrix Lasso along a warm-started path on correlated columns (p > n): every point is the optimum', async () => {
  const { GramLasso, designFromColumns, logAlphas } = await import('../../src/engine/analysis/lasso');
  // Columns like the importance's hidden states: a few shared directions plus a little noise each,
  // more columns (tokens) than samples (coordinates).
  let s = 12345;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296 - 0.5;
  const n = 48;
  const p = 70;
  const basis = Array.from({ length: 6 }, () => Float64Array.from({ length: n }, u));
  const cols = Array.from({ length: p }, () => {
    const mix = basis.map(() => u());
    return Float64Array.from({ length: n }, (_, i) => basis.reduce((a, b, k) => a + mix[k] * b[i], 0) + 0.05 * u());
  });
  const X = designFromColumns(cols, n);
  const y = Float64Array.from({ length: n }, (_, i) => cols[3][i] - 0.5 * cols[40][i] + 0.02 * u());
  const g = new GramLasso(X, y);
  let init: Float64Array | undefined;
  let worst = 0;
  for (const a of logAlphas(g.alphaMax(), 12, 1e-3)) {
    const fit = g.fit(a, { tol: 1e-10, maxIter: 100_000, init });
    assert.ok(fit.converged, `alpha ${a}: not converged`);
    init = fit.coef;
    const ref = lasso(X, y, a, { tol: 1e-13, maxIter: 1_000_000 });
    worst = Math.max(worst, maxDiff(fit.coef, ref.coef));
  }
  assert.ok(worst < 1e-6, `max |path - optimum| ${worst}`);
  console.log(`# Gram Lasso path (support solve + line steps) vs plain CD optimum: max abs diff ${worst.toExponential(2)}`);
});
