// The panel's two charts (Chart.js): surprisal along the text in both directions, and forward
// against backward surprisal per token. Colors come from the theme; a click reveals a token.
// A range wider than the plot has pixels for is drawn as buckets (mean line, interquartile
// band; src/vscode/panel/series.ts); the user zooms with a drag across the chart or the buttons
// beside it (webview/main.ts), and per-token points appear once a range is narrow enough.
import {
  Chart,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type Plugin,
  type Scale,
} from 'chart.js';
import type { ProbeResult } from '../src/engine/schema';
import { envelope, lineSeries, tokenSeries, type Bucket, type Direction, type SeriesPoint } from '../src/vscode/panel/series';
import type { ThemeColors } from './analyses/index';
import { withAlpha } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, ScatterController, Tooltip, Legend, Filler);

type Pt = { x: number; y: number; i: number; b?: Bucket };

function vis(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
const grouped = new Intl.NumberFormat('en');

function baseOptions(c: ThemeColors) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: c.foreground,
    font: { family: c.font },
    plugins: {
      legend: { labels: { color: c.foreground, boxWidth: 14, boxHeight: 2 } },
      tooltip: { displayColors: false },
    },
  };
}

/**
 * Drops the tick next to the last one when it sits closer than 60% of a step to it: an explicit
 * max (the last token, 91) otherwise collides with the nice tick before it (80).
 */
function pruneEdgeTicks(scale: Scale): void {
  const t = scale.ticks;
  if (t.length < 3) return;
  const step = t[1].value - t[0].value;
  if (t[t.length - 1].value - t[t.length - 2].value < 0.6 * step) t.splice(t.length - 2, 1);
  if (t.length >= 3 && t[1].value - t[0].value < 0.6 * (t[2].value - t[1].value)) t.splice(1, 1);
}

export function axis(c: ThemeColors, title: string, extra: Record<string, unknown> = {}) {
  const linear = extra.type === undefined || extra.type === 'linear';
  return {
    type: 'linear' as const,
    title: { display: true, text: title, color: c.muted },
    ticks: { color: c.muted, maxTicksLimit: 6 },
    grid: { color: withAlpha(c.grid, 0.25) },
    border: { color: c.grid },
    ...(linear ? { afterBuildTicks: pruneEdgeTicks } : {}),
    ...extra,
  };
}

/** What the surprisal chart shows: per token or per source line, and which x range (null: all). */
export interface LineView {
  per: 'token' | 'line';
  range: [number, number] | null;
}

export interface LineChartOptions {
  view: LineView;
  /** 1-based line of the probed text's first character in its file. */
  firstLine: number;
  onPick(i: number): void;
  /** A drag across the plot asks for this x range. */
  onRange(range: [number, number]): void;
  /** Tells the page how the data is drawn now (for the caption under the chart). */
  onDrawn(d: { buckets: number; perBucket: number; points: number; bounds: [number, number] }): void;
}

/** When the last drag across a surprisal chart ended. */
let lastDragEnd = 0;

/** Pixels per bucket: narrower and the band is noise, wider and a long text loses its detail. */
const PX_PER_BUCKET = 3;
/** Up to one point per this many pixels, a range is drawn token by token (a line, no dots). */
const PX_PER_POINT = 1.5;
/** The y axis and its title, left of the plot. */
const Y_AXIS_PX = 48;

/** x values of a view's series and their bounds. */
export function seriesOf(r: ProbeResult, per: LineView['per'], firstLine: number): { fw: SeriesPoint[]; bw: SeriesPoint[]; bounds: [number, number] } {
  const of = (d: Direction) => (per === 'line' ? lineSeries(r.text, r.tokens, d, firstLine) : tokenSeries(r.tokens, d));
  const fw = of('forward');
  const bw = of('backward');
  const xs = fw.length ? fw : bw;
  const bounds: [number, number] = xs.length ? [xs[0].x, xs[xs.length - 1].x] : [0, 1];
  return { fw, bw, bounds };
}

export function surprisalLineChart(canvas: HTMLCanvasElement, r: ProbeResult, c: ThemeColors, o: LineChartOptions): Chart {
  const { fw, bw, bounds } = seriesOf(r, o.view.per, o.firstLine);
  const [lo, hi] = o.view.range ?? bounds;
  const units = o.view.per === 'line' ? 'lines' : 'tokens';
  const series: { d: Direction; pts: SeriesPoint[]; color: string; dash: number[] }[] = [
    { d: 'forward' as const, pts: fw, color: c.forward, dash: [] },
    { d: 'backward' as const, pts: bw, color: c.backward, dash: [5, 3] },
  ].filter((s) => s.pts.length);

  const build = (plotWidth: number): ChartDataset<'line', Pt[]>[] => {
    const inView = Math.max(...series.map((s) => s.pts.filter((p) => p.x >= lo && p.x <= hi).length));
    const maxBuckets = inView <= plotWidth / PX_PER_POINT ? inView : Math.max(10, Math.floor(plotWidth / PX_PER_BUCKET));
    const out: ChartDataset<'line', Pt[]>[] = [];
    const lines: ChartDataset<'line', Pt[]>[] = [];
    let drawn = { buckets: 0, perBucket: 1, points: 0 };
    for (const s of series) {
      const b = envelope(s.pts, lo, hi, maxBuckets);
      const points = b.reduce((a, x) => a + x.n, 0);
      const aggregated = b.some((x) => x.n > 1);
      drawn = { buckets: b.length, perBucket: aggregated ? Math.round(points / b.length) : 1, points };
      // how the points are made is in the caption under the chart: the legend stays one line
      const label = s.d;
      if (aggregated) {
        out.push(
          { label: `_${s.d} q1`, data: b.map((x) => ({ x: x.x, y: x.q1, i: x.maxAt, b: x })), borderWidth: 0, pointRadius: 0, pointHitRadius: 0, fill: false },
          {
            label: `_${s.d} q3`,
            data: b.map((x) => ({ x: x.x, y: x.q3, i: x.maxAt, b: x })),
            borderWidth: 0,
            pointRadius: 0,
            pointHitRadius: 0,
            fill: '-1',
            backgroundColor: withAlpha(s.color, 0.16),
          },
        );
      }
      lines.push({
        label,
        data: b.map((x) => ({ x: x.x, y: x.mean, i: x.maxAt, b: x })),
        borderColor: s.color,
        backgroundColor: s.color,
        borderDash: s.dash,
        borderWidth: aggregated ? 2 : 1.5,
        pointRadius: aggregated || b.length > 60 ? 0 : 2,
        pointHoverRadius: 4,
        fill: false,
      });
    }
    o.onDrawn({ ...drawn, bounds });
    return [...out, ...lines];
  };

  // The drag-to-zoom selection, drawn on the canvas (no DOM overlay, nothing for the CSP to refuse).
  let drag: { x0: number; x1: number } | null = null;
  let dragged = false;
  // the canvas outlives this chart (a new result, a theme switch): its listeners go with the chart
  const listening = new AbortController();
  const dragPlugin: Plugin<'line'> = {
    id: 'lmprobeDrag',
    afterDestroy() {
      listening.abort();
    },
    afterDraw(chart) {
      if (!drag) return;
      const a = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = withAlpha(c.accent, 0.2);
      ctx.strokeStyle = c.accent;
      const x = Math.max(a.left, Math.min(drag.x0, drag.x1));
      const w = Math.min(a.right, Math.max(drag.x0, drag.x1)) - x;
      ctx.fillRect(x, a.top, w, a.bottom - a.top);
      ctx.strokeRect(x, a.top, w, a.bottom - a.top);
      ctx.restore();
    },
  };

  const bucketTitle = (p: Pt): string => {
    const b = p.b;
    if (!b || b.n <= 1) {
      if (o.view.per === 'line') return `line ${p.x}`;
      return `#${p.i} "${vis(r.tokens[p.i]?.text ?? '')}"`;
    }
    return `${units} ${grouped.format(b.x0)}–${grouped.format(b.x1)} (${grouped.format(b.n)} ${units})`;
  };
  const cfg: ChartConfiguration<'line', Pt[]> = {
    type: 'line',
    data: { datasets: build(Math.max(100, (canvas.parentElement?.clientWidth ?? 260) - Y_AXIS_PX)) },
    options: {
      ...baseOptions(c),
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: axis(c, o.view.per === 'line' ? 'line in the file' : 'token index', {
          min: lo,
          max: hi,
          // "20.9K" at the scale of a whole long text, exact indices once zoomed in
          ticks: { color: c.muted, maxTicksLimit: 5, maxRotation: 0, precision: 0, callback: (v: number | string) => (hi - lo >= 10_000 ? compact : grouped).format(Number(v)) },
        }),
        y: axis(c, o.view.per === 'line' ? 'bits per token' : 'surprisal (bits)', { beginAtZero: true }),
      },
      plugins: {
        ...baseOptions(c).plugins,
        legend: { labels: { color: c.foreground, boxWidth: 14, boxHeight: 2, filter: (item) => !item.text.startsWith('_') } },
        tooltip: {
          displayColors: false,
          filter: (item) => !(item.dataset.label ?? '').startsWith('_'),
          callbacks: {
            title: (items) => {
              const p = items[0]?.raw as Pt | undefined;
              return p ? bucketTitle(p) : '';
            },
            label: (item) => {
              const p = item.raw as Pt;
              const name = item.dataset.label ?? '';
              const b = p.b;
              if (!b || b.n <= 1) return `${name}: ${p.y.toFixed(2)} ${o.view.per === 'line' ? 'bits per token' : 'bits'}`;
              return `${name}: mean ${b.mean.toFixed(2)} bits, middle half ${b.q1.toFixed(1)}–${b.q3.toFixed(1)}, max ${b.max.toFixed(1)}`;
            },
            footer: (items) => {
              const p = items[0]?.raw as Pt | undefined;
              if (!p) return '';
              return p.b && p.b.n > 1 ? `click: the most surprising token, #${p.i} "${vis(r.tokens[p.i]?.text ?? '')}"` : `click: show it in the editor`;
            },
          },
        },
      },
      onClick: (_e, els, chart) => {
        // the click that ends a drag lands on the chart the drag made: it is no pick
        if (dragged || Date.now() - lastDragEnd < 400) return;
        const el = els.find((e) => !(chart.data.datasets[e.datasetIndex].label ?? '').startsWith('_')) ?? els[0];
        if (!el) return;
        const p = chart.data.datasets[el.datasetIndex].data[el.index] as unknown as Pt | undefined;
        if (p && p.i >= 0) o.onPick(p.i);
      },
    },
    plugins: [dragPlugin],
  };
  const chart = new Chart(canvas, cfg);

  const xAt = (e: PointerEvent) => e.clientX - canvas.getBoundingClientRect().left;
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    dragged = false;
    drag = { x0: xAt(e), x1: xAt(e) };
    canvas.setPointerCapture(e.pointerId);
  }, { signal: listening.signal });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    drag.x1 = xAt(e);
    if (Math.abs(drag.x1 - drag.x0) > 4) dragged = true;
    if (dragged) chart.draw();
  }, { signal: listening.signal });
  canvas.addEventListener('pointerup', () => {
    const d = drag;
    drag = null;
    if (!d || !dragged) return;
    lastDragEnd = Date.now();
    chart.draw();
    const s = chart.scales.x;
    const a = Math.round(s.getValueForPixel(Math.min(d.x0, d.x1)) ?? lo);
    const b = Math.round(s.getValueForPixel(Math.max(d.x0, d.x1)) ?? hi);
    const range: [number, number] = [Math.max(bounds[0], a), Math.min(bounds[1], b)];
    if (range[1] - range[0] >= 2) o.onRange(range);
    // the click that follows this pointerup is the end of a drag, not a pick
    dragged = false;
  }, { signal: listening.signal });
  return chart;
}

/** Fewest tokens with both directions for a forward-vs-backward scatter that shows a relation. */
export const MIN_SCATTER_TOKENS = 10;

export function scatterChart(canvas: HTMLCanvasElement, r: ProbeResult, c: ThemeColors, onPick: (i: number) => void): Chart | undefined {
  const pts: Pt[] = r.tokens.flatMap((t, i) => (t.backward ? [{ x: t.forward.surprisalBits, y: t.backward.surprisalBits, i }] : []));
  if (pts.length < MIN_SCATTER_TOKENS) return undefined;
  const max = Math.ceil(Math.max(1, ...pts.map((p) => Math.max(p.x, p.y))));
  const many = pts.length > 3000;
  // Thousands of dots at full ink are one blob: faint enough that only dense regions saturate.
  const alpha = Math.min(0.6, 8 / Math.sqrt(pts.length));
  const cfg: ChartConfiguration<'scatter', Pt[]> = {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'tokens',
          data: pts,
          backgroundColor: withAlpha(c.accent, alpha),
          borderColor: 'transparent',
          pointRadius: many ? 1.2 : 2.5,
          pointHoverRadius: 5,
        },
        {
          label: 'equal',
          data: [{ x: 0, y: 0, i: -1 }, { x: max, y: max, i: -1 }],
          showLine: true,
          borderColor: withAlpha(c.muted, 0.7),
          borderDash: [4, 4],
          borderWidth: 1,
          pointRadius: 0,
          pointHitRadius: 0,
        },
      ],
    },
    options: {
      ...baseOptions(c),
      parsing: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          displayColors: false,
          filter: (item) => item.datasetIndex === 0,
          callbacks: {
            title: (items) => {
              const i = (items[0]?.raw as Pt | undefined)?.i ?? 0;
              return `#${i} "${vis(r.tokens[i]?.text ?? '')}"`;
            },
            label: (item) => {
              const p = item.raw as Pt;
              const d = p.y - p.x;
              return `forward ${p.x.toFixed(2)} · backward ${p.y.toFixed(2)} bits (bw − fw ${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)})`;
            },
          },
        },
      },
      scales: {
        x: axis(c, 'forward surprisal (bits)', { min: 0, max, ticks: { color: c.muted, maxTicksLimit: 5, maxRotation: 0 } }),
        y: axis(c, 'backward surprisal (bits)', { min: 0, max, ticks: { color: c.muted, maxTicksLimit: 5 } }),
      },
      onClick: (_e, els, chart) => {
        const el = els.find((e) => e.datasetIndex === 0);
        if (!el) return;
        const p = chart.data.datasets[0].data[el.index] as unknown as Pt;
        if (p && p.i >= 0) onPick(p.i);
      },
    },
  };
  return new Chart(canvas, cfg);
}
