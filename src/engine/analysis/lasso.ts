// Lasso by cyclic coordinate descent, minimizing exactly scikit-learn's objective with
// fit_intercept=False:  (1 / (2 n)) ||y - X w||^2 + alpha ||w||_1.
//
// The loop mirrors sklearn.linear_model._cd_fast.enet_coordinate_descent (l2 term 0, cyclic
// selection, no positivity): the problem is scaled by n (l1 = alpha * n), a sweep updates each
// coordinate by soft-thresholding X_j' R, and when the largest coefficient change of a sweep is
// below tol times the largest coefficient, the duality gap is computed; the solver stops when
// that gap is below tol * ||y||^2. Same start (zeros, or a warm start), same order, same tests,
// so that the iterates, the stopping point and the iteration count agree with scikit-learn's, not
// only the optimum.

import { CholeskyDecomposition, Matrix } from 'ml-matrix';

export interface LassoOptions {
  /** scikit-learn's tol (default 1e-4): relative coefficient change, then duality gap / ||y||^2. */
  tol?: number;
  /** scikit-learn's max_iter (default 1000): sweeps over all coordinates. */
  maxIter?: number;
  /** Starting coefficients (warm start along a path); zeros by default. Not modified. */
  init?: ArrayLike<number>;
}

export interface LassoFit {
  coef: Float64Array;
  /** Sweeps done, as scikit-learn's n_iter_. */
  iterations: number;
  /** Duality gap of the n-scaled problem at the end, as cd_fast returns it. */
  gap: number;
  converged: boolean;
}

/** A design matrix as n x p, given by its columns (each of length n). */
export interface Design {
  n: number;
  p: number;
  cols: Float64Array[];
}

export function designFromRows(rows: ArrayLike<number>[]): Design {
  const n = rows.length;
  const p = n ? rows[0].length : 0;
  const cols = Array.from({ length: p }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== p) throw new Error(`lasso: row ${i} has ${r.length} values, expected ${p}`);
    for (let j = 0; j < p; j++) cols[j][i] = r[j];
  }
  return { n, p, cols };
}

export function designFromColumns(cols: ArrayLike<number>[], n: number): Design {
  return { n, p: cols.length, cols: cols.map((c) => Float64Array.from(c)) };
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

export function lasso(X: Design, y: ArrayLike<number>, alpha: number, opts: LassoOptions = {}): LassoFit {
  const { n, p, cols } = X;
  if (y.length !== n) throw new Error(`lasso: y has ${y.length} values, X has ${n} rows`);
  if (!(alpha >= 0)) throw new Error(`lasso: alpha must be >= 0, got ${alpha}`);
  const maxIter = opts.maxIter ?? 1000;
  const tol0 = opts.tol ?? 1e-4;
  const l1 = alpha * n;
  const yv = Float64Array.from(y);
  const w = new Float64Array(p);
  if (opts.init) {
    if (opts.init.length !== p) throw new Error(`lasso: init has ${opts.init.length} values, expected ${p}`);
    w.set(opts.init);
  }
  const normCols = cols.map((c) => dot(c, c, n));
  // R = y - X w
  const R = Float64Array.from(yv);
  for (let j = 0; j < p; j++) {
    if (w[j] !== 0) {
      const c = cols[j];
      const wj = w[j];
      for (let i = 0; i < n; i++) R[i] -= wj * c[i];
    }
  }
  const dwTol = tol0;
  const tol = tol0 * dot(yv, yv, n);
  // y = 0 from a zero start: the answer is 0, and scikit-learn, whose gap test (0 < 0) never
  // passes, reports max_iter sweeps; say the same without doing them.
  if (tol === 0 && w.every((v) => v === 0)) return { coef: w, iterations: maxIter, gap: 0, converged: false };
  let gap = tol + 1;
  let iter = 0;
  let converged = false;
  for (iter = 0; iter < maxIter; iter++) {
    let wMax = 0;
    let dwMax = 0;
    for (let j = 0; j < p; j++) {
      if (normCols[j] === 0) continue;
      const c = cols[j];
      const wOld = w[j];
      if (wOld !== 0) for (let i = 0; i < n; i++) R[i] += wOld * c[i];
      const tmp = dot(c, R, n);
      const mag = Math.abs(tmp) - l1;
      const wNew = mag > 0 ? (Math.sign(tmp) * mag) / normCols[j] : 0;
      w[j] = wNew;
      if (wNew !== 0) for (let i = 0; i < n; i++) R[i] -= wNew * c[i];
      const d = Math.abs(wNew - wOld);
      if (d > dwMax) dwMax = d;
      if (Math.abs(wNew) > wMax) wMax = Math.abs(wNew);
    }
    if (wMax === 0 || dwMax / wMax < dwTol || iter === maxIter - 1) {
      gap = dualityGap(X, yv, w, R, l1);
      if (gap < tol) {
        converged = true;
        break;
      }
    }
  }
  return { coef: w, iterations: converged ? iter + 1 : maxIter, gap, converged };
}

/** Duality gap of the n-scaled Lasso problem, computed as cd_fast does. */
function dualityGap(X: Design, y: Float64Array, w: Float64Array, R: Float64Array, l1: number): number {
  const { n, p, cols } = X;
  let dualNorm = 0;
  for (let j = 0; j < p; j++) {
    const v = Math.abs(dot(cols[j], R, n));
    if (v > dualNorm) dualNorm = v;
  }
  const rNorm2 = dot(R, R, n);
  let gap: number;
  let cst: number;
  if (dualNorm > l1) {
    cst = l1 / dualNorm;
    gap = 0.5 * (rNorm2 + rNorm2 * cst * cst);
  } else {
    cst = 1;
    gap = rNorm2;
  }
  let l1Norm = 0;
  for (let j = 0; j < p; j++) l1Norm += Math.abs(w[j]);
  gap += l1 * l1Norm - cst * dot(R, y, n);
  return gap;
}

/** Smallest alpha for which every coefficient is zero: max_j |X_j' y| / n. */
export function alphaMax(X: Design, y: ArrayLike<number>): number {
  const yv = Float64Array.from(y);
  let m = 0;
  for (const c of X.cols) m = Math.max(m, Math.abs(dot(c, yv, X.n)));
  return X.n ? m / X.n : 0;
}

export interface PathPoint {
  alpha: number;
  coef: number[];
  iterations: number;
}

/**
 * Regularization path: nAlphas values log-spaced from alpha_max down to eps * alpha_max (as
 * sklearn's lasso_path), each fit warm-started from the previous one.
 */
export function lassoPath(
  X: Design,
  y: ArrayLike<number>,
  opts: LassoOptions & { nAlphas?: number; eps?: number; alphas?: number[] } = {},
): PathPoint[] {
  const alphas = opts.alphas ?? logAlphas(alphaMax(X, y), opts.nAlphas ?? 30, opts.eps ?? 1e-3);
  const out: PathPoint[] = [];
  let init: Float64Array | undefined;
  for (const a of alphas) {
    const fit = lasso(X, y, a, { tol: opts.tol, maxIter: opts.maxIter, init });
    init = fit.coef;
    out.push({ alpha: a, coef: Array.from(fit.coef), iterations: fit.iterations });
  }
  return out;
}

export function logAlphas(max: number, count: number, eps: number): number[] {
  if (max <= 0) return [0];
  if (count === 1) return [max];
  const hi = Math.log10(max);
  const lo = Math.log10(max * eps);
  return Array.from({ length: count }, (_, i) => 10 ** (hi + ((lo - hi) * i) / (count - 1)));
}

/**
 * The same objective by coordinate descent on the Gram matrix G = X'X (p x p, computed once) and
 * Xy = X'y, keeping q = G w up to date: a coordinate costs O(1) unless it changes (then O(p)), so
 * a sweep over a sparse solution costs about p * (1 + nonzeros) instead of n * p. Same stopping
 * rule (the duality gap from R'R = y'y - 2 w'Xy + w'q and X'R = Xy - q). Its iterates are not
 * scikit-learn's to the last bit, only the optimum is: the panel's importance and its path use it,
 * `lm-probe lasso` uses lasso() above.
 */
export class GramLasso {
  readonly p: number;
  readonly n: number;
  private readonly G: Float64Array;
  private readonly Xy: Float64Array;
  private readonly yy: number;

  /**
   * X = D x p with columns X_j (the design), y (D values); or, with `gram`, the products already
   * made: `gram` is the (p + 1) x (p + 1) row-major Gram matrix of [X_0 .. X_{p-1}, y] (X and y
   * are then only read for n and p), so that one Gram matrix of the window's states serves the
   * Lasso and the information gain.
   */
  constructor(X: Design, y: ArrayLike<number>, gram?: { data: Float64Array; size: number }) {
    const { n, p, cols } = X;
    this.n = n;
    this.p = p;
    if (gram) {
      const m = gram.size;
      if (m < p + 1) throw new Error(`GramLasso: gram is ${m} x ${m}, need at least ${p + 1}`);
      this.G = new Float64Array(p * p);
      this.Xy = new Float64Array(p);
      for (let i = 0; i < p; i++) {
        this.G.set(gram.data.subarray(i * m, i * m + p), i * p);
        this.Xy[i] = gram.data[i * m + p];
      }
      this.yy = gram.data[p * m + p];
      return;
    }
    const yv = Float64Array.from(y);
    this.G = new Float64Array(p * p);
    this.Xy = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      this.Xy[i] = dot(cols[i], yv, n);
      for (let j = 0; j <= i; j++) {
        const v = dot(cols[i], cols[j], n);
        this.G[i * p + j] = v;
        this.G[j * p + i] = v;
      }
    }
    this.yy = dot(yv, yv, n);
  }

  alphaMax(): number {
    let m = 0;
    for (const v of this.Xy) m = Math.max(m, Math.abs(v));
    return this.n ? m / this.n : 0;
  }

  fit(alpha: number, opts: LassoOptions = {}): LassoFit {
    const { p, n, G, Xy } = this;
    const maxIter = opts.maxIter ?? 1000;
    const tol0 = opts.tol ?? 1e-4;
    const l1 = alpha * n;
    const w = new Float64Array(p);
    if (opts.init) w.set(opts.init);
    const q = new Float64Array(p);
    this.product(w, q);
    const tol = tol0 * this.yy;
    if (tol === 0 && w.every((v) => v === 0)) return { coef: w, iterations: maxIter, gap: 0, converged: false };
    let gap = Infinity;
    let stable = 0;
    for (let iter = 1; iter <= maxIter; iter++) {
      let wMax = 0;
      let dwMax = 0;
      let supportChanged = false;
      for (let j = 0; j < p; j++) {
        const col = j * p;
        const gjj = G[col + j];
        if (gjj === 0) continue;
        const wOld = w[j];
        const tmp = Xy[j] - q[j] + gjj * wOld;
        const mag = Math.abs(tmp) - l1;
        const wNew = mag > 0 ? (tmp > 0 ? mag : -mag) / gjj : 0;
        if (wNew !== wOld) {
          if (wNew > 0 !== wOld > 0 || wNew < 0 !== wOld < 0) supportChanged = true;
          const d = wNew - wOld;
          for (let i = 0; i < p; i++) q[i] += d * G[col + i];
          w[j] = wNew;
          if (Math.abs(d) > dwMax) dwMax = Math.abs(d);
        }
        if (Math.abs(wNew) > wMax) wMax = Math.abs(wNew);
      }
      if (wMax === 0 || dwMax / wMax < tol0 || iter === maxIter) {
        gap = this.gap(w, q, l1);
        if (gap < tol) return { coef: w, iterations: iter, gap, converged: true };
      }
      // Coordinate descent crawls on correlated columns (hundreds of sweeps for hidden states),
      // but it finds the support and signs s of the solution early. Once two sweeps leave them as
      // they were, the optimum on that support solves G_AA w_A = Xy_A - l1 s (Cholesky, ml-matrix):
      // take it when its duality gap passes the same test, else move towards it as far as the
      // objective falls (lineStep) and sweep on. On the importance's paths: about half the time
      // of waiting for coordinate descent alone, and the optimum to rounding when it succeeds.
      stable = supportChanged ? 0 : stable + 1;
      if (stable >= 2) {
        stable = 0;
        const exact = this.supportSolve(w, l1);
        if (exact) {
          const g = this.gap(exact.w, exact.q, l1);
          if (g < tol) return { coef: exact.w, iterations: iter, gap: g, converged: true };
          this.lineStep(w, q, exact.w, exact.q, l1);
        }
      }
    }
    return { coef: w, iterations: maxIter, gap, converged: false };
  }

  /** 0.5 ||y - X w||^2 + l1 ||w||_1 from q = G w. */
  private objective(w: Float64Array, q: Float64Array, l1: number): number {
    let wXy = 0;
    let wq = 0;
    let a = 0;
    for (let j = 0; j < this.p; j++) {
      if (w[j] === 0) continue;
      wXy += w[j] * this.Xy[j];
      wq += w[j] * q[j];
      a += Math.abs(w[j]);
    }
    return 0.5 * this.yy - wXy + 0.5 * wq + l1 * a;
  }

  /**
   * Moves w (and q = G w) towards the support's stationary point c as far as lowers the objective:
   * the best of c and the points where a coefficient crosses zero on the way (feature-sign search,
   * Lee et al. 2007): a convex objective along the segment, piecewise quadratic between those points.
   */
  private lineStep(w: Float64Array, q: Float64Array, c: Float64Array, qc: Float64Array, l1: number): void {
    const { p } = this;
    // candidate steps: the whole way, and each zero crossing (with the coefficient that crosses)
    const steps: { t: number; zero: number }[] = [{ t: 1, zero: -1 }];
    for (let j = 0; j < p; j++) {
      if (w[j] !== 0 && Math.sign(c[j]) !== Math.sign(w[j])) {
        const t = w[j] / (w[j] - c[j]);
        if (t > 0 && t < 1) steps.push({ t, zero: j });
      }
    }
    const wt = new Float64Array(p);
    const qt = new Float64Array(p);
    const move = ({ t, zero }: { t: number; zero: number }) => {
      for (let j = 0; j < p; j++) {
        wt[j] = w[j] + t * (c[j] - w[j]);
        qt[j] = q[j] + t * (qc[j] - q[j]);
      }
      if (zero >= 0) wt[zero] = 0;
    };
    let best: { t: number; zero: number } | null = null;
    let bestF = this.objective(w, q, l1);
    for (const s of steps) {
      move(s);
      const f = this.objective(wt, qt, l1);
      if (f < bestF) {
        bestF = f;
        best = s;
      }
    }
    if (!best) return;
    move(best);
    w.set(wt);
    this.product(w, q);
  }

  /** q = G w. */
  private product(w: Float64Array, q: Float64Array): void {
    const { p, G } = this;
    q.fill(0);
    for (let j = 0; j < p; j++) if (w[j] !== 0) for (let i = 0, c = j * p; i < p; i++) q[i] += G[c + i] * w[j];
  }

  /** The stationary point on the support and signs of w, or null when G_AA is not positive definite. */
  private supportSolve(w: Float64Array, l1: number): { w: Float64Array; q: Float64Array } | null {
    const { p, G, Xy } = this;
    const A: number[] = [];
    for (let j = 0; j < p; j++) if (w[j] !== 0) A.push(j);
    if (A.length === 0) return null;
    const m = A.length;
    const M = new Matrix(m, m);
    const b = new Matrix(m, 1);
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < m; c++) M.set(r, c, G[A[r] * p + A[c]]);
      b.set(r, 0, Xy[A[r]] - l1 * Math.sign(w[A[r]]));
    }
    const chol = new CholeskyDecomposition(M);
    if (!chol.isPositiveDefinite()) return null;
    const x = chol.solve(b);
    const out = new Float64Array(p);
    A.forEach((j, r) => (out[j] = x.get(r, 0)));
    const q = new Float64Array(p);
    this.product(out, q);
    return { w: out, q };
  }

  /** Duality gap from R'R = y'y - 2 w'Xy + w'q and X'R = Xy - q (as cd_fast's, without R). */
  private gap(w: Float64Array, q: Float64Array, l1: number): number {
    const { p, Xy } = this;
    let wXy = 0;
    let wq = 0;
    let l1Norm = 0;
    let dual = 0;
    for (let j = 0; j < p; j++) {
      wXy += w[j] * Xy[j];
      wq += w[j] * q[j];
      l1Norm += Math.abs(w[j]);
      dual = Math.max(dual, Math.abs(Xy[j] - q[j]));
    }
    const rr = Math.max(0, this.yy - 2 * wXy + wq);
    const ry = this.yy - wXy;
    let cst = 1;
    let gap = rr;
    if (dual > l1) {
      cst = l1 / dual;
      gap = 0.5 * (rr + rr * cst * cst);
    }
    return gap + l1 * l1Norm - cst * ry;
  }
}
