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
import { bucketOf, bucketsOf, MEASURES, type Measure } from '../src/vscode/heatmap';
import { effectiveMeasure, FORWARD_ONLY, hasBackward, measureFallbackNote } from '../src/vscode/forwardOnly';
import { modelLine, summaryMetrics, summaryNote, type SummaryMetric } from '../src/vscode/panel/summary';
import { rankByMeasure } from '../src/vscode/panel/ranking';
import { visible } from '../src/vscode/text';
import { MIN_CHART_TOKENS, panRange, zoomRange } from '../src/vscode/panel/series';
import { registeredAnalyses, windowLabel, windowTitle, type AnalysisContext } from './analyses/index';
import './analyses/all';
import { injectStyles } from './analyses/dom';
import { MIN_SCATTER_TOKENS, scatterChart, seriesOf, surprisalLineChart, type LineView } from './charts';
import { heatColor, themeColors } from './theme';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

interface UiState {
  selected: number;
  analysisState: Record<string, unknown>;
  /** The surprisal chart's aggregation and zoom, kept while the same text is shown. */
  lineView: LineView;
}
const ui: UiState = { selected: -1, analysisState: {}, lineView: { per: 'token', range: null }, ...((vscode.getState() as Partial<UiState>) ?? {}) };
const saveUi = () => vscode.setState(ui);

let result: ProbeResult | null = null;
let source: ResultSource | null = null;
let settings: PanelSettings = { measure: 'forward', thresholds: [2, 6, 10, 14], colors: {} };
let analysesStatus: AnalysesStatus = { state: 'off' };
let charts: Chart[] = [];
/** Why the result shown no longer matches the editor (a new probe runs, the text was edited), or null. */
let staleReason: string | null = null;
let lastBusy: { message: string; progress?: { done: number; total: number } } | null = null;
let cleanups: (() => void)[] = [];

const STRIP_MAX = 3000;
/** Up to this many tokens the list under the charts shows all of them, not the top 10. */
const LIST_ALL_UP_TO = 10;
const MEASURE_TITLE: Record<Measure, string> = {
  forward: 'Each token colored by its forward surprisal, −log₂ p(token | text before it), in bits: how unexpected it is reading left to right.',
  backward: 'Each token colored by its backward surprisal, −log₂ q(token | text after it), in bits: how unexpected it is reading right to left.',
  difference: 'Backward minus forward surprisal per token, in bits; tokens within 1 bit are left uncolored.',
  rank: "GLTR rank buckets: where the token ranks among the forward model's predictions (top 10 = among its 10 likeliest guesses).",
  off: 'No heatmap in the editor.',
};
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

const f = (x: number | null | undefined, d = 3) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));

// ---- static layout
const app = document.getElementById('app')!;
const measureSel = h('vscode-single-select', { id: 'measure', 'aria-label': 'Heatmap measure' });
for (const m of MEASURES) measureSel.append(h('vscode-option', { value: m }, MEASURE_LABEL[m]));
const probeBtn = h('vscode-button', { id: 'probe', icon: 'beaker', title: 'Probe the selection (Ctrl+Alt+P); with nothing selected, the paragraph under the cursor' }, 'Probe selection');
const exportBtn = h('vscode-button', { id: 'export', secondary: '', icon: 'save-as', title: 'Export the per-token table (CSV) or the whole result (JSON)' }, 'Export…');
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
const lineCanvas = h('canvas', { id: 'lineChart', 'aria-label': 'Surprisal along the text, in bits' });
const scatterCanvas = h('canvas', { id: 'scatterChart', 'aria-label': 'Forward against backward surprisal' });
const chartsNote = h('p', { class: 'muted forward-only' }, `Forward surprisal only (${FORWARD_ONLY}).`);
// The surprisal chart's controls: per token or per line, zoom and pan (a drag across the chart zooms too).
const perSel = h('vscode-single-select', { id: 'per', 'aria-label': 'Surprisal per token or per line', title: 'Plot each token, or the mean of each source line' });
perSel.append(h('vscode-option', { value: 'token' }, 'per token'), h('vscode-option', { value: 'line' }, 'per line'));
const iconBtn = (id: string, icon: string, title: string) => h('vscode-button', { id, icon, 'icon-only': '', secondary: '', title, 'aria-label': title });
const zoomInBtn = iconBtn('zoomIn', 'zoom-in', 'Zoom in (or drag across the chart)');
const zoomOutBtn = iconBtn('zoomOut', 'zoom-out', 'Zoom out');
const panLeftBtn = iconBtn('panLeft', 'chevron-left', 'Earlier in the text');
const panRightBtn = iconBtn('panRight', 'chevron-right', 'Later in the text');
const resetBtn = iconBtn('zoomReset', 'screen-normal', 'Show the whole text');
const chartCaption = h('p', { class: 'muted caption', id: 'lineCaption' });
const lineBlock = h(
  'div',
  { id: 'lineBlock' },
  h('div', { class: 'chart-tools' }, perSel, h('span', { class: 'spacer' }), panLeftBtn, zoomInBtn, zoomOutBtn, panRightBtn, resetBtn),
  h('div', { class: 'chart' }, lineCanvas),
  chartCaption,
);
const lineNeeds = h('p', { class: 'muted needs', id: 'lineNeeds' });
const scatterNeeds = h('p', { class: 'muted needs', id: 'scatterNeeds' });
const chartsEl = h(
  'section',
  { id: 'charts', class: 'card' },
  h('h2', { title: 'Surprisal of each token, in bits: −log₂ of the probability the model gave it (forward: from the text before it; backward: from the text after it). 1 bit = a 50/50 guess.' }, 'Surprisal along the text'),
  lineBlock,
  lineNeeds,
  chartsNote,
  h('h2', { id: 'scatterTitle', title: 'One dot per token: forward against backward surprisal, in bits. Dots above the dashed line are harder to predict from the text after them than from the text before.' }, 'Forward vs backward'),
  h('div', { class: 'chart square', id: 'scatterBox' }, scatterCanvas),
  scatterNeeds,
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
perSel.addEventListener('change', () => {
  const per = (perSel as unknown as { value: string }).value === 'line' ? 'line' : 'token';
  if (per !== ui.lineView.per) setLineView({ per, range: null });
});
const currentBounds = (): [number, number] | null => (result ? seriesOf(result, ui.lineView.per, source?.line ?? 1).bounds : null);
const zoomBy = (factor: number) => {
  const b = currentBounds();
  if (b) setLineView({ ...ui.lineView, range: zoomRange(ui.lineView.range ?? b, b, factor) });
};
const panBy = (share: number) => {
  const b = currentBounds();
  if (b && ui.lineView.range) setLineView({ ...ui.lineView, range: panRange(ui.lineView.range, b, share) });
};
zoomInBtn.addEventListener('click', () => zoomBy(0.25));
zoomOutBtn.addEventListener('click', () => zoomBy(4));
panLeftBtn.addEventListener('click', () => panBy(-0.5));
panRightBtn.addEventListener('click', () => panBy(0.5));
resetBtn.addEventListener('click', () => setLineView({ ...ui.lineView, range: null }));

function setLineView(v: LineView): void {
  const b = currentBounds();
  // the whole text is no zoom: the buttons that undo a zoom go grey
  ui.lineView = b && v.range && v.range[0] <= b[0] && v.range[1] >= b[1] ? { ...v, range: null } : v;
  saveUi();
  if (result) renderCharts(result);
}
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
/** "forward model: window 3 of 12" while windows stream in; the engine's own words before that. */
function busyText(message: string, progress?: { done: number; total: number }): string {
  // the extension's message may already count the windows and tokens: then it is the whole story
  if (!progress || progress.total <= 0 || /\d/.test(message)) return `Probing: ${message}`;
  const stage = /^(forward|backward)$/.test(message) ? `${message} model` : message;
  return `Probing: ${stage}, window ${progress.done} of ${progress.total}`;
}

function setStatus(kind: 'busy' | 'error' | 'none', message = '', progress?: { done: number; total: number }): void {
  statusEl.replaceChildren();
  statusEl.className = kind;
  if (kind === 'busy') {
    const bar = h('vscode-progress-bar', {});
    if (progress && progress.total > 0) Object.assign(bar, { max: progress.total, value: progress.done });
    else bar.setAttribute('indeterminate', '');
    statusEl.append(h('div', { class: 'msg' }, busyText(message, progress)), bar);
  } else if (kind === 'error') statusEl.append(h('div', { class: 'msg' }, message));
  if (staleReason && result) statusEl.append(h('div', { class: 'stale-note', role: 'note' }, staleReason));
}

/** Dims the result and says why it is no longer current (null: it is). */
function setStale(reason: string | null): void {
  staleReason = reason;
  resultEls.forEach((e) => e.classList.toggle('stale-result', !!reason && !!result));
}

/** "95% CI −0.110 … +0.051": in a narrow column it breaks after "CI", never inside the interval. */
function subLine(sub: string): HTMLElement {
  const m = /^(\d+% CI) (.*)$/.exec(sub);
  return m ? h('div', { class: 'sub' }, `${m[1]} `, h('span', { class: 'nowrap' }, m[2])) : h('div', { class: 'sub' }, sub);
}

function renderSummary(r: ProbeResult): void {
  const item = (m: SummaryMetric) =>
    h('div', { class: `metric ${m.cls}`, title: m.title }, h('div', { class: 'label' }, m.label), h('div', { class: 'value' }, m.value), ...(m.sub ? [subLine(m.sub)] : []));
  const where = source ? `${source.file}:${source.line}` : '';
  // A model without a backward twin has no Backward or Δ metric: a note says so instead.
  const note = summaryNote(r);
  summaryEl.replaceChildren(
    h('h2', {}, 'Summary', h('span', { class: 'where', title: 'The probed text: file and first line' }, where)),
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
  // Quantiles of the text are not round numbers: one decimal is what a reader can compare.
  const quantiles = settings.thresholdMode === 'quantiles' && (measure === 'forward' || measure === 'backward');
  const th = quantiles ? settings.thresholds.map((x) => Math.round(x * 10) / 10) : settings.thresholds;
  const label = (i: number) => {
    if (measure === 'forward' || measure === 'backward') {
      return i === 0 ? `< ${th[0]} bits` : i === b.length - 1 ? `≥ ${th[i - 1]} bits` : `${th[i - 1]}–${th[i]} bits`;
    }
    if (measure === 'difference') return `${b[i].label.replace(/-/g, '–')}`;
    return b[i].label;
  };
  const entryTitle = (i: number) => {
    if (measure === 'forward' || measure === 'backward') {
      const p = (bits: number) => (bits >= 1 ? `1 in ${Math.round(2 ** bits).toLocaleString('en')}` : `${Math.round(100 / 2 ** bits)}%`);
      const what = i === 0 ? `above ${p(th[0])}` : i === th.length ? `${p(th[i - 1])} or less` : `between ${p(th[i])} and ${p(th[i - 1])}`;
      return `Surprisal ${label(i)}: the model gave the token a probability ${what}`;
    }
    return b[i].label;
  };
  legendEl.replaceChildren(
    h('h2', { title: MEASURE_TITLE[measure] }, `Heatmap: ${MEASURE_LABEL[measure]}`),
    ...(fallback ? [h('p', { class: 'muted note fallback', role: 'note' }, fallback)] : []),
    ...(quantiles
      ? [h('p', { class: 'muted note', title: 'lmProbe.heatmap.thresholds is "quantiles": the colours rank the tokens of this text among themselves, so the same colour means different bits on another text.' }, 'Thresholds: the 50 / 75 / 90 / 97.5% quantiles of this text')]
      : []),
    b.length
      ? h('div', { class: 'legend' }, ...b.map((x, i) => {
          const sw = h('span', { class: 'swatch' });
          sw.style.background = heatColor(x.color, settings.colors);
          return h('span', { class: 'entry', title: entryTitle(i) }, sw, label(i));
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
    span.title = `#${i} ${visible(t.text)} · forward surprisal ${f(t.forward.surprisalBits, 2)} bits${t.backward ? ` · backward ${f(t.backward.surprisalBits, 2)} bits` : ''} · forward rank ${t.forward.rank} (1 = the model's top guess)`;
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
  const bw = hasBackward(r);
  const measure = effectiveMeasure(settings.measure, bw);
  const all = r.tokens.length <= LIST_ALL_UP_TO;
  const rank = rankByMeasure(r.tokens, measure, LIST_ALL_UP_TO);
  // The measure's own column when it is not one of the two surprisal columns.
  const extra = measure === 'difference' || measure === 'rank';
  const th = (text: string, title: string, num = true) => h('th', { class: num ? 'num' : '', title }, text);
  const table = h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        th('#', 'Token index in the probed text', false),
        th('token', 'The token, whitespace shown as · ⏎ ⇥', false),
        th('fw bits', 'Forward surprisal: −log₂ p(token | text before it), in bits'),
        ...(bw ? [th('bw bits', 'Backward surprisal: −log₂ q(token | text after it), in bits')] : []),
        ...(extra ? [th(rank.column, rank.columnTitle)] : []),
      ),
    ),
    h(
      'tbody',
      {},
      ...rank.order.map((i) => {
        const t = r.tokens[i];
        const d = t.backward ? t.backward.surprisalBits - t.forward.surprisalBits : NaN;
        return h(
          'tr',
          { 'data-i': String(i), tabindex: '0' },
          h('td', {}, String(i)),
          h('td', {}, h('code', {}, visible(t.text))),
          h('td', { class: 'num' }, f(t.forward.surprisalBits, 2)),
          ...(bw ? [h('td', { class: 'num' }, t.backward ? f(t.backward.surprisalBits, 2) : '–')] : []),
          ...(extra ? [h('td', { class: 'num' }, measure === 'rank' ? String(t.forward.rank) : Number.isFinite(d) ? `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}` : '–')] : []),
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
  const title = all ? `All ${r.tokens.length} token${r.tokens.length === 1 ? '' : 's'}` : 'Most surprising';
  topEl.replaceChildren(
    h('h2', { title: `Ordered ${rank.by}: the measure the heatmap shows, so these are the editor's hottest tokens.` }, title, h('span', { class: 'where' }, rank.by)),
    table,
  );
}

function renderCharts(r: ProbeResult): void {
  charts.forEach((c) => c.destroy());
  charts = [];
  const c = themeColors();
  const n = r.tokens.length;
  const bw = hasBackward(r);
  const lineOk = n >= MIN_CHART_TOKENS;
  lineBlock.hidden = !lineOk;
  lineNeeds.hidden = lineOk;
  lineNeeds.textContent = `The chart along the text needs at least ${MIN_CHART_TOKENS} tokens; this selection has ${n}, listed below.`;
  chartsNote.hidden = bw || !lineOk;
  if (lineOk) {
    (perSel as unknown as { value: string }).value = ui.lineView.per;
    const zoomed = !!ui.lineView.range;
    for (const b of [resetBtn, panLeftBtn, panRightBtn]) (b as unknown as { disabled: boolean }).disabled = !zoomed;
    charts.push(
      surprisalLineChart(lineCanvas, r, c, {
        view: ui.lineView,
        firstLine: source?.line ?? 1,
        onPick: reveal,
        onRange: (range) => setLineView({ ...ui.lineView, range }),
        onDrawn: (d) => {
          const units = ui.lineView.per === 'line' ? 'lines' : 'tokens';
          const [lo, hi] = ui.lineView.range ?? d.bounds;
          const span = ui.lineView.range ? `${units} ${lo.toLocaleString('en')}–${hi.toLocaleString('en')} of ${d.bounds[0].toLocaleString('en')}–${d.bounds[1].toLocaleString('en')}` : `all ${d.points.toLocaleString('en')} ${units}`;
          const how = d.perBucket > 1 ? `each point the mean of ~${d.perBucket} ${units}, band: their middle half` : ui.lineView.per === 'line' ? 'mean surprisal of each line' : 'one point per token';
          chartCaption.textContent = `${span}; ${how}. Drag across the chart to zoom; click to show a token.`;
        },
      }),
    );
  }
  const pairs = bw ? r.tokens.filter((t) => t.backward).length : 0;
  const sc = scatterChart(scatterCanvas, r, c, reveal);
  document.getElementById('scatterBox')!.hidden = !sc;
  document.getElementById('scatterTitle')!.hidden = !bw;
  scatterNeeds.hidden = !!sc || !bw;
  scatterNeeds.textContent = `The forward-vs-backward scatter needs at least ${MIN_SCATTER_TOKENS} tokens; this selection has ${pairs}.`;
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
    const title = h('h2', { title: windowTitle(r) }, view.title, h('span', { class: 'where an-window' }, windowLabel(r)), ...(computing ? [h('span', { class: 'where computing', role: 'status' }, 'computing…')] : []));
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
    case 'state': {
      const same = !!result && !!m.result && m.result.text === result.text;
      if (m.result !== result) ui.selected = same ? ui.selected : -1;
      // another text: its own zoom (the old range may lie outside it)
      if (!same) ui.lineView = { ...ui.lineView, range: null };
      result = m.result;
      source = m.source;
      settings = m.settings;
      analysesStatus = m.analysesStatus ?? { state: 'off' };
      setStale(m.stale ?? null);
      setStatus('none');
      renderAll();
      return;
    }
    case 'stale':
      setStale(m.reason);
      if (statusEl.className === 'busy' && lastBusy) setStatus('busy', lastBusy.message, lastBusy.progress);
      else setStatus('none');
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
      // A new probe makes the result shown the previous one at once, before any window is done.
      if (result) setStale(`Previous result${source ? ` (${source.file}:${source.line})` : ''}: a new probe is running.`);
      lastBusy = m;
      setStatus('busy', m.message, m.progress);
      return;
    case 'idle':
    case 'error':
      // Cancelled or failed: the editor keeps the previous annotations, so the panel's result is current again.
      if (staleReason?.startsWith('Previous result')) setStale(null);
      if (m.type === 'error') setStatus('error', m.message);
      else setStatus('none');
      return;
    case 'focus':
      select(m.index, true);
      return;
  }
});

// A wider or narrower side bar: the surprisal chart gets as many buckets as its plot has room for.
let chartWidth = 0;
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
new ResizeObserver(([e]) => {
  const w = Math.round(e.contentRect.width);
  if (!w || Math.abs(w - chartWidth) < 8) return;
  const first = chartWidth === 0;
  chartWidth = w;
  if (first) return;
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => result && renderCharts(result), 150);
}).observe(chartsEl);

// Theme switches change the --vscode-* variables and the body class: redraw the canvases.
new MutationObserver(() => {
  if (result) {
    renderCharts(result);
    renderAnalyses(result);
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

renderAll();
post({ type: 'ready' });
