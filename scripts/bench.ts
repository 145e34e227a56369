// Prints figures, never pass/fail. In one run, with warm-up and interleaved repeats (medians and
// spread): probes of 128, 512 and 2,048 tokens split into tokenize / forward / backward / the rest;
// PyTorch eager on the same weights and the same windows, in four threading settings, as a ratio
// torch / engine; the machine's float32 matmul rate on the model's shapes and the fraction of it
// each side reaches; corpus-mode tokens/s over about a megabyte of text, the engine against each torch
// setting on the same token ids (nats only); peak memory.
//
// Usage: npm run bench [-- --json] [--model PATH] [--tokens 128,512,2048] [--chars N] [--top K]
//                      [--repeats N] [--no-torch] [--torch-blas auto|system|DIR] [--python PATH]
//   --model    a pack, a Hugging Face folder or a pair.json (default models/default). The first open
//              of a Hugging Face folder hashes its weights and builds its graphs (run with
//              LM_PROBE_CACHE_DIR pointing at an empty folder to measure that). The torch side needs
//              a pack whose graphs hold models/recipe/model.py's GPT weights; others skip it.
//   --tokens   the probe sizes in tokens (each text is cut at the end of token N); default 128,512,2048
//   --chars    characters of text for the corpus measurement: @types/node's .d.ts files, whole
//              files, the last one cut. Default 400,000 (about 110k tokens, 35-50 s on the default
//              pack), less for a slower model: what its largest probe's speed does in about a minute.
//              3,000,000 takes ~15 minutes on the default pack
//   --top      top-k alternatives per token, both sides (default 5)
//   --repeats  measured repeats per size and side, after one warm-up each (default 5; half as many,
//              rounded up, for 2,048 tokens and more)
//   --torch-blas  the BLAS the torch children load: auto (an OpenBLAS in .cache/openblas/ or
//              /usr/lib/x86_64-linux-gnu/openblas-*; where there is none, Debian's is fetched into
//              .cache/openblas with apt-get download; else the system's libblas.so.3), system, or a
//              folder holding a libblas.so.3 (put first on LD_LIBRARY_PATH). Debian's python3-torch
//              calls whatever libblas.so.3 is installed; the reference BLAS (libblas3) makes torch's
//              matmuls about 8x slower, which no fair comparison should use (BENCHMARKS.md).
//   --json     one JSON object on stdout (progress on stderr)
// Without python3 + torch the torch part is skipped with a one-line note. Run through tsx
// (npm run bench), straight from src/engine.
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { Engine, planWindows, type Window } from '../src/engine/index';
import { runCorpus } from '../src/cli/corpus';
import { ort } from '../src/engine/runtime';
import { GraphBuilder, FLOAT } from '../src/engine/hf/onnxGraph';
import { appendStatistics } from '../src/engine/hf/statistics';

const root = join(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    chars: { type: 'string' },
    tokens: { type: 'string', default: '128,512,2048' },
    top: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    'torch-blas': { type: 'string', default: 'auto' },
    python: { type: 'string' },
  },
});
const SIZES = values.tokens!.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const TOP_K = Number(values.top);
const REPEATS = Math.max(1, Number(values.repeats));
const SETTINGS = ['default', 'passive', 'oneThread', 'allCores'] as const;
type Setting = (typeof SETTINGS)[number];
const SETTING_TEXT: Record<Setting, string> = {
  default: "torch's default threads",
  passive: "default threads, OMP_WAIT_POLICY=PASSIVE",
  oneThread: 'torch.set_num_threads(1)',
  allCores: `torch.set_num_threads(${availableParallelism()})`,
};
// The engine's batching rule (src/engine/engine.ts: MAX_BATCH_FLOATS, MAX_BATCH_WINDOWS), copied so
// that torch runs the same batches.
const MAX_BATCH_FLOATS = 4 * 1024 * 1024;
const MAX_BATCH_WINDOWS = 64;

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const wallStart = performance.now();

// ---- statistics of repeated measurements -------------------------------------------------------
interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
  /** (max - min) / median */
  spread: number;
}
function spreadOf(xs: number[]): Spread {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return { median: NaN, min: NaN, max: NaN, n: 0, spread: NaN };
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: m, min: s[0], max: s[s.length - 1], n: s.length, spread: (s[s.length - 1] - s[0]) / m };
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---- texts -------------------------------------------------------------------------------------
/** The project's own sources and docs, repeated to n characters (the probe texts). */
function projectText(n: number): string {
  const parts: string[] = [];
  for (const d of ['src/engine', 'src/cli', 'docs']) {
    for (const f of readdirSync(join(root, d)).sort()) if (/\.(ts|md)$/.test(f)) parts.push(readFileSync(join(root, d, f), 'utf8'));
  }
  let s = parts.join('\n');
  while (s.length < n) s += s;
  return s.slice(0, n);
}

/** Corpus documents: @types/node's .d.ts files (else the project's sources), about `chars` characters. */
function corpusDocs(chars: number): { file: string; text: string }[] {
  const dirs = [join(root, 'node_modules', '@types', 'node'), join(root, 'node_modules', 'typescript', 'lib')];
  const files: string[] = [];
  for (const d of dirs) if (existsSync(d)) for (const f of readdirSync(d).sort()) if (f.endsWith('.d.ts')) files.push(join(d, f));
  const docs: { file: string; text: string }[] = [];
  let total = 0;
  for (const file of files) {
    if (total >= chars) break;
    const text = readFileSync(file, 'utf8').slice(0, chars - total);
    if (!text.trim()) continue;
    docs.push({ file, text });
    total += text.length;
  }
  if (total < chars) docs.push({ file: 'project sources', text: projectText(chars - total) });
  return docs;
}

// ---- machine -----------------------------------------------------------------------------------
function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    /* not Linux */
  }
  const git = (...a: string[]) => {
    try {
      return execFileSync('git', a, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return {
    nproc: availableParallelism(),
    cpu,
    memoryGiB: r1(totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime: ort.env.versions?.common ?? null,
    commit: git('rev-parse', 'HEAD'),
    dirtyFiles: (git('status', '--porcelain', '--untracked-files=no') ?? '').split('\n').filter(Boolean).length,
  };
}

// ---- FLOPs -------------------------------------------------------------------------------------
interface Arch {
  layers: number;
  heads: number;
  width: number;
  vocabSize: number;
}
/**
 * FLOPs of the forward passes of one direction over `windows` (S = window length positions: BOS +
 * length - 1 tokens): 2 * params-in-matmuls * S (GPT-2 blocks: qkv 3D^2, proj D^2, MLP 8D^2) plus
 * attention's 2*2*S^2*D per layer (q k^T and att v, masked half included) plus the unembedding 2*S*D*V;
 * 'scored positions' counts the unembedding and the last block's tail at the scored positions only.
 */
function forwardFlops(a: Arch, windows: Window[], unembed: 'every position' | 'scored positions' = 'every position'): number {
  const D = a.width;
  let f = 0;
  for (const w of windows) {
    const S = w.length;
    const U = unembed === 'scored positions' ? w.scoreTo - w.scoreFrom : S;
    // With the in-graph statistics the last block's attention output and MLP (9 D^2) run on the scored rows only too.
    f += 2 * S * (12 * a.layers * D * D) - 2 * (S - U) * 9 * D * D + a.layers * 4 * S * S * D + 2 * U * D * a.vocabSize;
  }
  return f;
}

/** The matmuls of one batch of the model (shapes [batch, M, K, N]) and how often a forward pass runs each. */
function gemmShapes(a: Arch, rows: number, S: number): { shape: [number, number, number, number]; count: number; what: string }[] {
  const D = a.width;
  const M = rows * S;
  const hd = Math.round(D / a.heads);
  return [
    { shape: [1, M, D, 3 * D], count: a.layers, what: 'qkv' },
    { shape: [1, M, D, D], count: a.layers, what: 'attention out' },
    { shape: [1, M, D, 4 * D], count: a.layers, what: 'MLP up' },
    { shape: [1, M, 4 * D, D], count: a.layers, what: 'MLP down' },
    { shape: [rows * a.heads, S, hd, S], count: a.layers, what: 'q k^T' },
    { shape: [rows * a.heads, S, S, hd], count: a.layers, what: 'att v' },
    { shape: [1, M, D, a.vocabSize], count: 1, what: 'unembedding' },
  ];
}

function randomFloats(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return x;
}

/** A MatMul graph: A [b?, M, K] times B (a [K, N] initializer, as the model's weights, or a [b, K, N] input). */
function matmulModel(batch: number, M: number, K: number, N: number): Uint8Array {
  const T = onnx.TensorProto.DataType.FLOAT;
  const vi = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: T, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const a = batch > 1 ? [batch, M, K] : [M, K];
  const inputs = [vi('A', a)];
  const initializer: onnx.ITensorProto[] = [];
  if (batch > 1) inputs.push(vi('B', [batch, K, N]));
  else initializer.push({ name: 'B', dims: [K, N], dataType: T, rawData: new Uint8Array(randomFloats(K * N, 7).buffer) });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'lm-probe-bench',
    graph: { name: 'gemm', node: [{ name: 'mm', opType: 'MatMul', input: ['A', 'B'], output: ['Y'] }], initializer, input: inputs, output: [vi('Y', batch > 1 ? [batch, M, N] : [M, N])] },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function ortGemm(shapes: [number, number, number, number][], minMs: number): Promise<{ shape: number[]; gflops: number; ms: number }[]> {
  const out = [];
  for (const [batch, M, K, N] of shapes) {
    const session = await ort.InferenceSession.create(matmulModel(batch, M, K, N), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const feeds: Record<string, ort.Tensor> = { A: new ort.Tensor('float32', randomFloats(batch * M * K, 3), batch > 1 ? [batch, M, K] : [M, K]) };
    if (batch > 1) feeds.B = new ort.Tensor('float32', randomFloats(batch * K * N, 5), [batch, K, N]);
    await session.run(feeds);
    let best = Infinity;
    let spent = 0;
    while (spent < minMs || best === Infinity) {
      const t = performance.now();
      await session.run(feeds);
      const dt = performance.now() - t;
      best = Math.min(best, dt);
      spent += dt;
    }
    await session.release();
    const flop = 2 * batch * M * K * N;
    out.push({ shape: [batch, M, K, N], gflops: flop / (best / 1000) / 1e9, ms: best });
  }
  return out;
}

/** GFLOP/s over a forward pass's mix: sum(count * flops) / sum(count * best time). */
function composite(per: { shape: number[]; ms: number }[], counts: number[]): number {
  let f = 0;
  let s = 0;
  per.forEach((p, i) => {
    const [b, M, K, N] = p.shape;
    f += counts[i] * 2 * b * M * K * N;
    s += (counts[i] * p.ms) / 1000;
  });
  return f / s / 1e9;
}

// ---- torch children ----------------------------------------------------------------------------
interface TorchReady {
  ready: true;
  setting: Setting;
  torch: string;
  threads: number;
  defaultThreads: number;
  ompWaitPolicy: string;
  blas: string | null;
  blasInfo: string | null;
  loadMs: number;
  peakRssMb: number;
}
interface TorchProbe {
  ms: number;
  forwardMs: number;
  backwardMs: number;
  statsMs: number;
  tokens: number;
  meanNatsFw: number;
  meanNatsBw: number | null;
  peakRssMb: number;
  error?: string;
}

class TorchChild {
  private readonly pending: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];
  private stderr = '';
  private exited = false;
  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const p = this.pending.shift();
      if (p) p(line);
      else this.lines.push(line);
    });
    proc.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    proc.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: `the torch process exited: ${this.stderr.trim().split('\n').pop() ?? ''}` }));
    });
    proc.on('error', (e) => {
      this.exited = true;
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: String(e) }));
    });
  }
  next<T>(): Promise<T> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(JSON.parse(l) as T);
    if (this.exited) return Promise.resolve({ error: `the torch process exited: ${this.stderr.trim().split('\n').pop() ?? ''}` } as T);
    return new Promise((res) => this.pending.push((line) => res(JSON.parse(line) as T)));
  }
  ask<T>(cmd: object): Promise<T> {
    if (this.exited) return Promise.resolve({ error: 'the torch process exited' } as T);
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    return this.next<T>();
  }
  close(): void {
    if (!this.exited) this.proc.stdin.end(JSON.stringify({ op: 'exit' }) + '\n');
  }
}

function findPython(): string | null {
  if (values.python) return values.python;
  for (const p of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(p, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore', timeout: 60_000 });
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

const OPENBLAS_CACHE = join(root, '.cache', 'openblas');

function blasDir(): string | null {
  const v = values['torch-blas']!;
  if (v === 'system') return null;
  if (v !== 'auto') return v;
  const found = () =>
    [
      join(OPENBLAS_CACHE, 'usr', 'lib', 'x86_64-linux-gnu', 'openblas-openmp'),
      join(OPENBLAS_CACHE, 'usr', 'lib', 'x86_64-linux-gnu', 'openblas-pthread'),
      '/usr/lib/x86_64-linux-gnu/openblas-openmp',
      '/usr/lib/x86_64-linux-gnu/openblas-pthread',
    ].find((d) => existsSync(join(d, 'libblas.so.3'))) ?? null;
  return found() ?? (unpackOpenBlas() ? found() : null);
}

/**
 * Debian's python3-torch calls whatever libblas.so.3 is installed, and a fresh machine often has
 * only the reference BLAS, about 8x slower: a torch/engine ratio against it would flatter the
 * engine. So where apt-get can download Debian's OpenBLAS, it is unpacked into .cache/openblas
 * (nothing is installed) and put first on the torch children's library path.
 */
function unpackOpenBlas(): boolean {
  log('no OpenBLAS found for torch: fetching Debian\'s libopenblas0-openmp into .cache/openblas (apt-get download, nothing installed)');
  try {
    mkdirSync(OPENBLAS_CACHE, { recursive: true });
    execFileSync('apt-get', ['download', '-q', 'libopenblas0-openmp'], { cwd: OPENBLAS_CACHE, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    const deb = readdirSync(OPENBLAS_CACHE).find((f) => /^libopenblas0-openmp_.*\.deb$/.test(f));
    if (!deb) throw new Error('apt-get wrote no .deb');
    execFileSync('dpkg', ['-x', deb, '.'], { cwd: OPENBLAS_CACHE, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return true;
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() || (e as Error).message;
    log(`could not fetch OpenBLAS (${why}); torch uses the system's BLAS (BENCHMARKS.md, "Commands")`);
    return false;
  }
}

const children: TorchChild[] = [];
function startTorch(python: string, pack: string, setting: Setting, blas: string | null): TorchChild {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OMP_WAIT_POLICY;
  if (setting === 'passive') env.OMP_WAIT_POLICY = 'PASSIVE';
  if (setting === 'oneThread') env.OPENBLAS_NUM_THREADS = '1'; // a pthread OpenBLAS keeps its own pool
  if (blas) env.LD_LIBRARY_PATH = [blas, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const proc = spawn(python, [join(root, 'scripts', 'bench_torch.py'), '--pack', pack, '--setting', setting], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const child = new TorchChild(proc);
  children.push(child);
  return child;
}

// ---- main --------------------------------------------------------------------------------------
interface EngineRun {
  totalMs: number;
  tokenizeMs: number;
  forwardMs: number | null;
  backwardMs: number | null;
  meanNatsFw: number;
  meanNatsBw: number | null;
}

async function main() {
  const m = machine();
  const loadStart = loadavg();
  const packArg = values.model ?? join(root, 'models', 'default');

  const t0 = performance.now();
  const engine = await Engine.open(packArg);
  const loadMs = performance.now() - t0;
  const info = engine.pack.info;
  const arch: Arch = { layers: info.layers, heads: info.heads, width: info.width, vocabSize: info.vocabSize };
  const W = info.contextLength - 1;
  const inGraphStats = engine.pack.manifest.graph.statistics !== undefined;
  const hasBackward = engine.hasBackward; // (false once disposed)
  log(`pack ${info.name} (${engine.pack.dir}), provider ${engine.provider}, load ${loadMs.toFixed(0)} ms; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);

  // Time the two sessions' run() calls (the engine has no per-stage timing: see BENCHMARKS.md for the hook).
  const runMs: Record<string, number> = { forward: 0, backward: 0 };
  const sessions = (engine as unknown as { sessions?: Record<string, { run: (...a: unknown[]) => Promise<unknown> } | undefined> }).sessions;
  let splitAvailable = false;
  if (sessions && typeof sessions === 'object') {
    for (const dir of ['forward', 'backward']) {
      const s = sessions[dir];
      if (!s || typeof s.run !== 'function') continue;
      const orig = s.run.bind(s);
      s.run = async (...a: unknown[]) => {
        const t = performance.now();
        try {
          return await orig(...a);
        } finally {
          runMs[dir] += performance.now() - t;
        }
      };
      splitAvailable = true;
    }
  }

  // The probe texts: exactly N tokens each.
  const base = projectText(Math.max(...SIZES) * 8 + 1000);
  const baseEnc = engine.tokenize(base);
  const texts = SIZES.map((n) => {
    if (baseEnc.ids.length < n) throw new Error(`the probe text has only ${baseEnc.ids.length} tokens, fewer than ${n}`);
    return base.slice(0, baseEnc.offsets[n - 1][1]);
  });
  const plans = texts.map((t) => {
    const ids = engine.tokenize(t).ids;
    const windows = planWindows(ids.length, W);
    const batch = Math.max(1, Math.min(MAX_BATCH_WINDOWS, Math.floor(MAX_BATCH_FLOATS / (windows[0].length * info.vocabSize))));
    return { ids, windows, batch };
  });

  // torch children, one per setting
  let torchNote: string | null = null;
  const torch: Partial<Record<Setting, { child: TorchChild; ready: TorchReady }>> = {};
  const python = values['no-torch'] ? null : findPython();
  if (values['no-torch']) torchNote = 'torch skipped (--no-torch)';
  else if (!python) torchNote = 'torch skipped: no python3 with torch, numpy and onnx (apt-get install python3-torch python3-onnx)';
  const blas = python ? blasDir() : null;
  if (python) {
    log(`starting torch (${python}${blas ? `, BLAS from ${blas}` : ', system BLAS'}) in ${SETTINGS.length} settings`);
    const started = SETTINGS.map((s) => ({ s, child: startTorch(python, engine.pack.dir, s, blas) }));
    for (const { s, child } of started) {
      const ready = await child.next<TorchReady & { error?: string }>();
      if (ready.error || !ready.ready) {
        torchNote = `torch skipped: ${ready.error ?? 'no answer'}`;
        break;
      }
      torch[s] = { child, ready };
    }
    if (torchNote) {
      for (const { child } of started) child.close();
      for (const s of SETTINGS) delete torch[s];
    }
  }
  if (torchNote) log(torchNote);
  const torchSettings = SETTINGS.filter((s) => torch[s]);
  const anyReady = torchSettings.length ? torch[torchSettings[0]]!.ready : null;
  const referenceBlas = anyReady !== null && anyReady.blasInfo === 'generic' && /\/blas\/libblas\.so/.test(anyReady.blas ?? '');
  // The reference BLAS is ~8x slower: keep the run short (torch only up to 512 tokens).
  const torchSizes = new Set(SIZES.filter((n) => !referenceBlas || n <= 512));
  if (referenceBlas) log(`torch runs on the reference BLAS (${anyReady!.blas}): torch's matmuls are far from this machine's rate; torch measured up to 512 tokens only`);

  // ---- matmul rate on the model's shapes (the 512-token probe's batch, else the first size's)
  const gi = SIZES.includes(512) ? SIZES.indexOf(512) : 0;
  const gp = plans[gi];
  const shapes = gemmShapes(arch, Math.min(gp.batch, gp.windows.length), gp.windows[0].length);
  const counts = shapes.map((s) => s.count);
  log(`matmul rate on the model's shapes (ONNX Runtime${torchSettings.length ? ' and torch' : ''})`);
  const ortPer = await ortGemm(shapes.map((s) => s.shape), 300);
  const gemm: Record<string, { gflops: number; perShape: { shape: number[]; gflops: number; ms: number }[] }> = {
    onnxruntime: { gflops: composite(ortPer, counts), perShape: ortPer },
  };
  for (const s of torchSettings) {
    const g = await torch[s]!.child.ask<{ perShape: { shape: number[]; gflops: number; ms: number }[]; error?: string }>({ op: 'gemm', shapes: shapes.map((x) => x.shape), minMs: 300 });
    if (!g.error) gemm[`torch.${s}`] = { gflops: composite(g.perShape, counts), perShape: g.perShape };
  }
  // The machine's matmul rate: the fastest of the model's shapes, best of torch and ONNX Runtime.
  // The mix (all shapes weighted as a forward pass runs them) is no ceiling: alone, the
  // unembedding writes a fresh [rows, V] output each call and q k^T has K = head width, so both
  // run far below the rest (the engine's whole probe beat the mix at 2,048 tokens).
  const peak = Object.entries(gemm)
    .flatMap(([by, g]) => g.perShape.map((p, i) => ({ by, what: shapes[i].what, shape: p.shape, gflops: p.gflops })))
    .sort((a, b) => b.gflops - a.gflops)[0];
  const bestMix = Object.entries(gemm).sort((a, b) => b[1].gflops - a[1].gflops)[0];
  const RATE = peak.gflops;

  // ---- probes: warm-up, then interleaved repeats (the order rotates each repeat)
  const engineRuns: EngineRun[][] = SIZES.map(() => []);
  const torchRuns: Record<Setting, TorchProbe[]>[] = SIZES.map(() => ({ default: [], passive: [], oneThread: [], allCores: [] }));
  const runEngine = async (k: number): Promise<EngineRun> => {
    let t = performance.now();
    engine.tokenize(texts[k]);
    const tokenizeMs = performance.now() - t;
    runMs.forward = 0;
    runMs.backward = 0;
    t = performance.now();
    const r = await engine.probe(texts[k], { topK: TOP_K, maxTokens: Number.MAX_SAFE_INTEGER });
    const totalMs = performance.now() - t;
    return {
      totalMs,
      tokenizeMs,
      forwardMs: splitAvailable ? runMs.forward : null,
      backwardMs: splitAvailable ? runMs.backward : null,
      meanNatsFw: r.summary.forward.meanNats,
      meanNatsBw: r.summary.backward?.meanNats ?? null,
    };
  };
  const runTorch = (k: number, s: Setting) =>
    torch[s]!.child.ask<TorchProbe>({ op: 'probe', ids: plans[k].ids, windows: plans[k].windows, batch: plans[k].batch, bos: engine.pack.manifest.bos.id, topK: TOP_K, backward: hasBackward });
  let torchError: string | null = null;
  const pairedFloor: { rate: number; engineMs: number }[] = [];
  const repeatsOf = (n: number) => (n >= 2048 ? Math.ceil(REPEATS / 2) : REPEATS);
  for (let rep = -1; rep < REPEATS; rep++) {
    log(rep < 0 ? 'warm-up' : `repeat ${rep + 1}/${REPEATS}`);
    for (let k = 0; k < SIZES.length; k++) {
      if (rep >= repeatsOf(SIZES[k])) continue;
      const sides: ('engine' | Setting)[] = ['engine', ...(torchSizes.has(SIZES[k]) ? torchSettings : [])];
      const shift = Math.max(0, rep) % sides.length;
      for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) {
        if (side === 'engine') {
          const r = await runEngine(k);
          if (rep >= 0) engineRuns[k].push(r);
        } else {
          const r = await runTorch(k, side);
          if (r.error) torchError ??= `${side}: ${r.error}`;
          else if (rep >= 0) torchRuns[k][side].push(r);
        }
      }
      // The matmul rate again right after this repeat's probes at the floor's size: the host's speed
      // moves (its other tenants), so each repeat's engine time is set against the rate of its moment.
      if (rep >= 0 && k === gi) {
        const per = await ortGemm(shapes.map((x) => x.shape), 60);
        const engineMs = engineRuns[k][engineRuns[k].length - 1].totalMs;
        pairedFloor.push({ rate: Math.max(...per.map((x) => x.gflops)), engineMs });
      }
    }
  }
  if (torchError) log(`torch failed: ${torchError}`);
  const peakRssMbProbes = process.resourceUsage().maxRSS / 1024;

  // ---- corpus mode
  const largest = SIZES.indexOf(Math.max(...SIZES));
  const probeTokensPerS = SIZES[largest] / (spreadOf(engineRuns[largest].map((x) => x.totalMs)).median / 1000);
  const corpusChars0 = values.chars !== undefined ? Number(values.chars) : Math.max(20_000, Math.min(400_000, Math.round((probeTokensPerS * 60 * 3.6) / 10_000) * 10_000));
  const docs = corpusDocs(corpusChars0);
  const corpusChars = docs.reduce((a, d) => a + d.text.length, 0);
  log(`corpus: ${docs.length} documents, ${corpusChars} characters`);
  // Engine, then each torch setting on the same token ids (nats only, as corpus mode), then the
  // engine again: the engine's figure is the faster of its two runs, torch's its only one.
  const corpusIds = docs.map((d) => engine.tokenize(d.text).ids);
  const corpusRuns: { seconds: number; wallS: number; report: Awaited<ReturnType<typeof runCorpus>> }[] = [];
  const corpusTorch: Partial<Record<Setting, { ms: number; tokens: number; meanNatsFw: number; meanNatsBw: number | null }>> = {};
  const engineCorpus = async () => {
    const t = performance.now();
    const report = await runCorpus(engine, docs, { resamples: 1000, seed: 1 });
    corpusRuns.push({ seconds: report.seconds, wallS: (performance.now() - t) / 1000, report });
  };
  await engineCorpus();
  for (const s of torchSettings) {
    log(`corpus: torch ${s}`);
    const r = await torch[s]!.child.ask<{ ms: number; tokens: number; meanNatsFw: number; meanNatsBw: number | null; error?: string }>({
      op: 'corpus',
      docs: corpusIds.map((ids) => ({ ids, windows: planWindows(ids.length, W) })),
      batch: Math.max(1, Math.min(MAX_BATCH_WINDOWS, Math.floor(MAX_BATCH_FLOATS / (W * info.vocabSize)))),
      bos: engine.pack.manifest.bos.id,
      backward: hasBackward,
    });
    if (r.error) torchError ??= `corpus ${s}: ${r.error}`;
    else corpusTorch[s] = r;
  }
  if (torchSettings.length) await engineCorpus();
  const best = corpusRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const corpus = best.report;
  const corpusWallS = best.wallS;
  const corpusTorchBest = (Object.entries(corpusTorch) as [Setting, { ms: number }][]).sort((a, b) => a[1].ms - b[1].ms)[0] ?? null;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  // the in-graph statistics' share: the appended graph alone on logits of one batch's shape
  let statsGraphMsPerRow: number | null = null;
  if (inGraphStats) {
    const g = new GraphBuilder();
    g.output(g.input('logits_in', FLOAT, ['batch', 'seq', info.vocabSize]), 'logits', FLOAT, null);
    const session = await ort.InferenceSession.create(appendStatistics(g.encode('statistics'), { logits: 'logits' }), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    const B = Math.min(gp.batch, gp.windows.length);
    const S = gp.windows[0].length;
    const feeds = {
      logits_in: new ort.Tensor('float32', randomFloats(B * S * info.vocabSize, 11), [B, S, info.vocabSize]),
      lm_probe_rows: new ort.Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i)), [B * S]),
      lm_probe_target_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 7919) % info.vocabSize)), [B * S]),
      lm_probe_top_k: new ort.Tensor('int64', BigInt64Array.from([BigInt(Math.max(1, TOP_K))]), [1]),
      lm_probe_scores: new ort.Tensor('bool', Uint8Array.of(1), []),
    };
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      await session.run(feeds);
      if (i > 0) times.push(performance.now() - t);
    }
    await session.release();
    statsGraphMsPerRow = spreadOf(times).median / (B * S);
  }
  await engine.dispose();
  const torchPeakRss: Partial<Record<Setting, number>> = {};
  for (const s of torchSettings) {
    const last = torchRuns.flatMap((t) => t[s]).at(-1);
    torchPeakRss[s] = r1(last?.peakRssMb ?? torch[s]!.ready.peakRssMb);
    torch[s]!.child.close();
  }
  const loadEnd = loadavg();

  // ---- figures
  const probes: Record<string, unknown> = {};
  const summary: { n: number; engineMs: number; torch: Partial<Record<Setting, number>> }[] = [];
  SIZES.forEach((n, k) => {
    const e = engineRuns[k];
    const fl = forwardFlops(arch, plans[k].windows) * (hasBackward ? 2 : 1);
    const total = spreadOf(e.map((x) => x.totalMs));
    // the statistics run on the scored rows only: each token once per direction
    const rows = n * (hasBackward ? 2 : 1);
    const tok = spreadOf(e.map((x) => x.tokenizeMs));
    const fw = splitAvailable ? spreadOf(e.map((x) => x.forwardMs!)) : null;
    const bw = splitAvailable && hasBackward ? spreadOf(e.map((x) => x.backwardMs!)) : null;
    const rest = splitAvailable ? spreadOf(e.map((x) => x.totalMs - x.tokenizeMs - x.forwardMs! - x.backwardMs!)) : null;
    const t: Record<string, unknown> = {};
    const tm: Partial<Record<Setting, number>> = {};
    let natsDiff = 0;
    for (const s of torchSettings) {
      const runs = torchRuns[k][s];
      if (!runs.length) continue;
      const ms = spreadOf(runs.map((x) => x.ms));
      tm[s] = ms.median;
      for (const x of runs) natsDiff = Math.max(natsDiff, Math.abs(x.meanNatsFw - e[0].meanNatsFw), x.meanNatsBw !== null && e[0].meanNatsBw !== null ? Math.abs(x.meanNatsBw - e[0].meanNatsBw) : 0);
      t[s] = {
        totalMs: ms,
        forwardMs: spreadOf(runs.map((x) => x.forwardMs)),
        backwardMs: spreadOf(runs.map((x) => x.backwardMs)),
        statisticsMs: spreadOf(runs.map((x) => x.statsMs)),
        ratio: r3(ms.median / total.median),
        gflops: r1(fl / (ms.median / 1000) / 1e9),
        matmulFraction: r3(fl / (ms.median / 1000) / 1e9 / RATE),
      };
    }
    summary.push({ n, engineMs: total.median, torch: tm });
    probes[String(n)] = {
      tokens: plans[k].ids.length,
      repeats: repeatsOf(n),
      windowsPerDirection: plans[k].windows.length,
      batch: plans[k].batch,
      gflop: r3(fl / 1e9),
      engine: {
        totalMs: total,
        tokenizeMs: tok,
        // session.run of each direction (with in-graph statistics, these include them)
        forwardMs: fw,
        backwardMs: bw,
        // the probe's JavaScript besides the runs: tokenizing again, feeds, reading the statistics, the result
        restMs: rest,
        statisticsInGraphMsEstimate: statsGraphMsPerRow !== null ? r1(statsGraphMsPerRow * rows) : null,
        tokensPerSecond: Math.round(n / (total.median / 1000)),
        gflops: r1(fl / (total.median / 1000) / 1e9),
        matmulFraction: r3(fl / (total.median / 1000) / 1e9 / RATE),
      },
      torch: t,
      maxMeanNatsDifference: torchSettings.length && Object.keys(t).length ? natsDiff : null,
    };
  });
  const p512 = summary.find((x) => x.n === 512) ?? summary[0];
  const bestTorch = (Object.entries(p512.torch) as [Setting, number][]).sort((a, b) => a[1] - b[1])[0];
  const fl512 = forwardFlops(arch, plans[SIZES.indexOf(p512.n)].windows) * (hasBackward ? 2 : 1);
  // The in-graph statistics unembed only the positions a window scores (the rest of the work is the same).
  const fl512Done = inGraphStats ? forwardFlops(arch, plans[SIZES.indexOf(p512.n)].windows, 'scored positions') * (hasBackward ? 2 : 1) : fl512;
  const floorMs512 = (fl512 / (RATE * 1e9)) * 1000;
  const result = {
    date: new Date().toISOString(),
    machine: { ...m, loadAverageStart: loadStart.map(r3), loadAverageEnd: loadEnd.map(r3) },
    pack: { name: info.name, dir: engine.pack.dir, contextLength: info.contextLength, ...arch, hasBackward },
    provider: engine.provider,
    statistics: inGraphStats ? 'in-graph' : 'javascript',
    loadMs: r1(loadMs),
    topK: TOP_K,
    repeats: REPEATS,
    probe512: {
      tokens: p512.n,
      engineMs: r1(p512.engineMs),
      torchMs: Object.fromEntries(Object.entries(p512.torch).map(([k, v]) => [k, r1(v)])),
      ratio: Object.fromEntries(Object.entries(p512.torch).map(([k, v]) => [k, r3(v / p512.engineMs)])),
      bestTorch: bestTorch ? { setting: bestTorch[0], ms: r1(bestTorch[1]), ratio: r3(bestTorch[1] / p512.engineMs) } : null,
    },
    matmulGflops: r1(peak.gflops),
    matmulBest: { by: peak.by, what: peak.what, shape: peak.shape },
    matmulMixGflops: r1(bestMix[1].gflops),
    matmulMixBest: bestMix[0],
    matmul: Object.fromEntries(Object.entries(gemm).map(([k, v]) => [k, { gflops: r1(v.gflops), perShape: v.perShape.map((p, i) => ({ what: shapes[i].what, shape: p.shape, gflops: r1(p.gflops) })) }])),
    engineGflops512: r1(fl512 / (p512.engineMs / 1000) / 1e9),
    engineMatmulFraction512: r3(fl512 / (p512.engineMs / 1000) / 1e9 / RATE),
    // the issue's floor: the full forward FLOPs at the fastest measured matmul rate, and the engine's time over it
    matmulFloorMs512: r1(floorMs512),
    engineOverFloor512: r3(p512.engineMs / floorMs512),
    // paired: each repeat's engine time over the floor at the fastest shape's rate measured right after
    // it (ONNX Runtime, best of 60 ms per shape); the median of those ratios, and the rates' spread
    engineOverFloor512Paired: pairedFloor.length ? r3(spreadOf(pairedFloor.map((x) => x.engineMs / ((fl512 / (x.rate * 1e9)) * 1000))).median) : null,
    matmulGflopsPaired: pairedFloor.length ? spreadOf(pairedFloor.map((x) => r1(x.rate))) : null,
    // the FLOPs the engine's graphs run (unembedding and the last block's tail at scored positions only), and the fraction of the rate they reach
    gflopDone512: r3(fl512Done / 1e9),
    engineMatmulFractionDone512: r3(fl512Done / (p512.engineMs / 1000) / 1e9 / RATE),
    torchGflops512: Object.fromEntries(Object.entries(p512.torch).map(([k, v]) => [k, r1(fl512 / (v / 1000) / 1e9)])),
    torchMatmulFraction512: Object.fromEntries(Object.entries(p512.torch).map(([k, v]) => [k, r3(fl512 / (v / 1000) / 1e9 / RATE)])),
    probes,
    corpus: {
      documents: docs.length,
      characters: corpusChars,
      tokens: corpus.tokens,
      seconds: r1(corpus.seconds),
      wallSeconds: r1(corpusWallS),
      tokensPerSecond: Math.round(corpus.tokensPerSecond),
      delta: corpus.delta,
      engineRunsSeconds: corpusRuns.map((r) => r1(r.seconds)),
      torch: Object.fromEntries(
        Object.entries(corpusTorch).map(([k, v]) => [k, { seconds: r1(v.ms / 1000), tokensPerSecond: Math.round(v.tokens / (v.ms / 1000)), ratio: r3(v.ms / 1000 / corpus.seconds), meanNatsFw: v.meanNatsFw, meanNatsBw: v.meanNatsBw }]),
      ),
      bestTorch: corpusTorchBest ? { setting: corpusTorchBest[0], seconds: r1(corpusTorchBest[1].ms / 1000), ratio: r3(corpusTorchBest[1].ms / 1000 / corpus.seconds) } : null,
      maxMeanNatsDifference: Object.keys(corpusTorch).length
        ? Math.max(...Object.values(corpusTorch).map((v) => Math.max(Math.abs(v.meanNatsFw - corpus.forward.meanNats), v.meanNatsBw !== null && corpus.backward ? Math.abs(v.meanNatsBw - corpus.backward.meanNats) : 0)))
        : null,
    },
    peakRssMb: r1(peakRssMb),
    peakRssMbProbes: r1(peakRssMbProbes),
    torch: torchSettings.length
      ? {
          python,
          version: anyReady!.torch,
          blas: anyReady!.blas,
          referenceBlas,
          settings: Object.fromEntries(torchSettings.map((s) => [s, { what: SETTING_TEXT[s], threads: torch[s]!.ready.threads, ompWaitPolicy: torch[s]!.ready.ompWaitPolicy || null, peakRssMb: torchPeakRss[s] }])),
          error: torchError,
        }
      : { note: torchNote },
    wallSeconds: r1((performance.now() - wallStart) / 1000),
  };

  if (values.json) {
    process.stdout.write(JSON.stringify(result, null, 1) + '\n');
    return;
  }
  const f0 = (x: number) => x.toFixed(0);
  const sp = (s: Spread | null) => (s ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})` : 'n/a');
  const lines: string[] = [];
  lines.push(`pack            ${info.name} (${engine.pack.dir}), context ${info.contextLength}, ${arch.layers} layers x ${arch.width}, vocab ${arch.vocabSize}`);
  lines.push(`machine         ${m.nproc} CPUs, ${m.cpu}, ${m.memoryGiB} GiB; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} -> ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`);
  lines.push(`engine          ${engine.provider}, statistics ${result.statistics}, session load ${f0(loadMs)} ms; medians of ${REPEATS} repeats (${Math.ceil(REPEATS / 2)} from 2,048 tokens), (min-max), ms`);
  for (const n of SIZES) {
    const p = probes[String(n)] as { windowsPerDirection: number; gflop: number; engine: { totalMs: Spread; tokenizeMs: Spread; forwardMs: Spread | null; backwardMs: Spread | null; restMs: Spread | null; statisticsInGraphMsEstimate: number | null; tokensPerSecond: number; gflops: number }; torch: Record<string, { totalMs: Spread; ratio: number }> };
    lines.push(`probe ${String(n).padStart(5)}     engine ${sp(p.engine.totalMs)}  = tokenize ${sp(p.engine.tokenizeMs)} + forward ${sp(p.engine.forwardMs)} + backward ${sp(p.engine.backwardMs)} + rest ${sp(p.engine.restMs)}`);
    lines.push(`                ${p.windowsPerDirection} windows/direction, ${p.gflop} GFLOP, ${p.engine.tokensPerSecond} tokens/s, ${p.engine.gflops} GFLOP/s` + (p.engine.statisticsInGraphMsEstimate !== null ? `; in-graph statistics ~${p.engine.statisticsInGraphMsEstimate} ms of the runs` : ''));
    for (const [s, v] of Object.entries(p.torch)) lines.push(`  torch ${s.padEnd(10)}${sp(v.totalMs)}  torch/engine ${v.ratio.toFixed(2)}`);
  }
  lines.push(`matmul          ${result.matmulGflops} GFLOP/s (${peak.by}, ${peak.what} [${peak.shape.join(', ')}]); the model's mix of shapes ${Object.entries(result.matmul).map(([k, v]) => `${k} ${v.gflops}`).join(', ')}`);
  lines.push(`floor           ${r3(fl512 / 1e9)} GFLOP at ${result.matmulGflops} GFLOP/s = ${result.matmulFloorMs512} ms; engine ${r1(p512.engineMs)} ms = ${result.engineOverFloor512.toFixed(2)}x the floor; it runs ${result.gflopDone512} GFLOP (unembedding and the last block's tail at scored positions only) = ${(result.engineMatmulFractionDone512 * 100).toFixed(0)}% of the rate`);
  if (result.engineOverFloor512Paired !== null && result.matmulGflopsPaired) {
    const pr = result.matmulGflopsPaired;
    lines.push(`floor, paired   each repeat against the rate measured right after it (${r1(pr.median)} GFLOP/s, ${r1(pr.min)}-${r1(pr.max)}): engine ${result.engineOverFloor512Paired.toFixed(2)}x the floor (median of ${pairedFloor.length})`);
  }
  lines.push(`${`${p512.n} tokens`.padEnd(16)}engine ${result.engineGflops512} GFLOP/s = ${(result.engineMatmulFraction512 * 100).toFixed(0)}% of it` + (bestTorch ? `; best torch (${bestTorch[0]}) ${result.torchGflops512[bestTorch[0]]} GFLOP/s = ${(result.torchMatmulFraction512[bestTorch[0]] * 100).toFixed(0)}%, torch/engine ${result.probe512.bestTorch!.ratio.toFixed(2)}` : ''));
  lines.push(`corpus          ${corpus.tokens} tokens (${docs.length} documents, ${corpusChars} chars) in ${corpus.seconds.toFixed(1)} s: ${Math.round(corpus.tokensPerSecond)} tokens/s (both directions)`);
  for (const [s, v] of Object.entries(result.corpus.torch)) lines.push(`  torch ${s.padEnd(10)}${v.seconds} s, ${v.tokensPerSecond} tokens/s  torch/engine ${v.ratio.toFixed(2)}`);
  lines.push(`memory          peak RSS ${f0(peakRssMb)} MB (${f0(peakRssMbProbes)} MB after the probes)` + (torchSettings.length ? `; torch processes ${Object.values(torchPeakRss).map(f0).join(' / ')} MB` : ''));
  lines.push(torchSettings.length ? `torch           ${anyReady!.torch}, BLAS ${anyReady!.blas}; ${torchSettings.map((s) => `${s}: ${SETTING_TEXT[s]} (${torch[s]!.ready.threads} thread${torch[s]!.ready.threads > 1 ? 's' : ''})`).join('; ')}` : `torch           ${torchNote}`);
  lines.push(`wall time       ${result.wallSeconds} s`);
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  for (const c of children) c.close();
  process.exitCode = 1;
});
