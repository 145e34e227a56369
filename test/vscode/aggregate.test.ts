// Surprisal summed per word, identifier and line (src/engine/aggregate.ts) on real probes of the
// bundled pack: each token counted at most once, lines adding up to the selection's total, a
// word's sum equal to the sum of its own tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine } from '../../src/engine/engine';
import type { ProbeResult } from '../../src/engine/schema';
import { aggregate, unitRanges } from '../../src/engine/aggregate';

const ROOT = resolve(__dirname, '..', '..');
const PACK = join(ROOT, 'models', 'default');
const skip = existsSync(join(PACK, 'manifest.json')) ? false : 'models/default is missing';

const PROSE = "The model's guesses are well-known:\r\nit reads words, not BPE pieces.\n\n  Indented line, naïve café 2024.\n";
const CODE = 'const lm_probe = $el.querySelector(x2);\n\tif (lm_probe) return lm_probe.value;\n';

let engine: Engine;
let prose: ProbeResult, code: ProbeResult;
before(async () => {
  if (skip) return;
  engine = await Engine.open(PACK);
  prose = await engine.probe(PROSE, { topK: 0 });
  code = await engine.probe(CODE, { topK: 0 });
});
after(() => engine?.dispose());

const bits = (r: ProbeResult) => r.tokens.map((t) => t.forward.surprisalBits);

test('per line: one sum per line, adding up to the total (every token counted once)', { skip }, () => {
  for (const r of [prose, code]) {
    const lines = aggregate(r.text, r.tokens, bits(r), 'line');
    const total = bits(r).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(lines.reduce((a, s) => a + s.sum, 0) - total) < 1e-9);
    assert.ok(Math.abs(total - r.summary.forward.totalBits) < 1e-6);
    // consecutive token runs that together cover every token
    let next = 0;
    for (const s of lines) {
      assert.equal(s.firstToken, next);
      next = s.lastToken + 1;
    }
    assert.equal(next, r.tokens.length);
  }
  // CRLF and LF both end lines; a blank line has no token of its own
  const ranges = unitRanges(PROSE, 'line').map(([a, b]) => PROSE.slice(a, b));
  assert.deepEqual(ranges.slice(0, 3), ["The model's guesses are well-known:", 'it reads words, not BPE pieces.', '']);
  const first = aggregate(PROSE, prose.tokens, bits(prose), 'line')[0];
  assert.equal(PROSE.slice(first.start, first.end), "The model's guesses are well-known:");
});

test("per word: a word's sum is the sum of the tokens that start in it; whitespace and punctuation belong to no word", { skip }, () => {
  const words = aggregate(PROSE, prose.tokens, bits(prose), 'word');
  const texts = words.map((w) => PROSE.slice(w.start, w.end));
  for (const w of ["model's", 'well-known', 'naïve', 'café', '2024']) assert.ok(texts.includes(w), `${w} not in ${texts.join('|')}`);
  for (const w of words) {
    let sum = 0;
    for (let i = w.firstToken; i <= w.lastToken; i++) sum += prose.tokens[i].forward.surprisalBits;
    assert.ok(Math.abs(sum - w.sum) < 1e-9);
    // every token of the run starts (after its whitespace) inside the word
    for (let i = w.firstToken; i <= w.lastToken; i++) {
      const t = prose.tokens[i];
      const at = t.start + (t.text.length - t.text.trimStart().length);
      assert.ok(at >= w.start && at < w.end, `token ${i} ${JSON.stringify(t.text)} outside ${PROSE.slice(w.start, w.end)}`);
    }
  }
  const counted = words.reduce((a, w) => a + w.lastToken - w.firstToken + 1, 0);
  assert.ok(counted < prose.tokens.length, 'punctuation and whitespace tokens are in no word');
});

test('per identifier: snake_case, $names and digits stay one identifier; operators are in none', { skip }, () => {
  const ids = aggregate(CODE, code.tokens, bits(code), 'identifier').map((s) => CODE.slice(s.start, s.end));
  assert.deepEqual(ids, ['const', 'lm_probe', '$el', 'querySelector', 'x2', 'if', 'lm_probe', 'return', 'lm_probe', 'value']);
  // as words, snake_case splits
  assert.ok(aggregate(CODE, code.tokens, bits(code), 'word').some((s) => CODE.slice(s.start, s.end) === 'lm'));
});
