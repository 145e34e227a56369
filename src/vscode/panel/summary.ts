// The panel's summary card as data: which metrics it shows and the note under them. Pure (no DOM,
// no 'vscode'): webview/main.ts renders it, tests read it. A model without a backward twin gets no
// Backward or Δ metric (not an empty one) and a note that says why.
import type { ProbeResult } from '../../engine/schema';
import { FORWARD_ONLY_DETAIL, hasBackward } from '../forwardOnly';

export interface SummaryMetric {
  label: string;
  value: string;
  title: string;
  cls: string;
}

const f = (x: number | null | undefined, d = 3) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));

export function summaryMetrics(r: ProbeResult): SummaryMetric[] {
  const s = r.summary;
  const out: SummaryMetric[] = [
    { label: 'Tokens', value: String(s.tokenCount), title: 'Tokens in the probed text', cls: 'tokens' },
    { label: 'Forward', value: `${f(s.forward.meanNats)} nats`, title: 'Mean forward log-perplexity: −ln p(token | text before), per token', cls: 'fw' },
  ];
  if (hasBackward(r)) {
    const delta = s.delta == null ? '–' : `${s.delta >= 0 ? '+' : ''}${s.delta.toFixed(4)}`;
    out.push(
      { label: 'Backward', value: s.backward ? `${f(s.backward.meanNats)} nats` : '–', title: 'Mean backward log-perplexity: −ln q(token | text after), per token', cls: 'bw' },
      { label: 'Δ asymmetry', value: delta, title: 'Δ = (L_bw − L_fw) / ((L_bw + L_fw)/2)  (Papadopoulos et al. 2024)', cls: 'delta' },
    );
  }
  out.push(
    {
      label: 'Provider',
      value: r.runtime.provider,
      title: r.runtime.fallbacks.map((x) => `${x.provider} failed: ${x.error}`).join('\n') || 'Execution provider that ran the models',
      cls: 'provider',
    },
    { label: 'Latency', value: `${Math.round(r.runtime.ms)} ms`, title: `${r.runtime.windows} window(s) per direction; model loading ${Math.round(r.runtime.loadMs)} ms`, cls: 'latency' },
  );
  return out;
}

/** The note under the metrics, or null for a model with a backward twin. */
export function summaryNote(r: ProbeResult): { strong: string; text: string } | null {
  return hasBackward(r) ? null : { strong: 'Forward only', text: `: this model has no backward twin, so there is ${FORWARD_ONLY_DETAIL}.` };
}

/** "model NAME · 4 layers · width 256 · vocab 4096 · context 512". */
export function modelLine(r: ProbeResult): string {
  return `model ${r.pack.name} · ${r.pack.layers} layers · width ${r.pack.width} · vocab ${r.pack.vocabSize} · context ${r.pack.contextLength}`;
}
