// Models without a backward twin (a Hugging Face folder probed on its own, a pack without
// "backward"): every surface says so in the same words, and the measures that need the backward
// model fall back to forward surprisal. Pure (no 'vscode'): the panel's webview imports it too.
import type { ProbeResult } from '../engine/schema';
import type { Measure } from './heatmap';

/** The one sentence shown in hovers, the status bar, the panel and messages. */
export const FORWARD_ONLY = 'forward only: this model has no backward twin';
/** What that means for the numbers. */
export const FORWARD_ONLY_DETAIL = 'no backward surprisal, no forward/backward difference and no asymmetry Δ';

/** True when the result has backward scores (summary.backward is null for a forward-only model). */
export function hasBackward(r: Pick<ProbeResult, 'tokens'> & { summary?: Pick<ProbeResult['summary'], 'backward'> }): boolean {
  if (r.summary) return r.summary.backward !== null;
  return r.tokens.some((t) => t.backward !== null);
}

/** Measures that need the backward model. */
export function needsBackward(m: Measure): boolean {
  return m === 'backward' || m === 'difference';
}

/** The measure the heatmap draws: backward and difference fall back to forward without a backward model. */
export function effectiveMeasure(m: Measure, backward: boolean): Measure {
  return !backward && needsBackward(m) ? 'forward' : m;
}

/** Why the heatmap shows forward surprisal instead of `m`, or null when it shows `m`. */
export function measureFallbackNote(m: Measure, backward: boolean): string | null {
  if (backward || !needsBackward(m)) return null;
  const what = m === 'backward' ? 'Backward surprisal' : 'The difference (backward − forward)';
  return `${what} is unavailable (${FORWARD_ONLY}): the heatmap shows forward surprisal instead.`;
}
