// Representation geometry (Tan et al. 2024): matrix entropy of each layer's hidden states over
// the selection, normalized by ln d, as a line over layers.
import { Chart, LineController, LineElement, LinearScale, PointElement, Tooltip, Legend, CategoryScale } from 'chart.js';
import { MIN_TOKENS, registerAnalysis } from './index';
import { el } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend);

registerAnalysis({
  key: 'geometry',
  title: 'Representation entropy per layer',
  order: 30,
  render(root, g, ctx) {
    const c = ctx.colors;
    if (g.tokens < MIN_TOKENS.geometry) {
      root.append(el('p', { class: 'an-muted', text: `Matrix entropy needs at least ${MIN_TOKENS.geometry} token states that differ; this window has ${g.tokens}. Select more text.` }));
      return;
    }
    const canvas = el('canvas');
    canvas.title = HELP;
    root.append(el('div', { class: 'an-chart small' }, canvas));
    const labels = g.normalized.map((_, l) => (l === 0 ? 'emb (0)' : `layer ${l}`));
    const ref = g.reference;
    const chart = new Chart(canvas, {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: `this text (${g.tokens} tokens)`, data: g.normalized, borderColor: c.purple, backgroundColor: c.purple, pointRadius: 3 },
          ...(ref ? [{ label: `reference text (${ref.tokens} tokens)`, data: ref.normalized, borderColor: c.yellow, backgroundColor: c.yellow, borderDash: [4, 3], pointRadius: 2 }] : []),
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: c.foreground,
        plugins: {
          legend: { labels: { color: c.foreground, boxWidth: 12, boxHeight: 2 } },
          tooltip: { callbacks: { label: (it) => `${it.dataset.label}: H / ln d = ${(it.raw as number).toFixed(3)} (H = ${(((it.raw as number) * Math.log(g.width)) as number).toFixed(2)} nats)` } },
        },
        scales: {
          x: { ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
          y: { min: 0, max: 1, title: { display: true, text: 'H / ln d', color: c.muted }, ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
        },
      },
    });
    root.append(
      el('p', {
        class: 'an-muted',
        title: HELP,
        text:
          `H / ln d over ${g.tokens} token states, d = ${g.width}: 1 = spread evenly over all directions, 0 = one direction. ` +
          `It grows with the number of tokens, so compare it only at equal length: ` +
          (ref ? `the dashed line is the same layers on the first ${ref.tokens} tokens of ${ref.text}.` : 'no reference at this length.'),
      }),
    );
    return () => chart.destroy();
  },
});

const HELP =
  'Matrix entropy (Tan et al. 2024, "The information of large language model geometry"; von Neumann entropy of the normalized Gram spectrum, Giraldo et al. 2014): ' +
  "the layer's states are centered over the window's tokens and each row scaled to unit norm (Z); with λ_i the eigenvalues of Z'Z / tr(Z'Z), " +
  'H = −Σ λ_i ln λ_i nats, shown as H / ln d (d = width). Depends strongly on the number of tokens.';
