// Every kind of model LM Probe opens, by what the path holds: a model pack (manifest.json), a pair of
// Hugging Face folders (pair.json, or the path of such a file), or one Hugging Face folder
// (config.json). All of them become the same LoadedPack: nothing downstream knows which it was.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProbeError } from './errors';
import { loadPack, type LoadedPack } from './pack';
import { isHfFolder, openHfFolder, openPair } from './hf/source';

function isPairFile(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown }).format === 'lm-probe-pair';
  } catch {
    return false;
  }
}

export async function openModel(path: string): Promise<LoadedPack> {
  const p = resolve(path);
  if (existsSync(p) && statSync(p).isFile()) {
    if (isPairFile(p)) return openPair(p);
    throw new ProbeError('PACK_NOT_FOUND', `${p} is a file: expected a model pack folder, a Hugging Face model folder or a pair.json ("format": "lm-probe-pair")`);
  }
  if (existsSync(join(p, 'manifest.json')) && !isPairFile(join(p, 'manifest.json'))) return loadPack(p);
  if (existsSync(join(p, 'pair.json'))) return openPair(join(p, 'pair.json'));
  if (existsSync(join(p, 'manifest.json'))) return openPair(join(p, 'manifest.json'));
  if (existsSync(p) && isHfFolder(p)) return openHfFolder(p);
  return loadPack(p); // its errors say what a pack folder needs
}
