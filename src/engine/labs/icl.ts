// The in-context learning lab: linear regression solved in context by the LSA construction of
// Ding et al. 2023, run as a masked attention forward pass (lsa.ts) with a prefix mask and with a
// causal mask, against least squares and against one pass of normalized LMS.
//
// Tokens: z_i = [x_i; y_i] for the n in-context examples, [x_q; 0] for the queries (width d + 1).
// W_KQ = [[I_d, 0], [0, 0]] so the score of i for j is x_i'x_j; W_PV = [[0, 0], [0, -eta]] so only
// the y channel is written. Prediction of a query = minus its y channel after the last layer.
// Masks: prefix: every example attends to every example; causal: example j to examples 1..j;
// queries attend to every example and to no query (both masks).
//
// What the pass computes (docs/labs.md has the derivation):
// - prefix: the example channels hold the residuals y - X w_l of w_{l+1} = w_l + eta X'(y - X w_l),
//   gradient descent on 1/2 ||y - X w||^2 from w_0 = 0, and a query reads w_L'x_q. For
//   0 < eta < 2 / lambda_max(X'X) this converges to the minimum-norm least-squares solution.
// - causal: the example channels follow y <- (I - eta T) y with T = tril(X X') (lower triangle,
//   diagonal included), and a query reads (eta sum_l X' y_l)'x_q. For 0 < eta < 2 / max ||x_j||^2
//   (the eigenvalues of I - eta T are 1 - eta ||x_j||^2) this converges to X' T^{-1} y, and solving
//   T r = y by forward substitution is exactly one pass of normalized LMS from w_0 = 0:
//   w_j = w_{j-1} + (y_j - w_{j-1}'x_j) x_j / ||x_j||^2. The limit does not depend on eta.
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { lsaForward } from './lsa';
import { rng } from './random';

export interface IclData {
  examples: { x: number[][]; y: number[] };
  /** Query targets are optional: without them there is no query error, only predictions. */
  queries: { x: number[][]; y?: number[] };
}

export type Mask = 'prefix' | 'causal';

export interface MaskRun {
  /** Query predictions after the last layer. */
  predictions: number[];
  /** Query mean squared error after each layer (index 0 = after layer 1); null without query targets. */
  mseByLayer: number[] | null;
  /** Mean squared difference between this mask's query predictions and least squares, after each layer. */
  gapToLeastSquaresByLayer: number[];
}

export interface IclStability {
  /** Largest and smallest nonzero eigenvalue of X'X (the examples' inputs). */
  lambdaMax: number;
  lambdaMinNonzero: number;
  /** rank of X */
  rank: number;
  /** The prefix pass converges for 0 < eta < 2 / lambda_max(X'X). */
  etaMaxPrefix: number;
  /** The causal pass converges for 0 < eta < 2 / max_j ||x_j||^2. */
  etaMaxCausal: number;
  prefixConverges: boolean;
  causalConverges: boolean;
}

export interface IclResult {
  layers: number;
  eta: number;
  d: number;
  n: number;
  q: number;
  prefix: MaskRun;
  causal: MaskRun;
  /** Minimum-norm least-squares predictions for the queries (what the prefix pass converges to). */
  leastSquares: number[];
  /** One pass of normalized LMS over the examples in order, from w = 0 (the causal pass's limit). */
  nlms: number[];
  /** Query mean squared errors of the two references; null without query targets. */
  leastSquaresMse: number | null;
  nlmsMse: number | null;
  stability: IclStability;
  warnings: string[];
}

export class IclInputError extends Error {}

/** Checks shapes and finiteness; returns d. */
export function validateIclData(data: IclData): number {
  const ex = data?.examples;
  const qs = data?.queries;
  if (!ex || !Array.isArray(ex.x) || !Array.isArray(ex.y)) throw new IclInputError('"examples" must be {"x": [[...], ...], "y": [...]}');
  if (!qs || !Array.isArray(qs.x)) throw new IclInputError('"queries" must be {"x": [[...], ...]} (and optionally "y": [...])');
  if (ex.x.length === 0) throw new IclInputError('no in-context examples');
  if (qs.x.length === 0) throw new IclInputError('no queries');
  if (ex.y.length !== ex.x.length) throw new IclInputError(`examples: ${ex.x.length} rows of x but ${ex.y.length} values of y`);
  if (qs.y !== undefined && qs.y !== null && (!Array.isArray(qs.y) || qs.y.length !== qs.x.length)) {
    throw new IclInputError(`queries: ${qs.x.length} rows of x but ${Array.isArray(qs.y) ? qs.y.length : 'no list of'} values of y`);
  }
  const d = Array.isArray(ex.x[0]) ? ex.x[0].length : 0;
  if (d === 0) throw new IclInputError('examples.x[0] must be a non-empty list of numbers');
  const rows = (name: string, xs: unknown[]) =>
    xs.forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== d) throw new IclInputError(`${name}.x[${i}] must have ${d} numbers (as examples.x[0])`);
      r.forEach((v, c) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new IclInputError(`${name}.x[${i}][${c}] is not a finite number`);
      });
    });
  rows('examples', ex.x);
  rows('queries', qs.x);
  const vals = (name: string, ys: unknown[]) =>
    ys.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new IclInputError(`${name}.y[${i}] is not a finite number`);
    });
  vals('examples', ex.y);
  if (Array.isArray(qs.y)) vals('queries', qs.y);
  return d;
}

/** The LSA weights of the construction, [D x D] row-major with D = d + 1. */
export function iclWeights(d: number, eta: number): { wKQ: Float64Array; wPV: Float64Array } {
  const D = d + 1;
  const wKQ = new Float64Array(D * D);
  for (let i = 0; i < d; i++) wKQ[i * D + i] = 1;
  const wPV = new Float64Array(D * D);
  wPV[d * D + d] = -eta;
  return { wKQ, wPV };
}

/** Tokens 0..n-1 are the examples in order, n..n+q-1 the queries. mask[j * N + i] = j attends to i. */
export function iclMask(kind: Mask, n: number, q: number): Uint8Array {
  const N = n + q;
  const m = new Uint8Array(N * N);
  for (let j = 0; j < N; j++) {
    const last = j < n ? (kind === 'prefix' ? n - 1 : j) : n - 1;
    for (let i = 0; i <= last; i++) m[j * N + i] = 1;
  }
  return m;
}

function tokensOf(data: IclData, d: number): Float64Array {
  const n = data.examples.x.length;
  const q = data.queries.x.length;
  const D = d + 1;
  const z = new Float64Array((n + q) * D);
  for (let j = 0; j < n; j++) {
    for (let c = 0; c < d; c++) z[j * D + c] = data.examples.x[j][c];
    z[j * D + d] = data.examples.y[j];
  }
  for (let j = 0; j < q; j++) for (let c = 0; c < d; c++) z[(n + j) * D + c] = data.queries.x[j][c];
  return z;
}

function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

function dotRow(w: ArrayLike<number>, x: number[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += w[i] * x[i];
  return s;
}

/** Minimum-norm least-squares weights pinv(X) y, and the spectrum of X'X, from one SVD of X. */
export function leastSquaresWeights(x: number[][], y: number[]): { w: number[]; lambdaMax: number; lambdaMinNonzero: number; rank: number } {
  const X = new Matrix(x);
  const svd = new SingularValueDecomposition(X, { autoTranspose: true });
  const s = svd.diagonal;
  const smax = Math.max(0, ...s);
  const tol = Number.EPSILON * Math.max(x.length, x[0].length) * smax;
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const d = x[0].length;
  const w = new Array<number>(d).fill(0);
  let rank = 0;
  let smin = Infinity;
  for (let k = 0; k < s.length; k++) {
    if (!(s[k] > tol)) continue;
    rank++;
    smin = Math.min(smin, s[k]);
    let uy = 0;
    for (let i = 0; i < y.length; i++) uy += U.get(i, k) * y[i];
    const c = uy / s[k];
    for (let j = 0; j < d; j++) w[j] += c * V.get(j, k);
  }
  return { w, lambdaMax: smax * smax, lambdaMinNonzero: rank ? smin * smin : 0, rank };
}

/** One pass of normalized LMS over the examples in order, from w = 0 (rows with x = 0 are skipped). */
export function nlmsWeights(x: number[][], y: number[]): number[] {
  const d = x[0].length;
  const w = new Array<number>(d).fill(0);
  for (let j = 0; j < x.length; j++) {
    const nn = dotRow(x[j], x[j]);
    if (nn === 0) continue;
    const c = (y[j] - dotRow(w, x[j])) / nn;
    for (let i = 0; i < d; i++) w[i] += c * x[j][i];
  }
  return w;
}

/** Runs the LSA pass under one mask; the per-layer series are measured on the queries. */
export function runMask(data: IclData, kind: Mask, layers: number, eta: number, reference: number[]): MaskRun {
  const d = validateIclData(data);
  const n = data.examples.x.length;
  const q = data.queries.x.length;
  const D = d + 1;
  const targets = Array.isArray(data.queries.y) ? data.queries.y : null;
  const { wKQ, wPV } = iclWeights(d, eta);
  const pred = new Float64Array(q);
  const mseByLayer: number[] = [];
  const gap: number[] = [];
  const read = (z: Float64Array) => {
    for (let j = 0; j < q; j++) pred[j] = -z[(n + j) * D + d];
  };
  const out = lsaForward({ tokens: tokensOf(data, d), n: n + q, width: D, wKQ, wPV, mask: iclMask(kind, n, q), layers }, (_layer, z) => {
    read(z);
    if (targets) mseByLayer.push(mse(pred, targets));
    gap.push(mse(pred, reference));
  });
  read(out);
  return { predictions: Array.from(pred), mseByLayer: targets ? mseByLayer : null, gapToLeastSquaresByLayer: gap };
}

export interface IclOptions {
  layers: number;
  eta: number;
}

export function runIcl(data: IclData, opts: IclOptions): IclResult {
  const d = validateIclData(data);
  const { layers, eta } = opts;
  if (!Number.isInteger(layers) || layers < 1) throw new IclInputError(`layers must be an integer >= 1, got ${layers}`);
  if (!Number.isFinite(eta) || eta <= 0) throw new IclInputError(`eta must be a number > 0, got ${eta}`);
  const n = data.examples.x.length;
  const q = data.queries.x.length;
  const ls = leastSquaresWeights(data.examples.x, data.examples.y);
  const leastSquares = data.queries.x.map((x) => dotRow(ls.w, x));
  const nl = nlmsWeights(data.examples.x, data.examples.y);
  const nlms = data.queries.x.map((x) => dotRow(nl, x));
  const maxNormSq = Math.max(...data.examples.x.map((x) => dotRow(x, x)));
  const stability: IclStability = {
    lambdaMax: ls.lambdaMax,
    lambdaMinNonzero: ls.lambdaMinNonzero,
    rank: ls.rank,
    etaMaxPrefix: ls.lambdaMax > 0 ? 2 / ls.lambdaMax : Infinity,
    etaMaxCausal: maxNormSq > 0 ? 2 / maxNormSq : Infinity,
    prefixConverges: eta * ls.lambdaMax < 2,
    causalConverges: eta * maxNormSq < 2,
  };
  const warnings: string[] = [];
  if (!stability.prefixConverges) warnings.push(`eta = ${eta} is not below 2 / lambda_max(X'X) = ${stability.etaMaxPrefix.toPrecision(4)}: the prefix pass diverges`);
  if (!stability.causalConverges) warnings.push(`eta = ${eta} is not below 2 / max ||x_j||^2 = ${stability.etaMaxCausal.toPrecision(4)}: the causal pass diverges`);
  if (ls.rank < d) warnings.push(`X has rank ${ls.rank} < d = ${d}: least squares is the minimum-norm solution (what the prefix pass converges to from w = 0)`);
  const targets = Array.isArray(data.queries.y) ? data.queries.y : null;
  return {
    layers,
    eta,
    d,
    n,
    q,
    prefix: runMask(data, 'prefix', layers, eta, leastSquares),
    causal: runMask(data, 'causal', layers, eta, leastSquares),
    leastSquares,
    nlms,
    leastSquaresMse: targets ? mse(leastSquares, targets) : null,
    nlmsMse: targets ? mse(nlms, targets) : null,
    stability,
    warnings,
  };
}

export interface SyntheticOptions {
  d: number;
  n: number;
  q: number;
  seed: number;
  /** Added to every coordinate of every x (examples and queries): x ~ U[-1, 1]^d + shift. */
  shift?: number;
  /** Standard deviation of Gaussian noise added to every target (default 0). */
  noise?: number;
}

/**
 * The paper's synthetic task: w ~ N(0, I_d), x ~ U[-1, 1]^d (+ shift), y = w'x (+ noise), for n
 * examples and q queries (with targets). Drawn in this order from one seeded stream: w, then each
 * example's x and noise, then each query's x and noise.
 */
export function syntheticIcl(o: SyntheticOptions): IclData & { w: number[] } {
  const r = rng(o.seed);
  const shift = o.shift ?? 0;
  const noise = o.noise ?? 0;
  const w = Array.from({ length: o.d }, () => r.normal());
  const draw = (count: number) => {
    const x: number[][] = [];
    const y: number[] = [];
    for (let j = 0; j < count; j++) {
      const row = Array.from({ length: o.d }, () => 2 * r.uniform() - 1 + shift);
      const e = noise ? noise * r.normal() : 0;
      x.push(row);
      y.push(dotRow(w, row) + e);
    }
    return { x, y };
  };
  const examples = draw(o.n);
  const queries = draw(o.q);
  return { examples, queries, w };
}

/** The same data with only the first m examples. */
export function firstExamples(data: IclData, m: number): IclData {
  return { examples: { x: data.examples.x.slice(0, m), y: data.examples.y.slice(0, m) }, queries: data.queries };
}

export interface ErrorVsExamples {
  /** The numbers of examples used (the first m of the data). */
  examples: number[];
  /** After the last layer, per m: query MSE (or, without query targets, the gap to the least-squares
   * predictions of all the data) of each mask and of the two references. */
  prefix: number[];
  causal: number[];
  leastSquares: number[];
  nlms: number[];
  /** 'mse' when the queries have targets; else 'gapToLeastSquares' (the reference: least squares on all examples). */
  measure: 'mse' | 'gapToLeastSquares';
}

/** Query error after `layers` layers against the number of in-context examples (the first m). */
export function errorVsExamples(data: IclData, opts: IclOptions, counts: number[]): ErrorVsExamples {
  validateIclData(data);
  const targets = Array.isArray(data.queries.y) ? data.queries.y : null;
  const all = leastSquaresWeights(data.examples.x, data.examples.y);
  const ref = targets ?? data.queries.x.map((x) => dotRow(all.w, x));
  const out: ErrorVsExamples = { examples: [], prefix: [], causal: [], leastSquares: [], nlms: [], measure: targets ? 'mse' : 'gapToLeastSquares' };
  for (const m of counts) {
    if (m < 1 || m > data.examples.x.length) continue;
    const sub = firstExamples(data, m);
    const ls = leastSquaresWeights(sub.examples.x, sub.examples.y);
    const lsPred = sub.queries.x.map((x) => dotRow(ls.w, x));
    const nl = nlmsWeights(sub.examples.x, sub.examples.y);
    out.examples.push(m);
    out.prefix.push(mse(runMask(sub, 'prefix', opts.layers, opts.eta, lsPred).predictions, ref));
    out.causal.push(mse(runMask(sub, 'causal', opts.layers, opts.eta, lsPred).predictions, ref));
    out.leastSquares.push(mse(lsPred, ref));
    out.nlms.push(mse(sub.queries.x.map((x) => dotRow(nl, x)), ref));
  }
  return out;
}

/** About `points` example counts from 1 to n, always including n. */
export function exampleCounts(n: number, points = 24): number[] {
  const s = new Set<number>();
  for (let i = 0; i < points; i++) s.add(Math.max(1, Math.round(1 + ((n - 1) * i) / Math.max(1, points - 1))));
  s.add(n);
  return [...s].sort((a, b) => a - b);
}

export interface ParsedRows {
  data: IclData | null;
  d: number;
  /** Lines (1-based) that were not read, with why. */
  skipped: { line: number; reason: string }[];
  error?: string;
}

/**
 * Reads rows of numbers (a selection, a CSV): x_1 .. x_d, y per line, separated by spaces, tabs,
 * commas or semicolons. A row with an empty y (d numbers, or d numbers and a trailing separator) is
 * a query. d is one less than the longest row. Lines without numbers (headers, comments) are
 * skipped and reported.
 */
export function parseRows(text: string): ParsedRows {
  const skipped: ParsedRows['skipped'] = [];
  const rows: { line: number; vals: number[]; emptyLast: boolean }[] = [];
  text.split(/\r\n|\n|\r/).forEach((raw, idx) => {
    const line = idx + 1;
    const t = raw.trim();
    if (!t) return;
    if (/^(#|\/\/)/.test(t)) return;
    const fields = t.split(/\s*[,;\t]\s*|\s+/);
    const emptyLast = fields.length > 1 && fields[fields.length - 1] === '';
    const cells = emptyLast ? fields.slice(0, -1) : fields;
    const vals = cells.map((c) => (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(c) ? Number(c) : NaN));
    if (vals.every((v) => Number.isNaN(v))) {
      skipped.push({ line, reason: 'no numbers (header or text)' });
      return;
    }
    if (vals.some((v) => Number.isNaN(v))) {
      skipped.push({ line, reason: `not a number: ${JSON.stringify(cells[vals.findIndex((v) => Number.isNaN(v))])}` });
      return;
    }
    rows.push({ line, vals, emptyLast });
  });
  if (rows.length === 0) return { data: null, d: 0, skipped, error: 'no rows of numbers in the text' };
  const width = Math.max(...rows.map((r) => r.vals.length + (r.emptyLast ? 1 : 0)));
  const d = width - 1;
  if (d < 1) return { data: null, d: 0, skipped, error: 'every row needs at least x_1 and y (two numbers)' };
  const ex: IclData['examples'] = { x: [], y: [] };
  const qx: number[][] = [];
  for (const r of rows) {
    if (r.vals.length === d + 1) {
      ex.x.push(r.vals.slice(0, d));
      ex.y.push(r.vals[d]);
    } else if (r.vals.length === d) {
      qx.push(r.vals);
    } else {
      skipped.push({ line: r.line, reason: `${r.vals.length} numbers; rows here have ${d + 1} (x_1..x_${d}, y) or ${d} (a query)` });
    }
  }
  if (ex.x.length === 0) return { data: null, d, skipped, error: `no example rows (rows of ${d + 1} numbers: x_1..x_${d}, y)` };
  if (qx.length === 0) return { data: null, d, skipped, error: `no query rows (rows of ${d} numbers, y left empty)` };
  return { data: { examples: ex, queries: { x: qx } }, d, skipped };
}
