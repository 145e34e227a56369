// Trying a non-CPU execution provider in a short-lived child process before the engine opens it.
//
// Starting a provider that cannot work writes native lines straight to file descriptor 2: Dawn's
// "Warning: Couldn't load Vulkan: libvulkan.so.1 ... at operator() (.../BackendVk.cpp:368)" for
// WebGPU without a GPU, ONNX Runtime's colored "[E:onnxruntime:...] Failed to load library
// .../libonnxruntime_providers_shared.so" for CUDA without its libraries. JavaScript cannot catch
// them, and in VS Code they would land in the output channel as raw lines. So the first try runs in
// a child (this runtime: process.execPath with ELECTRON_RUN_AS_NODE=1, which is Node in VS Code's
// extension host and in the engine host too) that requires onnxruntime-node by the path this
// process resolves, starts a session of a one-node graph (y = x + x) on the provider and runs it
// once. Its stdout and stderr are piped here; describeFailure() turns them into one line.
import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';

export interface ProviderVerdict {
  ok: boolean;
  /** Why the provider cannot be used, one line (describeFailure), when !ok. */
  reason?: string;
  /** True when the verdict may be remembered on disk (not for a timeout: that may pass). */
  lasting: boolean;
  /** What the child said: its error message and its captured stderr (never printed). */
  raw: { message: string; stderr: string };
  ms: number;
}

/** The entry of onnxruntime-node that this process loads (a bundle keeps it external: scripts/build.mjs). */
export function ortEntry(): string {
  return require.resolve('onnxruntime-node');
}

/** Where onnxruntime-node's native libraries are: the CUDA provider's libraries must be put here. */
export function ortBinDir(): string {
  return join(dirname(ortEntry()), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The file names of ONNX Runtime's CUDA provider on this platform (looked for in ortBinDir()). */
export function cudaProviderFiles(): string[] {
  return process.platform === 'win32'
    ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
    : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
}

let modelBytes: string | undefined;

/** A one-node ONNX model, y = x + x on float32[4], base64. */
function probeModel(): string {
  if (!modelBytes) {
    const t = (name: string): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 4 }] } } } });
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'lm-probe',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'provider-probe', node: [{ name: 'add', opType: 'Add', input: ['x', 'x'], output: ['y'] }], input: [t('x')], output: [t('y')] },
    }).finish();
    modelBytes = Buffer.from(bytes).toString('base64');
  }
  return modelBytes;
}

const MARK = '@@lm-probe-provider ';

// Plain JavaScript for `-e`: no bundle, no TypeScript. It writes one line: MARK + {"ok":...}.
const CHILD = `
const say = (o) => process.stdout.write(${JSON.stringify(MARK)} + JSON.stringify(o) + '\\n', () => process.exit(o.ok ? 0 : 3));
(async () => {
  try {
    const ort = require(process.env.LM_PROBE_ORT);
    ort.env.logLevel = 'error';
    const bytes = Uint8Array.from(Buffer.from(process.env.LM_PROBE_MODEL, 'base64'));
    const s = await ort.InferenceSession.create(bytes, { executionProviders: [process.env.LM_PROBE_EP], logSeverityLevel: 3 });
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
    const y = Array.from(out.y.data);
    await s.release();
    if (y.join(',') !== '2,4,6,8') return say({ ok: false, error: 'a test run computed ' + y.join(',') + ' for 2,4,6,8' });
    say({ ok: true });
  } catch (e) {
    say({ ok: false, error: String((e && e.message) || e) });
  }
})();
`;

const KEEP = 64 * 1024;
let started = 0;

/** How many child processes this process has started to try providers (tests: the CPU path starts none). */
export function childProbesStarted(): number {
  return started;
}

/**
 * Starts `provider` in a child process and says whether it works. Nothing the child prints
 * reaches this process's stdout or stderr.
 */
export function probeProvider(provider: string, opts: { timeoutMs?: number; execPath?: string } = {}): Promise<ProviderVerdict> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = performance.now();
  let entry: string;
  try {
    entry = ortEntry();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return Promise.resolve({ ok: false, reason: `onnxruntime-node cannot be found from ${__dirname}`, lasting: false, raw: { message, stderr: '' }, ms: 0 });
  }
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1', LM_PROBE_ORT: entry, LM_PROBE_EP: provider, LM_PROBE_MODEL: probeModel() };
    // A debugger's or a profiler's NODE_OPTIONS (VS Code's auto-attach) is not for this child.
    delete env.NODE_OPTIONS;
    let out = '';
    let err = '';
    let timedOut = false;
    let done = false;
    const finish = (v: Omit<ProviderVerdict, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...v, ms: performance.now() - t0 });
    };
    started++;
    const child = spawn(opts.execPath ?? process.execPath, ['-e', CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < KEEP) out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < KEEP) err += d;
    });
    child.on('error', (e) => {
      finish({ ok: false, reason: `could not start a process to try it: ${e.message}`, lasting: false, raw: { message: e.message, stderr: err } });
    });
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      let said: { ok: boolean; error?: string } | undefined;
      try {
        said = line ? (JSON.parse(line.slice(MARK.length)) as { ok: boolean; error?: string }) : undefined;
      } catch {
        said = undefined;
      }
      if (said?.ok && code === 0) return finish({ ok: true, lasting: true, raw: { message: '', stderr: err } });
      if (timedOut) {
        return finish({ ok: false, reason: `did not start within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`, lasting: false, raw: { message: '', stderr: err } });
      }
      const message = said?.error ?? (signal ? `the process trying it was killed by ${signal}` : `the process trying it exited with code ${code}`);
      finish({ ok: false, reason: describeFailure(provider, message, err), lasting: true, raw: { message, stderr: err } });
    });
  });
}

// ---- one clear line ---------------------------------------------------------------------------

const GPU_API: Record<string, string> = { linux: 'Vulkan', win32: 'Direct3D 12', darwin: 'Metal' };

/** ONNX Runtime's source location and C++ function prefixes, ANSI colors, log headers: removed. */
export function cleanMessage(s: string): string {
  const line =
    s
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? '';
  let cleaned = line
    .replace(/^\d{4}-\d\d-\d\d [\d:.]+ \[[A-Z]:onnxruntime:[^\]]*\]\s*/, '')
    .replace(/^\/?[\w./-]*\.(?:cc|cpp|h):\d+\s+/, '')
    .replace(/^.*?\[ONNXRuntimeError\] : \d+ : \w+ : /, '')
    .trim();
  // "onnxruntime::X::Init(...)::<lambda()> status == Success was false. What went wrong"
  const check = /\bwas false\.\s+(\S.*)$/.exec(cleaned);
  if (check) cleaned = check[1];
  return cleaned.length > 200 ? cleaned.slice(0, 199) + '…' : cleaned;
}

/**
 * One line saying why `provider` did not start, from the error ONNX Runtime threw and what native
 * code printed to stderr (Dawn, ONNX Runtime's logger). Without the provider's name: callers add it
 * ("execution provider webgpu unavailable (...)").
 */
export function describeFailure(provider: string, message: string, stderr: string, platform: NodeJS.Platform = process.platform): string {
  const all = `${message}\n${stderr}`;
  if (/backend not found/i.test(message)) {
    if (provider === 'dml' && platform !== 'win32') return 'DirectML runs only on Windows';
    if (provider === 'coreml' && platform !== 'darwin') return 'CoreML runs only on macOS';
    return `this platform's ONNX Runtime has no ${provider} provider`;
  }
  if (provider === 'webgpu') {
    const vk = /Couldn't load Vulkan: (lib[\w.-]+)/.exec(all);
    if (vk) return `no GPU adapter: the Vulkan loader ${vk[1]} is not installed`;
    if (/Failed to get a WebGPU adapter|RequestAdapterStatus|No supported adapters/i.test(all)) {
      return `no GPU adapter: no GPU with a working ${GPU_API[platform] ?? 'native GPU'} driver was found`;
    }
  }
  if (provider === 'cuda' || provider === 'tensorrt') {
    const kit = provider === 'cuda' ? 'CUDA' : 'TensorRT';
    // Linux: "Failed to load library /x/libonnxruntime_providers_shared.so with error: Y: cannot open shared object file"
    const so = /Failed to load library (\S+) with error: (\S+?): cannot open shared object file/.exec(all);
    // Windows: LoadLibrary failed with error 126 "" when trying to load "C:\...\onnxruntime_providers_cuda.dll"
    const dll = /LoadLibrary failed with error (\d+)[^"]*"[^"]*" when trying to load "([^"]+)"/.exec(all);
    if (so) {
      const [lib, missing] = [so[1], so[2]];
      if (basename(missing) === basename(lib) && /onnxruntime_providers/.test(lib)) {
        const files = provider === 'cuda' ? cudaProviderFiles().join(' and ') : basename(lib);
        return `ONNX Runtime's ${kit} provider library is not installed: LM Probe looks for ${files} in ${dirname(lib)}, see README`;
      }
      return `a library that ONNX Runtime's ${kit} provider needs is missing: ${basename(missing)}; install CUDA 12 and cuDNN 9, see README`;
    }
    if (dll) {
      return `ONNX Runtime's ${kit} provider could not be loaded from ${dll[2]}: Windows error ${dll[1]}, the file or a CUDA 12 / cuDNN 9 DLL it needs is missing, see README`;
    }
    if (/no CUDA-capable device|CUDA failure 100\b|cudaErrorNoDevice/i.test(all)) return 'no CUDA GPU: the driver found no CUDA-capable device';
    if (/driver version is insufficient|CUDA failure 35\b|cudaErrorInsufficientDriver/i.test(all)) {
      return 'the NVIDIA driver is older than the CUDA 12 runtime that ONNX Runtime was built for: update the driver';
    }
    if (/Failed to load shared library/i.test(message)) return `ONNX Runtime's ${kit} provider library could not be loaded, see README`;
  }
  return cleanMessage(message) || cleanMessage(stderr) || 'it failed to start and said nothing';
}
