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

function width(s: string): number {
  let w = 0;
  for (const ch of s) w += cpWidth(ch.codePointAt(0)!);
  return w;
}

function pad(s: string, n: number, right = false): string {
  const len = width(s);
  if (len >= n) return s;
  return right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

function clip(s: string, n: number): string {
  if (width(s) <= n) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = cpWidth(ch.codePointAt(0)!);
    if (w + cw > n - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

function score(s: TokenScore | null): [string, string] {
  if (!s) return ['-', '-'];
  return [s.surprisalBits.toFixed(2), String(s.rank)];
}

export function formatTable(r: ProbeResult, opts: { summaryOnly?: boolean } = {}): string {
  const lines: string[] = [];
  if (!opts.summaryOnly) {
    const hasBw = r.summary.backward !== null;
    const head = [pad('#', 5, true), pad('token', 14), pad('range', 11), pad('fw bits', 8, true), pad('rank', 6, true)];
    if (hasBw) head.push(pad('bw bits', 8, true), pad('rank', 6, true));
    head.push('  fw top guess');
    lines.push(head.join(' '));
    for (const t of r.tokens) {
      const [fb, fr] = score(t.forward);
      const row = [pad(String(t.index), 5, true), pad(clip(visible(t.text), 14), 14), pad(`${t.start}-${t.end}`, 11), pad(fb, 8, true), pad(fr, 6, true)];
      if (hasBw) {
        const [bb, br] = score(t.backward);
        row.push(pad(bb, 8, true), pad(br, 6, true));
      }
      const g = t.forward.top[0];
      row.push('  ' + (g ? `${clip(visible(g.text), 12)} ${(g.prob * 100).toFixed(1)}%` : ''));
      lines.push(row.join(' '));
    }
    lines.push('');
  }
  lines.push(...formatSummary(r));
  return lines.join('\n') + '\n';
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
  if (s.delta !== null) out.push(`delta     ${s.delta.toFixed(5)}  (L_bw - L_fw) / mean(L_bw, L_fw)`);
  const fb = r.runtime.fallbacks.length ? ` (fell back from ${r.runtime.fallbacks.map((f) => f.provider).join(', ')})` : '';
  // How a GPU provider was kept or not (the warm-up's timing, RuntimeInfo.choice) ends the line.
  out.push(`runtime   ${r.runtime.provider}${fb}, ${r.runtime.ms.toFixed(0)} ms${r.runtime.choice ? ` · ${r.runtime.choice}` : ''}`);
  return out;
}
