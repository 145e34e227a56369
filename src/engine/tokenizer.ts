// Tokenizer with exact UTF-16 offsets.
//
// Ids come from @huggingface/tokenizers (pure JS, the Hugging Face tokenizer.json semantics), which
// returns no offsets. We compute them ourselves: every token of a byte-level BPE is a run of the
// text's UTF-8 bytes (its vocabulary string maps back to bytes through GPT-2's byte-to-unicode
// table; an added token such as <|bos|> is its content's bytes). Walking the tokens' bytes against
// the text's UTF-8 encoding gives each token a byte range, which maps to UTF-16 code units. A token
// that starts or ends inside a multi-byte character gets that whole character's range, so tokens
// that split one character share its range; otherwise tokens are disjoint and cover the text.
//
// If the bytes do not line up (a normalizer that rewrites the text, a tokenizer that is not
// byte-level) we refuse with TOKENIZER_MISMATCH rather than invent offsets.
//
// Lone surrogates (invalid UTF-16) are replaced with U+FFFD for tokenization only. U+FFFD is one
// UTF-16 unit like the surrogate it replaces, so offsets still index the original text.
import { Tokenizer } from '@huggingface/tokenizers';
import { ProbeError } from './errors';

export interface Encoded {
  ids: number[];
  /** [start, end) UTF-16 offsets into the original text, one per id. */
  offsets: [number, number][];
  warnings: string[];
}

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

function byteLevelAddsPrefixSpace(pre: unknown): boolean {
  if (!pre || typeof pre !== 'object') return false;
  const p = pre as { type?: string; add_prefix_space?: boolean; pretokenizers?: unknown[] };
  if (p.type === 'ByteLevel') return p.add_prefix_space === true;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return p.pretokenizers.some(byteLevelAddsPrefixSpace);
  return false;
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
  private readonly tok: Tokenizer;
  private readonly bytesCache = new Map<number, Uint8Array>();
  private readonly textCache = new Map<number, string>();
  private readonly added: Map<number, string>;
  /** ByteLevel's add_prefix_space: a space is put before a text that does not start with one. */
  private readonly addPrefixSpace: boolean;
  /** Number of ids the tokenizer can produce (vocabulary plus added tokens). */
  readonly vocabSize: number;

  constructor(json: unknown, where: string) {
    try {
      this.tok = new Tokenizer(json as object, {});
    } catch (e) {
      throw new ProbeError('BAD_PACK', `${where}: not a tokenizer.json that @huggingface/tokenizers can load: ${(e as Error).message}`);
    }
    const j = json as { model?: { type?: string }; added_tokens?: { id: number; content: string }[] };
    if (j.model?.type !== 'BPE') {
      throw new ProbeError('BAD_PACK', `${where}: field "model.type": expected "BPE" (byte-level BPE), got ${JSON.stringify(j.model?.type)}`);
    }
    this.added = new Map((j.added_tokens ?? []).map((t) => [t.id, t.content]));
    this.addPrefixSpace = byteLevelAddsPrefixSpace((json as { pre_tokenizer?: unknown }).pre_tokenizer);
    let max = -1;
    for (const id of this.tok.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  private maxBytes = 0;

  /** Longest token in UTF-8 bytes: a text of n bytes has at least n / maxTokenBytes() tokens. */
  maxTokenBytes(): number {
    if (this.maxBytes === 0) {
      let m = 1;
      for (const id of this.tok.get_vocab(true).values()) {
        try {
          m = Math.max(m, this.tokenBytes(id).length);
        } catch {
          /* not byte-level: encode() will say so */
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
    if (added !== undefined) {
      b = encoder.encode(added);
    } else {
      const s = this.tok.id_to_token(id);
      if (s === undefined) throw new ProbeError('TOKENIZER_MISMATCH', `token id ${id} is not in the tokenizer's vocabulary`);
      b = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const byte = U2B.get(s[i]);
        if (byte === undefined) {
          throw new ProbeError(
            'TOKENIZER_MISMATCH',
            `token ${JSON.stringify(s)} (id ${id}) is not a byte-level token: LM Probe needs a byte-level BPE tokenizer to compute offsets`,
          );
        }
        b[i] = byte;
      }
    }
    this.bytesCache.set(id, b);
    return b;
  }

  /** Display text of one token (a partial UTF-8 sequence decodes to U+FFFD). */
  tokenText(id: number): string {
    let t = this.textCache.get(id);
    if (t === undefined) {
      t = this.tok.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      this.textCache.set(id, t);
    }
    return t;
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
    // With add_prefix_space the tokens spell " " + text: that phantom space belongs to the first
    // character (a token made of it alone shares the first character's range).
    const phantom = this.addPrefixSpace && !s.startsWith(' ') && s.length > 0 ? 1 : 0;
    const bytes = encoder.encode(phantom ? ' ' + s : s);
    // byte index -> UTF-16 [start, end) of the character that holds it
    const charStart = new Int32Array(bytes.length);
    const charEnd = new Int32Array(bytes.length);
    if (phantom) charEnd[0] = s.codePointAt(0)! > 0xffff ? 2 : 1;
    let bi = phantom;
    for (let i = 0; i < s.length; ) {
      const cp = s.codePointAt(i)!;
      const units = cp > 0xffff ? 2 : 1;
      const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < n; k++) {
        charStart[bi + k] = i;
        charEnd[bi + k] = i + units;
      }
      bi += n;
      i += units;
    }
    const offsets: [number, number][] = new Array(ids.length);
    let pos = 0;
    for (let t = 0; t < ids.length; t++) {
      const tb = this.tokenBytes(ids[t]);
      if (pos + tb.length > bytes.length) this.mismatch(ids[t], pos, s, charStart);
      for (let k = 0; k < tb.length; k++) if (bytes[pos + k] !== tb[k]) this.mismatch(ids[t], pos, s, charStart);
      if (tb.length === 0) {
        const at = pos < bytes.length ? charStart[pos] : s.length;
        offsets[t] = [at, at];
      } else {
        offsets[t] = [charStart[pos], charEnd[pos + tb.length - 1]];
      }
      pos += tb.length;
    }
    if (pos !== bytes.length) this.mismatch(-1, pos, s, charStart);
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

  private mismatch(id: number, pos: number, s: string, charStart: Int32Array): never {
    const at = pos < charStart.length ? charStart[pos] : s.length;
    const what = id >= 0 ? `token ${JSON.stringify(this.tok.id_to_token(id))} (id ${id})` : 'the end of the tokens';
    throw new ProbeError(
      'TOKENIZER_MISMATCH',
      `the tokenizer's output does not spell the text back at offset ${at} (${what}): ` +
        'a normalizer probably rewrote the text; LM Probe needs a byte-level BPE tokenizer without a normalizer to compute exact offsets',
    );
  }
}
