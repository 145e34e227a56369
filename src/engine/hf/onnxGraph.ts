// A small writer of ONNX graphs over onnx-proto (the official onnx.proto compiled with protobufjs).
// Node names are generated; every op call returns the names of its outputs. Weights are external
// data: an initializer names a file beside the .onnx and a byte range in it, so ONNX Runtime reads
// them straight from the (linked) safetensors file and the protobuf stays small (no 2 GB limit).
import { onnx } from 'onnx-proto';
import type { TensorInfo } from './safetensors';

export type Attr = number | number[] | string | { floats: number[] } | { float: number } | { graph: onnx.IGraphProto };
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const BOOL = onnx.TensorProto.DataType.BOOL;
const DTYPE = { F32: onnx.TensorProto.DataType.FLOAT, F16: onnx.TensorProto.DataType.FLOAT16, BF16: onnx.TensorProto.DataType.BFLOAT16 };

/** An attribute from a plain value: a number is an INT, an array INTS (GraphBuilder's ops take these). */
export function attribute(name: string, v: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('graph' in v) return { name, type: T.GRAPH, g: v.graph };
  return { name, type: T.FLOAT, f: v.float };
}

/** Attribute `name` of a node read from a model. */
export function attr(n: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

/** An int attribute, or `def` where the node has none. */
export function intAttr(n: onnx.INodeProto, name: string, def: number): number {
  const a = attr(n, name);
  // protobufjs gives int64 fields as numbers or as Long objects
  return a?.i === undefined || a.i === null ? def : Number(String(a.i));
}

type Dim = number | string;

export function valueInfo(name: string, elemType: number, dims: Dim[] | null): onnx.IValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } : undefined;
  return { name, type: { tensorType: { elemType, ...(shape ? { shape } : {}) } } };
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inits: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly consts = new Map<string, string>();
  private readonly weights = new Map<string, string>();
  private n = 0;
  private readonly domains = new Set<string>();

  /**
   * @param weightFile maps a weight's real file path to its name beside the .onnx (the cache's link).
   * @param prefix of every generated name, so that nodes appended to another model's graph keep clear of its names.
   */
  constructor(
    private readonly weightFile: (file: string) => string = () => {
      throw new Error('this graph has no weight files');
    },
    private readonly prefix = '',
  ) {}

  private fresh(base: string): string {
    return `${this.prefix}${base}_${this.n++}`;
  }

  /** @param nOut how many outputs, or their names. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, nOut: number | string[] = 1, domain = ''): string[] {
    const outs = typeof nOut === 'number' ? Array.from({ length: nOut }, () => this.fresh(type.toLowerCase())) : nOut;
    if (domain) this.domains.add(domain);
    this.nodes.push({
      name: this.fresh('n_' + type),
      opType: type,
      domain,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** A copy of one-output node `n` (its op, domain and attributes) on other inputs. */
  like(n: onnx.INodeProto, inputs: string[]): string {
    const out = this.op(n.opType!, inputs, {}, 1, n.domain ?? '')[0];
    this.nodes[this.nodes.length - 1].attribute = n.attribute;
    return out;
  }

  /** One-output op. */
  o(type: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.op(type, inputs, attrs)[0];
  }

  /** Renames a value to a graph output name (Identity). */
  output(value: string, name: string, elemType: number, dims: Dim[] | null): void {
    this.nodes.push({ name: this.fresh('n_out'), opType: 'Identity', input: [value], output: [name] });
    this.declareOutput(name, elemType, dims);
  }

  /** A graph output that a node of this graph already writes under its name. */
  declareOutput(name: string, elemType: number, dims: Dim[] | null): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** A small constant (deduplicated by value). */
  constF(values: number[], dims: number[] = [values.length]): string {
    return this.constant(FLOAT, values, dims);
  }

  constI(values: number[], dims: number[] = [values.length]): string {
    return this.constant(INT64, values, dims);
  }

  private constant(type: number, values: number[], dims: number[]): string {
    const key = `${type}|${dims.join(',')}|${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh(type === FLOAT ? 'cf' : 'ci');
      const t: onnx.ITensorProto = { name, dataType: type, dims };
      if (type === FLOAT) t.rawData = new Uint8Array(Float32Array.from(values).buffer);
      else t.int64Data = values;
      this.inits.push(t);
      this.consts.set(key, name);
    }
    return name;
  }

  /**
   * A weight as float32: the external initializer, cast when stored as F16/BF16. ONNX Runtime folds
   * the Cast (and a Transpose after it) once when the session is created.
   */
  weight(t: TensorInfo): string {
    let name = this.weights.get(t.name);
    if (name) return name;
    const raw = 'w:' + t.name;
    this.inits.push({
      name: raw,
      dataType: DTYPE[t.dtype],
      dims: t.shape,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.weightFile(t.file) },
        { key: 'offset', value: String(t.offset) },
        { key: 'length', value: String(t.byteLength) },
      ],
    });
    name = t.dtype === 'F32' ? raw : this.o('Cast', [raw], { to: FLOAT });
    this.weights.set(t.name, name);
    return name;
  }

  /** An existing model with this builder's nodes, constants, inputs and outputs appended to its graph. */
  appendTo(model: Uint8Array | onnx.ModelProto): Uint8Array {
    return onnx.ModelProto.encode(this.appendToModel(model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model)).finish();
  }

  /** appendTo without the encoding: `m` itself, changed. */
  appendToModel(m: onnx.ModelProto): onnx.ModelProto {
    if (!m.graph) throw new Error('the model has no graph');
    const g = m.graph as onnx.GraphProto; // decoded: every repeated field is an array
    g.node.push(...this.nodes.map((n) => onnx.NodeProto.create(n)));
    g.initializer.push(...this.inits.map((t) => onnx.TensorProto.create(t)));
    g.input.push(...this.inputs.map((v) => onnx.ValueInfoProto.create(v)));
    g.output.push(...this.outputs.map((v) => onnx.ValueInfoProto.create(v)));
    for (const domain of this.domains) if (!m.opsetImport.some((o) => o.domain === domain)) m.opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version: 1 }));
    return m;
  }

  /** This builder's nodes as a subgraph (an If's branch), which may read the enclosing graph's values. */
  graph(name: string): onnx.IGraphProto {
    return { name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs };
  }

  encode(name: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      producerName: 'lm-probe',
      graph: { name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
