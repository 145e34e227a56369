// Future-token probes (Pal et al. 2023 "Future Lens"; Wu et al. 2024): for layer l and offset k,
// a linear map from the residual state h_l[t] to the final-layer residual h_L[t+k-1] (the state
// from which the model itself predicts token t+k), decoded through the pack's head (final norm +
// unembedding). Fitted by ridge regression from streamed statistics (ridge.ts), one penalty per
// map chosen by held-out mean squared error on a grid. File format: probes.ts.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ProbeError } from '../errors';
import type { AnalysisEngine, RunOutputLike } from './host';
import { batchedAffine, batchedXtY, runHead, top1Logits } from './host';
import { headTop1 } from './headTop1';
import type { BigramTable, LoadedProbes, ProbeMapData, ProbesHeader } from './probes';
import { RidgeStats, heldOutMse, solveRidge } from './ridge';
import type { LoadedBaselines } from './baselines';
import { PAIRED_RESAMPLES, PAIRED_SEED, chooseUnits, pairedDifference, type PairedInterval } from './pairedBootstrap';
import { argmaxRow, greedyRollout } from './rollout';

export const DEFAULT_OFFSETS = [1, 2, 3];
export const DEFAULT_LAMBDAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1];

/** Top-1 of each probe at each position of one window: [mapIndex] -> ids/probs of length T. */
export interface DecodedWindow {
  keys: { layer: number; offset: number }[];
  ids: Int32Array[];
  probs: Float32Array[];
}

/** Logit floats per head call, to keep memory bounded. */
const HEAD_BATCH_FLOATS = 4 * 1024 * 1024;

export async function decodeWindow(
  engine: AnalysisEngine,
  probes: LoadedProbes,
  out: RunOutputLike,
  keys: { layer: number; offset: number }[],
): Promise<DecodedWindow> {
  const { T, V, D } = out.dims;
  if (!out.hidden) throw new ProbeError('BAD_PACK', `model pack ${engine.pack.dir} has no hidden states: the future-token probes need them`);
  const hidden = out.hidden;
  const ids: Int32Array[] = keys.map(() => new Int32Array(T));
  const probs: Float32Array[] = keys.map(() => new Float32Array(T));
  const pending: number[] = [];
  const identity: number[] = [];
  keys.forEach((k, i) => {
    const m = probes.get(k.layer, k.offset);
    if (!m) throw new ProbeError('BAD_ARGUMENT', `probe file ${probes.path} has no map for layer ${k.layer}, offset ${k.offset}`);
    if (m.identity && k.layer === out.dims.L) identity.push(i);
    else pending.push(i);
  });
  // The identity probe at (L, 1) is the model itself: its own logits, no head pass.
  for (const i of identity) await top1Logits(out.logits, T, V, ids[i], probs[i]);
  const perBatch = Math.max(1, Math.floor(HEAD_BATCH_FLOATS / (T * V)));
  const groups: number[][] = [];
  for (let p0 = 0; p0 < pending.length; p0 += perBatch) groups.push(pending.slice(p0, p0 + perBatch));
  // Groups go through ONNX Runtime two at a time: one computes while the other's results are read.
  const decodeGroup = async (group: number[]) => {
    // y = x A + b for the group's maps in one batched ONNX Runtime run.
    const G = group.length;
    const x = new Float32Array(G * T * D);
    const As = new Float32Array(G * D * D);
    const bs = new Float32Array(G * D);
    group.forEach((i, g) => {
      const m = probes.get(keys[i].layer, keys[i].offset)!;
      x.set(hidden.subarray(keys[i].layer * T * D, (keys[i].layer + 1) * T * D), g * T * D);
      As.set(m.a, g * D * D);
      bs.set(m.bias, g * D);
    });
    const y = await batchedAffine(x, As, bs, G, T, D, D);
    const gi = new Int32Array(G * T);
    const gp = new Float32Array(G * T);
    // head + top-1 in one ONNX Runtime run where possible (headTop1.ts), else apart
    if (!(await headTop1(engine, y, G * T, gi, gp))) await top1Logits(await runHead(engine, y, G * T), G * T, V, gi, gp);
    group.forEach((i, g) => {
      ids[i].set(gi.subarray(g * T, (g + 1) * T));
      probs[i].set(gp.subarray(g * T, (g + 1) * T));
    });
  };
  for (let g0 = 0; g0 < groups.length; g0 += 2) await Promise.all(groups.slice(g0, g0 + 2).map(decodeGroup));
  return { keys, ids, probs };
}

/** y[t] = x[t] A + b for T rows of width D (A row-major D x D). */
export function applyMap(x: Float32Array, x0: number, T: number, D: number, A: Float32Array, b: Float32Array, y: Float32Array, y0: number): void {
  const acc = new Float64Array(D);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < D; j++) acc[j] = b[j];
    const xb = x0 + t * D;
    for (let i = 0; i < D; i++) {
      const xi = x[xb + i];
      if (xi === 0) continue;
      const r = i * D;
      for (let j = 0; j < D; j++) acc[j] += xi * A[r + j];
    }
    const yb = y0 + t * D;
    for (let j = 0; j < D; j++) y[yb + j] = acc[j];
  }
}

/** Argmax and its softmax probability for each of T rows of V logits. */
export function top1Rows(logits: ArrayLike<number>, V: number, T: number, ids: Int32Array, probs: Float32Array): void {
  for (let t = 0; t < T; t++) {
    const b = t * V;
    let best = 0;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) {
      const z = logits[b + v];
      if (z > mx) {
        mx = z;
        best = v;
      }
    }
    // Terms below max - 40 add less than 4e-18 each to a sum >= 1: skip their exp.
    const cut = mx - 40;
    let s = 0;
    for (let v = 0; v < V; v++) {
      const z = logits[b + v];
      if (z > cut) s += Math.exp(z - mx);
    }
    ids[t] = best;
    probs[t] = 1 / s;
  }
}

// ---- bigram baseline --------------------------------------------------------------------------

/** Counts of (token, token k later) pairs, for the baseline "most frequent follower at distance k". */
export class BigramCounter {
  private readonly pairs: Map<number, number>[];
  private readonly unigram: Float64Array;

  constructor(
    readonly vocabSize: number,
    readonly offsets: number[],
  ) {
    this.pairs = offsets.map(() => new Map());
    this.unigram = new Float64Array(vocabSize);
  }

  /** Adds the pairs (ids[t], ids[t+k]) for t in [from, to) with t + k < ids.length. */
  add(ids: ArrayLike<number>, from = 0, to = ids.length): void {
    const V = this.vocabSize;
    for (let t = from; t < to; t++) {
      this.unigram[ids[t]]++;
      this.offsets.forEach((k, i) => {
        if (t + k >= ids.length) return;
        const key = ids[t] * V + ids[t + k];
        const m = this.pairs[i];
        m.set(key, (m.get(key) ?? 0) + 1);
      });
    }
  }

  /** The raw counts (pair keys a * V + b ascending, per offset): what shards of a fit store and merge adds. */
  counts(): { unigram: Float64Array; pairs: { keys: Float64Array; counts: Float64Array }[] } {
    return {
      unigram: this.unigram.slice(),
      pairs: this.pairs.map((m) => {
        const keys = Float64Array.from(m.keys()).sort();
        return { keys, counts: Float64Array.from(keys, (k) => m.get(k)!) };
      }),
    };
  }

  /** Adds counts from counts() of another counter with the same vocabulary and offsets. */
  addCounts(c: { unigram: ArrayLike<number>; pairs: { keys: ArrayLike<number>; counts: ArrayLike<number> }[] }): void {
    if (c.unigram.length !== this.vocabSize || c.pairs.length !== this.offsets.length) throw new Error('bigram counts of another vocabulary or offsets');
    for (let v = 0; v < this.vocabSize; v++) this.unigram[v] += c.unigram[v];
    c.pairs.forEach((p, i) => {
      const m = this.pairs[i];
      for (let j = 0; j < p.keys.length; j++) m.set(p.keys[j], (m.get(p.keys[j]) ?? 0) + p.counts[j]);
    });
  }

  table(): BigramTable {
    const V = this.vocabSize;
    let fb = 0;
    for (let v = 1; v < V; v++) if (this.unigram[v] > this.unigram[fb]) fb = v;
    const next = this.pairs.map((m) => {
      const best = new Array<number>(V).fill(-1);
      const bestCount = new Float64Array(V);
      // Ties go to the smaller token id, so the table does not depend on insertion order.
      for (const [key, c] of m) {
        const a = Math.floor(key / V);
        const b = key - a * V;
        if (c > bestCount[a] || (c === bestCount[a] && b < best[a])) {
          bestCount[a] = c;
          best[a] = b;
        }
      }
      return best;
    });
    return { offsets: this.offsets.slice(), next, fallback: this.offsets.map(() => fb) };
  }
}

export function bigramPredict(table: BigramTable, offsetIndex: number, token: number): number {
  const p = table.next[offsetIndex][token];
  return p >= 0 ? p : table.fallback[offsetIndex];
}

// ---- reading text in bounded chunks -----------------------------------------------------------

const CHUNK_CHARS = 64 * 1024;
const PIECE_CHARS = 8 * 1024;

/** Splits a text into chunks of about CHUNK_CHARS at line ends, tokenized one at a time. */
export function* textChunks(text: string, size = CHUNK_CHARS): Generator<string> {
  let i = 0;
  while (i < text.length) {
    let j = Math.min(text.length, i + size);
    if (j < text.length) {
      const nl = text.lastIndexOf('\n', j);
      if (nl > i) j = nl + 1;
    }
    yield text.slice(i, j);
    i = j;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProbeError('BAD_ARGUMENT', `cannot read ${file}: ${(e as Error).message}`);
  }
}

function fileBytes(files: string[]): number {
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch {
      throw new ProbeError('BAD_ARGUMENT', `cannot read ${f}: no such file`);
    }
  }
  return n;
}

export interface Progress {
  done: number;
  total: number;
  stage: string;
}

/** Non-overlapping windows of at most W tokens over a chunk's ids (the last may be shorter). */
function windowsOf(n: number, W: number, minLen: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += W) {
    const len = Math.min(W, n - s);
    if (len >= minLen) out.push([s, len]);
  }
  return out;
}

// ---- fitting ----------------------------------------------------------------------------------

export interface FitOptions {
  files: string[];
  /** Held-out text for choosing the penalty; by default every `heldOutEvery`-th window of files. */
  heldOutFiles?: string[];
  heldOutEvery?: number;
  /** Fitting tokens to use at most (windows are sampled evenly through the text). Default 200,000. */
  maxTokens?: number;
  lambdas?: number[];
  offsets?: number[];
  /** Regress onto the final-layer residual as it is, or layer-normalized (default). */
  targetSpace?: 'residual' | 'normalized';
  /**
   * Sharding hook (lm-probe fit-probes --shard): which files this process runs the model on, by
   * index into `files` followed by `heldOutFiles`. Every file is still read and its sampled pieces
   * tokenized, so that the sample, the held-out split and the token counts are exactly those of one
   * run over all files; the windows of excluded files are only planned, not run or accumulated.
   * Default: every file.
   */
  include?: (fileIndex: number) => boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface FitResult {
  meta: Omit<ProbesHeader, 'format' | 'formatVersion' | 'binary' | 'dtype' | 'byteOrder' | 'maps'>;
  maps: ProbeMapData[];
}

/** The (layer, offset) keys of a fit, in the order of its statistics and maps. */
export function fitKeys(layers: number, offsets: number[]): { layer: number; offset: number }[] {
  const keys: { layer: number; offset: number }[] = [];
  for (let l = 0; l <= layers; l++) for (const k of offsets) keys.push({ layer: l, offset: k });
  return keys;
}

/** What a fit accumulates before solving: mergeable by adding (shards of one plan). */
export interface FitAccumulation {
  keys: { layer: number; offset: number }[];
  /** Statistics per key (empty for the identity map (L, 1)). */
  train: RidgeStats[];
  held: RidgeStats[];
  bigram: BigramCounter;
  /** Of the whole plan (every file), whichever files this process ran. */
  trainTokens: number;
  heldTokens: number;
  windows: number;
  /** sha256 of the plan: every window's destination, file and token ids, in order. */
  planSha256: string;
  /** What this process ran: all of the plan without `include`. */
  ran: { windows: number; tokens: number };
}

/** Everything but the statistics that the solve and the probe file's header need. */
export interface FitSettings {
  width: number;
  modelLayers: number;
  vocabSize: number;
  offsets: number[];
  lambdas: number[];
  targetSpace: 'residual' | 'normalized';
  files: string[];
  heldOutFiles: string[];
  pack: string;
}

export function fitSettings(engine: AnalysisEngine, opts: FitOptions): FitSettings {
  const a = engine.pack.manifest.architecture;
  return {
    width: a.width,
    modelLayers: a.layers,
    vocabSize: a.vocabSize,
    offsets: opts.offsets ?? DEFAULT_OFFSETS,
    lambdas: opts.lambdas ?? DEFAULT_LAMBDAS,
    targetSpace: opts.targetSpace ?? 'normalized',
    files: opts.files.slice(),
    heldOutFiles: (opts.heldOutFiles ?? []).slice(),
    pack: engine.pack.manifest.name,
  };
}

export async function fitProbes(engine: AnalysisEngine, opts: FitOptions): Promise<FitResult> {
  const acc = await accumulateFit(engine, opts);
  return solveFit(acc, fitSettings(engine, opts), opts);
}

/** The sampling and accumulation of a fit (see the README's Sampling): statistics, not yet solved. */
export async function accumulateFit(engine: AnalysisEngine, opts: FitOptions): Promise<FitAccumulation> {
  const m = engine.pack.manifest;
  if (!m.graph.outputs.hiddenStates) throw new ProbeError('BAD_PACK', `model pack ${engine.pack.dir} has no hidden states: probes cannot be fitted`);
  if (!engine.pack.files.head) throw new ProbeError('BAD_PACK', `model pack ${engine.pack.dir} has no "head" graph: probes cannot be decoded`);
  if (opts.files.length === 0) throw new ProbeError('BAD_ARGUMENT', 'fit-probes: no text files given');
  const { layers: L, width: D, vocabSize: V } = m.architecture;
  const W = m.contextLength - 1;
  const offsets = opts.offsets ?? DEFAULT_OFFSETS;
  const K = Math.max(...offsets);
  const lambdas = opts.lambdas ?? DEFAULT_LAMBDAS;
  const maxTokens = opts.maxTokens ?? 200_000;
  const every = opts.heldOutEvery ?? 10;
  const include = opts.include ?? (() => true);
  const keys = fitKeys(L, offsets);
  const isIdentity = (l: number, k: number) => l === L && k === 1;
  const train = keys.map(() => new RidgeStats(D, D));
  const held = keys.map(() => new RidgeStats(D, D));
  const bigram = new BigramCounter(V, offsets);
  const plan = createHash('sha256');
  const ran = { windows: 0, tokens: 0 };

  const heldFiles = opts.heldOutFiles ?? [];
  const trainBytes = fileBytes(opts.files);
  const heldBytes = fileBytes(heldFiles);
  // Sample windows evenly: guess tokens from bytes (about 3.5 bytes a token; refined as we go).
  let bytesPerToken = 3.5;
  const progress: Progress = { done: 0, total: 0, stage: 'fit' };
  let trainTokens = 0;
  let heldTokens = 0;
  let windows = 0;
  let seenBytes = 0;
  let seenTokens = 0;

  const targetSpace = opts.targetSpace ?? 'normalized';
  // One planned window: hashed into the plan; run and accumulated when its file is included.
  const runWindow = async (file: number, win: number[], into: 'train' | 'held', bigramFrom?: { ids: number[]; s: number }) => {
    plan.update(`${into} ${file} ${win.length}:${win.join(',')}\n`);
    if (!include(file)) return;
    const out = await engine.run('forward', win);
    await accumulateWindow(out, keys, into === 'train' ? train : held, isIdentity, targetSpace === 'normalized');
    if (bigramFrom) bigram.add(bigramFrom.ids, bigramFrom.s, bigramFrom.s + win.length);
    ran.windows++;
    ran.tokens += win.length;
  };

  // Without held-out files the last fitting window waits: with a single window in all, part of it is held out.
  let pending: { ids: number[]; s: number; len: number; file: number } | null = null;
  const flushPending = async () => {
    if (!pending) return;
    const p = pending;
    pending = null;
    await runWindow(p.file, p.ids.slice(p.s, p.s + p.len), 'train', p);
  };

  // Pieces of about 8 KB are kept evenly through the text (a share of them sized to the token
  // budget, from the bytes per token seen so far); the others are not even tokenized. What is
  // sampled and held out depends on the text alone, never on the model's outputs (so shards of
  // one plan can be merged).
  const pass = async (files: string[], fileBase: number, totalBytes: number, budget: number, heldOutPass: boolean) => {
    let piece = 0;
    const estPieces = Math.max(1, Math.ceil(totalBytes / PIECE_CHARS));
    for (let fi = 0; fi < files.length; fi++) {
      const file = fileBase + fi;
      const text = readText(files[fi]);
      for (const chunk of textChunks(text, PIECE_CHARS)) {
        checkCancel(opts.signal);
        const used = heldOutPass ? heldTokens : trainTokens + (heldFiles.length ? 0 : heldTokens);
        if (used >= budget) return;
        const frac = Math.min(1, (1.3 * budget * bytesPerToken) / Math.max(1, totalBytes));
        // A budget smaller than one piece still takes one: the middle piece (else none at all).
        const take = frac * estPieces < 1 ? evenPick(piece, 1 / estPieces) : Math.floor((piece + 1) * frac) > Math.floor(piece * frac);
        piece++;
        if (!take) continue;
        const ids = engine.tokenize(chunk).ids;
        seenBytes += Buffer.byteLength(chunk);
        seenTokens += ids.length;
        bytesPerToken = seenBytes / Math.max(1, seenTokens);
        for (const [s, len] of windowsOf(ids.length, W, K + 1)) {
          const used2 = heldOutPass ? heldTokens : trainTokens + (heldFiles.length ? 0 : heldTokens);
          if (used2 >= budget) break;
          // Without held-out files every `every`-th window is held out, and so is the second window
          // when none is yet: small budgets (a dozen windows) still choose the penalty on held-out text.
          const toHeld = heldOutPass || (heldFiles.length === 0 && (windows % every === every - 1 || (heldTokens === 0 && windows === 1)));
          if (toHeld) {
            await runWindow(file, ids.slice(s, s + len), 'held');
            heldTokens += len;
          } else if (heldFiles.length === 0) {
            await flushPending();
            pending = { ids, s, len, file };
            trainTokens += len;
          } else {
            await runWindow(file, ids.slice(s, s + len), 'train', { ids, s });
            trainTokens += len;
          }
          windows++;
          progress.done = Math.min(progress.total, trainTokens + heldTokens);
          opts.onProgress?.({ ...progress });
        }
      }
    }
  };
  const heldBudget = heldFiles.length ? Math.ceil(maxTokens / 5) : 0;
  progress.total = maxTokens + heldBudget + (heldFiles.length ? 0 : Math.ceil(maxTokens / (every - 1)));
  await pass(opts.files, 0, trainBytes, maxTokens + (heldFiles.length ? 0 : Math.ceil(maxTokens / (every - 1))), false);
  // A text of one window (no held-out files): its last tenth (at least K + 1 tokens) is held out,
  // as a window of its own, so the penalty is still chosen on text the fit has not seen.
  const last = pending as { ids: number[]; s: number; len: number; file: number } | null;
  const hold = last ? Math.max(K + 1, Math.round(last.len / 10)) : 0;
  if (last && heldTokens === 0 && last.len - hold >= K + 1) {
    pending = null;
    const cut = last.len - hold;
    const part = last.ids.slice(last.s, last.s + cut);
    await runWindow(last.file, part, 'train', { ids: part, s: 0 });
    await runWindow(last.file, last.ids.slice(last.s + cut, last.s + last.len), 'held');
    trainTokens -= hold;
    heldTokens += hold;
    windows++;
  }
  await flushPending();
  if (heldFiles.length) {
    await pass(heldFiles, opts.files.length, heldBytes, heldBudget, true);
  }
  if (trainTokens === 0) throw new ProbeError('BAD_ARGUMENT', `fit-probes: the files hold too little text (need windows of at least ${K + 1} tokens)`);
  if (heldTokens === 0 && lambdas.length > 1) {
    throw new ProbeError(
      'BAD_ARGUMENT',
      heldFiles.length
        ? `fit-probes: the --held-out files gave no held-out text (need windows of at least ${K + 1} tokens); the penalty cannot be chosen`
        : `fit-probes: no held-out text: the text is too short to hold part of it out (${trainTokens} tokens; a held-out part needs ${K + 1} tokens and leaves at least ${K + 1} to fit); give more text, --held-out FILE, or one --lambdas value`,
    );
  }
  return { keys, train, held, bigram, trainTokens, heldTokens, windows, planSha256: plan.digest('hex'), ran };
}

/** Solves every map from accumulated statistics (one process's, or the sum of shards'). */
export function solveFit(acc: FitAccumulation, s: FitSettings, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal } = {}): FitResult {
  const { modelLayers: L, width: D, lambdas, offsets } = s;
  const { keys, train, held } = acc;
  const isIdentity = (l: number, k: number) => l === L && k === 1;
  const maps: ProbeMapData[] = [];
  for (let i = 0; i < keys.length; i++) {
    checkCancel(opts.signal);
    const { layer, offset } = keys[i];
    if (isIdentity(layer, offset)) {
      const A = new Float64Array(D * D);
      for (let j = 0; j < D; j++) A[j * D + j] = 1;
      maps.push({ layer, offset, identity: true, lambda: null, heldOutMse: null, A, b: new Float64Array(D) });
      continue;
    }
    let best = { lambda: lambdas[0], mse: Infinity };
    if (held[i].n > 0 && lambdas.length > 1) {
      for (const lam of lambdas) {
        let mse = Infinity;
        try {
          mse = heldOutMse(held[i], solveRidge(train[i], lam));
        } catch {
          /* not positive definite at this penalty: skip it */
        }
        if (mse < best.mse) best = { lambda: lam, mse };
      }
    } else best = { lambda: lambdas.length > 1 ? 1e-3 : lambdas[0], mse: NaN };
    // Final fit on fitting + held-out statistics with the chosen penalty.
    const all = held[i].n > 0 ? train[i].merge(held[i]) : train[i];
    const fit = solveRidge(all, best.lambda);
    maps.push({ layer, offset, identity: false, lambda: best.lambda, heldOutMse: Number.isFinite(best.mse) ? best.mse : null, A: fit.A, b: fit.b });
    opts.onProgress?.({ done: i + 1, total: keys.length, stage: 'solve' });
  }
  return {
    meta: {
      width: D,
      modelLayers: L,
      vocabSize: s.vocabSize,
      layers: Array.from({ length: L + 1 }, (_, l) => l),
      offsets,
      lambdaGrid: lambdas,
      targetSpace: s.targetSpace,
      selection:
        'per map, the lambda of the grid with the least held-out mean squared error of the predicted final-layer residual ' +
        '(lambda is relative: the penalty is lambda * tr(Cov(x)) / D on the centered statistics, bias unpenalized); then refit on fitting + held-out text',
      fittedOn: {
        files: s.files.concat(s.heldOutFiles.map((f) => `${f} (held out)`)),
        tokens: acc.trainTokens,
        heldOutTokens: acc.heldTokens,
        windows: acc.windows,
        pack: s.pack,
      },
      bigram: acc.bigram.table(),
      createdAt: new Date().toISOString(),
    },
    maps,
  };
}

/**
 * A copy of the hidden states whose last layer rows are layer-normalized without affine terms
 * (mean 0, variance 1 per row): the target space of probes with targetSpace "normalized". The
 * head's own final norm leaves such a vector unchanged up to its eps, so head(y) still decodes it,
 * and the least-squares fit no longer weighs rows by their (widely varying) residual norms.
 */
export function withNormalizedTop(out: RunOutputLike): Float32Array {
  const { T, L, D } = out.dims;
  const h = out.hidden!.slice();
  for (let t = 0; t < T; t++) {
    const b = (L * T + t) * D;
    let m = 0;
    for (let j = 0; j < D; j++) m += h[b + j];
    m /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (h[b + j] - m) ** 2;
    const inv = 1 / Math.sqrt(v / D + 1e-5);
    for (let j = 0; j < D; j++) h[b + j] = (h[b + j] - m) * inv;
  }
  return h;
}

/**
 * Adds one window's rows to the statistics of every (layer, offset) map: x = h_l[t], y = h_L[t+k-1]
 * for t = 0..T-k. The products come from one batched x'[x | y_1 | ... | y_K] in ONNX Runtime
 * (float32 within a window, float64 across windows); y_k is zero past T-k, and the few rows of
 * x'x past T-k are taken off in float64.
 */
export async function accumulateWindow(
  out: RunOutputLike,
  keys: { layer: number; offset: number }[],
  into: RidgeStats[],
  skip: (layer: number, offset: number) => boolean = () => false,
  normalizeTarget = false,
): Promise<void> {
  const { T, L, D } = out.dims;
  const h = normalizeTarget ? withNormalizedTop(out) : out.hidden!;
  const offsets = [...new Set(keys.map((k) => k.offset))].sort((a, b) => a - b);
  const K = offsets.length;
  const N = D * (1 + K);
  const B = L + 1;
  const y = new Float32Array(B * T * N);
  const top = L * T * D;
  for (let l = 0; l < B; l++)
    for (let t = 0; t < T; t++) {
      const row = (l * T + t) * N;
      y.set(h.subarray((l * T + t) * D, (l * T + t + 1) * D), row);
      offsets.forEach((k, oi) => {
        if (t + k - 1 < T && t <= T - k) y.set(h.subarray(top + (t + k - 1) * D, top + (t + k) * D), row + D * (1 + oi));
      });
    }
  const z = await batchedXtY(h, y, B, T, D, N);
  keys.forEach((key, i) => {
    const { layer: l, offset: k } = key;
    if (skip(l, k)) return;
    const count = T - k + 1;
    if (count <= 0) return;
    const oi = offsets.indexOf(k);
    const zb = l * D * N;
    const xb = l * T * D;
    const sx = new Float64Array(D);
    const sy = new Float64Array(D);
    let syy = 0;
    for (let t = 0; t < count; t++) {
      for (let j = 0; j < D; j++) sx[j] += h[xb + t * D + j];
      for (let j = 0; j < D; j++) {
        const v = h[top + (t + k - 1) * D + j];
        sy[j] += v;
        syy += v * v;
      }
    }
    // rows t = count..T-1 are in x'x (block 0) but not in this map's rows
    const tail = (i2: number, j2: number) => {
      let s = 0;
      for (let t = count; t < T; t++) s += h[xb + t * D + i2] * h[xb + t * D + j2];
      return s;
    };
    into[i].addMoments(
      count,
      sx,
      sy,
      syy,
      (a, b) => z[zb + a * N + b] - (count < T ? tail(a, b) : 0),
      (a, b) => z[zb + a * N + D * (1 + oi) + b],
    );
  });
}

// ---- evaluation -------------------------------------------------------------------------------

/** One probe (the best layer for its offset) against one baseline, on the same positions. */
export interface EvalComparison {
  offset: number;
  layer: number;
  baseline: 'skip-bigram (training split)' | 'greedy rollout' | "bigram (probes' fitting text)";
  probe: number;
  baselinePrecision: number;
  /** probe - baseline, and its paired 95% bootstrap interval (null: too few units, see EvalReport.intervalNote). */
  difference: number;
  interval: PairedInterval | null;
  positions: number;
}

export interface EvalReport {
  source: string;
  files: string[];
  tokens: number;
  /** Files with evaluated windows (the bootstrap's documents), and the windows read. */
  documents: number;
  windows: number;
  layers: number[];
  offsets: number[];
  /** precisionAt1[layerIndex][offsetIndex]: share of positions t (with a token at t+k) where the probe's top-1 is that token. */
  precisionAt1: number[][];
  /** Positions counted per offset. */
  positions: number[];
  /** Baseline: most frequent token at distance k after token t in the probes' fitting text (unseen t: most frequent token). */
  bigramPrecisionAt1: number[] | null;
  /** Same baseline fitted on the evaluated text itself (in-sample, an optimistic bound). */
  bigramInSamplePrecisionAt1: number[];
  /** The pack's skip-bigram of the model's whole training split (baselines.json), per offset; null without one. */
  skipBigram: { precisionAt1: number[]; countedOnTokens: number; source: string } | null;
  /** The model's greedy rollout, on every `every`-th position (precisionAt1 and positions per offset); null when off. */
  rollout: { precisionAt1: number[]; positions: number[]; every: number } | null;
  /** argmax of the model's logits at t equals token t+1, over the k = 1 positions. */
  modelNextTokenAccuracy: number;
  best: { offset: number; layer: number; precisionAt1: number; bigram: number | null }[];
  /** The best probe of each offset against each baseline, with paired bootstrap intervals. */
  comparisons: EvalComparison[];
  /** Why some interval is missing, or over what it resamples. */
  intervalNote: string;
}

export interface EvalOptions {
  maxTokens?: number;
  /** The training-split skip-bigram (the pack's baselines.json), or null. */
  baselines?: LoadedBaselines | null;
  /** Greedy rollout on every n-th position (0: none). Default 8. */
  rolloutEvery?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** Counts of one bootstrap unit (a document or a window). */
interface EvalUnit {
  pos: number[];
  hits: number[];
  bg: number[];
  sb: number[];
  roPos: number[];
  roHits: number[];
  /** Probe hits [key] at the rollout's positions. */
  roProbe: number[];
}

export async function evalProbes(engine: AnalysisEngine, probes: LoadedProbes, files: string[], opts: EvalOptions = {}): Promise<EvalReport> {
  const m = engine.pack.manifest;
  const W = m.contextLength - 1;
  const V = m.architecture.vocabSize;
  const layers = probes.header.layers;
  const offsets = probes.header.offsets;
  const K = Math.max(...offsets);
  const maxTokens = opts.maxTokens ?? 20_000;
  const every = opts.rolloutEvery ?? 8;
  const keys = layers.flatMap((layer) => offsets.map((offset) => ({ layer, offset })));
  // Gather the evaluated windows first (bounded by maxTokens) so the in-sample bigram can be fitted.
  const chunks = sampleEvalWindows(engine, files, maxTokens, W, K);
  const total = chunks.reduce((a, c) => a + c.windows.reduce((b, [, len]) => b + len, 0), 0);
  if (total === 0) throw new ProbeError('BAD_ARGUMENT', 'eval-probes: the files hold too little text');
  const inSample = new BigramCounter(V, offsets);
  for (const c of chunks) for (const [s, len] of c.windows) inSample.add(c.ids, s, s + len);
  const inTable = inSample.table();
  const fitTable = probes.header.bigram;
  const sbTable = opts.baselines?.skipBigram ?? null;
  const sbIndex = offsets.map((k) => sbTable?.offsets.indexOf(k) ?? -1);

  const newUnit = (): EvalUnit => ({
    pos: offsets.map(() => 0),
    hits: keys.map(() => 0),
    bg: offsets.map(() => 0),
    sb: offsets.map(() => 0),
    roPos: offsets.map(() => 0),
    roHits: offsets.map(() => 0),
    roProbe: keys.map(() => 0),
  });
  const byFile = new Map<number, EvalUnit>();
  const byWindow: EvalUnit[] = [];
  const bgInHits = offsets.map(() => 0);
  let modelHits = 0;
  let counter = 0;
  const nWindows = chunks.reduce((a, c) => a + c.windows.length, 0);
  let done = 0;
  for (const { ids, windows: chosen, file } of chunks) {
    let doc = byFile.get(file);
    if (!doc) byFile.set(file, (doc = newUnit()));
    for (const [s, len] of chosen) {
      checkCancel(opts.signal);
      const win = newUnit();
      const both = [doc, win];
      const add = (field: 'pos' | 'bg' | 'sb' | 'roPos' | 'roHits' | 'hits' | 'roProbe', i: number) => {
        for (const u of both) u[field][i]++;
      };
      const out = await engine.run('forward', ids.slice(s, s + len));
      const dec = await decodeWindow(engine, probes, out, keys);
      for (let t = 0; t < len; t++) {
        const abs = s + t;
        const first = argmaxRow(out.logits, V, t);
        const rolled = every > 0 && counter++ % every === 0 && abs + 1 < ids.length ? await greedyRollout(engine, ids.slice(s, abs + 1), first, K, W, V) : null;
        offsets.forEach((k, oi) => {
          if (abs + k >= ids.length) return;
          const actual = ids[abs + k];
          add('pos', oi);
          if (fitTable && bigramPredict(fitTable, oi, ids[abs]) === actual) add('bg', oi);
          if (sbTable && sbIndex[oi] >= 0 && bigramPredict(sbTable, sbIndex[oi], ids[abs]) === actual) add('sb', oi);
          if (bigramPredict(inTable, oi, ids[abs]) === actual) bgInHits[oi]++;
          if (k === 1 && first === actual) modelHits++;
          if (rolled) {
            add('roPos', oi);
            if (rolled[k - 1] === actual) add('roHits', oi);
          }
        });
        keys.forEach((key, i) => {
          const k = key.offset;
          if (abs + k >= ids.length || dec.ids[i][t] !== ids[abs + k]) return;
          add('hits', i);
          if (rolled) add('roProbe', i);
        });
      }
      byWindow.push(win);
      opts.onProgress?.({ done: ++done, total: nWindows, stage: 'eval' });
    }
  }
  const docs = [...byFile.values()];
  const sum = (f: (u: EvalUnit) => number) => docs.reduce((a, u) => a + f(u), 0);
  const pos = offsets.map((_, oi) => sum((u) => u.pos[oi]));
  const rate = (h: number, n: number) => h / Math.max(1, n);
  const precisionAt1 = layers.map((_, li) => offsets.map((_k, oi) => rate(sum((u) => u.hits[li * offsets.length + oi]), pos[oi])));
  const bigramPrecisionAt1 = fitTable ? offsets.map((_, oi) => rate(sum((u) => u.bg[oi]), pos[oi])) : null;
  const best = offsets.map((k, oi) => {
    let bl = 0;
    layers.forEach((_, li) => {
      if (precisionAt1[li][oi] > precisionAt1[bl][oi]) bl = li;
    });
    return { offset: k, layer: layers[bl], li: bl, precisionAt1: precisionAt1[bl][oi], bigram: bigramPrecisionAt1 ? bigramPrecisionAt1[oi] : null };
  });
  const units = chooseUnits(docs, byWindow);
  const comparisons: EvalComparison[] = [];
  const compare = (oi: number, baseline: EvalComparison['baseline'], a: (u: EvalUnit) => number, b: (u: EvalUnit) => number, n: (u: EvalUnit) => number) => {
    const N = sum(n);
    if (N === 0) return;
    const probe = rate(sum(a), N);
    const base = rate(sum(b), N);
    const interval = units.units ? pairedDifference(units.units.map((u) => ({ positions: n(u), a: a(u), b: b(u) })), units.unit) : null;
    comparisons.push({ offset: offsets[oi], layer: best[oi].layer, baseline, probe, baselinePrecision: base, difference: probe - base, interval, positions: N });
  };
  offsets.forEach((_k, oi) => {
    const key = best[oi].li * offsets.length + oi;
    if (sbTable && sbIndex[oi] >= 0) compare(oi, 'skip-bigram (training split)', (u) => u.hits[key], (u) => u.sb[oi], (u) => u.pos[oi]);
    if (every > 0) compare(oi, 'greedy rollout', (u) => u.roProbe[key], (u) => u.roHits[oi], (u) => u.roPos[oi]);
    if (fitTable) compare(oi, "bigram (probes' fitting text)", (u) => u.hits[key], (u) => u.bg[oi], (u) => u.pos[oi]);
  });
  const roPos = offsets.map((_, oi) => sum((u) => u.roPos[oi]));
  return {
    source: probes.path,
    files,
    tokens: total,
    documents: docs.length,
    windows: byWindow.length,
    layers,
    offsets,
    precisionAt1,
    positions: pos,
    bigramPrecisionAt1,
    bigramInSamplePrecisionAt1: bgInHits.map((h, oi) => rate(h, pos[oi])),
    skipBigram: sbTable && opts.baselines ? { precisionAt1: offsets.map((_, oi) => rate(sum((u) => u.sb[oi]), pos[oi])), countedOnTokens: opts.baselines.countedOn.tokens, source: opts.baselines.path } : null,
    rollout: every > 0 ? { precisionAt1: offsets.map((_, oi) => rate(sum((u) => u.roHits[oi]), roPos[oi])), positions: roPos, every } : null,
    modelNextTokenAccuracy: rate(modelHits, pos[offsets.indexOf(1)] ?? 0),
    best: best.map(({ offset, layer, precisionAt1: p, bigram }) => ({ offset, layer, precisionAt1: p, bigram })),
    comparisons,
    intervalNote: units.units
      ? `paired percentile bootstrap over ${units.units.length} ${units.unit}${units.unit === 'windows' ? ` (blocks of at most ${W} consecutive tokens: fewer than 10 documents)` : ''}, ${PAIRED_RESAMPLES} resamples, seed ${PAIRED_SEED}; the best layer is chosen on the same text`
      : units.why,
  };
}

/**
 * Picks item i of a sequence when floor(i f + 1/2) > floor((i - 1) f + 1/2): a share f of the
 * items, evenly spaced and centered (f = 1/n picks the middle one of n items).
 */
export function evenPick(i: number, f: number): boolean {
  if (f >= 1) return true;
  return Math.floor(i * f + 0.5) > Math.floor((i - 1) * f + 0.5);
}

/**
 * The windows eval-probes reads: every window of every file when they hold at most maxTokens
 * tokens (64 KB chunks, windows of W tokens: as before), else windows picked evenly through all the
 * files (so the first files do not take the whole budget). Files much larger than the budget are
 * first thinned to chunks picked evenly (about 16 bytes of text per token of budget), so that not
 * everything is tokenized. A chunk keeps all its ids: a window's t+k may lie past the window.
 */
export function sampleEvalWindows(
  engine: Pick<AnalysisEngine, 'tokenize'>,
  files: string[],
  maxTokens: number,
  W: number,
  K: number,
): { ids: number[]; windows: [number, number][]; file: number }[] {
  const totalBytes = fileBytes(files);
  const chunkShare = Math.min(1, (16 * maxTokens) / Math.max(1, totalBytes));
  const estChunks = Math.max(1, Math.ceil(totalBytes / CHUNK_CHARS));
  const all: { ids: number[]; windows: [number, number][]; file: number }[] = [];
  let piece = 0;
  let tokens = 0;
  for (const [file, f] of files.entries()) {
    for (const chunk of textChunks(readText(f))) {
      const take = evenPick(piece++, Math.max(chunkShare, 1 / estChunks));
      if (!take) continue;
      const ids = engine.tokenize(chunk).ids;
      if (ids.length < K + 1) continue;
      const windows = windowsOf(ids.length, W, 1);
      all.push({ ids, windows, file });
      tokens += ids.length;
    }
  }
  if (tokens <= maxTokens) return all;
  const share = maxTokens / tokens;
  let i = 0;
  let used = 0;
  const out: { ids: number[]; windows: [number, number][]; file: number }[] = [];
  for (const c of all) {
    const windows: [number, number][] = [];
    for (const [s, len] of c.windows) {
      if (evenPick(i++, share) && used < maxTokens) {
        const n = Math.min(len, maxTokens - used);
        windows.push([s, n]);
        used += n;
      }
    }
    if (windows.length) out.push({ ids: c.ids, windows, file: c.file });
  }
  return out;
}

function checkCancel(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProbeError('CANCELLED', 'cancelled');
}
