// The panel's two charts (Chart.js): surprisal per token in both directions, and forward against
// backward surprisal per token. Colors come from the theme; a click reveals the token.
import {
  Chart,
  Decimation,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type { ProbeResult } from '../src/engine/schema';
import type { ThemeColors } from './analyses/index';
import { withAlpha } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, ScatterController, Tooltip, Legend, Decimation);

type Pt = { x: number; y: number; i: number };

function vis(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function baseOptions(c: ThemeColors) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: c.foreground,
    font: { family: c.font },
    plugins: {
      legend: { labels: { color: c.foreground, boxWidth: 12, boxHeight: 2 } },
      tooltip: { displayColors: false },
    },
  };
}

export function axis(c: ThemeColors, title: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'linear' as const,
    title: { display: true, text: title, color: c.muted },
    ticks: { color: c.muted, maxTicksLimit: 6 },
    grid: { color: withAlpha(c.grid, 0.25) },
    border: { color: c.grid },
    ...extra,
  };
}

export function surprisalLineChart(canvas: HTMLCanvasElement, r: ProbeResult, c: ThemeColors, onPick: (i: number) => void): Chart {
  const n = r.tokens.length;
  const fw: Pt[] = r.tokens.map((t, i) => ({ x: i, y: t.forward.surprisalBits, i }));
  const bw: Pt[] = r.tokens.flatMap((t, i) => (t.backward ? [{ x: i, y: t.backward.surprisalBits, i }] : []));
  const big = n > 1500;
  const cfg: ChartConfiguration<'line', Pt[]> = {
    type: 'line',
    data: {
      datasets: [
        { label: 'forward', data: fw, borderColor: c.forward, backgroundColor: c.forward, borderWidth: 1.2, pointRadius: big ? 0 : 1.5, pointHoverRadius: 4 },
        ...(bw.length ? [{ label: 'backward', data: bw, borderColor: c.backward, backgroundColor: c.backward, borderWidth: 1.2, pointRadius: big ? 0 : 1.5, pointHoverRadius: 4 }] : []),
      ],
    },
    options: {
      ...baseOptions(c),
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: { x: axis(c, 'token', { min: 0, max: Math.max(1, n - 1) }), y: axis(c, 'surprisal (bits)', { beginAtZero: true }) },
      plugins: {
        ...baseOptions(c).plugins,
        decimation: { enabled: big, algorithm: 'min-max' },
        tooltip: {
          displayColors: false,
          callbacks: {
            title: (items) => {
              const i = (items[0]?.raw as Pt | undefined)?.i ?? 0;
              return `#${i} "${vis(r.tokens[i]?.text ?? '')}"`;
            },
            label: (item) => `${item.dataset.label}: ${(item.raw as Pt).y.toFixed(2)} bits`,
          },
        },
      },
      onClick: (_e, els, chart) => {
        const el = els[0];
        if (!el) return;
        const p = chart.data.datasets[el.datasetIndex].data[el.index] as unknown as Pt | undefined;
        if (p) onPick(p.i ?? Math.round(p.x));
      },
    },
  };
  return new Chart(canvas, cfg);
}

export function scatterChart(canvas: HTMLCanvasElement, r: ProbeResult, c: ThemeColors, onPick: (i: number) => void): Chart | undefined {
  const pts: Pt[] = r.tokens.flatMap((t, i) => (t.backward ? [{ x: t.forward.surprisalBits, y: t.backward.surprisalBits, i }] : []));
  if (!pts.length) return undefined;
  const max = Math.ceil(Math.max(1, ...pts.map((p) => Math.max(p.x, p.y))));
  const cfg: ChartConfiguration<'scatter', Pt[]> = {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'tokens',
          data: pts,
          backgroundColor: withAlpha(c.accent, pts.length > 3000 ? 0.25 : 0.6),
          borderColor: 'transparent',
          pointRadius: pts.length > 3000 ? 1.2 : 2.5,
          pointHoverRadius: 5,
        },
        {
          label: 'equal',
          data: [{ x: 0, y: 0, i: -1 }, { x: max, y: max, i: -1 }],
          showLine: true,
          borderColor: withAlpha(c.muted, 0.6),
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
              return `forward ${p.x.toFixed(2)} · backward ${p.y.toFixed(2)} bits`;
            },
          },
        },
      },
      scales: { x: axis(c, 'forward surprisal (bits)', { min: 0, max }), y: axis(c, 'backward surprisal (bits)', { min: 0, max }) },
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
