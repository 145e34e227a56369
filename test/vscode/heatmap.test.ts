import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeResult, ProbeToken } from '../../src/engine/schema';
import { bucketOf, groupByBucket, mostSurprising, rulerMarkCount, surprisalBucket } from '../../src/vscode/heatmap';
import { codeSpan, paragraphAt, visible } from '../../src/vscode/text';
import { CSV_HEADER, toCsv } from '../../src/vscode/export';

function tok(i: number, text: string, fw: number, bw: number | null, rank = 1): ProbeToken {
  const score = (s: number) => ({ surprisalBits: s, rank, entropyBits: 3, top: [{ id: 1, text: 'the', prob: 0.5 }] });
  return { index: i, id: 100 + i, text, start: i * 2, end: i * 2 + 2, forward: score(fw), backward: bw === null ? null : score(bw) };
}

test('surprisal buckets follow the thresholds, lower bound inclusive', () => {
  const th = [2, 5, 8, 12];
  assert.deepEqual([0, 1.99, 2, 4.9, 5, 8, 11.9, 12, 40].map((b) => surprisalBucket(b, th)), [0, 0, 1, 1, 2, 3, 3, 4, 4]);
});

test('difference, rank and off buckets', () => {
  assert.equal(bucketOf(tok(0, 'a', 5, 1), 'difference'), 0); // backward 4 bits easier
  assert.equal(bucketOf(tok(0, 'a', 5, 3.5), 'difference'), 1);
  assert.equal(bucketOf(tok(0, 'a', 5, 5.5), 'difference'), -1);
  assert.equal(bucketOf(tok(0, 'a', 5, 7), 'difference'), 2);
  assert.equal(bucketOf(tok(0, 'a', 5, 9), 'difference'), 3);
  assert.equal(bucketOf(tok(0, 'a', 5, null), 'difference'), -1);
  assert.equal(bucketOf(tok(0, 'a', 5, null), 'backward'), -1);
  assert.deepEqual([1, 10, 11, 100, 101, 1000, 1001].map((r) => bucketOf(tok(0, 'a', 1, 1, r), 'rank')), [0, 0, 1, 1, 2, 2, 3]);
  assert.equal(bucketOf(tok(0, 'a', 30, 30), 'off'), -1);
});

test('groupByBucket is one pass that puts every token in its bucket', () => {
  const toks = [tok(0, 'a', 1, 1), tok(1, 'b', 6, 1), tok(2, 'c', 13, 1), tok(3, 'd', 1.5, 1)];
  assert.deepEqual(groupByBucket(toks, 'forward'), [[0, 3], [], [1], [2], []]);
  assert.deepEqual(groupByBucket(toks, 'off'), []);
});

test('most surprising tokens and ruler mark counts', () => {
  const toks = [tok(0, 'a', 1, 9), tok(1, 'b', 6, 1), tok(2, 'c', 13, 1)];
  assert.deepEqual(mostSurprising(toks, 2), [2, 0]);
  assert.equal(rulerMarkCount(0), 0);
  assert.equal(rulerMarkCount(10), 1);
  assert.equal(rulerMarkCount(1000), 20);
  assert.equal(rulerMarkCount(20000), 200);
});

test('paragraphAt finds the run of non-blank lines', () => {
  const lines = ['a', 'b', '', '  ', 'c', 'd', 'e', ''];
  const at = (n: number) => lines[n];
  assert.deepEqual(paragraphAt(at, lines.length, 1), [0, 1]);
  assert.deepEqual(paragraphAt(at, lines.length, 5), [4, 6]);
  assert.equal(paragraphAt(at, lines.length, 3), null);
});

test('visible and codeSpan make token text safe to show', () => {
  assert.equal(visible(' a\n'), '·a⏎');
  assert.equal(visible(''), '∅');
  assert.equal(codeSpan('a`b'), '``a`b``');
  assert.equal(codeSpan('`'), '`` ` ``');
});

test('CSV has one row per token with both directions, quoted where needed', () => {
  const r = { tokens: [tok(0, 'a,b', 1.5, 2), tok(1, ' "q"\n', 3, null)] } as unknown as ProbeResult;
  const lines = toCsv(r).trimEnd().split('\r\n');
  assert.equal(lines[0], CSV_HEADER.join(','));
  assert.equal(lines[1], '0,0,2,100,"a,b",1.50000,1,3,the,0.500000,2,1,3,the,0.500000');
  assert.ok(lines[2].startsWith('1,2,4,101," ""q""\n",3,1,3,the,0.500000,,,,,'));
});
