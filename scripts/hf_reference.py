"""Independent numpy reference (float64) for Hugging Face decoder checkpoints: GPT-2, GPT-NeoX (Pythia) and the
Llama family (llama, mistral, qwen2), plus a minimal safetensors reader and writer.

Written from the architecture papers and the transformers conventions for config.json and the checkpoints'
weight names and layouts (not from the TypeScript graph builder it checks):

  GPT-2      Conv1D weights are [in, out] (y = x @ W + b); c_attn's output splits into three D-blocks q | k | v;
             learned positions (wpe); pre-LayerNorm blocks; activation_function (gelu_new = tanh approximation,
             gelu = exact erf); lm_head tied to wte. Keys with or without the "transformer." prefix.
  GPT-NeoX   nn.Linear weights [out, in] (y = x @ W.T + b); query_key_value's output is viewed as
             [.., heads, 3*head_dim] and split per head into q, k, v; rotary on the first
             int(head_dim * rotary_pct) dims (rotate_half convention); parallel or sequential residual;
             untied embed_out.
  Llama      RMSNorm; q/k/v/o projections (qwen2: q, k, v biases); grouped-query attention
             (query head h reads kv head h // (heads / kv_heads)); rotary on the full head_dim with rope_theta and
             optional rope_scaling (llama3, linear); SwiGLU MLP down(silu(gate(x)) * up(x)); lm_head or tied.

forward() returns logits [S, V], hidden [L+1, S, D] (hidden[0] = embedding output, hidden[l] = residual stream
after block l, BEFORE the final norm) and attentions [L, H, S, S] (post-softmax, causal).

Usage as a module:  cfg, w = load_folder(path); out = forward(cfg, w, ids)
"""
import json
import math
import os
import struct

import numpy as np

# ---------------------------------------------------------------------------------------------------------------
# safetensors

_DTYPES = {'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32,
           'U8': np.uint8, 'I8': np.int8, 'BOOL': np.bool_}


def f32_to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns (uint16), round to nearest, ties to even (finite inputs)."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


_ITEMSIZE = {'F64': 8, 'F32': 4, 'F16': 2, 'BF16': 2}


def encode_tensor(a, dtype):
    """(bytes, shape) of array a stored as dtype 'F32' | 'F16' | 'BF16' (little-endian)."""
    a = np.asarray(a)
    if dtype == 'BF16':
        return f32_to_bf16_bits(a.astype(np.float32)).astype('<u2').tobytes(), list(a.shape)
    if dtype == 'F32':
        return a.astype('<f4').tobytes(), list(a.shape)
    if dtype == 'F16':
        return a.astype('<f2').tobytes(), list(a.shape)
    raise ValueError(f'unsupported dtype {dtype}')


def write_safetensors(path, tensors, metadata=None):
    """tensors: list or dict of name -> (array, dtype). The JSON header is padded with spaces to a multiple of
    8 bytes, as the reference implementation does. Returns the size of the data section."""
    items = list(tensors.items()) if isinstance(tensors, dict) else list(tensors)
    # as the safetensors library: larger dtypes first, then by name, so that every tensor is aligned to its size
    items.sort(key=lambda kv: (-_ITEMSIZE[kv[1][1]], kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, (arr, dtype) in items:
        data, shape = encode_tensor(arr, dtype)
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hjson += b' ' * ((8 - len(hjson) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    return offset


def read_safetensors(path):
    """name -> (float64 array widened from the stored dtype, stored dtype string); also checks the layout."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    base = 8 + n
    out, spans = {}, []
    for name, info in header.items():
        if name == '__metadata__':
            continue
        b, e = info['data_offsets']
        spans.append((b, e))
        buf = raw[base + b:base + e]
        count = int(np.prod(info['shape'])) if info['shape'] else 1
        if info['dtype'] == 'BF16':
            arr = bf16_bits_to_f32(np.frombuffer(buf, dtype='<u2'))
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(_DTYPES[info['dtype']]).newbyteorder('<'))
        assert arr.size == count, (name, arr.size, count)
        out[name] = (arr.reshape(info['shape']).astype(np.float64), info['dtype'])
    spans.sort()
    pos = 0
    for b, e in spans:  # contiguous, non-overlapping, covering the whole data section
        assert b == pos, (path, b, pos)
        pos = e
    assert base + pos == len(raw), (path, base + pos, len(raw))
    return out


def load_folder(folder):
    """(config dict, {name: float64 array}, {name: dtype}) from a Hugging Face model folder, sharded or not."""
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    index = os.path.join(folder, 'model.safetensors.index.json')
    if os.path.exists(index):
        with open(index) as f:
            wm = json.load(f)['weight_map']
        files = sorted(set(wm.values()))
    else:
        wm, files = None, ['model.safetensors']
    weights, dtypes = {}, {}
    for fn in files:
        for name, (arr, dt) in read_safetensors(os.path.join(folder, fn)).items():
            assert name not in weights, f'{name} in two shards'
            if wm is not None:
                assert wm.get(name) == fn, f'{name} is in {fn} but the index says {wm.get(name)}'
            weights[name], dtypes[name] = arr, dt
    if wm is not None:
        assert set(wm) == set(weights), 'index weight_map and shards disagree'
    return cfg, weights, dtypes


# ---------------------------------------------------------------------------------------------------------------
# building blocks (float64)

def gelu_exact(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


ACT = {
    'gelu': gelu_exact,
    'gelu_new': gelu_tanh,
    'gelu_pytorch_tanh': gelu_tanh,
    'gelu_fast': lambda x: 0.5 * x * (1.0 + np.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    'quick_gelu': lambda x: x / (1.0 + np.exp(-1.702 * x)),
    'relu': lambda x: np.maximum(x, 0.0),
    'silu': silu,
    'swish': silu,
}


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def linear(x, w, b=None):
    """nn.Linear: w is [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def conv1d(x, w, b):
    """GPT-2 Conv1D: w is [in, out]."""
    return x @ w + b


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def default_inv_freq(base, dim):
    return 1.0 / (float(base) ** (np.arange(0, dim, 2, dtype=np.float64) / dim))


def llama3_inv_freq(inv_freq, rs):
    """transformers' _compute_llama3_parameters (Llama 3.1 rope_scaling)."""
    factor = rs['factor']
    low_freq_factor = rs['low_freq_factor']
    high_freq_factor = rs['high_freq_factor']
    old_context_len = rs['original_max_position_embeddings']
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(is_medium, smoothed, inv_freq_llama)


def rope_inv_freq(base, dim, rope_scaling):
    inv = default_inv_freq(base, dim)
    if not rope_scaling:
        return inv
    kind = rope_scaling.get('rope_type', rope_scaling.get('type', 'default'))
    if kind == 'default':
        return inv
    if kind == 'llama3':
        return llama3_inv_freq(inv, rope_scaling)
    if kind == 'linear':
        return inv / rope_scaling['factor']
    raise NotImplementedError(f'rope_scaling type {kind}')


def apply_rope(x, inv_freq, positions):
    """x [H, S, d] with d == 2 * len(inv_freq); rotate_half convention (first half / second half)."""
    freqs = np.outer(positions.astype(np.float64), inv_freq)  # [S, d/2]
    emb = np.concatenate([freqs, freqs], axis=-1)  # [S, d]
    return x * np.cos(emb) + rotate_half(x) * np.sin(emb)


def attention(q, k, v, scale, sliding_window=None):
    """q [H, S, d]; k, v [KV, S, d] with H % KV == 0 (query head h reads kv head h // (H / KV)).
    Returns (out [H, S, d], probs [H, S, S])."""
    H, S, _ = q.shape
    KV = k.shape[0]
    assert H % KV == 0
    rep = H // KV
    k = np.repeat(k, rep, axis=0)
    v = np.repeat(v, rep, axis=0)
    scores = np.einsum('hid,hjd->hij', q, k) * scale
    i = np.arange(S)[:, None]
    j = np.arange(S)[None, :]
    allowed = j <= i
    if sliding_window is not None:
        allowed = allowed & (i - j < sliding_window)
    scores = np.where(allowed[None], scores, -np.inf)
    scores = scores - scores.max(-1, keepdims=True)
    p = np.exp(scores)
    p = p / p.sum(-1, keepdims=True)
    return np.einsum('hij,hjd->hid', p, v), p


def split_heads(x, n, d):
    """[S, n*d] -> [n, S, d]"""
    return x.reshape(x.shape[0], n, d).transpose(1, 0, 2)


def merge_heads(x):
    """[n, S, d] -> [S, n*d]"""
    return x.transpose(1, 0, 2).reshape(x.shape[1], -1)


# ---------------------------------------------------------------------------------------------------------------
# architectures

def _tied(cfg, default):
    return cfg.get('tie_word_embeddings', default)


def gpt2_forward(cfg, w, ids):
    w = {(k[len('transformer.'):] if k.startswith('transformer.') else k): v for k, v in w.items()}
    D, H, L = cfg['n_embd'], cfg['n_head'], cfg['n_layer']
    hd = D // H
    eps = cfg.get('layer_norm_epsilon', 1e-5)
    act = ACT[cfg.get('activation_function', 'gelu_new')]
    ids = np.asarray(ids)
    S = len(ids)
    assert S <= cfg['n_positions']
    x = w['wte.weight'][ids] + w['wpe.weight'][np.arange(S)]
    hidden, atts = [x], []
    for l in range(L):
        p = f'h.{l}.'
        a = layer_norm(x, w[p + 'ln_1.weight'], w[p + 'ln_1.bias'], eps)
        qkv = conv1d(a, w[p + 'attn.c_attn.weight'], w[p + 'attn.c_attn.bias'])
        q, k, v = (split_heads(t, H, hd) for t in np.split(qkv, 3, axis=-1))  # three D-blocks
        o, pr = attention(q, k, v, 1.0 / math.sqrt(hd))
        x = x + conv1d(merge_heads(o), w[p + 'attn.c_proj.weight'], w[p + 'attn.c_proj.bias'])
        m = layer_norm(x, w[p + 'ln_2.weight'], w[p + 'ln_2.bias'], eps)
        m = act(conv1d(m, w[p + 'mlp.c_fc.weight'], w[p + 'mlp.c_fc.bias']))
        x = x + conv1d(m, w[p + 'mlp.c_proj.weight'], w[p + 'mlp.c_proj.bias'])
        hidden.append(x)
        atts.append(pr)
    head = w['wte.weight'] if _tied(cfg, True) or 'lm_head.weight' not in w else w['lm_head.weight']
    logits = layer_norm(x, w['ln_f.weight'], w['ln_f.bias'], eps) @ head.T
    return {'logits': logits, 'hidden': np.stack(hidden), 'attentions': np.stack(atts)}


def neox_rope_base(cfg):
    if 'rotary_emb_base' in cfg:
        return cfg['rotary_emb_base']
    if 'rope_theta' in cfg:
        return cfg['rope_theta']
    return 10000


def neox_forward(cfg, w, ids):
    D, H, L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
    hd = D // H
    eps = cfg.get('layer_norm_eps', 1e-5)
    act = ACT[cfg.get('hidden_act', 'gelu')]
    pct = cfg.get('rotary_pct', cfg.get('partial_rotary_factor', 0.25))
    rot = int(hd * pct)
    inv_freq = rope_inv_freq(neox_rope_base(cfg), rot, cfg.get('rope_scaling'))
    parallel = cfg.get('use_parallel_residual', True)
    ids = np.asarray(ids)
    S = len(ids)
    pos = np.arange(S)
    pre = 'gpt_neox.'
    x = w[pre + 'embed_in.weight'][ids]
    hidden, atts = [x], []

    def b(name):
        return w.get(name)

    for l in range(L):
        p = f'{pre}layers.{l}.'
        a = layer_norm(x, w[p + 'input_layernorm.weight'], w[p + 'input_layernorm.bias'], eps)
        qkv = linear(a, w[p + 'attention.query_key_value.weight'], b(p + 'attention.query_key_value.bias'))
        qkv = qkv.reshape(S, H, 3 * hd).transpose(1, 0, 2)  # [H, S, 3*hd], split per head
        q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
        q = np.concatenate([apply_rope(q[..., :rot], inv_freq, pos), q[..., rot:]], axis=-1)
        k = np.concatenate([apply_rope(k[..., :rot], inv_freq, pos), k[..., rot:]], axis=-1)
        o, pr = attention(q, k, v, 1.0 / math.sqrt(hd))
        attn_out = linear(merge_heads(o), w[p + 'attention.dense.weight'], b(p + 'attention.dense.bias'))

        def mlp(h):
            h = layer_norm(h, w[p + 'post_attention_layernorm.weight'], w[p + 'post_attention_layernorm.bias'], eps)
            h = act(linear(h, w[p + 'mlp.dense_h_to_4h.weight'], w[p + 'mlp.dense_h_to_4h.bias']))
            return linear(h, w[p + 'mlp.dense_4h_to_h.weight'], w[p + 'mlp.dense_4h_to_h.bias'])

        if parallel:
            x = x + attn_out + mlp(x)
        else:
            x = x + attn_out
            x = x + mlp(x)
        hidden.append(x)
        atts.append(pr)
    f = layer_norm(x, w[pre + 'final_layer_norm.weight'], w[pre + 'final_layer_norm.bias'], eps)
    head = w['embed_out.weight'] if 'embed_out.weight' in w and not _tied(cfg, False) else w[pre + 'embed_in.weight']
    return {'logits': f @ head.T, 'hidden': np.stack(hidden), 'attentions': np.stack(atts)}


def llama_head_dim(cfg):
    return cfg.get('head_dim') or cfg['hidden_size'] // cfg['num_attention_heads']


def llama_inv_freq(cfg):
    hd = llama_head_dim(cfg)
    dim = int(hd * cfg.get('partial_rotary_factor', 1.0))
    return rope_inv_freq(cfg.get('rope_theta', 10000.0), dim, cfg.get('rope_scaling'))


def llama_forward(cfg, w, ids):
    mt = cfg['model_type']
    D, H, L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
    KV = cfg.get('num_key_value_heads') or H
    hd = llama_head_dim(cfg)
    eps = cfg.get('rms_norm_eps', 1e-6)
    act = ACT[cfg.get('hidden_act', 'silu')]
    inv_freq = llama_inv_freq(cfg)
    assert len(inv_freq) * 2 == hd, 'partial rotary is not used by these families'
    window = None
    if mt == 'mistral':
        window = cfg.get('sliding_window')
    elif mt == 'qwen2' and cfg.get('use_sliding_window'):
        raise NotImplementedError('qwen2 use_sliding_window')
    ids = np.asarray(ids)
    S = len(ids)
    pos = np.arange(S)
    x = w['model.embed_tokens.weight'][ids]
    hidden, atts = [x], []
    for l in range(L):
        p = f'model.layers.{l}.'
        a = rms_norm(x, w[p + 'input_layernorm.weight'], eps)
        q = split_heads(linear(a, w[p + 'self_attn.q_proj.weight'], w.get(p + 'self_attn.q_proj.bias')), H, hd)
        k = split_heads(linear(a, w[p + 'self_attn.k_proj.weight'], w.get(p + 'self_attn.k_proj.bias')), KV, hd)
        v = split_heads(linear(a, w[p + 'self_attn.v_proj.weight'], w.get(p + 'self_attn.v_proj.bias')), KV, hd)
        q, k = apply_rope(q, inv_freq, pos), apply_rope(k, inv_freq, pos)
        o, pr = attention(q, k, v, 1.0 / math.sqrt(hd), window)
        x = x + linear(merge_heads(o), w[p + 'self_attn.o_proj.weight'], w.get(p + 'self_attn.o_proj.bias'))
        m = rms_norm(x, w[p + 'post_attention_layernorm.weight'], eps)
        m = act(linear(m, w[p + 'mlp.gate_proj.weight'])) * linear(m, w[p + 'mlp.up_proj.weight'])
        x = x + linear(m, w[p + 'mlp.down_proj.weight'])
        hidden.append(x)
        atts.append(pr)
    f = rms_norm(x, w['model.norm.weight'], eps)
    if _tied(cfg, False):
        head = w['model.embed_tokens.weight']
    else:
        head = w['lm_head.weight']
    return {'logits': f @ head.T, 'hidden': np.stack(hidden), 'attentions': np.stack(atts)}


FORWARD = {'gpt2': gpt2_forward, 'gpt_neox': neox_forward, 'llama': llama_forward, 'mistral': llama_forward,
           'qwen2': llama_forward}


def forward(cfg, weights, ids):
    """ids: 1-D token ids (one sequence). Returns float64 logits [S,V], hidden [L+1,S,D], attentions [L,H,S,S]."""
    return FORWARD[cfg['model_type']](cfg, weights, ids)


def forward_folder(folder, ids):
    cfg, w, _ = load_folder(folder)
    return forward(cfg, w, ids)
