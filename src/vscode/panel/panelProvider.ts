// The side panel (a WebviewView): summary card, legend, charts, token strip and the analyses'
// section. The browser side is webview/main.ts, bundled to dist/webview.js. Strict CSP with a
// nonce; no remote resources; the last state is re-sent whenever the view is (re)created.
import * as vscode from 'vscode';
import { showWebview } from '../webviewHtml';
import type { Analyses, ProbeResult } from '../../engine/schema';
import type { AnalysesStatus, FromWebview, PanelSettings, ResultSource, ToWebview } from './protocol';

export const PANEL_VIEW_ID = 'lmProbe.panel';
const SLIM_ABOVE = 5000;

export interface PanelHandlers {
  reveal(index: number): void;
  setMeasure(m: PanelSettings['measure']): void;
  run(command: string): void;
  analysisOptions(a: Extract<FromWebview, { type: 'analysisOptions' }>['analyses']): void;
}

export class PanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private state: Extract<ToWebview, { type: 'state' }>;
  private busyMsg: ToWebview | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    settings: PanelSettings,
    private readonly handlers: PanelHandlers,
  ) {
    this.state = { type: 'state', result: null, source: null, settings, analysesStatus: { state: 'off' } };
  }

  get visible(): boolean {
    return !!this.view?.visible;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    showWebview(view, this.extensionUri, { script: 'webview.js', title: 'LM Probe' });
    this.subs.push(
      view.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  private onMessage(m: FromWebview): void {
    switch (m?.type) {
      case 'ready':
        this.post(this.state);
        if (this.busyMsg) this.post(this.busyMsg);
        return;
      case 'reveal':
        if (Number.isInteger(m.index)) this.handlers.reveal(m.index);
        return;
      case 'setMeasure':
        this.handlers.setMeasure(m.measure);
        return;
      case 'run':
        this.handlers.run(m.command);
        return;
      case 'analysisOptions':
        this.handlers.analysisOptions(m.analyses);
        return;
    }
  }

  /** Opens the view; keeps the focus where it is unless asked. */
  async show(preserveFocus = true): Promise<void> {
    if (this.view) {
      this.view.show(preserveFocus);
      return;
    }
    const editor = vscode.window.activeTextEditor;
    await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
    if (preserveFocus && editor) {
      await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false, selection: editor.selection });
    }
  }

  setResult(result: ProbeResult | null, source: ResultSource | null, analysesStatus: AnalysesStatus = { state: result?.analyses ? 'done' : 'off' }): void {
    let r = result;
    if (r && r.tokens.length > SLIM_ABOVE) {
      r = {
        ...r,
        tokens: r.tokens.map((t) => ({ ...t, forward: { ...t.forward, top: [] }, backward: t.backward ? { ...t.backward, top: [] } : null })),
      };
    }
    this.state = { ...this.state, result: r, source, analysesStatus, stale: null };
    this.busyMsg = undefined;
    this.post(this.state);
  }

  /** The result shown, as the panel has it (slimmed above 5,000 tokens). */
  get shown(): ProbeResult | null {
    return this.state.result;
  }

  /**
   * The analyses of the shown result: new ones (status 'done'), or a new status with the analyses
   * kept (computing again for other options, failed, cancelled). Only the panel's analyses section
   * is redrawn.
   */
  setAnalyses(status: AnalysesStatus, analyses?: Analyses | null): void {
    const cur = this.state.result;
    if (!cur) return;
    const next = analyses === undefined ? cur.analyses : analyses ?? undefined;
    const result = { ...cur };
    if (next) result.analyses = next;
    else delete result.analyses;
    this.state = { ...this.state, result, analysesStatus: status };
    this.post({ type: 'analyses', status, analyses: next ?? null });
  }

  /** The result shown no longer matches the editor (its text was edited): dimmed, with this reason, until the next result. */
  markStale(reason: string): void {
    if (!this.state.result || this.state.stale === reason) return;
    this.state = { ...this.state, stale: reason };
    this.post({ type: 'stale', reason });
  }

  setSettings(settings: PanelSettings): void {
    this.state = { ...this.state, settings };
    this.post({ type: 'settings', settings });
  }

  busy(message: string, progress?: { done: number; total: number }): void {
    this.busyMsg = { type: 'busy', message, progress };
    this.post(this.busyMsg);
  }

  idle(): void {
    this.busyMsg = undefined;
    this.post({ type: 'idle' });
  }

  error(message: string): void {
    this.busyMsg = undefined;
    this.post({ type: 'error', message });
  }

  focusToken(index: number): void {
    this.post({ type: 'focus', index });
  }

  private post(m: ToWebview): void {
    void this.view?.webview.postMessage(m);
  }


  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}
