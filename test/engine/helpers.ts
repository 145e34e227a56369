// Shared paths and helpers of the engine tests (real engine, real fixture ONNX models).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const MARKOV = join(ROOT, 'test', 'fixtures', 'markov-pack');
export const TINY = join(ROOT, 'test', 'fixtures', 'tiny-gpt');
export const CLI = join(ROOT, 'dist', 'cli.js');

/** Copies a fixture pack into a fresh temp folder and lets `edit` change its manifest. */
export function tempPack(from: string, edit?: (m: Record<string, unknown>, dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-pack-'));
  cpSync(from, dir, { recursive: true });
  if (edit) {
    const p = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    edit(m, dir);
    writeFileSync(p, JSON.stringify(m, null, 1));
  }
  return dir;
}

/**
 * Checks the offsets contract of schema.ts: in order, covering every UTF-16 unit of the text;
 * tokens overlap only where they split one character (then they share that character's range).
 */
export function checkCover(text: string, offsets: [number, number][]): string | null {
  if (offsets.length === 0) return text.length === 0 ? null : 'no tokens';
  if (offsets[0][0] !== 0) return `first token starts at ${offsets[0][0]}`;
  if (offsets[offsets.length - 1][1] !== text.length) return `last token ends at ${offsets[offsets.length - 1][1]}, text length ${text.length}`;
  for (let i = 0; i < offsets.length; i++) {
    const [s, e] = offsets[i];
    if (!(e > s)) return `token ${i} has an empty range [${s}, ${e})`;
    if (i === 0) continue;
    const [ps, pe] = offsets[i - 1];
    if (s < ps) return `token ${i} starts before token ${i - 1}`;
    if (s > pe) return `gap between tokens ${i - 1} and ${i}: [${pe}, ${s})`;
    if (s < pe) {
      // overlap allowed only inside one character: [s, pe) must be one code point
      const cp = text.codePointAt(s)!;
      const units = cp > 0xffff ? 2 : 1;
      if (pe - s !== units) return `tokens ${i - 1} and ${i} overlap on [${s}, ${pe}), more than one character`;
    }
  }
  return null;
}
