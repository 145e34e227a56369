// The greedy-rollout baseline of the future-token probes: the model's own guess for token t+1 is
// fed back as if it had been read, and its top-1 after that is the guess for t+2, and so on. A
// probe that reads t+k off the state at t beats this only if the state holds more about t+k than
// the model's own next-token continuation does. k = 1 is the model's next-token guess itself.
// Each step is one more forward pass per position (no key/value cache in the graph contract), so
// callers sample the positions.
import type { AnalysisEngine } from './host';

export function argmaxRow(logits: Float32Array, V: number, row: number): number {
  const b = row * V;
  let best = 0;
  for (let v = 1; v < V; v++) if (logits[b + v] > logits[b + best]) best = v;
  return best;
}

/**
 * Guesses for t+1 .. t+K given `context` (the tokens up to and including t, as the probe saw them)
 * and the model's top-1 for t+1 from the pass already made. Contexts longer than W - (K - 1) lose
 * their first tokens so that the fed-back guesses fit one window.
 */
export async function greedyRollout(engine: Pick<AnalysisEngine, 'run'>, context: number[], firstGuess: number, K: number, W: number, V: number): Promise<number[]> {
  const guesses = [firstGuess];
  let seq = context.slice(Math.max(0, context.length - (W - (K - 1))));
  for (let step = 2; step <= K; step++) {
    seq = [...seq, guesses[guesses.length - 1]];
    const out = await engine.run('forward', seq);
    guesses.push(argmaxRow(out.logits, V, seq.length - 1));
  }
  return guesses;
}

/** Positions t = 0, every, 2 every, ... of a window of T tokens (every >= 1), at most `max`, spread evenly. */
export function rolloutPositions(T: number, max: number): number[] {
  if (T <= 0 || max <= 0) return [];
  if (T <= max) return Array.from({ length: T }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor(((i + 0.5) * T) / max));
}
