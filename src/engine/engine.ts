// The engine: a loaded model pack with its ONNX Runtime sessions, turning text into a ProbeResult.
import { selectionDeltaInterval } from './bootstrap';
import { pieceEnd } from './tokenizer';
import { ProbeError, isProbeError } from './errors';
import { defaultPackDir, type LoadedPack } from './pack';
import { openModel } from './modelSource';
import { graphSources } from './packStatistics';
import { STAT_INPUTS } from './hf/statistics';
import { createSession, firstLine, normalizeProviders, ort, packWarmup, type Session } from './runtime';
import { planWindows, rowStats, type RowStats, type Window } from './surprisal';
import { PROBE_RESULT_VERSION, type Direction, type ProbeResult, type ProbeSummary, type ProbeToken, type RuntimeInfo, type TokenScore } from './schema';
import type { EngineOptions, ProbeOptions } from './api';
import { runAnalyses } from './analysis';

export { ProbeError } from './errors';

export interface RunOutput {
  /** [T, V]: row t is the prediction after reading BOS + ids[0..t], i.e. of the token after ids[t]. */
  logits: Float32Array;
  /** [L+1, T, D], or null when the pack's graph has no hidden states. */
  hidden: Float32Array | null;
  /** [L, H, T, T] (query row, key column), BOS row and column removed, or null. */
  attentions: Float32Array | null;
  dims: { T: number; V: number; L: number; D: number; H: number };
}

/** Upper bound on logits per batched session.run (floats): keeps memory flat on long texts. */
const MAX_BATCH_FLOATS = 4 * 1024 * 1024;
const MAX_BATCH_WINDOWS = 64;

export class Engine {
  private sessions: Partial<Record<Direction, Session>> = {};
  private disposed = false;
  /** How the provider was chosen (RuntimeInfo.choice): set when a warm-up timed a non-CPU provider against the CPU. */
  choice: string | undefined;
  private pendingLoadMs: number;
  /** Serializes session.run calls: concurrent probes interleave by batch, dispose waits for the run in flight. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cleanups: (() => unknown)[] = [];

  private constructor(
    readonly pack: LoadedPack,
    readonly provider: string,
    readonly fallbacks: { provider: string; error: string }[],
    sessions: Partial<Record<Direction, Session>>,
    loadMs: number,
  ) {
    this.sessions = sessions;
    this.pendingLoadMs = loadMs;
  }

  /** Loads and validates a pack (default: models/default of the package) and opens its sessions. */
  static async open(packDir?: string, opts: EngineOptions = {}): Promise<Engine> {
    const dir = packDir ?? defaultPackDir();
    let pack: LoadedPack;
    try {
      pack = await openModel(dir);
    } catch (e) {
      if (packDir === undefined && isProbeError(e) && e.code === 'PACK_NOT_FOUND') {
        throw new ProbeError(
          'PACK_NOT_FOUND',
          `the default model pack is not installed (${dir} has no manifest.json); name a pack folder with --model DIR (CLI) or the lmProbe.modelPath setting`,
        );
      }
      throw e;
    }
    try {
      return await Engine.openSessions(pack, opts, opts.inGraphStatistics !== false);
    } catch (e) {
      // Appending the statistics must never cost a user their pack: open the graphs as they are.
      if (opts.inGraphStatistics === false || pack.manifest.graph.statistics || !isProbeError(e) || e.code !== 'BAD_PACK') throw e;
      return Engine.openSessions(pack, opts, false);
    }
  }

  private static async openSessions(loaded: LoadedPack, opts: EngineOptions, withStatistics: boolean): Promise<Engine> {
    const t0 = performance.now();
    const sources = graphSources(loaded, withStatistics);
    const pack = sources.pack;
    const providers = normalizeProviders(opts.providers);
    const sessions: Partial<Record<Direction, Session>> = {};
    let provider = 'cpu';
    let fallbacks: { provider: string; error: string }[] = [];
    let choice: string | undefined;
    try {
      for (const dirn of ['forward', 'backward'] as const) {
        const makeSource = sources[dirn];
        if (!makeSource) continue;
        const source = makeSource();
        // The backward graph starts on the provider the forward one got (or a later one).
        const list = dirn === 'forward' ? providers : providers.slice(providers.indexOf(provider));
        let opened;
        try {
          // The forward graph's warm-up keeps a non-CPU provider only where it is faster (providerChoice.ts).
          opened = await createSession(source, list, { rememberFailures: opts.rememberProviderFailures, warmup: dirn === 'forward' && opts.chooseFasterProvider !== false ? packWarmup(pack) : undefined });
        } catch (e) {
          throw new ProbeError('BAD_PACK', `model pack ${pack.dir}: field "${dirn}": ONNX Runtime cannot load ${pack.manifest[dirn]}: ${firstLine(e)}`);
        }
        sessions[dirn] = opened.session;
        if (dirn === 'forward') {
          provider = opened.provider;
          fallbacks = opened.fallbacks;
          choice = opened.choice;
        } else if (opened.provider !== provider) {
          fallbacks.push(...opened.fallbacks.filter((f) => !fallbacks.some((g) => g.provider === f.provider)));
          provider = `${provider}+${opened.provider}`;
        }
        checkNames(pack, dirn, opened.session);
      }
      const engine = new Engine(pack, provider, fallbacks, sessions, performance.now() - t0);
      engine.choice = choice;
      for (const dirn of ['forward', 'backward'] as const) if (sessions[dirn]) await engine.checkShapes(dirn);
      engine.pendingLoadMs = performance.now() - t0; // sessions and the graph checks
      return engine;
    } catch (e) {
      await Promise.all(Object.values(sessions).map((s) => s?.release().catch(() => undefined)));
      throw e;
    }
  }

  tokenize(text: string): { ids: number[]; offsets: [number, number][] } {
    const { ids, offsets } = this.pack.tokenizer.encode(text);
    return { ids, offsets };
  }

  /** Display text of a token id (what top-k alternatives show). */
  tokenText(id: number): string {
    return this.pack.tokenizer.tokenText(id);
  }

  get hasBackward(): boolean {
    return this.sessions.backward !== undefined;
  }

  /**
   * One raw pass for the analyses. ids.length <= contextLength - 1; BOS is prepended here and its
   * position removed from every output. For 'backward' the caller passes the ids already reversed.
   */
  async run(direction: Direction, ids: number[]): Promise<RunOutput> {
    const session = this.session(direction);
    const { contextLength, architecture } = { contextLength: this.pack.manifest.contextLength, architecture: this.pack.manifest.architecture };
    if (ids.length < 1 || ids.length > contextLength - 1) {
      throw new ProbeError('BAD_ARGUMENT', `run(): expected 1 to ${contextLength - 1} token ids, got ${ids.length}`);
    }
    const T = ids.length;
    const out = await this.exec(session, [[this.pack.manifest.bos.id, ...ids]], true);
    const { V, L: LA, D, H } = { V: architecture.vocabSize, L: architecture.layers, D: architecture.width, H: architecture.heads };
    const S = T + 1;
    const logits = out.logits.slice(V, S * V);
    let hidden: Float32Array | null = null;
    if (out.hidden) {
      hidden = new Float32Array((LA + 1) * T * D);
      for (let l = 0; l <= LA; l++) hidden.set(out.hidden.subarray((l * S + 1) * D, (l * S + S) * D), l * T * D);
    }
    let attentions: Float32Array | null = null;
    if (out.attentions) {
      attentions = new Float32Array(LA * H * T * T);
      for (let l = 0; l < LA; l++)
        for (let h = 0; h < H; h++)
          for (let q = 0; q < T; q++) {
            const src = ((l * H + h) * S + q + 1) * S + 1;
            attentions.set(out.attentions.subarray(src, src + T), ((l * H + h) * T + q) * T);
          }
    }
    return { logits, hidden, attentions, dims: { T, V, L: LA, D, H } };
  }

  async probe(text: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
    const t0 = performance.now();
    checkText(text);
    const topK = Math.max(0, Math.min(100, Math.floor(opts.topK ?? 5)));
    const maxTokens = opts.maxTokens ?? 50_000;
    checkCancel(opts.signal);

    const enc = this.encodeLimited(text, maxTokens, opts.signal);
    const onScores = opts.onScores;
    const onTokens = opts.onTokens;
    if (onTokens && opts.analyses) throw new ProbeError('BAD_ARGUMENT', 'probe(): onTokens does not go with analyses (they read the tokens)');
    const merge = onTokens && tokenMerger(text, enc, this.hasBackward && !opts.forwardOnly, onTokens);
    const onRun =
      (onScores || merge) &&
      ((direction: Direction, first: number, scores: TokenScore[]) => {
        onScores?.({ direction, first, tokenCount: enc.ids.length, offsets: enc.offsets.slice(first, first + scores.length), scores });
        return merge?.(direction, scores);
      });
    // With onTokens the scores are passed on, not kept: the directions run interleaved (scoreBoth).
    const { fw, bw, windows } = await this.scoreBoth(enc.ids, topK, opts, !onTokens, onRun);
    const tokens: ProbeToken[] = onTokens
      ? []
      : Array.from(enc.ids, (id, i) => {
          const [start, end] = enc.offsets.at(i);
          return { index: i, id, text: text.slice(start, end), start, end, forward: fw.scores![i], backward: bw ? bw.scores![i] : null };
        });
    const result: ProbeResult = {
      version: PROBE_RESULT_VERSION,
      text,
      pack: this.pack.info,
      tokens,
      summary: summaryOf(fw.nats, bw ? bw.nats : null),
      runtime: this.runtimeInfo(windows),
      warnings: enc.warnings.slice(),
    };

    // Analyses on the model's internals (src/engine/analysis): one more forward pass with hidden
    // states and attentions over the window that holds the target token.
    if (opts.analyses && (opts.analyses.futureLens || opts.analyses.importance || opts.analyses.geometry)) {
      checkCancel(opts.signal);
      result.analyses = await runAnalyses(this, result, opts);
    }

    result.runtime.ms = performance.now() - t0;
    return result;
  }

  /**
   * The per-token surprisal of a text, in nats, and nothing else: what `probe --summary` and
   * `corpus` report. Memory stays flat in the text's length: ids and two Float64Arrays, no token
   * objects, no top-k; the graphs' in-graph statistics compute only the target's log-probability.
   */
  async surprisalNats(text: string, opts: Omit<ProbeOptions, 'analyses' | 'topK'> = {}): Promise<NatsResult> {
    const t0 = performance.now();
    checkText(text);
    const enc = this.encodeLimited(text, opts.maxTokens ?? 50_000, opts.signal, false);
    const { fw, bw, windows } = await this.scoreBoth(enc.ids, 0, opts, false);
    const runtime = this.runtimeInfo(windows);
    runtime.ms = performance.now() - t0;
    return { forward: fw.nats, backward: bw ? bw.nats : null, summary: summaryOf(fw.nats, bw ? bw.nats : null), runtime, warnings: enc.warnings };
  }

  /** Both directions' scores of `ids` over the windows of planWindows(), the backward ones put back in text order. */
  private async scoreBoth(
    ids: Int32Array,
    topK: number,
    opts: ProbeOptions,
    keepScores: boolean,
    onRun?: (direction: Direction, first: number, scores: TokenScore[]) => void | Promise<void>,
  ): Promise<{ fw: ScoredSequence; bw: ScoredSequence | null; windows: number }> {
    const windows = planWindows(ids.length, this.pack.manifest.contextLength - 1);
    const doBackward = this.hasBackward && !opts.forwardOnly;
    const directions = doBackward ? 2 : 1;
    const progress = { done: 0, total: windows.length * directions, tokens: 0, tokenTotal: ids.length, directions };
    const N = ids.length;
    // position i of the reversed sequence is token N-1-i: a run [a, a+n) is tokens [N-a-n, N-a) reversed
    const onBw = onRun && ((a: number, s: TokenScore[]) => onRun('backward', N - a - s.length, s.slice().reverse()));
    if (onRun && !keepScores && doBackward) {
      // Scores passed on and not kept (probe's onTokens): both directions advance from the text's
      // start together (the backward batches in reverse order; the engine's queue alternates the
      // two), so a token is passed on soon after both have scored it and memory stays flat.
      const [fwSeq, bwSeq] = await Promise.all([
        this.scoreSequence('forward', ids, windows, topK, opts, progress, keepScores, (a, s) => onRun('forward', a, s)),
        this.scoreSequence('backward', ids.slice().reverse(), windows, topK, opts, progress, keepScores, onBw, true),
      ]);
      bwSeq.nats.reverse();
      return { fw: fwSeq, bw: bwSeq, windows: windows.length };
    }
    const fw = await this.scoreSequence('forward', ids, windows, topK, opts, progress, keepScores, onRun && ((a, s) => onRun('forward', a, s)));
    let bw: ScoredSequence | null = null;
    if (doBackward) {
      bw = await this.scoreSequence('backward', ids.slice().reverse(), windows, topK, opts, progress, keepScores, onBw);
      // position i of the reversed sequence is token N-1-i
      bw.scores?.reverse();
      bw.nats.reverse();
    }
    return { fw, bw, windows: windows.length };
  }

  /** RuntimeInfo of a probe (ms is set by the caller when it is done). */
  private runtimeInfo(windows: number): RuntimeInfo {
    return {
      provider: this.provider,
      fallbacks: this.fallbacks.slice(),
      ...(this.choice ? { choice: this.choice } : {}),
      ms: 0,
      loadMs: this.takeLoadMs(),
      windows,
    };
  }

  /**
   * Token ids (and offsets) of a text, refused with TOO_MANY_TOKENS past maxTokens. Tokenizers that
   * allow it (PackTokenizer.cutsIntoPieces) read the text in pieces (tokenizer.ts pieceEnd), so a
   * text far over the limit is refused after about maxTokens tokens, not after all of it; the others
   * are refused at once when even their longest tokens could not fit.
   */
  private encodeLimited(text: string, maxTokens: number, signal?: AbortSignal, offsets = true): { ids: Int32Array; offsets: OffsetList; warnings: string[] } {
    const tok = this.pack.tokenizer;
    const tooMany = (n: number, atLeast: boolean) =>
      new ProbeError('TOO_MANY_TOKENS', `the text is ${atLeast ? 'at least ' : ''}${n} tokens long; the limit is ${maxTokens} (select less text or raise the limit)`);
    const minTokens = Math.ceil(Buffer.byteLength(text, 'utf8') / tok.maxTokenBytes());
    if (minTokens > maxTokens) throw tooMany(minTokens, true);
    // Int32 rather than a JS array: half the memory per token, and no array left for the collector.
    let idBuf = new Int32Array(Math.max(1024, minTokens));
    let n = 0;
    const offs = new OffsetList();
    const warnings: string[] = [];
    const step = tok.cutsIntoPieces ? CHUNK_CHARS : text.length;
    for (let a = 0; a < text.length; ) {
      checkCancel(signal);
      const b = pieceEnd(text, a + step);
      const e = tok.encode(b - a === text.length ? text : text.slice(a, b));
      if (n + e.ids.length > idBuf.length) {
        const grown = new Int32Array(Math.max(2 * idBuf.length, n + e.ids.length));
        grown.set(idBuf.subarray(0, n));
        idBuf = grown;
      }
      for (let i = 0; i < e.ids.length; i++) {
        idBuf[n++] = e.ids[i];
        if (offsets) offs.push(e.offsets[i][0] + a, e.offsets[i][1] + a);
      }
      for (const w of e.warnings) warnings.push(a === 0 ? w : w.replace(/offset (\d+)/g, (_, k: string) => `offset ${Number(k) + a}`));
      if (n > maxTokens) throw tooMany(n, b < text.length);
      a = b;
    }
    if (n === 0) throw new ProbeError('EMPTY_TEXT', 'the text tokenizes to no tokens: nothing to probe');
    return { ids: idBuf.subarray(0, n), offsets: offs, warnings };
  }

  /** Registers a cleanup to run on dispose() (e.g. sessions an analysis opened on this engine). */
  onDispose(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /** Releases the sessions (after the run in flight, if any). Later calls fail with DISPOSED. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.catch(() => undefined);
    for (const fn of this.cleanups.splice(0)) {
      try {
        await fn();
      } catch {
        /* a failing cleanup must not keep the sessions alive */
      }
    }
    const s = Object.values(this.sessions);
    this.sessions = {};
    await Promise.all(s.map((x) => x?.release().catch(() => undefined)));
  }

  // ---- internals ----------------------------------------------------------------------------

  private takeLoadMs(): number {
    const ms = this.pendingLoadMs;
    this.pendingLoadMs = 0;
    return ms;
  }

  private session(direction: Direction): Session {
    if (this.disposed) throw new ProbeError('DISPOSED', 'the engine was disposed');
    const s = this.sessions[direction];
    if (!s) {
      throw new ProbeError('BAD_ARGUMENT', `model pack ${this.pack.dir} has no ${direction} model`);
    }
    return s;
  }

  /** Runs a batch of equal-length rows (each starting with BOS). */
  private async exec(
    session: Session,
    rowsIn: number[][] | Rows,
    all: boolean,
    stats?: { rows: ScoredRows; topK: number; onlyLogprob?: boolean },
  ): Promise<{ logits: Float32Array; hidden: Float32Array | null; attentions: Float32Array | null; dims: Record<string, readonly number[]>; stats?: InGraphStats }> {
    const g = this.pack.manifest.graph;
    const rows: Rows = Array.isArray(rowsIn) ? { B: rowsIn.length, S: rowsIn[0].length, at: (b, i) => rowsIn[b][i] } : rowsIn;
    const { B, S } = rows;
    const feeds: Record<string, ort.Tensor> = { [g.inputs.inputIds]: intTensor(inputType(session, g.inputs.inputIds), B, S, rows.at) };
    // A graph exported with an attention mask gets one of ones (no padding: all rows have length S).
    if (session.inputNames.includes('attention_mask') && g.inputs.inputIds !== 'attention_mask') {
      feeds.attention_mask = intTensor(inputType(session, 'attention_mask'), B, S, () => 1);
    }
    const st = g.statistics;
    if (st) {
      // Statistics of the scored rows only; the full outputs (logits, states, attentions) only when wanted.
      // A full run (no statistics wanted) scores every row in order: its logits are those rows'.
      const full = all || !stats;
      const scored = full ? { rows: BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i)), targets: new BigInt64Array(B * S) } : stats.rows;
      feeds[st.rows] = new ort.Tensor('int64', scored.rows, [scored.rows.length]);
      feeds[st.targetIds] = new ort.Tensor('int64', scored.targets, [scored.targets.length]);
      feeds[st.topK] = new ort.Tensor('int64', BigInt64Array.from([BigInt(Math.max(1, stats?.topK ?? 1))]), [1]);
      feeds[st.scores] = new ort.Tensor('bool', Uint8Array.of(stats && !stats.onlyLogprob ? 1 : 0), []);
      if (session.inputNames.includes(st.full)) feeds[st.full] = new ort.Tensor('bool', Uint8Array.of(full ? 1 : 0), []);
    }
    // With in-graph statistics the logits stay inside ONNX Runtime.
    const fetches = stats && st ? (stats.onlyLogprob ? [st.targetLogprob] : [st.targetLogprob, st.greater, st.entropy, st.topIds, st.topLogprobs]) : [g.outputs.logits];
    if (all && g.outputs.hiddenStates) fetches.push(g.outputs.hiddenStates);
    if (all && g.outputs.attentions) fetches.push(g.outputs.attentions);
    const run = this.queue.then(() => {
      if (this.disposed) throw new ProbeError('DISPOSED', 'the engine was disposed');
      return session.run(feeds, fetches);
    });
    this.queue = run.catch(() => undefined);
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await run;
    } catch (e) {
      if (e instanceof ProbeError) throw e;
      throw new ProbeError('RUNTIME', `ONNX Runtime failed on model pack ${this.pack.dir}: ${firstLine(e)}`);
    }
    const get = (name: string | null) => {
      if (!name || !out[name]) return null;
      const t = out[name];
      if (t.type !== 'float32') {
        throw new ProbeError('BAD_PACK', `model pack ${this.pack.dir}: graph output "${name}": expected float32, got ${t.type}`);
      }
      return t;
    };
    if (stats && st) {
      return {
        logits: new Float32Array(0),
        hidden: null,
        attentions: null,
        dims: {},
        stats: stats.onlyLogprob
          ? { logprob: out[st.targetLogprob].data as Float32Array, greater: EMPTY_F32, entropy: EMPTY_F32, topIds: new BigInt64Array(0), topLogprobs: EMPTY_F32, k: 0 }
          : {
              logprob: out[st.targetLogprob].data as Float32Array,
              greater: out[st.greater].data as Float32Array,
              entropy: out[st.entropy].data as Float32Array,
              topIds: out[st.topIds].data as BigInt64Array,
              topLogprobs: out[st.topLogprobs].data as Float32Array,
              k: out[st.topIds].dims[1],
            },
      };
    }
    const lt = get(g.outputs.logits)!;
    const ht = all ? get(g.outputs.hiddenStates) : null;
    const at = all ? get(g.outputs.attentions) : null;
    const dims: Record<string, readonly number[]> = { logits: lt.dims };
    if (ht) dims.hiddenStates = ht.dims;
    if (at) dims.attentions = at.dims;
    return {
      logits: lt.data as Float32Array,
      hidden: ht ? (ht.data as Float32Array) : null,
      attentions: at ? (at.data as Float32Array) : null,
      dims,
    };
  }

  /** One tiny pass to check the graph's outputs against the manifest's architecture. */
  private async checkShapes(direction: Direction): Promise<void> {
    const m = this.pack.manifest;
    const { layers: L, heads: H, width: D, vocabSize: V } = m.architecture;
    const S = 2;
    let out;
    try {
      out = await this.exec(this.session(direction), [[m.bos.id, m.bos.id]], true);
    } catch (e) {
      if (isProbeError(e) && e.code === 'RUNTIME') {
        throw new ProbeError('BAD_PACK', `model pack ${this.pack.dir}: the ${direction} graph fails on a batch of 1 and ${S} positions: ${e.message}`);
      }
      throw e;
    }
    const expect: [string, string | null, number[]][] = [
      ['logits', m.graph.outputs.logits, [1, S, V]],
      ['hiddenStates', m.graph.outputs.hiddenStates, [L + 1, 1, S, D]],
      ['attentions', m.graph.outputs.attentions, [L, 1, H, S, S]],
    ];
    for (const [key, name, shape] of expect) {
      if (!name) continue;
      const got = out.dims[key];
      if (!got || got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
        throw new ProbeError(
          'BAD_PACK',
          `model pack ${this.pack.dir}: ${direction} graph output "${name}" (graph.outputs.${key}): expected shape [${shape.join(', ')}] ` +
            `for a batch of 1 and ${S} positions (docs/model-pack.md), got [${got ? got.join(', ') : ''}]`,
        );
      }
    }
    // Windows run in batches: each row of a batch of two must get what it gets alone. This also
    // catches a graph whose rows the in-graph statistics take early (hf/scoredRows.ts) where a
    // tensor does not have the batch's rows, which Engine.open then opens as it is.
    const rowsOf2 = [
      [m.bos.id, m.bos.id, m.bos.id],
      [m.bos.id, 1 % V, 2 % V],
    ];
    let pair, alone;
    try {
      pair = await this.exec(this.session(direction), rowsOf2, false);
      alone = await this.exec(this.session(direction), rowsOf2.slice(1), false);
    } catch (e) {
      if (isProbeError(e) && e.code === 'RUNTIME') throw new ProbeError('BAD_PACK', `model pack ${this.pack.dir}: the ${direction} graph fails on a batch of 2 and 3 positions: ${e.message}`);
      throw e;
    }
    const second = pair.logits.subarray(3 * V);
    if (pair.logits.length !== 6 * V || alone.logits.some((z, i) => !(Math.abs(z - second[i]) <= 1e-3 * Math.max(1, Math.abs(z))))) {
      throw new ProbeError('BAD_PACK', `model pack ${this.pack.dir}: the ${direction} graph gives a row of a batch of 2 other logits than the same row alone: its rows are not independent`);
    }
    // The graph must take the full context the manifest promises (position embeddings, masks).
    // Graphs that LM Probe built itself take their model's positions.
    if (this.pack.built) return;
    const N = m.contextLength;
    let full;
    try {
      full = await this.exec(this.session(direction), [new Array<number>(N).fill(m.bos.id)], false);
    } catch (e) {
      if (isProbeError(e) && e.code === 'RUNTIME') {
        throw new ProbeError('BAD_PACK', `model pack ${this.pack.dir}: field "contextLength": the ${direction} graph fails on ${N} positions: ${e.message.replace(/^ONNX Runtime failed on model pack [^:]*: /, '')}`);
      }
      throw e;
    }
    const fd = full.dims.logits;
    if (fd.length !== 3 || fd[1] !== N || fd[2] !== V) {
      throw new ProbeError('BAD_PACK', `model pack ${this.pack.dir}: ${direction} graph output "${m.graph.outputs.logits}": expected shape [1, ${N}, ${V}] at contextLength ${N}, got [${fd.join(', ')}]`);
    }
  }

  /**
   * Scores every token of `ids` in one direction with the overlapping windows of planWindows();
   * without keepScores only the nats (no TokenScore objects).
   */
  private async scoreSequence(
    direction: Direction,
    ids: ArrayLike<number>,
    windows: Window[],
    topK: number,
    opts: ProbeOptions,
    progress: { done: number; total: number; tokens: number; tokenTotal: number; directions: number },
    keepScores: boolean,
    onRun?: (first: number, scores: TokenScore[]) => void | Promise<void>,
    lastBatchFirst = false,
  ): Promise<ScoredSequence> {
    const session = this.session(direction);
    const V = this.pack.manifest.architecture.vocabSize;
    const bos = this.pack.manifest.bos.id;
    // Scores are computed when kept or passed on (onRun); without keepScores each batch's are dropped after onRun.
    const withScores = keepScores || onRun !== undefined;
    const scores: TokenScore[] | null = keepScores ? new Array<TokenScore>(ids.length) : null;
    const nats = new Float64Array(ids.length);
    const tokenText = (id: number) => this.pack.tokenizer.tokenText(id);
    const perWindow = windows[0].length * V;
    const batch = Math.max(1, Math.min(MAX_BATCH_WINDOWS, Math.floor(MAX_BATCH_FLOATS / perWindow)));
    const inGraph = this.pack.manifest.graph.statistics !== undefined;
    checkCancel(opts.signal);
    // onnxruntime-node runs a session on this thread: the batches run one after the other. The
    // batches are the same in either order (lastBatchFirst), so are the scores.
    const starts: number[] = [];
    for (let w0 = 0; w0 < windows.length; w0 += batch) starts.push(w0);
    if (lastBatchFirst) starts.reverse();
    for (const w0 of starts) {
      // Windows of one batch share a length (all are full length but a lone short one).
      const group = windows.slice(w0, w0 + batch);
      // Row b of the batch is BOS + the window's tokens but its last; its targets are the window's tokens.
      const rows: Rows = { B: group.length, S: group[0].length, at: (b, i) => (i === 0 ? bos : ids[group[b].start + i - 1]) };
      const S = group[0].length;
      const { logits, stats } = await this.exec(session, rows, false, inGraph ? { rows: scoredRows(group, S, ids), topK, onlyLogprob: !withScores } : undefined);
      checkCancel(opts.signal);
      const run: TokenScore[] = [];
      let j = 0; // the in-graph statistics' row: scored tokens in order
      group.forEach((w, b) => {
        for (let t = w.scoreFrom; t < w.scoreTo; t++, j++) {
          const r = b * S + t - w.start; // row of the batch whose prediction is of ids[t]
          let n: number;
          if (withScores) {
            const st = stats ? statsRow(stats, j, topK, tokenText) : rowStats(logits, r * V, V, ids[t], topK, tokenText);
            if (scores) scores[t] = st.score;
            else run.push(st.score);
            n = st.nats;
          } else {
            n = stats ? -stats.logprob[j] : rowStats(logits, r * V, V, ids[t], 0, tokenText).nats;
          }
          if (Number.isNaN(n)) throw new ProbeError('RUNTIME', `the ${direction} model produced NaN logits at token ${t} (model pack ${this.pack.dir})`);
          nats[t] = n;
        }
      });
      const from = group[0].scoreFrom;
      const to = group[group.length - 1].scoreTo;
      if (onRun) await onRun(from, scores ? scores.slice(from, to) : run);
      progress.done += group.length;
      progress.tokens += (to - from) / progress.directions;
      opts.onProgress?.({ done: progress.done, total: progress.total, stage: direction, tokens: progress.tokens, tokenTotal: progress.tokenTotal });
    }
    return { scores, nats };
  }
}

const EMPTY_F32 = new Float32Array(0);

/** B rows of S token ids, read through `at` (no arrays built per window). */
interface Rows {
  B: number;
  S: number;
  at: (b: number, i: number) => number;
}

/** The batch rows (b * S + i) that score a token, and the token each predicts. */
interface ScoredRows {
  rows: BigInt64Array;
  targets: BigInt64Array;
}

/** Row b * S + i of a batch predicts ids[start + i]; each window scores [scoreFrom, scoreTo). */
function scoredRows(group: Window[], S: number, ids: ArrayLike<number>): ScoredRows {
  const n = group.reduce((a, w) => a + w.scoreTo - w.scoreFrom, 0);
  const rows = new BigInt64Array(n);
  const targets = new BigInt64Array(n);
  // Low int32 halves (little-endian; both are below 2^31), as intTensor writes ids.
  const r32 = new Int32Array(rows.buffer);
  const t32 = new Int32Array(targets.buffer);
  let j = 0;
  group.forEach((w, b) => {
    for (let t = w.scoreFrom; t < w.scoreTo; t++, j++) {
      r32[2 * j] = b * S + t - w.start;
      t32[2 * j] = ids[t];
    }
  });
  return { rows, targets };
}

interface InGraphStats {
  logprob: Float32Array;
  greater: Float32Array;
  entropy: Float32Array;
  topIds: BigInt64Array;
  topLogprobs: Float32Array;
  k: number;
}

/** rowStats() from the graph's own statistics of row r. */
function statsRow(s: InGraphStats, r: number, topK: number, tokenText: (id: number) => string): RowStats {
  const lp = s.logprob[r];
  const top = [];
  for (let j = 0; j < Math.min(topK, s.k); j++) {
    const id = Number(s.topIds[r * s.k + j]);
    top.push({ id, text: tokenText(id), prob: Math.exp(s.topLogprobs[r * s.k + j]) });
  }
  return {
    nats: -lp,
    score: { surprisalBits: -lp / Math.LN2, rank: 1 + s.greater[r], entropyBits: Math.max(0, s.entropy[r]) / Math.LN2, top },
  };
}

interface ScoredSequence {
  scores: TokenScore[] | null;
  nats: Float64Array;
}

/**
 * Text is cut into pieces of about this many characters for tokenizing (tokenizer.ts pieceEnd): what
 * a piece allocates is garbage once its ids are copied out, and small pieces keep little of it alive
 * at each collection (BENCHMARKS.md, "Flat memory").
 */
const CHUNK_CHARS = 1 << 11;

function checkText(text: string): void {
  if (typeof text !== 'string' || text.length === 0) throw new ProbeError('EMPTY_TEXT', 'the text is empty: nothing to probe');
  if (text.trim().length === 0) throw new ProbeError('EMPTY_TEXT', 'the text is only whitespace: nothing to probe');
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    throw new ProbeError('BAD_TEXT', `the text holds a NUL character (U+0000) at offset ${nul}: it looks like binary data, not text`);
  }
}

export interface NatsResult {
  /** -ln p of each token given the text before it (nats). */
  forward: Float64Array;
  /** -ln q of each token given the text after it, or null without a backward model. */
  backward: Float64Array | null;
  summary: ProbeSummary;
  runtime: RuntimeInfo;
  warnings: string[];
}

/** Mean log-perplexity per direction, total surprisal and delta (Papadopoulos et al. 2024) of per-token nats. */
export function summaryOf(forward: Float64Array, backward: Float64Array | null): ProbeSummary {
  const N = forward.length;
  const f = forward.reduce((a, b) => a + b, 0);
  const b = backward ? backward.reduce((x, y) => x + y, 0) : 0;
  const Lf = f / N;
  const Lb = b / N;
  const ci = backward ? selectionDeltaInterval(forward, backward) : null;
  return {
    tokenCount: N,
    forward: { meanNats: Lf, totalBits: f / Math.LN2 },
    backward: backward ? { meanNats: Lb, totalBits: b / Math.LN2 } : null,
    delta: backward ? (Lb - Lf) / ((Lb + Lf) / 2) : null,
    deltaInterval: ci ? ci.interval : null,
    ...(ci?.note ? { deltaIntervalNote: ci.note } : {}),
  };
}

/**
 * Tokens' UTF-16 [start, end) offsets, two to a token in one Uint32Array: a two-element array per
 * token takes about four times the memory, the largest thing a long probe --json kept.
 */
class OffsetList {
  private a = new Uint32Array(2048);
  length = 0;

  push(start: number, end: number): void {
    if (2 * this.length + 2 > this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[2 * this.length] = start;
    this.a[2 * this.length + 1] = end;
    this.length++;
  }

  at(i: number): [number, number] {
    return [this.a[2 * i], this.a[2 * i + 1]];
  }

  slice(from: number, to: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = from; i < Math.min(to, this.length); i++) out.push(this.at(i));
    return out;
  }
}

/**
 * Pairs the two directions' runs of scores into tokens for probe's onTokens. Each direction's runs
 * arrive in text order from token 0 (scoreBoth), so the tokens both have scored are passed on and
 * dropped: what is held is the lead of one direction over the other.
 */
function tokenMerger(
  text: string,
  enc: { ids: ArrayLike<number>; offsets: OffsetList },
  both: boolean,
  sink: (tokens: ProbeToken[]) => void | Promise<void>,
): (direction: Direction, scores: TokenScore[]) => void | Promise<void> {
  const pending: Record<Direction, TokenScore[]> = { forward: [], backward: [] };
  let next = 0;
  return (direction, scores) => {
    for (const s of scores) pending[direction].push(s);
    const n = both ? Math.min(pending.forward.length, pending.backward.length) : pending.forward.length;
    if (n === 0) return;
    const fw = pending.forward.splice(0, n);
    const bw = both ? pending.backward.splice(0, n) : null;
    const tokens = fw.map((forward, k): ProbeToken => {
      const i = next + k;
      const [start, end] = enc.offsets.at(i);
      return { index: i, id: enc.ids[i], text: text.slice(start, end), start, end, forward, backward: bw ? bw[k] : null };
    });
    next += n;
    return sink(tokens);
  };
}

function checkCancel(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProbeError('CANCELLED', 'the probe was cancelled');
}

function inputType(s: Session, name: string): string {
  const m = (s.inputMetadata ?? []).find((x) => x.name === name);
  return m && m.isTensor ? String(m.type) : 'int64';
}

function intTensor(type: string, B: number, S: number, at: (b: number, i: number) => number): ort.Tensor {
  if (type === 'int32') {
    const d = new Int32Array(B * S);
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) d[b * S + i] = at(b, i);
    return new ort.Tensor('int32', d, [B, S]);
  }
  // int64 written as two little-endian int32 halves: ids are below 2^31, and a BigInt per id
  // would be garbage for the collector (millions on a long text).
  const d = new BigInt64Array(B * S);
  const halves = new Int32Array(d.buffer);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < S; i++) {
      const x = at(b, i);
      halves[2 * (b * S + i)] = x;
      halves[2 * (b * S + i) + 1] = x < 0 ? -1 : 0;
    }
  return new ort.Tensor('int64', d, [B, S]);
}

function checkNames(pack: LoadedPack, direction: Direction, s: Session): void {
  const g = pack.manifest.graph;
  const statInputs: string[] = g.statistics ? STAT_INPUTS.map((k) => g.statistics![k]) : [];
  const extra = s.inputNames.filter((n) => n !== g.inputs.inputIds && n !== 'attention_mask' && !statInputs.includes(n));
  if (extra.length) {
    throw new ProbeError(
      'BAD_PACK',
      `model pack ${pack.dir}: the ${direction} graph has inputs ${extra.map((n) => JSON.stringify(n)).join(', ')} besides graph.inputs.inputIds: expected only input_ids (and optionally attention_mask), docs/model-pack.md`,
    );
  }
  const t = inputType(s, g.inputs.inputIds);
  if (t !== 'int64' && t !== 'int32') {
    throw new ProbeError('BAD_PACK', `model pack ${pack.dir}: ${direction} graph input "${g.inputs.inputIds}": expected int64 token ids, got ${t}`);
  }
  if (!s.inputNames.includes(g.inputs.inputIds)) {
    throw new ProbeError(
      'BAD_PACK',
      `model pack ${pack.dir}: field "graph.inputs.inputIds": expected an input of the ${direction} graph (it has ${s.inputNames.map((n) => JSON.stringify(n)).join(', ')}), got ${JSON.stringify(g.inputs.inputIds)}`,
    );
  }
  for (const [key, name] of [...Object.entries(g.outputs), ...Object.entries(g.statistics ?? {}).filter(([k]) => !(STAT_INPUTS as readonly string[]).includes(k))]) {
    if (name && !s.outputNames.includes(name)) {
      throw new ProbeError(
        'BAD_PACK',
        `model pack ${pack.dir}: field "graph.outputs.${key}": expected an output of the ${direction} graph (it has ${s.outputNames.map((n) => JSON.stringify(n)).join(', ')}), got ${JSON.stringify(name)}`,
      );
    }
  }
}
