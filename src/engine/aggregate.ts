// Surprisal summed over the units people read (words, identifiers, lines) instead of BPE pieces.
// Pure (no 'vscode', no model): the editor's heatmap modes, the panel and the CLI share it.
//
// Each token counts towards at most one unit: the unit that holds the token's first
// non-whitespace character (a token that is only whitespace belongs to the line it starts on, and
// to no word). So the units' sums never count a token twice, and per line they add up to the
// selection's total. Surprisal is additive: the sum over a word's tokens is -log2 p(word | before)
// for the forward model (and given the text after, for the backward one).

export type AggregateUnit = 'word' | 'identifier' | 'line';
export const AGGREGATE_UNITS: readonly AggregateUnit[] = ['word', 'identifier', 'line'];

export interface TokenSpan {
  start: number;
  end: number;
}

export interface UnitSum {
  /** UTF-16 [start, end) of the unit in the probed text (for a line: without its line break). */
  start: number;
  end: number;
  /** Tokens [firstToken, lastToken] counted in this unit (consecutive). */
  firstToken: number;
  lastToken: number;
  /** Sum of the tokens' values (bits when the values are surprisal in bits). */
  sum: number;
}

// Letters, marks and digits; apostrophes and hyphens inside a word ("don't", "well-known").
const WORD = /[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*/gu;
// Identifiers of most programming languages: letters, digits, _ and $ ("lm_probe", "$el", "x2").
const IDENTIFIER = /[\p{L}\p{M}\p{N}_$]+/gu;

/** The [start, end) ranges of a text's units, in order. */
export function unitRanges(text: string, unit: AggregateUnit): [number, number][] {
  if (unit === 'line') {
    const out: [number, number][] = [];
    const re = /\r\n|\n|\r/g;
    let a = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      out.push([a, m.index]);
      a = m.index + m[0].length;
    }
    out.push([a, text.length]);
    return out;
  }
  const re = unit === 'word' ? new RegExp(WORD) : new RegExp(IDENTIFIER);
  return [...text.matchAll(re)].map((m) => [m.index!, m.index! + m[0].length]);
}

/**
 * Sums `values[i]` (one per token) over the units of `text` that hold the tokens. Units without a
 * token of their own (a word inside a token that starts in an earlier one) are left out.
 */
export function aggregate(text: string, tokens: readonly TokenSpan[], values: ArrayLike<number>, unit: AggregateUnit): UnitSum[] {
  const ranges = unitRanges(text, unit);
  const out: UnitSum[] = [];
  let u = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    let at = t.start;
    while (at < t.end && /\s/.test(text[at])) at++;
    if (at === t.end) {
      // whitespace only: in no word; on the line it starts on (a line break ends its line)
      if (unit !== 'line') continue;
      at = t.start;
    }
    // tokens come in text order: the last unit that starts at or before `at`
    while (u + 1 < ranges.length && ranges[u + 1][0] <= at) u++;
    if (u < 0) continue;
    const [a, b] = ranges[u];
    if (unit !== 'line' && at >= b) continue; // punctuation, operators: no word
    const last = out[out.length - 1];
    if (last && last.start === a && last.end === b) {
      last.sum += values[i];
      last.lastToken = i;
    } else out.push({ start: a, end: b, firstToken: i, lastToken: i, sum: values[i] });
  }
  return out;
}
