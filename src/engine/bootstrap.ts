// Percentile bootstrap of the arrow-of-time asymmetry delta (Papadopoulos et al. 2024), shared by
// a single selection (blocks of its tokens) and the corpus report (documents, or blocks).
import type { DeltaInterval } from './schema';

/** Token counts and nat sums of one resampling unit: a document, or a block of consecutive tokens. */
export interface DeltaUnit {
  tokens: number;
  fwNats: number;
  bwNats: number;
}

/** Fewest units a bootstrap may resample: fewer give an interval that means nothing. */
export const MIN_UNITS = 10;
/** Shortest block of a selection's block bootstrap: surprisal is correlated over a few tokens. */
export const MIN_BLOCK_TOKENS = 8;
export const SELECTION_RESAMPLES = 1000;

/** Deterministic PRNG (mulberry32) so that a report can be reproduced. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function deltaOf(units: readonly DeltaUnit[]): number {
  let n = 0;
  let f = 0;
  let b = 0;
  for (const u of units) {
    n += u.tokens;
    f += u.fwNats;
    b += u.bwNats;
  }
  const Lf = f / n;
  const Lb = b / n;
  return (Lb - Lf) / ((Lb + Lf) / 2);
}

/** Percentile bootstrap 95% interval of delta over units; null with fewer than MIN_UNITS units. */
export function bootstrapDelta(units: readonly DeltaUnit[], resamples: number, seed: number): [number, number] | null {
  if (units.length < MIN_UNITS) return null;
  const r = rng(seed);
  const ds: number[] = [];
  const pick: DeltaUnit[] = new Array(units.length);
  for (let k = 0; k < resamples; k++) {
    for (let i = 0; i < units.length; i++) pick[i] = units[Math.floor(r() * units.length)];
    ds.push(deltaOf(pick));
  }
  ds.sort((a, b) => a - b);
  const q = (p: number) => ds[Math.min(ds.length - 1, Math.max(0, Math.round(p * (ds.length - 1))))];
  return [q(0.025), q(0.975)];
}

/**
 * Block length for a selection of n tokens: sqrt(n) (at least MIN_BLOCK_TOKENS), so that both the
 * number of blocks and their length grow with the text; shorter where that would leave fewer than
 * MIN_UNITS blocks (80-99 tokens); the remainder joins the last block.
 */
export function selectionBlockTokens(n: number): number {
  return Math.max(MIN_BLOCK_TOKENS, Math.min(Math.floor(Math.sqrt(n)), Math.floor(n / MIN_UNITS)));
}

/** Consecutive blocks of blockTokens tokens; the tokens left over join the last block. */
export function blocksOf(fw: ArrayLike<number>, bw: ArrayLike<number>, blockTokens: number): DeltaUnit[] {
  const n = fw.length;
  const count = Math.max(1, Math.floor(n / blockTokens));
  const units: DeltaUnit[] = [];
  for (let k = 0; k < count; k++) {
    const end = k === count - 1 ? n : (k + 1) * blockTokens;
    let f = 0;
    let b = 0;
    for (let i = k * blockTokens; i < end; i++) {
      f += fw[i];
      b += bw[i];
    }
    units.push({ tokens: end - k * blockTokens, fwNats: f, bwNats: b });
  }
  return units;
}

/**
 * The 95% block-bootstrap interval of one selection's delta, or why there is none: fewer than
 * MIN_UNITS blocks of MIN_BLOCK_TOKENS tokens. Seeded, so the same text gives the same interval.
 */
export function selectionDeltaInterval(fw: Float64Array, bw: Float64Array): { interval: DeltaInterval | null; note?: string } {
  const n = fw.length;
  const blockTokens = selectionBlockTokens(n);
  const blocks = Math.floor(n / blockTokens);
  if (blocks < MIN_UNITS) {
    const need = MIN_UNITS * MIN_BLOCK_TOKENS;
    return { interval: null, note: `too short for an interval: ${n} token${n === 1 ? '' : 's'}, at least ${need} are needed (${MIN_UNITS} blocks of ${MIN_BLOCK_TOKENS})` };
  }
  const ci = bootstrapDelta(blocksOf(fw, bw, blockTokens), SELECTION_RESAMPLES, 1);
  if (!ci) return { interval: null, note: 'too short for an interval' };
  return { interval: { lo: ci[0], hi: ci[1], level: 0.95, blocks, blockTokens, resamples: SELECTION_RESAMPLES } };
}
