// The status bar item's text and tooltip (Markdown), from a result or the model just opened. Pure
// (no 'vscode'), so that they are unit-tested; statusBar.ts shows them.
import type { ProbeResult } from '../engine/schema';
import { FORWARD_ONLY, FORWARD_ONLY_DETAIL, hasBackward } from './forwardOnly';
import { tooShortNotes } from './hoverText';
import { deltaShown, formatInterval, MIN_DELTA_TOKENS, signed } from './panel/summary';

export interface ModelBrief {
  name: string;
  hasBackward: boolean;
}

export function idleText(model?: ModelBrief, provider?: string): string {
  return `$(beaker) LM Probe${model ? `: ${model.name}` : ''}${provider ? ` · ${provider}` : ''}${model && !model.hasBackward ? ' · forward only' : ''}`;
}

export function idleTooltip(model?: ModelBrief, provider?: string): string {
  const lines: string[] = [];
  if (model) lines.push(`**LM Probe** · model \`${model.name}\`${provider ? ` on **${provider}**` : ''}`);
  if (model && !model.hasBackward) lines.push(`**${FORWARD_ONLY}** (${FORWARD_ONLY_DETAIL}).`);
  lines.push(model ? 'Probe a selection with Ctrl+Alt+P. Click to open the panel.' : 'LM Probe: probe a selection with Ctrl+Alt+P. Click to open the panel.');
  return lines.join('\n\n');
}

export function resultText(r: ProbeResult): string {
  const d = r.summary.delta;
  const tail = !hasBackward(r) ? ' · forward only' : !deltaShown(r.summary) ? ` · Δ needs ${MIN_DELTA_TOKENS} tokens` : d === null ? '' : ` · Δ ${signed(d, 3)}`;
  return `$(beaker) ${r.pack.name} · ${r.runtime.provider}${tail}`;
}

export function resultTooltip(r: ProbeResult): string {
  const d = r.summary.delta;
  let md = `**LM Probe** · model \`${r.pack.name}\` on **${r.runtime.provider}**\n\n`;
  md += `${r.summary.tokenCount} tokens · forward ${r.summary.forward.meanNats.toFixed(3)} nats/token`;
  if (r.summary.backward) md += ` · backward ${r.summary.backward.meanNats.toFixed(3)} nats/token`;
  const iv = r.summary.deltaInterval;
  if (d !== null && !deltaShown(r.summary)) md += `\n\nno asymmetry Δ: ${r.summary.tokenCount} token${r.summary.tokenCount === 1 ? '' : 's'}, a Δ needs at least ${MIN_DELTA_TOKENS}`;
  else if (d !== null) {
    md += `\n\nasymmetry Δ = (L_bw − L_fw) / mean = ${signed(d, 4)}`;
    if (iv) md += `\n\n${formatInterval(iv)} (block bootstrap: ${iv.resamples} resamples of ${iv.blocks} blocks of ${iv.blockTokens} tokens)${iv.lo > 0 || iv.hi < 0 ? '; excludes 0' : '; contains 0: no clear asymmetry'}`;
    else if (r.summary.deltaIntervalNote) md += `\n\nno interval: ${escapeMd(r.summary.deltaIntervalNote)}`;
  }
  for (const n of tooShortNotes(r).filter((n) => !n.startsWith('Δ'))) md += `\n\n${escapeMd(n)}`;
  if (!hasBackward(r)) md += `\n\n**${FORWARD_ONLY}** (${FORWARD_ONLY_DETAIL}).`;
  md += `\n\n${Math.round(r.runtime.ms)} ms`;
  if (r.runtime.choice) md += `\n\nprovider choice: ${escapeMd(r.runtime.choice)}`;
  if (r.runtime.fallbacks.length) md += `\n\nfell back from ${r.runtime.fallbacks.map((f) => `${f.provider} (${escapeMd(f.error)})`).join(', ')}`;
  return md;
}

/** Plain text inside Markdown: library names like libonnxruntime_providers_cuda.so keep their underscores. */
function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]<>#|]/g, (c) => `\\${c}`);
}
