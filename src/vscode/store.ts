// The probes that annotate open documents: one per document, with its token spans kept in step
// with edits (annotations.ts). Hovers, decorations and the panel all read from here, so a hover
// never calls the model.
import * as vscode from 'vscode';
import type { ProbeResult } from '../engine/schema';
import { SpanTable } from './annotations';

export interface DocProbe {
  uri: vscode.Uri;
  result: ProbeResult;
  spans: SpanTable;
  /** When the probe finished (ms since epoch). */
  at: number;
  /** Sequence number of this probe (unique per store): analyses answers are matched against it. */
  seq: number;
  /** The newest analyses request started for this probe (progressive.ts). */
  analysesRequest: number;
}

export interface StoreChange {
  uri: vscode.Uri;
  /** Tokens were dropped (their text changed) or the probe was set or cleared: decorations must be rebuilt. */
  rebuild: boolean;
  /** 'set' and 'clear' are rendered at once; 'edit' is batched while the user types. */
  reason: 'set' | 'edit' | 'clear';
}

export class ProbeStore implements vscode.Disposable {
  private readonly byUri = new Map<string, DocProbe>();
  private lastKey: string | undefined;
  private seq = 0;
  private readonly emitter = new vscode.EventEmitter<StoreChange>();
  readonly onDidChange = this.emitter.event;
  private readonly subs: vscode.Disposable[];

  constructor() {
    this.subs = [
      vscode.workspace.onDidChangeTextDocument((e) => {
        const p = this.byUri.get(e.document.uri.toString());
        if (!p || e.contentChanges.length === 0) return;
        const dropped = p.spans.applyChanges(e.contentChanges);
        if (dropped > 0) this.emitter.fire({ uri: p.uri, rebuild: true, reason: 'edit' });
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.clear(d.uri)),
    ];
  }

  set(doc: vscode.TextDocument, result: ProbeResult, base: number): DocProbe {
    const p: DocProbe = { uri: doc.uri, result, spans: SpanTable.fromTokens(result.tokens, base), at: Date.now(), seq: ++this.seq, analysesRequest: 0 };
    this.byUri.set(doc.uri.toString(), p);
    this.lastKey = doc.uri.toString();
    this.emitter.fire({ uri: doc.uri, rebuild: true, reason: 'set' });
    return p;
  }

  /**
   * Replaces the result of probe `seq` (the analyses arrived): same tokens, so the spans and the
   * decorations stay; hovers read the new result at once. False when that probe is gone.
   */
  updateResult(uri: vscode.Uri, seq: number, result: ProbeResult): boolean {
    const p = this.byUri.get(uri.toString());
    if (!p || p.seq !== seq || p.result.tokens.length !== result.tokens.length) return false;
    p.result = result;
    return true;
  }

  get(uri: vscode.Uri): DocProbe | undefined {
    return this.byUri.get(uri.toString());
  }

  /** The most recent probe that is still annotating a document. */
  get last(): DocProbe | undefined {
    return this.lastKey ? this.byUri.get(this.lastKey) : undefined;
  }

  get size(): number {
    return this.byUri.size;
  }

  clear(uri?: vscode.Uri): void {
    const keys = uri ? [uri.toString()] : [...this.byUri.keys()];
    for (const k of keys) {
      const p = this.byUri.get(k);
      if (!p) continue;
      this.byUri.delete(k);
      if (this.lastKey === k) this.lastKey = undefined;
      this.emitter.fire({ uri: p.uri, rebuild: true, reason: 'clear' });
    }
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
    this.emitter.dispose();
  }
}
