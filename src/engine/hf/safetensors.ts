// Safetensors headers (https://huggingface.co/docs/safetensors): 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}} and the data. We read headers
// only: the weights are handed to ONNX Runtime as external data by byte range (graphCache.ts), so
// they never pass through JavaScript. Every check that a hostile or truncated file could fail is
// made here, with the file and tensor named.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, isAbsolute, sep } from 'node:path';
import { ProbeError } from '../errors';

/** The dtypes a graph can take (Cast to float32 in the graph where needed). */
export type WeightDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };

export interface TensorInfo {
  name: string;
  dtype: WeightDtype;
  shape: number[];
  /** Absolute path of the file (symlinks resolved: Hugging Face cache snapshots link into blobs/). */
  file: string;
  /** Byte offset of the tensor's data from the start of the file, and its length. */
  offset: number;
  byteLength: number;
}

export interface WeightSet {
  tensors: Map<string, TensorInfo>;
  /** Real paths of the weight files, in shard order. */
  files: string[];
  totalBytes: number;
}

const MAX_HEADER = 100 * 1024 * 1024;

function bad(msg: string): never {
  throw new ProbeError('BAD_PACK', msg);
}

/** Parses one safetensors file's header; tensors of other dtypes are refused when `names` asks for them. */
export function readHeader(path: string): Map<string, TensorInfo> {
  const file = realpathSync(path);
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 8) bad(`${path}: not a safetensors file (${size} bytes, shorter than the 8-byte header length)`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(Math.min(MAX_HEADER, size - 8))) {
      bad(`${path}: safetensors header length ${n} is past the end of the file (${size} bytes) or over ${MAX_HEADER} bytes: the file is truncated or not safetensors`);
    }
    const hb = Buffer.alloc(Number(n));
    readSync(fd, hb, 0, hb.length, 8);
    let header: unknown;
    try {
      header = JSON.parse(hb.toString('utf8'));
    } catch (e) {
      bad(`${path}: safetensors header is not valid JSON: ${(e as Error).message}`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) bad(`${path}: safetensors header is not a JSON object`);
    const dataStart = 8 + hb.length;
    const dataLen = size - dataStart;
    const out = new Map<string, TensorInfo>();
    const spans: [number, number, string][] = [];
    for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const where = `${path}: tensor ${JSON.stringify(name)}`;
      if (!t || typeof t !== 'object') bad(`${where}: expected {dtype, shape, data_offsets}`);
      if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) {
        bad(`${where}: unknown dtype ${JSON.stringify(t.dtype)} (safetensors dtypes: ${Object.keys(DTYPE_BYTES).join(', ')})`);
      }
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(t.shape)}`);
      const o = t.data_offsets;
      if (!Array.isArray(o) || o.length !== 2 || !o.every((d) => Number.isSafeInteger(d) && d >= 0) || o[1] < o[0]) {
        bad(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(o)}`);
      }
      const [b, e] = o as [number, number];
      if (e > dataLen) bad(`${where}: data_offsets [${b}, ${e}] run past the end of the data (${dataLen} bytes): the file is truncated`);
      const count = (t.shape as number[]).reduce((a, d) => a * d, 1);
      if (count * DTYPE_BYTES[t.dtype] !== e - b) {
        bad(`${where}: ${e - b} bytes of data for shape [${(t.shape as number[]).join(', ')}] of ${t.dtype} (${count * DTYPE_BYTES[t.dtype]} expected)`);
      }
      spans.push([b, e, name]);
      out.set(name, { name, dtype: t.dtype as WeightDtype, shape: t.shape as number[], file, offset: dataStart + b, byteLength: e - b });
    }
    spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i][0] < spans[i - 1][1]) bad(`${path}: tensors ${JSON.stringify(spans[i - 1][2])} and ${JSON.stringify(spans[i][2])} overlap in the data`);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !isAbsolute(r));
}

/** The weights of a Hugging Face folder: model.safetensors, or the shards named by model.safetensors.index.json. */
export function readWeights(dir: string): WeightSet {
  const index = join(dir, 'model.safetensors.index.json');
  let names: string[];
  let weightMap: Record<string, string> | null = null;
  if (existsSync(join(dir, 'model.safetensors'))) {
    names = ['model.safetensors'];
  } else if (existsSync(index)) {
    let j: { weight_map?: unknown };
    try {
      j = JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: unknown };
    } catch (e) {
      bad(`${index}: not valid JSON: ${(e as Error).message}`);
    }
    if (!j.weight_map || typeof j.weight_map !== 'object') bad(`${index}: expected a "weight_map" object {tensor: file}`);
    weightMap = j.weight_map as Record<string, string>;
    names = [...new Set(Object.values(weightMap))];
    for (const f of names) {
      if (typeof f !== 'string' || isAbsolute(f) || !inside(dir, resolve(dir, f)) || !f.endsWith('.safetensors')) {
        bad(`${index}: weight_map names ${JSON.stringify(f)}: expected a .safetensors file inside the model folder`);
      }
      if (!existsSync(join(dir, f))) bad(`${index}: shard ${f} is missing from ${dir}`);
    }
  } else {
    const pt = ['pytorch_model.bin', 'model.bin', 'tf_model.h5', 'flax_model.msgpack'].find((f) => existsSync(join(dir, f)));
    bad(
      `${dir}: no model.safetensors (nor model.safetensors.index.json)` +
        (pt ? `; ${pt} is not read (pickle and other formats can run code or need their framework): convert it to safetensors` : ''),
    );
  }
  const tensors = new Map<string, TensorInfo>();
  const files: string[] = [];
  let totalBytes = 0;
  for (const f of names) {
    const path = join(dir, f);
    const h = readHeader(path);
    files.push(realpathSync(path));
    totalBytes += statSync(path).size;
    for (const [k, t] of h) {
      if (tensors.has(k)) bad(`${dir}: tensor ${JSON.stringify(k)} is in two shards (${basename(tensors.get(k)!.file)} and ${f})`);
      if (weightMap && weightMap[k] !== undefined && weightMap[k] !== f) bad(`${index}: tensor ${JSON.stringify(k)} is mapped to ${weightMap[k]} but stored in ${f}`);
      tensors.set(k, t);
    }
  }
  if (weightMap) {
    for (const k of Object.keys(weightMap)) if (!tensors.has(k)) bad(`${index}: tensor ${JSON.stringify(k)} is mapped to ${weightMap[k]} but that shard does not hold it`);
  }
  return { tensors, files, totalBytes };
}

/** A tensor that a graph needs, checked for a float dtype and the expected shape. */
export function needTensor(w: WeightSet, name: string, shape: number[], where: string): TensorInfo {
  const t = w.tensors.get(name);
  if (!t) bad(`${where}: weight ${JSON.stringify(name)} is missing from the safetensors`);
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') bad(`${where}: weight ${JSON.stringify(name)} is ${t.dtype}: expected F32, F16 or BF16 (quantized weights are not supported)`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    bad(`${where}: weight ${JSON.stringify(name)} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from config.json`);
  }
  return t;
}
