// Closed-form references for the labs' tests, written apart from src/engine/labs (no ml-matrix, no
// SVD): least squares by Householder QR, the minimum-norm solution through X X', normalized LMS,
// the largest eigenvalue by power iteration, and the recursions the LSA pass is equivalent to.

export type Mat = number[][];

export function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Least squares for a tall full-column-rank X (n >= d) by Householder QR. */
export function leastSquaresQR(X: Mat, y: number[]): number[] {
  const n = X.length;
  const d = X[0].length;
  const A = X.map((r) => r.slice());
  const b = y.slice();
  for (let c = 0; c < d; c++) {
    let norm = 0;
    for (let i = c; i < n; i++) norm += A[i][c] ** 2;
    norm = Math.sqrt(norm);
    const alpha = A[c][c] > 0 ? -norm : norm;
    const v = new Array<number>(n).fill(0);
    for (let i = c; i < n; i++) v[i] = A[i][c];
    v[c] -= alpha;
    const vv = dot(v, v);
    if (vv === 0) continue;
    for (let j = c; j < d; j++) {
      let s = 0;
      for (let i = c; i < n; i++) s += v[i] * A[i][j];
      const f = (2 * s) / vv;
      for (let i = c; i < n; i++) A[i][j] -= f * v[i];
    }
    let s = 0;
    for (let i = c; i < n; i++) s += v[i] * b[i];
    const f = (2 * s) / vv;
    for (let i = c; i < n; i++) b[i] -= f * v[i];
  }
  const w = new Array<number>(d).fill(0);
  for (let c = d - 1; c >= 0; c--) {
    let s = b[c];
    for (let j = c + 1; j < d; j++) s -= A[c][j] * w[j];
    w[c] = s / A[c][c];
  }
  return w;
}

/** Solves a square system by Gaussian elimination with partial pivoting. */
export function solve(M: Mat, rhs: number[]): number[] {
  const n = M.length;
  const A = M.map((r, i) => [...r, rhs[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(A[i][c]) > Math.abs(A[p][c])) p = i;
    [A[c], A[p]] = [A[p], A[c]];
    for (let i = c + 1; i < n; i++) {
      const f = A[i][c] / A[c][c];
      for (let j = c; j <= n; j++) A[i][j] -= f * A[c][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = A[i][n];
    for (let j = i + 1; j < n; j++) s -= A[i][j] * x[j];
    x[i] = s / A[i][i];
  }
  return x;
}

/** Minimum-norm solution of X w = y for a wide full-row-rank X (n < d): X' (X X')^{-1} y. */
export function minNormWide(X: Mat, y: number[]): number[] {
  const G = X.map((a) => X.map((b) => dot(a, b)));
  const c = solve(G, y);
  const d = X[0].length;
  const w = new Array<number>(d).fill(0);
  X.forEach((row, i) => row.forEach((v, j) => (w[j] += c[i] * v)));
  return w;
}

/** One pass of normalized LMS from w = 0: w_j = w_{j-1} + (y_j - w_{j-1}'x_j) x_j / ||x_j||^2. */
export function nlms(X: Mat, y: number[]): number[] {
  const w = new Array<number>(X[0].length).fill(0);
  X.forEach((x, j) => {
    const c = (y[j] - dot(w, x)) / dot(x, x);
    x.forEach((v, i) => (w[i] += c * v));
  });
  return w;
}

/** Largest eigenvalue of X'X by power iteration. */
export function lambdaMax(X: Mat): number {
  const d = X[0].length;
  let v = new Array<number>(d).fill(1);
  let lam = 0;
  for (let it = 0; it < 5000; it++) {
    const Xv = X.map((r) => dot(r, v));
    const u = new Array<number>(d).fill(0);
    X.forEach((r, i) => r.forEach((x, j) => (u[j] += x * Xv[i])));
    const norm = Math.sqrt(dot(u, u));
    const next = norm / Math.sqrt(dot(v, v));
    v = u.map((x) => x / norm);
    if (Math.abs(next - lam) < 1e-14 * next) return next;
    lam = next;
  }
  return lam;
}

/** Smallest eigenvalue of X'X (full column rank) by inverse power iteration. */
export function lambdaMin(X: Mat): number {
  const d = X[0].length;
  const G = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => X.reduce((s, r) => s + r[i] * r[j], 0)));
  let v = new Array<number>(d).fill(1);
  let mu = 0;
  for (let it = 0; it < 2000; it++) {
    const u = solve(G, v);
    const next = Math.sqrt(dot(u, u)) / Math.sqrt(dot(v, v));
    const norm = Math.sqrt(dot(u, u));
    v = u.map((x) => x / norm);
    if (Math.abs(next - mu) < 1e-13 * next) return 1 / next;
    mu = next;
  }
  return 1 / mu;
}

/** Gradient descent on 1/2 ||y - X w||^2 from 0, step eta: w after each of `layers` steps. */
export function gdPath(X: Mat, y: number[], eta: number, layers: number): number[][] {
  let w = new Array<number>(X[0].length).fill(0);
  const out: number[][] = [];
  for (let l = 0; l < layers; l++) {
    const r = X.map((x, i) => y[i] - dot(w, x));
    const g = new Array<number>(w.length).fill(0);
    X.forEach((x, i) => x.forEach((v, j) => (g[j] += r[i] * v)));
    w = w.map((wj, j) => wj + eta * g[j]);
    out.push(w);
  }
  return out;
}

/** The causal recursion: y_{l+1} = (I - eta tril(X X')) y_l, u_L = eta X' sum_{l<L} y_l; u after each layer. */
export function causalPath(X: Mat, y: number[], eta: number, layers: number): number[][] {
  const n = X.length;
  let r = y.slice();
  let u = new Array<number>(X[0].length).fill(0);
  const out: number[][] = [];
  for (let l = 0; l < layers; l++) {
    u = u.slice();
    X.forEach((x, i) => x.forEach((v, j) => (u[j] += eta * r[i] * v)));
    const next = r.slice();
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i <= j; i++) s += dot(X[i], X[j]) * r[i];
      next[j] = r[j] - eta * s;
    }
    r = next;
    out.push(u);
  }
  return out;
}

export function maxAbsDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}
