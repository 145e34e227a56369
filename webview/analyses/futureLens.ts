// Future Lens view (Pal et al. 2023): a grid of positions by layers, each cell the probe's top-1
// guesses for t+1..t+3, shaded by probability and marked where they came true; below it, the
// precision@1 table (layers x offsets) as a heatmap next to the bigram baseline.
import { MIN_TOKENS, registerAnalysis } from './index';
import { el, shade } from './dom';
import { visible } from '../../src/vscode/text';
import type { FutureGuess } from '../../src/engine/schema';

const MAX_ROWS = 400;

interface UiState {
  /** Index into layers, or 'all'. Unset: all layers where the panel is wide, the last one where it is narrow. */
  layer?: number | 'all';
}

/** Panels narrower than this show one layer at a time (all layers need horizontal scrolling). */
const NARROW_PX = 520;

registerAnalysis({
  key: 'futureLens',
  title: 'Future tokens (linear probes)',
  order: 10,
  render(root, fl, ctx) {
    const r = ctx.result;
    const c = ctx.colors;
    if (fl.positions.every((n) => n === 0)) {
      root.append(el('p', { class: 'an-muted', text: `Future-token probes need at least ${MIN_TOKENS.futureLens} tokens: a guess for t+k is scored against the token that follows. Select more text.` }));
      return;
    }
    const layerName = (l: number) => (l === 0 ? 'embeddings' : `layer ${l}`);
    const width = root.clientWidth || document.body.clientWidth;
    const saved = ctx.getState<UiState>()?.layer;
    let layer: number | 'all' = saved === 'all' || (typeof saved === 'number' && saved >= 0 && saved < fl.layers.length) ? saved : width && width < NARROW_PX ? fl.layers.length - 1 : 'all';

    const guessEl = (i: number, g: FutureGuess, oi: number) => {
      const span = el('span', {
        class: `an-guess${g.hit ? ' hit' : ''}`,
        text: visible(g.text),
        title: `t+${fl.offsets[oi]}: ${JSON.stringify(g.text)} p=${g.prob.toFixed(3)}${g.hit === true ? ' (came true)' : g.hit === false ? ` (actual: ${JSON.stringify(r.tokens[i + fl.offsets[oi]]?.text ?? '')})` : ' (past the end)'}`,
      });
      span.style.background = shade(c.forward, g.prob);
      return span;
    };
    const caption = el('p', { class: 'an-muted' });
    const scroll = el('div', { class: 'an-scroll' });
    const more = el('p', { class: 'an-muted' });
    const drawGrid = () => {
      const one = layer !== 'all';
      caption.textContent = one
        ? `The probe's top-1 guesses for the tokens t+${fl.offsets.join(', t+')} read from ${layerName(fl.layers[layer as number])} at each token; darker = more probable; ✓ = came true.`
        : `Each cell: the probe's top-1 for t+${fl.offsets.join(', t+')} read from that layer at that token; darker = more probable; ✓ = came true.`;
      const head = one
        ? el('tr', {}, el('th', { text: 'token' }), ...fl.offsets.map((k) => el('th', { text: `t+${k}` })))
        : el('tr', {}, el('th', { text: 'token' }), ...fl.layers.map((l) => el('th', { text: l === 0 ? 'emb' : `L${l}`, title: `hidden state after block ${l} (0 = embeddings)` })));
      const rows: HTMLElement[] = [];
      let shown = 0;
      for (let i = 0; i < fl.cells.length && shown < MAX_ROWS; i++) {
        const cell = fl.cells[i];
        if (!cell) continue;
        shown++;
        const tok = r.tokens[i];
        const tds = one
          ? (cell[layer as number] ?? []).map((g, oi) => el('td', {}, guessEl(i, g, oi)))
          : cell.map((guesses) => el('td', {}, el('div', { class: 'an-cell' }, ...guesses.map((g, oi) => guessEl(i, g, oi)))));
        rows.push(el('tr', {}, el('td', { class: 'tok', text: visible(tok.text), title: `token #${i}: reveal in the editor`, onclick: () => ctx.reveal(i) }), ...tds));
      }
      scroll.replaceChildren(el('table', { class: `an-grid${one ? ' one' : ''}` }, el('thead', {}, head), el('tbody', {}, ...rows)));
      more.textContent = shown === MAX_ROWS ? `First ${MAX_ROWS} positions shown.` : '';
      more.hidden = shown !== MAX_ROWS;
    };
    const layerSel = el(
      'select',
      { class: 'an-select', title: 'the layer whose probes fill the grid' },
      el('option', { value: 'all', text: 'all layers' }),
      ...fl.layers.map((l, li) => el('option', { value: String(li), text: layerName(l) })),
    );
    layerSel.value = String(layer);
    layerSel.addEventListener('change', () => {
      layer = layerSel.value === 'all' ? 'all' : Number(layerSel.value);
      ctx.setState<UiState>({ layer });
      drawGrid();
    });
    drawGrid();
    root.append(el('div', { class: 'an-row' }, el('label', {}, 'Grid: ', layerSel)), caption, scroll, more);

    // precision@1 heatmap
    const table = el('table', { class: 'an-heat' });
    table.title = 'precision@1: the share of positions t in this window where the top-1 guess is the token that actually comes at t+k. One window is a small sample: compare rows, and see the model card for held-out figures with intervals.';
    table.append(el('tr', {}, el('th', { text: 'precision@1' }), ...fl.offsets.map((k) => el('th', { text: `t+${k}` }))));
    const cellOf = (v: number | null) => {
      const td = el('td', { text: v === null ? '–' : `${(100 * v).toFixed(1)}%` });
      // Lighter than the grid's shading: the figures must stay readable on the darkest cell.
      if (v !== null) td.style.background = shade(c.forward, 0.7 * v);
      return td;
    };
    fl.layers.forEach((l, li) => table.append(el('tr', {}, el('th', { text: layerName(l) }), ...fl.precisionAt1[li].map(cellOf))));
    const baseline = (label: string, title: string, xs: number[], first: boolean) => {
      const tr = el('tr', { title }, el('th', { text: label }), ...xs.map(cellOf));
      if (first) tr.style.borderTop = `1px solid ${c.grid}`;
      table.append(tr);
    };
    let firstBaseline = true;
    if (fl.skipBigramPrecisionAt1) {
      baseline('skip-bigram (train)', "the most frequent token k places after this one in the model's whole training split (the pack's baselines.json): a lookup table the probes should beat", fl.skipBigramPrecisionAt1, firstBaseline);
      firstBaseline = false;
    }
    const ro = fl.rollout;
    if (ro) {
      baseline(
        `rollout (${ro.positions.length} pos.)`,
        `the model's greedy rollout: its own top-1 for t+1 fed back, then its top-1 for t+2, ... (k = 1: the model's next-token guess), on ${ro.positions.length} positions spread through the window (each costs extra forward passes). The probes on those same positions: ${fl.layers.map((l, li) => `${layerName(l)} ${ro.probePrecisionAt1[li].map((x) => `${(100 * x).toFixed(0)}%`).join('/')}`).join(', ')}`,
        ro.precisionAt1,
        firstBaseline,
      );
      firstBaseline = false;
    }
    if (fl.bigramPrecisionAt1) baseline('bigram (fit text)', "the most frequent token k places after this one in the probes' own fitting text (a weak baseline)", fl.bigramPrecisionAt1, firstBaseline);
    table.append(el('tr', { title: 'positions t of the window that have a token at t+k' }, el('th', { text: 'positions' }), ...fl.positions.map((n) => el('td', { class: 'an-muted', text: String(n) }))));
    // The pack's own probes are named by the pack; a fitted file by its name (full path on hover).
    const dir = r.pack.dir.replace(/[\\/]+$/, '');
    const own = fl.source.startsWith(dir + '/') || fl.source.startsWith(dir + '\\');
    const parts = fl.source.split(/[\\/]/);
    const short = own ? `the pack's own (${r.pack.name}/${fl.source.slice(dir.length + 1)})` : parts.slice(-2).join('/');
    root.append(table, el('p', { class: 'an-muted an-source', text: `Probes: ${short}`, title: fl.source }));
  },
});
