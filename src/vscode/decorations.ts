// The heatmap: a handful of decoration types (one per color bucket, the per-line gutter bars, the
// analysed window's marker, overview-ruler marks and the flash of a token revealed from the
// panel), each applied with one setDecorations call per editor. Built in one pass over the spans,
// so a 20,000-token probe stays cheap; while a long probe runs, the windows scored so far are
// painted from a preview (setPreview) and replaced by the result when it arrives.
import * as vscode from 'vscode';
import type { Config } from './config';
import type { ProbeResult, ProbeToken } from '../engine/schema';
import { aggregate, type AggregateUnit } from '../engine/aggregate';
import {
  DIFFERENCE_BUCKETS,
  RANK_BUCKETS,
  SURPRISAL_BUCKETS,
  bucketOf,
  bucketsOf,
  differenceBucket,
  inkRange,
  mostSurprising,
  quantileThresholds,
  rulerMarkCount,
  surprisalBucket,
  thresholdsFor,
  type Measure,
} from './heatmap';
import type { DocProbe, ProbeStore } from './store';
import { effectiveMeasure, hasBackward } from './forwardOnly';
import { tokenRange } from './hoverText';
import { gutterBarSvg, GUTTER_STEPS } from './gutterBars';

const ALL_COLORS = [...SURPRISAL_BUCKETS, ...DIFFERENCE_BUCKETS, ...RANK_BUCKETS].map((b) => b.color);

/** The tokens of a probe that is still running, as they are scored (forward first, then backward). */
export interface Preview {
  /** Document offset of the probed text. */
  base: number;
  /** Sparse: token i is set once its forward score is known; backward is filled in later. */
  tokens: ProbeToken[];
  tokenCount: number;
}

/** One token as the heatmap draws it: its index and its document offsets now. */
interface Placed {
  index: number;
  start: number;
  end: number;
}

export class Heatmap implements vscode.Disposable {
  private types = new Map<string, vscode.TextEditorDecorationType>();
  private gutter: vscode.TextEditorDecorationType[][] = [];
  private ruler!: vscode.TextEditorDecorationType;
  private readonly windowLines: vscode.TextEditorDecorationType;
  private readonly windowEnds: vscode.TextEditorDecorationType;
  private readonly focus: vscode.TextEditorDecorationType;
  private focusTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private pending = new Set<string>();
  private pendingTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly previews = new Map<string, Preview>();

  constructor(
    private readonly config: Config,
    private readonly store: ProbeStore,
    private readonly gutterDir: vscode.Uri,
    private readonly colorDefaults: (id: string) => string | undefined,
  ) {
    this.createTypes();
    this.focus = vscode.window.createTextEditorDecorationType({
      border: '1px solid',
      borderColor: new vscode.ThemeColor('lmProbe.focusBorder'),
      borderRadius: '2px',
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    // The analysed window: a thin dotted bar left of its lines, and its first and last token
    // bracketed by a border; nothing when the window covers the whole probe.
    const windowColor = new vscode.ThemeColor('lmProbe.analysedWindow');
    this.windowLines = vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      borderWidth: '0 0 0 2px',
      borderStyle: 'dotted',
      borderColor: windowColor,
      overviewRulerColor: windowColor,
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.windowEnds = vscode.window.createTextEditorDecorationType({
      borderWidth: '1px',
      borderStyle: 'dotted',
      borderColor: windowColor,
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.subs.push(
      config.onDidChange((c) => {
        if (!c.heatmap) return;
        this.disposeTypes();
        this.createTypes();
        this.renderAll();
      }),
      // Edits that only shift tokens are followed by VS Code itself (ClosedClosed ranges); edits
      // that drop tokens rebuild, batched so that typing stays smooth on large probes.
      store.onDidChange((e) => {
        if (e.reason === 'edit') this.schedule(e.uri);
        else for (const ed of vscode.window.visibleTextEditors) if (ed.document.uri.toString() === e.uri.toString()) this.render(ed);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderAll()),
      // the gutter bars' SVGs carry literal colors: draw them again for the new theme's defaults
      vscode.window.onDidChangeActiveColorTheme(() => {
        if (this.config.unit !== 'line') return;
        this.disposeTypes();
        this.createTypes();
        this.renderAll();
      }),
    );
  }

  private createTypes(): void {
    const overrides = this.config.colorOverrides;
    const color = (id: string) => overrides[id.replace(/^lmProbe\./, '')] ?? new vscode.ThemeColor(id);
    for (const id of ALL_COLORS) {
      this.types.set(
        id,
        vscode.window.createTextEditorDecorationType({
          backgroundColor: color(id),
          borderRadius: '2px',
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
      );
    }
    this.ruler = vscode.window.createTextEditorDecorationType({
      overviewRulerColor: color('lmProbe.overviewRuler.surprising'),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    // Per-line mode: one gutter icon per (bucket, bar length); a gutter icon cannot take a theme
    // color, so the SVGs get the color this theme resolves to (setting override, else the default).
    if (this.config.unit === 'line') {
      const literal = (id: string) => overrides[id.replace(/^lmProbe\./, '')] ?? this.colorDefaults(id) ?? '#888888';
      // A bar is thin: its bucket's hue drawn opaque; the first bucket (uncolored in the text)
      // gets the next one's hue, faint, so that every line's bar shows its length.
      const scales = [SURPRISAL_BUCKETS, DIFFERENCE_BUCKETS];
      this.gutter = scales.flatMap((scale) =>
        scale.map((b, i) => {
          const c = scale === SURPRISAL_BUCKETS && i === 0 ? `${opaque(literal(scale[1].color))}80` : opaque(literal(b.color));
          return Array.from({ length: GUTTER_STEPS }, (_, k) =>
            vscode.window.createTextEditorDecorationType({
              gutterIconPath: gutterBarSvg(this.gutterDir, c, k + 1),
              gutterIconSize: 'contain',
            }),
          );
        }),
      );
    }
  }

  private disposeTypes(): void {
    this.types.forEach((t) => t.dispose());
    this.types.clear();
    this.gutter.flat().forEach((t) => t.dispose());
    this.gutter = [];
    this.ruler?.dispose();
  }

  private schedule(uri: vscode.Uri): void {
    this.pending.add(uri.toString());
    if (this.pendingTimer) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      const keys = this.pending;
      this.pending = new Set();
      for (const ed of vscode.window.visibleTextEditors) if (keys.has(ed.document.uri.toString())) this.render(ed);
    }, 30);
  }

  /** Paints the tokens scored so far of a running probe (undefined: back to the stored result). */
  setPreview(uri: vscode.Uri, preview: Preview | undefined, render = true): void {
    if (preview) this.previews.set(uri.toString(), preview);
    else if (!this.previews.delete(uri.toString()) || !render) return;
    for (const ed of vscode.window.visibleTextEditors) if (ed.document.uri.toString() === uri.toString()) this.render(ed);
  }

  renderAll(): void {
    for (const ed of vscode.window.visibleTextEditors) this.render(ed);
  }

  /** Counts per color id of the last render, for the panel's legend and for tests. */
  lastCounts: Record<string, number> = {};

  /** The thresholds the last render used for surprisal (fixed bits, or the text's quantiles). */
  thresholdsOf(r: Pick<ProbeResult, 'tokens'>, measure: Measure): number[] {
    return thresholdsFor(this.config.thresholdMode, this.config.thresholds, r.tokens, measure);
  }

  render(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const preview = this.previews.get(doc.uri.toString());
    const probe = preview ? undefined : this.store.get(doc.uri);
    const tokens = preview?.tokens ?? probe?.result.tokens;
    const backward = preview ? preview.tokens.some((t) => t?.backward) : probe ? hasBackward(probe.result) : true;
    const measure = tokens ? effectiveMeasure(this.config.measure, backward) : this.config.measure;
    const buckets = tokens ? bucketsOf(measure) : [];
    const placed = preview ? placedPreview(preview) : probe ? placedProbe(probe) : [];
    const groups: vscode.Range[][] = buckets.map(() => []);
    const gutterGroups: vscode.DecorationOptions[][][] = this.gutter.map((g) => g.map(() => []));
    // Rank buckets are not additive: words and lines are summed for the other measures only.
    const unit = this.config.unit === 'token' || measure === 'rank' || measure === 'off' ? 'token' : this.config.unit;
    if (tokens && buckets.length && unit === 'token') {
      const th = this.thresholdsOf({ tokens: tokens.filter(Boolean) }, measure);
      for (const p of placed) {
        const t = tokens[p.index];
        const b = bucketOf(t, measure, th);
        if (b < 0) continue;
        const ink = inkRange(t.text, 0, p.end - p.start);
        if (ink) groups[b].push(new vscode.Range(doc.positionAt(p.start + ink[0]), doc.positionAt(p.start + ink[1])));
      }
    } else if (tokens && buckets.length && unit !== 'token') {
      this.renderUnits(doc, unit, measure, tokens, placed, groups, gutterGroups);
    }
    const counts: Record<string, number> = {};
    for (const id of ALL_COLORS) {
      const b = buckets.findIndex((x) => x.color === id);
      const ranges = b >= 0 ? groups[b] : [];
      counts[id] = ranges.length;
      editor.setDecorations(this.types.get(id)!, ranges);
    }
    this.gutter.forEach((g, b) => g.forEach((type, k) => editor.setDecorations(type, gutterGroups[b][k])));
    counts.gutter = gutterGroups.flat(2).length;
    this.lastCounts = counts;
    editor.setDecorations(this.ruler, probe && this.config.overviewRulerMarks ? this.rulerRanges(doc, probe) : []);
    this.renderWindow(editor, probe);
    if (!probe && !preview) editor.setDecorations(this.focus, []);
  }

  /** Only the analysed window's marker (the analyses arrived, or moved): the heatmap stays. */
  renderWindowOf(uri: vscode.Uri): void {
    for (const ed of vscode.window.visibleTextEditors) {
      if (ed.document.uri.toString() === uri.toString() && !this.previews.has(uri.toString())) this.renderWindow(ed, this.store.get(uri));
    }
  }

  private renderWindow(editor: vscode.TextEditor, probe: DocProbe | undefined): void {
    const win = probe ? windowMarker(editor.document, probe) : null;
    editor.setDecorations(this.windowLines, win ? [win.lines] : []);
    editor.setDecorations(this.windowEnds, win ? win.ends : []);
  }

  /** Words, identifiers or lines colored (or barred in the gutter) by the sum over their tokens. */
  private renderUnits(
    doc: vscode.TextDocument,
    unit: AggregateUnit,
    measure: Measure,
    tokens: readonly ProbeToken[],
    placed: Placed[],
    groups: vscode.Range[][],
    gutterGroups: vscode.DecorationOptions[][][],
  ): void {
    // Only the tokens that are still in place (and, in a preview, already scored in this measure).
    const value = (t: ProbeToken) =>
      measure === 'forward' ? t.forward.surprisalBits : !t.backward ? NaN : measure === 'backward' ? t.backward.surprisalBits : t.backward.surprisalBits - t.forward.surprisalBits;
    const alive = placed.filter((p) => Number.isFinite(value(tokens[p.index])));
    if (!alive.length) return;
    // Document text around the tokens: units are found in what the document holds now.
    const from = alive[0].start, to = alive[alive.length - 1].end;
    const text = doc.getText(new vscode.Range(doc.positionAt(from), doc.positionAt(to)));
    const spans = alive.map((p) => ({ start: p.start - from, end: p.end - from }));
    const sums = aggregate(text, spans, alive.map((p) => value(tokens[p.index])), unit);
    const what = measure === 'difference' ? 'backward − forward surprisal' : `${measure} surprisal`;
    if (unit === 'line') {
      const th = measure === 'difference' ? null : quantileThresholds(sums.map((s) => s.sum));
      const max = Math.max(...sums.map((s) => Math.abs(s.sum)), 1e-9);
      for (const s of sums) {
        const b = measure === 'difference' ? differenceBucket(s.sum) : surprisalBucket(s.sum, th!);
        if (b < 0) continue;
        const bar = measure === 'difference' ? SURPRISAL_BUCKETS.length + b : b;
        const k = Math.max(0, Math.min(GUTTER_STEPS - 1, Math.ceil((GUTTER_STEPS * Math.abs(s.sum)) / max) - 1));
        const line = doc.positionAt(from + s.start).line;
        const n = s.lastToken - s.firstToken + 1;
        gutterGroups[bar][k].push({
          range: doc.lineAt(line).range,
          hoverMessage: new vscode.MarkdownString(
            `**LM Probe** line ${line + 1}: ${s.sum.toFixed(1)} bits of ${what} in ${n} token${n === 1 ? '' : 's'} (${(s.sum / n).toFixed(2)} bits per token)`,
          ),
        });
      }
      return;
    }
    const th = measure === 'difference' ? null : this.config.thresholdMode === 'quantiles' ? quantileThresholds(sums.map((s) => s.sum)) : this.config.thresholds;
    for (const s of sums) {
      const b = measure === 'difference' ? differenceBucket(s.sum) : surprisalBucket(s.sum, th!);
      if (b >= 0) groups[b].push(new vscode.Range(doc.positionAt(from + s.start), doc.positionAt(from + s.end)));
    }
  }

  private rulerRanges(doc: vscode.TextDocument, probe: DocProbe): vscode.Range[] {
    const { spans, result } = probe;
    const alive = spans.tokenIndex.map((i) => result.tokens[i]);
    return mostSurprising(alive, rulerMarkCount(alive.length)).map(
      (p) => new vscode.Range(doc.positionAt(spans.starts[p]), doc.positionAt(spans.ends[p])),
    );
  }

  /** Outlines a range for a moment (the token revealed from the panel). */
  flash(editor: vscode.TextEditor, range: vscode.Range): void {
    editor.setDecorations(this.focus, [range]);
    clearTimeout(this.focusTimer);
    this.focusTimer = setTimeout(() => editor.setDecorations(this.focus, []), 2500);
  }

  dispose(): void {
    clearTimeout(this.focusTimer);
    clearTimeout(this.pendingTimer);
    this.disposeTypes();
    this.focus.dispose();
    this.windowLines.dispose();
    this.windowEnds.dispose();
    this.subs.forEach((d) => d.dispose());
  }
}

/** #rrggbbaa -> #rrggbb (other CSS colors as they are). */
function opaque(color: string): string {
  return /^#[0-9a-f]{8}$/i.test(color) ? color.slice(0, 7) : color;
}

function placedProbe(p: DocProbe): Placed[] {
  const { spans } = p;
  const out = new Array<Placed>(spans.size);
  for (let i = 0; i < spans.size; i++) out[i] = { index: spans.tokenIndex[i], start: spans.starts[i], end: spans.ends[i] };
  return out;
}

function placedPreview(p: Preview): Placed[] {
  const out: Placed[] = [];
  p.tokens.forEach((t, i) => {
    if (t) out.push({ index: i, start: p.base + t.start, end: p.base + t.end });
  });
  return out;
}

/**
 * Where the analyses' window lies in the document: its lines (for the bar) and its first and last
 * token (bracketed), with a hover that says what it is; null when it covers every token.
 */
function windowMarker(doc: vscode.TextDocument, p: DocProbe): { lines: vscode.DecorationOptions; ends: vscode.DecorationOptions[] } | null {
  const w = p.result.analyses?.window;
  const n = p.result.tokens.length;
  if (!w || w.end <= w.start || (w.start === 0 && w.end >= n)) return null;
  // the first and last tokens of the window that are still in place
  let a = -1, b = -1;
  for (let i = w.start; i < w.end && a < 0; i++) a = p.spans.positionOfToken(i);
  for (let i = w.end - 1; i >= w.start && b < 0; i--) b = p.spans.positionOfToken(i);
  if (a < 0 || b < 0) return null;
  const first = new vscode.Range(doc.positionAt(p.spans.starts[a]), doc.positionAt(p.spans.ends[a]));
  const last = new vscode.Range(doc.positionAt(p.spans.starts[b]), doc.positionAt(p.spans.ends[b]));
  const hover = new vscode.MarkdownString(
    `**LM Probe: analysed window**, ${tokenRange(w)} of ${n}. The analyses (future tokens, importance, geometry) run on one window of the model's ${p.result.pack.contextLength - 1}-token context; hover a token outside it to analyse around that one.`,
  );
  return {
    // the hover is on the two ends only: on every line it would lengthen each token's hover
    lines: { range: new vscode.Range(first.start, last.end) },
    ends: [{ range: first, hoverMessage: hover }, { range: last, hoverMessage: hover }],
  };
}
