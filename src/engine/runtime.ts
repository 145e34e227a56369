// ONNX Runtime sessions and execution providers.
//
// onnxruntime-node 1.30 does not fall back from a provider that fails to start (RECIPES.md:
// ['webgpu', 'cpu'] throws on a machine without a GPU), so we try providers one at a time and
// catch. A provider that failed is remembered for the life of the process and not tried again, so
// the failure (and Dawn's stderr noise) shows once, not on every probe.
import * as ort from 'onnxruntime-node';
import { existsSync, readdirSync } from 'node:fs';

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
    // Without the arena, memory returns to the system between windows (peak RSS on a 20k-character
    // probe: 330 MB instead of 400 MB, same CPU time).
    enableCpuMemArena: false,
  };
}

/** Creates a session on the first provider of `providers` that starts. */
export async function createSession(modelPath: string, providers: string[]): Promise<OpenedSession> {
  const fallbacks: { provider: string; error: string }[] = [];
  let lastError: unknown = null;
  for (const provider of providers) {
    const known = failed.get(provider);
    if (known !== undefined) {
      fallbacks.push({ provider, error: known });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(provider));
      return { session, provider, fallbacks };
    } catch (e) {
      lastError = e;
      const msg = firstLine(e);
      // A cpu failure means the graph itself is broken: do not blame (or cache) the provider.
      if (provider === 'cpu') break;
      failed.set(provider, msg);
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
