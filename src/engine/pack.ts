// Model packs: a folder with manifest.json (docs/model-pack.md). Loading validates every field and
// resolves every path inside the pack; each refusal names the pack, the field and what was expected.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ProbeError } from './errors';
import { PackTokenizer } from './tokenizer';
import type { PackInfo } from './schema';
import type { StatNames } from './hf/statistics';

export interface PackManifest {
  format: 'lm-probe-pack';
  formatVersion: 1;
  name: string;
  description?: string;
  tokenizer: string;
  contextLength: number;
  bos: { id: number; token: string };
  architecture: { layers: number; heads: number; width: number; vocabSize: number };
  graph: {
    inputs: { inputIds: string };
    outputs: { logits: string; hiddenStates: string | null; attentions: string | null };
    /** In-graph per-token statistics (graphs that LM Probe builds; src/engine/hf/statistics.ts). */
    statistics?: StatNames;
  };
  forward: string;
  backward?: string;
  head?: string;
  probes?: string;
  /** Optional reference tables for the analyses (src/engine/analysis/baselines.ts). */
  baselines?: string;
}

export interface LoadedPack {
  /** Absolute path of the pack folder. */
  dir: string;
  manifest: PackManifest;
  /** Absolute, validated paths of the pack's files (inside dir). */
  files: { tokenizer: string; forward: string; backward: string | null; head: string | null; probes: string | null; baselines?: string | null };
  tokenizer: PackTokenizer;
  info: PackInfo;
  /** True for graphs LM Probe built itself (src/engine/hf): their contract is known, not checked. */
  built?: boolean;
}

/** The package root (the folder with lm-probe's package.json), from a bundle in dist/ or from src/. */
export function packageRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'lm-probe') return d;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return resolve(__dirname, '..');
}

export function defaultPackDir(): string {
  return join(packageRoot(), 'models', 'default');
}

function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !isAbsolute(r));
}

class Checker {
  constructor(
    readonly dir: string,
    readonly m: Record<string, unknown>,
  ) {}

  fail(field: string, expected: string, ...got: unknown[]): never {
    const g = got.length > 0 ? `, got ${got[0] === undefined ? 'nothing' : JSON.stringify(got[0])}` : '';
    throw new ProbeError('BAD_PACK', `model pack ${this.dir}: manifest.json field "${field}": expected ${expected}${g}`);
  }

  get(path: string): unknown {
    let v: unknown = this.m;
    for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    return v;
  }

  int(path: string, min: number): number {
    const v = this.get(path);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(path, `an integer >= ${min}`, v);
    return v;
  }

  str(path: string): string {
    const v = this.get(path);
    if (typeof v !== 'string' || v.length === 0) this.fail(path, 'a non-empty string', v);
    return v;
  }

  strOrNull(path: string): string | null {
    const v = this.get(path);
    if (v === null || v === undefined) return null;
    if (typeof v !== 'string' || v.length === 0) this.fail(path, 'a non-empty string or null', v);
    return v;
  }

  /** A path relative to the pack that must stay inside it (after symlinks) and exist as a file. */
  file(field: string, optional: boolean): string | null {
    const v = this.get(field);
    if (v === undefined || v === null) {
      if (optional) return null;
      this.fail(field, 'a file name relative to the pack folder', v);
    }
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'a file name relative to the pack folder', v);
    if (isAbsolute(v) || /^[a-zA-Z]:/.test(v)) this.fail(field, 'a path relative to the pack folder, not an absolute path', v);
    const p = resolve(this.dir, v);
    if (!isInside(this.dir, p)) this.fail(field, 'a path inside the pack folder (no "..")', v);
    if (!existsSync(p)) {
      throw new ProbeError('BAD_PACK', `model pack ${this.dir}: manifest.json field "${field}": file ${JSON.stringify(v)} is missing`);
    }
    const real = realpathSync(p);
    if (!isInside(realpathSync(this.dir), real)) {
      this.fail(field, 'a file inside the pack folder (a symlink leaves it)', v);
    }
    if (!statSync(real).isFile()) this.fail(field, 'a regular file', v);
    return p;
  }
}

/** Reads and validates a pack's manifest and tokenizer (graphs are checked when sessions open). */
export function loadPack(packDir: string): LoadedPack {
  const dir = resolve(packDir);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(dir)) throw new ProbeError('PACK_NOT_FOUND', `model pack ${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) {
    throw new ProbeError('PACK_NOT_FOUND', `model pack ${dir}: not a folder (a pack is a folder with manifest.json)`);
  }
  if (!existsSync(manifestPath)) {
    throw new ProbeError('PACK_NOT_FOUND', `model pack ${dir}: manifest.json is missing (a pack is a folder with manifest.json; see docs/model-pack.md)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new ProbeError('BAD_PACK', `model pack ${dir}: manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ProbeError('BAD_PACK', `model pack ${dir}: manifest.json: expected a JSON object`);
  }
  const c = new Checker(dir, raw as Record<string, unknown>);
  if (c.get('format') !== 'lm-probe-pack') c.fail('format', '"lm-probe-pack"', c.get('format'));
  if (c.get('formatVersion') !== 1) c.fail('formatVersion', '1', c.get('formatVersion'));
  const name = c.str('name');
  const description = c.get('description');
  const contextLength = c.int('contextLength', 2);
  const bos = { id: c.int('bos.id', 0), token: c.str('bos.token') };
  const architecture = {
    layers: c.int('architecture.layers', 1),
    heads: c.int('architecture.heads', 1),
    width: c.int('architecture.width', 1),
    vocabSize: c.int('architecture.vocabSize', 2),
  };
  if (bos.id >= architecture.vocabSize) c.fail('bos.id', `an id below architecture.vocabSize (${architecture.vocabSize})`, bos.id);
  const graph = {
    inputs: { inputIds: c.str('graph.inputs.inputIds') },
    outputs: {
      logits: c.str('graph.outputs.logits'),
      hiddenStates: c.strOrNull('graph.outputs.hiddenStates'),
      attentions: c.strOrNull('graph.outputs.attentions'),
    },
  };
  const files = {
    tokenizer: c.file('tokenizer', false)!,
    forward: c.file('forward', false)!,
    backward: c.file('backward', true),
    head: c.file('head', true),
    probes: c.file('probes', true),
    baselines: c.file('baselines', true),
  };
  const manifest: PackManifest = {
    format: 'lm-probe-pack',
    formatVersion: 1,
    name,
    ...(typeof description === 'string' ? { description } : {}),
    tokenizer: c.get('tokenizer') as string,
    contextLength,
    bos,
    architecture,
    graph,
    forward: c.get('forward') as string,
    ...(files.backward ? { backward: c.get('backward') as string } : {}),
    ...(files.head ? { head: c.get('head') as string } : {}),
    ...(files.probes ? { probes: c.get('probes') as string } : {}),
    ...(files.baselines ? { baselines: c.get('baselines') as string } : {}),
  };

  let tokJson: unknown;
  try {
    tokJson = JSON.parse(readFileSync(files.tokenizer, 'utf8'));
  } catch (e) {
    throw new ProbeError('BAD_PACK', `model pack ${dir}: field "tokenizer": ${manifest.tokenizer} is not valid JSON: ${(e as Error).message}`);
  }
  const tokenizer = new PackTokenizer(tokJson, `model pack ${dir}: field "tokenizer" (${manifest.tokenizer})`);
  if (tokenizer.vocabSize > architecture.vocabSize) {
    c.fail('architecture.vocabSize', `at least the tokenizer's ${tokenizer.vocabSize} ids`, architecture.vocabSize);
  }
  const bosId = tokenizer.tokenId(bos.token);
  if (bosId !== undefined && bosId !== bos.id) {
    c.fail('bos.id', `${bosId}, the tokenizer's id for ${JSON.stringify(bos.token)}`, bos.id);
  }

  const info: PackInfo = {
    name,
    dir,
    contextLength,
    layers: architecture.layers,
    heads: architecture.heads,
    width: architecture.width,
    vocabSize: architecture.vocabSize,
    hasBackward: files.backward !== null,
    hasProbes: files.probes !== null,
  };
  return { dir, manifest, files, tokenizer, info };
}
