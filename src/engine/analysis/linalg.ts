// Small dense helpers over ml-matrix: symmetric eigenvalues and Cholesky come from the library;
// what is here only moves data between flat Float32/Float64 arrays and Matrix objects.
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';

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

/** Gram matrix G[i][j] = rows[i] . rows[j] (exactly symmetric). */
export function gram(rows: ArrayLike<number>[]): Matrix {
  const n = rows.length;
  const g = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = dot(rows[i], rows[j]);
      g.set(i, j, v);
      g.set(j, i, v);
    }
  }
  return g;
}

/** Eigenvalues of a symmetric matrix (ml-matrix's tridiagonal QL), ascending. */
export function symmetricEigenvalues(m: Matrix): number[] {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  return [...e.realEigenvalues].sort((a, b) => a - b);
}

/**
 * Singular values of a rows x cols matrix given as rows (ml-matrix's Golub-Kahan SVD with neither
 * U nor V accumulated), ascending. Their squares are the eigenvalues of Z'Z (and of ZZ'), without
 * forming either product: about a third of the work of a symmetric EVD, which always builds vectors.
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
