// Baselines shipped with a pack (optional manifest field "baselines"): the skip-bigram top-1 table
// counted on the model's whole training split (models/recipe/skip_bigrams.ts). A far stronger
// reference for the future-token probes than the bigram of the probes' own fitting text.
//
// baselines.json: { format: "lm-probe-baselines", formatVersion: 1, binary, vocabSize, offsets,
//   fallback, countedOn: {description, documents, tokens},
//   skipBigram: [{ offset, next, topCount, total }] }, each array a {byteOffset, length} of binary:
//   next (uint16: the most frequent token at distance `offset` after token a; ties: smaller id;
//   never seen: fallback), topCount (uint32: how often that pair occurred), total (uint32: pairs
//   that start with a). Little-endian.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ProbeError } from '../errors';
import type { BigramTable } from './probes';

export interface SkipBigramTables {
  offsets: number[];
  vocabSize: number;
  fallback: number;
  countedOn: { description: string; documents: number; tokens: number };
  tables: { next: Uint16Array; top: Uint32Array; total: Uint32Array }[];
}

interface Slice {
  byteOffset: number;
  length: number;
}

export function writeBaselines(jsonPath: string, b: SkipBigramTables): void {
  const V = b.vocabSize;
  const per = V * (4 + 4 + 2);
  const buf = Buffer.alloc(per * b.offsets.length);
  const skipBigram = b.tables.map((t, i) => {
    const base = i * per;
    t.top.forEach((v, a) => buf.writeUInt32LE(v, base + 4 * a));
    t.total.forEach((v, a) => buf.writeUInt32LE(v, base + 4 * V + 4 * a));
    t.next.forEach((v, a) => buf.writeUInt16LE(v, base + 8 * V + 2 * a));
    return {
      offset: b.offsets[i],
      topCount: { byteOffset: base, length: V },
      total: { byteOffset: base + 4 * V, length: V },
      next: { byteOffset: base + 8 * V, length: V },
    };
  });
  const binary = basename(jsonPath).replace(/\.json$/, '') + '.bin';
  const header = {
    format: 'lm-probe-baselines',
    formatVersion: 1,
    binary,
    vocabSize: V,
    offsets: b.offsets,
    fallback: b.fallback,
    countedOn: b.countedOn,
    skipBigram,
  };
  writeFileSync(join(dirname(jsonPath), binary), buf);
  writeFileSync(jsonPath, JSON.stringify(header, null, 1) + '\n');
}

/** The training-split skip-bigram, as the probes' BigramTable, plus its provenance. */
export interface LoadedBaselines {
  path: string;
  skipBigram: BigramTable;
  topCount: Uint32Array[];
  total: Uint32Array[];
  countedOn: SkipBigramTables['countedOn'];
}

const cache = new Map<string, LoadedBaselines>();

export function loadBaselines(path: string, vocabSize: number): LoadedBaselines {
  const hit = cache.get(path);
  if (hit) return hit;
  const bad = (field: string, what: string): never => {
    throw new ProbeError('BAD_PACK', `baselines ${path}: field "${field}": ${what}`);
  };
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ProbeError('BAD_PACK', `baselines ${path}: not readable JSON: ${(e as Error).message}`);
  }
  if (h.format !== 'lm-probe-baselines') bad('format', 'expected "lm-probe-baselines"');
  if (h.formatVersion !== 1) bad('formatVersion', 'expected 1');
  if (h.vocabSize !== vocabSize) bad('vocabSize', `expected the pack's ${vocabSize}, got ${String(h.vocabSize)}`);
  if (typeof h.binary !== 'string') bad('binary', 'expected a file name');
  const dir = dirname(resolve(path));
  const bin = resolve(dir, h.binary as string);
  if (!bin.startsWith(dir + sep)) bad('binary', 'must stay inside the folder of the JSON file');
  let data: Buffer;
  try {
    data = readFileSync(bin);
  } catch (e) {
    throw new ProbeError('BAD_PACK', `baselines ${path}: cannot read ${bin}: ${(e as Error).message}`);
  }
  const fallback = h.fallback;
  if (!Number.isInteger(fallback) || (fallback as number) < 0 || (fallback as number) >= vocabSize) bad('fallback', 'expected a token id');
  const entries = h.skipBigram;
  if (!Array.isArray(entries) || entries.length === 0) bad('skipBigram', 'expected a non-empty array');
  const read = (s: Slice, bytes: 2 | 4, field: string): Uint16Array | Uint32Array => {
    if (!s || s.length !== vocabSize || !Number.isInteger(s.byteOffset) || s.byteOffset < 0 || s.byteOffset + bytes * s.length > data.length) {
      bad(field, `expected ${vocabSize} values inside ${h.binary as string}`);
    }
    const out = bytes === 2 ? new Uint16Array(s.length) : new Uint32Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = bytes === 2 ? data.readUInt16LE(s.byteOffset + 2 * i) : data.readUInt32LE(s.byteOffset + 4 * i);
    return out;
  };
  const offsets: number[] = [];
  const next: number[][] = [];
  const topCount: Uint32Array[] = [];
  const total: Uint32Array[] = [];
  (entries as Record<string, unknown>[]).forEach((e, i) => {
    if (!Number.isInteger(e.offset) || (e.offset as number) < 1) bad(`skipBigram[${i}].offset`, 'expected an integer >= 1');
    offsets.push(e.offset as number);
    const n = read(e.next as Slice, 2, `skipBigram[${i}].next`);
    for (const id of n) if (id >= vocabSize) bad(`skipBigram[${i}].next`, `token id ${id} outside the vocabulary`);
    next.push(Array.from(n));
    topCount.push(read(e.topCount as Slice, 4, `skipBigram[${i}].topCount`) as Uint32Array);
    total.push(read(e.total as Slice, 4, `skipBigram[${i}].total`) as Uint32Array);
  });
  const loaded: LoadedBaselines = {
    path,
    skipBigram: { offsets, next, fallback: offsets.map(() => fallback as number) },
    topCount,
    total,
    countedOn: h.countedOn as SkipBigramTables['countedOn'],
  };
  cache.set(path, loaded);
  return loaded;
}
