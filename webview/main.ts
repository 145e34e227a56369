// The panel's browser app: summary card, legend, token strip, charts, most-surprising table and
// the analyses section (extension point, see ./analyses/index.ts). It receives ProbeResults from
// the extension and sends back only user intents (reveal a token, switch the heatmap, run a
// command, ask for other analysis options).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { Chart } from 'chart.js';
import type { ProbeResult } from '../src/engine/schema';
import type { AnalysesStatus, FromWebview, PanelSettings, ResultSource, ToWebview } from '../src/vscode/panel/protocol';
import { bucketOf, bucketsOf, mostSurprising, MEASURES, type Measure } from '../src/vscode/heatmap';
import { effectiveMeasure, FORWARD_ONLY, hasBackward, measureFallbackNote } from '../src/vscode/forwardOnly';
import { modelLine, summaryMetrics, summaryNote, type SummaryMetric } from '../src/vscode/panel/summary';
import { registeredAnalyses, type AnalysisContext } from './analyses/index';
import './analyses/all';
import { injectStyles } from './analyses/dom';
import { scatterChart, surprisalLineChart } from './charts';
import { heatColor, themeColors } from './theme';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

interface UiState {
  selected: number;
  analysisState: Record<string, unknown>;
}
const ui: UiState = { selected: -1, analysisState: {}, ...((vscode.getState() as Partial<UiState>) ?? {}) };
const saveUi = () => vscode.setState(ui);

let result: ProbeResult | null = null;
let source: ResultSource | null = null;
let settings: PanelSettings = { measure: 'forward', thresholds: [2, 6, 10, 14], colors: {} };
let analysesStatus: AnalysesStatus = { state: 'off' };
let charts: Chart[] = [];
let cleanups: (() => void)[] = [];

const STRIP_MAX = 3000;
const MEASURE_LABEL: Record<Measure, string> = {
  forward: 'Forward surprisal',
  backward: 'Backward surprisal',
  difference: 'Difference (bw − fw)',
  rank: 'Rank buckets (GLTR)',
  off: 'Off',
};

function post(m: FromWebview): void {
  vscode.postMessage(m);
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...kids);
  return el;
}

const visible = (s: string) => s.replace(/ /g, '·').replace(/\r\n|\n|\r/g, '⏎').replace(/\t/g, '⇥') || '∅';
const f = (x: number | null | undefined, d = 3) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));

// ---- static layout
const app = document.getElementById('app')!;
const measureSel = h('vscode-single-select', { id: 'measure', 'aria-label': 'Heatmap measure' });
for (const m of MEASURES) measureSel.append(h('vscode-option', { value: m }, MEASURE_LABEL[m]));
const probeBtn = h('vscode-button', { id: 'probe', icon: 'beaker' }, 'Probe selection');
const exportBtn = h('vscode-button', { id: 'export', secondary: '' }, 'Export…');
const toolbar = h('header', { class: 'toolbar' }, h('label', { class: 'lbl', for: 'measure' }, 'Heatmap'), measureSel, probeBtn, exportBtn);
const statusEl = h('div', { id: 'status', role: 'status', 'aria-live': 'polite' });
const emptyEl = h(
  'div',
  { id: 'empty', class: 'empty' },
  h('p', {}, 'Select text in an editor and run '),
  h('p', {}, h('strong', {}, 'LM Probe: Probe selection'), ' (Ctrl+Alt+P). With nothing selected, the paragraph under the cursor is probed.'),
);
const summaryEl = h('section', { id: 'summary', class: 'card' });
const legendEl = h('section', { id: 'legend', class: 'card' });
const tokensEl = h('section', { id: 'tokens', class: 'card' });
const lineCanvas = h('canvas', { id: 'lineChart', 'aria-label': 'Surprisal per token' });
const scatterCanvas = h('canvas', { id: 'scatterChart', 'aria-label': 'Forward against backward surprisal' });
const chartsNote = h('p', { class: 'muted forward-only' }, `Forward surprisal only (${FORWARD_ONLY}).`);
const chartsEl = h(
  'section',
  { id: 'charts', class: 'card' },
  h('h2', {}, 'Surprisal per token'),
  h('div', { class: 'chart' }, lineCanvas),
  chartsNote,
  h('h2', { id: 'scatterTitle' }, 'Forward vs backward'),
  h('div', { class: 'chart square', id: 'scatterBox' }, scatterCanvas),
);
const topEl = h('section', { id: 'top', class: 'card' });
// Extension point: the analyses' cards (webview/analyses/index.ts) go here.
const analysesEl = h('section', { id: 'analyses', 'data-extension-point': 'analyses' });
const resultEls = [summaryEl, legendEl, tokensEl, chartsEl, topEl, analysesEl];
app.append(toolbar, statusEl, emptyEl, ...resultEls);

measureSel.addEventListener('change', () => {
  const m = (measureSel as unknown as { value: string }).value as Measure;
  if (m && m !== settings.measure) post({ type: 'setMeasure', measure: m });
});
probeBtn.addEventListener('click', () => post({ type: 'run', command: 'probeSelection' }));
exportBtn.addEventListener('click', () => post({ type: 'run', command: 'export' }));

function reveal(i: number): void {
  select(i, false);
  post({ type: 'reveal', index: i });
}

function select(i: number, scroll: boolean): void {
  ui.selected = i;
  saveUi();
  tokensEl.querySelectorAll('.tok.sel').forEach((e) => e.classList.remove('sel'));
  topEl.querySelectorAll('tr.sel').forEach((e) => e.classList.remove('sel'));
  if (i < 0) return;
  const el = tokensEl.querySelector<HTMLElement>(`.tok[data-i="${i}"]`);
  el?.classList.add('sel');
  topEl.querySelector(`tr[data-i="${i}"]`)?.classList.add('sel');
  if (scroll) el?.scrollIntoView({ block: 'nearest' });
}

// ---- rendering
function setStatus(kind: 'busy' | 'error' | 'none', message = '', progress?: { done: number; total: number }): void {
  statusEl.replaceChildren();
  statusEl.className = kind;
  if (kind === 'none') return;
  if (kind === 'busy') {
    const bar = h('vscode-progress-bar', {});
    if (progress && progress.total > 0) (bar as unknown as { value: number; max: number }).value = progress.done / progress.total;
    else bar.setAttribute('indeterminate', '');
    statusEl.append(h('div', { class: 'msg' }, `${message}${progress ? ` ${progress.done}/${progress.total}` : ''}`), bar);
  } else statusEl.append(h('div', { class: 'msg' }, message));
}

function renderSummary(r: ProbeResult): void {
  const item = (m: SummaryMetric) => h('div', { class: `metric ${m.cls}`, title: m.title }, h('div', { class: 'label' }, m.label), h('div', { class: 'value' }, m.value));
  const where = source ? `${source.file}:${source.line}` : '';
  // A model without a backward twin has no Backward or Δ metric: a note says so instead.
  const note = summaryNote(r);
  summaryEl.replaceChildren(
    h('h2', {}, 'Summary', h('span', { class: 'where', title: 'Probed text' }, where)),
    h('div', { class: 'metrics' }, ...summaryMetrics(r).map(item)),
    h('div', { class: 'pack' }, modelLine(r)),
    ...(note ? [h('p', { class: 'muted note forward-only', role: 'note' }, h('strong', {}, note.strong), note.text)] : []),
    ...(r.warnings.length ? [h('ul', { class: 'warnings' }, ...r.warnings.map((w) => h('li', {}, w)))] : []),
  );
}

function renderLegend(r: ProbeResult): void {
  const bw = hasBackward(r);
  const measure = effectiveMeasure(settings.measure, bw);
  const fallback = measureFallbackNote(settings.measure, bw);
  const b = bucketsOf(measure);
  const th = settings.thresholds;
  const label = (i: number) => {
    if (measure === 'forward' || measure === 'backward') {
      return i === 0 ? `< ${th[0]} bits` : i === b.length - 1 ? `≥ ${th[i - 1]} bits` : `${th[i - 1]}–${th[i]} bits`;
    }
    return b[i].label;
  };
  legendEl.replaceChildren(
    h('h2', {}, `Heatmap: ${MEASURE_LABEL[measure]}`),
    ...(fallback ? [h('p', { class: 'muted note fallback', role: 'note' }, fallback)] : []),
    b.length
      ? h('div', { class: 'legend' }, ...b.map((x, i) => {
          const sw = h('span', { class: 'swatch' });
          sw.style.background = heatColor(x.color, settings.colors);
          return h('span', { class: 'entry' }, sw, label(i));
        }))
      : h('p', { class: 'muted' }, 'The heatmap is off; hovers and this panel still work.'),
  );
}

function renderTokens(r: ProbeResult): void {
  const strip = h('div', { class: 'strip', role: 'list' });
  const n = Math.min(STRIP_MAX, r.tokens.length);
  const measure = effectiveMeasure(settings.measure, hasBackward(r));
  const colors = bucketsOf(measure).map((b) => heatColor(b.color, settings.colors));
  const frag = document.createDocumentFragment();
  for (let i = 0; i < n; i++) {
    const t = r.tokens[i];
    const span = document.createElement('span');
    span.className = 'tok';
    span.dataset.i = String(i);
    span.setAttribute('role', 'listitem');
    span.textContent = t.text.replace(/\r\n|\n|\r/g, '⏎\n').replace(/\t/g, '⇥');
    const b = bucketOf(t, measure, settings.thresholds);
    if (b >= 0) span.style.background = colors[b];
    span.title = `#${i} ${visible(t.text)} · fw ${f(t.forward.surprisalBits, 2)} bits${t.backward ? ` · bw ${f(t.backward.surprisalBits, 2)} bits` : ''} · rank ${t.forward.rank}`;
    frag.append(span);
  }
  strip.append(frag);
  strip.addEventListener('click', (e) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>('.tok');
    if (el?.dataset.i) reveal(Number(el.dataset.i));
  });
  tokensEl.replaceChildren(
    h('h2', {}, 'Tokens', h('span', { class: 'where' }, 'click one to show it in the editor')),
    strip,
    ...(r.tokens.length > n ? [h('p', { class: 'muted' }, `First ${n} of ${r.tokens.length} tokens shown; the charts have all of them.`)] : []),
  );
}

function renderTop(r: ProbeResult): void {
  const idx = mostSurprising(r.tokens, 10);
  const bw = hasBackward(r);
  const table = h(
    'table',
    {},
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, '#'), h('th', {}, 'token'), h('th', { class: 'num' }, 'fw bits'), ...(bw ? [h('th', { class: 'num' }, 'bw bits')] : []), h('th', { class: 'num' }, 'rank')),
    ),
    h(
      'tbody',
      {},
      ...idx.map((i) => {
        const t = r.tokens[i];
        return h(
          'tr',
          { 'data-i': String(i), tabindex: '0' },
          h('td', {}, String(i)),
          h('td', {}, h('code', {}, visible(t.text))),
          h('td', { class: 'num' }, f(t.forward.surprisalBits, 2)),
          ...(bw ? [h('td', { class: 'num' }, t.backward ? f(t.backward.surprisalBits, 2) : '–')] : []),
          h('td', { class: 'num' }, String(t.forward.rank)),
        );
      }),
    ),
  );
  table.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr[data-i]');
    if (tr) reveal(Number(tr.dataset.i));
  });
  table.addEventListener('keydown', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr[data-i]');
    if (tr && (e.key === 'Enter' || e.key === ' ')) reveal(Number(tr.dataset.i));
  });
  topEl.replaceChildren(h('h2', {}, 'Most surprising'), table);
}

function renderCharts(r: ProbeResult): void {
  charts.forEach((c) => c.destroy());
  charts = [];
  const c = themeColors();
  charts.push(surprisalLineChart(lineCanvas, r, c, reveal));
  const sc = scatterChart(scatterCanvas, r, c, reveal);
  document.getElementById('scatterBox')!.hidden = !sc;
  document.getElementById('scatterTitle')!.hidden = !sc;
  chartsNote.hidden = hasBackward(r);
  if (sc) charts.push(sc);
}

/** The analyses' state line: computing (after surprisal, or for new options), failed, cancelled. */
function analysesStatusEl(r: ProbeResult): HTMLElement | null {
  const st = analysesStatus;
  const hasCards = registeredAnalyses().some((v) => r.analyses?.[v.key]);
  // Recomputing for new options: the cards stay (dimmed, "computing…" in their titles) and no line
  // is inserted above them, so that the panel does not jump under the user's pointer.
  if (st.state === 'computing' && !hasCards) {
    const bar = h('vscode-progress-bar', { indeterminate: '' });
    return h(
      'div',
      { class: 'card analyses-status computing', role: 'status', 'aria-live': 'polite' },
      h('div', { class: 'msg' }, 'Computing analyses… (future tokens, importance, geometry)'),
      bar,
    );
  }
  if (st.state === 'error') {
    return h(
      'div',
      { class: 'card analyses-status failed', role: 'alert' },
      h('h2', {}, 'Analyses failed'),
      h('p', { class: 'error' }, st.message),
      h('p', { class: 'muted' }, 'Surprisal above is complete. The analyses need a pack with hidden states (and a head graph and probes for future tokens).'),
    );
  }
  if (st.state === 'cancelled') return h('div', { class: 'card analyses-status', role: 'status' }, h('p', { class: 'muted' }, 'Analyses cancelled. Probe again to compute them.'));
  if (st.state === 'done' && !hasCards) {
    return h(
      'div',
      { class: 'card analyses-status none', role: 'status' },
      h('h2', {}, 'Analyses'),
      h('p', { class: 'muted' }, 'No analysis is available for this pack and text:'),
    );
  }
  return null;
}

function renderAnalyses(r: ProbeResult): void {
  cleanups.forEach((f) => f());
  cleanups = [];
  analysesEl.replaceChildren();
  analysesEl.dataset.state = analysesStatus.state;
  const status = analysesStatusEl(r);
  if (status) analysesEl.append(status);
  const notes = r.analyses?.notes ?? [];
  // the cards' shared styles, once, under the page's nonce
  injectStyles();
  for (const view of registeredAnalyses()) {
    const data = r.analyses?.[view.key];
    if (!data) continue;
    const body = h('div', { class: 'analysis-body' });
    const computing = analysesStatus.state === 'computing';
    const title = h('h2', {}, view.title, ...(computing ? [h('span', { class: 'where computing', role: 'status' }, 'computing…')] : []));
    const card = h('section', { class: `card analysis${computing ? ' stale' : ''}`, 'data-key': view.key }, title, body);
    analysesEl.append(card);
    const ctx: AnalysisContext = {
      result: r,
      colors: themeColors(),
      reveal,
      requestAnalysis: (analyses) => post({ type: 'analysisOptions', analyses }),
      getState: <T,>() => ui.analysisState[view.key] as T | undefined,
      setState: <T,>(s: T) => {
        ui.analysisState[view.key] = s;
        saveUi();
      },
    };
    try {
      const done = view.render(body, data as never, ctx);
      if (typeof done === 'function') cleanups.push(done);
    } catch (e) {
      body.append(h('p', { class: 'error' }, `This view failed: ${(e as Error).message}`));
    }
  }
  if (notes.length) analysesEl.append(h('ul', { class: 'notes muted' }, ...notes.map((n) => h('li', {}, n))));
}

function renderAll(): void {
  (measureSel as unknown as { value: string }).value = settings.measure;
  for (const [k, v] of Object.entries(settings.colors)) document.documentElement.style.setProperty(`--lmprobe-${k.replace(/\./g, '-')}`, v);
  const has = !!result;
  emptyEl.hidden = has;
  resultEls.forEach((e) => (e.hidden = !has));
  (exportBtn as unknown as { disabled: boolean }).disabled = !has;
  if (!result) {
    charts.forEach((c) => c.destroy());
    charts = [];
    cleanups.forEach((f) => f());
    cleanups = [];
    analysesEl.replaceChildren();
    analysesEl.dataset.state = 'off';
    return;
  }
  renderSummary(result);
  renderLegend(result);
  renderTokens(result);
  renderTop(result);
  renderCharts(result);
  renderAnalyses(result);
  if (ui.selected >= 0 && ui.selected < result.tokens.length) select(ui.selected, false);
}

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  switch (m?.type) {
    case 'state':
      if (m.result !== result) ui.selected = result && m.result && m.result.text === result.text ? ui.selected : -1;
      result = m.result;
      source = m.source;
      settings = m.settings;
      analysesStatus = m.analysesStatus ?? { state: 'off' };
      setStatus('none');
      renderAll();
      return;
    case 'analyses':
      if (!result) return;
      result = { ...result };
      if (m.analyses) result.analyses = m.analyses;
      else delete result.analyses;
      analysesStatus = m.status;
      renderAnalyses(result);
      return;
    case 'settings':
      settings = m.settings;
      renderAll();
      return;
    case 'busy':
      setStatus('busy', m.message, m.progress);
      return;
    case 'idle':
      setStatus('none');
      return;
    case 'error':
      setStatus('error', m.message);
      return;
    case 'focus':
      select(m.index, true);
      return;
  }
});

// Theme switches change the --vscode-* variables and the body class: redraw the canvases.
new MutationObserver(() => {
  if (result) {
    renderCharts(result);
    renderAnalyses(result);
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

renderAll();
post({ type: 'ready' });
