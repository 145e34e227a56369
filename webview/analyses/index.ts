// Extension point of the panel for the analyses (src/engine/analysis): each analysis view is a
// module that registers itself here under its key of ProbeResult.analyses, and is imported once
// from webview/analyses/all.ts. The panel gives every registered view whose key is present in the
// result a card inside <section id="analyses">, and calls render() on every new result, theme
// change or heatmap-setting change.
//
//   // webview/analyses/futureLens.ts
//   import { registerAnalysis } from './index';
//   registerAnalysis({ key: 'futureLens', title: 'Future tokens', order: 10, render(el, data, ctx) { ... } });
//
// Views draw only from the result; user intents go back through ctx (reveal a token, ask for a
// new probe with other analysis options: target token, alpha, layer).
import type { Analyses, ProbeResult } from '../../src/engine/schema';
import type { ProbeOptions } from '../../src/engine/api';

export type AnalysisKey = Exclude<keyof Analyses, 'notes' | 'window'>;

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  forward: string;
  backward: string;
  accent: string;
  red: string;
  green: string;
  yellow: string;
  purple: string;
  font: string;
}

export interface AnalysisContext {
  result: ProbeResult;
  colors: ThemeColors;
  /** Select and reveal token `index` in the editor. */
  reveal(index: number): void;
  /** Probe the same text again with these analysis options (merged with the current ones). */
  requestAnalysis(options: NonNullable<ProbeOptions['analyses']>): void;
  /** Persisted per-view UI state (kept across hide/show of the panel). */
  getState<T>(): T | undefined;
  setState<T>(s: T): void;
}

export interface AnalysisView<K extends AnalysisKey = AnalysisKey> {
  key: K;
  title: string;
  /** Cards are ordered by this number (ascending). */
  order?: number;
  /** Draws into `el` (emptied before each call). May return a cleanup (destroy charts). */
  render(el: HTMLElement, data: NonNullable<Analyses[K]>, ctx: AnalysisContext): void | (() => void);
}

const views = new Map<string, AnalysisView>();

export function registerAnalysis<K extends AnalysisKey>(view: AnalysisView<K>): void {
  views.set(view.key, view as unknown as AnalysisView);
}

export function registeredAnalyses(): AnalysisView[] {
  return [...views.values()].sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

/** The analysed window for a card's title: "tokens 120–374 of 375 · lines 8–21" (token numbers as #i elsewhere, from 0; lines from 1). */
export function windowLabel(r: ProbeResult): string {
  const w = r.analyses?.window;
  if (!w) return '';
  const total = w.total ?? r.tokens.length;
  const lines = w.firstLine !== undefined && w.lastLine !== undefined ? ` · line${w.firstLine === w.lastLine ? ` ${w.firstLine}` : `s ${w.firstLine}–${w.lastLine}`}` : '';
  return `tokens #${w.start}–#${w.end - 1} of ${total}${lines}`;
}

export function windowTitle(r: ProbeResult): string {
  const w = r.analyses?.window;
  if (!w) return '';
  const total = w.total ?? r.tokens.length;
  return w.end - w.start < total
    ? `The analyses read one window of the model's context: tokens #${w.start}–#${w.end - 1} of ${total} (numbered from 0, as in the hovers), centred on the target token. Click a token outside it (importance card, or the editor) to analyse the window around it.`
    : `The analyses read the whole selection: ${total} token${total === 1 ? '' : 's'}.`;
}

/** Below this many tokens in the window an analysis shows one line saying what it needs instead of a chart. */
export const MIN_TOKENS = { futureLens: 2, importance: 3, geometry: 4 } as const;
