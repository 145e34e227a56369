// The hover's Markdown for one probed token, built from the cached ProbeResult (no model call).
// No 'vscode' import so that it is unit-tested; hovers.ts wraps it in a MarkdownString.
import type { ProbeResult, TokenScore } from '../engine/schema';
import { codeSpan, pct, visible } from './text';
import { FORWARD_ONLY } from './forwardOnly';

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

function alternatives(s: TokenScore, actualId: number, k = 5): string {
  if (!s.top.length) return '_not kept_';
  return s.top
    .slice(0, k)
    .map((a) => `${codeSpan(visible(a.text))}${a.id === actualId ? ' ✓' : ''} ${pct(a.prob)}`)
    .join(' · ');
}

export function hoverMarkdown(r: ProbeResult, index: number): string {
  const t = r.tokens[index];
  const fw = t.forward, bw = t.backward;
  const lines: string[] = [];
  lines.push(`**LM Probe** · token ${codeSpan(visible(t.text))} · #${t.index} of ${r.tokens.length} · id ${t.id}`, '');
  lines.push(bw ? '| | forward | backward |' : '| | forward |');
  lines.push(bw ? '|:--|--:|--:|' : '|:--|--:|');
  const row = (name: string, a: string, b?: string) => lines.push(bw ? `| ${name} | ${a} | ${b} |` : `| ${name} | ${a} |`);
  row('surprisal', `${f2(fw.surprisalBits)} bits`, bw ? `${f2(bw.surprisalBits)} bits` : undefined);
  row('rank', `${fw.rank}`, bw ? `${bw.rank}` : undefined);
  row('entropy', `${f2(fw.entropyBits)} bits`, bw ? `${f2(bw.entropyBits)} bits` : undefined);
  if (bw) row('difference (bw − fw)', '', `${(bw.surprisalBits - fw.surprisalBits >= 0 ? '+' : '')}${f2(bw.surprisalBits - fw.surprisalBits)} bits`);
  lines.push('');
  lines.push(`**forward top-${Math.min(5, fw.top.length)}** (given the text before): ${alternatives(fw, t.id)}`, '');
  if (bw) lines.push(`**backward top-${Math.min(5, bw.top.length)}** (given the text after): ${alternatives(bw, t.id)}`, '');
  else lines.push(`_${FORWARD_ONLY}._`, '');

  const fl = r.analyses?.futureLens;
  const cells = fl?.cells[index];
  if (fl && cells) {
    const li = fl.layers.length - 1;
    const guesses = fl.offsets.map((k, oi) => {
      const g = cells[li]?.[oi];
      if (!g) return `t+${k}: –`;
      const mark = g.hit === true ? ' ✓' : g.hit === false ? ' ✗' : '';
      return `t+${k}: ${codeSpan(visible(g.text))} ${pct(g.prob)}${mark}`;
    });
    lines.push(`**future tokens** (probe on layer ${fl.layers[li]}): ${guesses.join(' · ')}`, '');
  }
  const imp = r.analyses?.importance;
  if (imp) {
    if (imp.target === index) lines.push(`**importance**: this is the target token (layer ${imp.layer}, α ${imp.alpha})`, '');
    else if (index < imp.target) {
      const att = imp.attention[imp.attentionLayer]?.[index];
      const lasso = imp.lasso[index];
      lines.push(
        `**importance for target #${imp.target}**: attention ${att == null ? '–' : f2(att)} (block ${imp.attentionLayer}, mean over heads) · Lasso ${lasso == null ? '–' : lasso.toFixed(3)}`,
        '',
      );
    }
    const ig = imp.informationGainNats[index];
    if (ig != null) lines.push(`information gain ${ig.toFixed(3)} nats`, '');
  }
  lines.push(`_${r.pack.name} · ${r.runtime.provider}_`);
  return lines.join('\n');
}
