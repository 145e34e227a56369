// The recipe's Python BPE encoder (models/recipe/bpe.py, ids saved by export.py in
// fixtures/tokenizer-lines.json) and the engine's tokenizer (@huggingface/tokenizers on the committed
// tokenizer.json) must give the same ids, on held-out corpus lines and on hard Unicode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { PackTokenizer } from '../../src/engine/tokenizer';

const PACK = resolve(__dirname, '..', '..', 'models', 'default');
const tokJson = JSON.parse(readFileSync(join(PACK, 'tokenizer.json'), 'utf8'));
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'tokenizer-lines.json'), 'utf8')) as {
  lines: { text: string; ids: number[] }[];
};

test('the fixture has a few hundred lines, hard Unicode included', () => {
  assert.ok(fixture.lines.length >= 300);
  const all = fixture.lines.map((l) => l.text).join('\n');
  for (const re of [/\p{Extended_Pictographic}/u, /\p{Script=Han}/u, /\p{M}/u, /\r\n/, /\t/]) assert.match(all, re);
});

test('@huggingface/tokenizers gives the recipe encoder ids', () => {
  const tok = new Tokenizer(tokJson, {});
  const bad: string[] = [];
  for (const { text, ids } of fixture.lines) {
    const got = tok.encode(text, { add_special_tokens: false }).ids;
    if (JSON.stringify(got) !== JSON.stringify(ids)) bad.push(JSON.stringify(text));
  }
  assert.deepEqual(bad, []);
});

test("the engine's PackTokenizer gives the recipe encoder ids, with offsets that cover the text", () => {
  const tok = new PackTokenizer(tokJson, 'models/default/tokenizer.json');
  assert.equal(tok.tokenId('<|bos|>'), 0);
  for (const { text, ids } of fixture.lines) {
    const enc = tok.encode(text);
    assert.deepEqual(enc.ids, ids, JSON.stringify(text));
    assert.equal(enc.offsets.length, ids.length);
    if (ids.length) {
      assert.equal(enc.offsets[0][0], 0);
      assert.equal(enc.offsets[ids.length - 1][1], text.length);
    }
  }
});

test('BOS is special: its text in input is not turned into id 0 by plain encoding of prose', () => {
  const tok = new Tokenizer(tokJson, {});
  const ids = tok.encode('plain text', { add_special_tokens: false }).ids;
  assert.ok(!ids.includes(0));
});
