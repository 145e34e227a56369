// ONNX Runtime sessions and execution providers.
//
// onnxruntime-node 1.30 does not fall back from a provider that fails to start (RECIPES.md:
// ['webgpu', 'cpu'] throws on a machine without a GPU), so we try providers one at a time and
// catch. A provider that failed is remembered for the life of the process and not tried again, so
// the failure (and Dawn's stderr noise) shows once, not on every probe. Short-lived processes (the
// CLI) can also remember it on disk (rememberFailures), so that it shows once per machine.
import * as ort from 'onnxruntime-node';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type Session = ort.InferenceSession;
export { ort };

const failed = new Map<string, string>();

ort.env.logLevel = 'error';

/**
 * The default provider order: the best provider this platform's onnxruntime-node bundles, then cpu.
 * On Linux, WebGPU runs on Vulkan through Dawn, which needs a GPU device node; without one it fails
 * (in milliseconds, but printing "Couldn't load Vulkan" to stderr on every CLI run), so we only put
 * it first where /dev/dri/renderD* or /dev/nvidia* exists.
 */
export function defaultProviders(): string[] {
  const bundled = new Set(
    (ort.listSupportedBackends?.() ?? []).filter((b: { bundled: boolean }) => b.bundled).map((b: { name: string }) => b.name),
  );
  const list: string[] = [];
  if (process.platform === 'win32' && bundled.has('dml')) list.push('dml');
  if (process.platform === 'darwin' && bundled.has('coreml')) list.push('coreml');
  if (bundled.has('webgpu') && (process.platform !== 'linux' || linuxHasGpuNode())) list.push('webgpu');
  list.push('cpu');
  return list;
}

function linuxHasGpuNode(): boolean {
  try {
    if (existsSync('/dev/dri') && readdirSync('/dev/dri').some((n) => n.startsWith('renderD'))) return true;
    return readdirSync('/dev').some((n) => /^nvidia\d+$/.test(n));
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
}

function sessionOptions(provider: string): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
    // The arena reuses ONNX Runtime's buffers from window to window. Without it, glibc's malloc kept
    // the freed buffers of every window and a long `probe --summary` grew with the text (50k
    // characters 433 MB, 1M characters 685 MB); with it memory stays near its first window's, and a
    // run took about a third less CPU time (the default pack, 4 windows of 255 tokens).
    enableCpuMemArena: true,
    // ONNX Runtime's worker threads spin between runs by default. We run many short passes with
    // JavaScript work between them, often beside an editor or other jobs: without spinning a long
    // probe took about 30% less wall time and CPU on a busy 2-core machine (6.2 s vs 8.7 s).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

// ---- provider failures remembered on disk (opt-in) ----------------------------------------------
const REMEMBER_DAYS = 7;

/** $LM_PROBE_CACHE_DIR, else $XDG_CACHE_HOME/lm-probe, else ~/.cache/lm-probe. */
export function failureCacheFile(): string {
  const base = process.env.LM_PROBE_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lm-probe');
  return join(base, 'provider-failures.json');
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

/** Creates a session on the first provider of `providers` that starts. */
export async function createSession(modelPath: string | Uint8Array, providers: string[], opts: { rememberFailures?: boolean } = {}): Promise<OpenedSession> {
  const fallbacks: { provider: string; error: string }[] = [];
  let lastError: unknown = null;
  for (const provider of providers) {
    const known = provider === 'cpu' ? undefined : knownFailure(provider, opts.rememberFailures === true);
    if (known !== undefined) {
      fallbacks.push({ provider, error: known });
      continue;
    }
    try {
      const session = typeof modelPath === 'string' ? await ort.InferenceSession.create(modelPath, sessionOptions(provider)) : await ort.InferenceSession.create(modelPath, sessionOptions(provider));
      return { session, provider, fallbacks };
    } catch (e) {
      lastError = e;
      const msg = firstLine(e);
      // A cpu failure means the graph itself is broken: do not blame (or cache) the provider.
      if (provider === 'cpu') break;
      failed.set(provider, msg);
      if (opts.rememberFailures) rememberOnDisk(provider, msg);
      fallbacks.push({ provider, error: msg });
    }
  }
  throw lastError ?? new Error('no execution provider could be started');
}

export function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 300 ? line.slice(0, 300) + '...' : line;
}

/** Forgets the failures remembered in this process (tests). */
export function resetProviderFailures(): void {
  failed.clear();
}
