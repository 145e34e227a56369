// The panel's summary card as data: which metrics it shows, their one-line explanations (hover)
// and the note under them. Pure (no DOM, no 'vscode'): webview/main.ts renders it, tests read it.
// A model without a backward twin gets no Backward or Δ metric (not an empty one) and a note that
// says why. Units: mean log-perplexity in nats here, per-token surprisal in bits everywhere else.
import { MIN_BLOCK_TOKENS } from '../../engine/bootstrap';
import type { DeltaInterval, ProbeResult, ProbeSummary } from '../../engine/schema';
import { FORWARD_ONLY_DETAIL, hasBackward } from '../forwardOnly';

export interface SummaryMetric {
  label: string;
  value: string;
  /** A second, smaller line under the value (Δ's interval, or why there is none). */
  sub?: string;
  title: string;
  cls: string;
}

/** Fewest tokens for a Δ: below one bootstrap block, a "mean" log-perplexity is one or two tokens' surprise. */
export const MIN_DELTA_TOKENS = MIN_BLOCK_TOKENS;

const f = (x: number | null | undefined, d = 3) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));
/** A signed figure with a real minus sign: "+0.012", "−0.037". */
export const signed = (x: number, d = 3) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(d)}`;

/** "95% CI −0.052 … +0.021". */
export function formatInterval(ci: DeltaInterval): string {
  return `${Math.round(ci.level * 100)}% CI ${signed(ci.lo)} … ${signed(ci.hi)}`;
}

/** What the Δ metric shows under its value: its interval, or why it has none. */
export function deltaSub(s: ProbeSummary): string {
  if (s.deltaInterval) return formatInterval(s.deltaInterval);
  return s.deltaIntervalNote ? s.deltaIntervalNote.replace(/:.*$/, '') : 'no interval';
}

/** Whether the selection is long enough for its Δ to be shown at all. */
export function deltaShown(s: ProbeSummary): boolean {
  return s.delta != null && s.tokenCount >= MIN_DELTA_TOKENS;
}

function deltaTitle(s: ProbeSummary): string {
  const lines = [
    'Arrow-of-time asymmetry Δ = (L_bw − L_fw) / ((L_bw + L_fw) / 2), L = mean log-perplexity in nats (Papadopoulos et al. 2024).',
    'Δ > 0: the backward model finds this text harder than the forward one (the usual arrow of time); Δ < 0: backward is easier; 0: no asymmetry.',
  ];
  if (!deltaShown(s)) lines.push(`Not shown: ${s.tokenCount} token${s.tokenCount === 1 ? '' : 's'}; a Δ needs at least ${MIN_DELTA_TOKENS}.`);
  else if (s.deltaInterval) {
    const ci = s.deltaInterval;
    lines.push(
      `${formatInterval(ci)}: percentile block bootstrap, ${ci.resamples} resamples of ${ci.blocks} blocks of ${ci.blockTokens} consecutive tokens.` +
        (ci.lo <= 0 && ci.hi >= 0 ? ' It contains 0: this text shows no clear asymmetry.' : ' It excludes 0: the asymmetry is clear for this text.'),
    );
  } else if (s.deltaIntervalNote) lines.push(`No interval: ${s.deltaIntervalNote}.`);
  return lines.join('\n');
}

export function summaryMetrics(r: ProbeResult): SummaryMetric[] {
  const s = r.summary;
  const uniform = Math.log(r.pack.vocabSize);
  const chance = `A model guessing uniformly over its ${r.pack.vocabSize}-token vocabulary scores ln ${r.pack.vocabSize} = ${uniform.toFixed(2)} nats; lower is more predictable.`;
  const ppl = (x: number | undefined) => (x == null || !Number.isFinite(x) ? '' : ` Perplexity e^L = ${Math.exp(x).toFixed(1)}.`);
  const out: SummaryMetric[] = [
    { label: 'Tokens', value: String(s.tokenCount), title: `Tokens in the probed text, as this model's tokenizer cuts it.`, cls: 'tokens' },
    {
      label: 'Forward',
      value: `${f(s.forward.meanNats)} nats`,
      title: `Mean forward log-perplexity L_fw in nats: the mean of −ln p(token | text before it) over the ${s.tokenCount} tokens.${ppl(s.forward.meanNats)}\n${chance}`,
      cls: 'fw',
    },
  ];
  if (hasBackward(r)) {
    const shown = deltaShown(s);
    out.push(
      {
        label: 'Backward',
        value: s.backward ? `${f(s.backward.meanNats)} nats` : '–',
        title: `Mean backward log-perplexity L_bw in nats: the mean of −ln q(token | text after it), read right to left.${ppl(s.backward?.meanNats)}\n${chance}`,
        cls: 'bw',
      },
      {
        label: 'Δ asymmetry',
        value: shown ? signed(s.delta!) : '–',
        sub: shown ? deltaSub(s) : `needs ≥ ${MIN_DELTA_TOKENS} tokens`,
        title: deltaTitle(s),
        cls: 'delta',
      },
    );
  }
  out.push(
    {
      label: 'Provider',
      value: r.runtime.provider,
      title: ['The ONNX Runtime execution provider that ran the models.', ...r.runtime.fallbacks.map((x) => `${x.provider} failed: ${x.error}`)].join('\n'),
      cls: 'provider',
    },
    {
      label: 'Latency',
      value: `${Math.round(r.runtime.ms)} ms`,
      title: `Wall time of the model runs for this text: ${r.runtime.windows} window(s) of at most ${r.pack.contextLength} tokens per direction. Loading the model took ${Math.round(r.runtime.loadMs)} ms more (once per model).`,
      cls: 'latency',
    },
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
