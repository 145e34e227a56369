// Sharded runs (docs/sharding.md): `lm-probe corpus --shard I/N --out FILE` and `lm-probe
// fit-probes --shard I/N --out FILE` each write a partial result that sums exactly; `lm-probe merge`
// checks that the shards belong together (same format, model, options, corpus; every shard 1..N
// once) and gives the report or the probe file of one run over everything.
//
// Shard I of N takes the files whose position in the FILE list sorted by path (as written, by code
// units) is I - 1 modulo N. Corpus shards are JSON; fit-probes shards are binary (float64 sums,
// too large for JSON): "LMPSHARD", a uint32 little-endian header length H, H bytes of JSON header
// (padded with spaces so that the data starts at a multiple of 8), then float64 little-endian
// arrays at header.arrays[name] = { offset (bytes from the start of the data), length }.
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Engine } from '../../engine/engine';
import type { LoadedPack } from '../../engine/pack';
import { BigramCounter, fitKeys, solveFit, type FitAccumulation, type FitSettings } from '../../engine/analysis/futureLens';
import { writeProbes } from '../../engine/analysis/probes';
import { RidgeStats } from '../../engine/analysis/ridge';
import { corpusReport, formatCorpus, scoreCorpus, type CorpusDoc, type CorpusDocScore } from '../corpus';
import { CliError, EXIT, readTextFile } from '../io';
import { progress } from '../progress';
import { common, engineOptions, fileSize, intOption, reportFallbacks, write, type Command, type Ctx, type Values } from '../options';

export const SHARD_FORMAT = 'lm-probe-shard';
export const SHARD_FORMAT_VERSION = 1;
const MAGIC = 'LMPSHARD';

export const SHARD_USAGE = `
Sharding (docs/sharding.md): split corpus or fit-probes over machines, then merge exactly
  lm-probe corpus     --shard I/N --out FILE [corpus options] FILE...
  lm-probe fit-probes --shard I/N --out FILE [fit-probes options] FILE...
      shard I of N (1 <= I <= N) takes every N-th FILE of the list sorted by path; --shard
      auto/N reads I from JOB_COMPLETION_INDEX (Kubernetes Indexed Job, 0-based) or
      SLURM_ARRAY_TASK_ID (Slurm array, counted from SLURM_ARRAY_TASK_MIN); {i} and {n} in
      --out become I and N. Every shard gets the same FILE list and options
  lm-probe merge [--json] [--resamples N] [--seed S] FILE...        corpus shards: the report
  lm-probe merge --out PROBES.json FILE...                           fit-probes shards: probes
      needs every shard 1..N exactly once, of the same model, options and FILE list; the
      result equals one run over all FILEs (corpus: same bootstrap interval for the same seed)
`;

// ---- shard specs --------------------------------------------------------------------------------

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** Parses --shard: "I/N" (1 <= I <= N), or "auto/N" with I from a job array's environment. */
export function parseShard(raw: string, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  const m = /^\s*(auto|\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!m) throw new CliError(EXIT.USAGE, `--shard: expected I/N (e.g. 1/4) or auto/N, got ${JSON.stringify(raw)}`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new CliError(EXIT.USAGE, `--shard: N must be an integer >= 1, got ${m[2]}`);
  let index: number;
  if (m[1] === 'auto') {
    index = autoIndex(env, count);
  } else {
    index = Number(m[1]);
    if (!Number.isSafeInteger(index) || index < 1 || index > count) throw new CliError(EXIT.USAGE, `--shard: I must be in 1..${count}, got ${m[1]} (shards are numbered from 1)`);
  }
  return { index, count };
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  if (!/^\d+$/.test(v.trim())) throw new CliError(EXIT.USAGE, `--shard auto: ${name}=${JSON.stringify(v)} is not a non-negative integer`);
  return Number(v);
}

function autoIndex(env: NodeJS.ProcessEnv, count: number): number {
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  let index: number;
  let from: string;
  if (k8s !== undefined) {
    index = k8s + 1;
    from = `JOB_COMPLETION_INDEX=${k8s} (0-based)`;
  } else {
    const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
    if (id === undefined) {
      throw new CliError(EXIT.USAGE, '--shard auto/N: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard I/N');
    }
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP');
    if (step !== undefined && step !== 1) throw new CliError(EXIT.USAGE, `--shard auto/N: SLURM_ARRAY_TASK_STEP is ${step}; use a contiguous array (--array=1-N or 0-(N-1))`);
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const n = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (n !== undefined && n !== count) throw new CliError(EXIT.USAGE, `--shard auto/${count}: the Slurm array has ${n} tasks (SLURM_ARRAY_TASK_COUNT); N must be the array's size`);
    index = id - min + 1;
    from = `SLURM_ARRAY_TASK_ID=${id} - SLURM_ARRAY_TASK_MIN=${min} + 1`;
  }
  if (index < 1 || index > count) throw new CliError(EXIT.USAGE, `--shard auto/${count}: ${from} gives shard ${index}, outside 1..${count}`);
  return index;
}

/**
 * Positions (in the given order) of the items of shard spec: the item of rank r in the list sorted
 * by path (code units; equal paths by position) belongs to shard (r mod N) + 1.
 */
export function shardMembers(paths: string[], spec: ShardSpec): number[] {
  const order = paths.map((_, i) => i).sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : a - b));
  return order.filter((_, r) => r % spec.count === spec.index - 1).sort((a, b) => a - b);
}

/** --out with {i} and {n} replaced. */
export function shardOutPath(template: string, spec: ShardSpec): string {
  return template.replace(/\{i\}/g, String(spec.index)).replace(/\{n\}/g, String(spec.count));
}

/** The model's identity in a shard: its name and a sha256 over what decides its outputs (graphs, tokenizer, shape). */
export function packIdentity(pack: LoadedPack): { name: string; sha256: string } {
  const m = pack.manifest;
  const h = createHash('sha256');
  h.update(JSON.stringify({ contextLength: m.contextLength, bos: m.bos, architecture: m.architecture, inputs: m.graph.inputs, outputs: m.graph.outputs }));
  const buf = Buffer.alloc(1 << 20);
  for (const [name, file] of [
    ['tokenizer', pack.files.tokenizer],
    ['forward', pack.files.forward],
    ['backward', pack.files.backward],
    ['head', pack.files.head],
  ] as const) {
    h.update(`\n${name}:`);
    if (!file) {
      h.update('none');
      continue;
    }
    const fd = openSync(file, 'r');
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return { name: m.name, sha256: h.digest('hex') };
}

// ---- the files ----------------------------------------------------------------------------------

interface ShardHeader {
  format: typeof SHARD_FORMAT;
  formatVersion: number;
  kind: 'corpus' | 'fit-probes';
  shard: ShardSpec;
  /** Must be equal across the shards of one merge. */
  pack: { name: string; sha256: string };
  /** Must be equal across the shards of one merge (options and the FILE list). */
  settings: Record<string, unknown>;
  /** Informational. */
  packDir: string;
  provider: string;
  seconds: number;
  createdAt: string;
}

interface CorpusShard extends ShardHeader {
  kind: 'corpus';
  /** --resamples and --seed of the shard runs: merge's defaults. */
  bootstrap: { resamples: number; seed: number };
  documents: {
    index: number;
    file: string;
    tokens: number;
    forwardNats: number | string;
    backwardNats: number | string;
    blocks: { tokens: number[]; forwardNats: (number | string)[]; backwardNats: (number | string)[] };
  }[];
}

interface FitShardHeader extends ShardHeader {
  kind: 'fit-probes';
  /** Of the whole plan, equal across shards (every shard tokenizes every sampled piece). */
  plan: { trainTokens: number; heldTokens: number; windows: number; sha256: string };
  /** What this shard ran. */
  ran: { windows: number; tokens: number; files: number };
  dtype: 'float64';
  byteOrder: 'little';
  /** Statistics per (layer, offset) and split: n, sum ||y||^2, sum x, sum y, x'x (upper triangle, row by row), x'y (row-major). */
  statsLayout: string;
  maps: { layer: number; offset: number }[];
  arrays: Record<string, { offset: number; length: number }>;
}

/** JSON has no Infinity or NaN: such a sum is written as a string and read back. */
const enc = (x: number): number | string => (Number.isFinite(x) ? x : String(x));
const dec = (x: number | string): number => (typeof x === 'string' ? Number(x) : x);

function writeAtomically(path: string, writeTo: (tmp: string) => void): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  const tmp = `${abs}.${process.pid}.tmp`;
  writeTo(tmp);
  renameSync(tmp, abs);
  return abs;
}

function writeBinaryShard(path: string, header: Omit<FitShardHeader, 'arrays'>, arrays: [string, Float64Array][]): string {
  if (endianness() !== 'LE') throw new CliError(EXIT.RUNTIME, 'binary shards are written on little-endian machines only');
  const index: FitShardHeader['arrays'] = {};
  let off = 0;
  for (const [name, a] of arrays) {
    index[name] = { offset: off, length: a.length };
    off += a.length * 8;
  }
  let json = Buffer.from(JSON.stringify({ ...header, arrays: index }), 'utf8');
  const pad = (8 - ((MAGIC.length + 4 + json.length + 1) % 8)) % 8;
  json = Buffer.concat([json, Buffer.from(' '.repeat(pad) + '\n')]);
  return writeAtomically(path, (tmp) => {
    const fd = openSync(tmp, 'w');
    try {
      const pre = Buffer.alloc(MAGIC.length + 4);
      pre.write(MAGIC, 0, 'latin1');
      pre.writeUInt32LE(json.length, MAGIC.length);
      writeSync(fd, pre);
      writeSync(fd, json);
      for (const [, a] of arrays) {
        const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        for (let p = 0; p < bytes.length; ) p += writeSync(fd, bytes, p, Math.min(1 << 24, bytes.length - p));
      }
    } finally {
      closeSync(fd);
    }
  });
}

interface ReadShard {
  path: string;
  header: ShardHeader;
  /** Binary shards: reads one array (checked against the file's size). */
  array?: (name: string, expectLength: number) => Float64Array;
  close(): void;
}

function corrupt(path: string, what: string): never {
  throw new CliError(EXIT.BAD_TEXT, `${path}: ${what}`);
}

/** Opens a shard (JSON or binary), checks its format fields; binary data stays on disk until read. */
function openShard(path: string): ReadShard {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new CliError(EXIT.USAGE, `${path} is a folder, not a shard file`);
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT.USAGE, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const size = fstatSync(fd).size;
  const pre = Buffer.alloc(MAGIC.length + 4);
  const got = readSync(fd, pre, 0, pre.length, 0);
  let header: ShardHeader;
  let array: ReadShard['array'];
  if (got === pre.length && pre.toString('latin1', 0, MAGIC.length) === MAGIC) {
    const hlen = pre.readUInt32LE(MAGIC.length);
    if (pre.length + hlen > size) corrupt(path, `truncated: the header says ${hlen} bytes, the file has ${size - pre.length} after the magic`);
    const hb = Buffer.alloc(hlen);
    readSync(fd, hb, 0, hlen, pre.length);
    try {
      header = JSON.parse(hb.toString('utf8')) as ShardHeader;
    } catch (e) {
      corrupt(path, `the binary shard's JSON header is not valid JSON (${(e as Error).message})`);
    }
    const data0 = pre.length + hlen;
    const arrays = (header as FitShardHeader).arrays ?? {};
    array = (name, expectLength) => {
      const a = arrays[name];
      if (!a) corrupt(path, `array "${name}" is missing`);
      if (a.length !== expectLength) corrupt(path, `array "${name}" holds ${a.length} numbers, expected ${expectLength}`);
      if (!Number.isInteger(a.offset) || a.offset < 0 || a.offset % 8 !== 0 || data0 + a.offset + a.length * 8 > size) corrupt(path, `array "${name}" lies outside the file (truncated?)`);
      if (endianness() !== 'LE') throw new CliError(EXIT.RUNTIME, 'binary shards are read on little-endian machines only');
      const out = new Float64Array(a.length);
      const bytes = new Uint8Array(out.buffer);
      for (let p = 0; p < bytes.length; ) {
        const n = readSync(fd, bytes, p, Math.min(1 << 24, bytes.length - p), data0 + a.offset + p);
        if (n <= 0) corrupt(path, `array "${name}": unexpected end of file`);
        p += n;
      }
      return out;
    };
  } else {
    closeSync(fd);
    fd = -1;
    try {
      header = JSON.parse(readFileSync(path, 'utf8')) as ShardHeader;
    } catch (e) {
      throw new CliError(EXIT.BAD_TEXT, `${path} is not an lm-probe shard (neither a binary shard nor JSON: ${(e as Error).message})`);
    }
  }
  const close = () => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
  };
  try {
    if (header === null || typeof header !== 'object' || header.format !== SHARD_FORMAT) {
      throw new CliError(EXIT.BAD_TEXT, `${path} is not an lm-probe shard (field "format": expected "${SHARD_FORMAT}", got ${JSON.stringify((header as { format?: unknown })?.format)}); shards come from corpus or fit-probes --shard I/N --out FILE`);
    }
    if (header.formatVersion !== SHARD_FORMAT_VERSION) {
      throw new CliError(EXIT.BAD_TEXT, `${path}: shard format version ${JSON.stringify(header.formatVersion)}, this lm-probe reads version ${SHARD_FORMAT_VERSION}`);
    }
    if (header.kind !== 'corpus' && header.kind !== 'fit-probes') corrupt(path, `field "kind": expected "corpus" or "fit-probes", got ${JSON.stringify(header.kind)}`);
    const s = header.shard;
    if (!s || !Number.isSafeInteger(s.count) || s.count < 1 || !Number.isSafeInteger(s.index) || s.index < 1 || s.index > s.count) {
      corrupt(path, `field "shard": expected {index, count} with 1 <= index <= count, got ${JSON.stringify(s)}`);
    }
    if (!header.pack || typeof header.pack.sha256 !== 'string' || !header.settings || typeof header.settings !== 'object') corrupt(path, 'fields "pack"/"settings" are missing');
  } catch (e) {
    close();
    throw e;
  }
  return { path, header, array, close };
}

/** How a refusal names a setting that differs between shards. */
const SETTING_NAMES: Record<string, string> = {
  documents: 'the number of FILEs',
  documentsSha256: 'the FILE list (its sha256)',
  files: 'the FILE list',
  heldOutFiles: 'the --held-out files',
  backward: 'whether the model has a backward direction',
  blockTokens: 'the block length (the context length - 1)',
  maxTokens: '--max-tokens',
  lambdas: '--lambdas',
  targetSpace: '--target',
};

/** Refuses shards that do not make one whole: other kinds, models, options, counts; missing or repeated shards. */
function checkSet(shards: ReadShard[]): void {
  const a = shards[0];
  const ha = a.header;
  for (const b of shards.slice(1)) {
    const hb = b.header;
    if (hb.kind !== ha.kind) throw new CliError(EXIT.USAGE, `${b.path} is a ${hb.kind} shard, ${a.path} a ${ha.kind} shard: merge shards of one kind at a time`);
    if (hb.pack.sha256 !== ha.pack.sha256 || hb.pack.name !== ha.pack.name) {
      throw new CliError(
        EXIT.USAGE,
        `${b.path} was written with model ${hb.pack.name} (sha256 ${hb.pack.sha256.slice(0, 12)}), ${a.path} with model ${ha.pack.name} (sha256 ${ha.pack.sha256.slice(0, 12)}): shards of different models cannot be merged`,
      );
    }
    for (const k of new Set([...Object.keys(ha.settings), ...Object.keys(hb.settings)])) {
      const x = JSON.stringify(ha.settings[k]);
      const y = JSON.stringify(hb.settings[k]);
      if (x !== y) {
        const short = (s: string | undefined) => (s === undefined ? 'nothing' : s.length > 80 ? s.slice(0, 77) + '...' : s);
        const what = SETTING_NAMES[k] ?? `"${k}"`;
        throw new CliError(EXIT.USAGE, `${b.path} and ${a.path} differ in ${what} (${short(y)} vs ${short(x)}): the shards of one merge must be run with the same options and FILE list`);
      }
    }
    if (hb.shard.count !== ha.shard.count) {
      throw new CliError(EXIT.USAGE, `${b.path} is shard ${hb.shard.index}/${hb.shard.count}, ${a.path} shard ${ha.shard.index}/${ha.shard.count}: all shards must split into the same N`);
    }
  }
  const n = ha.shard.count;
  const seen = new Map<number, string>();
  for (const s of shards) {
    const other = seen.get(s.header.shard.index);
    if (other !== undefined) throw new CliError(EXIT.USAGE, `shard ${s.header.shard.index}/${n} given twice (${other} and ${s.path}): merge needs every shard 1..${n} exactly once`);
    seen.set(s.header.shard.index, s.path);
  }
  const missing: string[] = [];
  for (let i = 1; i <= n; i++) if (!seen.has(i)) missing.push(`${i}/${n}`);
  if (missing.length) {
    const have = [...seen.keys()].sort((x, y) => x - y).map((i) => `${i}/${n}`);
    throw new CliError(EXIT.USAGE, `missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (given: ${have.join(', ')}): merge needs every shard 1..${n} exactly once`);
  }
  if (ha.kind === 'fit-probes') {
    const pa = (ha as FitShardHeader).plan;
    for (const b of shards.slice(1)) {
      const pb = (b.header as FitShardHeader).plan;
      if (JSON.stringify(pa) !== JSON.stringify(pb)) {
        throw new CliError(EXIT.USAGE, `${b.path} and ${a.path} sampled different text (plan ${pb?.sha256?.slice(0, 12)} vs ${pa?.sha256?.slice(0, 12)}): did the FILEs change between the shard runs?`);
      }
    }
  }
}

// ---- corpus -------------------------------------------------------------------------------------



/** The options `lm-probe corpus` gains for sharding. */
export const CORPUS_SHARD_OPTIONS: Command['options'] = { shard: { type: 'string' }, out: { type: 'string', short: 'o' } };

/** lm-probe corpus --shard I/N --out FILE FILE...: scores this shard's files and writes their sums. */
export async function corpusShard(v: Values, pos: string[], ctx: Ctx): Promise<void> {
  if (typeof v.shard !== 'string') throw new CliError(EXIT.USAGE, '--out writes a shard: give --shard I/N too (--shard 1/1 for the whole corpus as one shard)');
  if (typeof v.out !== 'string') throw new CliError(EXIT.USAGE, '--shard needs --out FILE (the shard to write, e.g. part{i}.json)');
  const spec = parseShard(v.shard);
  if (pos.length === 0) throw new CliError(EXIT.USAGE, 'corpus needs at least one FILE');
  if (pos.includes('-')) throw new CliError(EXIT.USAGE, 'corpus --shard reads FILEs, not standard input (-)');
  const resamples = intOption(v, 'resamples', 1000, 1);
  const seed = intOption(v, 'seed', 1, 0);
  const out = shardOutPath(v.out, spec);
  const mine = shardMembers(pos, spec);
  for (const i of mine) {
    try {
      accessSync(pos[i], constants.R_OK);
    } catch {
      readTextFile(pos[i]); // the usual usage error for that file, before any work
    }
  }
  const docs: CorpusDoc[] = mine.map((i) => ({ file: pos[i], text: () => readTextFile(pos[i]), size: fileSize(pos[i]) }));
  const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
  try {
    reportFallbacks(engine);
    const bar = progress(`corpus shard ${spec.index}/${spec.count}`);
    let scored;
    try {
      scored = await scoreCorpus(engine, docs, { signal: ctx.signal, onProgress: (p) => bar.update(p) });
    } finally {
      bar.stop();
    }
    const shard: CorpusShard = {
      format: SHARD_FORMAT,
      formatVersion: SHARD_FORMAT_VERSION,
      kind: 'corpus',
      shard: spec,
      pack: packIdentity(engine.pack),
      settings: {
        documents: pos.length,
        documentsSha256: createHash('sha256').update(JSON.stringify(pos)).digest('hex'),
        backward: engine.hasBackward,
        blockTokens: scored.blockTokens,
      },
      packDir: engine.pack.dir,
      provider: engine.provider,
      seconds: scored.seconds,
      createdAt: new Date().toISOString(),
      bootstrap: { resamples, seed },
      documents: scored.docs.map((d, k) => ({
        index: mine[k],
        file: d.file,
        tokens: d.tokens,
        forwardNats: enc(d.fwNats),
        backwardNats: enc(d.bwNats),
        blocks: { tokens: d.blocks.map((b) => b.tokens), forwardNats: d.blocks.map((b) => enc(b.fwNats)), backwardNats: d.blocks.map((b) => enc(b.bwNats)) },
      })),
    };
    const abs = writeAtomically(out, (tmp) => writeFileSync(tmp, JSON.stringify(shard) + '\n'));
    const tokens = scored.docs.reduce((a, d) => a + d.tokens, 0);
    const summary = { out: abs, shard: spec, files: mine.length, of: pos.length, tokens, seconds: scored.seconds };
    await write(
      v.json
        ? JSON.stringify(summary) + '\n'
        : `wrote ${abs}: shard ${spec.index}/${spec.count}, ${mine.length} of ${pos.length} files, ${tokens} tokens; combine the shards with lm-probe merge\n`,
    );
  } finally {
    await engine.dispose();
  }
}

function mergeCorpus(shards: ReadShard[], v: Values): string {
  const hs = shards.map((s) => s.header as CorpusShard);
  const st = hs[0].settings as { documents: number; backward: boolean; blockTokens: number };
  const pick = (name: 'resamples' | 'seed', min: number): number => {
    if (v[name] !== undefined) return intOption(v, name, 0, min);
    const vals = [...new Set(hs.map((h) => h.bootstrap?.[name]))];
    if (vals.length !== 1 || typeof vals[0] !== 'number') {
      throw new CliError(EXIT.USAGE, `the shards were written with different --${name} (${vals.join(', ')}); pass --${name} to merge to choose one`);
    }
    return vals[0];
  };
  const resamples = pick('resamples', 1);
  const seed = pick('seed', 0);
  const N = st.documents;
  const docs: (CorpusDocScore | undefined)[] = new Array(N);
  for (let k = 0; k < hs.length; k++) {
    const list = hs[k].documents;
    if (!Array.isArray(list)) corrupt(shards[k].path, 'field "documents" is missing');
    for (const d of list) {
      if (!Number.isInteger(d.index) || d.index < 0 || d.index >= N) corrupt(shards[k].path, `document index ${d.index} outside 0..${N - 1}`);
      if (docs[d.index]) throw new CliError(EXIT.USAGE, `document ${d.index} (${d.file}) appears in two shards (${shards[k].path} and another): were the shards run with the same FILE list?`);
      const b = d.blocks;
      if (!b || !Array.isArray(b.tokens) || b.forwardNats?.length !== b.tokens.length || b.backwardNats?.length !== b.tokens.length) {
        corrupt(shards[k].path, `document ${d.index} (${d.file}): blocks malformed`);
      }
      docs[d.index] = {
        file: d.file,
        tokens: d.tokens,
        fwNats: dec(d.forwardNats),
        bwNats: dec(d.backwardNats),
        blocks: b.tokens.map((t, j) => ({ tokens: t, fwNats: dec(b.forwardNats[j]), bwNats: dec(b.backwardNats[j]) })),
      };
    }
  }
  const missing = docs.reduce((a, d) => a + (d ? 0 : 1), 0);
  if (missing) throw new CliError(EXIT.USAGE, `the shards hold ${N - missing} of the ${N} documents: were they run with the same --shard N and FILE list?`);
  const report = corpusReport(docs as CorpusDocScore[], {
    hasBackward: st.backward,
    blockTokens: st.blockTokens,
    resamples,
    seed,
    seconds: hs.reduce((a, h) => a + (h.seconds ?? 0), 0),
    provider: [...new Set(hs.map((h) => h.provider))].join(', '),
    pack: { name: hs[0].pack.name, dir: hs[0].packDir },
  });
  return v.json ? JSON.stringify(report, null, 1) + '\n' : formatCorpus(report);
}

// ---- fit-probes ---------------------------------------------------------------------------------

const STATS_LAYOUT = 'n, syy, sx[D], sy[D], sxx upper triangle row by row [D(D+1)/2], sxy row-major [D*D]';

function statsLength(D: number): number {
  return 2 + 2 * D + (D * (D + 1)) / 2 + D * D;
}

function packStats(s: RidgeStats): Float64Array {
  const D = s.din;
  const a = new Float64Array(statsLength(D));
  a[0] = s.n;
  a[1] = s.syy;
  a.set(s.sx, 2);
  a.set(s.sy, 2 + D);
  let p = 2 + 2 * D;
  for (let i = 0; i < D; i++) for (let j = i; j < D; j++) a[p++] = s.sxx[i * D + j];
  a.set(s.sxy, p);
  return a;
}

function addStats(into: RidgeStats, a: Float64Array): void {
  const D = into.din;
  into.n += a[0];
  into.syy += a[1];
  for (let i = 0; i < D; i++) into.sx[i] += a[2 + i];
  for (let i = 0; i < D; i++) into.sy[i] += a[2 + D + i];
  let p = 2 + 2 * D;
  for (let i = 0; i < D; i++) for (let j = i; j < D; j++) into.sxx[i * D + j] += a[p++];
  for (let i = 0; i < D * D; i++) into.sxy[i] += a[p + i];
}

const mapName = (k: { layer: number; offset: number }) => `l${k.layer}k${k.offset}`;

/** Writes a fit-probes shard: this shard's sums per map and split, its bigram counts, the plan and the settings. */
export function writeFitShard(
  path: string,
  o: { pack: LoadedPack; provider: string; spec: ShardSpec; acc: FitAccumulation; settings: FitSettings; maxTokens: number; heldOutEvery: number; files: number; seconds: number },
): string {
  const { acc, settings } = o;
  const L = settings.modelLayers;
  const maps = acc.keys.filter((k) => !(k.layer === L && k.offset === 1));
  const arrays: [string, Float64Array][] = [];
  for (const k of maps) {
    const i = acc.keys.findIndex((x) => x.layer === k.layer && x.offset === k.offset);
    arrays.push([`train/${mapName(k)}`, packStats(acc.train[i])], [`held/${mapName(k)}`, packStats(acc.held[i])]);
  }
  const c = acc.bigram.counts();
  arrays.push(['bigram/unigram', c.unigram]);
  c.pairs.forEach((p, oi) => arrays.push([`bigram/k${settings.offsets[oi]}/keys`, p.keys], [`bigram/k${settings.offsets[oi]}/counts`, p.counts]));
  return writeBinaryShard(
    path,
    {
      format: SHARD_FORMAT,
      formatVersion: SHARD_FORMAT_VERSION,
      kind: 'fit-probes',
      shard: o.spec,
      pack: packIdentity(o.pack),
      settings: { ...settings, maxTokens: o.maxTokens, heldOutEvery: o.heldOutEvery },
      packDir: o.pack.dir,
      provider: o.provider,
      seconds: o.seconds,
      createdAt: new Date().toISOString(),
      plan: { trainTokens: acc.trainTokens, heldTokens: acc.heldTokens, windows: acc.windows, sha256: acc.planSha256 },
      ran: { ...acc.ran, files: o.files },
      dtype: 'float64',
      byteOrder: 'little',
      statsLayout: STATS_LAYOUT,
      maps,
    },
    arrays,
  );
}

/** Sums checked fit-probes shards into one accumulation (what one run over every file accumulates). */
function sumFitShards(shards: ReadShard[]): { acc: FitAccumulation; settings: FitSettings } {
  const h0 = shards[0].header as FitShardHeader;
  const settings = h0.settings as unknown as FitSettings & { maxTokens: number };
  const { width: D, modelLayers: L, vocabSize: V, offsets } = settings;
  const keys = fitKeys(L, offsets);
  const train = keys.map(() => new RidgeStats(D, D));
  const held = keys.map(() => new RidgeStats(D, D));
  const bigram = new BigramCounter(V, offsets);
  // In shard order, so that the sums do not depend on the order of the FILE arguments.
  for (const s of shards.slice().sort((a, b) => a.header.shard.index - b.header.shard.index)) {
    const get = s.array!;
    keys.forEach((k, i) => {
      if (k.layer === L && k.offset === 1) return;
      addStats(train[i], get(`train/${mapName(k)}`, statsLength(D)));
      addStats(held[i], get(`held/${mapName(k)}`, statsLength(D)));
    });
    const hs = s.header as FitShardHeader;
    const pairLen = (name: string) => hs.arrays[name]?.length ?? -1;
    bigram.addCounts({
      unigram: get('bigram/unigram', V),
      pairs: offsets.map((k) => ({ keys: get(`bigram/k${k}/keys`, pairLen(`bigram/k${k}/keys`)), counts: get(`bigram/k${k}/counts`, pairLen(`bigram/k${k}/keys`)) })),
    });
  }
  const acc: FitAccumulation = {
    keys,
    train,
    held,
    bigram,
    trainTokens: h0.plan.trainTokens,
    heldTokens: h0.plan.heldTokens,
    windows: h0.plan.windows,
    planSha256: h0.plan.sha256,
    ran: { windows: 0, tokens: 0 },
  };
  return { acc, settings };
}

/** Reads, checks and sums fit-probes shard files (for tests and tools; lm-probe merge does the same). */
export function readFitShards(paths: string[]): { acc: FitAccumulation; settings: FitSettings } {
  const shards: ReadShard[] = [];
  try {
    for (const p of paths) shards.push(openShard(p));
    checkSet(shards);
    if (shards[0].header.kind !== 'fit-probes') throw new CliError(EXIT.USAGE, `${paths[0]} is not a fit-probes shard`);
    return sumFitShards(shards);
  } finally {
    for (const s of shards) s.close();
  }
}

async function mergeFit(shards: ReadShard[], v: Values): Promise<string> {
  if (typeof v.out !== 'string') throw new CliError(EXIT.USAGE, 'merging fit-probes shards needs --out FILE (the probe file to write, e.g. probes.json)');
  const out = v.out.endsWith('.json') ? v.out : v.out + '.json';
  const t0 = performance.now();
  const { acc, settings } = sumFitShards(shards);
  const fit = solveFit(acc, settings);
  const header = writeProbes(out, fit.meta, fit.maps);
  const summary = {
    out: resolve(out),
    binary: header.binary,
    shards: shards.length,
    maps: header.maps.map((m) => ({ layer: m.layer, offset: m.offset, lambda: m.lambda, heldOutMse: m.heldOutMse })),
    fittedOn: header.fittedOn,
    seconds: (performance.now() - t0) / 1000,
  };
  return v.json
    ? JSON.stringify(summary) + '\n'
    : `wrote ${summary.out} and ${header.binary}: ${header.maps.length} maps fitted on ${header.fittedOn.tokens} tokens (${header.fittedOn.heldOutTokens} held out) from ${shards.length} shards\n`;
}

// ---- lm-probe merge -----------------------------------------------------------------------------

export const MERGE_COMMAND: Command = {
  options: { json: common!.json, help: common!.help, out: { type: 'string', short: 'o' }, resamples: { type: 'string' }, seed: { type: 'string' } },
  allowPositionals: true,
  async run(v, pos) {
    if (pos.length === 0) throw new CliError(EXIT.USAGE, 'merge needs the shard FILEs (written by corpus or fit-probes --shard I/N --out FILE)');
    for (const p of pos) if (!existsSync(p)) throw new CliError(EXIT.USAGE, `cannot read ${p}: no such file`);
    const shards: ReadShard[] = [];
    try {
      for (const p of pos) shards.push(openShard(p));
      checkSet(shards);
      if (shards[0].header.kind === 'corpus') {
        if (v.out !== undefined) throw new CliError(EXIT.USAGE, 'merge --out is for fit-probes shards; corpus shards give the report on stdout (--json for JSON)');
        await write(mergeCorpus(shards, v));
      } else {
        if (v.resamples !== undefined || v.seed !== undefined) throw new CliError(EXIT.USAGE, '--resamples and --seed are for corpus shards');
        await write(await mergeFit(shards, v));
      }
    } finally {
      for (const s of shards) s.close();
    }
  },
};
