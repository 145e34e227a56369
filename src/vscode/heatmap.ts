// Which color bucket each token falls in, for each heatmap measure. Pure (no 'vscode'), so that
// decorations are built in one O(n) pass with a handful of decoration types, and unit-tested.
import type { ProbeToken } from '../engine/schema';

export type Measure = 'forward' | 'backward' | 'difference' | 'rank' | 'off';
export const MEASURES: readonly Measure[] = ['forward', 'backward', 'difference', 'rank', 'off'];

export interface BucketDef {
  /** Contributed color id (package.json contributes.colors). */
  color: string;
  label: string;
}

/** Surprisal buckets (bits); the thresholds are the lmProbe.heatmap.thresholdsBits setting. */
export const SURPRISAL_BUCKETS: readonly BucketDef[] = [
  { color: 'lmProbe.surprisal.veryLow', label: 'very low' },
  { color: 'lmProbe.surprisal.low', label: 'low' },
  { color: 'lmProbe.surprisal.mid', label: 'mid' },
  { color: 'lmProbe.surprisal.high', label: 'high' },
  { color: 'lmProbe.surprisal.veryHigh', label: 'very high' },
];

/** backward minus forward surprisal; |d| under 1 bit is left uncolored. */
export const DIFFERENCE_BUCKETS: readonly BucketDef[] = [
  { color: 'lmProbe.difference.backwardEasierStrong', label: 'backward easier, > 3 bits' },
  { color: 'lmProbe.difference.backwardEasier', label: 'backward easier, 1-3 bits' },
  { color: 'lmProbe.difference.forwardEasier', label: 'forward easier, 1-3 bits' },
  { color: 'lmProbe.difference.forwardEasierStrong', label: 'forward easier, > 3 bits' },
];

/** GLTR (Gehrmann et al. 2019): rank of the actual token under the forward model. */
export const RANK_BUCKETS: readonly BucketDef[] = [
  { color: 'lmProbe.rank.top10', label: 'top 10' },
  { color: 'lmProbe.rank.top100', label: 'top 100' },
  { color: 'lmProbe.rank.top1000', label: 'top 1000' },
  { color: 'lmProbe.rank.rest', label: 'rest' },
];

export const DEFAULT_THRESHOLDS_BITS = [2, 6, 10, 14] as const;

export function bucketsOf(measure: Measure): readonly BucketDef[] {
  switch (measure) {
    case 'forward':
    case 'backward':
      return SURPRISAL_BUCKETS;
    case 'difference':
      return DIFFERENCE_BUCKETS;
    case 'rank':
      return RANK_BUCKETS;
    case 'off':
      return [];
  }
}

/** Bucket index of a token under a measure, or -1 for no color (or no data in that direction). */
export function bucketOf(t: ProbeToken, measure: Measure, thresholds: readonly number[] = DEFAULT_THRESHOLDS_BITS): number {
  switch (measure) {
    case 'forward':
      return surprisalBucket(t.forward.surprisalBits, thresholds);
    case 'backward':
      return t.backward ? surprisalBucket(t.backward.surprisalBits, thresholds) : -1;
    case 'difference':
      return t.backward ? differenceBucket(t.backward.surprisalBits - t.forward.surprisalBits) : -1;
    case 'rank': {
      const r = t.forward.rank;
      return r <= 10 ? 0 : r <= 100 ? 1 : r <= 1000 ? 2 : 3;
    }
    case 'off':
      return -1;
  }
}

/** Bucket of a backward-minus-forward difference in bits: |d| under 1 bit gets none. */
export function differenceBucket(d: number): number {
  if (d <= -3) return 0;
  if (d <= -1) return 1;
  if (d >= 3) return 3;
  if (d >= 1) return 2;
  return -1;
}

export function surprisalBucket(bits: number, thresholds: readonly number[]): number {
  let b = 0;
  while (b < thresholds.length && bits >= thresholds[b]) b++;
  return b;
}

/** Groups token indices by bucket in one pass: groups[b] lists the tokens of bucket b. */
export function groupByBucket(tokens: readonly ProbeToken[], measure: Measure, thresholds?: readonly number[]): number[][] {
  const groups: number[][] = bucketsOf(measure).map(() => []);
  if (!groups.length) return groups;
  for (let i = 0; i < tokens.length; i++) {
    const b = bucketOf(tokens[i], measure, thresholds);
    if (b >= 0) groups[b].push(i);
  }
  return groups;
}

/** Indices of the `count` most surprising tokens (forward, or the larger of both directions). */
export function mostSurprising(tokens: readonly ProbeToken[], count: number): number[] {
  const score = (t: ProbeToken) => Math.max(t.forward.surprisalBits, t.backward?.surprisalBits ?? -Infinity);
  const idx = tokens.map((_, i) => i);
  idx.sort((a, b) => score(tokens[b]) - score(tokens[a]) || a - b);
  return idx.slice(0, Math.max(0, count));
}

/** How many tokens get an overview-ruler mark: 2% of them, at least 1, at most 200. */
export function rulerMarkCount(n: number): number {
  return n === 0 ? 0 : Math.min(200, Math.max(1, Math.ceil(n * 0.02)));
}

/** How the surprisal thresholds are chosen: fixed bits (the setting), or quantiles of the text. */
export type ThresholdMode = 'fixed' | 'quantiles';
/** The shares of tokens under each threshold in 'quantiles' mode: half the tokens uncolored, the top 2.5% darkest. */
export const THRESHOLD_QUANTILES = [0.5, 0.75, 0.9, 0.975] as const;

/**
 * The q-quantiles of `values` (linear interpolation between order statistics, as numpy's default),
 * strictly increasing so that every bucket stays reachable; null when there are no values.
 */
export function quantileThresholds(values: ArrayLike<number>, qs: readonly number[] = THRESHOLD_QUANTILES): number[] | null {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const at = (q: number) => {
    const x = q * (v.length - 1);
    const i = Math.floor(x);
    return i + 1 < v.length ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[i];
  };
  const out: number[] = [];
  for (const q of qs) {
    const t = at(q);
    // ties (many equal values): nudge up so that thresholds stay ascending
    out.push(out.length && t <= out[out.length - 1] ? out[out.length - 1] + 1e-6 : t);
  }
  return out;
}

/** The thresholds the heatmap and the panel use for a measure: fixed bits, or the text's quantiles. */
export function thresholdsFor(mode: ThresholdMode, fixed: readonly number[], tokens: readonly ProbeToken[], measure: Measure): number[] {
  if (mode !== 'quantiles' || (measure !== 'forward' && measure !== 'backward')) return [...fixed];
  const vals = tokens.flatMap((t) => (measure === 'forward' ? [t.forward.surprisalBits] : t.backward ? [t.backward.surprisalBits] : []));
  return quantileThresholds(vals) ?? [...fixed];
}

/**
 * The part of a token's [start, end) to color: without leading and trailing whitespace, so that
 * indentation and line breaks get no colored bars; null for a token that is only whitespace.
 */
export function inkRange(text: string, start: number, end: number): [number, number] | null {
  let a = start, b = end;
  while (a < b && /\s/.test(text[a])) a++;
  while (b > a && /\s/.test(text[b - 1])) b--;
  return a < b ? [a, b] : null;
}
