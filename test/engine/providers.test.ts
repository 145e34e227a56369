// Execution providers: a non-CPU provider is tried in a child process first (its native stderr
// captured and turned into one line), the CPU path starts no child, and a provider that starts is
// kept only where a warm-up measured it faster than the CPU (remembered per pack and provider).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childProbesStarted, cleanMessage, describeFailure, probeProvider } from '../../src/engine/providerProbe';
import { choiceCacheFile, choiceLine, chooseFaster, decide, rememberedChoice, type Measured } from '../../src/engine/providerChoice';
import { aliasProviderForTests, createSession, packWarmup, resetProviderFailures } from '../../src/engine/runtime';
import { loadPack } from '../../src/engine/pack';
import { Engine } from '../../src/engine/engine';
import { formatSummary } from '../../src/cli/format';
import { resultTooltip } from '../../src/vscode/statusText';
import { EngineClient } from '../../src/host/client';
import { CLI, MARKOV, ROOT } from './helpers';

// Each test file gets caches of its own: choices and failures written here must not leak.
let cache = '';
const savedCache = process.env.LM_PROBE_CACHE_DIR;
before(() => {
  cache = mkdtempSync(join(tmpdir(), 'lm-probe-providers-'));
  process.env.LM_PROBE_CACHE_DIR = cache;
});
after(() => {
  aliasProviderForTests('fakegpu', undefined);
  if (savedCache === undefined) delete process.env.LM_PROBE_CACHE_DIR;
  else process.env.LM_PROBE_CACHE_DIR = savedCache;
  rmSync(cache, { recursive: true, force: true });
});

// ---- what the child captured on this machine (Linux x64, no GPU, onnxruntime-node 1.30) ----------

const CAPTURED = {
  webgpu: {
    message:
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
    stderr:
      "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n    at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n",
  },
  cuda: {
    message: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
    stderr:
      '\u001b[1;31m2026-12-01 01:42:27.364874952 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /work/main/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so with error: /work/main/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory\n\u001b[m\n',
  },
  tensorrt: {
    message: 'OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library',
    stderr:
      '\u001b[1;31m2026-12-01 01:42:27.688921504 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2235 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /work/main/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so with error: /work/main/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory\n\u001b[m\n',
  },
  coreml: { message: 'no available backend found. ERR: [coreml] backend not found.', stderr: '' },
  dml: { message: 'no available backend found. ERR: [dml] backend not found.', stderr: '' },
};

const ESC = '\u001b';

function oneLine(s: string): void {
  assert.ok(s.length > 0 && s.length < 400, `short: ${s}`);
  assert.doesNotMatch(s, /\n|\.cc:\d|\.cpp:\d|onnxruntime::|\[E:onnxruntime/, `no native noise: ${s}`);
  assert.ok(!s.includes(ESC), `no terminal colors: ${s}`);
}

test('describeFailure: the captured outputs become one clear line each', () => {
  const w = describeFailure('webgpu', CAPTURED.webgpu.message, CAPTURED.webgpu.stderr, 'linux');
  assert.equal(w, 'no GPU adapter: the Vulkan loader libvulkan.so.1 is not installed');
  const c = describeFailure('cuda', CAPTURED.cuda.message, CAPTURED.cuda.stderr, 'linux');
  assert.match(c, /^ONNX Runtime's CUDA provider library is not installed: LM Probe looks for libonnxruntime_providers_cuda\.so and libonnxruntime_providers_shared\.so in \/work\/main\/node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64, see README$/);
  assert.match(describeFailure('tensorrt', CAPTURED.tensorrt.message, CAPTURED.tensorrt.stderr, 'linux'), /TensorRT provider library is not installed/);
  assert.equal(describeFailure('coreml', CAPTURED.coreml.message, '', 'linux'), 'CoreML runs only on macOS');
  assert.equal(describeFailure('dml', CAPTURED.dml.message, '', 'linux'), 'DirectML runs only on Windows');
  for (const [p, o] of Object.entries(CAPTURED)) oneLine(describeFailure(p, o.message, o.stderr, 'linux'));
  // Without Dawn's stderr (another platform, or Vulkan present but no device): still the adapter.
  assert.equal(describeFailure('webgpu', CAPTURED.webgpu.message, '', 'win32'), 'no GPU adapter: no GPU with a working Direct3D 12 driver was found');
});

test('describeFailure: other CUDA failures (messages as ONNX Runtime words them, not captured here)', () => {
  const lib = '/x/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so';
  const cudnn = `Failed to load library ${lib} with error: libcudnn.so.9: cannot open shared object file: No such file or directory`;
  assert.equal(describeFailure('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', cudnn, 'linux'),
    "a library that ONNX Runtime's CUDA provider needs is missing: libcudnn.so.9; install CUDA 12 and cuDNN 9, see README");
  const notThere = `Failed to load library ${lib} with error: ${lib}: cannot open shared object file: No such file or directory`;
  assert.match(describeFailure('cuda', '', notThere, 'linux'), /CUDA provider library is not installed: .* in \/x\/node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64/);
  assert.equal(describeFailure('cuda', 'CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=h', '', 'linux'), 'no CUDA GPU: the driver found no CUDA-capable device');
  assert.match(describeFailure('cuda', 'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version', '', 'linux'), /driver is older/);
  assert.match(describeFailure('cuda', '', 'LoadLibrary failed with error 126 "" when trying to load "C:\\ext\\onnxruntime_providers_cuda.dll"', 'win32'), /could not be loaded from C:\\ext\\onnxruntime_providers_cuda\.dll: Windows error 126/);
});

test('cleanMessage: source locations, C++ names, log headers and colors are dropped; long lines clipped', () => {
  assert.equal(cleanMessage(CAPTURED.webgpu.message), 'Failed to get a WebGPU adapter: No supported adapters');
  assert.match(cleanMessage(CAPTURED.cuda.stderr), /^Failed to load library \/work\/main\/.*libonnxruntime_providers_shared\.so with error/);
  assert.ok(cleanMessage('x'.repeat(500)).length <= 200);
  assert.equal(describeFailure('webnn', 'something odd\nsecond line', '', 'linux'), 'something odd');
});

// ---- the child process ------------------------------------------------------------------------

test('probeProvider: a failing provider gives one line; its native output stays in the child', async (t) => {
  const v = await probeProvider('webgpu');
  if (v.ok) return t.skip('webgpu starts on this machine');
  assert.equal(v.lasting, true);
  oneLine(v.reason!);
  assert.match(v.reason!, /^no GPU adapter/);
  // What Dawn printed was captured (it reached no one's stderr).
  if (process.platform === 'linux') assert.match(v.raw.stderr + v.raw.message, /Vulkan|adapter/);
  const cuda = await probeProvider('cuda');
  if (!cuda.ok) {
    oneLine(cuda.reason!);
    assert.match(cuda.reason!, /CUDA|NVIDIA/);
  }
});

test('probeProvider: the child starts the CPU provider; a child that hangs is stopped and not remembered for good', async () => {
  const v = await probeProvider('cpu');
  assert.equal(v.ok, true, JSON.stringify(v));
  const slow = await probeProvider('cpu', { timeoutMs: 1 });
  assert.equal(slow.ok, false);
  assert.equal(slow.lasting, false);
  assert.equal(slow.reason, 'did not start within 1 ms');
});

test('the CPU path starts no child process', async () => {
  const n = childProbesStarted();
  const e = await Engine.open(MARKOV, { providers: ['cpu'] });
  await e.probe('the cat');
  await e.dispose();
  assert.equal(childProbesStarted(), n);
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000, cwd: ROOT, env: { ...process.env, LM_PROBE_DEBUG: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: providers that fail give one warning line each on stderr and nothing native', () => {
  const r = cli(['probe', '--model', MARKOV, '--providers', 'webgpu,cuda,coreml', '--json', '--text', 'the cat'], { LM_PROBE_CACHE_DIR: cache });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as import('../../src/engine/schema').ProbeResult;
  const failedHere = res.runtime.fallbacks.map((f) => f.provider);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, failedHere.length, r.stderr);
  for (const l of lines) {
    assert.match(l, /^lm-probe: warning: execution provider (webgpu|cuda|coreml) unavailable \(.+\); using \S+$/);
    oneLine(l.replace(/^lm-probe: warning: /, ''));
  }
  assert.doesNotMatch(r.stderr, /Couldn't load Vulkan|BackendVk|provider_bridge/);
  assert.ok(!r.stderr.includes(ESC));
  if (failedHere.includes('webgpu')) assert.match(r.stderr, /webgpu unavailable \(no GPU adapter/);
  if (failedHere.includes('cuda')) assert.match(r.stderr, /cuda unavailable \((ONNX Runtime's CUDA provider|a library that|no CUDA GPU|the NVIDIA driver)/);
  assert.match(r.stderr, /coreml unavailable \(CoreML runs only on macOS\)/);
});

test('CLI: the default provider list prints nothing on stderr', () => {
  const r = cli(['probe', '--model', MARKOV, '--summary', '--text', 'the cat'], { LM_PROBE_CACHE_DIR: cache });
  assert.equal(r.code, 0, r.stderr);
  if (!r.stdout.match(/runtime {3}cpu,/)) return; // a machine with a GPU: its provider may start
  assert.equal(r.stderr, '');
});

test('a failure remembered on disk starts no child in the next process', async (t) => {
  resetProviderFailures();
  const a = await createSession(join(MARKOV, 'forward.onnx'), ['webgpu', 'cpu'], { rememberFailures: true });
  await a.session.release();
  if (a.provider === 'webgpu') return t.skip('webgpu starts on this machine');
  resetProviderFailures(); // as a new process would start
  const n = childProbesStarted();
  const b = await createSession(join(MARKOV, 'forward.onnx'), ['webgpu', 'cpu'], { rememberFailures: true });
  await b.session.release();
  assert.equal(childProbesStarted(), n);
  assert.match(b.fallbacks[0].error, /^no GPU adapter.* \(failed earlier on this machine; set LM_PROBE_RETRY_PROVIDERS=1/);
  resetProviderFailures();
});

test('engine host (dist/engineHost.js): a failing provider reaches the output channel as no raw line', async (t) => {
  const hostScript = join(ROOT, 'dist', 'engineHost.js');
  if (!existsSync(hostScript)) return t.skip('dist/engineHost.js is missing (run npm run build)');
  const logged: string[] = [];
  const c = new EngineClient({ hostScript, log: (_level, m) => logged.push(m) });
  try {
    const r = await c.request('open', { packDir: MARKOV, providers: ['webgpu', 'cuda'] });
    for (const f of r.fallbacks) oneLine(f.error);
    if (r.fallbacks.some((f) => f.provider === 'webgpu')) assert.match(r.fallbacks[0].error, /^no GPU adapter/);
    await c.request('probe', { packDir: MARKOV, providers: ['webgpu', 'cuda'], text: 'the cat', options: {} });
    assert.doesNotMatch(logged.join('\n'), /Vulkan|BackendVk|provider_bridge|onnxruntime_src/, logged.join('\n'));
    assert.ok(!logged.join('\n').includes(ESC));
  } finally {
    c.dispose();
  }
});

// ---- the choice ---------------------------------------------------------------------------------

test('decide and choiceLine: the faster is kept; a tie or a failed run keeps the CPU', () => {
  assert.equal(decide(41, 120, 'webgpu'), 'webgpu');
  assert.equal(decide(130, 120, 'webgpu'), 'cpu');
  assert.equal(decide(120, 120, 'webgpu'), 'cpu');
  assert.equal(decide(null, 120, 'webgpu'), 'cpu');
  const m: Measured = { provider: 'webgpu', ms: 41.2, cpuMs: 120.4, kept: 'webgpu', at: Date.UTC(2026, 0, 2) };
  assert.equal(choiceLine(m), 'webgpu 41 ms vs cpu 120 ms per window: webgpu kept');
  assert.equal(choiceLine({ ...m, ms: 3.14, cpuMs: 2.5, kept: 'cpu' }), 'webgpu 3.1 ms vs cpu 2.5 ms per window: cpu kept');
  assert.match(choiceLine(m, true), /: webgpu kept \(measured 2026-01-02; LM_PROBE_RETRY_PROVIDERS=1 measures again\)$/);
  assert.equal(choiceLine({ ...m, ms: null, note: 'boom', kept: 'cpu' }), 'webgpu failed its warm-up run (boom), cpu 120 ms per window: cpu kept');
});

interface Fake {
  name: string;
  released: boolean;
}

async function choose(times: Record<string, number | Error>, openCpuFails = false) {
  const gpu: Fake = { name: 'gpu', released: false };
  const cpu: Fake = { name: 'cpu', released: false };
  const timed: string[] = [];
  const r = await chooseFaster<Fake>({
    provider: 'webgpu',
    session: gpu,
    openCpu: async () => {
      if (openCpuFails) throw new Error('no cpu');
      return cpu;
    },
    time: async (_s, p) => {
      timed.push(p);
      const t = times[p];
      if (t instanceof Error) throw t;
      return t;
    },
    release: async (s) => {
      s.released = true;
    },
    now: () => 1000,
  });
  return { r, gpu, cpu, timed };
}

test('chooseFaster: times both, keeps the faster and releases the other', async () => {
  const fast = await choose({ webgpu: 41, cpu: 120 });
  assert.deepEqual(fast.timed, ['webgpu', 'cpu']);
  assert.equal(fast.r.provider, 'webgpu');
  assert.equal(fast.r.session, fast.gpu);
  assert.ok(fast.cpu.released && !fast.gpu.released);
  assert.deepEqual(fast.r.measured, { provider: 'webgpu', ms: 41, cpuMs: 120, kept: 'webgpu', at: 1000 });

  const slow = await choose({ webgpu: 130, cpu: 120 });
  assert.equal(slow.r.provider, 'cpu', 'a GPU provider slower than the CPU for this pack is not kept');
  assert.equal(slow.r.session, slow.cpu);
  assert.ok(slow.gpu.released && !slow.cpu.released);

  const broken = await choose({ webgpu: new Error('kernel failed\nmore'), cpu: 120 });
  assert.equal(broken.r.provider, 'cpu');
  assert.equal(broken.r.measured?.note, 'kernel failed');

  const noCpu = await choose({ webgpu: 41, cpu: 120 }, true);
  assert.equal(noCpu.r.provider, 'webgpu');
  assert.equal(noCpu.r.measured, null);
  const cpuFails = await choose({ webgpu: 41, cpu: new Error('bad graph') });
  assert.equal(cpuFails.r.provider, 'webgpu');
  assert.equal(cpuFails.r.measured, null);
  assert.ok(cpuFails.cpu.released);
});

test('createSession: a provider that starts is measured once per pack, remembered on disk, and re-measured on request', async () => {
  // 'fakegpu' is ONNX Runtime's CPU provider under another name: it takes the GPU path (child
  // process, in-process session, warm-up) on a machine without a GPU.
  aliasProviderForTests('fakegpu', 'cpu');
  const pack = loadPack(MARKOV);
  const times: Record<string, number> = { fakegpu: 5, cpu: 20 };
  const timed: string[] = [];
  const warmup = {
    ...packWarmup(pack),
    time: async (_s: unknown, p: string) => {
      timed.push(p);
      return times[p];
    },
  };
  const a = await createSession(pack.files.forward, ['fakegpu', 'cpu'], { warmup });
  await a.session.release();
  assert.equal(a.provider, 'fakegpu');
  assert.equal(a.choice, 'fakegpu 5.0 ms vs cpu 20 ms per window: fakegpu kept');
  assert.deepEqual(timed, ['fakegpu', 'cpu']);
  assert.ok(existsSync(choiceCacheFile()));
  assert.equal(rememberedChoice(warmup.key, 'fakegpu')?.kept, 'fakegpu');

  // A new process: the remembered choice is used, nothing is timed and no child starts.
  resetProviderFailures();
  const children = childProbesStarted();
  const b = await createSession(pack.files.forward, ['fakegpu', 'cpu'], { warmup });
  await b.session.release();
  assert.equal(b.provider, 'fakegpu');
  assert.match(b.choice!, /fakegpu kept \(measured \d{4}-\d\d-\d\d; LM_PROBE_RETRY_PROVIDERS=1 measures again\)$/);
  assert.deepEqual(timed, ['fakegpu', 'cpu']);
  assert.equal(childProbesStarted(), children);

  // LM_PROBE_RETRY_PROVIDERS measures again: now the CPU is faster and is kept.
  times.fakegpu = 50;
  process.env.LM_PROBE_RETRY_PROVIDERS = '1';
  try {
    resetProviderFailures();
    const c = await createSession(pack.files.forward, ['fakegpu', 'cpu'], { warmup });
    await c.session.release();
    assert.equal(c.provider, 'cpu');
    assert.equal(c.fallbacks.length, 0, 'a provider that started but was slower is not a failure');
    assert.equal(c.choice, 'fakegpu 50 ms vs cpu 20 ms per window: cpu kept');
  } finally {
    delete process.env.LM_PROBE_RETRY_PROVIDERS;
  }
  // ... and later opens go straight to the CPU: no child, no session on the slower provider.
  resetProviderFailures();
  const d = await createSession(pack.files.forward, ['fakegpu', 'cpu'], { warmup });
  await d.session.release();
  assert.equal(d.provider, 'cpu');
  assert.match(d.choice!, /^fakegpu 50 ms vs cpu 20 ms per window: cpu kept \(measured/);
  assert.equal(childProbesStarted(), children + 1);
  // Without a warm-up (the backward graph, the head), nothing is measured.
  resetProviderFailures();
  const e = await createSession(pack.files.forward, ['fakegpu', 'cpu']);
  await e.session.release();
  assert.equal(e.provider, 'fakegpu');
  assert.equal(e.choice, undefined);
  aliasProviderForTests('fakegpu', undefined);
});

test('Engine: the real warm-up on a pack records the choice in RuntimeInfo, the CLI line and the tooltip', async () => {
  aliasProviderForTests('fakegpu', 'cpu');
  process.env.LM_PROBE_RETRY_PROVIDERS = '1';
  let e: Engine | undefined;
  try {
    e = await Engine.open(MARKOV, { providers: ['fakegpu'] });
    const r = await e.probe('the cat sat on the mat');
    assert.match(r.runtime.choice!, /^fakegpu [\d.]+ ms vs cpu [\d.]+ ms per window: (fakegpu|cpu) kept$/);
    const kept = /: (\S+) kept$/.exec(r.runtime.choice!)![1];
    assert.equal(r.runtime.provider, kept, 'the backward graph follows the forward one');
    assert.deepEqual(r.runtime.fallbacks, []);
    assert.ok(r.tokens.every((t) => Number.isFinite(t.forward.surprisalBits)));
    const line = formatSummary(r).find((l) => l.startsWith('runtime'))!;
    assert.ok(line.endsWith(` · ${r.runtime.choice}`), line);
    assert.ok(resultTooltip(r).includes('provider choice: fakegpu'), resultTooltip(r));
    const saved = JSON.parse(readFileSync(choiceCacheFile(), 'utf8')) as Record<string, Measured>;
    assert.ok(Object.keys(saved).some((k) => k.startsWith(`${MARKOV}|`) && k.includes('|fakegpu|')), Object.keys(saved).join('\n'));
  } finally {
    delete process.env.LM_PROBE_RETRY_PROVIDERS;
    await e?.dispose();
    aliasProviderForTests('fakegpu', undefined);
  }
});

test('resultTooltip: fallback reasons are shown with their Markdown escaped', () => {
  const r = {
    version: 1,
    text: 'x',
    pack: { name: 'p', dir: '/p', contextLength: 8, layers: 1, heads: 1, width: 1, vocabSize: 2, hasBackward: true, hasProbes: false },
    tokens: [],
    summary: { tokenCount: 1, forward: { meanNats: 1, totalBits: 1 }, backward: { meanNats: 1, totalBits: 1 }, delta: 0 },
    runtime: { provider: 'cpu', fallbacks: [{ provider: 'cuda', error: 'no libonnxruntime_providers_cuda.so' }], ms: 1, loadMs: 0, windows: 1 },
    warnings: [],
  } as const;
  const tip = resultTooltip(r as unknown as import('../../src/engine/schema').ProbeResult);
  assert.match(tip, /fell back from cuda \(no libonnxruntime\\_providers\\_cuda\.so\)/);
  assert.doesNotMatch(tip, /provider choice/);
});
