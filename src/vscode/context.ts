// The one object that owns every disposable of the extension (rust-analyzer's Ctx): settings,
// engine host client, probe store, heatmap, hovers, status bar, panel.
import * as vscode from 'vscode';
import { EngineClient } from '../host/client';
import type { ProbeOptions } from '../engine/api';
import { Config } from './config';
import { Heatmap } from './decorations';
import { registerHovers } from './hovers';
import { PanelProvider, PANEL_VIEW_ID } from './panel/panelProvider';
import type { PanelSettings } from './panel/protocol';
import { StatusBar } from './statusBar';
import { ProbeStore } from './store';
import { cancelAnalyses, onAnalysesSettingChanged } from './analyses';
import { analysesForNewPack } from './progressive';
import { effectiveMeasure, hasBackward } from './forwardOnly';

/** The default of a contributed color for the active theme's kind (package.json contributes.colors). */
function colorDefault(extension: vscode.ExtensionContext, id: string): string | undefined {
  const colors = (extension.extension.packageJSON as { contributes?: { colors?: { id: string; defaults: Record<string, string> }[] } }).contributes?.colors ?? [];
  const d = colors.find((c) => c.id === id)?.defaults;
  if (!d) return undefined;
  const k = vscode.window.activeColorTheme.kind;
  const key = k === vscode.ColorThemeKind.Light ? 'light' : k === vscode.ColorThemeKind.HighContrast ? 'highContrast' : k === vscode.ColorThemeKind.HighContrastLight ? 'highContrastLight' : 'dark';
  return d[key];
}

export class Ctx implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly log: vscode.LogOutputChannel;
  readonly config: Config;
  readonly client: EngineClient;
  readonly store: ProbeStore;
  readonly heatmap: Heatmap;
  readonly status: StatusBar;
  readonly panel: PanelProvider;
  /** The running probe, aborted when a new one starts or the user cancels. */
  running: AbortController | undefined;
  /** The analyses that follow a probe (analyses.ts), aborted by a new probe, Clear or Cancel. */
  analysing: AbortController | undefined;
  /** Analysis options asked for by the panel's analysis views, used by the next probes. */
  analyses: ProbeOptions['analyses'] = { futureLens: true, importance: {}, geometry: true };
  /** Provider fallbacks already reported to the user (reported once, not on every probe). */
  readonly reportedFallbacks = new Set<string>();

  constructor(readonly extension: vscode.ExtensionContext, panelHandlers: ConstructorParameters<typeof PanelProvider>[2]) {
    const own = <T extends vscode.Disposable>(d: T): T => {
      this.subscriptions.push(d);
      return d;
    };
    this.log = own(vscode.window.createOutputChannel('LM Probe', { log: true }));
    this.config = own(new Config(extension.extensionUri));
    this.status = own(new StatusBar());
    this.client = new EngineClient({
      hostScript: vscode.Uri.joinPath(extension.extensionUri, 'dist', 'engineHost.js').fsPath,
      log: (level, m) => (level === 'error' ? this.log.error(m) : level === 'warn' ? this.log.warn(m) : this.log.info(m)),
      onCrash: (message) => {
        this.status.crashed();
        this.panel.error(message);
        void vscode.window.showWarningMessage(`LM Probe: ${message}`, 'Probe again').then((a) => {
          if (a) void vscode.commands.executeCommand('lmProbe.probeSelection');
        });
      },
    });
    own({ dispose: () => this.client.dispose() });
    this.store = own(new ProbeStore());
    this.heatmap = own(new Heatmap(this.config, this.store, vscode.Uri.joinPath(extension.globalStorageUri, 'gutter'), (id) => colorDefault(extension, id)));
    own(registerHovers(this.store));
    this.panel = own(new PanelProvider(extension.extensionUri, this.panelSettings(), panelHandlers));
    own(vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, this.panel));
    let packDir = this.config.packDir;
    own(
      this.config.onDidChange((c) => {
        if (c.heatmap) this.panel.setSettings(this.panelSettings());
        if (c.engine) this.log.info(`settings changed: the next probe opens ${this.config.packDir}`);
        if (c.engine && this.config.packDir !== packDir) {
          packDir = this.config.packDir;
          this.analyses = analysesForNewPack(this.analyses);
        }
        if (c.analyses) onAnalysesSettingChanged(this);
      }),
    );
    own(
      this.store.onDidChange((e) => {
        // quantile thresholds follow the text: the panel draws with the ones the heatmap uses
        if (e.reason === 'set' && this.config.thresholdMode === 'quantiles') this.panel.setSettings(this.panelSettings());
        void vscode.commands.executeCommand('setContext', 'lmProbe.hasAnnotations', this.store.size > 0);
        void vscode.commands.executeCommand('setContext', 'lmProbe.hasResult', this.store.last !== undefined);
      }),
    );
  }

  panelSettings(): PanelSettings {
    const r = this.store.last?.result;
    const thresholds = r ? this.heatmap.thresholdsOf(r, effectiveMeasure(this.config.measure, hasBackward(r))) : this.config.thresholds;
    return { measure: this.config.measure, thresholds, thresholdMode: r ? this.config.thresholdMode : 'fixed', colors: this.config.colorOverrides };
  }

  dispose(): void {
    this.running?.abort();
    cancelAnalyses(this);
    for (const d of this.subscriptions.reverse()) {
      try {
        d.dispose();
      } catch {
        // keep disposing the rest
      }
    }
  }
}
