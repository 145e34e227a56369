// The one result shape of LM Probe. The CLI prints it with --json, the engine host sends it,
// hovers and decorations read it and the panel draws it. Keep it plain JSON (no typed arrays,
// no Maps) so that it survives postMessage, process IPC and JSON.stringify unchanged.
//
// Units: every field named ...Bits is in bits (log base 2); every field named ...Nats in nats.
// Offsets: start/end are UTF-16 code-unit offsets into ProbeResult.text (end exclusive), so an
// editor range is document.positionAt(selectionStart + token.start). A token that carries only
// part of a character's UTF-8 bytes gets that whole character's range; tokens never overlap
// except in that case, and together they cover every character of the text.

export const PROBE_RESULT_VERSION = 1;

export type Direction = 'forward' | 'backward';

export interface Alternative {
  id: number;
  /** Decoded text of the alternative token (may be a partial UTF-8 sequence shown as U+FFFD). */
  text: string;
  prob: number;
}

export interface TokenScore {
  /** -log2 p(actual token | context in this direction). */
  surprisalBits: number;
  /** 1-based rank of the actual token in the predictive distribution (1 = the model's top guess). */
  rank: number;
  /** Entropy of the predictive distribution, in bits. */
  entropyBits: number;
  /** Top-k alternatives, most probable first. */
  top: Alternative[];
}

export interface ProbeToken {
  index: number;
  id: number;
  /** The characters of the probed text that this token covers: text.slice(start, end). */
  text: string;
  start: number;
  end: number;
  forward: TokenScore;
  /** Null when the pack has no backward model. */
  backward: TokenScore | null;
}

export interface DirectionSummary {
  /** Mean -ln p over the selection's tokens (log-perplexity in nats). */
  meanNats: number;
  /** Sum of surprisal over the selection's tokens, in bits. */
  totalBits: number;
}

export interface ProbeSummary {
  tokenCount: number;
  forward: DirectionSummary;
  backward: DirectionSummary | null;
  /** (L_bw - L_fw) / ((L_bw + L_fw) / 2), Papadopoulos et al. 2024; null without a backward model. */
  delta: number | null;
  /**
   * 95% percentile bootstrap interval of delta over consecutive blocks of this text's tokens
   * (src/engine/bootstrap.ts); null without a backward model or when the text is too short
   * (deltaIntervalNote says why).
   */
  deltaInterval?: DeltaInterval | null;
  deltaIntervalNote?: string;
}

export interface DeltaInterval {
  lo: number;
  hi: number;
  level: 0.95;
  blocks: number;
  blockTokens: number;
  resamples: number;
}

export interface RuntimeInfo {
  /** Execution provider that actually ran the models ('cpu', 'webgpu', 'cuda', ...). */
  provider: string;
  /** Providers that were tried before it and failed, with the reason, in order. */
  fallbacks: { provider: string; error: string }[];
  /**
   * How a non-CPU provider that started was kept or not: the warm-up's timing of one full window on
   * it and on the CPU, e.g. "webgpu 41 ms vs cpu 120 ms per window: webgpu kept" (absent on the CPU path).
   */
  choice?: string;
  /** Wall time of the whole probe, in milliseconds (model loading excluded when already loaded). */
  ms: number;
  /** Time spent creating ONNX Runtime sessions for this probe (0 when they were reused). */
  loadMs: number;
  /** Number of forward passes (windows) per direction. */
  windows: number;
}

export interface PackInfo {
  name: string;
  dir: string;
  contextLength: number;
  layers: number;
  heads: number;
  width: number;
  vocabSize: number;
  hasBackward: boolean;
  hasProbes: boolean;
}

// ---- Analyses (Future Lens probes, importance, geometry). Filled when requested and available.
// Everything a hover reads per token is indexed like `tokens` (by ProbeToken.index), with null for
// tokens outside the analysed window (Analyses.window: selections longer than the context are
// analysed on one window of contextLength - 1 tokens, centred on the target where the text allows).

export interface FutureGuess {
  id: number;
  text: string;
  /** Probability of this top-1 guess under the probe's decoded distribution. */
  prob: number;
  /** True when this guess equals the token that actually comes at t+k. Null past the text's end. */
  hit: boolean | null;
}

export interface FutureLensResult {
  /** Offsets k in the order used by cells: usually [1, 2, 3]. */
  offsets: number[];
  /** Layers probed, 0 = embeddings ... L = last block. */
  layers: number[];
  /** cells[tokenIndex][layerIndex][offsetIndex] = top-1 guess of the probe at token t for token t+k; null outside the window. */
  cells: (FutureGuess[][] | null)[];
  /** Share of positions (with a real t+k) where the probe's top-1 came true, [layerIndex][offsetIndex]. */
  precisionAt1: number[][];
  /** Positions counted in precisionAt1, [offsetIndex]. */
  positions: number[];
  /** Same measure for a bigram baseline fitted where the probes were fitted, [offsetIndex]. */
  bigramPrecisionAt1: number[] | null;
  /** Same measure for the skip-bigram of the model's training split (the pack's baselines.json), [offsetIndex]; absent without one. */
  skipBigramPrecisionAt1?: number[] | null;
  /**
   * The model's greedy rollout (its own top-1 fed back, k - 1 more passes) on `positions.length`
   * positions of the window spread evenly; precisionAt1[offsetIndex] and the probes' precision on
   * those same positions (probePrecisionAt1[layerIndex][offsetIndex]). Absent when not computed.
   */
  rollout?: { positions: number[]; counted: number[]; precisionAt1: number[]; probePrecisionAt1: number[][] } | null;
  /** Where the probes come from: the pack's own, or a file the user fitted (absolute path). */
  source: string;
}

export interface ImportanceResult {
  /** Index (into tokens) of the target token. */
  target: number;
  /** Layer whose hidden states the Lasso regression used (0 = embeddings ... L). */
  layer: number;
  /** Attention layer (0-based block index) compared with the Lasso in `agreement`. */
  attentionLayer: number;
  alpha: number;
  /** Smallest alpha at which every coefficient is 0: max_j |h_j . h_target| / D. */
  alphaMax: number;
  /** attention[block][j] = attention from the target to token j (j < target), mean over heads; null outside the window. */
  attention: (number | null)[][];
  /** Lasso coefficient of each earlier token j (j < target) at `alpha`; null outside the window. */
  lasso: (number | null)[];
  /**
   * Regularization path, alpha_max down to alpha_max / 100 (log-spaced, warm-started). Only the
   * window's tokens, to keep long selections small: coef[j - window.start] is token j's coefficient.
   */
  path: { alpha: number; coef: number[] }[];
  /** Spearman rank correlation of attention (at attentionLayer) and |lasso|; overlap of their top-k sets / k. */
  agreement: { spearman: number | null; topKOverlap: number; k: number };
  /**
   * What the agreement means: its chance level (random rankings: expected top-k overlap, and the
   * |rho| that 95% of random rankings stay below), a recency baseline (rank = position: the most
   * recent tokens first) against |lasso|, attention against recency, and how often the Lasso's top
   * token is an earlier copy of the target token.
   */
  reference?: {
    chanceTopKOverlap: number;
    chanceSpearman95: number | null;
    recency: { spearman: number | null; topKOverlap: number };
    attentionVsRecency: number | null;
    earlierCopies: number;
    lassoTopIsCopy: boolean | null;
  };
  /** True when the states were centered and scaled to unit variance (over their D coordinates) before the Lasso. */
  standardized?: boolean;
  /** True when attention rows are renormalized to sum 1 over the earlier tokens (BOS and the target itself removed). */
  attentionRenormalized?: boolean;
  /** Per token: ln(1 + r_t / lambda) >= 0, r_t the ridge residual of its unit-normalized state on the earlier ones, nats; null outside the window. */
  informationGainNats: (number | null)[];
  /** The ridge lambda of informationGainNats (states scaled to unit norm). */
  informationGainLambda: number;
}

export interface GeometryResult {
  /** Matrix entropy per layer (nats) and normalized by ln d. Index 0 = embeddings. */
  entropyNats: number[];
  normalized: number[];
  /** Width d and the number of token states used (rows equal to the mean are dropped). */
  width: number;
  tokens: number;
  /**
   * The same per layer on the first `tokens` tokens of a fixed reference text (src/engine/analysis/
   * referenceText.ts), so that a value can be compared at equal length; absent when it is too short.
   */
  reference?: { normalized: number[]; tokens: number; text: string };
}

export interface Analyses {
  /**
   * Tokens [start, end) that were analysed (one forward window), of `total` tokens; lines
   * (1-based) of the window's first and last token.
   */
  window: { start: number; end: number; total?: number; firstLine?: number; lastLine?: number };
  futureLens?: FutureLensResult;
  importance?: ImportanceResult;
  geometry?: GeometryResult;
  /** Why an analysis that was asked for is missing (for example: the pack has no probes), and what was restricted. */
  notes?: string[];
  /** Wall time of the analyses, milliseconds, and its parts (the forward pass with hidden states, each analysis). */
  ms: number;
  timingsMs?: { run: number; futureLens?: number; importance?: number; geometry?: number };
}

export interface ProbeResult {
  version: typeof PROBE_RESULT_VERSION;
  /** The probed text exactly as given (offsets index into it). */
  text: string;
  pack: PackInfo;
  tokens: ProbeToken[];
  summary: ProbeSummary;
  runtime: RuntimeInfo;
  analyses?: Analyses;
  /** Non-fatal notices for the user (text truncated to maxTokens, invalid UTF-16 replaced, ...). */
  warnings: string[];
}
