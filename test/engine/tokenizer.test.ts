// Offsets of the byte-level BPE tokenizer against hand-checked golden values, and the cover
// property on random hard Unicode. Fixture tokenizer: <|bos|>, the 256 bytes, and merges
// Ġt, he, Ġthe, in, er, an, Ġa, on, re, Ġs, Ġð (space + first byte of a 4-byte character),
// ä¸ (the first two bytes of 中).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPack } from '../../src/engine/pack';
import { PackTokenizer, toWellFormed } from '../../src/engine/tokenizer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MARKOV, checkCover } from './helpers';

const tok = loadPack(MARKOV).tokenizer;

// [text, expected offsets]; derived by hand from the UTF-8 bytes and the merges above.
const golden: [string, string, [number, number][]][] = [
  // The pre-tokenizer splits "the" and " cat"; "the" -> t, he (Ġthe needs the space); " cat" ->
  // Ġ c a t ("Ġc" is no merge).
  ['ascii with merges', 'the cat', [[0, 1], [1, 3], [3, 4], [4, 5], [5, 6], [6, 7]]],
  ['leading spaces', '  x', [[0, 1], [1, 2], [2, 3]]], // Ġ Ġ x (no Ġx merge)
  ['tab', '\tthe', [[0, 1], [1, 2], [2, 4]]], // ĉ t he
  ['CRLF', 'a\r\nb', [[0, 1], [1, 2], [2, 3], [3, 4]]], // a č Ċ b
  // U+1F600 is 4 bytes F0 9F 98 80 and 2 UTF-16 units; "Ġð" takes the space and its first byte,
  // so the first token spans the space and the whole emoji, the next three the emoji alone.
  ['emoji after a space', ' 😀 x', [[0, 3], [1, 3], [1, 3], [1, 3], [3, 4], [4, 5]]],
  // 中 = E4 B8 AD: "ä¸" (E4 B8) and "Ń" (AD) both get 中's range; 文 = E6 96 87: three byte tokens.
  ['CJK', '中文', [[0, 1], [0, 1], [1, 2], [1, 2], [1, 2]]],
  // e + U+0301 (CC 81): the combining mark is its own character, two byte tokens.
  ['combining mark', 'e\u0301', [[0, 1], [1, 2], [1, 2]]],
  // 👨‍👩‍👧: U+1F468 (4 bytes, 2 units) U+200D (3 bytes, 1 unit) U+1F469 U+200D U+1F467
  [
    'ZWJ sequence',
    '👨‍👩‍👧',
    [
      [0, 2], [0, 2], [0, 2], [0, 2],
      [2, 3], [2, 3], [2, 3],
      [3, 5], [3, 5], [3, 5], [3, 5],
      [5, 6], [5, 6], [5, 6],
      [6, 8], [6, 8], [6, 8], [6, 8],
    ],
  ],
  // 🇫🇷: two regional indicators, 4 bytes and 2 units each.
  ['flag', '🇫🇷', [[0, 2], [0, 2], [0, 2], [0, 2], [2, 4], [2, 4], [2, 4], [2, 4]]],
];

for (const [name, text, expected] of golden) {
  test(`golden offsets: ${name}`, () => {
    const enc = tok.encode(text);
    assert.deepEqual(enc.offsets, expected, `ids ${JSON.stringify(enc.ids)}`);
    assert.equal(checkCover(text, enc.offsets), null);
    assert.deepEqual(enc.warnings, []);
  });
}

test('merged tokens: " the" is one token covering 4 units', () => {
  const enc = tok.encode('x the');
  assert.deepEqual(enc.offsets, [[0, 1], [1, 5]]);
  assert.equal(tok.tokenText(enc.ids[1]), ' the');
});

test('lone surrogates: read as U+FFFD, offsets into the original text, one warning', () => {
  const text = 'a\uD800b\uDC00';
  const enc = tok.encode(text);
  // U+FFFD is EF BF BD: three byte tokens sharing the surrogate's one unit
  assert.deepEqual(enc.offsets, [[0, 1], [1, 2], [1, 2], [1, 2], [2, 3], [3, 4], [3, 4], [3, 4]]);
  assert.equal(enc.warnings.length, 1);
  assert.match(enc.warnings[0], /2 lone UTF-16 surrogates.*offset 1/);
  assert.equal(checkCover(text, enc.offsets), null);
});

test('toWellFormed keeps valid pairs and length', () => {
  const s = '😀\uD83Dx\uDE00';
  const r = toWellFormed(s);
  assert.equal(r.text, '😀\uFFFDx\uFFFD');
  assert.equal(r.text.length, s.length);
  assert.equal(r.replaced, 2);
  assert.equal(r.first, 2);
});

test('the BOS token written in the text is the special token, with its own range', () => {
  const enc = tok.encode('x<|bos|>y');
  assert.deepEqual(enc.ids, [121, 0, 122]);
  assert.deepEqual(enc.offsets, [[0, 1], [1, 8], [8, 9]]);
  assert.equal(enc.warnings.length, 1);
  assert.match(enc.warnings[0], /special token "<\|bos\|>" at offset 1/);
});

test('property: offsets cover random hard Unicode in order', () => {
  const pool = ['a', 'the', ' ', '  ', '\t', '\r\n', '\n', 'é', 'e\u0301', '中', '文', '😀', '👨‍👩‍👧', '🇫🇷', '\u200d', 'ß', '\uFEFF', '\uD800', '\uDFFF', 'Ω', '1', '.', '\u0085', '\u00a0', '𝔸'];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let k = 0; k < 300; k++) {
    const n = 1 + Math.floor(rnd() * 30);
    let text = '';
    for (let i = 0; i < n; i++) text += pool[Math.floor(rnd() * pool.length)];
    const enc = tok.encode(text);
    assert.equal(enc.ids.length, enc.offsets.length);
    const err = checkCover(text, enc.offsets);
    assert.equal(err, null, `${JSON.stringify(text)}: ${err}`);
  }
});

test('ByteLevel add_prefix_space: the phantom space shares the first character', () => {
  const json = JSON.parse(readFileSync(join(MARKOV, 'tokenizer.json'), 'utf8'));
  json.pre_tokenizer.add_prefix_space = true;
  const t = new PackTokenizer(json, 'test');
  // "the cat" is read as " the cat": Ġthe takes the phantom space and "the"
  assert.deepEqual(t.encode('the cat').offsets, [[0, 3], [3, 4], [4, 5], [5, 6], [6, 7]]);
  // " the cat" already starts with a space: nothing is added
  assert.deepEqual(t.encode(' the cat').offsets, [[0, 4], [4, 5], [5, 6], [6, 7], [7, 8]]);
  // "x\nthe": a lone Ġ for the phantom space, then x
  assert.deepEqual(t.encode('x\nthe').offsets, [[0, 1], [0, 1], [1, 2], [2, 3], [3, 5]]);
  // an emoji first: the phantom space takes its two units
  assert.deepEqual(t.encode('😀').offsets, [[0, 2], [0, 2], [0, 2], [0, 2]]);
  for (const s of ['the cat', '\tthe', '😀 x', '中文', 'e\u0301']) assert.equal(checkCover(s, t.encode(s).offsets), null, s);
});
