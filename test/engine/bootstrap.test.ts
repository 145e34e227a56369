// The selection's delta interval: a block bootstrap recomputed here by brute force, its bounds, and
// the engine filling it in (or saying why not) on the bundled pack.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { blocksOf, bootstrapDelta, deltaOf, rng, selectionBlockTokens, selectionDeltaInterval, MIN_UNITS } from '../../src/engine/bootstrap';

const enginePromise = Engine.open(undefined, { providers: ['cpu'] });
after(async () => (await enginePromise).dispose());

function series(n: number, seed: number, shift: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => 1 + 4 * r() + shift);
}

test('blocks cover every token once and keep the sums', () => {
  const fw = series(1003, 1, 0);
  const bw = series(1003, 2, 0.3);
  const b = selectionBlockTokens(fw.length);
  assert.equal(b, 31);
  const units = blocksOf(fw, bw, b);
  assert.equal(units.length, Math.floor(1003 / 31));
  assert.equal(units.reduce((a, u) => a + u.tokens, 0), 1003);
  const sum = (x: Float64Array) => x.reduce((a, v) => a + v, 0);
  assert.ok(Math.abs(units.reduce((a, u) => a + u.fwNats, 0) - sum(fw)) < 1e-9);
  assert.ok(Math.abs(units.reduce((a, u) => a + u.bwNats, 0) - sum(bw)) < 1e-9);
  // delta of the blocks is the delta of the tokens
  const Lf = sum(fw) / 1003;
  const Lb = sum(bw) / 1003;
  assert.ok(Math.abs(deltaOf(units) - (Lb - Lf) / ((Lb + Lf) / 2)) < 1e-12);
});

test('the interval holds the point estimate, narrows with more text, and is reproducible', () => {
  const widths: number[] = [];
  for (const n of [400, 6400]) {
    const fw = series(n, 3, 0);
    const bw = series(n, 4, 0.2);
    const { interval } = selectionDeltaInterval(fw, bw);
    assert.ok(interval);
    const d = deltaOf(blocksOf(fw, bw, n));
    assert.ok(interval.lo <= d && d <= interval.hi, `${interval.lo} <= ${d} <= ${interval.hi}`);
    assert.deepEqual(selectionDeltaInterval(fw, bw).interval, interval);
    assert.ok(interval.blocks >= MIN_UNITS);
    widths.push(interval.hi - interval.lo);
  }
  // 16x the tokens: about a quarter of the width (sqrt); allow a wide margin for resampling noise
  assert.ok(widths[1] < widths[0] / 2.5, `${widths}`);
});

test('fewer than ten blocks: no interval, and the note says what is needed', () => {
  const { interval, note } = selectionDeltaInterval(series(79, 5, 0), series(79, 6, 0));
  assert.equal(interval, null);
  assert.match(note ?? '', /too short for an interval: 79 tokens, at least 80/);
  for (let n = 80; n <= 130; n++) assert.equal(selectionDeltaInterval(series(n, 5, 0), series(n, 6, 0)).interval?.blocks, Math.floor(n / selectionBlockTokens(n)), `${n}`);
  for (let n = 80; n <= 130; n++) assert.ok(Math.floor(n / selectionBlockTokens(n)) >= MIN_UNITS, `${n}`);
  assert.equal(bootstrapDelta(blocksOf(series(90, 1, 0), series(90, 2, 0), 10), 100, 1), null);
});

test('the engine fills the interval in for a long selection and explains its absence for a short one', async () => {
  const e = await enginePromise;
  const long = await e.probe('The quick brown fox jumps over the lazy dog, and then it runs away. '.repeat(12), { topK: 1 });
  const s = long.summary;
  assert.ok(s.delta !== null && s.deltaInterval);
  assert.ok(s.deltaInterval.lo <= s.delta && s.delta <= s.deltaInterval.hi);
  assert.equal(s.deltaInterval.level, 0.95);
  const short = await e.probe('Hello there.', { topK: 1 });
  assert.equal(short.summary.deltaInterval, null);
  assert.match(short.summary.deltaIntervalNote ?? '', /too short for an interval/);
  const fwOnly = await e.probe('Hello there.', { topK: 1, forwardOnly: true });
  assert.equal(fwOnly.summary.deltaInterval, null);
  assert.equal(fwOnly.summary.deltaIntervalNote, undefined);
});
