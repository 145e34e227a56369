// Pieces of the CLI that have exact answers: the UTF-8 validator and the bootstrap of delta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstInvalidUtf8 } from '../../src/cli/io';
import { bootstrapDelta, deltaOf, rng } from '../../src/cli/corpus';

test('firstInvalidUtf8: valid text, and the offset of each kind of bad sequence', () => {
  const enc = new TextEncoder();
  assert.equal(firstInvalidUtf8(enc.encode('plain, café, 中文, 😀')), -1);
  const cases: [number[], number][] = [
    [[0x61, 0xff], 1], // never valid
    [[0x61, 0x80], 1], // stray continuation
    [[0xc0, 0xaf], 0], // overlong
    [[0xe0, 0x80, 0xaf], 0], // overlong 3-byte
    [[0x61, 0x62, 0xed, 0xa0, 0x80], 2], // CESU-8 surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x61, 0xe4, 0xb8], 1], // truncated at the end
    [[0xe4, 0x41, 0x41], 0], // missing continuation
  ];
  for (const [bytes, at] of cases) assert.equal(firstInvalidUtf8(Uint8Array.from(bytes)), at, JSON.stringify(bytes));
});

test('deltaOf: (L_bw - L_fw) / mean, pooled over units', () => {
  const d = deltaOf([
    { tokens: 10, fwNats: 20, bwNats: 22 },
    { tokens: 30, fwNats: 60, bwNats: 62 },
  ]);
  const Lf = 80 / 40;
  const Lb = 84 / 40;
  assert.ok(Math.abs(d - (Lb - Lf) / ((Lb + Lf) / 2)) < 1e-15);
});

test('bootstrapDelta: deterministic for a seed, brackets the estimate, null for one unit', () => {
  const r = rng(7);
  const units = Array.from({ length: 50 }, () => {
    const n = 100 + Math.floor(r() * 100);
    const f = n * (2 + r() * 0.2);
    return { tokens: n, fwNats: f, bwNats: f * (1.01 + (r() - 0.5) * 0.02) };
  });
  const a = bootstrapDelta(units, 500, 1)!;
  const b = bootstrapDelta(units, 500, 1)!;
  assert.deepEqual(a, b);
  const d = deltaOf(units);
  assert.ok(a[0] < d && d < a[1], `${a[0]} < ${d} < ${a[1]}`);
  assert.ok(a[1] - a[0] < 0.01);
  assert.equal(bootstrapDelta(units.slice(0, 1), 100, 1), null);
});
