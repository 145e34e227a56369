// The analyses that read only the window's hidden states (and the target's attention rows): token
// importance with its Lasso path and information gain, and the geometry. Plain JavaScript on plain
// data, no ONNX Runtime and no engine: stateThread.ts runs them in a worker thread while the main
// thread decodes the future-token probes, and falls back to calling runStateJob here.
import type { GeometryResult, ImportanceResult } from '../schema';
import { matrixEntropy } from './geometry';
import { importanceCore, standardizeStates } from './importance';
import { informationGainOfUnitRows } from './infoGain';
import { gramOfRows, rowsOf } from './linalg';

/** Ridge lambda of the information gain, on unit-norm states. */
export const INFO_GAIN_LAMBDA = 1e-2;

export interface StateJob {
  /** Hidden states [L + 1, T, D] of the analysed window (layer 0 = embeddings). */
  hidden: Float32Array;
  dims: { T: number; L: number; D: number };
  /** The window's place in the selection, and the selection's token count. */
  window: { start: number; end: number };
  tokenCount: number;
  /** Importance with its checked parameters, or null when not asked for. */
  importance: {
    target: number;
    layer: number;
    attentionLayer: number;
    alpha?: number;
    standardize?: boolean;
    /** attentionRows() of the target, per block, or null when the pack has no attentions. */
    attention: number[][] | null;
    /** Token ids of the window. */
    ids: number[];
  } | null;
  geometry: boolean;
  /** Hidden states [L + 1, Tref, D] of the reference text's first Tref tokens, for the geometry's reference values. */
  reference?: { hidden: Float32Array; T: number; text: string } | null;
}

export interface StateResult {
  importance?: ImportanceResult;
  geometry?: GeometryResult;
  /** Milliseconds each took where it ran. */
  ms: { importance?: number; geometry?: number };
}

export function runStateJob(job: StateJob): StateResult {
  const out: StateResult = { ms: {} };
  if (job.importance) {
    const t = performance.now();
    out.importance = importanceOf(job, job.importance);
    out.ms.importance = performance.now() - t;
  }
  if (job.geometry) {
    const t = performance.now();
    out.geometry = geometryOf(job);
    out.ms.geometry = performance.now() - t;
  }
  return out;
}

function layerRows(job: StateJob, layer: number): Float64Array[] {
  const { T, D } = job.dims;
  return rowsOf(job.hidden, D, layer * T, T);
}

function importanceOf(job: StateJob, o: NonNullable<StateJob['importance']>): ImportanceResult {
  const { T } = job.dims;
  const { start } = job.window;
  const t = o.target - start;
  const raw = layerRows(job, o.layer);
  // One Gram matrix of the window's states serves the Lasso (its first t + 1 rows and columns) and
  // the information gain (scaled to unit rows); standardized states need one of their own.
  const gram = gramOfRows(raw, true);
  const states = o.standardize ? standardizeStates(raw) : raw;
  const lassoGram = o.standardize ? gramOfRows(states, true) : gram;
  const core = importanceCore({ states, target: t, attention: o.attention, attentionLayer: o.attentionLayer, alpha: o.alpha, gram: { data: lassoGram, size: T }, ids: o.ids });
  const pad = <V>(local: V[], len: number): (V | null)[] => {
    const a: (V | null)[] = new Array(len).fill(null);
    local.forEach((v, j) => (a[start + j] = v));
    return a;
  };
  const gain = informationGainOfUnitRows(gram, T, INFO_GAIN_LAMBDA);
  return {
    target: o.target,
    layer: o.layer,
    attentionLayer: o.attentionLayer,
    alpha: core.alpha,
    alphaMax: core.alphaMax,
    attention: o.attention ? o.attention.map((row) => pad(row, o.target)) : [],
    lasso: pad(core.lasso, o.target),
    path: core.path,
    agreement: core.agreement,
    reference: core.reference,
    standardized: !!o.standardize,
    attentionRenormalized: true,
    informationGainNats: pad(gain.gainNats, job.tokenCount),
    informationGainLambda: INFO_GAIN_LAMBDA,
  };
}

function geometryOf(job: StateJob): GeometryResult {
  const { T, L, D } = job.dims;
  const entropyNats: number[] = [];
  const normalized: number[] = [];
  let tokens = 0;
  for (let l = 0; l <= L; l++) {
    const r = matrixEntropy(layerRows(job, l));
    entropyNats.push(r.entropyNats);
    normalized.push(r.normalized);
    tokens = r.rows;
  }
  const out: GeometryResult = { entropyNats, normalized, width: D, tokens };
  // The causal model's states of a prefix do not depend on what follows, so the reference text's
  // first T states are those of a reference of exactly T tokens.
  const ref = job.reference;
  if (ref && ref.T >= T && T >= 2) {
    const rows = (l: number) => rowsOf(ref.hidden, D, l * ref.T, T);
    out.reference = { normalized: Array.from({ length: L + 1 }, (_, l) => matrixEntropy(rows(l)).normalized), tokens: T, text: ref.text };
  }
  return out;
}
