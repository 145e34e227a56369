// Per-token statistics from logits, and the windows that score texts longer than the context.
import type { Alternative, TokenScore } from './schema';

export interface Window {
  /** First token of the window (index into the sequence). */
  start: number;
  /** Tokens in the window: the graph reads BOS + the first length-1 of them. */
  length: number;
  /** Tokens [scoreFrom, scoreTo) are scored from this window. */
  scoreFrom: number;
  scoreTo: number;
}

/**
 * Overlapping windows over a sequence of n tokens, each at most w tokens (w = contextLength - 1:
 * BOS takes one position).
 *
 * A token should be scored with as much history as possible, but at least half a window. With
 * h = ceil(w/2) and stride s = w - h: window 0 covers [0, w) and scores all of it (those first
 * tokens have all the history there is). Window k >= 1 covers [k*s, k*s + w) and scores only its
 * last s tokens [k*s + h, k*s + w), each of which has >= h tokens of history inside the window.
 * The last window is moved back to end exactly at n (it covers [n - w, n)); it scores from where
 * the previous one stopped, which is still >= h tokens into it. So every window has the full
 * length w (one batch shape), every token is scored exactly once, and every token past the first
 * w has between h and w - 1 tokens of history.
 *
 * The same plan serves the backward direction on the reversed sequence, where history means the
 * tokens that follow.
 */
export function planWindows(n: number, w: number): Window[] {
  if (n <= 0) return [];
  if (w < 1) throw new Error('window length must be >= 1');
  if (n <= w) return [{ start: 0, length: n, scoreFrom: 0, scoreTo: n }];
  const h = Math.min(Math.ceil(w / 2), w - 1); // w = 1 (contextLength 2) leaves no room for history
  const s = w - h;
  const out: Window[] = [{ start: 0, length: w, scoreFrom: 0, scoreTo: w }];
  let scored = w;
  for (let k = 1; scored < n; k++) {
    let start = k * s;
    if (start + w >= n) start = n - w;
    const scoreTo = Math.min(n, start + w);
    out.push({ start, length: w, scoreFrom: scored, scoreTo });
    scored = scoreTo;
  }
  return out;
}

export interface RowStats {
  score: TokenScore;
  /** -ln p(actual), nats (float64). */
  nats: number;
}

/**
 * Statistics of one predictive distribution given as logits[off .. off+V), in float64:
 * log-softmax, surprisal of `actual`, 1-based rank (1 + number of strictly larger logits),
 * entropy, and the top-k alternatives by partial selection.
 */
export function rowStats(
  logits: Float32Array,
  off: number,
  V: number,
  actual: number,
  topK: number,
  tokenText: (id: number) => string,
): RowStats {
  let max = -Infinity;
  for (let j = 0; j < V; j++) {
    const x = logits[off + j];
    if (x > max) max = x;
  }
  let sum = 0;
  let weighted = 0;
  const a = logits[off + actual];
  let greater = 0;
  // top-k kept as a small array sorted by descending logit
  const topIds: number[] = [];
  const topVals: number[] = [];
  for (let j = 0; j < V; j++) {
    const x = logits[off + j];
    if (x > a) greater++;
    if (x === -Infinity) continue;
    const e = Math.exp(x - max);
    sum += e;
    weighted += e * (x - max);
    if (topK > 0 && (topIds.length < topK || x > topVals[topVals.length - 1])) {
      let i = topIds.length < topK ? topIds.length : topK - 1;
      while (i > 0 && topVals[i - 1] < x) {
        topVals[i] = topVals[i - 1];
        topIds[i] = topIds[i - 1];
        i--;
      }
      topVals[i] = x;
      topIds[i] = j;
    }
  }
  const logZ = max + Math.log(sum); // log of the normalizer
  const logp = a - logZ;
  // H = -sum p ln p = logZ - E[x] = ln(sum) - E[x - max]
  const entropyNats = Math.log(sum) - weighted / sum;
  const top: Alternative[] = topIds.map((id, i) => ({ id, text: tokenText(id), prob: Math.exp(topVals[i] - logZ) }));
  return {
    nats: -logp,
    score: {
      surprisalBits: -logp / Math.LN2,
      rank: 1 + greater,
      entropyBits: Math.max(0, entropyNats) / Math.LN2,
      top,
    },
  };
}
