// Per-token statistics computed inside the graph, so that the T x V logits never reach JavaScript:
// for logits [B,S,V] and the ids that actually follow (target_ids [B,S]), the log-probability of
// the target, how many logits beat it (rank - 1), the entropy in nats and the top-k log-probabilities.
// The same quantities as rowStats() in src/engine/surprisal.ts, in float32.
import { FLOAT, GraphBuilder, INT64 } from './onnxGraph';

export const STAT_NAMES = {
  targetIds: 'lm_probe_target_ids',
  topK: 'lm_probe_top_k',
  targetLogprob: 'lm_probe_target_logprob',
  greater: 'lm_probe_greater',
  entropy: 'lm_probe_entropy',
  topIds: 'lm_probe_top_ids',
  topLogprobs: 'lm_probe_top_logprobs',
} as const;

export type StatNames = typeof STAT_NAMES;

export function appendStatistics(g: GraphBuilder, logits: string): void {
  // Two more inputs, which every run feeds (onnxruntime-node ignores feeds for initializer defaults).
  const target = g.input(STAT_NAMES.targetIds, INT64, ['batch', 'seq']);
  const k = g.input(STAT_NAMES.topK, INT64, [1]);
  const lsm = g.o('LogSoftmax', [logits], { axis: -1 });
  const t = g.o('Unsqueeze', [target, g.constI([-1])]);
  const last = g.constI([-1]);
  g.output(g.o('Squeeze', [g.o('GatherElements', [lsm, t], { axis: -1 }), last]), STAT_NAMES.targetLogprob, FLOAT, ['batch', 'seq']);
  const beat = g.o('Cast', [g.o('Greater', [logits, g.o('GatherElements', [logits, t], { axis: -1 })])], { to: FLOAT });
  g.output(g.o('ReduceSum', [beat, last], { keepdims: 0 }), STAT_NAMES.greater, FLOAT, ['batch', 'seq']);
  const plogp = g.o('Mul', [g.o('Exp', [lsm]), lsm]);
  g.output(g.o('Neg', [g.o('ReduceSum', [plogp, last], { keepdims: 0 })]), STAT_NAMES.entropy, FLOAT, ['batch', 'seq']);
  const [vals, idx] = g.op('TopK', [lsm, k], { axis: -1, largest: 1, sorted: 1 }, 2);
  g.output(idx, STAT_NAMES.topIds, INT64, ['batch', 'seq', 'k']);
  g.output(vals, STAT_NAMES.topLogprobs, FLOAT, ['batch', 'seq', 'k']);
}

export const TOP1_NAMES = { id: 'lm_probe_top1_id', prob: 'lm_probe_top1_prob' } as const;

/**
 * Top-1 id and probability of each row of logits [N, V]: i = ArgMax(z), p = Exp(GatherElements(
 * LogSoftmax(z), i)). ONNX Runtime's LogSoftmax keeps the exponentials in registers and writes
 * z - max - log(sum) once, where Softmax writes the exponentials and then divides them: about a
 * third less time for a head run (same ids, probabilities within float32 rounding).
 */
export function appendTop1(g: GraphBuilder, logits: string): void {
  const i = g.o('ArgMax', [logits], { axis: 1, keepdims: 1 });
  const p = g.o('Exp', [g.o('GatherElements', [g.o('LogSoftmax', [logits], { axis: 1 }), i], { axis: 1 })]);
  g.output(i, TOP1_NAMES.id, INT64, ['n', 1]);
  g.output(p, TOP1_NAMES.prob, FLOAT, ['n', 1]);
}
