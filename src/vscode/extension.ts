// Entry point. Activation only wires things up: the engine process starts on the first probe.
import * as vscode from 'vscode';
import { Ctx } from './context';
import { probeAgain, registerCommands } from './commands';
import { startAnalyses } from './analyses';
import type { Measure } from './heatmap';
import { registerLabs } from './labs/labsProvider';

let ctx: Ctx | undefined;

export function activate(extension: vscode.ExtensionContext): void {
  const c: Ctx = new Ctx(extension, {
    reveal: (index) => void reveal(c, index),
    setMeasure: (m: Measure) => void c.config.setMeasure(m),
    run: (command) => {
      const ids: Record<string, string> = {
        probeSelection: 'lmProbe.probeSelection',
        export: 'lmProbe.export',
        choosePack: 'lmProbe.choosePack',
        clearAnnotations: 'lmProbe.clearAnnotations',
      };
      if (ids[command]) void vscode.commands.executeCommand(ids[command]);
    },
    analysisOptions: (a) => {
      c.analyses = { ...c.analyses, ...a };
      // Other analysis options for the same text: only the analyses run again (surprisal is cached).
      const last = c.store.last;
      if (last && c.config.analysesEnabled) void startAnalyses(c, last);
      else probeAgain(c);
    },
  });
  ctx = c;
  registerCommands(c);
  registerLabs(extension, () => c.store.last);
  extension.subscriptions.push(c);
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}

/** A click in the panel: select the token in its editor and outline it for a moment. */
async function reveal(c: Ctx, index: number): Promise<void> {
  const p = c.store.last;
  if (!p) return;
  const pos = p.spans.positionOfToken(index);
  if (pos < 0) {
    void vscode.window.showInformationMessage('LM Probe: that token was edited since the probe.');
    return;
  }
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === p.uri.toString());
  const doc = visible?.document ?? (await vscode.workspace.openTextDocument(p.uri));
  const range = new vscode.Range(doc.positionAt(p.spans.starts[pos]), doc.positionAt(p.spans.ends[pos]));
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn, preserveFocus: false, selection: range });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  c.heatmap.flash(editor, range);
}
