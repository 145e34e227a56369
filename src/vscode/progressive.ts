// Progressive probes: the probe request returns surprisal (the editor and the panel show it at
// once), then a second request computes the analyses for the same text. Its answer may come back
// after the user probed something else, cleared the annotations or asked for other analysis
// options: it is merged into the cached result only when that result is still the one it was
// asked for. No 'vscode' import, so that the rule is unit-tested.
import type { ProbeOptions } from '../engine/api';
import type { Analyses, ProbeResult } from '../engine/schema';

/** What an analyses request was started for. */
export interface AnalysesTicket {
  /** The probe's sequence number in the store when the request started. */
  seq: number;
  /** The cached result the analyses belong to (text and tokens). */
  result: ProbeResult;
  /** Which analyses request of that probe this is (a later one, with other options, wins). */
  request: number;
}

/** The cached probe of the document now (undefined when it was cleared or its document closed). */
export interface CachedProbe {
  seq: number;
  result: ProbeResult;
  /** The newest analyses request started for this probe. */
  analysesRequest: number;
}

/** Why analyses were dropped, or null when they may be merged. */
export function staleReason(current: CachedProbe | undefined, ticket: AnalysesTicket): string | null {
  if (!current) return 'the probe was cleared';
  if (current.seq !== ticket.seq) return 'a newer probe replaced it';
  if (current.result.text !== ticket.result.text || current.result.tokens.length !== ticket.result.tokens.length) return 'the probed text differs';
  if (current.analysesRequest !== ticket.request) return 'newer analysis options were asked for';
  return null;
}

/**
 * The cached result with `analyses` in it, or null when the answer is stale (drop it). The
 * result is a new object: the old one may still be on its way to the panel.
 */
export function mergeAnalyses(current: CachedProbe | undefined, ticket: AnalysesTicket, analyses: Analyses): ProbeResult | null {
  if (staleReason(current, ticket) !== null) return null;
  const window = analyses.window;
  if (window && (window.start < 0 || window.end > current!.result.tokens.length || window.start > window.end)) return null;
  return { ...current!.result, analyses };
}

/** The cached result without analyses (the analyses are on their way, or were turned off). */
export function withoutAnalyses(r: ProbeResult): ProbeResult {
  if (r.analyses === undefined) return r;
  const copy = { ...r };
  delete copy.analyses;
  return copy;
}

/** True when these options ask for at least one analysis. */
export function wantsAnalyses(a: { futureLens?: unknown; importance?: unknown; geometry?: unknown } | undefined): boolean {
  return !!a && !!(a.futureLens || a.importance || a.geometry);
}

/**
 * The analysis options to keep when the model pack changes: which analyses stay on, but not what
 * belonged to the old pack (an importance layer or block it may not have, an alpha on the scale of
 * its states, target and probe file fitted to it): the new pack's defaults instead.
 */
export function analysesForNewPack(a: ProbeOptions['analyses']): ProbeOptions['analyses'] {
  if (!a) return a;
  return {
    ...a,
    ...(a.futureLens ? { futureLens: true } : {}),
    ...(a.importance ? { importance: {} } : {}),
  };
}
