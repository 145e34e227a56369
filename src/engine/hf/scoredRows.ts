// The scored rows taken before the last row-wise ops of a graph rather than after them. A scoring
// run unembeds only the rows it scores (statistics.ts); the final norm, the last block's MLP, its
// attention's output projection and the residual adds before the unembedding are row-wise too, so
// the rows can be gathered where the last attention's output and the residual stream enter them.
// Windows after the first score half of their positions, so the unscored half of the last block's
// tail is no longer computed: a scoring run of the default pack (4 layers, 4 x 255 positions) is
// 3-5% faster, deeper models gain less. A full run scores every row in order and gets the same
// values. Engine.checkShapes runs a batch of two, which fails or differs where a tensor taken here
// does not have the batch's rows (Engine.open then opens the pack's graphs as they are).
import { onnx } from 'onnx-proto';
import { attr, intAttr, type GraphBuilder } from './onnxGraph';

/** Ops whose output row r depends only on row r of their one activation input. */
const UNARY = new Set(['Identity', 'Cast', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Softplus', 'Gelu']);
/** ONNX Runtime's activations (com.microsoft): x, and an optional bias broadcast along the last axis. */
const MS_ACTIVATIONS = new Set(['Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu']);
/** Elementwise ops of two inputs, row-wise where each input is a row of the output's shape or a constant broadcast along the last axis. */
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);

export interface GraphFacts {
  producer: Map<string, onnx.NodeProto>;
  constant: Set<string>;
  initializers: Map<string, onnx.TensorProto>;
}

/** Dims of a constant where they are known without running anything. */
function constDims(f: GraphFacts, name: string): number[] | null {
  const init = f.initializers.get(name);
  if (init) return init.dims.map(Number);
  const p = f.producer.get(name);
  if (!p || (p.domain ?? '') !== '') return null;
  if (p.opType === 'Constant') {
    const t = attr(p, 'value')?.t;
    return t?.dims ? t.dims.map(Number) : null;
  }
  if (p.opType === 'Cast' || p.opType === 'Identity') return constDims(f, p.input[0]);
  if (p.opType === 'Transpose') {
    const d = constDims(f, p.input[0]);
    const perm = attr(p, 'perm')?.ints?.map(Number) ?? d?.map((_, i) => d.length - 1 - i);
    return d && perm ? perm.map((i) => d[i]) : null;
  }
  return null;
}

/** A constant that broadcasts along the last axis only: a scalar, [D], [1, 1, D]. */
function rowBroadcast(f: GraphFacts, name: string): boolean {
  const d = constDims(f, name);
  return !!d && d.slice(0, -1).every((x) => x === 1);
}

function int64Values(f: GraphFacts, name: string): number[] | null {
  const t = f.initializers.get(name) ?? attr(f.producer.get(name) ?? onnx.NodeProto.create(), 'value')?.t;
  if (!t || t.dataType !== onnx.TensorProto.DataType.INT64) return null;
  if (t.int64Data?.length) return t.int64Data.map(Number);
  if (!t.rawData?.length) return null;
  return Array.from(new BigInt64Array(Uint8Array.from(t.rawData).buffer), Number);
}

/** The inputs of n that carry rows, or null where n is not row-wise. */
function rowInputs(f: GraphFacts, n: onnx.NodeProto): string[] | null {
  if (n.output.filter(Boolean).length !== 1) return null;
  const domain = n.domain ?? '';
  const [x, ...rest] = n.input;
  const isConst = (i: string) => !i || f.constant.has(i);
  if (domain === 'com.microsoft' && n.opType === 'FusedMatMul') {
    const plain = intAttr(n, 'transA', 0) === 0 && intAttr(n, 'transBatchA', 0) === 0 && intAttr(n, 'transBatchB', 0) === 0;
    return plain && !isConst(x) && isConst(rest[0]) && constDims(f, rest[0])?.length === 2 ? [x] : null;
  }
  if (domain === 'com.microsoft' && MS_ACTIVATIONS.has(n.opType)) return !isConst(x) && rest.every((i) => !i || (isConst(i) && rowBroadcast(f, i))) ? [x] : null;
  if (domain !== '') return null;
  if (UNARY.has(n.opType)) return n.input.length === 1 && !isConst(x) ? [x] : null;
  if (BINARY.has(n.opType)) {
    if (n.input.length !== 2 || n.input.every(isConst)) return null;
    return n.input.every((i) => !isConst(i) || rowBroadcast(f, i)) ? n.input.filter((i) => !isConst(i)) : null;
  }
  if (n.opType === 'MatMul') return !isConst(x) && isConst(rest[0]) && constDims(f, rest[0])?.length === 2 ? [x] : null;
  if (n.opType === 'LayerNormalization') return intAttr(n, 'axis', -1) === -1 && !isConst(x) && rest.every((i) => isConst(i) && rowBroadcast(f, i)) ? [x] : null;
  if (n.opType === 'ReduceMean' && intAttr(n, 'keepdims', 1) === 1) {
    const axes = rest[0] ? int64Values(f, rest[0]) : (attr(n, 'axes')?.ints?.map(Number) ?? null);
    return !isConst(x) && axes?.length === 1 && axes[0] === -1 ? [x] : null;
  }
  return null;
}

/**
 * Rows `rows` (flat indices b * S + i) of `x` [..., D], computed from rows gathered as early as the
 * row-wise ops before x allow: a tensor is followed up to its producer only where every node that
 * reads it is one that the rows are taken through (`early`), so that none is computed twice.
 * `gather(t)` gathers the rows of t.
 */
export function scoredRowsOf(f: GraphFacts, x: string, early: Set<string>, b: GraphBuilder, gather: (t: string) => string): string {
  const memo = new Map<string, string>();
  const visit = (t: string): string => {
    let out = memo.get(t);
    if (out) return out;
    const p = f.producer.get(t);
    const ins = p && early.has(t) ? rowInputs(f, p) : null;
    out = p && ins ? b.like(p, p.input.map((i) => (ins.includes(i) ? visit(i) : i))) : gather(t);
    memo.set(t, out);
    return out;
  };
  return visit(x);
}

/**
 * The tensors before `x` whose rows can be computed from earlier rows, once the nodes `removed` are
 * gone from the scoring run: walking back from x, a row-wise node's output is one where only x or
 * nodes taken so want it, and nothing that still runs on every row reads it. Where such a node
 * would be wanted on every row too, its output's rows are gathered instead, so that nothing runs twice.
 * Nodes that only the full outputs read (hidden_states, attentions) neither want nor need anything.
 */
export function takenEarly(g: onnx.GraphProto, f: GraphFacts, x: string, removed: Set<onnx.NodeProto>): Set<string> {
  const kept = (g.node as onnx.NodeProto[]).filter((n) => !removed.has(n));
  const readers = new Map<string, onnx.NodeProto[]>();
  for (const n of kept) for (const i of n.input) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set((g.output as onnx.ValueInfoProto[]).map((o) => o.name));
  const through = new Set<onnx.NodeProto>(); // the rows of their output are computed from earlier rows
  const runs = new Set<onnx.NodeProto>(); // they still run on every row
  const early = new Set<string>();
  // Readers come after what they read: walking back, a tensor's readers are settled before it.
  for (let k = kept.length - 1; k >= 0; k--) {
    const n = kept[k];
    const rs = n.output.flatMap((o) => readers.get(o) ?? []);
    const wanted = n.output.includes(x) || rs.some((r) => through.has(r));
    const needed = n.output.some((o) => outputs.has(o)) || rs.some((r) => runs.has(r));
    if (wanted && !needed && rowInputs(f, n)) {
      through.add(n);
      early.add(n.output[0]);
    } else if (wanted || needed) {
      runs.add(n);
    }
  }
  return early;
}
