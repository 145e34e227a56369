// The heatmap: a handful of decoration types (one per color bucket, plus overview-ruler marks and
// the flash of a token revealed from the panel), each applied with one setDecorations call per
// editor. Built in one pass over the spans, so a 20,000-token probe stays cheap.
import * as vscode from 'vscode';
import type { Config } from './config';
import { DIFFERENCE_BUCKETS, RANK_BUCKETS, SURPRISAL_BUCKETS, bucketOf, bucketsOf, mostSurprising, rulerMarkCount } from './heatmap';
import type { DocProbe, ProbeStore } from './store';
import { effectiveMeasure, hasBackward } from './forwardOnly';

const ALL_COLORS = [...SURPRISAL_BUCKETS, ...DIFFERENCE_BUCKETS, ...RANK_BUCKETS].map((b) => b.color);

export class Heatmap implements vscode.Disposable {
  private types = new Map<string, vscode.TextEditorDecorationType>();
  private ruler!: vscode.TextEditorDecorationType;
  private readonly focus: vscode.TextEditorDecorationType;
  private focusTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private pending = new Set<string>();
  private pendingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly config: Config,
    private readonly store: ProbeStore,
  ) {
    this.createTypes();
    this.focus = vscode.window.createTextEditorDecorationType({
      border: '1px solid',
      borderColor: new vscode.ThemeColor('lmProbe.focusBorder'),
      borderRadius: '2px',
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
  }

  private disposeTypes(): void {
    this.types.forEach((t) => t.dispose());
    this.types.clear();
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

  renderAll(): void {
    for (const ed of vscode.window.visibleTextEditors) this.render(ed);
  }

  /** Counts per color id of the last render, for the panel's legend and for tests. */
  lastCounts: Record<string, number> = {};

  render(editor: vscode.TextEditor): void {
    const probe = this.store.get(editor.document.uri);
    // backward and difference fall back to forward surprisal on a model without a backward twin
    const measure = probe ? effectiveMeasure(this.config.measure, hasBackward(probe.result)) : this.config.measure;
    const buckets = probe ? bucketsOf(measure) : [];
    const groups: vscode.Range[][] = buckets.map(() => []);
    if (probe && buckets.length) {
      const { spans, result } = probe;
      const th = this.config.thresholds;
      const doc = editor.document;
      for (let p = 0; p < spans.size; p++) {
        const b = bucketOf(result.tokens[spans.tokenIndex[p]], measure, th);
        if (b >= 0) groups[b].push(new vscode.Range(doc.positionAt(spans.starts[p]), doc.positionAt(spans.ends[p])));
      }
    }
    const counts: Record<string, number> = {};
    for (const id of ALL_COLORS) {
      const b = buckets.findIndex((x) => x.color === id);
      const ranges = b >= 0 ? groups[b] : [];
      counts[id] = ranges.length;
      editor.setDecorations(this.types.get(id)!, ranges);
    }
    this.lastCounts = counts;
    editor.setDecorations(this.ruler, probe && this.config.overviewRulerMarks ? this.rulerRanges(editor.document, probe) : []);
    if (!probe) editor.setDecorations(this.focus, []);
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
    this.subs.forEach((d) => d.dispose());
  }
}
