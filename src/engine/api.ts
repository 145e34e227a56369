// The engine's public surface: what src/cli and src/host call. Nothing here imports 'vscode'.
import type { ProbeToken, TokenScore } from './schema';

export interface ProbeOptions {
  /** Alternatives kept per token and direction. Default 5. */
  topK?: number;
  /** Refuse (with a clear error) texts that tokenize to more tokens than this. Default 50,000. */
  maxTokens?: number;
  /** Skip the backward model even when the pack has one. */
  forwardOnly?: boolean;
  /** Which analyses to run besides surprisal; none by default (src/engine/analysis). */
  analyses?: {
    /** Future-token probes: the pack's own, or a probe file (probes.json) the user fitted. */
    futureLens?: boolean | { probesFile?: string; rolloutPositions?: number };
    /**
     * Token importance for `target` (token index; default the last token), Lasso on hidden-state
     * layer `layer` (default L) at `alpha` (default 0.05 * alpha_max), compared with the attention
     * of block `attentionLayer` (default max(layer, 1) - 1, the block that wrote that layer).
     * `standardize`: each state centered and scaled to unit variance over its D coordinates first.
     */
    importance?: boolean | { target?: number; layer?: number; alpha?: number; attentionLayer?: number; standardize?: boolean };
    geometry?: boolean;
  };
  /** Aborting rejects the probe with a ProbeCancelled error between windows. */
  signal?: AbortSignal;
  /**
   * Called as windows complete: done and total count forward plus backward passes; tokens is the
   * work done in tokens of the text (a token scored in one of two directions counts 1/2), of
   * tokenTotal, the text's tokens.
   */
  onProgress?: (p: { done: number; total: number; stage: string; tokens?: number; tokenTotal?: number }) => void;
  /**
   * probe() only, not with analyses: the tokens in text order, a batch at a time, instead of in
   * ProbeResult.tokens (then empty), so that memory does not grow with the text (lm-probe probe
   * --json). A returned promise is awaited before the next batch (backpressure).
   */
  onTokens?: (tokens: ProbeToken[]) => void | Promise<void>;
  /**
   * probe() only: each batch of windows' scores as soon as it is scored, so that a long text can be
   * shown while the rest is computed. Tokens first .. first + scores.length - 1, in text order.
   */
  onScores?: (s: PartialScores) => void;
}

/** Scores of a run of consecutive tokens in one direction (ProbeOptions.onScores). */
export interface PartialScores {
  direction: 'forward' | 'backward';
  first: number;
  /** How many tokens the whole text has. */
  tokenCount: number;
  /** UTF-16 [start, end) of each token in the probed text, parallel to scores. */
  offsets: [number, number][];
  scores: TokenScore[];
}

export interface EngineOptions {
  /** Execution providers in order of preference; 'cpu' is always tried last. */
  providers?: string[];
  /**
   * Remember a provider that failed to start in a file under ~/.cache/lm-probe for a week and skip
   * it (the CLI sets this: each run is a new process, and a failing WebGPU prints to stderr).
   */
  rememberProviderFailures?: boolean;
  /**
   * Compute the per-token statistics inside the graph (default true): a pack's graphs get them
   * appended when they open (src/engine/packStatistics.ts); false reduces the logits in JavaScript.
   */
  inGraphStatistics?: boolean;
  /**
   * Time a non-CPU provider that starts against the CPU on the pack's first open and keep the faster
   * (default true, src/engine/providerChoice.ts). false keeps the first provider that starts:
   * `lm-probe bench` measures each provider the user names.
   */
  chooseFasterProvider?: boolean;
}
