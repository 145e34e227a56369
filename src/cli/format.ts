// Plain-text rendering of a ProbeResult for terminals.
import type { ProbeResult, TokenScore } from '../engine/schema';

const INVISIBLE = /^[\p{Cf}\p{Zl}\p{Zp}\p{Cc}]$/u;
const MARK = /^\p{M}$/u;

/** A token's text made visible on one line: control characters and spaces escaped. */
export function visible(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === ' ') out += '·';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0xd800 && c <= 0xdfff) || INVISIBLE.test(ch)) out += `\\u{${c.toString(16)}}`;
    else if (out === '' && MARK.test(ch)) out += '\u25cc' + ch; // a lone combining mark on a dotted circle
    else out += ch;
  }
  return out;
}

/** Terminal columns of one code point: 0 for combining marks and joiners, 2 for wide (CJK, emoji), else 1. */
function cpWidth(c: number): number {
  if ((c >= 0x300 && c <= 0x36f) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x1f3fb && c <= 0x1f3ff)) return 0;
  if (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f000 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Terminal columns of one grapheme cluster (what a terminal draws as one character): 2 for an
 * emoji shown as emoji (a ZWJ family, a skin-toned hand, a flag's pair are each one emoji, and so
 * is a skin tone alone), else the widest of its code points (a letter with combining marks is 1).
 */
function clusterWidth(g: string): number {
  if (/\p{Emoji_Presentation}/u.test(g) || (/\p{Extended_Pictographic}/u.test(g) && g.includes('\ufe0f'))) return 2;
  let w = 0;
  for (const ch of g) w = Math.max(w, cpWidth(ch.codePointAt(0)!));
  return w;
}

/** Terminal columns of a string, by grapheme cluster (the table pads and clips by this). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const { segment } of graphemes.segment(s)) w += clusterWidth(segment);
  return w;
}

function pad(s: string, n: number, right = false): string {
  const len = displayWidth(s);
  if (len >= n) return s;
  return right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

/** s cut to at most n columns, never inside a character, with … when cut. */
function clip(s: string, n: number): string {
  if (displayWidth(s) <= n) return s;
  let out = '';
  let w = 0;
  for (const { segment } of graphemes.segment(s)) {
    const cw = clusterWidth(segment);
    if (w + cw > n - 1) break;
    out += segment;
    w += cw;
  }
  return out + '…';
}

/**
 * For each token, [k, n] when it is the k-th of n consecutive tokens that share one UTF-16 range:
 * a byte-level tokenizer split one character into n tokens, each of which can only show the whole
 * character. null for a token of its own.
 */
export function splitParts(tokens: { start: number; end: number }[]): ([number, number] | null)[] {
  const out: ([number, number] | null)[] = new Array(tokens.length).fill(null);
  for (let i = 0; i < tokens.length; ) {
    let j = i + 1;
    while (j < tokens.length && tokens[j].start === tokens[i].start && tokens[j].end === tokens[i].end) j++;
    if (j - i > 1) for (let k = i; k < j; k++) out[k] = [k - i + 1, j - i];
    i = j;
  }
  return out;
}

function score(s: TokenScore | null): [string, string] {
  if (!s) return ['-', '-'];
  return [s.surprisalBits.toFixed(2), String(s.rank)];
}

export function formatTable(r: ProbeResult, opts: { summaryOnly?: boolean } = {}): string {
  const lines: string[] = [];
  if (!opts.summaryOnly) {
    const hasBw = r.summary.backward !== null;
    const parts = splitParts(r.tokens);
    const hasParts = parts.some((p) => p !== null);
    const head = [pad('#', 5, true), pad('token', 14)];
    if (hasParts) head.push(pad('part', 5));
    head.push(pad('range', 11), pad('fw bits', 8, true), pad('rank', 6, true));
    if (hasBw) head.push(pad('bw bits', 8, true), pad('rank', 6, true));
    head.push('  fw top guess');
    lines.push(head.join(' '));
    r.tokens.forEach((t, i) => {
      const [fb, fr] = score(t.forward);
      const row = [pad(String(t.index), 5, true), pad(clip(visible(t.text), 14), 14)];
      if (hasParts) row.push(pad(parts[i] ? `${parts[i]![0]}/${parts[i]![1]}` : '', 5));
      row.push(pad(`${t.start}-${t.end}`, 11), pad(fb, 8, true), pad(fr, 6, true));
      if (hasBw) {
        const [bb, br] = score(t.backward);
        row.push(pad(bb, 8, true), pad(br, 6, true));
      }
      const g = t.forward.top[0];
      row.push('  ' + (g ? `${clip(visible(g.text), 12)} ${(g.prob * 100).toFixed(1)}%` : ''));
      lines.push(row.join(' ').trimEnd());
    });
    lines.push(legend(hasBw, hasParts), '');
  }
  lines.push(...formatSummary(r));
  return lines.join('\n') + '\n';
}

/** The table's columns and symbols in words (one line under the table). */
function legend(hasBw: boolean, hasParts: boolean): string {
  const cols = [
    `bits: surprisal, fw -log2 p(token | text before)${hasBw ? ', bw -log2 q(token | text after)' : ''}`,
    'rank 1 = the top guess',
    'range: UTF-16 [start-end)',
    ...(hasParts ? ['part k/n: k-th of n tokens that split one character'] : []),
    '· space, \\n newline, \\t tab, \\xNN \\u{N} invisible, ◌ lone combining mark, … cut',
  ];
  return `legend: ${cols.join('; ')}`;
}

export function formatSummary(r: ProbeResult): string[] {
  const s = r.summary;
  const out = [
    // A model without a backward twin says so here, and its table and summary have no empty columns or lines.
    `pack      ${r.pack.name} (${r.pack.dir})${s.backward ? '' : ' · forward only: this model has no right-to-left twin'}`,
    `tokens    ${s.tokenCount} in ${r.runtime.windows} window${r.runtime.windows === 1 ? '' : 's'}${s.backward ? ' per direction' : ''}`,
    `forward   ${s.forward.meanNats.toFixed(4)} nats/token (${(s.forward.meanNats / Math.LN2).toFixed(3)} bits)`,
  ];
  if (s.backward) out.push(`backward  ${s.backward.meanNats.toFixed(4)} nats/token (${(s.backward.meanNats / Math.LN2).toFixed(3)} bits)`);
  if (s.delta !== null) {
    out.push(`delta     ${s.delta.toFixed(5)}  (L_bw - L_fw) / mean(L_bw, L_fw); > 0: the backward model finds the text harder`);
    const ci = s.deltaInterval;
    out.push(
      ci
        ? `          95% CI [${ci.lo.toFixed(5)}, ${ci.hi.toFixed(5)}], bootstrap over ${ci.blocks} blocks of ${ci.blockTokens} tokens, ${ci.resamples} resamples`
        : `          no interval: ${s.deltaIntervalNote ?? 'too short for an interval'}`,
    );
  }
  const fb = r.runtime.fallbacks.length ? ` (fell back from ${r.runtime.fallbacks.map((f) => f.provider).join(', ')})` : '';
  // How a GPU provider was kept or not (the warm-up's timing, RuntimeInfo.choice) ends the line.
  out.push(`runtime   ${r.runtime.provider}${fb}, ${r.runtime.ms.toFixed(0)} ms${r.runtime.choice ? ` · ${r.runtime.choice}` : ''}`);
  return out;
}
