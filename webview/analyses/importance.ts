// Token importance view (Tan et al. 2024): for the target token, attention from it to each earlier
// token (one block, mean over heads) next to the Lasso coefficients of the earlier tokens' states
// in a regression of the target's state; the agreement of the two; an alpha slider over the
// regularization path (instant along the path, exact alpha on release); the path itself; the
// information gain per token. Clicking a token makes it the target (a new probe).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from 'chart.js';
import { registerAnalysis } from './index';
import { el } from './dom';
import { visible } from '../../src/vscode/text';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

/** Bars for the earlier tokens with the most attention or |coef|: readable labels at a 300 px side bar. */
const TOP_BARS = 12;
const PATH_LINES = 8;

interface UiState {
  pathIndex?: number;
}

registerAnalysis({
  key: 'importance',
  title: 'Token importance: attention vs Lasso',
  order: 20,
  render(root, imp, ctx) {
    const r = ctx.result;
    const c = ctx.colors;
    const w = r.analyses!.window;
    const charts: Chart[] = [];
    const L = r.pack.layers;
    const earlier = imp.target - w.start;
    if (earlier < 2) {
      root.append(el('p', { class: 'an-muted', text: `Importance needs at least 2 tokens before the target in the window; the target #${imp.target} has ${earlier}. Select more text, or click a later token.` }));
      return;
    }
    // The TOP_BARS earlier tokens with the largest attention or |coef| (each scaled to its maximum), in text order.
    const all = Array.from({ length: earlier }, (_, k) => w.start + k);
    const attAll = all.map((j) => imp.attention[imp.attentionLayer]?.[j] ?? 0);
    const coefAll = all.map((j) => Math.abs(imp.lasso[j] ?? 0));
    const amax = Math.max(1e-300, ...attAll);
    const cmax = Math.max(1e-300, ...coefAll);
    const idx = all
      .map((j, k) => ({ j, s: Math.max(attAll[k] / amax, coefAll[k] / cmax) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, TOP_BARS)
      .map((x) => x.j)
      .sort((a, b) => a - b);
    const labels = idx.map((j) => `#${j} ${visible(r.tokens[j].text)}`.slice(0, 14));

    // controls: layer, attention block, alpha slider
    const layerSel = el('select', { title: 'hidden-state layer of the Lasso regression' }, ...Array.from({ length: L + 1 }, (_, l) => el('option', { value: String(l), text: l === 0 ? 'embeddings' : `layer ${l}` })));
    layerSel.value = String(imp.layer);
    layerSel.addEventListener('change', () => ctx.requestAnalysis({ importance: { target: imp.target, layer: Number(layerSel.value) } }));
    const attSel = el('select', { title: 'attention block shown and compared (block b writes layer b; layer 0 = embeddings)' }, ...Array.from({ length: L }, (_, b) => el('option', { value: String(b), text: `block ${b + 1}` })));
    attSel.value = String(imp.attentionLayer);
    attSel.addEventListener('change', () => ctx.requestAnalysis({ importance: { target: imp.target, layer: imp.layer, alpha: imp.alpha, attentionLayer: Number(attSel.value) } }));
    const steps = 60;
    const lo = Math.log10(imp.alphaMax * 1e-3);
    const hi = Math.log10(imp.alphaMax);
    const toAlpha = (v: number) => 10 ** (lo + ((hi - lo) * v) / steps);
    const slider = el('input', { type: 'range', min: '0', max: String(steps), step: '1', title: 'Lasso α (log scale): the L1 penalty. Larger α keeps fewer tokens; at α_max = max_j |h_j · h_target| / D every coefficient is 0.' });
    slider.value = String(Math.round(((Math.log10(Math.max(imp.alpha, 1e-300)) - lo) / (hi - lo || 1)) * steps));
    const alphaLabel = el('span', { class: 'an-muted', title: 'α: the Lasso penalty in use; α_max: the smallest α at which every coefficient is 0; nonzero: earlier tokens the Lasso keeps' });
    const agreeLabel = el('span', {
      title:
        'Spearman ρ: rank correlation of attention and |Lasso coefficient| over the earlier tokens (1 = same order, 0 = unrelated). ' +
        'Top-k overlap: share of the k largest of each that are the same tokens. Chance: what random rankings give. ' +
        'Recency: ranking the tokens by position (most recent first) instead of by attention.',
    });
    const std = el('input', { type: 'checkbox', title: 'center each state and scale it to unit variance over its coordinates before the Lasso (state norms differ by up to 2x in a window)' });
    std.checked = !!imp.standardized;
    std.addEventListener('change', () => ctx.requestAnalysis({ importance: { target: imp.target, layer: imp.layer, attentionLayer: imp.attentionLayer, standardize: std.checked } }));
    const ref = imp.reference;
    const copyLine = ref
      ? ref.earlierCopies === 0
        ? 'The target token has no earlier copy in the window.'
        : `The target token occurs ${ref.earlierCopies} time(s) earlier; the Lasso's top token ${ref.lassoTopIsCopy ? 'is' : 'is not'} one of those copies (it is in most targets that have one).`
      : '';
    root.append(
      el('div', { class: 'an-row' }, el('span', { text: `target #${imp.target} ${JSON.stringify(r.tokens[imp.target].text)}` }), el('label', {}, 'Lasso on ', layerSel), el('label', {}, 'attention of ', attSel)),
      el('div', { class: 'an-row' }, el('span', { text: 'α', title: 'the Lasso penalty (slider: log scale)' }), slider, alphaLabel),
      el('div', { class: 'an-row' }, el('label', {}, std, ' standardize states first')),
      el('div', { class: 'an-row' }, agreeLabel),
      ...(copyLine ? [el('p', { class: 'an-muted', text: copyLine })] : []),
    );

    // bars
    const barCanvas = el('canvas');
    const barBox = el('div', { class: 'an-chart' }, barCanvas);
    barBox.style.height = `${60 + 18 * idx.length}px`;
    root.append(
      barBox,
      el('p', {
        class: 'an-muted',
        text: `The ${idx.length} of ${earlier} earlier tokens with the most attention or |coef| (click one to make it the target). Attention: mean over heads, renormalized to sum 1 over the earlier tokens (the BOS position and the target itself removed).`,
      }),
    );
    const att = idx.map((j) => imp.attention[imp.attentionLayer]?.[j] ?? 0);
    const coefAt = (coef: (number | null)[], base = 0) => idx.map((j) => Math.abs(coef[j - base] ?? 0));
    const bars = new Chart(barCanvas, {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: `attention, block ${imp.attentionLayer + 1}`, data: att, backgroundColor: c.forward, xAxisID: 'x' },
          { label: '|Lasso coef|', data: coefAt(imp.lasso), backgroundColor: c.backward, xAxisID: 'x2' },
        ],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: c.foreground,
        onClick: (_e, els) => {
          const j = els[0] ? idx[els[0].index] : undefined;
          if (j !== undefined) ctx.requestAnalysis({ importance: { target: j, layer: imp.layer } });
        },
        plugins: { legend: { labels: { color: c.foreground, boxWidth: 10 } }, tooltip: { callbacks: { title: (items) => `#${idx[items[0].dataIndex]} ${JSON.stringify(r.tokens[idx[items[0].dataIndex]].text)}` } } },
        scales: {
          y: { ticks: { color: c.foreground, autoSkip: false, font: { size: 10 } }, grid: { display: false } },
          x: { beginAtZero: true, position: 'bottom', title: { display: true, text: 'attention (share of the row)', color: c.forward }, ticks: { color: c.muted, maxTicksLimit: 4 }, grid: { color: 'rgba(128,128,128,0.15)' } },
          x2: { beginAtZero: true, position: 'top', title: { display: true, text: '|coef|', color: c.backward }, ticks: { color: c.muted, maxTicksLimit: 4 }, grid: { display: false } },
        },
      },
    });
    charts.push(bars);

    // path
    const pathCanvas = el('canvas');
    root.append(el('div', { class: 'an-chart' }, pathCanvas));
    const peak = idx.map((j) => Math.max(0, ...imp.path.map((p) => Math.abs(p.coef[j - w.start] ?? 0))));
    const lines = idx
      .map((j, k) => ({ j, k, m: peak[k] }))
      .filter((x) => x.m > 0)
      .sort((a, b) => b.m - a.m)
      .slice(0, PATH_LINES);
    const palette = [c.forward, c.backward, c.green, c.purple, c.red, c.yellow, c.accent, c.muted];
    const marker = { label: 'α', data: [] as { x: number; y: number }[], borderColor: c.foreground, borderDash: [3, 3], pointRadius: 0, borderWidth: 1 };
    const path = new Chart(pathCanvas, {
      type: 'line',
      data: {
        datasets: [
          ...lines.map((x, n) => ({
            label: `#${x.j} ${visible(r.tokens[x.j].text)}`,
            data: imp.path.map((p) => ({ x: Math.log10(p.alpha), y: p.coef[x.j - w.start] ?? 0 })),
            borderColor: palette[n % palette.length],
            backgroundColor: palette[n % palette.length],
            pointRadius: 0,
            borderWidth: 1.5,
          })),
          marker,
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: c.foreground,
        plugins: { legend: { display: true, position: 'bottom', labels: { color: c.foreground, boxWidth: 8, font: { size: 9 } } } },
        scales: {
          x: { type: 'linear', reverse: true, title: { display: true, text: 'log10 α (regularization path)', color: c.muted }, ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
          y: { title: { display: true, text: 'coef', color: c.muted }, ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
        },
      },
    });
    charts.push(path);

    const ymin = Math.min(0, ...imp.path.flatMap((p) => p.coef));
    const ymax = Math.max(0, ...imp.path.flatMap((p) => p.coef));
    const show = (alpha: number, coef: (number | null)[], base: number, exact: boolean, spearman: number | null, overlap: number | null) => {
      alphaLabel.textContent = `${alpha.toExponential(2)}${exact ? '' : ' (nearest path point; release for the exact fit)'} · α_max ${imp.alphaMax.toExponential(2)} · ${idx.filter((j) => (coef[j - base] ?? 0) !== 0).length} nonzero`;
      bars.data.datasets[1].data = coefAt(coef, base);
      bars.update();
      marker.data = [
        { x: Math.log10(alpha), y: ymin },
        { x: Math.log10(alpha), y: ymax },
      ];
      path.update();
      agreeLabel.textContent =
        spearman === null && overlap === null
          ? 'agreement: computed for the exact fit'
          : `agreement with attention: Spearman ρ ${spearman === null ? '–' : spearman.toFixed(2)}` +
            (ref ? ` (chance: |ρ| < ${ref.chanceSpearman95 === null ? '–' : ref.chanceSpearman95.toFixed(2)} in 95%; recency ρ ${ref.recency.spearman === null ? '–' : ref.recency.spearman.toFixed(2)})` : '') +
            ` · top-${imp.agreement.k} overlap ${(overlap ?? 0).toFixed(2)}` +
            (ref ? ` (chance ${ref.chanceTopKOverlap.toFixed(2)}; recency ${ref.recency.topKOverlap.toFixed(2)})` : '') +
            (ref?.attentionVsRecency != null ? ` · attention vs recency ρ ${ref.attentionVsRecency.toFixed(2)}` : '');
    };
    show(imp.alpha, imp.lasso, 0, true, imp.agreement.spearman, imp.agreement.topKOverlap);
    slider.addEventListener('input', () => {
      const a = toAlpha(Number(slider.value));
      let best = 0;
      imp.path.forEach((p, k) => {
        if (Math.abs(Math.log(p.alpha) - Math.log(a)) < Math.abs(Math.log(imp.path[best].alpha) - Math.log(a))) best = k;
      });
      if (imp.path.length) show(imp.path[best].alpha, imp.path[best].coef, w.start, false, null, null);
      ctx.setState<UiState>({ pathIndex: best });
    });
    slider.addEventListener('change', () => ctx.requestAnalysis({ importance: { target: imp.target, layer: imp.layer, attentionLayer: imp.attentionLayer, alpha: toAlpha(Number(slider.value)) } }));

    // token strip (click = new target) and information gain
    const strip = el('div', { class: 'an-strip', title: 'click a token to make it the target' });
    for (let j = w.start; j < w.end; j++) {
      const s = el('span', { text: visible(r.tokens[j].text), title: `#${j}${imp.informationGainNats[j] != null ? ` · information gain ${imp.informationGainNats[j]!.toFixed(3)} nats` : ''}` });
      if (j === imp.target) s.className = 'target';
      s.addEventListener('click', () => ctx.requestAnalysis({ importance: { target: j, layer: imp.layer } }));
      strip.append(s);
    }
    const igCanvas = el('canvas');
    igCanvas.title = 'information gain of each token of the window, nats (see below)';
    root.append(
      el('p', { class: 'an-muted', text: 'Choose the target token:' }),
      strip,
      el('div', { class: 'an-chart small' }, igCanvas),
      el('p', {
        class: 'an-muted',
        text: `Information gain per token, nats: ln(1 + r/λ) ≥ 0, r = ridge residual of its unit-norm state on the earlier ones, λ = ${imp.informationGainLambda}: how much log det(I + ZZ'/λ) grows when the token is added. 0 = nothing new; at most ln(1 + 1/λ) = ${Math.log1p(1 / imp.informationGainLambda).toFixed(2)}.`,
      }),
    );
    const igIdx = Array.from({ length: w.end - w.start }, (_, k) => w.start + k);
    charts.push(
      new Chart(igCanvas, {
        type: 'line',
        data: {
          labels: igIdx.map((j) => visible(r.tokens[j].text)),
          datasets: [{ label: 'information gain (nats)', data: igIdx.map((j) => imp.informationGainNats[j] ?? null), borderColor: c.green, backgroundColor: c.green, pointRadius: 1, borderWidth: 1 }],
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          color: c.foreground,
          plugins: { legend: { labels: { color: c.foreground, boxWidth: 12, boxHeight: 2 } } },
          scales: {
            x: { ticks: { color: c.muted, autoSkip: true, maxRotation: 0, font: { size: 9 } }, grid: { display: false } },
            y: { min: 0, max: Math.log1p(1 / imp.informationGainLambda), title: { display: true, text: 'nats', color: c.muted }, ticks: { color: c.muted }, grid: { color: 'rgba(128,128,128,0.15)' } },
          },
        },
      }),
    );
    return () => charts.forEach((ch) => ch.destroy());
  },
});
