// The hover's Markdown for one probed token, built from the cached ProbeResult (no model call).
// Compact on purpose: in a code file it sits above the language server's hover, so it is one
// small table (surprisal, rank and the top 3 each way) and one line of links; entropy, the
// difference, importance and the rest are in the panel ("More in the panel"). Separators are
// words, commas and table cells: "·" only ever stands for a space inside a token.
// No 'vscode' import so that it is unit-tested; hovers.ts wraps it in a MarkdownString.
import type { ProbeResult, TokenScore } from '../engine/schema';
import { codeSpan, pct, visible } from './text';
import { FORWARD_ONLY } from './forwardOnly';

/** Alternatives shown per direction. */
export const HOVER_TOP = 3;
/** Selections up to this many tokens are "tiny": the hover says what each measure needs. */
export const TINY_TOKENS = 16;
/** Token text longer than this is cut (with …) in the hover's table. */
const MAX_TOKEN_CHARS = 16;

/** The commands the hover links to (hovers.ts trusts exactly these). */
export const HOVER_COMMANDS = ['lmProbe.showTokenInPanel', 'lmProbe.analyseAround'] as const;

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

function short(text: string): string {
  const v = visible(text);
  return codeSpan([...v].length > MAX_TOKEN_CHARS ? `${[...v].slice(0, MAX_TOKEN_CHARS - 1).join('')}…` : v);
}

function alternatives(s: TokenScore, actualId: number): string {
  if (!s.top.length) return '_in the panel_';
  return s.top
    .slice(0, HOVER_TOP)
    .map((a) => `${short(a.text)}${a.id === actualId ? ' ✓' : ''} ${pct(a.prob)}`)
    .join(', ');
}

export function commandLink(label: string, command: (typeof HOVER_COMMANDS)[number], args: unknown[]): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}

/** Tokens [start, end) as the 1-based, inclusive range a reader expects ("tokens 121-375"). */
export function tokenRange(w: { start: number; end: number }): string {
  return w.end - w.start === 1 ? `token #${w.start}` : `tokens #${w.start}–#${w.end - 1}`;
}

/**
 * Why a token has no analyses, or null when it has them (or none were computed): the analyses
 * cover one window of the model's context, and this token is outside it.
 */
export function outsideWindowNote(r: ProbeResult, index: number): string | null {
  const w = r.analyses?.window;
  if (!w || w.end <= w.start || (index >= w.start && index < w.end)) return null;
  return `No analyses for this token: they cover ${tokenRange(w)} of ${r.tokens.length}, one window of the model's ${r.pack.contextLength - 1}-token context.`;
}

/** One line per thing the text is too short for (the Δ interval, analyses the engine skipped). */
export function tooShortNotes(r: ProbeResult): string[] {
  if (r.tokens.length > TINY_TOKENS) return [];
  const out: string[] = [];
  if (r.summary.backward && !r.summary.deltaInterval && r.summary.deltaIntervalNote) out.push(`Δ: ${r.summary.deltaIntervalNote}`);
  for (const n of r.analyses?.notes ?? []) if (/too short|needs? (at least|more)|at least \d+ tokens?/i.test(n)) out.push(n);
  return out;
}

export function hoverMarkdown(r: ProbeResult, index: number): string {
  const t = r.tokens[index];
  const fw = t.forward, bw = t.backward;
  const lines: string[] = [];
  lines.push(`**LM Probe** token ${short(t.text)} (#${index} of ${r.tokens.length})`, '');
  lines.push(`| | surprisal | rank | top ${HOVER_TOP} |`, '|:--|--:|--:|:--|');
  lines.push(`| forward | ${f2(fw.surprisalBits)} bits | ${fw.rank} | ${alternatives(fw, t.id)} |`);
  if (bw) lines.push(`| backward | ${f2(bw.surprisalBits)} bits | ${bw.rank} | ${alternatives(bw, t.id)} |`);
  lines.push('');
  if (!bw) lines.push(`_${FORWARD_ONLY}._`, '');
  for (const n of tooShortNotes(r)) lines.push(`_${n}_`, '');
  // the last line: why there are no analyses here (then how to get them), and the panel
  const outside = outsideWindowNote(r, index);
  const more = commandLink('More in the panel', 'lmProbe.showTokenInPanel', [index]);
  lines.push(outside ? `_${outside}_ ${commandLink('Analyse around this token', 'lmProbe.analyseAround', [index])}, ${more.replace('More', 'more')}` : more);
  return lines.join('\n');
}
