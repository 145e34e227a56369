// How fit-probes and eval-probes pick text under a token budget: evenly through all the files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evenPick, sampleEvalWindows } from '../../src/engine/analysis/futureLens';

// One token per character, ids from the character codes: token counts are exact.
const charEngine = { tokenize: (text: string) => ({ ids: Array.from(text, (c) => c.charCodeAt(0)) }) };

test('evenPick: a share f of the items, evenly spaced and centered; the middle one when f n < 1', () => {
  const picked = (n: number, f: number) => Array.from({ length: n }, (_, i) => i).filter((i) => evenPick(i, f));
  assert.deepEqual(picked(8, 0.25), [2, 6]);
  assert.deepEqual(picked(5, 1), [0, 1, 2, 3, 4]);
  assert.deepEqual(picked(10, 0.1), [5]);
  assert.equal(picked(1000, 0.1).length, 100);
});

test('eval-probes sampling: windows spread over every file, not the first files only; everything when it fits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-sample-'));
  // file n holds only the letter n (and newlines), so a chunk's ids say which file it came from
  const line = (c: string) => c.repeat(56) + '\n';
  const files = ['a', 'b', 'c'].map((n) => {
    const f = join(dir, `${n}.txt`);
    writeFileSync(f, line(n).repeat(3000)); // 171,000 characters each
    return f;
  });
  const W = 255;
  const chunks = sampleEvalWindows(charEngine, files, 20_000, W, 3);
  const tokens = chunks.reduce((a, c) => a + c.windows.reduce((b, [, len]) => b + len, 0), 0);
  assert.ok(tokens <= 20_000 && tokens >= 18_000, `tokens ${tokens}`);
  const perFile = [0, 0, 0];
  for (const c of chunks) perFile[c.ids[0] - 'a'.charCodeAt(0)] += c.windows.length;
  for (const n of perFile) assert.ok(n >= 20, `windows per file: ${perFile}`);
  // a budget above the text: every window of every 64 KB chunk, in order
  const all = sampleEvalWindows(charEngine, files, 10_000_000, W, 3);
  const total = all.reduce((a, c) => a + c.windows.reduce((b, [, len]) => b + len, 0), 0);
  assert.equal(total, 3 * 57 * 3000);
  for (const c of all) assert.equal(c.windows.reduce((b, [, len]) => b + len, 0), c.ids.length);
});
