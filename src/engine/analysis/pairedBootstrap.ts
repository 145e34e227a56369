// Paired percentile bootstrap of a difference of two hit rates measured on the same positions
// (a probe against a baseline), resampling whole units: documents when there are at least
// MIN_UNITS of them, else blocks (the evaluated windows), else no interval. Positions within a
// document are correlated, so resampling positions would give intervals far too narrow.
import { MIN_UNITS, rng } from '../bootstrap';

/** Hits of both sides and the positions they were counted on, in one resampling unit. */
export interface PairedUnit {
  positions: number;
  a: number;
  b: number;
}

export interface PairedInterval {
  lo: number;
  hi: number;
  level: 0.95;
  resamples: number;
  /** What was resampled, and how many. */
  unit: 'documents' | 'windows';
  units: number;
}

export const PAIRED_RESAMPLES = 1000;
export const PAIRED_SEED = 1;

/** 95% interval of (sum a - sum b) / sum positions; null when there are fewer than MIN_UNITS units. */
export function pairedDifference(units: readonly PairedUnit[], unit: PairedInterval['unit'], resamples = PAIRED_RESAMPLES, seed = PAIRED_SEED): PairedInterval | null {
  const used = units.filter((u) => u.positions > 0);
  if (used.length < MIN_UNITS) return null;
  const r = rng(seed);
  const ds = new Float64Array(resamples);
  for (let k = 0; k < resamples; k++) {
    let n = 0;
    let d = 0;
    for (let i = 0; i < used.length; i++) {
      const u = used[Math.floor(r() * used.length)];
      n += u.positions;
      d += u.a - u.b;
    }
    ds[k] = d / n;
  }
  ds.sort();
  const q = (p: number) => ds[Math.min(resamples - 1, Math.max(0, Math.round(p * (resamples - 1))))];
  return { lo: q(0.025), hi: q(0.975), level: 0.95, resamples, unit, units: used.length };
}

/**
 * Units for the bootstrap: the documents when there are at least MIN_UNITS, else the windows (each
 * a block of consecutive tokens), else null (with the reason).
 */
export function chooseUnits<T>(byDocument: T[], byWindow: T[]): { units: T[]; unit: PairedInterval['unit'] } | { units: null; why: string } {
  if (byDocument.length >= MIN_UNITS) return { units: byDocument, unit: 'documents' };
  if (byWindow.length >= MIN_UNITS) return { units: byWindow, unit: 'windows' };
  return { units: null, why: `no interval: ${byDocument.length} document(s) and ${byWindow.length} window(s), at least ${MIN_UNITS} of one are needed` };
}
