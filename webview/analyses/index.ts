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
