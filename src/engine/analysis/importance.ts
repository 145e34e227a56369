// Token importance for a target token (Tan et al. 2024): attention from the target to each earlier
// token (per layer, mean over heads) next to Lasso coefficients from regressing the target's
// hidden state on the earlier tokens' hidden states. The regression is over tokens as features:
// the D coordinates of the state are the samples, so y = h_target (D values) and X is D x target
// with column j = h_j. Agreement: Spearman rank correlation of attention and |coef|, and the
// overlap of their top-k sets.
import { GramLasso, designFromColumns, logAlphas } from './lasso';

/**
 * Mean over heads of attentions [L, H, T, T] at query row `target`, keys 0..target-1, per layer,
 * renormalized to sum 1 over those keys: the BOS column (removed by engine.run) and the target's
 * attention to itself often hold most of the mass, which would otherwise make every row's scale
 * depend on how much of it they took.
 */
export function attentionRows(att: Float32Array, L: number, H: number, T: number, target: number): number[][] {
  const out: number[][] = [];
  for (let l = 0; l < L; l++) {
    const row = new Array<number>(target).fill(0);
    for (let h = 0; h < H; h++) {
      const b = ((l * H + h) * T + target) * T;
      for (let j = 0; j < target; j++) row[j] += att[b + j] / H;
    }
    const sum = row.reduce((a, x) => a + x, 0);
    if (sum > 0) for (let j = 0; j < target; j++) row[j] /= sum;
    out.push(row);
  }
  return out;
}

/** Each state centered and scaled to unit variance over its D coordinates (a constant state stays 0). */
export function standardizeStates(states: Float64Array[]): Float64Array[] {
  return states.map((s) => {
    const D = s.length;
    let m = 0;
    for (const x of s) m += x / D;
    let v = 0;
    for (const x of s) v += (x - m) ** 2 / D;
    const inv = v > 0 ? 1 / Math.sqrt(v) : 0;
    return s.map((x) => (x - m) * inv);
  });
}

/** Average ranks (ties share the mean of their ranks), 1-based. */
export function ranks(v: number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman's rho (Pearson correlation of average ranks); null when either side is constant. */
export function spearman(a: number[], b: number[]): number | null {
  if (a.length !== b.length || a.length < 2) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  if (saa === 0 || sbb === 0) return null;
  return sab / Math.sqrt(saa * sbb);
}

/**
 * |top-k(a) and top-k(b)| / k, where top-k takes the k largest strictly positive values (ties
 * broken by the lower index); a side with fewer positive values contributes fewer indices.
 */
export function topKOverlap(a: number[], b: number[], k: number): number {
  if (k <= 0) return 0;
  const top = (v: number[]) =>
    new Set(
      v
        .map((x, i) => [x, i] as const)
        .filter(([x]) => x > 0)
        .sort((p, q) => q[0] - p[0] || p[1] - q[1])
        .slice(0, k)
        .map(([, i]) => i),
    );
  const ta = top(a);
  let n = 0;
  for (const i of top(b)) if (ta.has(i)) n++;
  return n / k;
}

export interface ImportanceInput {
  /** Hidden states of the chosen layer, one row per token of the window (0..T-1). */
  states: Float64Array[];
  target: number;
  /** Attention rows per layer (attentionRows), or null when the pack has no attentions. */
  attention: number[][] | null;
  /** Layer index (into attention) compared with the Lasso. */
  attentionLayer: number;
  /** Lasso alpha; default 0.05 * alpha_max. */
  alpha?: number;
  pathPoints?: number;
  k?: number;
  /** Row-major Gram matrix of `states` (size x size, size > target), when already made. */
  gram?: { data: Float64Array; size: number };
  /** Token ids of the window (for the earlier-copy reference), when known. */
  ids?: number[];
}

export type ImportanceReference = NonNullable<import('../schema').ImportanceResult['reference']>;

/**
 * Chance and reference levels of the agreement: random rankings (expected top-k overlap given how
 * many positive values each side has; the |rho| that 95% of random rankings stay below, normal
 * approximation 1.96 / sqrt(n - 1)), a recency ranking (later tokens first) against |coef|,
 * attention against recency, and whether the Lasso's top token is an earlier copy of the target.
 */
export function importanceReference(att: number[] | null, absCoef: number[], k: number, ids?: number[], target?: number): ImportanceReference {
  const n = absCoef.length;
  const recency = absCoef.map((_, j) => j + 1);
  const positives = (v: number[]) => Math.min(k, v.filter((x) => x > 0).length);
  const chanceTopKOverlap = att && n > 0 && k > 0 ? (positives(att) * positives(absCoef)) / n / k : 0;
  let top = -1;
  absCoef.forEach((x, j) => {
    if (x > 0 && (top < 0 || x > absCoef[top])) top = j;
  });
  const tid = ids && target !== undefined ? ids[target] : undefined;
  const earlierCopies = tid === undefined ? 0 : ids!.slice(0, n).filter((id) => id === tid).length;
  return {
    chanceTopKOverlap,
    chanceSpearman95: n >= 3 ? 1.96 / Math.sqrt(n - 1) : null,
    recency: { spearman: spearman(recency, absCoef), topKOverlap: topKOverlap(recency, absCoef, k) },
    attentionVsRecency: att ? spearman(att, recency) : null,
    earlierCopies,
    lassoTopIsCopy: top < 0 || tid === undefined ? null : ids![top] === tid,
  };
}

export interface ImportanceCore {
  alpha: number;
  alphaMax: number;
  lasso: number[];
  iterations: number;
  path: { alpha: number; coef: number[] }[];
  agreement: { spearman: number | null; topKOverlap: number; k: number };
  reference: ImportanceReference;
}

/** Lasso tolerance for the panel: tight enough that the coefficients are the optimum to ~1e-8. */
const IMPORTANCE_TOL = 1e-10;
const IMPORTANCE_MAX_ITER = 20_000;
/**
 * The path is for display (and the slider's instant preview): 12 alphas from alpha_max down to
 * alpha_max / 100, warm-started, tol 1e-6 (Gram-matrix coordinate descent: cheap). Smaller alphas take thousands of
 * sweeps for coefficients nobody reads off a chart; the exact fit at the chosen alpha is separate.
 */
const PATH_POINTS = 12;
const PATH_EPS = 1e-2;
const PATH_TOL = 1e-6;
const PATH_MAX_ITER = 1000;

export function importanceCore(inp: ImportanceInput): ImportanceCore {
  const { states, target } = inp;
  const D = states[0]?.length ?? 0;
  const X = designFromColumns(states.slice(0, target), D);
  const y = states[target];
  const solver = target > 0 ? new GramLasso(X, y, inp.gram) : null;
  const amax = solver ? solver.alphaMax() : 0;
  const alpha = inp.alpha ?? 0.05 * amax;
  const fit = solver ? solver.fit(alpha, { tol: IMPORTANCE_TOL, maxIter: IMPORTANCE_MAX_ITER }) : null;
  const coef = fit ? Array.from(fit.coef) : [];
  // The path, warm-started, one alpha at a time.
  const path: { alpha: number; coef: number[] }[] = [];
  if (solver) {
    let init: Float64Array | undefined;
    for (const a of logAlphas(amax, inp.pathPoints ?? PATH_POINTS, PATH_EPS)) {
      const f = solver.fit(a, { tol: PATH_TOL, maxIter: PATH_MAX_ITER, init });
      init = f.coef;
      path.push({ alpha: a, coef: Array.from(f.coef) });
    }
  }
  const k = Math.min(inp.k ?? 5, target);
  const att = inp.attention ? inp.attention[inp.attentionLayer] : null;
  const absCoef = coef.map(Math.abs);
  return {
    alpha,
    alphaMax: amax,
    lasso: coef,
    iterations: fit?.iterations ?? 0,
    path,
    agreement: {
      spearman: att ? spearman(att, absCoef) : null,
      topKOverlap: att ? topKOverlap(att, absCoef, k) : 0,
      k,
    },
    reference: importanceReference(att, absCoef, k, inp.ids, target),
  };
}
