// The WebGPU path, run for real on a machine without a GPU: ONNX Runtime's WebGPU provider on
// SwiftShader, the Vulkan implementation on the CPU that ships with Chromium (Debian's chromium
// package; .ci/run installs it with libvulkan1). Its speed says nothing about a GPU. Its results say
// whether our graphs (the in-graph statistics; the query-blocked attention and rotary embedding of
// graphs built from Hugging Face folders) run on WebGPU and agree with the CPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine';
import type { ProbeResult } from '../../src/engine/schema';
import { CLI, ROOT, TINY } from './helpers';

const HF = (name: string) => join(ROOT, 'test', 'fixtures', 'hf', name);

/** Chromium's SwiftShader Vulkan driver manifest, where one is installed. */
function swiftShaderIcd(): string | undefined {
  const found = ['/usr/lib/chromium/vk_swiftshader_icd.json'];
  const pw = join(homedir(), '.cache', 'ms-playwright');
  if (existsSync(pw)) for (const d of readdirSync(pw)) if (d.startsWith('chromium')) found.push(join(pw, d, 'chrome-linux', 'vk_swiftshader_icd.json'));
  return found.find((f) => existsSync(f));
}

function vulkanLoader(): boolean {
  if (['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(join(d, 'libvulkan.so.1')))) return true;
  // ldconfig is in /sbin, which an ordinary user's PATH may lack
  return ['ldconfig', '/sbin/ldconfig'].some((c) => /libvulkan\.so\.1\b/.test(spawnSync(c, ['-p'], { encoding: 'utf8' }).stdout ?? ''));
}

const icd = process.platform === 'linux' && process.arch === 'x64' ? swiftShaderIcd() : undefined;
const missing =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'SwiftShader is looked for on Linux x64 only'
    : !icd
      ? "no SwiftShader Vulkan driver (Debian's chromium package has one: apt-get install chromium)"
      : !vulkanLoader()
        ? 'no Vulkan loader (apt-get install libvulkan1)'
        : undefined;

let cache = '';
const saved = { ...process.env };
before(() => {
  if (missing) return;
  cache = mkdtempSync(join(tmpdir(), 'lm-probe-webgpu-'));
  process.env.LM_PROBE_CACHE_DIR = cache;
  // SwiftShader alone, whatever GPU the machine has: the loader reads these when WebGPU starts.
  process.env.VK_ICD_FILENAMES = icd;
  process.env.VK_DRIVER_FILES = icd;
  process.env.XDG_RUNTIME_DIR ??= cache; // else SwiftShader prints "XDG_RUNTIME_DIR is invalid"
});
after(() => {
  for (const k of ['LM_PROBE_CACHE_DIR', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'XDG_RUNTIME_DIR']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  if (cache) rmSync(cache, { recursive: true, force: true });
});

/** In CI the driver is installed (.ci/run): a missing one there is a failure, not a skip. */
function needsSwiftShader(t: { skip: (m: string) => void }): boolean {
  if (!missing) return true;
  if (process.env.CI) assert.fail(`the WebGPU tests need SwiftShader: ${missing}`);
  t.skip(missing);
  return false;
}

async function probeOn(model: string, provider: 'cpu' | 'webgpu', texts: string[]): Promise<ProbeResult[]> {
  const e = await Engine.open(model, { providers: [provider], chooseFasterProvider: false });
  try {
    assert.equal(e.provider, provider, `${model} opened on ${e.provider}`);
    const out: ProbeResult[] = [];
    for (const text of texts) out.push(await e.probe(text, { topK: 5 }));
    return out;
  } finally {
    await e.dispose();
  }
}

/** Surprisal and entropy within `tol` bits, the same ranks and top-5 ids, token by token. */
function sameResults(a: ProbeResult, b: ProbeResult, tol: number): void {
  assert.equal(a.tokens.length, b.tokens.length);
  let worst = 0;
  for (let i = 0; i < a.tokens.length; i++) {
    for (const d of ['forward', 'backward'] as const) {
      const x = a.tokens[i][d];
      const y = b.tokens[i][d];
      assert.equal(x === undefined, y === undefined);
      if (!x || !y) continue;
      worst = Math.max(worst, Math.abs(x.surprisalBits - y.surprisalBits), Math.abs(x.entropyBits - y.entropyBits));
      assert.equal(y.rank, x.rank, `token ${i} ${d}`);
      assert.deepEqual(
        y.top.map((t) => t.id),
        x.top.map((t) => t.id),
        `token ${i} ${d}`,
      );
    }
  }
  assert.ok(worst < tol, `WebGPU and CPU differ by ${worst} bits`);
}

const TEXT = 'The engine runs on WebGPU: émigré 東京 👋🏽 and tabs\tand\r\nlines.';
// 1, 2 and 3 tokens: windows shorter than the attention's 4 query blocks (decoder.ts pads them).
const SHORT = ['a', 'a b', 'a b c'];

for (const [name, model] of [
  ['a GPT pack (in-graph statistics appended at open)', TINY],
  ['a GPT-2 folder (learned positions, query blocks)', HF('gpt2-tiny')],
  ['a Llama folder (rotary embedding, grouped-query attention)', HF('llama-gqa')],
  ['a GPT-NeoX folder in bfloat16 (weights through a Cast, partial rotary)', HF('neox-seq-bf16')],
] as const) {
  test(`WebGPU on SwiftShader: ${name} gives the CPU's figures, short windows too`, async (t) => {
    if (!needsSwiftShader(t)) return;
    const texts = [TEXT, ...SHORT];
    const cpu = await probeOn(model, 'cpu', texts);
    const gpu = await probeOn(model, 'webgpu', texts);
    assert.ok(cpu[0].tokens.length > 20);
    // Without the rotary cos and sin on the CPU (webgpuGraph.ts) the Llama folder was 2e-3 bits off.
    for (let i = 0; i < texts.length; i++) sameResults(cpu[i], gpu[i], 1e-4);
  });
}

test('WebGPU on SwiftShader: a full run (logits, hidden states, attentions) gives the CPU values', async (t) => {
  if (!needsSwiftShader(t)) return;
  const full = async (provider: 'cpu' | 'webgpu') => {
    const e = await Engine.open(HF('llama-gqa'), { providers: [provider], chooseFasterProvider: false });
    try {
      const ids = e.tokenize(TEXT).ids.slice(0, 30);
      return await e.run('forward', ids);
    } finally {
      await e.dispose();
    }
  };
  const a = await full('cpu');
  const b = await full('webgpu');
  assert.deepEqual(b.dims, a.dims);
  for (const k of ['logits', 'hidden', 'attentions'] as const) {
    const x = a[k]!;
    const y = b[k]!;
    assert.equal(y.length, x.length, k);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    assert.ok(worst < 1e-4, `${k}: WebGPU and CPU differ by ${worst}`);
  }
});

test('WebGPU on SwiftShader: the warm-up measures it slower than the CPU and keeps the CPU', async (t) => {
  if (!needsSwiftShader(t)) return;
  const e = await Engine.open(TINY, { providers: ['webgpu'] });
  try {
    assert.equal(e.provider, 'cpu');
    const r = await e.probe('the cat sat');
    assert.match(r.runtime.choice ?? '', /^webgpu [\d.]+ ms vs cpu [\d.]+ ms per window: cpu kept$/);
  } finally {
    await e.dispose();
  }
});

test('lm-probe bench --providers webgpu,cpu: each measured on its own, side by side, with the ratios', (t) => {
  if (!needsSwiftShader(t)) return;
  const text = join(cache, 'bench.txt');
  writeFileSync(text, 'A line of plain text that the model scores, window after window.\n'.repeat(20));
  const r = spawnSync(process.execPath, [CLI, 'bench', '--model', TINY, '--providers', 'webgpu,cpu', '--tokens', '16', '--repeats', '2', '--json', text], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(
    j.providers.map((p: { provider: string }) => p.provider),
    ['webgpu', 'cpu'],
  );
  assert.deepEqual(j.unavailable, []);
  const [gpu, cpu] = j.providers;
  // SwiftShader is a GPU emulated on the CPU: far slower than the CPU provider.
  assert.equal(j.ratios.probe16['cpu/webgpu'], Number((cpu.probe16.engineMs.median / gpu.probe16.engineMs.median).toPrecision(3)));
  assert.ok(j.ratios.probe16['cpu/webgpu'] < 1 && j.ratios.corpus['cpu/webgpu'] < 1, JSON.stringify(j.ratios));
  assert.equal(gpu.corpus.tokens, cpu.corpus.tokens);
});
