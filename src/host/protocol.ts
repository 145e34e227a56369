// Messages between the extension (parent) and the engine host (child process, dist/engineHost.js).
// Plain JSON over Node's IPC channel. Every request carries an id; the child answers it exactly
// once with a response. Progress notifications and cancellation refer to that id.
import type { ProbeOptions } from '../engine/api';
import type { Analyses, PackInfo, ProbeResult } from '../engine/schema';

/** ProbeOptions without the parts that cannot cross a process boundary. */
export type WireProbeOptions = Omit<ProbeOptions, 'signal' | 'onProgress' | 'onScores'>;

export interface OpenParams {
  /** Absolute model pack folder; undefined = the engine's default pack. */
  packDir?: string;
  /** Execution providers in order of preference. */
  providers?: string[];
}

export interface OpenResult {
  pack: PackInfo;
  provider: string;
  /** Providers that failed to start before `provider`, with why (reported once per open). */
  fallbacks: { provider: string; error: string }[];
  loadMs: number;
  /**
   * The pack's longest token in UTF-8 bytes: a text of n bytes has at least n / maxTokenBytes
   * tokens, so the extension refuses a selection past lmProbe.maxTokens without sending it.
   */
  maxTokenBytes: number;
}

export interface ProbeParams extends OpenParams {
  text: string;
  options: WireProbeOptions;
}

/**
 * The analyses of a text that was just probed (same text, topK and maxTokens). The child reuses
 * the ProbeResult of its last probe when it matches, so surprisal is not computed twice; otherwise
 * (the child restarted in between) it probes the text again. `options.analyses` must ask for one.
 */
export type AnalysesParams = ProbeParams;

/** Method name -> params and result types. */
export interface Methods {
  open: { params: OpenParams; result: OpenResult };
  probe: { params: ProbeParams; result: ProbeResult };
  analyses: { params: AnalysesParams; result: Analyses };
  /** Answers with the child's pid and memory; used by tests and the status bar tooltip. */
  ping: { params: Record<string, never>; result: { pid: number; rssBytes: number } };
}
export type Method = keyof Methods;

export interface RequestMessage<M extends Method = Method> {
  type: 'request';
  id: number;
  method: M;
  params: Methods[M]['params'];
}

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export interface WireError {
  /** ProbeError codes of the engine ('EMPTY_TEXT', 'BAD_PACK', 'TOO_MANY_TOKENS', 'CANCELLED', ...) or 'INTERNAL'. */
  code: string;
  message: string;
}

export type ResponseMessage<M extends Method = Method> =
  | { type: 'response'; id: number; ok: true; result: Methods[M]['result'] }
  | { type: 'response'; id: number; ok: false; error: WireError };

/**
 * What a request is doing: stage 'loading' (opening the model, done = total = 0), 'tokenizing'
 * (done = total = characters), then 'forward' and 'backward' (done and total count windows over
 * both directions).
 */
export interface ProgressMessage {
  type: 'progress';
  id: number;
  done: number;
  total: number;
  stage: string;
}

/**
 * A probe's scores of a run of tokens as soon as their windows are scored (what the heatmap needs,
 * no alternatives: those come with the result), so that a long text is painted as it is probed.
 */
export interface PartialMessage {
  type: 'partial';
  id: number;
  direction: 'forward' | 'backward';
  /** Index of the run's first token, and the text's token count. */
  first: number;
  tokenCount: number;
  /** Flat [start0, end0, start1, end1, ...] UTF-16 offsets into the probed text. */
  offsets: number[];
  bits: number[];
  ranks: number[];
}

/** Sent once when the child is ready to take requests. */
export interface ReadyMessage {
  type: 'ready';
  pid: number;
}

/** Diagnostic lines (provider fallbacks, warnings) for the output channel. */
export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

export type ParentToChild = RequestMessage | CancelMessage;
export type ChildToParent = ResponseMessage | ProgressMessage | PartialMessage | ReadyMessage | LogMessage;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}
const METHODS: readonly string[] = ['open', 'probe', 'analyses', 'ping'] satisfies Method[];

/** Validates what arrives from the other side of the pipe; anything else is dropped. */
export function isParentToChild(x: unknown): x is ParentToChild {
  if (!isObj(x) || typeof x.id !== 'number' || !Number.isInteger(x.id)) return false;
  if (x.type === 'cancel') return true;
  return x.type === 'request' && typeof x.method === 'string' && METHODS.includes(x.method) && isObj(x.params);
}

export function isChildToParent(x: unknown): x is ChildToParent {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'response':
      return typeof x.id === 'number' && (x.ok === true ? 'result' in x : x.ok === false && isObj(x.error));
    case 'progress':
      return typeof x.id === 'number' && typeof x.done === 'number' && typeof x.total === 'number';
    case 'partial':
      return typeof x.id === 'number' && typeof x.first === 'number' && Array.isArray(x.bits) && Array.isArray(x.ranks) && Array.isArray(x.offsets);
    case 'ready':
      return typeof x.pid === 'number';
    case 'log':
      return typeof x.message === 'string';
    default:
      return false;
  }
}

/** Turns anything thrown in the child into a WireError; keeps the engine's ProbeError code. */
export function toWireError(e: unknown): WireError {
  if (isObj(e)) {
    const code = typeof e.code === 'string' ? e.code : e.name === 'AbortError' ? 'CANCELLED' : 'INTERNAL';
    const message = typeof e.message === 'string' ? e.message : String(e);
    return { code, message };
  }
  return { code: 'INTERNAL', message: String(e) };
}

/** An error on the parent side, carrying the code from the child (or HOST_CRASHED / HOST_STOPPED). */
export class HostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
  get cancelled(): boolean {
    return this.code === 'CANCELLED';
  }
}
