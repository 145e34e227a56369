// Writes the small tokenizer.json fixtures of test/engine/tokenizer-families.test.ts under
// test/fixtures/tokenizers/, laid out like the real Hugging Face files of each family (same
// normalizer, pre-tokenizer, post-processor, decoder and model fields), with a few hundred
// vocabulary entries learned by a plain BPE trainer on the corpus below. The trainer sees the text
// through @huggingface/tokenizers' own normalizer and pre-tokenizer, so its merges are the ones the
// fixture will apply. Deterministic; the outputs are committed. Usage:
//   node scripts/make-tokenizer-fixtures.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'tokenizers');

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  'The model reads the text one token at a time, and the surprisal of each token is shown in the editor.',
  'It is the first time that the model has seen this sentence, so the surprisal is high.',
  'There are three things in the room: a table, a chair and a lamp.',
  'She said that the weather in the north would be cold, then warm, then cold again.',
  'We ran the test again and again; the numbers were the same every time.',
  'In 2024 there were 365 days and 12 months, and the year before had 365 days too.',
  'The café on the corner sells crêpes and a naïve little résumé of the menu.',
  'Über alles: straße, façade, déjà vu, piñata, smörgåsbord.',
  '中文和日本語 are written without spaces, 中 is a common character.',
  'function add(a, b) {\n\treturn a + b;\n}\r\n',
  'for (let i = 0; i < n; i++) {\n\tsum += values[i];\n}\n',
  "It's what they've said, and we'll see what I'd do; you're right, I'm sure.",
  '  indented   text with   several spaces  ',
  'Emoji are not in this vocabulary: 😀 👍🏽 🇫🇷 👨‍👩‍👧 and they fall back to bytes.',
  'Korean 한국어 and Greek Ωμέγα and Cyrillic Привет appear once.',
];

/** Plain BPE training: words are arrays of symbols with counts; the most frequent pair wins, ties to the smallest pair. */
function train(words, nMerges, keep = () => true) {
  const merges = [];
  for (let m = 0; m < nMerges; m++) {
    const counts = new Map();
    for (const [syms, c] of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        if (!keep(syms[i]) || !keep(syms[i + 1])) continue;
        const k = syms[i] + '\u0000' + syms[i + 1];
        counts.set(k, (counts.get(k) ?? 0) + c);
      }
    }
    let best = null;
    let bestCount = 1; // a pair seen once is not worth a merge
    for (const [k, c] of counts) if (c > bestCount || (c === bestCount && best !== null && k < best)) [best, bestCount] = [k, c];
    if (best === null) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    for (const w of words) {
      const s = w[0];
      const out = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      w[0] = out;
    }
  }
  return merges;
}

function countWords(pieces) {
  const m = new Map();
  for (const p of pieces) m.set(p, (m.get(p) ?? 0) + 1);
  return [...m].map(([p, c]) => [Array.from(p), c]);
}

// GPT-2's byte -> printable character table, in GPT-2's id order
function byteChars() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return cs.map((c) => String.fromCharCode(c));
}

const added = (id, content, special = true) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special });

const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** A byte-level BPE file: `head` holds the fields before "model"; merges learned through its own pre-tokenizer. */
function byteLevel({ head, nMerges, addedTokens, mergesAsPairs, model, vocabFirst = [] }) {
  const chars = byteChars();
  const base = { ...head, model: { type: 'BPE', vocab: Object.fromEntries(chars.map((c, i) => [c, i])), merges: [] } };
  base.added_tokens = [];
  const t = new Tokenizer(base, {});
  const pieces = CORPUS.flatMap((line) => t.pre_tokenizer(t.normalizer ? t.normalizer(line) : line));
  const merges = train(countWords(pieces), nMerges);
  const vocab = {};
  for (const v of [...vocabFirst, ...chars, ...merges.map(([a, b]) => a + b)]) if (!(v in vocab)) vocab[v] = Object.keys(vocab).length;
  const n = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens.map((c, i) => (typeof c === 'string' ? added(vocab[c] ?? n + i, c) : c)),
    ...head,
    model: { ...model, vocab, merges: mergesAsPairs ? merges : merges.map((m) => m.join(' ')) },
  };
}

const BL_MODEL = { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false };

const llama3 = byteLevel({
  nMerges: 260,
  addedTokens: ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
  head: {
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [518], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  },
  model: { ...BL_MODEL, ignore_merges: true },
});
llama3.post_processor.processors[1].special_tokens['<|begin_of_text|>'].ids = [llama3.added_tokens[0].id];

const qwen2 = byteLevel({
  nMerges: 260,
  mergesAsPairs: true,
  addedTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
  head: {
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
  },
  model: { ...BL_MODEL, continuing_subword_prefix: '', end_of_word_suffix: '', ignore_merges: false },
});

// SmolLM: the special tokens are the first vocabulary entries too; digits are split one by one
const smollm = byteLevel({
  nMerges: 200,
  vocabFirst: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
  addedTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
  head: {
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  },
  model: { ...BL_MODEL, ignore_merges: false },
});

// SentencePiece-style BPE (Llama 2 / Mistral): words are "▁" + word; characters outside ALPHABET
// (emoji, most CJK, Hangul, Cyrillic) only exist as <0xNN> byte pieces.
const ALPHABET = new Set(Array.from('\u2581abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"()[]{}+-=<>/_éêïçàüåößñ中Ωμέγα'));
const spWords = CORPUS.flatMap((line) => ('\u2581' + line.replaceAll(' ', '\u2581')).split(/(?=\u2581)/u));
const spMerges = train(countWords(spWords), 220, (s) => [...s].every((c) => ALPHABET.has(c)));
const spVocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
for (let b = 0; b < 256; b++) spVocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
for (const v of [...spMerges.map(([a, b]) => a + b), ...[...ALPHABET].sort()]) if (!(v in spVocab)) spVocab[v] = Object.keys(spVocab).length;
const SP_DECODER = {
  type: 'Sequence',
  decoders: [
    { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
    { type: 'Strip', content: ' ', start: 1, stop: 0 },
  ],
};
const SP_POST = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
};
const spModel = {
  type: 'BPE',
  dropout: null,
  unk_token: '<unk>',
  continuing_subword_prefix: null,
  end_of_word_suffix: null,
  fuse_unk: true,
  byte_fallback: true,
  ignore_merges: false,
  vocab: spVocab,
  merges: spMerges.map((m) => m.join(' ')),
};
const spAdded = [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')];

const llama2Legacy = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: spAdded,
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'Prepend', prepend: '\u2581' },
      { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
    ],
  },
  pre_tokenizer: null,
  post_processor: SP_POST,
  decoder: SP_DECODER,
  model: spModel,
};

const metaspace = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: spAdded,
  normalizer: null,
  pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
  post_processor: SP_POST,
  decoder: SP_DECODER,
  model: spModel,
};

// BERT-style WordPiece, which LM Probe refuses
const wpWords = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...'abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'];
for (const w of ['the', 'quick', 'brown', 'fox', 'model', 'text', 'token', 'time', 'and', 'of', 'is', 'in', 'a']) wpWords.push(w);
for (const w of ['##s', '##ed', '##ing', '##er', '##ly', ...Array.from('abcdefghijklmnopqrstuvwxyz', (c) => '##' + c)]) wpWords.push(w);
const wordpiece = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((c, i) => added(i, c)),
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(wpWords.map((w, i) => [w, i])) },
};

mkdirSync(OUT, { recursive: true });
for (const [name, j] of Object.entries({ 'llama3-bytelevel': llama3, 'qwen2-nfc': qwen2, 'smollm-digits': smollm, 'llama2-legacy': llama2Legacy, metaspace, wordpiece })) {
  writeFileSync(join(OUT, `${name}.json`), JSON.stringify(j, null, 2) + '\n');
  console.log(`${name}.json: ${Object.keys(j.model.vocab).length} vocabulary entries, ${j.model.merges?.length ?? 0} merges`);
}
