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
    case 'difference': {
      if (!t.backward) return -1;
      const d = t.backward.surprisalBits - t.forward.surprisalBits;
      if (d <= -3) return 0;
      if (d <= -1) return 1;
      if (d >= 3) return 3;
      if (d >= 1) return 2;
      return -1;
    }
    case 'rank': {
      const r = t.forward.rank;
      return r <= 10 ? 0 : r <= 100 ? 1 : r <= 1000 ? 2 : 3;
    }
    case 'off':
      return -1;
  }
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
