// The analyses on the model's internals: future-token probes (futureLens.ts), token importance
// (importance.ts, lasso.ts, infoGain.ts) and representation geometry (geometry.ts); the last two
// through stateAnalyses.ts, in worker threads. The engine's probe() calls runAnalyses() after
// surprisal when ProbeOptions.analyses asks for any of them.
import { statSync } from 'node:fs';
import { ProbeError, isProbeError } from '../errors';
import type { ProbeOptions } from '../api';
import type { Analyses, FutureGuess, FutureLensResult, ProbeResult } from '../schema';
import { bigramPredict, decodeWindow } from './futureLens';
import type { AnalysisEngine, RunOutputLike } from './host';
import { attentionRows } from './importance';
import { loadProbes, type LoadedProbes } from './probes';
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

/** The analysed window: at most W tokens, the last window of the text that contains the target. */
export function analysisWindow(n: number, W: number, target: number): { start: number; end: number } {
  if (n <= W) return { start: 0, end: n };
  const start = Math.max(0, Math.min(n - W, target + 1 - W));
  return { start, end: start + W };
}

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
  if (N > W) notes.push(`the selection is ${N} tokens, longer than the model's context (${W} after BOS): the analyses read tokens ${win.start}..${win.end - 1}, the last window that contains the target token ${target}`);
  const analyses: Analyses = { window: win, ms: 0 };
  const ids = result.tokens.slice(win.start, win.end).map((t) => t.id);
  const t1 = performance.now();
  const out = await engine.run('forward', ids);
  const timings: NonNullable<Analyses['timingsMs']> = { run: performance.now() - t1 };
  if (!out.hidden) {
    notes.push(`model pack ${m.name} has no hidden states (graph.outputs.hiddenStates is null): future-token probes, importance and geometry are unavailable`);
  } else {
    // The future-token probes' decoding is ONNX Runtime work on this thread; the other analyses,
    // plain JavaScript on the hidden states, run meanwhile in worker threads (stateThread.ts).
    const importance = want.importance ? importanceJob(out, win, target, impOpts, notes) : null;
    // Importance and geometry as two jobs, so that two workers run them side by side.
    const job = { hidden: out.hidden, dims: out.dims, window: win, tokenCount: N };
    const jobs = [
      ...(importance ? [runStateJobOffThread({ ...job, importance, geometry: false })] : []),
      ...(want.geometry ? [runStateJobOffThread({ ...job, importance: null, geometry: true })] : []),
    ];
    const states = Promise.all(jobs);
    states.catch(() => undefined);
    if (want.futureLens) {
      const t = performance.now();
      try {
        const file = typeof want.futureLens === 'object' ? want.futureLens.probesFile : undefined;
        analyses.futureLens = await futureLensOf(engine, probesFor(engine, file), out, result, win);
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
  return {
    offsets,
    layers,
    cells,
    precisionAt1: layers.map((_, li) => offsets.map((_k, oi) => hits[li * offsets.length + oi] / Math.max(1, positions[oi]))),
    positions,
    bigramPrecisionAt1: bg ? bgHits.map((h, oi) => h / Math.max(1, positions[oi])) : null,
    source: probes.path,
  };
}

/** The importance's parameters, checked here so that a bad one is a ProbeError of this thread. */
function importanceJob(
  out: RunOutputLike,
  win: { start: number },
  target: number,
  o: { layer?: number; alpha?: number; attentionLayer?: number },
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
  return { target, layer, attentionLayer, alpha: o.alpha, attention };
}
