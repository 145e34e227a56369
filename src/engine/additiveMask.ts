// Attention masks written as Where(mask, scores, -inf) (what torch's masked_fill exports to) become
// scores + Where(mask, 0, -inf): the Where then runs once on the [.., S, S] mask instead of on every
// batch and head's scores, and ONNX Runtime's Where is single-threaded and slow (4 of them were 11%
// of the default pack's forward pass at 4 x 255 tokens; the Add costs a fifth of that). Exact: x + 0
// is x and x + -inf is -inf for every finite score.
import { onnx } from 'onnx-proto';

function floatValues(t: onnx.ITensorProto): Float32Array | null {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) return null;
  if (t.rawData?.length) return new Float32Array(Uint8Array.from(t.rawData).buffer);
  return t.floatData?.length ? Float32Array.from(t.floatData) : null;
}

/** Names of the graph's float scalars that are -inf, from initializers and Constant nodes. */
function minusInfScalars(g: onnx.GraphProto): Set<string> {
  const out = new Set<string>();
  const check = (name: string, t: onnx.ITensorProto | null | undefined) => {
    const v = t ? floatValues(t) : null;
    if (v && v.length === 1 && v[0] === -Infinity) out.add(name);
  };
  for (const t of g.initializer as onnx.TensorProto[]) check(t.name, t);
  for (const n of g.node as onnx.NodeProto[]) if (n.opType === 'Constant' && (n.domain ?? '') === '') check(n.output[0], n.attribute.find((a) => a.name === 'value')?.t);
  return out;
}

/** Rewrites the graph in place; returns how many Where nodes it replaced. */
export function additiveMasks(g: onnx.GraphProto): number {
  const minusInf = minusInfScalars(g);
  if (!minusInf.size) return 0;
  const zero = 'lm_probe_mask_zero';
  let count = 0;
  const nodes: onnx.INodeProto[] = [];
  for (const n of g.node as onnx.NodeProto[]) {
    const [c, a, b] = n.input;
    const fillIsB = minusInf.has(b) && !minusInf.has(a);
    const fillIsA = minusInf.has(a) && !minusInf.has(b);
    if (n.opType !== 'Where' || (n.domain ?? '') !== '' || n.input.length !== 3 || !(fillIsA || fillIsB)) {
      nodes.push(n);
      continue;
    }
    const mask = `${n.output[0]}/lm_probe_additive_mask`;
    nodes.push(onnx.NodeProto.create({ name: `${n.name}/lm_probe_mask`, opType: 'Where', input: fillIsB ? [c, zero, b] : [c, a, zero], output: [mask] }));
    nodes.push(onnx.NodeProto.create({ name: `${n.name}/lm_probe_add`, opType: 'Add', input: [fillIsB ? a : b, mask], output: n.output }));
    count++;
  }
  if (count) {
    g.node = nodes as onnx.NodeProto[];
    g.initializer.push(onnx.TensorProto.create({ name: zero, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], rawData: new Uint8Array(4) }));
  }
  return count;
}
