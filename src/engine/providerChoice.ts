// Which provider to keep once a non-CPU one has started: a GPU is not always faster. A small model
// on a short window can run faster on the CPU than on WebGPU (each run uploads its inputs, launches
// kernels and copies the outputs back), so on the first open of a pack the engine times a few runs
// of one full window of the forward graph on that provider and on the CPU and keeps the faster.
// The measurement is remembered per (pack, provider) on disk for a while, so later opens (each CLI
// run, each new engine host) pay nothing, and it is reported as RuntimeInfo.choice.
import * as ort from 'onnxruntime-node';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LoadedPack } from './pack';

/** $LM_PROBE_CACHE_DIR, else $XDG_CACHE_HOME/lm-probe, else ~/.cache/lm-probe. */
export function cacheDir(): string {
  return process.env.LM_PROBE_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lm-probe');
}

/** How long a measured choice is trusted. */
export const CHOICE_DAYS = 7;

export interface Measured {
  /** The non-CPU provider that was measured. */
  provider: string;
  /** Its milliseconds per window, or null when its warm-up run failed. */
  ms: number | null;
  cpuMs: number;
  /** provider or 'cpu'. */
  kept: string;
  /** Why a provider was not measured to the end (its run failed), one line. */
  note?: string;
  /** When it was measured (ms since the epoch). */
  at: number;
}

/** The provider kept: the faster per window; a tie goes to the CPU (nothing to copy, nothing to fail). */
export function decide(providerMs: number | null, cpuMs: number, provider: string): string {
  return providerMs !== null && providerMs < cpuMs ? provider : 'cpu';
}

function fmtMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

/** "webgpu 41 ms vs cpu 120 ms per window: webgpu kept" (RuntimeInfo.choice). */
export function choiceLine(m: Measured, remembered = false): string {
  const head = m.ms === null ? `${m.provider} failed its warm-up run (${m.note ?? 'no message'}), cpu ${fmtMs(m.cpuMs)} ms per window` : `${m.provider} ${fmtMs(m.ms)} ms vs cpu ${fmtMs(m.cpuMs)} ms per window`;
  const when = remembered ? ` (measured ${new Date(m.at).toISOString().slice(0, 10)}; LM_PROBE_RETRY_PROVIDERS=1 measures again)` : '';
  return `${head}: ${m.kept} kept${when}`;
}

// ---- remembered choices -----------------------------------------------------------------------

export function choiceCacheFile(): string {
  return join(cacheDir(), 'provider-choices.json');
}

function runtimeTag(): string {
  return `onnxruntime-node ${ort.env.versions?.common ?? '?'}|${process.platform}-${process.arch}`;
}

function readChoices(): Record<string, Measured> {
  try {
    return JSON.parse(readFileSync(choiceCacheFile(), 'utf8')) as Record<string, Measured>;
  } catch {
    return {};
  }
}

/** The choice measured for (pack key, provider) within CHOICE_DAYS, unless LM_PROBE_RETRY_PROVIDERS is set. */
export function rememberedChoice(packKey: string, provider: string, now = Date.now()): Measured | undefined {
  if (process.env.LM_PROBE_RETRY_PROVIDERS) return undefined;
  const m = readChoices()[`${packKey}|${provider}|${runtimeTag()}`];
  if (!m || typeof m.at !== 'number' || now - m.at > CHOICE_DAYS * 86400_000 || (m.kept !== 'cpu' && m.kept !== provider)) return undefined;
  return m;
}

export function rememberChoice(packKey: string, m: Measured): void {
  try {
    const all = readChoices();
    const cutoff = Date.now() - CHOICE_DAYS * 86400_000;
    for (const [k, v] of Object.entries(all)) if (!v || v.at < cutoff) delete all[k];
    all[`${packKey}|${m.provider}|${runtimeTag()}`] = m;
    mkdirSync(dirname(choiceCacheFile()), { recursive: true });
    writeFileSync(choiceCacheFile(), JSON.stringify(all, null, 1));
  } catch {
    /* a cache we cannot write only costs another warm-up */
  }
}

// ---- the warm-up --------------------------------------------------------------------------------

export interface Warmup {
  /** Identifies the pack's forward graph (folder, file, size and date, context length). */
  key: string;
  /** Inputs of one full window, or null when the graph has an input this cannot fill. */
  feeds(session: ort.InferenceSession): Record<string, ort.Tensor> | null;
  /** The outputs the engine fetches when it scores (undefined: all). */
  fetches(session: ort.InferenceSession): string[] | undefined;
  /** Milliseconds per window of `session` (tests inject one); default timeWindow(). */
  time?: (session: ort.InferenceSession, provider: string) => Promise<number>;
}

function intInput(session: ort.InferenceSession, name: string, n: number, value: number): ort.Tensor {
  const m = (session.inputMetadata ?? []).find((x) => x.name === name);
  const type = m && m.isTensor ? String(m.type) : 'int64';
  if (type === 'int32') return new ort.Tensor('int32', new Int32Array(n).fill(value), [1, n]);
  return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(value)), [1, n]);
}

/** The warm-up of a pack's forward graph: one window of contextLength BOS tokens, fetched as scoring does. */
export function packWarmup(pack: LoadedPack): Warmup {
  const m = pack.manifest;
  const st = m.graph.statistics;
  let stamp = '';
  try {
    const s = statSync(pack.files.forward);
    stamp = `${s.size}-${Math.round(s.mtimeMs)}`;
  } catch {
    /* the key without the file's stamp */
  }
  const N = m.contextLength;
  return {
    key: `${pack.dir}|${m.forward}|${stamp}|${N}|${st ? 'stats' : 'logits'}`,
    feeds(session) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        if (name === m.graph.inputs.inputIds) feeds[name] = intInput(session, name, N, m.bos.id);
        else if (name === 'attention_mask') feeds[name] = intInput(session, name, N, 1);
        else if (st && name === st.targetIds) feeds[name] = new ort.Tensor('int64', new BigInt64Array(N).fill(BigInt(m.bos.id)), [N]);
        else if (st && name === st.rows) feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: N }, (_, i) => BigInt(i)), [N]);
        else if (st && name === st.full) feeds[name] = new ort.Tensor('bool', Uint8Array.of(0), []);
        else if (st && name === st.scores) feeds[name] = new ort.Tensor('bool', Uint8Array.of(1), []);
        else if (st && name === st.topK) feeds[name] = new ort.Tensor('int64', BigInt64Array.from([5n]), [1]);
        else return null;
      }
      return feeds;
    },
    fetches(session) {
      const want = st ? [st.targetLogprob, st.greater, st.entropy, st.topIds, st.topLogprobs] : [m.graph.outputs.logits];
      return want.every((n) => session.outputNames.includes(n)) ? want : undefined;
    },
  };
}

/**
 * Milliseconds per window: one run untimed (the first compiles kernels or shaders and allocates),
 * then up to 3 timed runs while they take under about a second in all; the median.
 */
export async function timeWindow(session: ort.InferenceSession, w: Warmup, budgetMs = 1000): Promise<number> {
  const feeds = w.feeds(session);
  if (!feeds) throw new Error('the graph has inputs the warm-up cannot fill');
  const fetches = w.fetches(session);
  const run = () => (fetches ? session.run(feeds, fetches) : session.run(feeds));
  await run();
  const times: number[] = [];
  let spent = 0;
  while (times.length < 3 && (times.length === 0 || spent < budgetMs)) {
    const t0 = performance.now();
    await run();
    const dt = performance.now() - t0;
    times.push(dt);
    spent += dt;
  }
  times.sort((a, b) => a - b);
  return times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
}

/**
 * Times `provider`'s session against a CPU session of the same graph and keeps the faster; the
 * other is released. Returns measured = null (and the provider's session) when the CPU cannot be
 * measured: then the graph itself is at fault, which the engine's own checks report.
 */
export async function chooseFaster<S>(d: {
  provider: string;
  session: S;
  openCpu: () => Promise<S>;
  time: (session: S, provider: string) => Promise<number>;
  release: (session: S) => Promise<unknown>;
  now?: () => number;
}): Promise<{ session: S; provider: string; measured: Measured | null }> {
  const drop = (s: S) => d.release(s).catch(() => undefined);
  let ms: number | null = null;
  let note: string | undefined;
  try {
    ms = await d.time(d.session, d.provider);
  } catch (e) {
    note = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 160);
  }
  let cpu: S;
  let cpuMs: number;
  try {
    cpu = await d.openCpu();
  } catch {
    return { session: d.session, provider: d.provider, measured: null };
  }
  try {
    cpuMs = await d.time(cpu, 'cpu');
  } catch {
    await drop(cpu);
    return { session: d.session, provider: d.provider, measured: null };
  }
  const kept = decide(ms, cpuMs, d.provider);
  const measured: Measured = { provider: d.provider, ms, cpuMs, kept, ...(note ? { note } : {}), at: (d.now ?? Date.now)() };
  if (kept === 'cpu') {
    await drop(d.session);
    return { session: cpu, provider: 'cpu', measured };
  }
  await drop(cpu);
  return { session: d.session, provider: d.provider, measured };
}
