// The Labs view (a WebviewView in the LM Probe container): the in-context learning lab and the
// skills-emergence calculator (src/engine/labs, docs/labs.md). The browser side is
// webview/labs/main.ts, bundled to dist/labs.js. Strict CSP with a nonce; no remote resources.
// The extension computes (time-sliced, so that the extension host stays responsive) and keeps the
// parameters and the last views: they are re-sent whenever the view is (re)created, and the
// parameters are kept in the workspace state across reloads.
import * as vscode from 'vscode';
import { showWebview } from '../webviewHtml';
import type { ErrorVsExamples } from '../../engine/labs/icl';
import { parseRows } from '../../engine/labs/icl';
import type { ProbeResult } from '../../engine/schema';
import { clampIcl, clampSkills, iclData, iclView, mergeSweep, skillsView, sweepCounts, sweepPoint, type SelectionData } from './compute';
import type { FromLabs, IclParams, IclView, LabId, SkillsParams, SkillsView, ToLabs } from './protocol';

export const LABS_VIEW_ID = 'lmProbe.labs';
const STATE_KEY = 'lmProbe.labs.params';

/** The last probe the user ran, for "Use last probe" (its forward mean loss). */
export type LastProbe = () => { result: ProbeResult; uri: vscode.Uri } | undefined;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class LabsProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private tab: LabId = 'icl';
  private iclParams: IclParams;
  private skillsParams: SkillsParams;
  private icl: IclView | null = null;
  private skills: SkillsView | null = null;
  private selection: SelectionData | null = null;
  private lossSource: string | null = null;
  private iclSeq = 0;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly memento: vscode.Memento,
    private readonly lastProbe: LastProbe,
  ) {
    const saved = memento.get<{ icl?: Partial<IclParams>; skills?: Partial<SkillsParams>; tab?: LabId }>(STATE_KEY) ?? {};
    this.iclParams = clampIcl(saved.icl ?? {});
    this.skillsParams = clampSkills(saved.skills ?? {});
    if (saved.tab === 'skills') this.tab = 'skills';
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    showWebview(view, this.extensionUri, { script: 'labs.js', title: 'LM Probe Labs', appClass: 'labs' });
    this.subs.push(
      view.webview.onDidReceiveMessage((m: FromLabs) => void this.onMessage(m)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  private async onMessage(m: FromLabs): Promise<void> {
    switch (m?.type) {
      case 'ready':
        this.post({ type: 'state', tab: this.tab, iclParams: this.iclParams, skillsParams: this.skillsParams, icl: this.icl, skills: this.skills });
        if (!this.icl) void this.runIcl(this.iclParams);
        if (!this.skills) this.runSkills(this.skillsParams);
        return;
      case 'tab':
        this.tab = m.tab === 'skills' ? 'skills' : 'icl';
        this.save();
        return;
      case 'icl':
        return this.runIcl(m.params);
      case 'iclUseSelection':
        return this.useSelection(m.params);
      case 'iclSynthetic':
        this.selection = null;
        return this.runIcl(m.params);
      case 'skills':
        return this.runSkills(m.params);
      case 'skillsUseLastProbe':
        return this.useLastProbe(m.params);
    }
  }

  /** Reads the active editor's selection (the whole document when nothing is selected) as rows of numbers. */
  async useSelection(params?: IclParams): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      this.post({ type: 'error', lab: 'icl', message: 'No editor is open: select rows of numbers (x_1 … x_d, y; leave y empty for a query) in an editor first.' });
      return;
    }
    const sel = editor.selection;
    const range = sel.isEmpty ? undefined : sel;
    const text = editor.document.getText(range);
    const first = range ? range.start.line : 0;
    const parsed = parseRows(text);
    const name = vscode.workspace.asRelativePath(editor.document.uri, false);
    if (!parsed.data) {
      this.post({ type: 'error', lab: 'icl', message: `${name}: ${parsed.error}. Rows are x_1 … x_d, y separated by spaces, commas or tabs; a row with y left empty is a query.` });
      return;
    }
    const lines = range ? `lines ${range.start.line + 1}–${range.end.line + 1}` : 'whole file';
    this.selection = {
      data: parsed.data,
      label: `selection: ${name}, ${lines}`,
      skipped: parsed.skipped.map((s) => ({ line: s.line + first, reason: s.reason })),
    };
    this.tab = 'icl';
    this.post({ type: 'tab', tab: 'icl' });
    await this.runIcl(params ?? this.iclParams);
  }

  private async runIcl(raw: IclParams): Promise<void> {
    const p = clampIcl(raw);
    this.iclParams = p;
    this.save();
    const seq = ++this.iclSeq;
    this.post({ type: 'busy', lab: 'icl', busy: true });
    try {
      await tick();
      if (seq !== this.iclSeq) return;
      const view = iclView(p, this.selection);
      this.icl = view;
      this.post({ type: 'icl', view });
      // the error against the number of examples, one point at a time; a newer request stops it
      const data = iclData(p, this.selection);
      const parts: ErrorVsExamples[] = [];
      for (const m of sweepCounts(view.data.n)) {
        await tick();
        if (seq !== this.iclSeq) return;
        parts.push(sweepPoint(data, p, m));
      }
      this.icl = { ...view, sweep: mergeSweep(parts) };
      this.post({ type: 'icl', view: this.icl });
    } catch (e) {
      if (seq === this.iclSeq) this.post({ type: 'error', lab: 'icl', message: (e as Error).message });
    } finally {
      if (seq === this.iclSeq) this.post({ type: 'busy', lab: 'icl', busy: false });
    }
  }

  private runSkills(raw: SkillsParams): void {
    const p = clampSkills(raw);
    this.skillsParams = p;
    this.save();
    try {
      this.skills = skillsView(p, this.lossSource);
      this.post({ type: 'skills', view: this.skills });
    } catch (e) {
      this.post({ type: 'error', lab: 'skills', message: (e as Error).message });
    }
  }

  private useLastProbe(params: SkillsParams): void {
    const last = this.lastProbe();
    if (!last) {
      this.post({ type: 'error', lab: 'skills', message: 'No probe yet: probe a text (LM Probe: Probe selection) and its mean loss is used here.' });
      return;
    }
    const r = last.result;
    const loss = Number(r.summary.forward.meanNats.toFixed(4));
    this.lossSource = `last probe: ${vscode.workspace.asRelativePath(last.uri, false)}, ${r.summary.tokenCount} tokens, ${r.pack.name} (forward mean loss)`;
    const p = clampSkills({ ...params, thetaMode: 'loss', loss });
    this.post({ type: 'skillsParams', params: p, lossSource: this.lossSource });
    this.runSkills(p);
  }

  /** Opens the view on one lab. */
  async show(tab?: LabId): Promise<void> {
    if (tab) {
      this.tab = tab;
      this.save();
    }
    if (this.view) this.view.show(true);
    else await vscode.commands.executeCommand(`${LABS_VIEW_ID}.focus`);
    if (tab) this.post({ type: 'tab', tab });
  }

  private save(): void {
    void this.memento.update(STATE_KEY, { icl: this.iclParams, skills: this.skillsParams, tab: this.tab });
  }

  private post(m: ToLabs): void {
    void this.view?.webview.postMessage(m);
  }


  dispose(): void {
    this.iclSeq++;
    this.subs.forEach((d) => d.dispose());
  }
}

/**
 * Registers the Labs view and its commands. `lastProbe` gives the last probe (for the skills lab's
 * loss); everything else is self-contained.
 */
export function registerLabs(extension: vscode.ExtensionContext, lastProbe: LastProbe): LabsProvider {
  const provider = new LabsProvider(extension.extensionUri, extension.workspaceState, lastProbe);
  extension.subscriptions.push(
    provider,
    vscode.window.registerWebviewViewProvider(LABS_VIEW_ID, provider),
    vscode.commands.registerCommand('lmProbe.showLabs', () => provider.show()),
    vscode.commands.registerCommand('lmProbe.labs.icl', () => provider.show('icl')),
    vscode.commands.registerCommand('lmProbe.labs.skills', () => provider.show('skills')),
    vscode.commands.registerCommand('lmProbe.labs.iclFromSelection', async () => {
      await provider.show('icl');
      await provider.useSelection();
    }),
  );
  return provider;
}
