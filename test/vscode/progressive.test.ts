// Progressive probes (src/vscode/progressive.ts): the analyses that arrive after surprisal are
// merged into the cached result only when it is still the probe they were asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Analyses, ProbeResult, ProbeToken } from '../../src/engine/schema';
import { mergeAnalyses, staleReason, wantsAnalyses, withoutAnalyses, type AnalysesTicket, type CachedProbe } from '../../src/vscode/progressive';

function tok(i: number, text: string): ProbeToken {
  const s = { surprisalBits: 1, rank: 1, entropyBits: 1, top: [] };
  return { index: i, id: i, text, start: i, end: i + 1, forward: s, backward: null };
}

function result(text: string): ProbeResult {
  return {
    version: 1,
    text,
    pack: { name: 'p', dir: '/p', contextLength: 16, layers: 2, heads: 2, width: 8, vocabSize: 10, hasBackward: false, hasProbes: false },
    tokens: [...text].map((c, i) => tok(i, c)),
    summary: { tokenCount: text.length, forward: { meanNats: 1, totalBits: 1 }, backward: null, delta: null },
    runtime: { provider: 'cpu', fallbacks: [], ms: 1, loadMs: 0, windows: 1 },
    warnings: [],
  };
}

const analyses: Analyses = { window: { start: 0, end: 3 }, ms: 5, geometry: { entropyNats: [1, 2], normalized: [0.5, 0.6], width: 8, tokens: 3 } };

test('analyses of the cached probe are merged into a new result object', () => {
  const r = result('abc');
  const cur: CachedProbe = { seq: 4, result: r, analysesRequest: 7 };
  const ticket: AnalysesTicket = { seq: 4, result: r, request: 7 };
  assert.equal(staleReason(cur, ticket), null);
  const merged = mergeAnalyses(cur, ticket, analyses);
  assert.ok(merged);
  assert.notEqual(merged, r, 'a new object: the old one may still be on its way to the panel');
  assert.deepEqual(merged.analyses, analyses);
  assert.equal(merged.tokens, r.tokens);
  assert.equal(r.analyses, undefined, 'the cached result is not mutated');
});

test('stale analyses are dropped: newer probe, cleared probe, other text, newer options', () => {
  const r = result('abc');
  const ticket: AnalysesTicket = { seq: 4, result: r, request: 7 };
  const cases: [CachedProbe | undefined, RegExp][] = [
    [undefined, /cleared/],
    [{ seq: 5, result: r, analysesRequest: 7 }, /newer probe/],
    [{ seq: 4, result: result('abd!'), analysesRequest: 7 }, /text differs/],
    [{ seq: 4, result: result('abd'), analysesRequest: 7 }, /text differs/],
    [{ seq: 4, result: r, analysesRequest: 8 }, /newer analysis options/],
  ];
  for (const [cur, why] of cases) {
    assert.match(staleReason(cur, ticket) ?? '', why);
    assert.equal(mergeAnalyses(cur, ticket, analyses), null);
  }
});

test('analyses whose window does not fit the cached tokens are dropped', () => {
  const r = result('abc');
  const cur: CachedProbe = { seq: 1, result: r, analysesRequest: 1 };
  const ticket: AnalysesTicket = { seq: 1, result: r, request: 1 };
  assert.equal(mergeAnalyses(cur, ticket, { ...analyses, window: { start: 0, end: 4 } }), null);
  assert.equal(mergeAnalyses(cur, ticket, { ...analyses, window: { start: 2, end: 1 } }), null);
  assert.ok(mergeAnalyses(cur, ticket, { ...analyses, window: { start: 1, end: 3 } }));
});

test('a merge replaces analyses from earlier options; withoutAnalyses strips them', () => {
  const r = { ...result('abc'), analyses: { window: { start: 0, end: 3 }, ms: 1 } };
  const cur: CachedProbe = { seq: 2, result: r, analysesRequest: 3 };
  const merged = mergeAnalyses(cur, { seq: 2, result: r, request: 3 }, analyses);
  assert.equal(merged?.analyses, analyses);
  const bare = withoutAnalyses(r);
  assert.equal('analyses' in bare, false);
  assert.ok(r.analyses, 'the original keeps them');
  const plain = result('x');
  assert.equal(withoutAnalyses(plain), plain);
});

test('wantsAnalyses: at least one analysis asked for', () => {
  assert.equal(wantsAnalyses(undefined), false);
  assert.equal(wantsAnalyses({}), false);
  assert.equal(wantsAnalyses({ futureLens: false, importance: false, geometry: false }), false);
  assert.equal(wantsAnalyses({ importance: {} }), true);
  assert.equal(wantsAnalyses({ geometry: true }), true);
});

test('analysesForNewPack: the same analyses stay on, with the new pack\'s defaults', async () => {
  const { analysesForNewPack } = await import('../../src/vscode/progressive');
  assert.deepEqual(
    analysesForNewPack({ futureLens: { probesFile: '/ws/.lmprobe/probes.json' }, importance: { layer: 4, attentionLayer: 3, alpha: 0.2, target: 40 }, geometry: true }),
    { futureLens: true, importance: {}, geometry: true },
  );
  assert.deepEqual(analysesForNewPack({ importance: { layer: 2 } }), { importance: {} });
  assert.deepEqual(analysesForNewPack({ futureLens: false, geometry: true }), { futureLens: false, geometry: true });
  assert.equal(analysesForNewPack(undefined), undefined);
});
