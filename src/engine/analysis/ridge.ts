// Streaming ridge regression for the future-token probes: sufficient statistics accumulated in
// float64 (memory independent of the number of rows), a closed-form solve by Cholesky (ml-matrix)
// and the held-out squared error computed from held-out statistics alone.
//
// Model: y = x A + b (x: 1 x Din, A: Din x Dout, b: 1 x Dout). The bias is not penalized: the
// statistics are centered, A = (Cxx + lambda s I)^-1 Cxy with s = tr(Cxx) / Din (so lambda is a
// relative, scale-free amount) and b = mean(y) - mean(x) A. That is ridge with a bias column whose
// own penalty is zero.
import { Matrix, solveSpd } from './linalg';

export class RidgeStats {
  n = 0;
  readonly sx: Float64Array;
  readonly sy: Float64Array;
  /** Upper triangle filled during accumulation; symmetrized by solve(). Row-major Din x Din. */
  readonly sxx: Float64Array;
  /** Row-major Din x Dout. */
  readonly sxy: Float64Array;
  /** Sum of ||y||^2. */
  syy = 0;

  constructor(
    readonly din: number,
    readonly dout: number,
  ) {
    this.sx = new Float64Array(din);
    this.sy = new Float64Array(dout);
    this.sxx = new Float64Array(din * din);
    this.sxy = new Float64Array(din * dout);
  }

  /**
   * Adds rows: x_t = X[xRow0 + t], y_t = Y[yRow0 + t] for t < count, X and Y flat row-major
   * (widths din and dout).
   */
  add(X: ArrayLike<number>, xRow0: number, Y: ArrayLike<number>, yRow0: number, count: number): void {
    const { din, dout, sx, sy, sxx, sxy } = this;
    const x = new Float64Array(din);
    const y = new Float64Array(dout);
    for (let t = 0; t < count; t++) {
      const xb = (xRow0 + t) * din;
      const yb = (yRow0 + t) * dout;
      for (let i = 0; i < din; i++) x[i] = X[xb + i];
      let yy = 0;
      for (let j = 0; j < dout; j++) {
        const v = Y[yb + j];
        y[j] = v;
        yy += v * v;
      }
      this.syy += yy;
      for (let i = 0; i < din; i++) {
        const xi = x[i];
        sx[i] += xi;
        const r = i * din;
        for (let j = i; j < din; j++) sxx[r + j] += xi * x[j];
        const q = i * dout;
        for (let j = 0; j < dout; j++) sxy[q + j] += xi * y[j];
      }
      for (let j = 0; j < dout; j++) sy[j] += y[j];
    }
    this.n += count;
  }

  /**
   * Adds precomputed moments of `count` rows: sums of x and y, sum ||y||^2, x'x (full, read
   * through sxxAt(i, j) for j >= i) and x'y (sxyAt(i, j)).
   */
  addMoments(
    count: number,
    sx: ArrayLike<number>,
    sy: ArrayLike<number>,
    syy: number,
    sxxAt: (i: number, j: number) => number,
    sxyAt: (i: number, j: number) => number,
  ): void {
    const { din, dout } = this;
    for (let i = 0; i < din; i++) {
      this.sx[i] += sx[i];
      for (let j = i; j < din; j++) this.sxx[i * din + j] += sxxAt(i, j);
      for (let j = 0; j < dout; j++) this.sxy[i * dout + j] += sxyAt(i, j);
    }
    for (let j = 0; j < dout; j++) this.sy[j] += sy[j];
    this.syy += syy;
    this.n += count;
  }

  merge(o: RidgeStats): RidgeStats {
    const m = new RidgeStats(this.din, this.dout);
    m.n = this.n + o.n;
    m.syy = this.syy + o.syy;
    for (const k of ['sx', 'sy', 'sxx', 'sxy'] as const) for (let i = 0; i < m[k].length; i++) m[k][i] = this[k][i] + o[k][i];
    return m;
  }

  /** Full symmetric Sxx (row-major). */
  fullSxx(): Float64Array {
    const { din, sxx } = this;
    const f = new Float64Array(din * din);
    for (let i = 0; i < din; i++)
      for (let j = i; j < din; j++) {
        f[i * din + j] = sxx[i * din + j];
        f[j * din + i] = sxx[i * din + j];
      }
    return f;
  }
}

export interface RidgeMap {
  /** Row-major Din x Dout. */
  A: Float64Array;
  b: Float64Array;
  lambda: number;
}

export function solveRidge(s: RidgeStats, lambda: number): RidgeMap {
  const { din, dout, n } = s;
  if (n < 1) throw new Error('ridge: no rows were accumulated');
  const sxx = s.fullSxx();
  const mx = Array.from(s.sx, (v) => v / n);
  const my = Array.from(s.sy, (v) => v / n);
  const C = new Matrix(din, din);
  let tr = 0;
  for (let i = 0; i < din; i++)
    for (let j = 0; j <= i; j++) {
      const v = sxx[i * din + j] - n * mx[i] * mx[j];
      C.set(i, j, v);
      C.set(j, i, v); // exactly symmetric: ml-matrix's Cholesky checks
      if (i === j) tr += v;
    }
  const ridge = lambda * Math.max(tr / din, 1e-12);
  for (let i = 0; i < din; i++) C.set(i, i, C.get(i, i) + ridge);
  const R = new Matrix(din, dout);
  for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) R.set(i, j, s.sxy[i * dout + j] - n * mx[i] * my[j]);
  const Am = solveSpd(C, R);
  const A = new Float64Array(din * dout);
  for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) A[i * dout + j] = Am.get(i, j);
  const b = new Float64Array(dout);
  for (let j = 0; j < dout; j++) {
    let v = my[j];
    for (let i = 0; i < din; i++) v -= mx[i] * A[i * dout + j];
    b[j] = v;
  }
  return { A, b, lambda };
}

/**
 * Mean squared error per output coordinate of y = x A + b on the rows summarized by `h`:
 * sum ||y - xA - b||^2 = Syy - 2 tr(A'Sxy) - 2 b'Sy + tr(A'Sxx A) + 2 b'A'Sx + n b'b.
 */
export function heldOutMse(h: RidgeStats, m: RidgeMap): number {
  const { din, dout, n } = h;
  if (n === 0) return NaN;
  const { A, b } = m;
  const sxx = h.fullSxx();
  let sse = h.syy;
  for (let i = 0; i < din * dout; i++) sse -= 2 * A[i] * h.sxy[i];
  for (let j = 0; j < dout; j++) sse -= 2 * b[j] * h.sy[j];
  // tr(A' Sxx A) = sum_j sum_i A_ij (Sxx A)_ij
  const SA = new Float64Array(din * dout);
  for (let i = 0; i < din; i++) {
    const row = i * din;
    const out = i * dout;
    for (let k = 0; k < din; k++) {
      const s = sxx[row + k];
      if (s === 0) continue;
      const ak = k * dout;
      for (let j = 0; j < dout; j++) SA[out + j] += s * A[ak + j];
    }
  }
  for (let i = 0; i < din * dout; i++) sse += A[i] * SA[i];
  // 2 b' A' Sx = 2 sum_j b_j sum_i A_ij Sx_i
  for (let j = 0; j < dout; j++) {
    let v = 0;
    for (let i = 0; i < din; i++) v += A[i * dout + j] * h.sx[i];
    sse += 2 * b[j] * v + n * b[j] * b[j];
  }
  return sse / (n * dout);
}
