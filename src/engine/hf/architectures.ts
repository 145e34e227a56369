// config.json + safetensors names of each supported family -> one DecoderSpec (decoder.ts builds
// the graph from it). Names and layouts follow the checkpoints that transformers writes:
// GPT-2's Conv1D weights are [in, out]; nn.Linear weights elsewhere are [out, in].
import { ProbeError } from '../errors';
import { FAMILIES, isSupportedModelType, supportedList, type ModelType } from './families';
import { needTensor, type TensorInfo, type WeightSet } from './safetensors';

export interface Linear {
  w: TensorInfo;
  b: TensorInfo | null;
  /** 'inOut': y = x W (GPT-2 Conv1D); 'outIn': y = x W^T (nn.Linear). */
  layout: 'inOut' | 'outIn';
}

export interface Norm {
  w: TensorInfo;
  b: TensorInfo | null;
}

export interface BlockWeights {
  ln1: Norm;
  ln2: Norm;
  /** GPT-2: one [D, 3D] split into thirds; NeoX: one [3D, D] read per head as (q, k, v); else three. */
  qkv: { kind: 'thirds' | 'perHead'; lin: Linear } | { kind: 'separate'; q: Linear; k: Linear; v: Linear };
  o: Linear;
  mlp: { kind: 'plain'; fc: Linear; proj: Linear } | { kind: 'gated'; gate: Linear; up: Linear; down: Linear };
}

export interface DecoderSpec {
  modelType: ModelType;
  family: string;
  layers: number;
  heads: number;
  kvHeads: number;
  width: number;
  headDim: number;
  vocabSize: number;
  /** The model's trained context (positions), before LM Probe's own cap. */
  maxPositions: number;
  norm: 'layer' | 'rms';
  eps: number;
  act: 'gelu' | 'gelu_tanh' | 'silu';
  parallelResidual: boolean;
  /** Rotary embedding on the first `dims` of each head, or null for learned positions. */
  rotary: { dims: number; invFreq: number[] } | null;
  embed: TensorInfo;
  positions: TensorInfo | null;
  blocks: BlockWeights[];
  finalNorm: Norm;
  /** The unembedding [V, D] (tied models: the embedding). */
  lmHead: TensorInfo;
  bosId: number | null;
  eosId: number | null;
  dtype: string;
}

type Config = Record<string, unknown>;

class Reader {
  constructor(
    readonly dir: string,
    readonly c: Config,
    readonly w: WeightSet,
  ) {}

  where(): string {
    return `model ${this.dir}`;
  }

  fail(field: string, expected: string): never {
    throw new ProbeError('BAD_PACK', `${this.where()}: config.json field "${field}": expected ${expected}, got ${JSON.stringify(this.c[field])}`);
  }

  int(field: string, fallback?: number): number {
    const v = this.c[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail(field, 'a positive integer');
    return v;
  }

  num(field: string, fallback?: number): number {
    // transformers 5 keeps rope_theta inside rope_parameters
    const rp = this.c.rope_parameters as Record<string, unknown> | undefined;
    const v = this.c[field] ?? (field === 'rope_theta' && rp ? rp.rope_theta : undefined) ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a number');
    return v;
  }

  t(name: string, shape: number[]): TensorInfo {
    return needTensor(this.w, name, shape, this.where());
  }

  opt(name: string, shape: number[]): TensorInfo | null {
    return this.w.tensors.has(name) ? this.t(name, shape) : null;
  }

  /** The weight prefix in use: `transformer.h.0...` (GPT2LMHeadModel) or `h.0...` (GPT2Model). */
  prefixed(candidates: string[], probe: string): string {
    const p = candidates.find((c) => this.w.tensors.has(c + probe));
    if (p === undefined) {
      throw new ProbeError(
        'BAD_PACK',
        `${this.where()}: weight ${JSON.stringify(candidates[0] + probe)} is missing from the safetensors (is this a ${FAMILIES[this.c.model_type as ModelType]} checkpoint?)`,
      );
    }
    return p;
  }

  lin(name: string, out: number, inp: number, layout: 'inOut' | 'outIn', bias: boolean | 'optional'): Linear {
    const w = this.t(name + '.weight', layout === 'inOut' ? [inp, out] : [out, inp]);
    const b = bias === 'optional' ? this.opt(name + '.bias', [out]) : bias ? this.t(name + '.bias', [out]) : null;
    return { w, b, layout };
  }

  norm(name: string, d: number, bias: boolean): Norm {
    return { w: this.t(name + '.weight', [d]), b: bias ? this.t(name + '.bias', [d]) : null };
  }

  tokenIds(): { bosId: number | null; eosId: number | null } {
    const id = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : Array.isArray(v) && typeof v[0] === 'number' ? v[0] : null);
    return { bosId: id(this.c.bos_token_id), eosId: id(this.c.eos_token_id) };
  }

  dtype(): string {
    const d = [...new Set([...this.w.tensors.values()].map((t) => t.dtype))];
    return d.join('+');
  }
}

/** torch computes inv_freq in float32: base ** (i / dim), then 1 / that. */
function invFreq(dim: number, base: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < dim; i += 2) out.push(Math.fround(1 / Math.fround(Math.pow(base, Math.fround(i / dim)))));
  return out;
}

function scaledInvFreq(r: Reader, dim: number, base: number): number[] {
  const inv = invFreq(dim, base);
  const s = (r.c.rope_scaling ?? r.c.rope_parameters) as Record<string, unknown> | null | undefined;
  if (!s) return inv;
  const type = (s.rope_type ?? s.type) as string;
  if (type === 'default') return inv;
  const factor = typeof s.factor === 'number' ? s.factor : NaN;
  if (type === 'linear' && factor > 0) return inv.map((f) => Math.fround(f / factor));
  if (type === 'llama3' && factor > 0) {
    const low = s.low_freq_factor as number;
    const high = s.high_freq_factor as number;
    const old = s.original_max_position_embeddings as number;
    const lowWavelen = old / low;
    const highWavelen = old / high;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return Math.fround(f / factor);
      const smooth = (old / wavelen - low) / (high - low);
      return Math.fround((1 - smooth) * (f / factor) + smooth * f);
    });
  }
  throw new ProbeError('BAD_PACK', `${r.where()}: config.json rope_scaling ${JSON.stringify(s)}: LM Probe supports rope scaling "linear" and "llama3" only`);
}

function gpt2(r: Reader): DecoderSpec {
  const L = r.int('n_layer');
  const H = r.int('n_head');
  const D = r.int('n_embd');
  const V = r.int('vocab_size');
  const P = r.int('n_positions', r.c.n_ctx as number);
  const F = (r.c.n_inner as number | null) ?? 4 * D;
  const act = (r.c.activation_function as string) ?? 'gelu_new';
  if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'gelu_fast'].includes(act)) r.fail('activation_function', '"gelu_new" or "gelu"');
  const p = r.prefixed(['transformer.', ''], 'wte.weight');
  const blocks: BlockWeights[] = [];
  for (let l = 0; l < L; l++) {
    const b = `${p}h.${l}.`;
    blocks.push({
      ln1: r.norm(b + 'ln_1', D, true),
      ln2: r.norm(b + 'ln_2', D, true),
      qkv: { kind: 'thirds', lin: r.lin(b + 'attn.c_attn', 3 * D, D, 'inOut', true) },
      o: r.lin(b + 'attn.c_proj', D, D, 'inOut', true),
      mlp: { kind: 'plain', fc: r.lin(b + 'mlp.c_fc', F, D, 'inOut', true), proj: r.lin(b + 'mlp.c_proj', D, F, 'inOut', true) },
    });
  }
  const embed = r.t(p + 'wte.weight', [V, D]);
  return {
    ...base(r, 'gpt2', L, H, H, D, D / H, V, P),
    norm: 'layer',
    eps: r.num('layer_norm_epsilon', 1e-5),
    act: act === 'gelu' ? 'gelu' : 'gelu_tanh',
    parallelResidual: false,
    rotary: null,
    embed,
    positions: r.t(p + 'wpe.weight', [P, D]),
    blocks,
    finalNorm: r.norm(p + 'ln_f', D, true),
    lmHead: r.opt('lm_head.weight', [V, D]) ?? embed,
  };
}

function neox(r: Reader): DecoderSpec {
  const L = r.int('num_hidden_layers');
  const H = r.int('num_attention_heads');
  const D = r.int('hidden_size');
  const V = r.int('vocab_size');
  const F = r.int('intermediate_size');
  const hd = D / H;
  const act = (r.c.hidden_act as string) ?? 'gelu';
  if (!['gelu', 'gelu_new', 'gelu_fast', 'gelu_pytorch_tanh'].includes(act)) r.fail('hidden_act', '"gelu"');
  const rp = (r.c.rope_parameters ?? {}) as Record<string, unknown>;
  const pct = r.num('rotary_pct', ((r.c.partial_rotary_factor ?? rp.partial_rotary_factor) as number) ?? 1);
  const rd = Math.floor(hd * pct);
  const theta = r.c.rotary_emb_base !== undefined ? r.num('rotary_emb_base') : r.num('rope_theta', 10000);
  const blocks: BlockWeights[] = [];
  for (let l = 0; l < L; l++) {
    const b = `gpt_neox.layers.${l}.`;
    blocks.push({
      ln1: r.norm(b + 'input_layernorm', D, true),
      ln2: r.norm(b + 'post_attention_layernorm', D, true),
      qkv: { kind: 'perHead', lin: r.lin(b + 'attention.query_key_value', 3 * D, D, 'outIn', 'optional') },
      o: r.lin(b + 'attention.dense', D, D, 'outIn', 'optional'),
      mlp: { kind: 'plain', fc: r.lin(b + 'mlp.dense_h_to_4h', F, D, 'outIn', true), proj: r.lin(b + 'mlp.dense_4h_to_h', D, F, 'outIn', true) },
    });
  }
  const embed = r.t('gpt_neox.embed_in.weight', [V, D]);
  return {
    ...base(r, 'gpt_neox', L, H, H, D, hd, V, r.int('max_position_embeddings', 2048)),
    norm: 'layer',
    eps: r.num('layer_norm_eps', 1e-5),
    act: act === 'gelu' ? 'gelu' : 'gelu_tanh',
    parallelResidual: r.c.use_parallel_residual !== false,
    rotary: rd > 0 ? { dims: rd, invFreq: scaledInvFreq(r, rd, theta) } : null,
    embed,
    positions: null,
    blocks,
    finalNorm: r.norm('gpt_neox.final_layer_norm', D, true),
    lmHead: r.opt('embed_out.weight', [V, D]) ?? embed,
  };
}

function llama(r: Reader, type: ModelType): DecoderSpec {
  const L = r.int('num_hidden_layers');
  const H = r.int('num_attention_heads');
  const KV = r.int('num_key_value_heads', H);
  const D = r.int('hidden_size');
  const V = r.int('vocab_size');
  const F = r.int('intermediate_size');
  const hd = r.int('head_dim', Math.floor(D / H));
  if (H % KV !== 0) r.fail('num_key_value_heads', `a divisor of num_attention_heads (${H})`);
  const act = (r.c.hidden_act as string) ?? 'silu';
  if (act !== 'silu') r.fail('hidden_act', '"silu"');
  const bias = type === 'qwen2' ? true : r.c.attention_bias === true;
  const blocks: BlockWeights[] = [];
  for (let l = 0; l < L; l++) {
    const b = `model.layers.${l}.`;
    blocks.push({
      ln1: r.norm(b + 'input_layernorm', D, false),
      ln2: r.norm(b + 'post_attention_layernorm', D, false),
      qkv: {
        kind: 'separate',
        q: r.lin(b + 'self_attn.q_proj', H * hd, D, 'outIn', bias),
        k: r.lin(b + 'self_attn.k_proj', KV * hd, D, 'outIn', bias),
        v: r.lin(b + 'self_attn.v_proj', KV * hd, D, 'outIn', bias),
      },
      o: r.lin(b + 'self_attn.o_proj', D, H * hd, 'outIn', r.c.attention_bias === true),
      mlp: {
        kind: 'gated',
        gate: r.lin(b + 'mlp.gate_proj', F, D, 'outIn', r.c.mlp_bias === true),
        up: r.lin(b + 'mlp.up_proj', F, D, 'outIn', r.c.mlp_bias === true),
        down: r.lin(b + 'mlp.down_proj', D, F, 'outIn', r.c.mlp_bias === true),
      },
    });
  }
  const embed = r.t('model.embed_tokens.weight', [V, D]);
  let P = r.int('max_position_embeddings', 2048);
  // Past the sliding window attention is no longer full: keep LM Probe's windows inside it.
  const sw = r.c.sliding_window;
  if (typeof sw === 'number' && sw > 0 && (type === 'mistral' || r.c.use_sliding_window === true)) P = Math.min(P, sw);
  return {
    ...base(r, type, L, H, KV, D, hd, V, P),
    norm: 'rms',
    eps: r.num('rms_norm_eps', 1e-6),
    act: 'silu',
    parallelResidual: false,
    rotary: { dims: hd, invFreq: scaledInvFreq(r, hd, r.num('rope_theta', 10000)) },
    embed,
    positions: null,
    blocks,
    finalNorm: r.norm('model.norm', D, false),
    lmHead: r.opt('lm_head.weight', [V, D]) ?? embed,
  };
}

function base(r: Reader, t: ModelType, layers: number, heads: number, kvHeads: number, width: number, headDim: number, vocabSize: number, maxPositions: number) {
  if (!Number.isInteger(headDim)) r.fail('num_attention_heads', `a divisor of the width ${width}`);
  return { modelType: t, family: FAMILIES[t], layers, heads, kvHeads, width, headDim, vocabSize, maxPositions, ...r.tokenIds(), dtype: r.dtype() };
}

/** Reads a Hugging Face config.json (already parsed) and finds every weight the graph needs. */
export function decoderSpec(dir: string, config: Config, weights: WeightSet): DecoderSpec {
  const t = config.model_type;
  if (!isSupportedModelType(t)) {
    const arch = Array.isArray(config.architectures) ? ` (${config.architectures.join(', ')})` : '';
    throw new ProbeError(
      'BAD_PACK',
      `model ${dir}: model_type ${JSON.stringify(t)}${arch} is not one LM Probe builds a graph for; supported: ${supportedList()}. ` +
        'Other architectures can be exported to a model pack with models/export_hf.py (docs/export-hf.md)',
    );
  }
  const r = new Reader(dir, config, weights);
  if (t === 'gpt2') return gpt2(r);
  if (t === 'gpt_neox') return neox(r);
  return llama(r, t);
}
