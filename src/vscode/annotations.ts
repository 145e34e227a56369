// Where each probed token lies in a document, kept right while the user edits. Pure offsets (no
// 'vscode' import) so that it is unit-tested: a change shifts the spans after it and drops the
// spans whose characters it touches, so an annotation never points at different characters than
// the ones the model saw.

/** One content change, as in vscode.TextDocumentContentChangeEvent (offsets before the change). */
export interface OffsetChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/**
 * Token spans of one probe in one document, as parallel arrays sorted by start (tokens never
 * overlap except when two share a split character; then they have the same range).
 * tokenIndex[i] indexes ProbeResult.tokens.
 */
export class SpanTable {
  constructor(
    public starts: number[],
    public ends: number[],
    public tokenIndex: number[],
  ) {}

  /** Spans of a result's tokens placed at `base` (the document offset of the probed text). */
  static fromTokens(tokens: readonly { start: number; end: number }[], base: number): SpanTable {
    const n = tokens.length;
    const s = new Array<number>(n), e = new Array<number>(n), ix = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      s[i] = base + tokens[i].start;
      e[i] = base + tokens[i].end;
      ix[i] = i;
    }
    return new SpanTable(s, e, ix);
  }

  get size(): number {
    return this.starts.length;
  }

  /**
   * Applies content changes in the order VS Code reports them (each change's offsets are valid
   * after the ones before it were applied). Returns how many spans were dropped.
   */
  applyChanges(changes: readonly OffsetChange[]): number {
    let dropped = 0;
    for (const c of changes) dropped += this.applyChange(c);
    return dropped;
  }

  private applyChange(c: OffsetChange): number {
    const from = c.rangeOffset;
    const to = c.rangeOffset + c.rangeLength;
    const delta = c.text.length - c.rangeLength;
    const n = this.starts.length;
    // First span that may be affected: the first whose end > from (spans ending at `from` are untouched).
    const lo = lowerBoundEnd(this.ends, from);
    // A pure insertion exactly at a span's start does not touch it; an insertion strictly inside does.
    const s = this.starts, e = this.ends, ix = this.tokenIndex;
    let w = lo;
    let dropped = 0;
    for (let i = lo; i < n; i++) {
      const st = s[i], en = e[i];
      const untouchedAfter = c.rangeLength === 0 ? st >= from : st >= to;
      if (untouchedAfter) {
        s[w] = st + delta;
        e[w] = en + delta;
        ix[w] = ix[i];
        w++;
      } else {
        dropped++;
      }
    }
    s.length = w;
    e.length = w;
    ix.length = w;
    return dropped;
  }

  /** Position (into the arrays) of the span that contains `offset`, or -1. Binary search. */
  find(offset: number): number {
    let lo = 0, hi = this.starts.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= offset) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Two tokens can share one split character: take the first of them.
    while (at > 0 && this.starts[at - 1] === this.starts[at]) at--;
    if (at >= 0 && offset < this.ends[at]) return at;
    return -1;
  }

  /** Position of the span for a token index, or -1 (binary search: tokenIndex stays sorted). */
  positionOfToken(tokenIndex: number): number {
    let lo = 0, hi = this.tokenIndex.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.tokenIndex[mid];
      if (v === tokenIndex) return mid;
      if (v < tokenIndex) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** First i with ends[i] > x (ends are non-decreasing). */
function lowerBoundEnd(ends: number[], x: number): number {
  let lo = 0, hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Follows one range [start, end) through changes while a probe runs: returns the moved range, or
 * null when a change touched it (the result would no longer match the text).
 */
export function trackRange(range: { start: number; end: number }, changes: readonly OffsetChange[]): { start: number; end: number } | null {
  const t = new SpanTable([range.start], [range.end], [0]);
  // An insertion exactly at the start of the range is outside it; strictly inside touches it.
  if (t.applyChanges(changes) > 0 || t.size === 0) return null;
  return { start: t.starts[0], end: t.ends[0] };
}
