// The analyses on the model's internals: future-token probes (futureLens.ts), token importance
// (importance.ts, lasso.ts, infoGain.ts) and representation geometry (geometry.ts); the last two
// through stateAnalyses.ts, in worker threads. The engine's probe() calls runAnalyses() after
// surprisal when ProbeOptions.analyses asks for any of them.
import { statSync } from 'node:fs';
import { ProbeError, isProbeError } from '../errors';
import type { ProbeOptions } from '../api';
import type { Analyses, FutureGuess, FutureLensResult, ProbeResult } from '../schema';
import { bigramPredict, decodeWindow } from './futureLens';
import { argmaxRow as argmax } from './rollout';
import type { AnalysisEngine, RunOutputLike } from './host';
import { attentionRows } from './importance';
import { loadProbes, type LoadedProbes } from './probes';
import { loadBaselines, type LoadedBaselines } from './baselines';
import { REFERENCE_NAME, REFERENCE_TEXT } from './referenceText';
import { greedyRollout, rolloutPositions } from './rollout';
import type { StateJob } from './stateAnalyses';
import { runStateJobOffThread } from './stateThread';

export { lasso, lassoPath, alphaMax, designFromRows, designFromColumns } from './lasso';
export { fitProbes, evalProbes, type EvalReport, type FitOptions } from './futureLens';
export { loadProbes, writeProbes } from './probes';
export { matrixEntropy } from './geometry';
export { informationGain } from './infoGain';
export { spearman, topKOverlap } from './importance';
export type { AnalysisEngine } from './host';
export { releaseHead } from './host';

export { INFO_GAIN_LAMBDA } from './stateAnalyses';

const probeCache = new Map<string, { mtimeMs: number; probes: LoadedProbes }>();

function probesFor(engine: AnalysisEngine, file: string | undefined): LoadedProbes {
  const a = engine.pack.manifest.architecture;
  const expect = { width: a.width, layers: a.layers, vocabSize: a.vocabSize };
  const own = engine.pack.files.probes;
  const path = file ?? own;
  if (!path) throw new ProbeError('BAD_PACK', `model pack ${engine.pack.dir} has no future-token probes; fit some with "lm-probe fit-probes --out probes.json FILE..." and pass them`);
  let mtimeMs = 0;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    throw new ProbeError('BAD_ARGUMENT', `probe file ${path} does not exist`);
  }
  const key = `${engine.pack.dir}|${path}`;
  const hit = probeCache.get(key);
  if (hit && hit.mtimeMs === mtimeMs) return hit.probes;
  const probes = loadProbes(path, expect, file === undefined ? engine.pack.dir : undefined);
  probeCache.set(key, { mtimeMs, probes });
  return probes;
}

/**
 * The analysed window: the whole text when it fits (at most W tokens), else W tokens centred on the
 * target, moved to stay inside the text (so the last token's window is the text's last W tokens).
 */
export function analysisWindow(n: number, W: number, target: number): { start: number; end: number } {
  if (n <= W) return { start: 0, end: n };
  const start = Math.max(0, Math.min(n - W, target - Math.floor(W / 2)));
  return { start, end: start + W };
}

/** 1-based line numbers of the first and last token of [start, end) in the probed text. */
function linesOf(result: ProbeResult, win: { start: number; end: number }): { firstLine: number; lastLine: number } | null {
  const a = result.tokens[win.start];
  const b = result.tokens[win.end - 1];
  if (!a || !b || typeof a.start !== 'number') return null;
  let line = 1;
  let firstLine = 1;
  for (let i = 0; i < b.start && i < result.text.length; i++) {
    if (i === a.start) firstLine = line;
    if (result.text.charCodeAt(i) === 10) line++;
  }
  if (a.start >= b.start) firstLine = line;
  return { firstLine, lastLine: line };
}

/** The reference text's states ([L + 1, T, D], T <= W), run once per engine. */
const references = new WeakMap<object, Promise<{ hidden: Float32Array; T: number; text: string } | null>>();

function referenceStates(engine: AnalysisEngine, W: number): Promise<{ hidden: Float32Array; T: number; text: string } | null> {
  let p = references.get(engine);
  if (!p) {
    p = (async () => {
      const ids = engine.tokenize(REFERENCE_TEXT).ids.slice(0, W);
      const out = await engine.run('forward', ids);
      return out.hidden ? { hidden: out.hidden, T: out.dims.T, text: REFERENCE_NAME } : null;
    })();
    p.catch(() => references.delete(engine));
    references.set(engine, p);
  }
  return p;
}

function baselinesFor(engine: AnalysisEngine): LoadedBaselines | null {
  const file = engine.pack.files.baselines;
  return file ? loadBaselines(file, engine.pack.manifest.architecture.vocabSize) : null;
}

/** Positions of the window on which the panel's greedy rollout runs (each costs K - 1 passes). */
export const PANEL_ROLLOUT_POSITIONS = 32;

export async function runAnalyses(engine: AnalysisEngine, result: ProbeResult, opts: ProbeOptions): Promise<Analyses> {
  const t0 = performance.now();
  const want = opts.analyses ?? {};
  const notes: string[] = [];
  const m = engine.pack.manifest;
  const N = result.tokens.length;
  const W = m.contextLength - 1;
  const impOpts = typeof want.importance === 'object' ? want.importance : {};
  let target = impOpts.target ?? N - 1;
  if (want.importance && (!Number.isInteger(target) || target < 0 || target >= N)) {
    // A target left over from an earlier, longer selection: fall back to the last token.
    notes.push(`importance: target ${target} is not a token index of this selection (0..${N - 1}); the last token is the target`);
    target = N - 1;
  }
  const win = analysisWindow(N, W, target);
  if (N > W) notes.push(`the selection is ${N} tokens, longer than the model's context (${W} after BOS): the analyses read tokens ${win.start}..${win.end - 1}, the window around the target token ${target}`);
  const analyses: Analyses = { window: { ...win, total: N, ...(linesOf(result, win) ?? {}) }, ms: 0 };
  const ids = result.tokens.slice(win.start, win.end).map((t) => t.id);
  const t1 = performance.now();
  const out = await engine.run('forward', ids);
  const timings: NonNullable<Analyses['timingsMs']> = { run: performance.now() - t1 };
  if (!out.hidden) {
    notes.push(`model pack ${m.name} has no hidden states (graph.outputs.hiddenStates is null): future-token probes, importance and geometry are unavailable`);
  } else {
    // The future-token probes' decoding is ONNX Runtime work on this thread; the other analyses,
    // plain JavaScript on the hidden states, run meanwhile in worker threads (stateThread.ts).
    const importance = want.importance ? importanceJob(out, win, target, impOpts, ids, notes) : null;
    const reference = want.geometry ? await referenceStates(engine, W).catch(() => null) : null;
    // Importance and geometry as two jobs, so that two workers run them side by side.
    const job = { hidden: out.hidden, dims: out.dims, window: win, tokenCount: N };
    const jobs = [
      ...(importance ? [runStateJobOffThread({ ...job, importance, geometry: false })] : []),
      ...(want.geometry ? [runStateJobOffThread({ ...job, importance: null, geometry: true, reference })] : []),
    ];
    const states = Promise.all(jobs);
    states.catch(() => undefined);
    if (want.futureLens) {
      const t = performance.now();
      try {
        const o = typeof want.futureLens === 'object' ? want.futureLens : {};
        let baselines: LoadedBaselines | null = null;
        try {
          baselines = baselinesFor(engine);
        } catch (e) {
          if (!isProbeError(e)) throw e;
          notes.push(`skip-bigram baseline: ${e.message}`);
        }
        analyses.futureLens = await futureLensOf(engine, probesFor(engine, o.probesFile), out, result, win, baselines, o.rolloutPositions ?? PANEL_ROLLOUT_POSITIONS);
      } catch (e) {
        if (!isProbeError(e)) throw e;
        notes.push(`future-token probes: ${e.message}`);
      } finally {
        timings.futureLens = performance.now() - t;
      }
    }
    for (const r of await states) {
      if (r.importance) analyses.importance = r.importance;
      if (r.geometry) analyses.geometry = r.geometry;
      Object.assign(timings, r.ms);
      if (r.fallback) notes.push(`${r.importance ? 'importance' : 'geometry'} ran on the main thread, after the probes: its worker thread failed (${r.fallback})`);
    }
  }
  if (notes.length) analyses.notes = notes;
  analyses.ms = performance.now() - t0;
  analyses.timingsMs = timings;
  return analyses;
}

async function futureLensOf(
  engine: AnalysisEngine,
  probes: LoadedProbes,
  out: RunOutputLike,
  result: ProbeResult,
  win: { start: number; end: number },
  baselines: LoadedBaselines | null,
  rolloutMax: number,
): Promise<FutureLensResult> {
  const layers = probes.header.layers;
  const offsets = probes.header.offsets;
  const keys = layers.flatMap((layer) => offsets.map((offset) => ({ layer, offset })));
  const dec = await decodeWindow(engine, probes, out, keys);
  const N = result.tokens.length;
  const T = out.dims.T;
  const hits = keys.map(() => 0);
  const positions = offsets.map(() => 0);
  const bg = probes.header.bigram;
  const bgHits = offsets.map(() => 0);
  const sb = baselines?.skipBigram ?? null;
  const sbIndex = offsets.map((k) => sb?.offsets.indexOf(k) ?? -1);
  const sbHits = offsets.map(() => 0);
  const texts = new Map<number, string>();
  const text = (id: number) => {
    let s = texts.get(id);
    if (s === undefined) texts.set(id, (s = engine.tokenText(id)));
    return s;
  };
  const cells: (FutureGuess[][] | null)[] = new Array(N).fill(null);
  for (let t = 0; t < T; t++) {
    const abs = win.start + t;
    offsets.forEach((k, oi) => {
      if (abs + k < N) {
        positions[oi]++;
        if (bg && bigramPredict(bg, oi, result.tokens[abs].id) === result.tokens[abs + k].id) bgHits[oi]++;
        if (sb && sbIndex[oi] >= 0 && bigramPredict(sb, sbIndex[oi], result.tokens[abs].id) === result.tokens[abs + k].id) sbHits[oi]++;
      }
    });
    cells[abs] = layers.map((_, li) =>
      offsets.map((k, oi) => {
        const i = li * offsets.length + oi;
        const id = dec.ids[i][t];
        const hit = abs + k < N ? result.tokens[abs + k].id === id : null;
        if (hit) hits[i]++;
        return { id, text: text(id), prob: dec.probs[i][t], hit };
      }),
    );
  }
  // The greedy rollout on a few positions spread through the window (K - 1 passes each).
  const K = Math.max(...offsets);
  const V = engine.pack.manifest.architecture.vocabSize;
  const ids = result.tokens.map((t) => t.id);
  const ro = rolloutPositions(T, rolloutMax).filter((t) => win.start + t + 1 < N);
  let rollout: FutureLensResult['rollout'] = null;
  if (ro.length) {
    const counted = offsets.map(() => 0);
    const roHits = offsets.map(() => 0);
    const probeHits = keys.map(() => 0);
    for (const t of ro) {
      const abs = win.start + t;
      const first = argmax(out.logits, V, t);
      const guesses = await greedyRollout(engine, ids.slice(win.start, abs + 1), first, K, T, V);
      offsets.forEach((k, oi) => {
        if (abs + k >= N) return;
        counted[oi]++;
        if (guesses[k - 1] === ids[abs + k]) roHits[oi]++;
        layers.forEach((_, li) => {
          if (cells[abs]![li][oi].hit) probeHits[li * offsets.length + oi]++;
        });
      });
    }
    rollout = {
      positions: ro.map((t) => win.start + t),
      counted,
      precisionAt1: roHits.map((h, oi) => h / Math.max(1, counted[oi])),
      probePrecisionAt1: layers.map((_, li) => offsets.map((_k, oi) => probeHits[li * offsets.length + oi] / Math.max(1, counted[oi]))),
    };
  }
  return {
    offsets,
    layers,
    cells,
    precisionAt1: layers.map((_, li) => offsets.map((_k, oi) => hits[li * offsets.length + oi] / Math.max(1, positions[oi]))),
    positions,
    bigramPrecisionAt1: bg ? bgHits.map((h, oi) => h / Math.max(1, positions[oi])) : null,
    skipBigramPrecisionAt1: sb ? sbHits.map((h, oi) => h / Math.max(1, positions[oi])) : null,
    rollout,
    source: probes.path,
  };
}

/** The importance's parameters, checked here so that a bad one is a ProbeError of this thread. */
function importanceJob(
  out: RunOutputLike,
  win: { start: number },
  target: number,
  o: { layer?: number; alpha?: number; attentionLayer?: number; standardize?: boolean },
  ids: number[],
  notes: string[],
): StateJob['importance'] {
  const { T, L, H } = out.dims;
  const layer = o.layer ?? L;
  if (!Number.isInteger(layer) || layer < 0 || layer > L) throw new ProbeError('BAD_ARGUMENT', `importance: layer must be in 0..${L}, got ${layer}`);
  const attentionLayer = o.attentionLayer ?? Math.max(layer, 1) - 1;
  if (!Number.isInteger(attentionLayer) || attentionLayer < 0 || attentionLayer >= L) {
    throw new ProbeError('BAD_ARGUMENT', `importance: attentionLayer must be in 0..${L - 1}, got ${attentionLayer}`);
  }
  if (o.alpha !== undefined && !(o.alpha >= 0)) throw new ProbeError('BAD_ARGUMENT', `importance: alpha must be >= 0, got ${o.alpha}`);
  const attention = out.attentions ? attentionRows(out.attentions, L, H, T, target - win.start) : null;
  if (!attention) notes.push('the model pack has no attentions: importance shows the Lasso only');
  return { target, layer, attentionLayer, alpha: o.alpha, standardize: o.standardize, attention, ids };
}
