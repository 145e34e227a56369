// Tokenizer with exact UTF-16 offsets.
//
// Ids come from @huggingface/tokenizers (pure JS, the Hugging Face tokenizer.json semantics), which
// returns no offsets. We compute them ourselves, for the two BPE families whose tokens are runs of
// the text's UTF-8 bytes:
// - byte-level BPE (GPT-2, Pythia, Llama 3, Qwen2, SmolLM): a vocabulary string maps back to bytes
//   through GPT-2's byte-to-unicode table;
// - SentencePiece-style BPE with byte fallback (Llama 2, Mistral): a piece is its string with "▁"
//   read as a space, and <0xNN> is the one byte NN.
// An added token such as <|bos|> is its content's bytes. We rebuild the byte stream the model saw
// (the library's split on added tokens, the NFC normalizer, the phantom "▁" or space put before a
// section) with, for every byte, the original UTF-16 range it came from; walking the tokens' bytes
// along that stream gives each token its range. A token that starts or ends inside a character (or
// inside a cluster that NFC rewrote) gets that whole range, so tokens that split one share it;
// otherwise tokens are disjoint and cover the text. If the bytes do not line up we refuse with
// TOKENIZER_MISMATCH rather than invent offsets.
//
// Lone surrogates (invalid UTF-16) are replaced with U+FFFD for tokenization only. U+FFFD is one
// UTF-16 unit like the surrogate it replaces, so offsets still index the original text.
import { createHash } from 'node:crypto';
import { Tokenizer } from '@huggingface/tokenizers';
import { ProbeError } from './errors';

export interface Encoded {
  ids: number[];
  /** [start, end) UTF-16 offsets into the original text, one per id. */
  offsets: [number, number][];
  warnings: string[];
}

export type TokenizerKind = 'byte-level-bpe' | 'sentencepiece-bpe';

/** GPT-2's reversible byte <-> printable character table (unicode char -> byte). */
function unicodeToBytes(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const m = new Map<string, number>();
  bs.forEach((b, i) => m.set(String.fromCharCode(cs[i]), b));
  return m;
}

const U2B = unicodeToBytes();
const encoder = new TextEncoder();
// ignoreBOM keeps a U+FEFF token visible, as the ByteLevel decoder does
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const META = '\u2581';
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const SUPPORTED =
  'LM Probe supports byte-level BPE (GPT-2, Pythia, Llama 3, Qwen2, SmolLM: a ByteLevel pre-tokenizer, optionally after Split/Digits/Punctuation, ' +
  'normalizer null or NFC) and SentencePiece-style BPE with "byte_fallback": true (Llama 2, Mistral: normalizer Prepend("▁") + Replace(" " -> "▁"), ' +
  'or a Metaspace("▁") pre-tokenizer)';

type Cfg = { type?: string; [k: string]: unknown };
interface TokJson {
  model?: Cfg & { vocab?: Record<string, number>; merges?: (string | [string, string])[] };
  added_tokens?: { id: number; content: string; lstrip?: boolean; rstrip?: boolean; normalized?: boolean; special?: boolean }[];
  normalizer?: Cfg | null;
  pre_tokenizer?: Cfg | null;
}
type NormStep = 'nfc' | 'prepend' | 'replace';
type PreStep = { metaspace: 'first' | 'always' | 'never' } | { prefixSpace: true } | null;
interface Added {
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}
/**
 * Normalized text `s` that stands for the original [a, b). `id`: s maps unit for unit onto the
 * original (unchanged text, or spaces replaced by "▁"), so a slice of it has exact ranges. `raw`:
 * an added token, spelled as its content.
 */
interface Seg {
  s: string;
  a: number;
  b: number;
  id?: boolean;
  raw?: boolean;
}

function flatten(c: unknown, key: string): Cfg[] {
  if (c === null || c === undefined) return [];
  const x = c as Cfg;
  return x.type === 'Sequence' && Array.isArray(x[key]) ? (x[key] as unknown[]).flatMap((s) => flatten(s, key)) : [x];
}

/** Decides the family and the text transformations to replay, or says what is not supported. */
function analyse(j: TokJson, where: string): { kind: TokenizerKind; norm: NormStep[]; pre: PreStep } {
  const refuse = (what: string): never => {
    throw new ProbeError('BAD_PACK', `${where}: unsupported tokenizer: ${what}. ${SUPPORTED}`);
  };
  const m = j.model ?? {};
  if (m.type !== 'BPE') refuse(`model.type ${JSON.stringify(m.type)}`);
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix']) if (m[k]) refuse(`model.${k} ${JSON.stringify(m[k])}`);
  const pre = flatten(j.pre_tokenizer, 'pretokenizers');
  const normCfg = flatten(j.normalizer, 'normalizers');
  const norm: NormStep[] = [];
  const byteLevel = pre.findIndex((p) => p.type === 'ByteLevel');
  if (byteLevel >= 0) {
    if (byteLevel !== pre.length - 1) refuse(`pre_tokenizer "${pre[byteLevel + 1].type}" after ByteLevel`);
    for (const p of pre.slice(0, -1)) {
      if (!['Split', 'Digits', 'Punctuation'].includes(p.type!)) refuse(`pre_tokenizer "${p.type}" before ByteLevel`);
      // both drop the text between matches, which no token then spells
      if (p.invert === true || String(p.behavior).toLowerCase() === 'removed') refuse(`pre_tokenizer "Split" that removes text (behavior ${JSON.stringify(p.behavior)}, invert ${p.invert})`);
    }
    // the library adds the space to every piece of the earlier splits, which we do not replay
    const prefix = pre[byteLevel].add_prefix_space === true;
    if (prefix && pre.length > 1) refuse('pre_tokenizer ByteLevel with add_prefix_space true after other pre-tokenizers');
    for (const n of normCfg) {
      if (n.type !== 'NFC') refuse(`normalizer ${JSON.stringify(n.type)}`);
      norm.push('nfc');
    }
    return { kind: 'byte-level-bpe', norm, pre: prefix ? { prefixSpace: true } : null };
  }
  if (m.byte_fallback !== true) {
    refuse('model.type "BPE" that is neither byte-level (no ByteLevel pre-tokenizer) nor SentencePiece-style (no "byte_fallback": true)');
  }
  let p: PreStep = null;
  for (const c of pre) {
    if (c.type !== 'Metaspace' || pre.length > 1) refuse(`pre_tokenizer ${JSON.stringify(c.type)}${pre.length > 1 ? ' in a Sequence' : ''}`);
    const rep = c.replacement ?? META;
    if (rep !== META || (c.str_rep || rep) !== META) refuse(`pre_tokenizer Metaspace with replacement ${JSON.stringify(rep)}`);
    const scheme = c.prepend_scheme ?? 'always'; // the library's default, whatever add_prefix_space says
    if (scheme !== 'first' && scheme !== 'always' && scheme !== 'never') refuse(`pre_tokenizer Metaspace with prepend_scheme ${JSON.stringify(scheme)}`);
    p = { metaspace: scheme as 'first' | 'always' | 'never' };
  }
  for (const n of normCfg) {
    const pat = n.pattern as { String?: string } | undefined;
    if (n.type === 'NFC') norm.push('nfc');
    else if (n.type === 'Prepend' && n.prepend === META) norm.push('prepend');
    else if (n.type === 'Replace' && pat?.String === ' ' && n.content === META) norm.push('replace');
    else refuse(`normalizer ${JSON.stringify(n.type)}${n.type === 'Prepend' || n.type === 'Replace' ? ' other than Prepend("▁") or Replace(" " -> "▁")' : ''}`);
  }
  if (!m.vocab || !Object.hasOwn(m.vocab, META)) refuse('a SentencePiece-style vocabulary without the piece "▁"');
  return { kind: 'sentencepiece-bpe', norm, pre: p };
}

interface TrieNode {
  next: Map<string, TrieNode>;
  end?: string;
}

/** The library's DictionarySplitter (leftmost, longest match by UTF-16 unit), returning ranges. */
class Splitter {
  private readonly root: TrieNode = { next: new Map() };
  readonly empty: boolean;
  constructor(words: string[]) {
    for (const w of words) {
      let n = this.root;
      for (let i = 0; i < w.length; i++) {
        let c = n.next.get(w[i]);
        if (!c) n.next.set(w[i], (c = { next: new Map() }));
        n = c;
      }
      n.end = w;
    }
    this.empty = words.length === 0;
  }
  split(text: string): [number, number][] {
    if (this.empty) return text.length ? [[0, text.length]] : [];
    const out: [number, number][] = [];
    let start = 0;
    for (let i = 0; i < text.length; ) {
      let n: TrieNode | undefined = this.root;
      let match: string | undefined;
      for (let j = i; j < text.length && (n = n.next.get(text[j])); j++) if (n.end) match = n.end;
      if (match) {
        if (i > start) out.push([start, i]);
        out.push([i, i + match.length]);
        i += match.length;
        start = i;
      } else i++;
    }
    if (start < text.length) out.push([start, text.length]);
    return out;
  }
}

/**
 * The first place at or past `from` where a text may be cut for a tokenizer whose cutsIntoPieces is
 * true (text.length where there is none, or where `from` is past the end):
 * - after a line break that follows a non-space and precedes a letter;
 * - before a line break ("\n" or "\r\n") that follows a letter or a digit, which is where code
 *   has its cuts (its lines start with indentation);
 * - before a space that follows a non-space and precedes a letter, so that a long line (minified
 *   code, a paragraph without line breaks) is cut too: tokenized whole, a 2 MB line took 126 MB
 *   more at its peak where 2 MB of lines took 28.
 * A letter, digit or punctuation run ends a pre-token in every such pattern, and a line break there,
 * or a space before a letter, starts the next one whatever follows. Whitespace runs are never cut:
 * the patterns read "\n\n" or "\n  " at the end of a piece differently from before a letter; nor
 * is punctuation before a line break, which Llama 3's pattern joins to it (";\n").
 */
export function pieceEnd(text: string, from: number): number {
  const re = /(?<=\S)\n(?=\p{L})|(?<=[\p{L}\p{N}])(?=\r?\n)|(?<=\S)(?= \p{L})/gu;
  re.lastIndex = from;
  const m = re.exec(text);
  return m ? m.index + m[0].length : text.length;
}

/** A sample with each kind of cut pieceEnd makes (code, prose, CRLF, digits, a minified line). */
const CUT_SAMPLE = [
  'export function f(x: number): number {',
  '    return x * 2; // twice 42',
  '  }\r',
  '',
  'Some prose, then a word',
  "it's done; \"quoted\" (parens) l'apostrophe don't",
  'var a=1,b="x y";function g(c){return c&&c.d?c.d(a):b} if(a)  x = g(b) ; else y',
  '\tcafé e\u0301 中文 😀',
].join('\n');

/**
 * BPE's word cache: the library's is an LRU that deletes and re-inserts a word on every hit. On 2 MB
 * of code that churn was a quarter of the tokenizing time, and it promoted most of the garbage that
 * raised the peak memory of long texts. First in, first out, with the library's capacity, memoizes
 * the same words without it; a hit returns what bpe() computed for the word, so the ids are the same.
 */
class FifoWordCache {
  private readonly map = new Map<string, string[]>();
  constructor(private readonly capacity: number) {}
  get(word: string): string[] | undefined {
    return this.map.get(word);
  }
  put(word: string, pieces: string[]): void {
    if (this.map.size >= this.capacity && !this.map.has(word)) this.map.delete(this.map.keys().next().value as string);
    this.map.set(word, pieces);
  }
  clear(): void {
    this.map.clear();
  }
}

function useFifoWordCache(tok: Tokenizer): void {
  const model = tok.model as { cache?: unknown; cache_capacity?: unknown } | null;
  const c = model?.cache as { get?: unknown; put?: unknown } | undefined;
  if (!model || typeof c?.get !== 'function' || typeof c.put !== 'function') return; // not BPE
  model.cache = new FifoWordCache(typeof model.cache_capacity === 'number' ? model.cache_capacity : 10_000);
}

/** Growable byte stream with, per byte, the original [lo, hi) it stands for. */
class Stream {
  n = 0;
  b = new Uint8Array(64);
  lo = new Int32Array(64);
  hi = new Int32Array(64);
  push(byte: number, lo: number, hi: number): void {
    if (this.n === this.b.length) {
      const grow = <T extends Uint8Array | Int32Array>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(x.length * 2);
        y.set(x);
        return y;
      };
      this.b = grow(this.b);
      this.lo = grow(this.lo);
      this.hi = grow(this.hi);
    }
    this.b[this.n] = byte;
    this.lo[this.n] = lo;
    this.hi[this.n++] = hi;
  }
  /** UTF-8 of one code point; "▁" as a space where pieces read it so. */
  cp(cp: number, lo: number, hi: number, metaIsSpace: boolean): void {
    if (cp < 0x80 || (metaIsSpace && cp === 0x2581)) this.push(cp < 0x80 ? cp : 0x20, lo, hi);
    else if (cp < 0x800) {
      this.push(0xc0 | (cp >> 6), lo, hi);
      this.push(0x80 | (cp & 63), lo, hi);
    } else if (cp < 0x10000) {
      this.push(0xe0 | (cp >> 12), lo, hi);
      this.push(0x80 | ((cp >> 6) & 63), lo, hi);
      this.push(0x80 | (cp & 63), lo, hi);
    } else {
      this.push(0xf0 | (cp >> 18), lo, hi);
      this.push(0x80 | ((cp >> 12) & 63), lo, hi);
      this.push(0x80 | ((cp >> 6) & 63), lo, hi);
      this.push(0x80 | (cp & 63), lo, hi);
    }
  }
}

const join = (segs: Seg[]): string => segs.map((g) => g.s).join('');
/** The phantom "▁" or space belongs to the first character (or NFC cluster) it precedes. */
function phantom(s: string, segs: Seg[]): Seg {
  const f = segs[0];
  return { s, a: f.a, b: f.id ? f.a + (f.s.codePointAt(0)! > 0xffff ? 2 : 1) : f.b };
}
/** A starter and the marks (and Hangul V/T jamo) that NFC may compose with it. */
const CLUSTER = /[\p{M}\u1160-\u11ff]+|[^\p{M}\u1160-\u11ff][\p{M}\u1160-\u11ff]*/gu;

function nfc(segs: Seg[]): Seg[] {
  const all = join(segs);
  const want = all.normalize('NFC');
  if (want === all) return segs;
  const out: Seg[] = [];
  for (const g of segs) {
    if (!g.id) {
      out.push({ ...g, s: g.s.normalize('NFC') });
      continue;
    }
    let run = 0; // start of the pending unchanged run in g.s
    for (const m of g.s.matchAll(CLUSTER)) {
      const n = m[0].normalize('NFC');
      if (n === m[0]) continue;
      if (m.index > run) out.push({ s: g.s.slice(run, m.index), a: g.a + run, b: g.a + m.index, id: true });
      out.push({ s: n, a: g.a + m.index, b: g.a + m.index + m[0].length });
      run = m.index + m[0].length;
    }
    if (run < g.s.length) out.push({ s: g.s.slice(run), a: g.a + run, b: g.b, id: true });
  }
  if (join(out) !== want) {
    throw new ProbeError(
      'TOKENIZER_MISMATCH',
      `the tokenizer's NFC normalizer rewrites the text near offset ${segs[0].a} in a way LM Probe cannot map back to the original characters`,
    );
  }
  return out;
}

/** The segments for normalized-string units [x, y); a cut inside a rewritten segment keeps its range. */
function cut(segs: Seg[], x: number, y: number): Seg[] {
  const out: Seg[] = [];
  let p = 0;
  for (const g of segs) {
    const q = p + g.s.length;
    if (q > x && p < y) {
      const i = Math.max(x, p) - p;
      const k = Math.min(y, q) - p;
      out.push(g.id ? { s: g.s.slice(i, k), a: g.a + i, b: g.a + k, id: true } : { ...g, s: g.s.slice(i, k) });
    }
    p = q;
  }
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${Array.from(v, canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined && k !== 'trim_offsets') // trim_offsets changes offsets, never ids
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** Replaces lone surrogates with U+FFFD; returns the fixed text and how many were replaced. */
export function toWellFormed(text: string): { text: string; replaced: number; first: number } {
  let out: string[] | null = null;
  let last = 0;
  let replaced = 0;
  let first = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    } else if (!(c >= 0xdc00 && c <= 0xdfff)) {
      continue;
    }
    out ??= [];
    out.push(text.slice(last, i), '\uFFFD');
    last = i + 1;
    replaced++;
    if (first < 0) first = i;
  }
  if (!out) return { text, replaced: 0, first: -1 };
  out.push(text.slice(last));
  return { text: out.join(''), replaced, first };
}

export class PackTokenizer {
  readonly kind: TokenizerKind;
  /** Number of ids the tokenizer can produce (vocabulary plus added tokens). */
  readonly vocabSize: number;
  private readonly tok: Tokenizer;
  private readonly json: TokJson;
  private readonly norm: NormStep[];
  private readonly pre: PreStep;
  private readonly bytesCache = new Map<number, Uint8Array>();
  private readonly textCache = new Map<number, string>();
  /** id -> content of the added tokens. */
  private readonly added: Map<number, string>;
  /** What the library matches as an added token: its content, or its normalized content. */
  private readonly addedByText = new Map<string, Added>();
  private readonly rawSplitter: Splitter;
  private readonly normSplitter: Splitter;
  private maxBytes = 0;
  private cuts?: boolean;
  private fp?: string;

  constructor(json: unknown, where: string) {
    const j = (json ?? {}) as TokJson;
    // before the library, so that a family it loads but we cannot map is named as such
    let fam = j.model && typeof j.model === 'object' ? analyse(j, where) : undefined;
    try {
      this.tok = new Tokenizer(json as object, {});
      useFifoWordCache(this.tok);
    } catch (e) {
      throw new ProbeError('BAD_PACK', `${where}: not a tokenizer.json that @huggingface/tokenizers can load: ${(e as Error).message}`);
    }
    fam ??= analyse(j, where);
    this.kind = fam.kind;
    this.norm = fam.norm;
    this.pre = fam.pre;
    this.json = j;
    const list = j.added_tokens ?? [];
    this.added = new Map(list.map((t) => [t.id, t.content]));
    const raw: string[] = [];
    const normed: string[] = [];
    for (const t of list) {
      const a: Added = { id: t.id, lstrip: t.lstrip === true, rstrip: t.rstrip === true };
      this.addedByText.set(t.content, a);
      if ((t.normalized ?? !t.special) && this.tok.normalizer) {
        const n = this.tok.normalizer.normalize(t.content);
        normed.push(n);
        this.addedByText.set(n, a);
      } else raw.push(t.content);
    }
    this.rawSplitter = new Splitter(raw);
    this.normSplitter = new Splitter(normed);
    let max = -1;
    for (const id of this.tok.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  /**
   * True when cutting a text where pieceEnd() does gives the same ids as the whole text (the pieces'
   * ids concatenated): byte-level BPE whose pre-tokenizer splits with a regex (GPT-2, Llama 3 and
   * Qwen2 patterns all end a pre-token there, and BPE never merges across pre-tokens), with no
   * phantom prefix space. A custom Split pattern could join what these split, so a sample with every
   * kind of cut is also tokenized both ways once. The engine tokenizes long texts in such pieces.
   */
  get cutsIntoPieces(): boolean {
    this.cuts ??= this.regexSplits() && this.piecesMatchWhole(CUT_SAMPLE);
    return this.cuts;
  }

  private regexSplits(): boolean {
    if (this.kind !== 'byte-level-bpe' || this.pre !== null) return false;
    const p = this.json.pre_tokenizer as { type?: string; use_regex?: boolean; pretokenizers?: unknown[] } | null | undefined;
    if (!p) return false;
    if (p.type === 'ByteLevel') return p.use_regex !== false;
    const steps = p.type === 'Sequence' ? (p.pretokenizers ?? []) as { type?: string; use_regex?: boolean }[] : [];
    return steps.some((q) => q.type === 'Split' || (q.type === 'ByteLevel' && q.use_regex !== false));
  }

  private piecesMatchWhole(text: string): boolean {
    try {
      const whole = this.tok.encode(text, { add_special_tokens: false }).ids;
      const ids: number[] = [];
      for (let a = 0; a < text.length; ) {
        const b = pieceEnd(text, a + 1);
        ids.push(...this.tok.encode(text.slice(a, b), { add_special_tokens: false }).ids);
        a = b;
      }
      return ids.length === whole.length && ids.every((id, i) => id === whole[i]);
    } catch {
      return false;
    }
  }

  /** Longest token in UTF-8 bytes: a text of n bytes has at least n / maxTokenBytes() tokens. */
  maxTokenBytes(): number {
    if (this.maxBytes === 0) {
      let m = 1;
      for (const id of this.tok.get_vocab(true).values()) {
        try {
          m = Math.max(m, this.tokenBytes(id).length);
        } catch {
          /* a vocabulary string that is not bytes: encode() says so if it ever comes up */
        }
      }
      this.maxBytes = m;
    }
    return this.maxBytes;
  }

  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** The UTF-8 bytes that token `id` stands for. */
  tokenBytes(id: number): Uint8Array {
    let b = this.bytesCache.get(id);
    if (b) return b;
    const added = this.added.get(id);
    const s = added ?? this.tok.id_to_token(id);
    if (s === undefined) throw new ProbeError('TOKENIZER_MISMATCH', `token id ${id} is not in the tokenizer's vocabulary`);
    if (added !== undefined) {
      b = encoder.encode(added);
    } else if (this.kind === 'sentencepiece-bpe') {
      const m = BYTE_PIECE.exec(s);
      b = m ? Uint8Array.of(parseInt(m[1], 16)) : encoder.encode(s.replaceAll(META, ' '));
    } else {
      b = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const byte = U2B.get(s[i]);
        if (byte === undefined) {
          throw new ProbeError('TOKENIZER_MISMATCH', `token ${JSON.stringify(s)} (id ${id}) is not a byte-level token, so LM Probe cannot say which bytes it spells`);
        }
        b[i] = byte;
      }
    }
    this.bytesCache.set(id, b);
    return b;
  }

  /** Display text of one token (a partial UTF-8 sequence decodes to U+FFFD; "▁" shows as a space). */
  tokenText(id: number): string {
    let t = this.textCache.get(id);
    if (t === undefined) {
      try {
        t = this.added.get(id) ?? decoder.decode(this.tokenBytes(id));
      } catch {
        t = this.tok.id_to_token(id) ?? '';
      }
      this.textCache.set(id, t);
    }
    return t;
  }

  /** sha256 of what decides the ids, independent of key order and formatting. */
  fingerprint(): string {
    if (!this.fp) {
      const m = this.json.model!;
      const vocab: string[] = [];
      for (const [t, id] of Object.entries(m.vocab ?? {})) vocab[id] = t;
      const merges = (m.merges ?? []).map((x) => (Array.isArray(x) ? x : x.split(' ', 2)));
      const added = (this.json.added_tokens ?? [])
        .map((t) => ({
          id: t.id,
          content: t.content,
          lstrip: t.lstrip === true,
          rstrip: t.rstrip === true,
          normalized: this.json.normalizer ? (t.normalized ?? !t.special) : false, // moot without a normalizer
        }))
        .sort((x, y) => x.id - y.id);
      const what = {
        type: m.type,
        vocab,
        merges,
        byte_fallback: m.byte_fallback === true,
        unk_token: m.unk_token ?? null,
        fuse_unk: m.fuse_unk === true,
        ignore_merges: m.ignore_merges === true,
        added,
        normalizer: this.json.normalizer ?? null,
        pre_tokenizer: this.json.pre_tokenizer ?? null,
      };
      this.fp = createHash('sha256').update(canonical(what)).digest('hex');
    }
    return this.fp;
  }

  encode(text: string): Encoded {
    const warnings: string[] = [];
    const wf = toWellFormed(text);
    if (wf.replaced > 0) {
      warnings.push(
        `the text holds ${wf.replaced} lone UTF-16 surrogate${wf.replaced === 1 ? '' : 's'} (invalid UTF-16, first at offset ${wf.first}); ` +
          'they were read as U+FFFD',
      );
    }
    const s = wf.text;
    const ids = this.tok.encode(s, { add_special_tokens: false }).ids;
    const st = this.stream(s);
    const offsets: [number, number][] = new Array(ids.length);
    let pos = 0;
    for (let t = 0; t < ids.length; t++) {
      const tb = this.tokenBytes(ids[t]);
      if (pos + tb.length > st.n) this.mismatch(ids[t], pos, s, st);
      for (let k = 0; k < tb.length; k++) if (st.b[pos + k] !== tb[k]) this.mismatch(ids[t], pos, s, st);
      if (tb.length === 0) {
        const at = pos < st.n ? st.lo[pos] : s.length;
        offsets[t] = [at, at];
      } else {
        offsets[t] = [st.lo[pos], st.hi[pos + tb.length - 1]];
      }
      pos += tb.length;
    }
    if (pos !== st.n) this.mismatch(-1, pos, s, st);
    // Hugging Face tokenizers match added tokens such as <|bos|> inside the text; say so, since the
    // model then sees a control token where the text only spelled it.
    const special = ids.findIndex((id) => this.added.has(id));
    if (special >= 0) {
      const n = ids.filter((id) => this.added.has(id)).length;
      warnings.push(
        `the text spells the special token ${JSON.stringify(this.added.get(ids[special]))} at offset ${offsets[special][0]}` +
          (n > 1 ? ` (${n} special tokens in all)` : '') +
          '; the tokenizer reads it as that token, not as plain text',
      );
    }
    return { ids, offsets, warnings };
  }

  /** The bytes the tokens must spell, replaying the library's encode_text step by step. */
  private stream(s: string): Stream {
    const out = new Stream();
    const sp = this.kind === 'sentencepiece-bpe';
    const emit = (g: Seg): void => {
      if (g.raw) {
        for (const byte of encoder.encode(g.s)) out.push(byte, g.a, g.b);
      } else if (g.id) {
        for (let i = 0; i < g.s.length; ) {
          const cp = g.s.codePointAt(i)!;
          const u = cp > 0xffff ? 2 : 1;
          out.cp(cp, g.a + i, g.a + i + u, sp);
          i += u;
        }
      } else {
        for (const ch of g.s) out.cp(ch.codePointAt(0)!, g.a, g.b, sp);
      }
    };
    const secs = this.rawSplitter.split(s).map(([a, b]) => ({ t: s.slice(a, b), a, b, ra: a, rb: b }));
    // lstrip/rstrip drop the whitespace next to an added token: the token covers it
    secs.forEach((sec, i) => {
      const tok = this.addedByText.get(sec.t);
      if (!tok) return;
      if (tok.lstrip && i > 0) {
        const p = secs[i - 1];
        p.t = p.t.trimEnd();
        sec.ra = p.b = p.a + p.t.length;
      }
      if (tok.rstrip && i < secs.length - 1) {
        const q = secs[i + 1];
        const t = q.t.trimStart();
        sec.rb = q.a = q.b - t.length;
        q.t = t;
      }
    });
    secs.forEach((sec, index) => {
      if (sec.t.length === 0) return;
      const tok = this.addedByText.get(sec.t);
      if (tok) return emit({ s: this.added.get(tok.id)!, a: sec.ra, b: sec.rb, raw: true });
      let segs: Seg[] = [{ s: sec.t, a: sec.a, b: sec.b, id: true }];
      for (const n of this.norm) {
        if (n === 'nfc') segs = nfc(segs);
        else if (n === 'prepend') segs.unshift(phantom(META, segs));
        else segs = segs.map((g) => ({ ...g, s: g.s.replaceAll(' ', META) }));
      }
      const normed = join(segs);
      for (const [x, y] of this.normSplitter.split(normed)) {
        let part = this.normSplitter.empty ? segs : cut(segs, x, y);
        const sub = normed.slice(x, y);
        const t2 = this.addedByText.get(sub);
        if (t2) {
          emit({ s: this.added.get(t2.id)!, a: part[0].a, b: part[part.length - 1].b, raw: true });
          continue;
        }
        const pre = this.pre;
        if (pre && 'metaspace' in pre) {
          part = part.map((g) => ({ ...g, s: g.s.replaceAll(' ', META) }));
          if (!sub.replaceAll(' ', META).startsWith(META) && (pre.metaspace === 'always' || (pre.metaspace === 'first' && index === 0))) {
            part.unshift(phantom(META, part));
          }
        } else if (pre && !sub.startsWith(' ')) part.unshift(phantom(' ', part));
        part.forEach(emit);
      }
    });
    return out;
  }

  private mismatch(id: number, pos: number, s: string, st: Stream): never {
    const at = pos < st.n ? st.lo[pos] : s.length;
    const what = id >= 0 ? `token ${JSON.stringify(this.tok.id_to_token(id))} (id ${id})` : 'the end of the tokens';
    throw new ProbeError(
      'TOKENIZER_MISMATCH',
      `the tokenizer's output does not spell the text back at offset ${at} (${what}), so LM Probe cannot compute exact offsets ` +
        `for this ${this.kind} tokenizer` +
        (id >= 0 && this.tok.id_to_token(id) === this.json.model?.unk_token ? ': the vocabulary has neither a piece nor byte pieces for a character there' : ''),
    );
  }
}
