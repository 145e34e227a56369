// Future Lens view (Pal et al. 2023): a grid of positions by layers, each cell the probe's top-1
// guesses for t+1..t+3, shaded by probability and marked where they came true; below it, the
// precision@1 table (layers x offsets) as a heatmap next to the bigram baseline.
import { registerAnalysis } from './index';
import { el, injectStyles, shade, vis } from './dom';

const MAX_ROWS = 400;

registerAnalysis({
  key: 'futureLens',
  title: 'Future tokens (linear probes)',
  order: 10,
  render(root, fl, ctx) {
    injectStyles();
    const r = ctx.result;
    const c = ctx.colors;
    const head = el('tr', {}, el('th', { text: 'token' }), ...fl.layers.map((l) => el('th', { text: l === 0 ? 'emb' : `L${l}`, title: `hidden state after block ${l} (0 = embeddings)` })));
    const rows: HTMLElement[] = [];
    let shown = 0;
    for (let i = 0; i < fl.cells.length && shown < MAX_ROWS; i++) {
      const cell = fl.cells[i];
      if (!cell) continue;
      shown++;
      const tok = r.tokens[i];
      const tds = cell.map((guesses) => {
        const box = el('div', { class: 'an-cell' });
        guesses.forEach((g, oi) => {
          const span = el('span', {
            class: `an-guess${g.hit ? ' hit' : ''}`,
            text: vis(g.text),
            title: `t+${fl.offsets[oi]}: ${JSON.stringify(g.text)} p=${g.prob.toFixed(3)}${g.hit === true ? ' (came true)' : g.hit === false ? ` (actual: ${JSON.stringify(r.tokens[i + fl.offsets[oi]]?.text ?? '')})` : ' (past the end)'}`,
          });
          span.style.background = shade(c.forward, g.prob);
          box.append(span);
        });
        return el('td', {}, box);
      });
      rows.push(el('tr', {}, el('td', { class: 'tok', text: vis(tok.text), title: `token #${i}: reveal in the editor`, onclick: () => ctx.reveal(i) }), ...tds));
    }
    root.append(
      el('p', { class: 'an-muted', text: `Each cell: the probe's top-1 for t+${fl.offsets.join(', t+')} read from that layer at that token; darker = more probable; ✓ = came true.` }),
      el('div', { class: 'an-scroll' }, el('table', { class: 'an-grid' }, el('thead', {}, head), el('tbody', {}, ...rows))),
    );
    if (shown === MAX_ROWS) root.append(el('p', { class: 'an-muted', text: `First ${MAX_ROWS} positions shown.` }));

    // precision@1 heatmap
    const table = el('table', { class: 'an-heat' });
    table.append(el('tr', {}, el('th', { text: 'precision@1' }), ...fl.offsets.map((k) => el('th', { text: `t+${k}` }))));
    const cellOf = (v: number | null) => {
      const td = el('td', { text: v === null ? '–' : `${(100 * v).toFixed(1)}%` });
      if (v !== null) td.style.background = shade(c.forward, v);
      return td;
    };
    fl.layers.forEach((l, li) => table.append(el('tr', {}, el('th', { text: l === 0 ? 'embeddings' : `layer ${l}` }), ...fl.precisionAt1[li].map(cellOf))));
    if (fl.bigramPrecisionAt1) {
      const tr = el('tr', {}, el('th', { text: 'bigram baseline' }), ...fl.bigramPrecisionAt1.map(cellOf));
      tr.style.borderTop = `1px solid ${c.grid}`;
      table.append(tr);
    }
    table.append(el('tr', {}, el('th', { text: 'positions' }), ...fl.positions.map((n) => el('td', { class: 'an-muted', text: String(n) }))));
    root.append(table, el('p', { class: 'an-muted', text: `Probes: ${fl.source}` }));
  },
});
