// The status bar item: model pack, execution provider and the selection's asymmetry delta, or the
// progress of a running probe. Clicking it opens the panel.
import * as vscode from 'vscode';
import type { ProbeResult } from '../engine/schema';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lmProbe.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'LM Probe';
    this.item.command = 'lmProbe.showPanel';
    this.idle();
  }

  idle(packName?: string, provider?: string): void {
    this.item.command = 'lmProbe.showPanel';
    this.item.text = `$(beaker) LM Probe${packName ? `: ${packName}` : ''}${provider ? ` · ${provider}` : ''}`;
    this.item.tooltip = 'LM Probe: probe a selection with Ctrl+Alt+P. Click to open the panel.';
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
    const d = r.summary.delta;
    const delta = d === null ? '' : ` · Δ ${d >= 0 ? '+' : ''}${d.toFixed(3)}`;
    this.item.text = `$(beaker) ${r.pack.name} · ${r.runtime.provider}${delta}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**LM Probe** · pack \`${r.pack.name}\` on **${r.runtime.provider}**\n\n`);
    md.appendMarkdown(`${r.summary.tokenCount} tokens · forward ${r.summary.forward.meanNats.toFixed(3)} nats/token`);
    if (r.summary.backward) md.appendMarkdown(` · backward ${r.summary.backward.meanNats.toFixed(3)} nats/token`);
    if (d !== null) md.appendMarkdown(`\n\nasymmetry Δ = (L_bw − L_fw) / mean = ${d.toFixed(4)}`);
    md.appendMarkdown(`\n\n${Math.round(r.runtime.ms)} ms`);
    if (r.runtime.fallbacks.length) md.appendMarkdown(`\n\nfell back from ${r.runtime.fallbacks.map((f) => f.provider).join(', ')}`);
    this.item.tooltip = md;
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
