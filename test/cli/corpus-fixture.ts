// Deterministic small text files for the sharding tests (test/cli/shards.test.ts, test/engine/shards.test.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../../src/cli/corpus';

const WORDS = 'the a model token of in probe layer window file shard merge sum bootstrap delta forward backward text line code data'.split(' ');

/** n files of minWords..maxWords words in dir, named out of alphabetical order (so sorted order differs from the given one). */
export function makeCorpus(dir: string, n: number, seed: number, minWords = 40, maxWords = 400): string[] {
  const r = rng(seed);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = minWords + Math.floor(r() * (maxWords - minWords));
    const words: string[] = [];
    for (let w = 0; w < len; w++) words.push(WORDS[Math.floor(r() * WORDS.length)] + (r() < 0.1 ? '.\n' : ''));
    const f = join(dir, `doc-${String((i * 7) % n).padStart(2, '0')}-${i}.txt`);
    writeFileSync(f, words.join(' ') + '\n');
    files.push(f);
  }
  return files;
}
