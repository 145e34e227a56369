// The exact fixture: a forward Markov chain and its time reversal. On any text the two directions'
// total surprisal are equal (the chain's probabilities telescope), whatever the windows, so this
// catches reversal, window alignment and BOS mistakes. The tables are float32, so equality holds
// to float32 rounding of the log-probabilities (about 1e-7 relative per token).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { MARKOV } from './helpers';

const enginePromise = Engine.open(MARKOV, { providers: ['cpu'] });
after(async () => (await enginePromise).dispose());

const texts: [string, string][] = [
  ['one token', 'x'],
  ['short (one window)', 'the cat'],
  ['exactly one window', 'abcdefghijklmno'],
  ['English, many windows', 'The quick brown fox jumps over the lazy dog. '.repeat(20)],
  ['hard Unicode', 'naïve café 中文 😀 👨‍👩‍👧 🇫🇷 e\u0301\r\n\tend  '.repeat(7)],
  ['code', 'function f(x) {\n\treturn x * 2; // twice\n}\n'.repeat(9)],
];

let maxRel = 0;
let maxAbs = 0;
for (const [name, text] of texts) {
  test(`Markov pair: forward total == backward total (${name})`, async () => {
    const e = await enginePromise;
    const r = await e.probe(text, { topK: 2 });
    const fw = r.summary.forward.totalBits;
    const bw = r.summary.backward!.totalBits;
    assert.ok(Number.isFinite(fw) && Number.isFinite(bw));
    const rel = Math.abs(fw - bw) / fw;
    maxRel = Math.max(maxRel, rel);
    maxAbs = Math.max(maxAbs, Math.abs(fw - bw));
    // float32 tables: ~6e-8 relative rounding per log-probability
    assert.ok(rel < 1e-6, `forward ${fw} bits vs backward ${bw} bits (relative ${rel.toExponential(2)}, ${r.tokens.length} tokens, ${r.runtime.windows} windows)`);
    assert.ok(Math.abs(r.summary.delta!) < 1e-6);
  });
}

test('Markov pair: a per-direction mistake would show (forward alone differs from backward per token)', async () => {
  const e = await enginePromise;
  const r = await e.probe('The quick brown fox jumps over the lazy dog.', { topK: 0 });
  // Totals agree but individual tokens do not: the equality is not trivial.
  const diffs = r.tokens.filter((t) => Math.abs(t.forward.surprisalBits - t.backward!.surprisalBits) > 0.1).length;
  assert.ok(diffs > r.tokens.length / 2, `only ${diffs} of ${r.tokens.length} tokens differ`);
});

test('Markov pair: maximum relative error reported', () => {
  console.log(`Markov fw/bw total surprisal: max relative difference ${maxRel.toExponential(3)}, max absolute ${maxAbs.toExponential(3)} bits`);
  assert.ok(maxRel < 1e-6);
});
