// Built graphs live on disk, one folder per (weights, config, graphs): the graphs are built on every
// open (20-30 ms for GPT-2 small or Pythia-160M: protobuf only, the weights stay external) and their
// bytes are part of the key, so a change to the builder never meets a stale cached graph.
//   <cache>/graphs/<key>/forward.onnx, head.onnx, w0.safetensors, w1.safetensors ...
// The w*.safetensors are hard links to the user's weight files (a copy where a link cannot be made,
// e.g. across file systems): ONNX Runtime refuses external data outside the model's folder, symlinks
// included, and a link costs no disk. The graphs point into them by byte range.
import { createHash } from 'node:crypto';
import { constants, copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ProbeError } from '../errors';
import { firstLine } from '../runtime';

export function cacheRoot(): string {
  return process.env.LM_PROBE_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lm-probe');
}

type HashIndex = Record<string, { size: number; mtimeMs: number; sha256: string }>;

/**
 * sha256 of a weight file. A Hugging Face cache blob is named by the sha256 of its content, so its
 * name is its hash; other files are hashed once and remembered by (path, size, mtime).
 */
export async function fileHash(realPath: string): Promise<string> {
  const name = basename(realPath);
  if (/^[0-9a-f]{64}$/.test(name) && basename(join(realPath, '..')) === 'blobs') return name;
  const st = statSync(realPath);
  const indexFile = join(cacheRoot(), 'weight-hashes.json');
  let index: HashIndex = {};
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8')) as HashIndex;
  } catch {
    /* first use */
  }
  const known = index[realPath];
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(realPath, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  const sha256 = h.digest('hex');
  index[realPath] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  try {
    mkdirSync(cacheRoot(), { recursive: true });
    writeFileSync(indexFile + '.tmp', JSON.stringify(index));
    renameSync(indexFile + '.tmp', indexFile);
  } catch {
    /* an index we cannot write only costs hashing again */
  }
  return sha256;
}

export interface CachedGraphs {
  dir: string;
  forward: string;
  head: string;
  /** True when this call built them (false: found in the cache). */
  built: boolean;
  /** 'link' or 'copy' per weight file. */
  weights: ('link' | 'copy')[];
}

/**
 * The folder of the graphs for these weight files, written when missing. `build` gets the name of
 * each weight file beside the graphs and returns the two graphs' bytes.
 */
export async function cachedGraphs(
  files: string[],
  extraKey: string,
  build: (weightName: (file: string) => string) => { forward: Uint8Array; head: Uint8Array },
): Promise<CachedGraphs> {
  const hashes = [];
  for (const f of files) hashes.push(await fileHash(f));
  const names = files.map((_, i) => `w${i}.safetensors`);
  const g = build((file) => {
    const i = files.indexOf(file);
    if (i < 0) throw new Error(`weight file ${file} is not one of the model's`);
    return names[i];
  });
  const graphs = [g.forward, g.head].map((b) => createHash('sha256').update(b).digest('hex'));
  const key = createHash('sha256').update(JSON.stringify({ hashes, extraKey, graphs })).digest('hex').slice(0, 32);
  const dir = join(cacheRoot(), 'graphs', key);
  const forward = join(dir, 'forward.onnx');
  const head = join(dir, 'head.onnx');
  const ok = existsSync(join(dir, 'complete')) && names.every((n, i) => existsSync(join(dir, n)) && statSync(join(dir, n)).size === statSync(files[i]).size);
  if (ok) return { dir, forward, head, built: false, weights: JSON.parse(readFileSync(join(dir, 'complete'), 'utf8')) as ('link' | 'copy')[] };
  // Built in a folder of its own and renamed into place, so that two processes never see half a build.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    const how: ('link' | 'copy')[] = [];
    files.forEach((f, i) => {
      try {
        linkSync(f, join(tmp, names[i]));
        how.push('link');
      } catch {
        // another file system, or links not allowed: a copy (a reflink where the file system has them)
        copyFileSync(f, join(tmp, names[i]), constants.COPYFILE_FICLONE);
        how.push('copy');
      }
    });
    writeFileSync(join(tmp, 'forward.onnx'), g.forward);
    writeFileSync(join(tmp, 'head.onnx'), g.head);
    writeFileSync(join(tmp, 'complete'), JSON.stringify(how));
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process got there first
    }
    return { dir, forward, head, built: true, weights: how };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof ProbeError) throw e;
    throw new ProbeError('RUNTIME', `cannot write the built graphs to ${dir} (set LM_PROBE_CACHE_DIR to a writable folder): ${firstLine(e)}`);
  }
}
