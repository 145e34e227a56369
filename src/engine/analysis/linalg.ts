// Small dense helpers over ml-matrix: Cholesky and the SVD come from the library; what is here
// only moves data between flat Float32/Float64 arrays and Matrix objects. (Eigenvalues alone are
// in eigenvalues.ts: see there why.)
import { CholeskyDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';

/** Rows [r0, r0+count) of a row-major [rows x cols] flat array, as an array of Float64Array. */
export function rowsOf(data: ArrayLike<number>, cols: number, r0: number, count: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let r = 0; r < count; r++) {
    const v = new Float64Array(cols);
    const base = (r0 + r) * cols;
    for (let c = 0; c < cols; c++) v[c] = data[base + c];
    out.push(v);
  }
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Gram matrix of `count` vectors of length `len` stored one after another in `v`: row-major
 * count x count, lower triangle only unless `full` (then mirrored: exactly symmetric). The hot loop
 * of the geometry and the importance (millions of multiply-adds per probe): dot products over
 * contiguous memory with four accumulators run about twice as fast in V8 as one accumulator or a
 * rank-one update per vector.
 */
export function gramOf(v: Float64Array, count: number, len: number, full = false): Float64Array {
  const g = new Float64Array(count * count);
  for (let i = 0; i < count; i++) {
    const oi = i * len;
    for (let j = 0; j <= i; j++) {
      const oj = j * len;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t = 0;
      for (; t + 3 < len; t += 4) {
        s0 += v[oi + t] * v[oj + t];
        s1 += v[oi + t + 1] * v[oj + t + 1];
        s2 += v[oi + t + 2] * v[oj + t + 2];
        s3 += v[oi + t + 3] * v[oj + t + 3];
      }
      for (; t < len; t++) s0 += v[oi + t] * v[oj + t];
      const s = s0 + s1 + (s2 + s3);
      g[i * count + j] = s;
      if (full) g[j * count + i] = s;
    }
  }
  return g;
}

/** gramOf of rows given one array each (copied into one flat array first). */
export function gramOfRows(rows: ArrayLike<number>[], full = false): Float64Array {
  const n = rows.length;
  const len = n ? rows[0].length : 0;
  const flat = new Float64Array(n * len);
  rows.forEach((r, i) => flat.set(r, i * len));
  return gramOf(flat, n, len, full);
}

/** Gram matrix G[i][j] = rows[i] . rows[j] (exactly symmetric), as a Matrix. */
export function gram(rows: ArrayLike<number>[]): Matrix {
  const n = rows.length;
  const g = gramOfRows(rows, true);
  return new Matrix(Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n))));
}

/**
 * Singular values of a rows x cols matrix given as rows (ml-matrix's Golub-Kahan SVD with neither
 * U nor V accumulated), ascending. Their squares are the eigenvalues of Z'Z (and of ZZ'), without
 * forming either product: the independent cross-check of the eigenvalue routes in geometry.ts.
 */
export function singularValues(rows: ArrayLike<number>[]): number[] {
  const m = new Matrix(rows.length, rows.length ? rows[0].length : 0);
  rows.forEach((r, i) => {
    for (let j = 0; j < m.columns; j++) m.set(i, j, r[j]);
  });
  const s = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return [...s.diagonal].sort((a, b) => a - b);
}

/** Lower Cholesky factor of a symmetric positive definite matrix; throws when it is not SPD. */
export function cholesky(m: Matrix): Matrix {
  const c = new CholeskyDecomposition(m);
  if (!c.isPositiveDefinite()) throw new Error('cholesky: matrix is not positive definite');
  return c.lowerTriangularMatrix;
}

/** Solves S X = B for symmetric positive definite S (Cholesky). */
export function solveSpd(s: Matrix, b: Matrix): Matrix {
  const c = new CholeskyDecomposition(s);
  if (!c.isPositiveDefinite()) throw new Error('solveSpd: matrix is not positive definite');
  return c.solve(b);
}

export { Matrix };
