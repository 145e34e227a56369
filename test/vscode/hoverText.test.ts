import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeResult, ProbeToken } from '../../src/engine/schema';
import { hoverMarkdown } from '../../src/vscode/hoverText';
import { visible } from '../../src/vscode/text';

function result(backward: boolean): ProbeResult {
  const score = (s: number, rank: number) => ({
    surprisalBits: s,
    rank,
    entropyBits: 4.25,
    top: [
      { id: 7, text: ' the', prob: 0.42 },
      { id: 9, text: 'a`b', prob: 0.1 },
      { id: 3, text: '\n', prob: 0.05 },
    ],
  });
  const tokens: ProbeToken[] = [0, 1].map((i) => ({
    index: i,
    id: i === 1 ? 9 : 5,
    text: i === 1 ? 'a`b' : 'x',
    start: i,
    end: i + 1,
    forward: score(3.5 + i, 2),
    backward: backward ? score(1.25, 1) : null,
  }));
  return {
    version: 1,
    text: 'xa`b',
    pack: { name: 'tiny', dir: '/p', contextLength: 16, layers: 1, heads: 1, width: 4, vocabSize: 10, hasBackward: backward, hasProbes: false },
    tokens,
    summary: { tokenCount: 2, forward: { meanNats: 1, totalBits: 8 }, backward: null, delta: null },
    runtime: { provider: 'cpu', fallbacks: [], ms: 1, loadMs: 0, windows: 1 },
    warnings: [],
  };
}

test('hover shows both directions in bits, rank, entropy and the top alternatives', () => {
  const md = hoverMarkdown(result(true), 1);
  assert.match(md, /\| surprisal \| 4\.50 bits \| 1\.25 bits \|/);
  assert.match(md, /\| rank \| 2 \| 1 \|/);
  assert.match(md, /\| entropy \| 4\.25 bits \| 4\.25 bits \|/);
  assert.match(md, /difference \(bw − fw\) \| {2}\| -3\.25 bits/);
  assert.match(md, /\*\*forward top-3\*\*.*`·the` 42\.0%/);
  assert.match(md, /``a`b`` ✓ 10\.0%/, 'the actual token is marked and backticks are fenced');
  assert.match(md, /`⏎` 5\.0%/);
  assert.match(md, /\*\*backward top-3\*\*/);
  assert.match(md, /#1 of 2/);
});

test('hover without a backward model says so', () => {
  const md = hoverMarkdown(result(false), 0);
  assert.match(md, /\| surprisal \| 3\.50 bits \|$/m);
  assert.match(md, /forward only: this model has no backward twin/);
  assert.doesNotMatch(md, /backward top|\| backward \|/);
});

test('hover shows future-token guesses and importance when the analyses provide them', () => {
  const r = result(true);
  r.analyses = {
    futureLens: {
      offsets: [1, 2],
      layers: [0, 1],
      cells: [[[{ id: 1, text: 'q', prob: 0.3, hit: true }, { id: 2, text: 'r', prob: 0.2, hit: false }], [{ id: 1, text: 'q', prob: 0.6, hit: true }, { id: 2, text: 's', prob: 0.1, hit: null }]], null],
      precisionAt1: [[0.5, 0.2], [0.6, 0.3]],
      positions: [1, 0],
      bigramPrecisionAt1: null,
      source: 'pack',
    },
  } as unknown as ProbeResult['analyses'];
  const md = hoverMarkdown(r, 0);
  assert.match(md, /future tokens\*\* \(probe on layer 1\): t\+1: `q` 60\.0% ✓ · t\+2: `s` 10\.0%/);
  assert.doesNotMatch(hoverMarkdown(r, 1), /future tokens/);
});

test('visible() shows whitespace and control characters', () => {
  assert.equal(visible('\u0000a\t'), '\\x00a⇥');
});
