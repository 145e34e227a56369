// Representation geometry (Tan et al. 2024): matrix entropy of each layer's hidden states over
// the selection, normalized by ln d, as a line over layers.
import { Chart, LineController, LineElement, LinearScale, PointElement, Tooltip, Legend, CategoryScale } from 'chart.js';
import { registerAnalysis } from './index';
import { el } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend);

registerAnalysis({
  key: 'geometry',
  title: 'Representation entropy per layer',
  order: 30,
  render(root, g, ctx) {
    const c = ctx.colors;
    const canvas = el('canvas');
    root.append(el('div', { class: 'an-chart small' }, canvas));
    const labels = g.normalized.map((_, l) => (l === 0 ? 'emb' : `L${l}`));
    const chart = new Chart(canvas, {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'H / ln d', data: g.normalized, borderColor: c.purple, backgroundColor: c.purple, pointRadius: 3, yAxisID: 'y' },
          { label: 'H (nats)', data: g.entropyNats, borderColor: c.muted, backgroundColor: c.muted, borderDash: [4, 3], pointRadius: 2, yAxisID: 'y2' },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: c.foreground,
        plugins: { legend: { labels: { color: c.foreground, boxWidth: 12, boxHeight: 2 } } },
        scales: {
          x: { ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
          y: { min: 0, max: 1, title: { display: true, text: 'H / ln d', color: c.muted }, ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
          y2: { position: 'right', title: { display: true, text: 'nats', color: c.muted }, ticks: { color: c.muted }, grid: { display: false } },
        },
      },
    });
    root.append(
      el('p', {
        class: 'an-muted',
        text: `Matrix entropy of the ${g.tokens} token states (centered, rows unit-norm), d = ${g.width}: 1 = spread evenly over all directions, 0 = one direction.`,
      }),
    );
    return () => chart.destroy();
  },
});
