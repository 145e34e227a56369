// What a graph becomes before a WebGPU session opens it. ONNX Runtime's WebGPU provider has no
// kernel for two ops that our graphs use, so it would run them on the CPU and copy their inputs and
// outputs between the GPU and the host on every run (its node placement log, onnxruntime-node 1.30):
// - FusedMatMul (com.microsoft), which graphs built from Hugging Face folders use for x W^T on the
//   weights stored [out, in] (Llama, Mistral, Qwen2, GPT-NeoX): every projection of every layer;
// - LogSoftmax, which the in-graph statistics take over [rows, vocabulary] logits: the largest
//   tensor of a run.
// Here FusedMatMul with a constant 2-D B becomes MatMul on Transpose(B) (ONNX Runtime folds the
// transpose when the session opens), and LogSoftmax becomes x - max - log(sum(exp(x - max))). The
// CPU keeps the graphs as they are: FusedMatMul reads W as stored, without a transposed copy.
//
// And the other way: Sin and Cos go to the CPU. WGSL's sin and cos are approximations (the spec
// allows an absolute error of 2^-11 on [-pi, pi] and bounds none outside); in a language model they
// make the rotary embedding's tables, at angles up to thousands of radians. On SwiftShader they
// were 3.5e-4 off, and a Llama folder's surprisal moved by up to 2e-3 bits; on the CPU, 7e-6.
import { onnx } from 'onnx-proto';
import { attr, attribute, intAttr } from './hf/onnxGraph';

type Node = onnx.INodeProto;

/** FusedMatMul that is a plain x W^T (or x W) on a 2-D constant (an initializer or its Cast): its rewrite, else null. */
function matmul(n: Node, rank2: Set<string>): Node[] | null {
  if (n.opType !== 'FusedMatMul' || n.domain !== 'com.microsoft') return null;
  const alpha = attr(n, 'alpha');
  if (alpha && alpha.f !== undefined && alpha.f !== null && alpha.f !== 1) return null;
  if (intAttr(n, 'transA', 0) || intAttr(n, 'transBatchA', 0) || intAttr(n, 'transBatchB', 0)) return null;
  const [a, b] = n.input ?? [];
  if (!a || !b || !rank2.has(b)) return null;
  const name = n.name || n.output![0];
  if (!intAttr(n, 'transB', 0)) return [{ name, opType: 'MatMul', input: [a, b], output: n.output }];
  const bt = `${name}/webgpu_bt`;
  return [
    { name: `${name}/webgpu_transpose`, opType: 'Transpose', input: [b], output: [bt], attribute: [attribute('perm', [1, 0])] },
    { name, opType: 'MatMul', input: [a, bt], output: n.output },
  ];
}

/** LogSoftmax over one axis, in ops that WebGPU has: x - m - log(sum(exp(x - m))), m = max(x). */
function logSoftmax(n: Node, opset: number): Node[] | null {
  if (n.opType !== 'LogSoftmax' || (n.domain ?? '') !== '') return null;
  // Before opset 13 LogSoftmax flattened the axes from `axis` on (default 1), not one axis.
  if (opset < 13) return null;
  const axis = intAttr(n, 'axis', -1);
  const name = n.name || n.output![0];
  const t = (s: string) => `${name}/webgpu_${s}`;
  const axes = t('axes');
  return [
    { name: t('axes_const'), opType: 'Constant', output: [axes], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: onnx.TensorProto.DataType.INT64, int64Data: [axis] } }] },
    { name: t('max'), opType: 'ReduceMax', input: [n.input![0], ...(opset >= 18 ? [axes] : [])], output: [t('m')], attribute: [attribute('keepdims', 1), ...(opset >= 18 ? [] : [attribute('axes', [axis])])] },
    { name: t('shift'), opType: 'Sub', input: [n.input![0], t('m')], output: [t('z')] },
    { name: t('exp'), opType: 'Exp', input: [t('z')], output: [t('e')] },
    { name: t('sum'), opType: 'ReduceSum', input: [t('e'), axes], output: [t('s')], attribute: [attribute('keepdims', 1)] },
    { name: t('log'), opType: 'Log', input: [t('s')], output: [t('l')] },
    { name, opType: 'Sub', input: [t('z'), t('l')], output: n.output },
  ];
}

interface Rewrite {
  opset: number;
  changed: number;
  /** Names of the nodes to keep on the CPU (unnamed ones get a name). */
  cpu: string[];
}

function rewrite(g: onnx.IGraphProto, rank2: Set<string>, r: Rewrite): void {
  const inner = new Set(rank2);
  for (const i of g.initializer ?? []) if ((i.dims ?? []).length === 2 && i.name) inner.add(i.name);
  const out: Node[] = [];
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.g) rewrite(a.g, inner, r);
      for (const sub of a.graphs ?? []) rewrite(sub, inner, r);
    }
    if ((n.opType === 'Sin' || n.opType === 'Cos') && (n.domain ?? '') === '') {
      if (!n.name) {
        n.name = `lm_probe_webgpu_cpu_${r.cpu.length}`;
        r.changed++;
      }
      r.cpu.push(n.name);
    }
    // A float16 or bfloat16 weight reaches its MatMul through a Cast (onnxGraph.ts weight()): still a constant.
    if (n.opType === 'Cast' && (n.domain ?? '') === '' && inner.has(n.input?.[0] ?? '') && n.output?.[0]) inner.add(n.output[0]);
    const nodes = matmul(n, inner) ?? logSoftmax(n, r.opset);
    if (nodes) r.changed++;
    out.push(...(nodes ?? [n]));
  }
  g.node = out;
}

/**
 * The graph for a WebGPU session (the same bytes where there is nothing to change) and the nodes
 * that it runs on the CPU (the provider's forceCpuNodeNames).
 */
export function forWebGpu(bytes: Uint8Array): { bytes: Uint8Array; cpuNodes: string[] } {
  const model = onnx.ModelProto.decode(bytes);
  const r: Rewrite = { opset: Number((model.opsetImport ?? []).find((o) => (o.domain ?? '') === '')?.version ?? 0), changed: 0, cpu: [] };
  if (model.graph) rewrite(model.graph, new Set(), r);
  return { bytes: r.changed ? onnx.ModelProto.encode(model).finish() : bytes, cpuNodes: [...new Set(r.cpu)] };
}
