// Small text helpers without 'vscode': the paragraph under the cursor, visible token text.

/**
 * The paragraph around `line`: the run of non-blank lines that contains it, as [first, last]
 * line numbers, or null when the line itself is blank.
 */
export function paragraphAt(lineAt: (n: number) => string, lineCount: number, line: number): [number, number] | null {
  const blank = (n: number) => lineAt(n).trim() === '';
  if (line < 0 || line >= lineCount || blank(line)) return null;
  let a = line, b = line;
  while (a > 0 && !blank(a - 1)) a--;
  while (b < lineCount - 1 && !blank(b + 1)) b++;
  return [a, b];
}

/** Token text with whitespace made visible, for hovers and the panel (· for space, ⏎ for newline). */
export function visible(text: string): string {
  return (
    text
      .replace(/ /g, '·')
      .replace(/\r\n|\n|\r/g, '⏎')
      .replace(/\t/g, '⇥')
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) || '∅'
  );
}

/** Escapes text for a Markdown code span by choosing a fence longer than any backtick run. */
export function codeSpan(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

export function pct(p: number): string {
  return p >= 0.995 ? `${(p * 100).toFixed(0)}%` : p >= 0.001 ? `${(p * 100).toFixed(1)}%` : `${(p * 100).toExponential(0)}%`;
}
