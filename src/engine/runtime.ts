// ONNX Runtime sessions and execution providers.
//
// onnxruntime-node 1.30 does not fall back from a provider that fails to start (creating a session
// with ['webgpu', 'cpu'] throws on a machine without a GPU), so we try providers one at a time and
// catch. A non-CPU provider is first tried in a child process (providerProbe.ts), so that what its
// native code prints (Dawn's "Couldn't load Vulkan", ONNX Runtime's "Failed to load library") is
// captured there and becomes one line; only a provider the child could start is opened here. The
// CPU never takes that detour. A provider that failed is remembered for the life of the process
// and not tried again; short-lived processes (the CLI) can also remember it on disk
// (rememberFailures), so that it shows once per machine. When a non-CPU provider starts for a
// pack's forward graph, a short warm-up times it against the CPU and keeps the faster
// (providerChoice.ts; remembered on disk per pack and provider).
import * as ort from 'onnxruntime-node';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { forWebGpu } from './webgpuGraph';
import { cudaProviderFiles, describeFailure, ortBinDir, probeProvider, type ProviderVerdict } from './providerProbe';
import { cacheDir, chooseFaster, choiceLine, rememberChoice, rememberedChoice, timeWindow, type Warmup } from './providerChoice';

export type Session = ort.InferenceSession;
export { ort };

const failed = new Map<string, string>();
/** What the child process said of each provider (one child per provider and process). */
const verdicts = new Map<string, Promise<ProviderVerdict>>();
/** Tests only: a provider name that ONNX Runtime is asked for as another (aliasProviderForTests). */
const aliases = new Map<string, string>();

ort.env.logLevel = 'error';

/**
 * The default provider order: the best provider this platform's onnxruntime-node bundles, then cpu.
 * On Linux, WebGPU runs on Vulkan through Dawn, which needs a GPU device node; without one it
 * fails (each try costs a child process, providerProbe.ts), so it is only listed where
 * /dev/dri/renderD* or /dev/nvidia* exists.
 */
export function defaultProviders(): string[] {
  const backends = ort.listSupportedBackends?.() ?? [];
  const bundled = new Set(backends.filter((b: { bundled: boolean }) => b.bundled).map((b: { name: string }) => b.name));
  const list: string[] = [];
  if (process.platform === 'win32' && bundled.has('dml')) list.push('dml');
  if (process.platform === 'darwin' && bundled.has('coreml')) list.push('coreml');
  // CUDA is not bundled: it comes first where the user installed ONNX Runtime's CUDA provider
  // libraries beside onnxruntime-node's (README, "CUDA") and an NVIDIA device exists.
  if (process.platform === 'linux' && backends.some((b: { name: string }) => b.name === 'cuda') && linuxHasNvidia() && cudaProviderInstalled()) list.push('cuda');
  if (bundled.has('webgpu') && (process.platform !== 'linux' || linuxHasGpuNode())) list.push('webgpu');
  list.push('cpu');
  return list;
}

function linuxHasGpuNode(): boolean {
  try {
    if (existsSync('/dev/dri') && readdirSync('/dev/dri').some((n) => n.startsWith('renderD'))) return true;
    return linuxHasNvidia();
  } catch {
    return false;
  }
}

function linuxHasNvidia(): boolean {
  try {
    return readdirSync('/dev').some((n) => /^nvidia\d+$/.test(n));
  } catch {
    return false;
  }
}

/** True when ONNX Runtime's CUDA provider libraries are in onnxruntime-node's bin folder. */
export function cudaProviderInstalled(): boolean {
  try {
    const dir = ortBinDir();
    return cudaProviderFiles().every((f) => existsSync(join(dir, f)));
  } catch {
    return false;
  }
}

/** Provider list with 'cpu' last (always), duplicates removed. */
export function normalizeProviders(list: string[] | undefined): string[] {
  const out: string[] = [];
  for (const p of list && list.length ? list : defaultProviders()) {
    const n = p.trim().toLowerCase();
    if (n && n !== 'cpu' && !out.includes(n)) out.push(n);
  }
  out.push('cpu');
  return out;
}

export interface OpenedSession {
  session: Session;
  provider: string;
  fallbacks: { provider: string; error: string }[];
  /** Why `provider` and not another, when a warm-up measured it (RuntimeInfo.choice). */
  choice?: string;
}

/**
 * @param web a WebGPU session's graph, rewritten from a file (webgpuGraph.ts): the nodes it runs on
 * the CPU (never an empty list, which ONNX Runtime refuses), and the folder of the file, where the
 * graph's external weights are named from.
 */
function sessionOptions(provider: string, web?: { cpuNodes: string[]; dir?: string }): ort.InferenceSession.SessionOptions {
  const ep = aliases.get(provider) ?? provider;
  const session: Record<string, unknown> = { intra_op: { allow_spinning: '0' }, set_denormal_as_zero: '1' };
  if (web?.dir) session.model_external_initializers_file_folder_path = web.dir;
  return {
    executionProviders: [ep === 'webgpu' && web?.cpuNodes.length ? { name: 'webgpu', forceCpuNodeNames: web.cpuNodes } : ep],
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
    // The arena reuses ONNX Runtime's buffers from window to window. Without it, glibc's malloc kept
    // the freed buffers of every window and a long `probe --summary` grew with the text (50k
    // characters 433 MB, 1M characters 685 MB); with it memory stays near its first window's, and a
    // run took about a third less CPU time (the default pack, 4 windows of 255 tokens).
    enableCpuMemArena: true,
    // The memory pattern (one block the size of a run's planned peak, from the second run of a shape
    // on) came on top of the arena's own chunks: a 2,209-token probe of a GPT-2-small-sized model at
    // 1,024 positions peaked at 2.42 GB with it and 1.93 GB without, no slower; the default pack's
    // probe --summary 314 MB with it, 276 MB without.
    enableMemPattern: false,
    // ONNX Runtime's worker threads spin between runs by default. We run many short passes with
    // JavaScript work between them, often beside an editor or other jobs: without spinning a long
    // probe took about 30% less wall time and CPU on a busy 2-core machine (6.2 s vs 8.7 s).
    // Denormals as zero: a causal mask's -inf scores and a peaked softmax's tails underflow through
    // denormal floats, which x86 computes about 4x slower; the default pack's attention softmax took
    // 2.4 ms a layer instead of 0.6 (4 x 255 tokens). Values below 1.2e-38 become 0: no figure we
    // show moves (the in-graph statistics test holds them to the unflushed JavaScript path).
    extra: { session },
  };
}

/** Graph files up to this size are rewritten for WebGPU; a larger one (weights inside) is not read twice. */
const WEBGPU_REWRITE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * What a WebGPU session opens: the graph rewritten for it, read from its file where it is one (its
 * external weights are named from the file's folder). A file that is too large to read here, or
 * that cannot be parsed, opens as it is, and ONNX Runtime says what is wrong with it, if anything.
 */
function webGpuSource(modelPath: string | Uint8Array): { source: string | Uint8Array; cpuNodes: string[]; dir?: string } {
  if (typeof modelPath !== 'string') {
    const w = forWebGpu(modelPath);
    return { source: w.bytes, cpuNodes: w.cpuNodes };
  }
  try {
    if (statSync(modelPath).size > WEBGPU_REWRITE_MAX_BYTES) return { source: modelPath, cpuNodes: [] };
    const w = forWebGpu(readFileSync(modelPath));
    return { source: w.bytes, cpuNodes: w.cpuNodes, dir: dirname(modelPath) };
  } catch {
    return { source: modelPath, cpuNodes: [] };
  }
}

// ---- provider failures remembered on disk (opt-in) ----------------------------------------------
const REMEMBER_DAYS = 7;

/** provider-failures.json in $LM_PROBE_CACHE_DIR, else $XDG_CACHE_HOME/lm-probe, else ~/.cache/lm-probe. */
export function failureCacheFile(): string {
  return join(cacheDir(), 'provider-failures.json');
}

function diskKey(provider: string): string {
  return `${provider}|onnxruntime-node ${ort.env.versions?.common ?? '?'}|${process.platform}-${process.arch}`;
}

function readDiskFailures(): Record<string, { error: string; at: number }> {
  try {
    return JSON.parse(readFileSync(failureCacheFile(), 'utf8')) as Record<string, { error: string; at: number }>;
  } catch {
    return {};
  }
}

function rememberOnDisk(provider: string, error: string): void {
  try {
    const all = readDiskFailures();
    all[diskKey(provider)] = { error, at: Date.now() };
    mkdirSync(dirname(failureCacheFile()), { recursive: true });
    writeFileSync(failureCacheFile(), JSON.stringify(all, null, 1));
  } catch {
    /* a cache we cannot write only costs a retry */
  }
}

function knownFailure(provider: string, useDisk: boolean): string | undefined {
  const known = failed.get(provider);
  if (known !== undefined || !useDisk || process.env.LM_PROBE_RETRY_PROVIDERS) return known;
  const d = readDiskFailures()[diskKey(provider)];
  if (!d || Date.now() - d.at > REMEMBER_DAYS * 86400_000) return undefined;
  const msg = `${d.error} (failed earlier on this machine; set LM_PROBE_RETRY_PROVIDERS=1 or delete ${failureCacheFile()} to retry)`;
  failed.set(provider, msg);
  return msg;
}

function markFailed(provider: string, reason: string, useDisk: boolean, lasting = true): void {
  failed.set(provider, reason);
  if (useDisk && lasting) rememberOnDisk(provider, reason);
}

/**
 * Undefined when `provider` may be opened in this process; else why not, one line. A provider
 * this platform's onnxruntime-node does not have is refused at once; any other is tried first in
 * a child process (once per process).
 */
async function providerStarts(provider: string, useDisk: boolean): Promise<string | undefined> {
  const known = knownFailure(provider, useDisk);
  if (known !== undefined) return known;
  const ep = aliases.get(provider) ?? provider;
  const backends = (ort.listSupportedBackends?.() ?? []).map((b: { name: string }) => b.name);
  if (backends.length && !backends.includes(ep)) {
    const reason = describeFailure(provider, `no available backend found. ERR: [${ep}] backend not found.`, '');
    markFailed(provider, reason, useDisk);
    return reason;
  }
  let v = verdicts.get(provider);
  if (!v) {
    v = probeProvider(ep);
    verdicts.set(provider, v);
  }
  const verdict = await v;
  if (verdict.ok) return undefined;
  const reason = verdict.reason ?? 'it failed to start';
  markFailed(provider, reason, useDisk, verdict.lasting);
  return reason;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Creates a session on the first provider of `providers` that starts. With `warmup` (a pack's
 * forward graph), a non-CPU provider that starts is timed against the CPU and the faster is kept
 * (providerChoice.ts); a choice measured earlier for this pack and provider is reused.
 */
export async function createSession(
  modelPath: string | Uint8Array,
  providers: string[],
  opts: { rememberFailures?: boolean; warmup?: Warmup } = {},
): Promise<OpenedSession> {
  const useDisk = opts.rememberFailures === true;
  const w = opts.warmup;
  const fallbacks: { provider: string; error: string }[] = [];
  const create = (provider: string) => {
    const web = (aliases.get(provider) ?? provider) === 'webgpu' ? webGpuSource(modelPath) : undefined;
    const source = web?.source ?? modelPath;
    const options = sessionOptions(provider, web);
    return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
  };
  let lastError: unknown = null;
  for (const provider of providers) {
    let before: ReturnType<typeof rememberedChoice>;
    if (provider !== 'cpu') {
      const known = knownFailure(provider, useDisk);
      if (known !== undefined) {
        fallbacks.push({ provider, error: known });
        continue;
      }
      before = w ? rememberedChoice(w.key, provider) : undefined;
      if (before?.kept === 'cpu') {
        // Measured slower than the CPU for this pack (or its run failed): not tried again.
        try {
          return { session: await create('cpu'), provider: 'cpu', fallbacks, choice: choiceLine(before, true) };
        } catch (e) {
          lastError = e;
          break;
        }
      }
      // A provider kept by an earlier warm-up started on this machine: no child process again.
      if (!before) {
        const reason = await providerStarts(provider, useDisk);
        if (reason !== undefined) {
          fallbacks.push({ provider, error: reason });
          continue;
        }
      }
    }
    let session: Session;
    try {
      session = await create(provider);
    } catch (e) {
      lastError = e;
      // A cpu failure means the graph itself is broken: do not blame (or cache) the provider.
      if (provider === 'cpu') break;
      const reason = describeFailure(provider, errorMessage(e), '');
      markFailed(provider, reason, useDisk);
      fallbacks.push({ provider, error: reason });
      continue;
    }
    if (provider !== 'cpu' && !verdicts.has(provider)) verdicts.set(provider, Promise.resolve({ ok: true, lasting: true, raw: { message: '', stderr: '' }, ms: 0 }));
    if (provider === 'cpu' || !w) return { session, provider, fallbacks };
    if (before) return { session, provider, fallbacks, choice: choiceLine(before, true) };
    const time = w.time ?? ((s: Session) => timeWindow(s, w));
    const c = await chooseFaster({ provider, session, openCpu: () => create('cpu'), time, release: (s) => s.release() });
    if (!c.measured) return { session: c.session, provider: c.provider, fallbacks };
    rememberChoice(w.key, c.measured);
    return { session: c.session, provider: c.provider, fallbacks, choice: choiceLine(c.measured) };
  }
  throw lastError ?? new Error('no execution provider could be started');
}

export function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 300 ? line.slice(0, 300) + '...' : line;
}

/** Forgets the failures and the child processes' verdicts remembered in this process (tests). */
export function resetProviderFailures(): void {
  failed.clear();
  verdicts.clear();
}

/**
 * Tests only: ask ONNX Runtime for `target` whenever `name` is named (undefined: stop), so that a
 * provider that "starts" on a machine without a GPU takes every path a GPU provider takes.
 */
export function aliasProviderForTests(name: string, target: string | undefined): void {
  if (target === undefined) aliases.delete(name);
  else aliases.set(name, target);
  verdicts.delete(name);
  failed.delete(name);
}

export type { Warmup } from './providerChoice';
export { packWarmup } from './providerChoice';
