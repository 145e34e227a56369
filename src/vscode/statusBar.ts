// The status bar item: model, execution provider and the selection's asymmetry delta (or "forward
// only" for a model without a backward twin), or the progress of a running probe. Clicking it
// opens the panel.
import * as vscode from 'vscode';
import type { ProbeResult } from '../engine/schema';
import { idleText, idleTooltip, resultText, resultTooltip, type ModelBrief } from './statusText';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lmProbe.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'LM Probe';
    this.item.command = 'lmProbe.showPanel';
    this.idle();
  }

  /** Idle; with the model that was just opened when known. */
  idle(model?: ModelBrief, provider?: string): void {
    this.item.command = 'lmProbe.showPanel';
    this.item.text = idleText(model, provider);
    this.item.tooltip = new vscode.MarkdownString(idleTooltip(model, provider), true);
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  busy(message: string): void {
    this.item.text = `$(loading~spin) LM Probe: ${message}`;
    this.item.tooltip = 'LM Probe is running: click to cancel it.';
    this.item.command = 'lmProbe.cancel';
    this.item.show();
  }

  result(r: ProbeResult): void {
    this.item.command = 'lmProbe.showPanel';
    this.item.text = resultText(r);
    this.item.tooltip = new vscode.MarkdownString(resultTooltip(r), true);
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  crashed(): void {
    this.item.command = 'lmProbe.showPanel';
    this.item.text = '$(warning) LM Probe: engine stopped';
    this.item.tooltip = 'The engine process stopped; it restarts on the next probe.';
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
