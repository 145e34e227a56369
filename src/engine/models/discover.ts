// Finds the models LM Probe could open, for "LM Probe: Choose model...": the bundled pack, model
// packs, pair.json files and Hugging Face folders in the workspace folders (a bounded walk), and
// the models in the local Hugging Face cache. It reads small files only (manifest.json, pair.json,
// config.json, the JSON headers of safetensors files), never weight data, and never downloads.
// Each entry says whether the engine can open it and, when not, why. Plain Node (no 'vscode').
import { readHeader } from '../hf/safetensors';
import { constants as fsc } from 'node:fs';
import { access, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { defaultPackDir } from '../pack';
import { isSupportedModelType, supportedList } from '../hf/families';

export type ModelKind = 'pack' | 'pair' | 'huggingface';
/** Where an entry was found (the picker's groups). */
export type ModelSource = 'bundled' | 'workspace' | 'hf-cache' | 'path';

export interface DiscoveredModel {
  kind: ModelKind;
  source: ModelSource;
  /** Pack or pair name; "org/name" for the Hugging Face cache; the folder name otherwise. */
  label: string;
  /** What lmProbe.modelPath / Engine.open take: a folder, or a pair's JSON file when it is not named pair.json. */
  path: string;
  /** Bytes of the weight files (ONNX graphs of a pack; safetensors of a Hugging Face folder; both folders of a pair), symlinks followed. */
  sizeBytes: number | null;
  /** "gpt2 · GPT2LMHeadModel" (config.json model_type and architectures[0]) or "4 layers · width 256" for a pack. */
  architecture: string | null;
  /** Parameters counted from the safetensors headers (per direction for a pair); null when not cheaply known. */
  parameters: number | null;
  /** True when the model has a backward twin (a pair, or a pack with "backward"). */
  hasBackward: boolean;
  supported: boolean;
  /** Why the engine would refuse it (only when supported is false). */
  reason?: string;
  /** Hugging Face cache only: the snapshot's revision (commit hash) and the repository id. */
  revision?: string;
  repo?: string;
}

export interface DiscoverOptions {
  workspaceFolders: string[];
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** The bundled pack folder (default: models/default of the package); null leaves it out. */
  bundledPackDir?: string | null;
  /** Depth of the workspace walk below each folder (default 4). */
  maxDepth?: number;
  /** Directory entries looked at in the whole workspace walk (default 20,000). */
  maxEntries?: number;
}

/** Folders never walked into. */
const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', 'dist', 'out', '__pycache__', '.venv', 'venv', '.tox', '.mypy_cache', '.pytest_cache']);
const MAX_JSON = 4 * 1024 * 1024;

/** The Hugging Face hub cache folder, as huggingface_hub resolves it. */
export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const nonEmpty = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
  const tilde = (p: string) => p.replace(/^~(?=$|[\\/])/, home);
  const hub = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  if (hub) return resolve(tilde(hub));
  const hfHome = nonEmpty(env.HF_HOME);
  if (hfHome) return resolve(tilde(hfHome), 'hub');
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return resolve(xdg ? tilde(xdg) : join(home, '.cache'), 'huggingface', 'hub');
}

export async function discoverModels(opts: DiscoverOptions): Promise<DiscoveredModel[]> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const out: DiscoveredModel[] = [];
  const seen = new Set<string>();
  const add = async (m: DiscoveredModel | null) => {
    if (!m) return;
    const key = await realKey(m.path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(m);
  };

  const bundled = opts.bundledPackDir === undefined ? defaultPackDir() : opts.bundledPackDir;
  if (bundled && (await isFile(join(bundled, 'manifest.json')))) {
    const m = await describePack(bundled, 'bundled');
    if (m) await add(m);
  }

  const ws = await discoverWorkspace(opts.workspaceFolders, opts.maxDepth ?? 4, opts.maxEntries ?? 20_000);
  for (const m of ws) await add(m);

  for (const m of await discoverHfCache(hfHubCacheDir(env, home))) await add(m);
  return out;
}

/**
 * What a path the user names is (a folder they browsed to, or a pair's JSON file): a pack, a
 * pair, a Hugging Face folder, or null when it is none of them.
 */
export async function describeModel(path: string, source: ModelSource = 'path'): Promise<DiscoveredModel | null> {
  const p = resolve(path);
  let st;
  try {
    st = await stat(p);
  } catch {
    return null;
  }
  if (st.isFile()) {
    const j = await readJson(p);
    return j.ok && isPairJson(j.value) ? describePair(p, source) : null;
  }
  if (!st.isDirectory()) return null;
  if (await isFile(join(p, 'manifest.json'))) return describePack(p, source);
  if (await isFile(join(p, 'pair.json'))) return describePair(join(p, 'pair.json'), source);
  if (await isFile(join(p, 'config.json'))) return describeHfFolder(p, source);
  return null;
}

// ---- workspace

async function discoverWorkspace(folders: string[], maxDepth: number, maxEntries: number): Promise<DiscoveredModel[]> {
  const found: DiscoveredModel[] = [];
  const visited = new Set<string>();
  let budget = maxEntries;
  // Breadth first, so that a big tree spends the entry budget near the top first.
  let level: string[] = [];
  for (const f of folders) level.push(resolve(f));
  for (let depth = 0; depth <= maxDepth && level.length && budget > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (budget <= 0) break;
      let real: string;
      try {
        real = await realpath(dir);
      } catch {
        continue;
      }
      if (visited.has(real)) continue; // a symlink back up the tree, or the same folder twice
      visited.add(real);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      budget -= entries.length;
      const names = new Set(entries.map((e) => e.name));
      const model = await modelInFolder(dir, names);
      if (model) {
        found.push(...model);
        continue; // a model folder's subfolders are its own (a pair's forward/ and backward/)
      }
      if (depth === maxDepth) continue;
      for (const e of entries) {
        if (SKIP_DIRS.has(e.name)) continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) next.push(p);
        else if (e.isSymbolicLink()) {
          try {
            if ((await stat(p)).isDirectory()) next.push(p);
          } catch {
            /* a dangling link */
          }
        }
      }
    }
    level = next.sort();
  }
  // The backward model of a pair is not a forward model of its own.
  const backwardDirs = new Set<string>();
  for (const m of found) if (m.kind === 'pair') for (const d of await pairMembers(m.path)) backwardDirs.add(d);
  const kept: DiscoveredModel[] = [];
  for (const m of found) if (!(m.kind === 'huggingface' && backwardDirs.has(await realKey(m.path)))) kept.push(m);
  return kept.sort((a, b) => a.path.localeCompare(b.path));
}

/** The model(s) a folder holds, judged from its file names; null when it is not a model folder. */
async function modelInFolder(dir: string, names: Set<string>): Promise<DiscoveredModel[] | null> {
  if (names.has('manifest.json')) {
    const j = await readJson(join(dir, 'manifest.json'));
    if (j.ok && (j.value as { format?: unknown })?.format === 'lm-probe-pack') {
      const m = await describePack(dir, 'workspace');
      return m ? [m] : null;
    }
  }
  if (names.has('pair.json')) {
    const j = await readJson(join(dir, 'pair.json'));
    if (j.ok && isPairJson(j.value)) return [await describePair(join(dir, 'pair.json'), 'workspace')];
  }
  if (names.has('config.json')) {
    // Many projects have a config.json: a model folder also has weights or a tokenizer, and a config with model_type or architectures.
    const weights = [...names].some((n) => n.endsWith('.safetensors') || n === 'model.safetensors.index.json' || /^pytorch_model.*\.bin$/.test(n) || n === 'tokenizer.json');
    if (!weights) return null;
    const j = await readJson(join(dir, 'config.json'));
    const c = j.ok ? (j.value as Record<string, unknown> | null) : null;
    if (!c || typeof c !== 'object' || (c.model_type === undefined && c.architectures === undefined)) return null;
    return [await describeHfFolder(dir, 'workspace')];
  }
  return null;
}

// ---- Hugging Face cache: {hub}/models--{org}--{name}/{refs/main, snapshots/{rev}/ -> ../../blobs/}

async function discoverHfCache(hub: string): Promise<DiscoveredModel[]> {
  let repos: string[];
  try {
    repos = (await readdir(hub)).filter((n) => n.startsWith('models--')).sort();
  } catch {
    return [];
  }
  const out: DiscoveredModel[] = [];
  for (const r of repos) {
    const repoDir = join(hub, r);
    const repo = r.slice('models--'.length).split('--').join('/');
    const rev = await currentRevision(repoDir);
    if (!rev) continue;
    const m = await describeHfFolder(join(repoDir, 'snapshots', rev), 'hf-cache');
    m.label = repo;
    m.repo = repo;
    m.revision = rev;
    out.push(m);
  }
  return out;
}

/** The snapshot refs/main names; without refs/main (or when it names no snapshot), the newest snapshot. */
async function currentRevision(repoDir: string): Promise<string | null> {
  let snaps: string[];
  try {
    snaps = await readdir(join(repoDir, 'snapshots'));
  } catch {
    return null;
  }
  if (!snaps.length) return null;
  try {
    const main = (await readFile(join(repoDir, 'refs', 'main'), 'utf8')).trim();
    if (main && !main.includes('/') && !main.includes('\\') && snaps.includes(main)) return main;
  } catch {
    /* no refs/main */
  }
  let best: string | null = null;
  let bestT = -Infinity;
  for (const s of snaps) {
    try {
      const st = await stat(join(repoDir, 'snapshots', s));
      if (st.isDirectory() && st.mtimeMs > bestT) {
        best = s;
        bestT = st.mtimeMs;
      }
    } catch {
      /* skip */
    }
  }
  return best;
}

// ---- one model

async function describePack(dir: string, source: ModelSource): Promise<DiscoveredModel | null> {
  const j = await readJson(join(dir, 'manifest.json'));
  const base: DiscoveredModel = {
    kind: 'pack',
    source,
    label: basename(dir),
    path: resolve(dir),
    sizeBytes: null,
    architecture: null,
    parameters: null,
    hasBackward: false,
    supported: false,
  };
  if (!j.ok) return { ...base, reason: `manifest.json: ${j.error}` };
  const m = j.value as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || m.format !== 'lm-probe-pack') {
    return source === 'workspace' ? null : { ...base, reason: 'manifest.json is not an LM Probe model pack manifest ("format": "lm-probe-pack")' };
  }
  if (typeof m.name === 'string' && m.name) base.label = m.name;
  const a = (m.architecture ?? {}) as Record<string, unknown>;
  const arch = [
    typeof a.layers === 'number' ? `${a.layers} layers` : '',
    typeof a.width === 'number' ? `width ${a.width}` : '',
  ].filter(Boolean);
  base.architecture = arch.length ? arch.join(' · ') : null;
  const files = ['forward', 'backward', 'head'].map((k) => (typeof m[k] === 'string' ? (m[k] as string) : null));
  base.hasBackward = files[1] !== null;
  let size = 0;
  for (const f of files) if (f && !isAbsolute(f)) size += (await fileSize(resolve(dir, f))) ?? 0;
  // ONNX external data (a graph over 2 GB keeps its weights beside it).
  try {
    for (const n of await readdir(dir)) if (/\.(onnx\.data|onnx_data|data)$/.test(n)) size += (await fileSize(join(dir, n))) ?? 0;
  } catch {
    /* ignore */
  }
  base.sizeBytes = size || null;
  if (m.formatVersion !== 1) return { ...base, reason: `manifest.json: formatVersion ${JSON.stringify(m.formatVersion)} (this LM Probe reads 1)` };
  for (const [field, f] of [['forward', files[0]], ['tokenizer', typeof m.tokenizer === 'string' ? m.tokenizer : null]] as const) {
    if (!f) return { ...base, reason: `manifest.json has no "${field}" file` };
    if (!(await isFile(resolve(dir, f)))) return { ...base, reason: `${field} file ${f} is missing` };
  }
  if (files[1] && !(await isFile(resolve(dir, files[1])))) return { ...base, reason: `backward file ${files[1]} is missing` };
  return { ...base, supported: true };
}

function isPairJson(v: unknown): boolean {
  return !!v && typeof v === 'object' && (v as { format?: unknown }).format === 'lm-probe-pair';
}

/** Real paths of a pair's backward folder (to leave it out of the workspace list). */
async function pairMembers(path: string): Promise<string[]> {
  const file = (await isFile(path)) ? path : join(path, 'pair.json');
  const j = await readJson(file);
  const b = j.ok ? (j.value as { backward?: unknown }).backward : undefined;
  return typeof b === 'string' ? [await realKey(resolve(dirname(file), b))] : [];
}

async function describePair(file: string, source: ModelSource): Promise<DiscoveredModel> {
  const dir = dirname(file);
  const path = basename(file) === 'pair.json' ? dir : file;
  const j = await readJson(file);
  const base: DiscoveredModel = {
    kind: 'pair',
    source,
    label: basename(path === dir ? dir : file).replace(/\.json$/, ''),
    path: resolve(path),
    sizeBytes: null,
    architecture: null,
    parameters: null,
    hasBackward: true,
    supported: false,
  };
  if (!j.ok) return { ...base, reason: `${basename(file)}: ${j.error}` };
  const p = j.value as Record<string, unknown>;
  if (typeof p.name === 'string' && p.name) base.label = p.name;
  if (p.formatVersion !== 1) return { ...base, reason: `${basename(file)}: formatVersion ${JSON.stringify(p.formatVersion)} (this LM Probe reads 1)` };
  const sides: DiscoveredModel[] = [];
  for (const d of ['forward', 'backward'] as const) {
    const rel = p[d];
    if (typeof rel !== 'string' || !rel) return { ...base, reason: `${basename(file)} has no "${d}" folder` };
    const sub = resolve(dir, rel);
    if (!(await isDir(sub))) return { ...base, reason: `${d} folder ${rel} is missing` };
    sides.push(await describeHfFolder(sub, source));
  }
  const [fw, bw] = sides;
  base.architecture = fw.architecture;
  base.parameters = fw.parameters;
  base.sizeBytes = fw.sizeBytes === null && bw.sizeBytes === null ? null : (fw.sizeBytes ?? 0) + (bw.sizeBytes ?? 0);
  if (!fw.supported) return { ...base, reason: `forward: ${fw.reason}` };
  if (!bw.supported) return { ...base, reason: `backward: ${bw.reason}` };
  return { ...base, supported: true };
}

/** A Hugging Face model folder (a workspace folder or a cache snapshot whose files link into blobs/). */
export async function describeHfFolder(dir: string, source: ModelSource): Promise<DiscoveredModel> {
  const m: DiscoveredModel = {
    kind: 'huggingface',
    source,
    label: basename(dir),
    path: resolve(dir),
    sizeBytes: null,
    architecture: null,
    parameters: null,
    hasBackward: false,
    supported: false,
  };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    return { ...m, reason: `cannot read the folder: ${(e as Error).message}` };
  }
  const has = (n: string) => names.includes(n);

  // Weights: model.safetensors, or the shards of model.safetensors.index.json.
  let shards: string[] = [];
  let weightsProblem: string | null = null;
  if (has('model.safetensors')) shards = ['model.safetensors'];
  else if (has('model.safetensors.index.json')) {
    const j = await readJson(join(dir, 'model.safetensors.index.json'));
    const map = j.ok ? (j.value as { weight_map?: unknown }).weight_map : undefined;
    if (!j.ok) weightsProblem = `model.safetensors.index.json: ${j.error}`;
    else if (!map || typeof map !== 'object') weightsProblem = 'model.safetensors.index.json has no "weight_map"';
    else {
      shards = [...new Set(Object.values(map as Record<string, unknown>).filter((v): v is string => typeof v === 'string'))].sort();
      const missing: string[] = [];
      for (const s of shards) if (!(await isFile(join(dir, s)))) missing.push(s);
      if (missing.length) weightsProblem = `shard${missing.length > 1 ? 's' : ''} ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''} missing (not downloaded?)`;
    }
  } else {
    shards = names.filter((n) => n.endsWith('.safetensors')).sort();
  }
  let size = 0, params = 0, paramsKnown = shards.length > 0;
  for (const s of shards) {
    const p = join(dir, s);
    const sz = await fileSize(p);
    if (sz === null) {
      paramsKnown = false;
      continue;
    }
    size += sz;
    const n = paramsKnown ? safetensorsParameters(p) : null;
    if (n === null) paramsKnown = false;
    else params += n;
  }
  m.sizeBytes = shards.length ? size : null;
  m.parameters = paramsKnown ? params : null;

  const cj = await readJson(join(dir, 'config.json'));
  if (!cj.ok) return { ...m, reason: cj.missing ? 'no config.json' : `config.json: ${cj.error}` };
  const config = cj.value as Record<string, unknown>;
  const modelType = config.model_type;
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  m.architecture = [typeof modelType === 'string' ? modelType : null, archs[0] ?? null].filter(Boolean).join(' · ') || null;

  if (!isSupportedModelType(modelType)) {
    const t = typeof modelType === 'string' ? `model_type "${modelType}"` : 'config.json has no model_type, so it';
    return { ...m, reason: `${t} is not supported; supported: ${supportedList()}` };
  }
  if (weightsProblem) return { ...m, reason: weightsProblem };
  if (!shards.length) {
    const other = ['pytorch_model.bin', 'model.bin', 'tf_model.h5', 'flax_model.msgpack'].find(has) ?? names.find((n) => /^pytorch_model-\d+-of-\d+\.bin$/.test(n));
    return {
      ...m,
      reason: `no safetensors weights (model.safetensors or model-*.safetensors shards)${other ? `; ${other} is not read: convert it to safetensors` : ''}`,
    };
  }
  if (!(await isFile(join(dir, 'tokenizer.json')))) {
    const slow = has('vocab.json') || has('tokenizer.model') ? ' (only a slow tokenizer is there: save the fast one, tokenizer.json)' : '';
    return { ...m, reason: `no tokenizer.json${slow}` };
  }
  return { ...m, supported: true };
}

/** Parameters in a safetensors file, from its (checked) header only; null when it is not valid. */
export function safetensorsParameters(path: string): number | null {
  try {
    let total = 0;
    for (const t of readHeader(path).values()) total += t.shape.reduce((a, d) => a * d, 1);
    return total;
  } catch {
    return null;
  }
}

// ---- formatting (shared by the picker and tests)

/** 124M, 1.2B, 37.4K: parameters for a one-line description. */
export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}K`;
  return String(n);
}

/** Sizes in MB below 1 GB, else GB (decimal units, as the Hugging Face hub shows them). */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1)} MB`;
  return bytes < 0.05e6 ? '< 0.1 MB' : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** "gpt2 · GPT2LMHeadModel · 124M parameters · 498 MB": architecture, parameters, size. */
export function describeLine(m: DiscoveredModel): string {
  const parts: string[] = [];
  if (m.architecture) parts.push(m.architecture);
  if (m.parameters !== null && m.parameters > 0) parts.push(`${formatParameters(m.parameters)} parameters${m.kind === 'pair' ? ' per direction' : ''}`);
  if (m.sizeBytes !== null && m.sizeBytes > 0) parts.push(formatSize(m.sizeBytes));
  return parts.join(' · ');
}

// ---- small fs helpers

type JsonRead = { ok: true; value: unknown } | { ok: false; error: string; missing: boolean };

async function readJson(path: string): Promise<JsonRead> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, error: 'not a file', missing: false };
    if (st.size > MAX_JSON) return { ok: false, error: `over ${MAX_JSON / 1024 / 1024} MB, not read`, missing: false };
    const text = await readFile(path, 'utf8');
    return { ok: true, value: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, error: 'missing', missing: true };
    return { ok: false, error: e instanceof SyntaxError ? `not valid JSON: ${e.message}` : (e as Error).message, missing: false };
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Size of a file, following symlinks (cache snapshots link into blobs/); null when it is missing or unreadable. */
async function fileSize(p: string): Promise<number | null> {
  try {
    await access(p, fsc.R_OK);
    const st = await stat(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

async function realKey(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return resolve(p);
  }
}
