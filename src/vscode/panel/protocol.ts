// Messages between the panel's webview (webview/main.ts, which imports this file type-only) and
// the extension. The extension sends model data; the webview sends back only user intents.
import type { ProbeOptions } from '../../engine/api';
import type { Analyses, ProbeResult } from '../../engine/schema';
import type { Measure } from '../heatmap';

export interface PanelSettings {
  measure: Measure;
  thresholds: number[];
  /** 'quantiles': the thresholds are quantiles of the shown text (lmProbe.heatmap.thresholds), not fixed bits. */
  thresholdMode?: 'fixed' | 'quantiles';
  /** Color id without 'lmProbe.' -> CSS color (lmProbe.heatmap.colors). */
  colors: Record<string, string>;
}

export interface ResultSource {
  /** File name shown in the summary card. */
  file: string;
  /** 1-based line of the probed range's start. */
  line: number;
}

/** Where the analyses of the shown result are: they come after surprisal, in a request of their own. */
export type AnalysesStatus =
  /** Nothing asked for (lmProbe.analyses.enabled is off, or no result). */
  | { state: 'off' }
  | { state: 'computing' }
  | { state: 'done' }
  | { state: 'cancelled' }
  | { state: 'error'; message: string };

export type ToWebview =
  | {
      type: 'state';
      /** Null before the first probe or after Clear annotations. For probes over 5,000 tokens the
       * per-token `top` lists are left empty here (the hovers have them). */
      result: ProbeResult | null;
      source: ResultSource | null;
      settings: PanelSettings;
      analysesStatus: AnalysesStatus;
      /** Why this result no longer matches the editor's text (it was edited since), if it does not. */
      stale?: string | null;
    }
  /** The result shown no longer matches the text: it is dimmed with this reason until the next result. */
  | { type: 'stale'; reason: string }
  /** The analyses of the shown result arrived (or are being computed again, or failed). */
  | { type: 'analyses'; status: AnalysesStatus; analyses: Analyses | null }
  | { type: 'settings'; settings: PanelSettings }
  /** A probe runs (the panel marks the result shown as the previous one); progress counts model windows. */
  | { type: 'busy'; message: string; progress?: { done: number; total: number } }
  | { type: 'idle' }
  | { type: 'error'; message: string }
  /** The editor's cursor is on this token (or -1): highlight it in the panel. */
  | { type: 'focus'; index: number };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'reveal'; index: number }
  | { type: 'setMeasure'; measure: Measure }
  | { type: 'run'; command: 'probeSelection' | 'export' | 'choosePack' | 'clearAnnotations' }
  /** An analysis view asks for a new probe of the same text with these analysis options
   * (change target token, alpha, layer...). */
  | { type: 'analysisOptions'; analyses: NonNullable<ProbeOptions['analyses']> };
