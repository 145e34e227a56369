// The eigenvalue-only symmetric solver (eigenvalues.ts) against ml-matrix's full EVD and SVD, on
// random, graded, degenerate and tiny matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { symmetricEigenvalues } from '../../src/engine/analysis/eigenvalues';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296 - 0.5;
}

function randomMatrix(rows: number, cols: number, g: () => number): Matrix {
  return new Matrix(Array.from({ length: rows }, () => Array.from({ length: cols }, g)));
}

function flat(m: Matrix): Float64Array {
  return Float64Array.from(m.to1DArray());
}

function reference(m: Matrix): number[] {
  return new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues.sort((a, b) => a - b);
}

function assertClose(got: ArrayLike<number>, want: number[], rel: number, what: string): number {
  assert.equal(got.length, want.length, `${what}: count`);
  const scale = Math.max(1e-300, ...want.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  assert.ok(worst <= rel, `${what}: max relative error ${worst}`);
  return worst;
}

test('symmetric eigenvalues: random Gram, covariance-like and indefinite matrices match ml-matrix EVD', () => {
  let worst = 0;
  for (const n of [1, 2, 3, 4, 7, 16, 33, 96, 192]) {
    const g = rng(n * 31 + 7);
    const R = randomMatrix(n + 5, n, g);
    const spd = R.transpose().mmul(R);
    worst = Math.max(worst, assertClose(symmetricEigenvalues(flat(spd), n), reference(spd), 1e-12, `Gram n=${n}`));
    const S = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) S.set(i, j, g()).set(j, i, S.get(i, j));
    worst = Math.max(worst, assertClose(symmetricEigenvalues(flat(S), n), reference(S), 1e-12, `indefinite n=${n}`));
  }
  console.log(`# eigenvalues vs ml-matrix EVD: max relative error ${worst.toExponential(2)}`);
});

test('symmetric eigenvalues: only the lower triangle is read, the input is not modified by the copying form', () => {
  const n = 6;
  const g = rng(3);
  const S = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) S.set(i, j, g()).set(j, i, S.get(i, j));
  const lower = flat(S);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) lower[i * n + j] = 1e6 * (i + j); // garbage above
  const before = Float64Array.from(lower);
  assertClose(symmetricEigenvalues(lower, n), reference(S), 1e-13, 'lower triangle');
  assert.deepEqual(lower, before);
});

test('symmetric eigenvalues: degenerate and structured cases', () => {
  const n = 12;
  assert.deepEqual(Array.from(symmetricEigenvalues(new Float64Array(n * n), n)), new Array(n).fill(0), 'zero matrix');
  const I = flat(Matrix.eye(n).mul(3));
  assertClose(symmetricEigenvalues(I, n), new Array(n).fill(3), 1e-15, 'scaled identity');
  const diag = Array.from({ length: n }, (_, i) => (i % 3) - 1 + i * 1e-3);
  assertClose(symmetricEigenvalues(flat(Matrix.diag(diag)), n), diag.slice().sort((a, b) => a - b), 1e-15, 'diagonal');
  // rank one v v': eigenvalues 0 (n - 1 times) and |v|^2
  const v = Matrix.columnVector(Array.from({ length: n }, (_, i) => Math.sin(i + 1)));
  const vv = v.mmul(v.transpose());
  const norm2 = v.transpose().mmul(v).get(0, 0);
  assertClose(symmetricEigenvalues(flat(vv), n), [...new Array(n - 1).fill(0), norm2], 1e-14, 'rank one');
  // repeated eigenvalues from a block structure, and a graded matrix spanning 1e-8..1e8
  const block = Matrix.zeros(n, n);
  for (let b = 0; b < n; b += 3) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) block.set(b + i, b + j, 1);
  assertClose(symmetricEigenvalues(flat(block), n), reference(block), 1e-14, 'blocks');
  const graded = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) graded.set(i, j, 10 ** (8 - (16 * Math.max(i, j)) / (n - 1)) * (i === j ? 2 : 0.1));
  assertClose(symmetricEigenvalues(flat(graded), n), reference(graded), 1e-13, 'graded');
  // tridiagonal Toeplitz (2, -1): eigenvalues 2 - 2 cos(k pi / (n + 1)), known in closed form
  const tri = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    tri.set(i, i, 2);
    if (i) tri.set(i, i - 1, -1).set(i - 1, i, -1);
  }
  const exact = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((a, b) => a - b);
  assertClose(symmetricEigenvalues(flat(tri), n), exact, 1e-14, 'tridiagonal Toeplitz');
  assert.equal(symmetricEigenvalues(new Float64Array(0), 0).length, 0);
  assert.throws(() => symmetricEigenvalues(new Float64Array(3), 2), /4|2 x 2/);
});

test('symmetric eigenvalues of Z\'Z are the squared singular values of Z (ml-matrix SVD)', () => {
  const g = rng(11);
  const Z = randomMatrix(80, 40, g).apply(function (this: Matrix, i, j) {
    this.set(i, j, this.get(i, j) * (1 + (j % 4)));
  });
  const sv = new SingularValueDecomposition(Z, { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
  const want = sv.map((s) => s * s).sort((a, b) => a - b);
  assertClose(symmetricEigenvalues(flat(Z.transpose().mmul(Z)), 40), want, 1e-12, 'Z\'Z vs SVD');
});
