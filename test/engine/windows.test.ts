// The overlapping-window plan: every token scored exactly once, with at least half a window of
// history after the first window, and every window full length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planWindows } from '../../src/engine/surprisal';

test('planWindows: each token once, history >= ceil(w/2) past the first window', () => {
  for (const w of [1, 2, 3, 7, 15, 16, 255]) {
    for (const n of [1, 2, w - 1, w, w + 1, 2 * w, 3 * w + 5, 1000]) {
      if (n < 1) continue;
      const ws = planWindows(n, w);
      const seen = new Int32Array(n);
      const h = Math.min(Math.ceil(w / 2), w - 1);
      for (const [k, win] of ws.entries()) {
        assert.ok(win.start >= 0 && win.start + win.length <= n, `w=${w} n=${n} window ${k} out of range`);
        assert.equal(win.length, Math.min(n, w));
        assert.ok(win.scoreFrom >= win.start && win.scoreTo <= win.start + win.length);
        for (let t = win.scoreFrom; t < win.scoreTo; t++) {
          seen[t]++;
          if (k > 0) assert.ok(t - win.start >= h, `w=${w} n=${n}: token ${t} has ${t - win.start} < ${h} history`);
        }
      }
      assert.ok(seen.every((c) => c === 1), `w=${w} n=${n}: some token scored ${seen.find((c) => c !== 1)} times`);
    }
  }
});

test('planWindows: stride is about half a window', () => {
  const ws = planWindows(1000, 255);
  assert.equal(ws.length, Math.ceil((1000 - 255) / 127) + 1);
  assert.deepEqual(planWindows(0, 10), []);
});
