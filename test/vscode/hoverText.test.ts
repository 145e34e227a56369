// The hover and the status bar text on real probes of the bundled pack: a compact hover (it must
// fit above a language server's hover in a code file), why a token outside the analysed window
// has no analyses, and what a one-token selection can and cannot show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine } from '../../src/engine/engine';
import type { ProbeResult } from '../../src/engine/schema';
import { HOVER_TOP, TINY_TOKENS, hoverMarkdown, outsideWindowNote, tooShortNotes } from '../../src/vscode/hoverText';
import { resultText, resultTooltip } from '../../src/vscode/statusText';
import { visible } from '../../src/vscode/text';

const ROOT = resolve(__dirname, '..', '..');
const PACK = join(ROOT, 'models', 'default');
const skip = existsSync(join(PACK, 'manifest.json')) ? false : 'models/default is missing';
const ANALYSES = { futureLens: true, importance: {}, geometry: true } as const;

// A JavaScript function (a code file, where the language server's hover sits under ours).
const CODE = `export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
`;

let engine: Engine;
let code: ProbeResult;
before(async () => {
  if (skip) return;
  engine = await Engine.open(PACK);
  code = await engine.probe(CODE, { topK: 5, analyses: ANALYSES });
});
after(() => engine?.dispose());

/** The hover's rendered lines: Markdown lines with text (a table row is one line). */
function renderedLines(md: string): string[] {
  return md.split('\n').filter((l) => l.trim() && !/^\|[:\- |]+\|$/.test(l));
}

test('every token of a code file gets a compact hover: 5 lines at most, surprisal both ways, rank, top 3 each way', { skip }, () => {
  let longest = 0;
  for (let i = 0; i < code.tokens.length; i++) {
    const md = hoverMarkdown(code, i);
    const lines = renderedLines(md);
    assert.ok(lines.length <= 5, `token ${i}: ${lines.length} lines\n${md}`);
    longest = Math.max(longest, md.length);
    const fw = lines.find((l) => l.startsWith('| forward |'))!;
    const bw = lines.find((l) => l.startsWith('| backward |'))!;
    for (const row of [fw, bw]) {
      assert.ok(row, `token ${i}: a row is missing\n${md}`);
      assert.match(row, /\| \d+\.\d\d bits \| \d+ \|/);
      // top 3: three "token p%" entries, comma-separated
      assert.equal(row.split('|')[4].split(/%,/).length, HOVER_TOP, row);
    }
    // the actual token is marked where it is among the top 3
    const t = code.tokens[i];
    if (t.forward.rank <= HOVER_TOP) assert.match(fw, /✓/);
    // "·" only ever stands for a space inside a token: none outside code spans
    assert.doesNotMatch(md.replace(/(`+)[\s\S]*?\1/g, ''), /·/, `token ${i}: "·" used as a separator\n${md}`);
    assert.match(md, /\[[Mm]ore in the panel\]\(command:lmProbe\.showTokenInPanel\?/);
  }
  // No entropy, no difference, no importance in the first block: those are in the panel.
  assert.doesNotMatch(hoverMarkdown(code, 5), /entropy|importance|difference/);
  assert.ok(longest < 700, `longest hover ${longest} characters`);
});

test('a token outside the analysed window says why it has no analyses and links to analysing around it', { skip }, async () => {
  // A text longer than the model's context: the analyses cover one window of it.
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8').slice(0, 3000);
  const r = await engine.probe(text, { topK: 3, analyses: ANALYSES });
  const w = r.analyses!.window;
  const W = r.pack.contextLength - 1;
  assert.ok(r.tokens.length > W, `${r.tokens.length} tokens`);
  assert.equal(w.end - w.start, W);
  const outside = w.start > 0 ? 0 : r.tokens.length - 1;
  const md = hoverMarkdown(r, outside);
  assert.match(md, new RegExp(`No analyses for this token: they cover tokens #${w.start}–#${w.end - 1} of ${r.tokens.length}, one window of the model's ${W}-token context`));
  assert.ok(md.includes(`command:lmProbe.analyseAround?${encodeURIComponent(JSON.stringify([outside]))}`), md);
  assert.ok(renderedLines(md).length <= 5);
  const inside = Math.floor((w.start + w.end) / 2);
  assert.equal(outsideWindowNote(r, inside), null);
  assert.doesNotMatch(hoverMarkdown(r, inside), /analyseAround/);
});

test('a one-token selection: no Δ in the status bar, and the hover and the tooltip say what is needed', { skip }, async () => {
  const r = await engine.probe('Hello', { topK: 5, analyses: ANALYSES });
  assert.ok(r.tokens.length <= TINY_TOKENS);
  const status = resultText(r);
  assert.doesNotMatch(status, /Δ [+−-]?\d/, status);
  assert.match(status, /Δ needs \d+ tokens/);
  const tip = resultTooltip(r);
  assert.match(tip, /no asymmetry Δ: \d+ tokens?, a Δ needs at least \d+/);
  const notes = tooShortNotes(r);
  if (r.summary.deltaIntervalNote) assert.ok(notes.some((n) => n.startsWith('Δ: ')), notes.join('\n'));
  const md = hoverMarkdown(r, 0);
  for (const n of notes) assert.ok(md.includes(n), `hover lacks "${n}"`);
  assert.match(md, /\| forward \| \d+\.\d\d bits/);
});

test('a long selection: Δ in the status bar, its interval (or why there is none) in the tooltip', { skip }, async () => {
  const r = await engine.probe(readFileSync(join(ROOT, 'README.md'), 'utf8').slice(0, 2000), { topK: 1 });
  assert.match(resultText(r), /Δ [+−]\d\.\d{3}$/);
  const tip = resultTooltip(r);
  if (r.summary.deltaInterval) assert.match(tip, /95% CI [+−]\d\.\d+ … [+−]\d\.\d+ \(block bootstrap: \d+ resamples of \d+ blocks of \d+ tokens\)/);
  else if (r.summary.deltaIntervalNote) assert.ok(tip.includes('no interval'), tip);
  assert.deepEqual(tooShortNotes(r), []);
});

test('a forward-only probe: one row, and the hover says so', { skip }, async () => {
  const r = await engine.probe(CODE, { topK: 5, forwardOnly: true });
  const md = hoverMarkdown(r, 3);
  assert.match(md, /forward only: this model has no backward twin/);
  assert.doesNotMatch(md, /\| backward \|/);
  assert.ok(renderedLines(md).length <= 5);
});

test('visible() shows whitespace and control characters', () => {
  assert.equal(visible('\u0000a\t'), '\\x00a⇥');
  assert.equal(visible(' a\n'), '·a⏎');
});
