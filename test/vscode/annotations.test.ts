import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanTable, trackRange } from '../../src/vscode/annotations';

// Document "xx" + probed "ab cd ef" at offset 2: tokens "ab", " cd", " ef".
const tokens = [
  { start: 0, end: 2 },
  { start: 2, end: 5 },
  { start: 5, end: 8 },
];
const doc = 'xxab cd ef';
const spans = () => SpanTable.fromTokens(tokens, 2);
const texts = (t: SpanTable, d: string) => t.starts.map((s, i) => d.slice(s, t.ends[i]));
function edit(d: string, off: number, len: number, text: string) {
  return d.slice(0, off) + text + d.slice(off + len);
}

test('fromTokens places tokens at the probe offset', () => {
  assert.deepEqual(texts(spans(), doc), ['ab', ' cd', ' ef']);
});

test('an insertion before the probe shifts every span', () => {
  const t = spans();
  assert.equal(t.applyChanges([{ rangeOffset: 0, rangeLength: 0, text: 'NEW\n' }]), 0);
  assert.deepEqual(texts(t, edit(doc, 0, 0, 'NEW\n')), ['ab', ' cd', ' ef']);
});

test('an insertion at a token boundary touches neither neighbour', () => {
  const t = spans();
  const d2 = edit(doc, 4, 0, 'ZZ'); // between "ab" and " cd"
  assert.equal(t.applyChanges([{ rangeOffset: 4, rangeLength: 0, text: 'ZZ' }]), 0);
  assert.deepEqual(texts(t, d2), ['ab', ' cd', ' ef']);
  assert.deepEqual(t.tokenIndex, [0, 1, 2]);
});

test('an edit inside a token drops it, keeps and shifts the rest', () => {
  const t = spans();
  const d2 = edit(doc, 6, 1, 'XYZ'); // "d" -> "XYZ"
  assert.equal(t.applyChanges([{ rangeOffset: 6, rangeLength: 1, text: 'XYZ' }]), 1);
  assert.deepEqual(t.tokenIndex, [0, 2]);
  assert.deepEqual(texts(t, d2), ['ab', ' ef']);
});

test('a deletion across two tokens drops both', () => {
  const t = spans();
  const d2 = edit(doc, 3, 3, ''); // "b c" removed
  assert.equal(t.applyChanges([{ rangeOffset: 3, rangeLength: 3, text: '' }]), 2);
  assert.deepEqual(texts(t, d2), [' ef']);
});

test('a replacement exactly over one token drops it; an edit after the probe changes nothing', () => {
  const t = spans();
  t.applyChanges([{ rangeOffset: 10, rangeLength: 0, text: '!!' }]);
  assert.deepEqual(t.tokenIndex, [0, 1, 2]);
  t.applyChanges([{ rangeOffset: 4, rangeLength: 3, text: ' cd' }]);
  assert.deepEqual(t.tokenIndex, [0, 2]);
});

test('several changes of one event (reported from the end backwards) apply in order', () => {
  const t = spans();
  let d = doc;
  const changes = [
    { rangeOffset: 10, rangeLength: 0, text: '\n' },
    { rangeOffset: 2, rangeLength: 0, text: '>>' },
    { rangeOffset: 0, rangeLength: 1, text: '' },
  ];
  for (const c of changes) d = edit(d, c.rangeOffset, c.rangeLength, c.text);
  t.applyChanges(changes);
  assert.deepEqual(texts(t, d), ['ab', ' cd', ' ef']);
});

test('random edits never leave a span on different characters', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  for (let trial = 0; trial < 200; trial++) {
    const words = Array.from({ length: 30 }, (_, i) => `w${i}${'x'.repeat(rnd(3))} `);
    const probed = words.join('');
    let d = 'head\n' + probed + 'tail';
    const toks: { start: number; end: number }[] = [];
    let o = 0;
    for (const w of words) toks.push({ start: o, end: (o += w.length) });
    const t = SpanTable.fromTokens(toks, 5);
    for (let k = 0; k < 10; k++) {
      const off = rnd(d.length + 1), len = rnd(Math.min(4, d.length - off) + 1);
      const text = ['', 'Q', 'QQ\n', ' '][rnd(4)];
      d = edit(d, off, len, text);
      t.applyChanges([{ rangeOffset: off, rangeLength: len, text }]);
      texts(t, d).forEach((s, i) => assert.equal(s, words[t.tokenIndex[i]], `trial ${trial}`));
    }
  }
});

test('find is a binary search over spans; positionOfToken maps back', () => {
  const t = spans();
  assert.equal(t.find(1), -1);
  assert.equal(t.find(2), 0);
  assert.equal(t.find(3), 0);
  assert.equal(t.find(4), 1);
  assert.equal(t.find(9), 2);
  assert.equal(t.find(10), -1);
  t.applyChanges([{ rangeOffset: 5, rangeLength: 1, text: '' }]);
  assert.equal(t.positionOfToken(2), 1);
  assert.equal(t.positionOfToken(1), -1);
});

test('two tokens sharing a split character resolve to the first', () => {
  const t = SpanTable.fromTokens([{ start: 0, end: 1 }, { start: 1, end: 3 }, { start: 1, end: 3 }, { start: 3, end: 4 }], 0);
  assert.equal(t.find(2), 1);
});

test('trackRange follows a pending probe range or reports that it was touched', () => {
  assert.deepEqual(trackRange({ start: 5, end: 9 }, [{ rangeOffset: 0, rangeLength: 0, text: 'abc' }]), { start: 8, end: 12 });
  assert.deepEqual(trackRange({ start: 5, end: 9 }, [{ rangeOffset: 9, rangeLength: 0, text: 'abc' }]), { start: 5, end: 9 });
  assert.equal(trackRange({ start: 5, end: 9 }, [{ rangeOffset: 6, rangeLength: 0, text: 'abc' }]), null);
});
