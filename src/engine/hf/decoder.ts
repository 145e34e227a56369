// The ONNX graphs of a decoder-only transformer, from a DecoderSpec: the forward graph (the pack
// contract: input_ids [B,S] -> logits [B,S,V], hidden_states [L+1,B,S,D], attentions [L,B,H,S,S],
// plus the per-token statistics of statistics.ts) and the head graph (hidden [N,D] -> logits [N,V],
// plus the top-1 outputs of the probes' decode).
// hidden_states[l] is the residual stream after block l before the final norm, as in our own packs,
// so that head(hidden_states[L]) = logits. Attention is written out (q k^T, mask, softmax) so that
// its probabilities are a real output; statistics.ts puts the full outputs under an If, since ONNX
// Runtime runs every node whatever a run fetches.
import type { BlockWeights, DecoderSpec, Linear, Norm } from './architectures';
import { FLOAT, GraphBuilder, INT64 } from './onnxGraph';
import { appendStatistics, appendTop1 } from './statistics';

export const GRAPH_NAMES = {
  inputIds: 'input_ids',
  logits: 'logits',
  hiddenStates: 'hidden_states',
  attentions: 'attentions',
  headInput: 'hidden',
  headOutput: 'logits',
} as const;

const NEG = -1e9; // added to masked scores: exp underflows to exactly 0 after the max is taken out
/**
 * Attention runs in this many blocks of queries (decoder.attention). At 1,023 positions and 12 heads
 * of 64 (GPT-2 small) a layer's attention took 25.3 ms in one block, 20.5 in 4, 19.8 in 8.
 */
const QUERY_BLOCKS = 4;

/**
 * A block of queries [start, end) (int64 [1] each; start = i * S / QUERY_BLOCKS rounded down), which
 * reads keys [0, end): its slice of the causal mask, and Pad's pads that widen its probabilities
 * [B,H,n,end] to [B,H,n,S]. Made once, shared by every layer.
 */
interface QueryBlock {
  start: string;
  end: string;
  mask: string;
  pads: string;
}

class Decoder {
  constructor(
    readonly g: GraphBuilder,
    readonly s: DecoderSpec,
  ) {}

  linear(x: string, l: Linear): string {
    const w = this.g.weight(l.w);
    // x W^T without a transposed copy of W: ONNX Runtime's FusedMatMul reads W as stored.
    const y = l.layout === 'inOut' ? this.g.o('MatMul', [x, w]) : this.g.op('FusedMatMul', [x, w], { transB: 1 }, 1, 'com.microsoft')[0];
    return l.b ? this.g.o('Add', [y, this.g.weight(l.b)]) : y;
  }

  norm(x: string, n: Norm): string {
    const g = this.g;
    if (this.s.norm === 'layer') {
      const b = n.b ? g.weight(n.b) : g.constF(new Array(this.s.width).fill(0));
      return g.o('LayerNormalization', [x, g.weight(n.w), b], { axis: -1, epsilon: { float: this.s.eps } });
    }
    // RMSNorm: x / sqrt(mean(x^2) + eps) * w
    const ms = g.o('ReduceMean', [g.o('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.o('Reciprocal', [g.o('Sqrt', [g.o('Add', [ms, g.constF([this.s.eps], [])])])]);
    return g.o('Mul', [g.o('Mul', [x, inv]), g.weight(n.w)]);
  }

  act(x: string): string {
    const g = this.g;
    if (this.s.act === 'silu') return g.o('Mul', [x, g.o('Sigmoid', [x])]);
    // x/2 (1 + erf(x/sqrt 2)) is ONNX Runtime's Gelu, the tanh approximation (GPT-2's gelu_new) its
    // FastGelu; both take in the bias add before them. Written out in ops, the erf form was left
    // unfused (5 ops over [S, 4D] per layer).
    return g.op(this.s.act === 'gelu' ? 'Gelu' : 'FastGelu', [x], {}, 1, 'com.microsoft')[0];
  }

  /** [B,S,n*hd] -> [B,n,S,hd] */
  heads(x: string, n: number): string {
    const r = this.g.o('Reshape', [x, this.g.constI([0, 0, n, this.s.headDim])]);
    return this.g.o('Transpose', [r], { perm: [0, 2, 1, 3] });
  }

  /** Rotary embedding (rotate_half convention) on the first rotary.dims of the last axis of [B,n,S,hd]. */
  rope(x: string, cos: string, sin: string): string {
    const g = this.g;
    const { dims } = this.s.rotary!;
    const hd = this.s.headDim;
    const [rot, pass] = dims < hd ? g.op('Split', [x, g.constI([dims, hd - dims])], { axis: -1 }, 2) : [x, null];
    const [x1, x2] = g.op('Split', [rot, g.constI([dims / 2, dims / 2])], { axis: -1 }, 2);
    const half = g.o('Concat', [g.o('Neg', [x2]), x1], { axis: -1 });
    const out = g.o('Add', [g.o('Mul', [rot, cos]), g.o('Mul', [half, sin])]);
    return pass ? g.o('Concat', [out, pass], { axis: -1 }) : out;
  }

  /** `keep` ([S], int64): the positions that leave the attention (the last layer drops the padding). */
  attention(x: string, b: BlockWeights, blocks: QueryBlock[], rope: { cos: string; sin: string } | null, keep?: string): { y: string; probs: string } {
    const g = this.g;
    const { heads: H, kvHeads: KV, headDim: hd } = this.s;
    let q: string, k: string, v: string;
    if (b.qkv.kind === 'separate') {
      q = this.heads(this.linear(x, b.qkv.q), H);
      k = this.heads(this.linear(x, b.qkv.k), KV);
      v = this.heads(this.linear(x, b.qkv.v), KV);
    } else if (b.qkv.kind === 'thirds') {
      const [a, bb, c] = g.op('Split', [this.linear(x, b.qkv.lin), g.constI([H * hd, H * hd, H * hd])], { axis: -1 }, 3);
      [q, k, v] = [this.heads(a, H), this.heads(bb, H), this.heads(c, H)];
    } else {
      // GPT-NeoX: the fused output is [B,S,H,3*hd], each head holding its own q, k, v
      const r = g.o('Reshape', [this.linear(x, b.qkv.lin), g.constI([0, 0, H, 3 * hd])]);
      [q, k, v] = g.op('Split', [r, g.constI([hd, hd, hd])], { axis: -1 }, 3).map((t) => g.o('Transpose', [t], { perm: [0, 2, 1, 3] }));
    }
    if (rope) {
      q = this.rope(q, rope.cos, rope.sin);
      k = this.rope(k, rope.cos, rope.sin);
    }
    if (KV !== H) {
      // grouped-query attention: each key/value head serves H/KV query heads, in order
      const rep = (t: string) =>
        g.o('Reshape', [g.o('Tile', [g.o('Unsqueeze', [t, g.constI([2])]), g.constI([1, 1, H / KV, 1, 1])]), g.constI([0, H, -1, hd])]);
      k = rep(k);
      v = rep(v);
    }
    // Queries in blocks, each block's keys only up to its last query: the masked upper right of the
    // scores (half of them) is mostly never computed. The same values: a masked score's weight is
    // exactly 0 either way. The full probabilities (for the attentions output only) put the zeros back.
    const seq = (t: string, from: string, to: string) => g.o('Slice', [t, from, to, g.constI([2])]);
    const zero = g.constI([0]);
    const ctxs: string[] = [];
    const probs: string[] = [];
    for (const { start, end, mask, pads } of blocks) {
      const scores = g.o('Mul', [g.o('MatMul', [seq(q, start, end), g.o('Transpose', [seq(k, zero, end)], { perm: [0, 1, 3, 2] })]), g.constF([1 / Math.sqrt(hd)], [])]);
      const p = g.o('Softmax', [g.o('Add', [scores, mask])], { axis: -1 });
      ctxs.push(g.o('MatMul', [p, seq(v, zero, end)]));
      probs.push(g.o('Pad', [p, pads]));
    }
    const ctx = g.o('Transpose', [g.o('Concat', ctxs, { axis: 2 })], { perm: [0, 2, 1, 3] });
    const merged = g.o('Reshape', [ctx, g.constI([0, 0, H * hd])]);
    const y = this.linear(keep ? this.positions(merged, keep) : merged, b.o);
    return { y, probs: g.o('Concat', probs, { axis: 2 }) };
  }

  /** The first `keep` positions of [B,S,...]. */
  positions(x: string, keep: string): string {
    return this.g.o('Slice', [x, this.g.constI([0]), keep, this.g.constI([1])]);
  }

  mlp(x: string, b: BlockWeights): string {
    const m = b.mlp;
    if (m.kind === 'plain') return this.linear(this.act(this.linear(x, m.fc)), m.proj);
    return this.linear(this.g.o('Mul', [this.act(this.linear(x, m.gate)), this.linear(x, m.up)]), m.down);
  }

  /** Builds the forward graph; returns the names of the three contract outputs' sources. */
  forward(ids: string): { logits: string; hidden: string[]; probs: string[] } {
    const g = this.g;
    const s = this.s;
    // WebGPU cannot run an op on an empty tensor ("Invalid dispatch group size (0, 1, 1)"), and
    // with fewer positions than query blocks some blocks would be empty: the window is padded with
    // id 0 up to QUERY_BLOCKS positions. Causal attention: no real position reads a padded one, and
    // the padding leaves at the last attention.
    const real = g.o('Shape', [ids], { start: 1, end: 2 }); // [S]
    const short = g.o('Max', [g.o('Sub', [g.constI([QUERY_BLOCKS]), real]), g.constI([0])]);
    const padded = g.o('Pad', [ids, g.o('Concat', [g.constI([0, 0, 0]), short], { axis: 0 })]);
    const len = g.o('Shape', [padded], { start: 1, end: 2 }); // [max(S, QUERY_BLOCKS)]
    const pos = g.o('Range', [g.constI([0], []), g.o('Squeeze', [len, g.constI([0])]), g.constI([1], [])]); // [S'], S' = max(S, QUERY_BLOCKS)
    let x = g.o('Gather', [g.weight(s.embed), padded], { axis: 0 });
    if (s.positions) x = g.o('Add', [x, g.o('Gather', [g.weight(s.positions), pos], { axis: 0 })]);
    // causal mask [S',S']: NEG where the key comes after the query
    const rows = g.o('Unsqueeze', [pos, g.constI([1])]);
    const cols = g.o('Unsqueeze', [pos, g.constI([0])]);
    const mask = g.o('Where', [g.o('Greater', [cols, rows]), g.constF([NEG], []), g.constF([0], [])]);
    const cuts = Array.from({ length: QUERY_BLOCKS + 1 }, (_, i) => (i === 0 ? g.constI([0]) : g.o('Div', [g.o('Mul', [len, g.constI([i])]), g.constI([QUERY_BLOCKS])])));
    const blocks: QueryBlock[] = cuts.slice(1).map((end, i) => ({
      start: cuts[i],
      end,
      mask: g.o('Slice', [mask, g.o('Concat', [cuts[i], cuts[0]], { axis: 0 }), g.o('Concat', [end, end], { axis: 0 })]),
      pads: g.o('Concat', [g.constI([0, 0, 0, 0, 0, 0, 0]), g.o('Sub', [len, end])], { axis: 0 }),
    }));
    let rope: { cos: string; sin: string } | null = null;
    if (s.rotary) {
      const freqs = g.o('Mul', [g.o('Unsqueeze', [g.o('Cast', [pos], { to: FLOAT }), g.constI([1])]), g.constF(s.rotary.invFreq, [1, s.rotary.invFreq.length])]);
      const emb = g.o('Concat', [freqs, freqs], { axis: -1 }); // [S', dims]
      rope = { cos: g.o('Cos', [emb]), sin: g.o('Sin', [emb]) };
    }
    const hidden = [x];
    const probs: string[] = [];
    for (const [i, b] of s.blocks.entries()) {
      const last = i === s.blocks.length - 1;
      const a = this.attention(this.norm(x, b.ln1), b, blocks, rope, last ? real : undefined);
      probs.push(g.o('Slice', [a.probs, g.constI([0, 0]), g.o('Concat', [real, real], { axis: 0 }), g.constI([2, 3])]));
      if (last) x = this.positions(x, real);
      if (s.parallelResidual) {
        x = g.o('Add', [g.o('Add', [x, a.y]), this.mlp(this.norm(x, b.ln2), b)]);
      } else {
        x = g.o('Add', [x, a.y]);
        x = g.o('Add', [x, this.mlp(this.norm(x, b.ln2), b)]);
      }
      hidden.push(last ? x : this.positions(x, real));
    }
    hidden[0] = this.positions(hidden[0], real);
    return { logits: this.unembed(x), hidden, probs };
  }

  unembed(h: string): string {
    const g = this.g;
    return g.o('MatMul', [this.norm(h, this.s.finalNorm), g.o('Transpose', [g.weight(this.s.lmHead)], { perm: [1, 0] })]);
  }
}

/** forward.onnx of the spec. `weightFile` names each weight file beside the graph. */
export function buildForward(s: DecoderSpec, weightFile: (file: string) => string): Uint8Array {
  const g = new GraphBuilder(weightFile);
  const ids = g.input(GRAPH_NAMES.inputIds, INT64, ['batch', 'seq']);
  const d = new Decoder(g, s);
  const { logits, hidden, probs } = d.forward(ids);
  const stack = (xs: string[]) => g.o('Concat', xs.map((x) => g.o('Unsqueeze', [x, g.constI([0])])), { axis: 0 });
  g.output(logits, GRAPH_NAMES.logits, FLOAT, ['batch', 'seq', s.vocabSize]);
  g.output(stack(hidden), GRAPH_NAMES.hiddenStates, FLOAT, [s.layers + 1, 'batch', 'seq', s.width]);
  g.output(stack(probs), GRAPH_NAMES.attentions, FLOAT, [s.layers, 'batch', s.heads, 'seq', 'seq']);
  return appendStatistics(g.encode(`${s.modelType}-forward`), GRAPH_NAMES);
}

/** head.onnx: final norm and unembedding of hidden [N, D]. */
export function buildHead(s: DecoderSpec, weightFile: (file: string) => string): Uint8Array {
  const g = new GraphBuilder(weightFile);
  const h = g.input(GRAPH_NAMES.headInput, FLOAT, ['n', s.width]);
  const logits = new Decoder(g, s).unembed(h);
  g.output(logits, GRAPH_NAMES.headOutput, FLOAT, ['n', s.vocabSize]);
  // The probes' decode (analysis/headTop1.ts) fetches these. A plain head run (runHead) computes them
  // too, since ONNX Runtime runs every node; they cost less than the unembedding before them.
  appendTop1(g, logits);
  return g.encode(`${s.modelType}-head`);
}
