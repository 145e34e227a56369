// A model without a backward twin, on every surface: the real forward-only fixture
// (test/fixtures/markov-forward-int32) probed by the engine, then the hover, the status bar, the
// panel's summary, the heatmap, the CSV export and the CLI's table read its result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine';
import type { ProbeResult } from '../../src/engine/schema';
import { hoverMarkdown } from '../../src/vscode/hoverText';
import { CSV_HEADER, CSV_HEADER_FORWARD, toCsv } from '../../src/vscode/export';
import { effectiveMeasure, FORWARD_ONLY, hasBackward, measureFallbackNote } from '../../src/vscode/forwardOnly';
import { groupByBucket } from '../../src/vscode/heatmap';
import { idleText, idleTooltip, resultText, resultTooltip } from '../../src/vscode/statusText';
import { summaryMetrics, summaryNote } from '../../src/vscode/panel/summary';
import { formatTable } from '../../src/cli/format';

const FIX = join(__dirname, '..', 'fixtures');
const FW_ONLY = join(FIX, 'markov-forward-int32');
const PAIR = join(FIX, 'markov-pack');
const TEXT = 'the cat sat on the mat';

async function probe(dir: string): Promise<ProbeResult> {
  const e = await Engine.open(dir);
  try {
    return await e.probe(TEXT, { topK: 3 });
  } finally {
    await e.dispose();
  }
}

test('the forward-only fixture has no backward model', () => {
  const m = JSON.parse(readFileSync(join(FW_ONLY, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(m.backward, undefined);
});

test('a forward-only model says so on every surface, with no empty backward parts', async () => {
  const r = await probe(FW_ONLY);
  assert.equal(r.pack.hasBackward, false);
  assert.equal(r.summary.backward, null);
  assert.equal(r.summary.delta, null);
  assert.equal(hasBackward(r), false);

  // hover: one row, the sentence, no backward row
  const md = hoverMarkdown(r, 2);
  assert.match(md, /^\| forward \| \d+\.\d\d bits \|/m);
  assert.ok(md.includes(`_${FORWARD_ONLY}._`), md);
  assert.doesNotMatch(md, /backward top|\| backward \||difference/);

  // status bar
  assert.match(resultText(r), /markov-forward-int32-fixture · cpu · forward only$/);
  assert.doesNotMatch(resultText(r), /Δ/);
  const tip = resultTooltip(r);
  assert.ok(tip.includes(FORWARD_ONLY), tip);
  assert.doesNotMatch(tip, /backward \d|asymmetry Δ =/);
  assert.equal(idleText(r.pack, 'cpu'), '$(beaker) LM Probe: markov-forward-int32-fixture · cpu · forward only');
  assert.ok(idleTooltip(r.pack, 'cpu').includes(FORWARD_ONLY));

  // panel summary: no Backward or Δ metric, a note instead
  const labels = summaryMetrics(r).map((m) => m.label);
  assert.deepEqual(labels, ['Tokens', 'Forward', 'Provider', 'Latency']);
  assert.match(summaryNote(r)?.text ?? '', /no backward twin/);

  // heatmap: backward and difference fall back to forward, and say so
  assert.equal(effectiveMeasure('backward', false), 'forward');
  assert.equal(effectiveMeasure('difference', false), 'forward');
  assert.equal(effectiveMeasure('rank', false), 'rank');
  assert.match(measureFallbackNote('backward', false) ?? '', /Backward surprisal is unavailable \(forward only: this model has no backward twin\): the heatmap shows forward surprisal instead/);
  assert.equal(measureFallbackNote('forward', false), null);
  const colored = groupByBucket(r.tokens, effectiveMeasure('difference', false)).flat().length;
  assert.equal(colored, r.tokens.length, 'every token is colored by forward surprisal');

  // CSV: no backward columns
  const lines = toCsv(r).trimEnd().split('\r\n');
  assert.equal(lines[0], CSV_HEADER_FORWARD.join(','));
  assert.doesNotMatch(lines[0], /bw_/);
  assert.ok(lines.slice(1).every((l) => !l.endsWith(',')), 'no empty trailing cells');

  // CLI: no backward columns or lines; the summary names the model as forward only
  const table = formatTable(r);
  assert.doesNotMatch(table, /bw bits|delta/);
  assert.match(table, /markov-forward-int32-fixture .*forward only/);
});

test('a model with a backward twin keeps both directions everywhere', async () => {
  const r = await probe(PAIR);
  assert.equal(hasBackward(r), true);
  assert.match(hoverMarkdown(r, 2), /^\| forward \| .*\n\| backward \| \d+\.\d\d bits \|/m);
  assert.doesNotMatch(hoverMarkdown(r, 2), /forward only/);
  assert.match(resultText(r), /· Δ [+-]\d/);
  assert.doesNotMatch(resultTooltip(r), /forward only/);
  assert.deepEqual(summaryMetrics(r).map((m) => m.label), ['Tokens', 'Forward', 'Backward', 'Δ asymmetry', 'Provider', 'Latency']);
  assert.equal(summaryNote(r), null);
  assert.equal(effectiveMeasure('difference', true), 'difference');
  assert.equal(measureFallbackNote('backward', true), null);
  assert.equal(toCsv(r).split('\r\n')[0], CSV_HEADER.join(','));
  assert.match(formatTable(r), /bw bits/);
  assert.doesNotMatch(formatTable(r), /forward only/);
});
