// The in-context learning lab (Ding et al. 2023): controls, the query error against layers for
// both masks, the error against the number of examples, and the query predictions. The extension
// computes (src/engine/labs/icl.ts); this draws and sends back parameters.
import { Chart, type ChartConfiguration } from 'chart.js';
import type { IclParams, IclView } from '../../src/vscode/labs/protocol';
import type { ThemeColors } from '../analyses/index';
import { axis, baseOptions, fmt, h, logAxis, metric, num, numberControl, type NumberControl } from './ui';

type Pt = { x: number; y: number };

/** Log axes cannot show 0: the axis starts a decade below the smallest error of the two masks (at
 * most at 1e-16), and a reference below that (least squares on noise-free data: ~1e-30) is drawn
 * at the axis' bottom; the tooltip shows the true value. */
function floorOf(...series: number[][]): number {
  let min = Infinity;
  for (const s of series) for (const v of s) if (v > 0 && Number.isFinite(v)) min = Math.min(min, v);
  return Number.isFinite(min) ? Math.max(1e-16, 10 ** (Math.floor(Math.log10(min)) - 1)) : 1e-16;
}

export interface LabContext<P> {
  params: P;
  colors(): ThemeColors;
  /** New parameters from a control: save them and ask for a new view. */
  change(p: P): void;
  /** An intent other than new parameters (use the selection, go back to synthetic). */
  intent(type: 'iclUseSelection' | 'iclSynthetic' | 'skillsUseLastProbe', p: P): void;
}

export interface Lab<P, V> {
  el: HTMLElement;
  setParams(p: P): void;
  render(view: V | null): void;
  busy(b: boolean): void;
  error(message: string): void;
  /** Draw the charts again (a theme change). */
  redraw(): void;
}

export function createIclLab(ctx: LabContext<IclParams>): Lab<IclParams, IclView> {
  let params = ctx.params;
  let view: IclView | null = null;
  let charts: Chart[] = [];
  const change = (patch: Partial<IclParams>) => {
    params = { ...params, ...patch };
    ctx.change(params);
  };
  const ctl = (key: keyof IclParams, label: string, title: string, min: number, max: number, more: { log?: boolean; integer?: boolean; unit?: string; step?: number } = {}): NumberControl =>
    numberControl({ id: `icl-${key}`, label, title, min, max, value: params[key], onChange: (v) => change({ [key]: v }), ...more });

  const controls: Record<keyof IclParams, NumberControl> = {
    d: ctl('d', 'd (input dims)', 'd: the dimension of x (the tokens are [x; y], width d + 1). Synthetic task only.', 1, 32, { integer: true }),
    n: ctl('n', 'n examples', 'n: the number of in-context examples (x_i, y_i) before the queries. Synthetic task only.', 1, 100, { integer: true }),
    q: ctl('q', 'queries', 'The number of query tokens [x_q; 0]; the error is their mean squared error. Synthetic task only.', 1, 40, { integer: true }),
    shift: ctl('shift', 'shift of x', 'Added to every coordinate of every x: x ~ U[-1, 1]^d + shift. A shift makes X\'X ill-conditioned (a large eigenvalue along (1, …, 1)), so a smaller η is needed. Synthetic task only.', -3, 3, { step: 0.05 }),
    noise: ctl('noise', 'noise σ', 'Standard deviation of Gaussian noise added to every target y (0: y = w\'x exactly, and least squares has zero query error once n ≥ d). Synthetic task only.', 0, 2, { step: 0.01 }),
    eta: ctl('eta', 'step η', 'η: the value weight W_PV = [[0, 0], [0, −η]], the step size of the gradient descent the layers perform. Prefix converges for η < 2/λ_max(X\'X), causal for η < 2/max‖x_j‖².', 0.0001, 10, { log: true }),
    layers: ctl('layers', 'layers L', 'L: the number of LSA layers (the same weights in every layer).', 1, 200, { integer: true }),
    seed: ctl('seed', 'seed', 'Seed of the synthetic task (w, then each example, then each query). Synthetic task only.', 0, 1_000_000, { integer: true }),
  };
  const synthOnly: (keyof IclParams)[] = ['d', 'n', 'q', 'shift', 'noise', 'seed'];

  const useSel = h('vscode-button', { id: 'icl-use-selection', icon: 'selection', title: 'Read the selected text as rows of numbers: x_1 … x_d, y per row (spaces, commas or tabs); a row whose y is empty is a query. With nothing selected, the whole file.' }, 'Use selection');
  const synth = h('vscode-button', { id: 'icl-synthetic', secondary: '', title: 'Back to the synthetic task: w ~ N(0, I), x ~ U[-1, 1]^d + shift, y = w\'x (+ noise)' }, 'Synthetic task');
  const resample = h('vscode-button', { id: 'icl-resample', secondary: '', icon: 'refresh', title: 'A new synthetic task (the next seed)' }, 'New sample');
  useSel.addEventListener('click', () => ctx.intent('iclUseSelection', params));
  synth.addEventListener('click', () => ctx.intent('iclSynthetic', params));
  resample.addEventListener('click', () => {
    controls.seed.set(params.seed + 1);
    change({ seed: params.seed + 1 });
  });

  const status = h('div', { class: 'lab-status', role: 'status', 'aria-live': 'polite' });
  const dataLine = h('div', { class: 'lab-row lab-data' });
  const skipped = h('ul', { class: 'lab-skipped' });
  const stability = h('div', { class: 'lab-row' });
  const metrics = h('div', { class: 'metrics', id: 'icl-metrics' });
  const layerCanvas = h('canvas', { id: 'icl-layers-chart', 'aria-label': 'Query error against layers, prefix and causal masks' });
  const countCanvas = h('canvas', { id: 'icl-examples-chart', 'aria-label': 'Query error against the number of examples' });
  const countTitle = h('h2', {}, 'Error against the number of examples');
  const countNote = h('p', { class: 'muted' });
  const table = h('table', { class: 'lab-table', id: 'icl-predictions' });
  const tableNote = h('p', { class: 'muted' });

  const el = h(
    'div',
    { class: 'lab', id: 'icl-lab' },
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Prefix vs causal attention', h('span', { class: 'lab-cite where' }, 'Ding et al. 2023')),
      h(
        'p',
        { class: 'lab-intro muted' },
        'A linear self-attention transformer reads tokens [x_i; y_i] (examples) and [x_q; 0] (queries); every layer adds ',
        h('code', {}, 'Σ_{i∈A(j)} W_PV z_i (z_iᵀ W_KQ z_j)'),
        ' with W_KQ = [[I, 0], [0, 0]], W_PV = [[0, 0], [0, −η]]. The prediction is minus the query\'s y channel. Only the mask differs: ',
        h('strong', {}, 'prefix'),
        ' (every example attends to every example) or ',
        h('strong', {}, 'causal'),
        ' (example j to examples 1..j); queries attend to all examples.',
      ),
      h('div', { class: 'lab-row' }, useSel, synth, resample),
      dataLine,
      skipped,
      h('div', { class: 'lab-controls' }, ...Object.values(controls).map((c) => c.el)),
      stability,
      status,
    ),
    h('section', { class: 'card' }, h('h2', {}, 'After the last layer'), metrics),
    h('section', { class: 'card' }, h('h2', {}, 'Query error against layers'), h('div', { class: 'lab-chart' }, layerCanvas), h('p', { class: 'muted' }, 'Prefix runs gradient descent on the examples\' squared error and reaches least squares; causal converges to one pass of normalized LMS, whatever η (docs/labs.md).')),
    h('section', { class: 'card' }, countTitle, h('div', { class: 'lab-chart' }, countCanvas), countNote),
    h('section', { class: 'card' }, h('h2', {}, 'Query predictions'), h('div', { class: 'lab-scroll' }, table), tableNote),
  );

  function setParams(p: IclParams): void {
    params = p;
    for (const [k, c] of Object.entries(controls)) c.set(p[k as keyof IclParams]);
  }

  function destroyCharts(): void {
    charts.forEach((c) => c.destroy());
    charts = [];
  }

  function lineChart(canvas: HTMLCanvasElement, datasets: ChartConfiguration<'line', Pt[]>['data']['datasets'], xTitle: string, yTitle: string, tooltip: (label: string, p: Pt, raw: number) => string, raws: number[][], floor: number, x: Record<string, unknown> = {}): Chart {
    const c = ctx.colors();
    return new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        ...baseOptions(c),
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: { x: axis(c, xTitle, x), y: logAxis(c, yTitle, { min: floor }) },
        plugins: {
          ...baseOptions(c).plugins,
          tooltip: {
            displayColors: true,
            callbacks: {
              title: (items) => `${xTitle} ${(items[0]?.raw as Pt | undefined)?.x ?? ''}`,
              label: (item) => tooltip(item.dataset.label ?? '', item.raw as Pt, raws[item.datasetIndex]?.[item.dataIndex] ?? (item.raw as Pt).y),
            },
          },
        },
      },
    });
  }

  function drawCharts(): void {
    destroyCharts();
    if (!view) return;
    const c = ctx.colors();
    const r = view.result;
    const mse = !!r.prefix.mseByLayer;
    const prefix = r.prefix.mseByLayer ?? r.prefix.gapToLeastSquaresByLayer;
    const causal = r.causal.mseByLayer ?? r.causal.gapToLeastSquaresByLayer;
    const L = prefix.length;
    const lo = floorOf(prefix, causal);
    const lift = (v: number) => (Number.isFinite(v) ? Math.max(lo, v) : NaN);
    const below = (raw: number) => (raw < lo ? ` (below the axis, drawn at ${fmt(lo)})` : '');
    const series = (ys: number[]) => ys.map((y, i) => ({ x: i + 1, y: lift(y) }));
    const flat = (y: number) => [{ x: 1, y: lift(y) }, { x: L, y: lift(y) }];
    const nlmsRef = mse ? r.nlmsMse! : r.nlms.reduce((s, v, i) => s + (v - r.leastSquares[i]) ** 2, 0) / r.q;
    const layerSets: ChartConfiguration<'line', Pt[]>['data']['datasets'] = [
      { label: 'prefix', data: series(prefix), borderColor: c.forward, backgroundColor: c.forward, borderWidth: 1.5, pointRadius: L > 60 ? 0 : 1.5 },
      { label: 'causal', data: series(causal), borderColor: c.backward, backgroundColor: c.backward, borderWidth: 1.5, pointRadius: L > 60 ? 0 : 1.5 },
      ...(mse ? [{ label: 'least squares', data: flat(r.leastSquaresMse!), borderColor: c.green, backgroundColor: c.green, borderDash: [5, 4], borderWidth: 1, pointRadius: 0 }] : []),
      { label: 'one-pass NLMS (causal limit)', data: flat(nlmsRef), borderColor: c.purple, backgroundColor: c.purple, borderDash: [2, 3], borderWidth: 1, pointRadius: 0 },
    ];
    const raws = [prefix, causal, ...(mse ? [[r.leastSquaresMse!, r.leastSquaresMse!]] : []), [nlmsRef, nlmsRef]];
    const yTitle = mse ? 'query MSE (y units²)' : 'gap to least sq. (y²)';
    charts.push(
      lineChart(layerCanvas, layerSets, 'layer', yTitle, (label, _p, raw) => `${label}: ${fmt(raw)}${below(raw)}`, raws, lo, { min: 1, max: L }),
    );
    const s = view.sweep;
    if (s) {
      const slo = floorOf(s.prefix, s.causal);
      const pts = (ys: number[]) => ys.map((y, i) => ({ x: s.examples[i], y: Number.isFinite(y) ? Math.max(slo, y) : NaN }));
      const d = view.data.d;
      const sweepSets: ChartConfiguration<'line', Pt[]>['data']['datasets'] = [
        { label: `prefix, ${view.params.layers} layers`, data: pts(s.prefix), borderColor: c.forward, backgroundColor: c.forward, borderWidth: 1.5, pointRadius: 2 },
        { label: `causal, ${view.params.layers} layers`, data: pts(s.causal), borderColor: c.backward, backgroundColor: c.backward, borderWidth: 1.5, pointRadius: 2 },
        { label: 'least squares', data: pts(s.leastSquares), borderColor: c.green, backgroundColor: c.green, borderDash: [5, 4], borderWidth: 1, pointRadius: 0 },
        { label: 'one-pass NLMS', data: pts(s.nlms), borderColor: c.purple, backgroundColor: c.purple, borderDash: [2, 3], borderWidth: 1, pointRadius: 0 },
      ];
      const sraws = [s.prefix, s.causal, s.leastSquares, s.nlms];
      charts.push(
        lineChart(countCanvas, sweepSets, 'examples n', s.measure === 'mse' ? 'query MSE (y units²)' : 'gap to least sq. (y²)', (label, p, raw) => `${label}: ${fmt(raw)} at n = ${p.x}${p.x === d ? ' (= d)' : ''}${raw < slo ? ' (below the axis)' : ''}`, sraws, slo, { min: 1, max: Math.max(2, view.data.n) }),
      );
    }
  }

  function render(v: IclView | null): void {
    view = v;
    if (!v) {
      destroyCharts();
      return;
    }
    const r = v.result;
    const sel = v.data.source === 'selection';
    for (const k of synthOnly) controls[k].setDisabled(sel);
    // the selection's own shape in the (disabled) boxes; the synthetic parameters are kept
    if (sel) {
      controls.d.set(v.data.d);
      controls.n.set(v.data.n);
      controls.q.set(v.data.q);
    }
    resample.toggleAttribute('disabled', sel);
    synth.toggleAttribute('disabled', !sel);
    dataLine.replaceChildren(
      h('strong', {}, 'Data: '),
      v.data.label,
      ` · d = ${v.data.d} · ${v.data.n} examples · ${v.data.q} queries${v.data.hasTargets ? '' : ' (no targets: errors are measured against least squares)'}`,
    );
    skipped.replaceChildren(...v.data.skipped.slice(0, 5).map((s) => h('li', {}, `line ${s.line} skipped: ${s.reason}`)));
    if (v.data.skipped.length > 5) skipped.append(h('li', {}, `and ${v.data.skipped.length - 5} more`));
    const st = r.stability;
    const ok = (b: boolean) => (b ? 'lab-ok' : 'lab-warn');
    stability.replaceChildren(
      h(
        'span',
        { class: ok(st.prefixConverges) },
        `prefix ${st.prefixConverges ? 'converges' : 'diverges'}: η ${st.prefixConverges ? '<' : '≥'} 2/λ_max = `,
        num(fmt(st.etaMaxPrefix), `2 / λ_max(XᵀX): the largest step for which the prefix pass (gradient descent) converges. λ_max = ${fmt(st.lambdaMax)}, smallest nonzero λ = ${fmt(st.lambdaMinNonzero)} (rank ${st.rank} of d = ${r.d}); the error shrinks at least by |1 − η λ| per layer.`),
      ),
      h(
        'span',
        { class: ok(st.causalConverges) },
        ` · causal ${st.causalConverges ? 'converges' : 'diverges'}: η ${st.causalConverges ? '<' : '≥'} 2/max‖x_j‖² = `,
        num(fmt(st.etaMaxCausal), '2 / max_j ‖x_j‖²: the eigenvalues of the causal iteration I − η tril(XXᵀ) are 1 − η‖x_j‖². Always ≥ 2/λ_max, so a step that suits prefix suits causal.'),
      ),
    );
    // tiles
    const L = r.layers;
    const q = r.q;
    const last = (xs: number[] | null) => (xs ? xs[xs.length - 1] : null);
    if (v.data.hasTargets) {
      const ref = `Reference levels: least squares ${fmt(r.leastSquaresMse)} (the best linear fit of the examples; the prefix limit), one-pass NLMS ${fmt(r.nlmsMse)} (the causal limit), predicting 0: ${fmt(v.data.zeroMse)}.`;
      metrics.replaceChildren(
        metric('Prefix MSE', fmt(last(r.prefix.mseByLayer)), `Mean squared error of the prefix-mask predictions over the ${q} query targets after layer ${L}, in squared units of y. ${ref}`, 'prefix', last(r.prefix.mseByLayer)),
        metric('Causal MSE', fmt(last(r.causal.mseByLayer)), `Mean squared error of the causal-mask predictions over the ${q} query targets after layer ${L}, in squared units of y. ${ref}`, 'causal', last(r.causal.mseByLayer)),
        metric('Least squares', fmt(r.leastSquaresMse), `Query MSE of the minimum-norm least-squares weights fitted on the ${r.n} examples (squared units of y): what the prefix pass converges to. Predicting 0 gives ${fmt(v.data.zeroMse)}.`, 'ref', r.leastSquaresMse),
        metric('NLMS limit', fmt(r.nlmsMse), `Query MSE of one pass of normalized LMS over the examples in order, w_j = w_{j−1} + (y_j − w_{j−1}ᵀx_j) x_j / ‖x_j‖² from w_0 = 0 (squared units of y): what the causal pass converges to, whatever η.`, 'ref', r.nlmsMse),
        metric('Predict 0', fmt(v.data.zeroMse), 'Mean of the squared query targets: the error of predicting 0, the model before any layer (squared units of y).', '', v.data.zeroMse),
      );
    } else {
      const gap = (xs: number[]) => xs[xs.length - 1];
      metrics.replaceChildren(
        metric('Prefix gap', fmt(gap(r.prefix.gapToLeastSquaresByLayer)), `Mean squared difference between the prefix predictions after layer ${L} and the least-squares predictions, over the ${q} queries (squared units of y). Reference: 0 (the prefix limit).`, 'prefix', gap(r.prefix.gapToLeastSquaresByLayer)),
        metric('Causal gap', fmt(gap(r.causal.gapToLeastSquaresByLayer)), `Mean squared difference between the causal predictions after layer ${L} and the least-squares predictions, over the ${q} queries (squared units of y). Reference: the NLMS gap.`, 'causal', gap(r.causal.gapToLeastSquaresByLayer)),
        metric('NLMS gap', fmt(r.nlms.reduce((s, x, i) => s + (x - r.leastSquares[i]) ** 2, 0) / q), 'Mean squared difference between one-pass normalized LMS (the causal limit) and least squares on the queries (squared units of y).', 'ref'),
      );
    }
    // table
    const head = (label: string, title: string) => h('th', { class: 'num', title }, label);
    const rows = Math.min(q, 12);
    const targets = v.data.hasTargets;
    table.replaceChildren(
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { title: 'query number' }, '#'),
          head('prefix', `prediction of the prefix pass after layer ${L}: minus the query's y channel`),
          head('causal', `prediction of the causal pass after layer ${L}`),
          head('least sq.', 'minimum-norm least-squares prediction (the prefix limit)'),
          head('NLMS', 'one-pass normalized LMS prediction (the causal limit)'),
          ...(targets ? [head('target', 'the query\'s y')] : []),
        ),
      ),
      h(
        'tbody',
        {},
        ...Array.from({ length: rows }, (_, j) =>
          h(
            'tr',
            {},
            h('td', {}, String(j + 1)),
            h('td', { class: 'num' }, fmt(r.prefix.predictions[j])),
            h('td', { class: 'num' }, fmt(r.causal.predictions[j])),
            h('td', { class: 'num' }, fmt(r.leastSquares[j])),
            h('td', { class: 'num' }, fmt(r.nlms[j])),
            ...(targets ? [h('td', { class: 'num' }, fmt(v.data.targets?.[j]))] : []),
          ),
        ),
      ),
    );
    tableNote.textContent = q > rows ? `First ${rows} of ${q} queries.` : '';
    countNote.textContent = v.sweep
      ? `After ${v.params.layers} layers, using the first n examples; ${v.sweep.measure === 'mse' ? 'query MSE' : 'gap to the least-squares predictions of all the examples'}. n = d = ${v.data.d} is where least squares becomes exact on noise-free data.`
      : 'Computing…';
    drawCharts();
  }

  return {
    el,
    setParams,
    render,
    busy(b) {
      status.classList.remove('error');
      status.textContent = b ? 'Computing…' : view ? `Computed in ${view.ms} ms (extension host).` : '';
    },
    error(message) {
      status.classList.add('error');
      status.textContent = message;
    },
    redraw: drawCharts,
  };
}

