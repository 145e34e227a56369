// The panel's pure logic on real probes (the markov pair fixture and the bundled pack): the chart's
// buckets and per-line means, the "most surprising" list ranked by the heatmap's measure, and the
// summary's Δ with its interval (or the reason it has none) for a long text and a one-token one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine';
import type { ProbeResult } from '../../src/engine/schema';
import { envelope, lineSeries, panRange, quantile, tokenSeries, zoomRange } from '../../src/vscode/panel/series';
import { rankByMeasure } from '../../src/vscode/panel/ranking';
import { deltaShown, formatInterval, MIN_DELTA_TOKENS, summaryMetrics } from '../../src/vscode/panel/summary';

const PAIR = join(__dirname, '..', 'fixtures', 'markov-pack');
const SAMPLE = readFileSync(join(__dirname, '..', 'e2e', 'fixtures', 'sample.md'), 'utf8');
const LONG = Array.from({ length: 12 }, () => SAMPLE).join('\n');

async function probe(text: string): Promise<ProbeResult> {
  const e = await Engine.open(PAIR);
  try {
    return await e.probe(text, { topK: 1 });
  } finally {
    await e.dispose();
  }
}

let long: ProbeResult;
test('probe a long text on the markov pair', async () => {
  long = await probe(LONG);
  assert.ok(long.tokens.length > 1000, `${long.tokens.length} tokens`);
});

test('buckets cover every token once; each holds its mean, percentiles and its most surprising token', () => {
  const pts = tokenSeries(long.tokens, 'forward');
  const b = envelope(pts, 0, pts.length - 1, 70);
  assert.equal(b.length, 70);
  assert.equal(b.reduce((a, x) => a + x.n, 0), pts.length);
  for (let k = 1; k < b.length; k++) assert.equal(b[k].x0, b[k - 1].x1 + 1, 'consecutive, no gap, no overlap');
  const total = b.reduce((a, x) => a + x.mean * x.n, 0);
  const direct = pts.reduce((a, p) => a + p.y, 0);
  assert.ok(Math.abs(total - direct) < 1e-6 * direct);
  for (const x of b) {
    const ys = pts.slice(x.x0, x.x1 + 1).map((p) => p.y);
    assert.ok(x.q1 <= x.q3 && x.q3 <= x.max);
    assert.equal(x.max, Math.max(...ys));
    assert.equal(long.tokens[x.maxAt].forward.surprisalBits, x.max);
  }
  // the middle half band is narrower than the min-max range it replaces in a long text
  const widths = b.map((x) => x.q3 - x.q1);
  const ranges = b.map((x) => x.max - Math.min(...pts.slice(x.x0, x.x1 + 1).map((p) => p.y)));
  assert.ok(widths.reduce((a, w) => a + w, 0) < ranges.reduce((a, w) => a + w, 0));
});

test('a zoomed range narrower than the plot gets one point per token', () => {
  const pts = tokenSeries(long.tokens, 'backward');
  const b = envelope(pts, 100, 139, 70);
  assert.equal(b.length, 40);
  assert.ok(b.every((x, k) => x.n === 1 && x.x === 100 + k && x.mean === long.tokens[100 + k].backward!.surprisalBits));
});

test('quantile interpolates', () => {
  assert.equal(quantile([0, 10], 0.1), 1);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('per-line means: one point per source line, numbered from the selection\'s first line', () => {
  const first = 7;
  const lines = lineSeries(long.text, long.tokens, 'forward', first);
  // recompute by hand: the line of each token's first character
  const byLine = new Map<number, number[]>();
  for (const t of long.tokens) {
    const line = first + (long.text.slice(0, t.start).match(/\n/g)?.length ?? 0);
    byLine.set(line, [...(byLine.get(line) ?? []), t.forward.surprisalBits]);
  }
  assert.equal(lines.length, byLine.size);
  for (const p of lines) {
    const ys = byLine.get(p.x)!;
    assert.ok(Math.abs(p.y - ys.reduce((a, y) => a + y, 0) / ys.length) < 1e-9, `line ${p.x}`);
    assert.equal(long.tokens[p.i].forward.surprisalBits, Math.max(...ys), 'a line names its most surprising token');
  }
  assert.equal(lines[0].x, first);
});

test('zoom and pan stay inside the text', () => {
  assert.deepEqual(zoomRange([0, 1000], [0, 1000], 0.25), [375, 625]);
  assert.deepEqual(zoomRange([0, 100], [0, 1000], 4, 0), [0, 400]);
  assert.deepEqual(zoomRange([0, 10], [0, 1000], 0.01), [3, 7], 'never narrower than 4');
  assert.deepEqual(panRange([900, 950], [0, 1000], 0.5), [925, 975]);
  assert.deepEqual(panRange([950, 1000], [0, 1000], 0.5), [950, 1000]);
  assert.deepEqual(panRange([10, 60], [0, 1000], -0.5), [0, 50]);
});

test('"most surprising" ranks by the measure the heatmap shows', () => {
  const toks = long.tokens;
  const fw = rankByMeasure(toks, 'forward', 10);
  const bw = rankByMeasure(toks, 'backward', 10);
  const diff = rankByMeasure(toks, 'difference', 10);
  const rank = rankByMeasure(toks, 'rank', 10);
  const maxOf = (f: (i: number) => number) => Math.max(...toks.map((_, i) => f(i)));
  assert.equal(toks[fw.order[0]].forward.surprisalBits, maxOf((i) => toks[i].forward.surprisalBits));
  assert.equal(toks[bw.order[0]].backward!.surprisalBits, maxOf((i) => toks[i].backward!.surprisalBits));
  const d = (i: number) => Math.abs(toks[i].backward!.surprisalBits - toks[i].forward.surprisalBits);
  assert.equal(d(diff.order[0]), maxOf(d));
  assert.equal(toks[rank.order[0]].forward.rank, maxOf((i) => toks[i].forward.rank));
  for (const r of [fw, bw, diff, rank]) assert.equal(r.order.length, 10);
  assert.notDeepEqual(fw.order, bw.order, 'the two directions find different tokens hottest');
  assert.match(diff.columnTitle, /bits/);
  for (let k = 1; k < 10; k++) assert.ok(d(diff.order[k - 1]) >= d(diff.order[k]));
});

test('a long selection shows Δ with its 95% interval; a one-token selection shows no Δ and says what it needs', async () => {
  const m = summaryMetrics(long);
  const delta = m.find((x) => x.label === 'Δ asymmetry')!;
  assert.ok(long.summary.deltaInterval, long.summary.deltaIntervalNote);
  assert.equal(delta.sub, formatInterval(long.summary.deltaInterval!));
  assert.match(delta.sub!, /^95% CI [+−]\d\.\d{3} … [+−]\d\.\d{3}$/);
  assert.match(delta.title, /Δ > 0: the backward model finds this text harder/);
  assert.match(delta.title, /blocks of \d+ consecutive tokens/);
  assert.match(m.find((x) => x.label === 'Forward')!.title, /ln \d+ = \d+\.\d\d nats/);

  const one = await probe('cat');
  assert.ok(one.tokens.length < MIN_DELTA_TOKENS, `${one.tokens.length} tokens`);
  assert.equal(deltaShown(one.summary), false);
  const d1 = summaryMetrics(one).find((x) => x.label === 'Δ asymmetry')!;
  assert.equal(d1.value, '–');
  assert.equal(d1.sub, `needs ≥ ${MIN_DELTA_TOKENS} tokens`);

  const short = await probe(SAMPLE.slice(0, 40));
  assert.ok(short.tokens.length >= MIN_DELTA_TOKENS && !short.summary.deltaInterval);
  const d2 = summaryMetrics(short).find((x) => x.label === 'Δ asymmetry')!;
  assert.match(d2.value, /^[+−]\d\.\d{3}$/);
  assert.equal(d2.sub, 'too short for an interval');
});

test('formatInterval uses real minus signs', () => {
  assert.equal(formatInterval({ lo: -0.0521, hi: 0.0209, level: 0.95, blocks: 12, blockTokens: 9, resamples: 1000 }), '95% CI −0.052 … +0.021');
});
