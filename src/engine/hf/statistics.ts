// Per-token statistics computed inside the graph, so that the T x V logits never reach JavaScript:
// for the rows a run scores (lm_probe_rows, flat indices b * S + i into the batch) and the ids that
// actually follow them (lm_probe_target_ids), the log-probability of the target, how many logits
// beat it (rank - 1), the entropy in nats and the top-k log-probabilities. The same quantities as
// rowStats() in src/engine/surprisal.ts, in float32.
//
// ONNX Runtime runs every node of a graph whatever a run fetches, so the statistics also decide
// what the rest of the graph computes:
// - only the scored rows are unembedded and reduced: a window after the first scores the last half
//   of its positions, and the unembedding and the statistics were a third of the default pack's pass;
//   the last block's row-wise tail runs on those rows only too (scoredRows.ts);
// - the full logits, hidden_states and attentions (stacked copies of every layer) sit under an If
//   on lm_probe_full, so that a scoring run does not write them; an analysis run sets it, and scores
//   every row in order (the full logits are then the rows' logits);
// - the rank, entropy and top-k sit under an If on lm_probe_scores: corpus mode wants only nats.
import { onnx } from 'onnx-proto';
import { BOOL, FLOAT, GraphBuilder, INT64, valueInfo } from './onnxGraph';
import { type GraphFacts, scoredRowsOf, takenEarly } from './scoredRows';

export const STAT_NAMES = {
  rows: 'lm_probe_rows',
  full: 'lm_probe_full',
  scores: 'lm_probe_scores',
  targetIds: 'lm_probe_target_ids',
  topK: 'lm_probe_top_k',
  targetLogprob: 'lm_probe_target_logprob',
  greater: 'lm_probe_greater',
  entropy: 'lm_probe_entropy',
  topIds: 'lm_probe_top_ids',
  topLogprobs: 'lm_probe_top_logprobs',
} as const;

export type StatNames = typeof STAT_NAMES;

/** The inputs a run feeds, as opposed to the outputs it fetches. */
export const STAT_INPUTS = ['rows', 'full', 'scores', 'targetIds', 'topK'] as const;

/** The contract outputs of a forward graph (a pack's manifest names them). */
export interface ModelOutputs {
  logits: string;
  hiddenStates?: string | null;
  attentions?: string | null;
}

/** An If branch that returns empty tensors of these types and ranks, named `${name}/${tag}`. */
function emptyBranch(tag: string, outs: [name: string, elemType: number, rank: number][]): onnx.IGraphProto {
  return {
    name: `lm_probe_${tag}`,
    node: outs.map(([name, elemType, rank]) => ({
      opType: 'Constant',
      output: [`${name}/${tag}`],
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dataType: elemType, dims: new Array<number>(rank).fill(0) } }],
    })),
    output: outs.map(([name, elemType]) => valueInfo(`${name}/${tag}`, elemType, null)),
  };
}

/**
 * Statistics of logits [n, V] against target ids [n]. The log-probability always; the rank, the
 * entropy and the top-k only where lm_probe_scores is true (corpus mode reports nats alone).
 */
function statistics(g: GraphBuilder, logits: string, target: string, k: string): void {
  const lsm = g.o('LogSoftmax', [logits], { axis: -1 });
  const t = g.o('Unsqueeze', [target, g.constI([-1])]);
  g.output(g.o('Squeeze', [g.o('GatherElements', [lsm, t], { axis: -1 }), g.constI([-1])]), STAT_NAMES.targetLogprob, FLOAT, ['n']);

  const s = new GraphBuilder(undefined, 'lm_probe/scores/');
  const last = s.constI([-1]);
  const beat = s.o('Cast', [s.o('Greater', [logits, s.o('GatherElements', [logits, t], { axis: -1 })])], { to: FLOAT });
  s.output(s.o('ReduceSum', [beat, last], { keepdims: 0 }), `${STAT_NAMES.greater}/then`, FLOAT, null);
  const plogp = s.o('Mul', [s.o('Exp', [lsm]), lsm]);
  s.output(s.o('Neg', [s.o('ReduceSum', [plogp, last], { keepdims: 0 })]), `${STAT_NAMES.entropy}/then`, FLOAT, null);
  const [vals, idx] = s.op('TopK', [lsm, k], { axis: -1, largest: 1, sorted: 1 }, 2);
  s.output(idx, `${STAT_NAMES.topIds}/then`, INT64, null);
  s.output(vals, `${STAT_NAMES.topLogprobs}/then`, FLOAT, null);
  const outs: [string, number, number][] = [
    [STAT_NAMES.greater, FLOAT, 1],
    [STAT_NAMES.entropy, FLOAT, 1],
    [STAT_NAMES.topIds, INT64, 2],
    [STAT_NAMES.topLogprobs, FLOAT, 2],
  ];
  const scores = g.input(STAT_NAMES.scores, BOOL, []);
  g.op('If', [scores], { then_branch: { graph: s.graph('lm_probe_scores') }, else_branch: { graph: emptyBranch('no_scores', outs) } }, outs.map(([name]) => name));
  for (const [name, type, rank] of outs) g.declareOutput(name, type, rank === 1 ? ['n'] : ['n', 'k']);
}

/** Rows of x [..., D] flattened to [N, D], gathered: [n, D]. */
function gatherRows(g: GraphBuilder, x: string, rows: string): string {
  return g.o('Gather', [g.o('Flatten', [x], { axis: -1 }), rows], { axis: 0 });
}

interface GraphIndex extends GraphFacts {
  consumers: Map<string, number>;
  /** A node holds a subgraph, whose outer-scope reads are not counted in consumers. */
  subgraphs: boolean;
}

function index(g: onnx.GraphProto): GraphIndex {
  const producer = new Map<string, onnx.NodeProto>();
  const consumers = new Map<string, number>();
  const initializers = new Map((g.initializer as onnx.TensorProto[]).map((t) => [t.name, t]));
  const constant = new Set<string>(initializers.keys());
  let subgraphs = false;
  for (const n of g.node as onnx.NodeProto[]) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    if (n.attribute.some((a) => a.g || a.graphs?.length)) subgraphs = true;
    // Nodes come in topological order: a node of constants only is a constant (ONNX Runtime folds it).
    if (n.input.every((i) => !i || constant.has(i)) && !n.opType.startsWith('Random') && n.opType !== 'Bernoulli' && n.opType !== 'Multinomial') for (const o of n.output) constant.add(o);
  }
  return { producer, consumers, constant, initializers, subgraphs };
}

/**
 * The nodes that make graph output `name` and nothing else, last first: its producer, and through
 * Identity nodes (which GraphBuilder.output writes) the one before. Null where any of it feeds
 * another node, so that moving them under the If changes nothing else.
 */
function ownNodes(ix: GraphIndex, name: string): onnx.NodeProto[] | null {
  if (ix.subgraphs || (ix.consumers.get(name) ?? 0) > 0) return null;
  const out: onnx.NodeProto[] = [];
  let value = name;
  for (;;) {
    const p = ix.producer.get(value);
    if (!p || p.output.length !== 1 || ix.constant.has(value)) return out.length ? out : null;
    out.push(p);
    if (p.opType !== 'Identity' || (ix.consumers.get(p.input[0]) ?? 0) !== 1) return out;
    value = p.input[0];
  }
}

/** Values a subgraph reads from the scopes around it. */
function outerReads(g: onnx.IGraphProto): Set<string> {
  const own = new Set<string>([...(g.initializer ?? []).map((t) => t.name!), ...(g.input ?? []).map((i) => i.name!)]);
  const reads = new Set<string>();
  for (const n of g.node ?? []) {
    for (const i of n.input ?? []) if (i && !own.has(i)) reads.add(i);
    for (const a of n.attribute ?? []) for (const sg of [a.g, ...(a.graphs ?? [])]) if (sg) for (const i of outerReads(sg)) if (!own.has(i)) reads.add(i);
    for (const o of n.output ?? []) own.add(o);
  }
  return reads;
}

/**
 * Nodes of the main graph that only the full outputs need go into the If that makes them (`fullIf`),
 * and nodes nothing needs go: ONNX Runtime would run both on every scoring run. Such nodes are the
 * last block's tail on every row once its scored rows are taken early (scoredRows.ts), which only
 * hidden_states still reads.
 */
function sinkIntoFullBranch(g: onnx.GraphProto, fullIf: onnx.NodeProto): void {
  const then = fullIf.attribute.find((a) => a.name === 'then_branch')!.g as onnx.GraphProto;
  const needed = new Set((g.output as onnx.ValueInfoProto[]).map((o) => o.name));
  const branchNeeds = outerReads(then);
  const keep: onnx.NodeProto[] = [];
  const sink: onnx.NodeProto[] = [];
  const nodes = g.node as onnx.NodeProto[];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    const into = n.output.some((o) => needed.has(o)) ? needed : n.output.some((o) => branchNeeds.has(o)) ? branchNeeds : null;
    if (!into) continue;
    (into === needed ? keep : sink).push(n);
    const reads = [...n.input, ...n.attribute.flatMap((a) => [a.g, ...(a.graphs ?? [])]).flatMap((sg) => (sg && n !== fullIf ? [...outerReads(sg)] : []))];
    for (const i of reads) if (i) into.add(i);
  }
  g.node = keep.reverse();
  then.node = [...sink.reverse(), ...(then.node as onnx.NodeProto[])];
}

/**
 * The model with the statistics appended (src/engine/hf/statistics.ts's header says what changes).
 * Where the logits are MatMul(x, W) with a constant W, the statistics unembed only the scored rows
 * of x; otherwise they gather the rows of the full logits.
 */
export function appendStatistics(model: Uint8Array | onnx.ModelProto, outputs: ModelOutputs): Uint8Array {
  const m = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const graph = m.graph as onnx.GraphProto | null;
  if (!graph) throw new Error('the model has no graph');
  const ix = index(graph);
  const b = new GraphBuilder(undefined, 'lm_probe/');
  const rows = b.input(STAT_NAMES.rows, INT64, ['n']);
  const target = b.input(STAT_NAMES.targetIds, INT64, ['n']);
  const k = b.input(STAT_NAMES.topK, INT64, [1]);

  const logitsNodes = ownNodes(ix, outputs.logits);
  const unembed = logitsNodes?.find((n) => n.opType !== 'Identity');
  const isUnembed = unembed?.opType === 'MatMul' && (unembed.domain ?? '') === '' && ix.constant.has(unembed.input[1]);

  // Outputs that only a full run computes: the nodes that make them leave the main graph.
  const lean: { name: string; rank: number; nodes: onnx.NodeProto[]; moved: boolean }[] = [];
  if (isUnembed) lean.push({ name: outputs.logits, rank: 3, nodes: logitsNodes!, moved: false });
  for (const [name, rank] of [[outputs.hiddenStates, 4], [outputs.attentions, 5]] as const) {
    const nodes = name ? ownNodes(ix, name) : null;
    if (name && nodes) lean.push({ name, rank, nodes, moved: true });
  }
  const taken = new Set(lean.flatMap((l) => l.nodes));

  let rowLogits: string;
  let rowSource = outputs.logits; // a tensor with the leading dims of the logits
  if (isUnembed) {
    const x = unembed.input[0];
    const early = ix.subgraphs ? new Set([x]) : takenEarly(graph, ix, x, taken);
    const gather = (t: string) => {
      if (rowSource === outputs.logits) rowSource = t;
      return gatherRows(b, t, rows);
    };
    rowLogits = b.o('MatMul', [scoredRowsOf(ix, x, early, b, gather), unembed.input[1]]);
  } else {
    rowLogits = gatherRows(b, outputs.logits, rows);
  }
  statistics(b, rowLogits, target, k);

  if (lean.length) {
    const full = b.input(STAT_NAMES.full, BOOL, []);
    const branchOut = (name: string) => `${name}/lm_probe_full`;
    const sub = new GraphBuilder(undefined, 'lm_probe/full/');
    if (isUnembed) {
      // A full run scores every row, so the full logits are the rows' logits reshaped: one
      // unembedding in the graph, and one prepacked copy of W (154 MB for GPT-2's) rather than two.
      const lead = sub.o('Slice', [sub.o('Shape', [rowSource]), sub.constI([0]), sub.constI([-1])]);
      const shape = sub.o('Concat', [lead, sub.o('Slice', [sub.o('Shape', [rowLogits]), sub.constI([-1]), sub.constI([Number.MAX_SAFE_INTEGER])])], { axis: 0 });
      sub.op('Reshape', [rowLogits, shape], {}, [branchOut(outputs.logits)]);
    }
    const toMove = new Set(lean.filter((l) => l.moved).flatMap((l) => l.nodes));
    const moved = (graph.node as onnx.NodeProto[])
      .filter((n) => toMove.has(n))
      .map((n) => onnx.NodeProto.create({ ...n, output: n.output.map((o) => (lean.some((l) => l.name === o) ? branchOut(o) : o)) }));
    const inner = sub.graph('lm_probe_full_outputs');
    const thenBranch: onnx.IGraphProto = { ...inner, node: [...moved, ...(inner.node ?? [])], output: lean.map((l) => valueInfo(branchOut(l.name), FLOAT, null)) };
    const elseBranch = emptyBranch('not_full', lean.map((l) => [l.name, FLOAT, l.rank]));
    graph.node = (graph.node as onnx.NodeProto[]).filter((n) => !taken.has(n));
    b.op('If', [full], { then_branch: { graph: thenBranch }, else_branch: { graph: elseBranch } }, lean.map((l) => l.name));
    // Not full, they are empty: their declared shapes would not hold.
    for (const o of graph.output) if (lean.some((l) => l.name === o.name) && o.type?.tensorType) o.type.tensorType.shape = null;
    b.appendToModel(m);
    if (!ix.subgraphs) sinkIntoFullBranch(graph, (graph.node as onnx.NodeProto[]).find((n) => n.opType === 'If' && n.output[0] === lean[0].name)!);
    return onnx.ModelProto.encode(m).finish();
  }
  return b.appendTo(m);
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
