// What the panel's per-token chart plots, as data (pure: no DOM, no 'vscode'; tests read it).
// Thousands of tokens in a 250 px wide plot are a solid block of ink, so a range wider than the
// plot has pixels for is cut into buckets of consecutive points, each drawn as its mean with a
// band from its first to its third quartile (min/max would span 0 to 20 bits in every bucket of a
// long text and say nothing). A bucket's most surprising token is kept, for the tooltip and a click.
import type { ProbeToken } from '../../engine/schema';

/** One point of a series: x on the chart (token index or line number), y in bits, the token it names. */
export interface SeriesPoint {
  x: number;
  y: number;
  /** The token a click reveals (for a line: its most surprising token). */
  i: number;
}

export interface Bucket {
  /** First and last x of the bucket (inclusive), and its middle (where it is drawn). */
  x0: number;
  x1: number;
  x: number;
  /** Number of points in it. */
  n: number;
  mean: number;
  q1: number;
  q3: number;
  max: number;
  /** The token of the bucket's largest value. */
  maxAt: number;
}

/** Fewest tokens for which a per-token chart shows more than a dot or two. */
export const MIN_CHART_TOKENS = 5;

/**
 * Buckets of consecutive points whose x lies in [lo, hi], at most `buckets` of them, of equal
 * point counts. Fewer points than buckets: one point per bucket (then q1 = q3 = mean = the value).
 */
export function envelope(points: readonly SeriesPoint[], lo: number, hi: number, buckets: number): Bucket[] {
  const inRange = points.filter((p) => p.x >= lo && p.x <= hi);
  const n = inRange.length;
  const count = Math.max(1, Math.min(n, Math.floor(buckets)));
  const out: Bucket[] = [];
  for (let k = 0; k < count && n > 0; k++) {
    const a = Math.floor((k * n) / count);
    const b = Math.floor(((k + 1) * n) / count);
    const part = inRange.slice(a, b);
    const ys = part.map((p) => p.y).sort((u, v) => u - v);
    let sum = 0;
    let best = part[0];
    for (const p of part) {
      sum += p.y;
      if (p.y > best.y) best = p;
    }
    const x0 = part[0].x;
    const x1 = part[part.length - 1].x;
    out.push({ x0, x1, x: (x0 + x1) / 2, n: part.length, mean: sum / part.length, q1: quantile(ys, 0.25), q3: quantile(ys, 0.75), max: best.y, maxAt: best.i });
  }
  return out;
}

/** Linear-interpolated quantile of ascending values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export type Direction = 'forward' | 'backward';

/** Per-token surprisal in bits of one direction (none for a direction the model lacks). */
export function tokenSeries(tokens: readonly ProbeToken[], dir: Direction): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const s = dir === 'forward' ? tokens[i].forward : tokens[i].backward;
    if (s) out.push({ x: i, y: s.surprisalBits, i });
  }
  return out;
}

/**
 * Mean surprisal (bits per token) of each source line the tokens touch; x is the 1-based line
 * number in the file (`firstLine` is the line of the text's first character). A token belongs to
 * the line its first character is on.
 */
export function lineSeries(text: string, tokens: readonly ProbeToken[], dir: Direction, firstLine: number): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  let line = firstLine;
  let scanned = 0;
  let cur: { x: number; sum: number; n: number; best: number; bestY: number } | null = null;
  const flush = () => {
    if (cur) out.push({ x: cur.x, y: cur.sum / cur.n, i: cur.best });
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const s = dir === 'forward' ? t.forward : t.backward;
    for (; scanned < t.start && scanned < text.length; scanned++) if (text.charCodeAt(scanned) === 10) line++;
    if (!s) continue;
    if (!cur || cur.x !== line) {
      flush();
      cur = { x: line, sum: 0, n: 0, best: i, bestY: -Infinity };
    }
    cur.sum += s.surprisalBits;
    cur.n++;
    if (s.surprisalBits > cur.bestY) {
      cur.bestY = s.surprisalBits;
      cur.best = i;
    }
  }
  flush();
  return out;
}

/** A [lo, hi] view of [min, max] zoomed by `factor` (< 1 in, > 1 out) around `center`, kept inside. */
export function zoomRange(range: readonly [number, number], bounds: readonly [number, number], factor: number, center = (range[0] + range[1]) / 2): [number, number] {
  const [min, max] = bounds;
  const width = Math.min(max - min, Math.max(4, (range[1] - range[0]) * factor));
  let lo = center - width / 2;
  lo = Math.max(min, Math.min(lo, max - width));
  return [Math.round(lo), Math.round(lo + width)];
}

/** The view shifted by `share` of its width (negative: left), kept inside the bounds. */
export function panRange(range: readonly [number, number], bounds: readonly [number, number], share: number): [number, number] {
  const width = range[1] - range[0];
  const lo = Math.max(bounds[0], Math.min(bounds[1] - width, range[0] + Math.round(width * share)));
  return [lo, lo + width];
}
