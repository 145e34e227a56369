// The engine's public surface: what src/cli and src/host call. Nothing here imports 'vscode'.

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
    futureLens?: boolean | { probesFile?: string };
    /**
     * Token importance for `target` (token index; default the last token), Lasso on hidden-state
     * layer `layer` (default L) at `alpha` (default 0.05 * alpha_max), compared with the attention
     * of block `attentionLayer` (default max(layer, 1) - 1, the block that wrote that layer).
     */
    importance?: boolean | { target?: number; layer?: number; alpha?: number; attentionLayer?: number };
    geometry?: boolean;
  };
  /** Aborting rejects the probe with a ProbeCancelled error between windows. */
  signal?: AbortSignal;
  /** Called as windows complete: done and total count forward plus backward passes. */
  onProgress?: (p: { done: number; total: number; stage: string }) => void;
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
}
