// Typed access to the lmProbe.* settings, and one event when any of them changes, saying which
// part of the extension must react (engine, heatmap, probe options). Changes apply without reload.
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { DEFAULT_THRESHOLDS_BITS, MEASURES, type Measure, type ThresholdMode } from './heatmap';
import { AGGREGATE_UNITS, type AggregateUnit } from '../engine/aggregate';

/** What one heatmap color stands for: a token, or the sum over a word, an identifier or a line. */
export type HeatmapUnit = 'token' | AggregateUnit;
export const HEATMAP_UNITS: readonly HeatmapUnit[] = ['token', ...AGGREGATE_UNITS];

export interface ConfigChange {
  engine: boolean;
  heatmap: boolean;
  probe: boolean;
  analyses: boolean;
}

export class Config implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ConfigChange>();
  readonly onDidChange = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly extensionUri: vscode.Uri) {
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('lmProbe')) return;
      this.emitter.fire({
        engine: e.affectsConfiguration('lmProbe.modelPath') || e.affectsConfiguration('lmProbe.executionProviders'),
        heatmap: e.affectsConfiguration('lmProbe.heatmap'),
        probe: e.affectsConfiguration('lmProbe.topK') || e.affectsConfiguration('lmProbe.maxTokens'),
        analyses: e.affectsConfiguration('lmProbe.analyses'),
      });
    });
  }

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('lmProbe');
  }

  /** The model pack folder: the setting (with ~ and ${workspaceFolder} expanded) or the bundled pack. */
  get packDir(): string {
    const raw = (this.cfg.get<string>('modelPath') ?? '').trim();
    if (!raw) return vscode.Uri.joinPath(this.extensionUri, 'models', 'default').fsPath;
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    return raw.replace(/^~(?=$|[\\/])/, homedir()).replace(/\$\{workspaceFolder\}/g, ws);
  }

  get packIsBundled(): boolean {
    return !(this.cfg.get<string>('modelPath') ?? '').trim();
  }

  get providers(): string[] {
    return (this.cfg.get<string[]>('executionProviders') ?? []).filter((p) => typeof p === 'string' && p.length > 0);
  }

  get measure(): Measure {
    const m = this.cfg.get<string>('heatmap.measure') as Measure;
    return MEASURES.includes(m) ? m : 'forward';
  }

  async setMeasure(m: Measure): Promise<void> {
    await this.cfg.update('heatmap.measure', m, vscode.ConfigurationTarget.Global);
  }

  get thresholdMode(): ThresholdMode {
    return this.cfg.get<string>('heatmap.thresholds') === 'quantiles' ? 'quantiles' : 'fixed';
  }

  get unit(): HeatmapUnit {
    const u = this.cfg.get<string>('heatmap.unit') as HeatmapUnit;
    return HEATMAP_UNITS.includes(u) ? u : 'token';
  }

  async setUnit(u: HeatmapUnit): Promise<void> {
    await this.cfg.update('heatmap.unit', u, vscode.ConfigurationTarget.Global);
  }

  get thresholds(): number[] {
    const t = this.cfg.get<number[]>('heatmap.thresholdsBits');
    if (!Array.isArray(t) || t.length !== 4 || t.some((x) => typeof x !== 'number' || !Number.isFinite(x))) return [...DEFAULT_THRESHOLDS_BITS];
    return [...t].sort((a, b) => a - b);
  }

  /** Color id (without 'lmProbe.') -> CSS color, from lmProbe.heatmap.colors. */
  get colorOverrides(): Record<string, string> {
    const o = this.cfg.get<Record<string, unknown>>('heatmap.colors') ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) if (typeof v === 'string' && v.trim()) out[k.replace(/^lmProbe\./, '')] = v.trim();
    return out;
  }

  get overviewRulerMarks(): boolean {
    return this.cfg.get<boolean>('heatmap.overviewRulerMarks') ?? true;
  }

  get topK(): number {
    return clampInt(this.cfg.get<number>('topK'), 1, 50, 5);
  }

  get maxTokens(): number {
    return clampInt(this.cfg.get<number>('maxTokens'), 1, 10_000_000, 50_000);
  }

  /** Compute the analyses (future tokens, importance, geometry) after each probe. */
  get analysesEnabled(): boolean {
    return this.cfg.get<boolean>('analyses.enabled') ?? true;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

function clampInt(v: unknown, lo: number, hi: number, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : dflt;
}
