// The future-token probe file: a JSON header (probes.json) next to one float32 little-endian
// binary (probes.bin).
//
// probes.json
//   format: "lm-probe-probes", formatVersion: 1
//   binary: file name of the binary, relative to the JSON's folder (must stay inside it)
//   dtype: "float32", byteOrder: "little"
//   width: D (the pack's width); modelLayers: L; layers: hidden-state layers probed (0 = embeddings
//   ... L = last block); offsets: k values (1, 2, 3)
//   maps[]: one per (layer, offset): { layer, offset, identity, lambda, heldOutMse,
//     A: { byteOffset, shape: [D, D] }, b: { byteOffset, shape: [D] } }
//     The probe maps the residual state x (layer `layer`, position t) to y = x A + b, A row-major
//     [D_in][D_out]; y stands for the final-layer residual at position t+k-1 and is decoded through
//     the pack's head (final norm + unembedding) into a prediction of token t+k. For layer L and
//     k = 1 the map is the identity (identity: true) and the model's own logits are used.
//   lambdaGrid, selection: the ridge penalties tried and how one was chosen (held-out MSE)
//   targetSpace: "normalized" when y stands for the final residual after a layer norm without
//     affine terms (the head's own final norm leaves it unchanged), "residual" when as it is
//   fittedOn: { files, tokens, heldOutTokens, windows, pack }
//   bigram: { offsets, next[offsetIndex][token] (most frequent token at distance k after `token`
//     in the fitting text, -1 when `token` never occurred), fallback[offsetIndex] (the most
//     frequent token overall, used for -1) }
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ProbeError } from '../errors';

export const PROBES_FORMAT = 'lm-probe-probes';

export interface ProbeMapHeader {
  layer: number;
  offset: number;
  identity: boolean;
  lambda: number | null;
  heldOutMse: number | null;
  A: { byteOffset: number; shape: [number, number] };
  b: { byteOffset: number; shape: [number] };
}

export interface BigramTable {
  offsets: number[];
  next: number[][];
  fallback: number[];
}

export interface ProbesHeader {
  format: typeof PROBES_FORMAT;
  formatVersion: 1;
  binary: string;
  dtype: 'float32';
  byteOrder: 'little';
  width: number;
  modelLayers: number;
  vocabSize: number;
  layers: number[];
  offsets: number[];
  maps: ProbeMapHeader[];
  lambdaGrid: number[];
  /** "normalized": the maps predict the final-layer residual after a layer norm without affine terms (mean 0, variance 1); "residual": as it is. Absent means "residual". */
  targetSpace?: 'residual' | 'normalized';
  selection: string;
  fittedOn: { files: string[]; tokens: number; heldOutTokens: number; windows: number; pack: string };
  bigram: BigramTable | null;
  createdAt: string;
}

export interface LoadedMap extends ProbeMapHeader {
  /** Row-major D x D. */
  a: Float32Array;
  bias: Float32Array;
}

export interface LoadedProbes {
  /** Absolute path of probes.json. */
  path: string;
  header: ProbesHeader;
  maps: LoadedMap[];
  /** map for (layer, offset), or undefined. */
  get(layer: number, offset: number): LoadedMap | undefined;
}

function bad(path: string, what: string): never {
  throw new ProbeError('BAD_PACK', `probe file ${path}: ${what}`);
}

/**
 * Loads a probe file and checks it against the pack's dimensions. `root`, when given, is a folder
 * the file must resolve inside (the pack folder for the pack's own probes).
 */
export function loadProbes(path: string, expect: { width: number; layers: number; vocabSize: number }, root?: string): LoadedProbes {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new ProbeError('BAD_ARGUMENT', `probe file ${abs} does not exist`);
  const real = realpathSync(abs);
  if (root !== undefined && !inside(realpathSync(root), real)) bad(abs, `resolves outside ${root}`);
  if (!statSync(real).isFile()) bad(abs, 'is not a file');
  let h: ProbesHeader;
  try {
    h = JSON.parse(readFileSync(real, 'utf8')) as ProbesHeader;
  } catch (e) {
    bad(abs, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof h !== 'object' || h === null || h.format !== PROBES_FORMAT) bad(abs, `field "format": expected "${PROBES_FORMAT}"`);
  if (h.formatVersion !== 1) bad(abs, `field "formatVersion": expected 1, got ${JSON.stringify(h.formatVersion)}`);
  if (h.dtype !== 'float32' || h.byteOrder !== 'little') bad(abs, 'fields "dtype"/"byteOrder": expected "float32"/"little"');
  if (h.width !== expect.width) bad(abs, `field "width": the probes were fitted for width ${h.width}, the model pack has width ${expect.width}`);
  if (h.modelLayers !== expect.layers) bad(abs, `field "modelLayers": the probes were fitted for ${h.modelLayers} layers, the model pack has ${expect.layers}`);
  if (!Array.isArray(h.maps) || h.maps.length === 0) bad(abs, 'field "maps": expected a non-empty array');
  if (typeof h.binary !== 'string' || isAbsolute(h.binary)) bad(abs, 'field "binary": expected a file name relative to the JSON file');
  const dir = dirname(real);
  const binPath = resolve(dir, h.binary);
  if (!inside(dir, binPath)) bad(abs, `field "binary": ${h.binary} leaves the folder of the JSON file`);
  if (!existsSync(binPath)) bad(abs, `field "binary": ${binPath} does not exist`);
  const binReal = realpathSync(binPath);
  if (!inside(dir, binReal)) bad(abs, `field "binary": ${h.binary} resolves outside the folder of the JSON file`);
  const buf = readFileSync(binReal);
  const D = h.width;
  const maps: LoadedMap[] = h.maps.map((m, i) => {
    const where = `maps[${i}] (layer ${m?.layer}, offset ${m?.offset})`;
    if (!Number.isInteger(m.layer) || m.layer < 0 || m.layer > expect.layers) bad(abs, `${where}: layer must be an integer in 0..${expect.layers}`);
    if (!Number.isInteger(m.offset) || m.offset < 1) bad(abs, `${where}: offset must be a positive integer`);
    if (!m.A || m.A.shape?.[0] !== D || m.A.shape?.[1] !== D) bad(abs, `${where}: A.shape must be [${D}, ${D}]`);
    if (!m.b || m.b.shape?.[0] !== D) bad(abs, `${where}: b.shape must be [${D}]`);
    const a = f32(buf, m.A.byteOffset, D * D, () => bad(abs, `${where}: A lies outside ${h.binary} (${buf.length} bytes)`));
    const bias = f32(buf, m.b.byteOffset, D, () => bad(abs, `${where}: b lies outside ${h.binary} (${buf.length} bytes)`));
    for (const v of a) if (!Number.isFinite(v)) bad(abs, `${where}: A holds a non-finite value`);
    return { ...m, a, bias };
  });
  const index = new Map(maps.map((m) => [`${m.layer}:${m.offset}`, m]));
  if (index.size !== maps.length) bad(abs, 'field "maps": a (layer, offset) pair appears twice');
  if (h.bigram) {
    const bg = h.bigram;
    if (!Array.isArray(bg.next) || bg.next.length !== bg.offsets.length || bg.next.some((r) => r.length !== expect.vocabSize)) {
      bad(abs, `field "bigram": expected one table of ${expect.vocabSize} entries per offset`);
    }
  }
  return { path: abs, header: h, maps, get: (l, k) => index.get(`${l}:${k}`) };
}

function f32(buf: Buffer, byteOffset: number, count: number, fail: () => never): Float32Array {
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0 || byteOffset + count * 4 > buf.length) fail();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(byteOffset + 4 * i);
  return out;
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

export interface ProbeMapData {
  layer: number;
  offset: number;
  identity: boolean;
  lambda: number | null;
  heldOutMse: number | null;
  A: ArrayLike<number>;
  b: ArrayLike<number>;
}

/** Writes probes.json and the binary next to it (same base name, .bin). */
export function writeProbes(
  jsonPath: string,
  meta: Omit<ProbesHeader, 'format' | 'formatVersion' | 'binary' | 'dtype' | 'byteOrder' | 'maps'>,
  maps: ProbeMapData[],
): ProbesHeader {
  const abs = resolve(jsonPath);
  mkdirSync(dirname(abs), { recursive: true });
  const binName = basename(abs).replace(/\.json$/i, '') + '.bin';
  const D = meta.width;
  const buf = Buffer.alloc(maps.length * (D * D + D) * 4);
  let off = 0;
  const headers: ProbeMapHeader[] = maps.map((m) => {
    const aOff = off;
    for (let i = 0; i < D * D; i++, off += 4) buf.writeFloatLE(m.A[i], off);
    const bOff = off;
    for (let i = 0; i < D; i++, off += 4) buf.writeFloatLE(m.b[i], off);
    return {
      layer: m.layer,
      offset: m.offset,
      identity: m.identity,
      lambda: m.lambda,
      heldOutMse: m.heldOutMse,
      A: { byteOffset: aOff, shape: [D, D] },
      b: { byteOffset: bOff, shape: [D] },
    };
  });
  const header: ProbesHeader = {
    format: PROBES_FORMAT,
    formatVersion: 1,
    binary: binName,
    dtype: 'float32',
    byteOrder: 'little',
    ...meta,
    maps: headers,
  };
  writeFileSync(join(dirname(abs), binName), buf);
  writeFileSync(abs, JSON.stringify(header) + '\n');
  return header;
}
