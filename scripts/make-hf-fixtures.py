#!/usr/bin/python3
"""Writes small random-weight Hugging Face model folders under test/fixtures/hf/ with reference outputs
(run with Debian's /usr/bin/python3: it needs only numpy).

  gpt2-tiny          gpt2, fp32, keys with the "transformer." prefix (as save_pretrained writes them), gelu_new
  gpt2-noprefix-f16  gpt2, fp16, keys without the prefix (as the original openai-community/gpt2 checkpoint),
                     explicit n_inner, and the old checkpoints' float32 causal-mask buffers h.{i}.attn.bias
                     [1,1,n_positions,n_positions] that a loader must ignore
  neox-tiny          gpt_neox, fp32, parallel residual, rotary_pct 0.25, Pythia-style config (rotary_emb_base)
  neox-seq-bf16      gpt_neox, bf16, sequential residual, rotary_pct 1.0, rotary base 25000 written as a newer
                     transformers writes it (rotary_emb_base and rope_theta, rotary_pct and partial_rotary_factor),
                     sharded in two files with model.safetensors.index.json
  llama-gqa          llama, fp32, 4 heads / 2 kv heads, untied lm_head, rope_theta 500000 and llama3 rope_scaling
                     whose original_max_position_embeddings puts the head_dim's frequencies in all three bands
  qwen2-tiny         qwen2, fp16, q/k/v biases, tied embeddings, rope_theta 1e6, 4 heads / 1 kv head
  mistral-tiny       mistral, fp32, 4 heads / 2 kv heads, explicit head_dim 8 != hidden_size / heads (as in
                     Mistral-Nemo), sliding_window 4096 (larger than the test length)

Every folder has config.json, model.safetensors (or shards), tokenizer.json (copied from
test/fixtures/tiny-gpt, vocabulary 269, <|bos|> = 0, so bos_token_id = eos_token_id = 0 everywhere) and
reference.json:
  inputIds      [[13 ids]], the first one the config's bos_token_id
  logits        flat [1, S, V]
  hiddenStates  flat [L+1, 1, S, D]: [0] the embedding output (gpt2: wte + wpe), [l] the residual stream after
                block l, BEFORE the final norm (transformers' output_hidden_states normalises its last entry; this
                does not)
  attentions    flat [L, 1, H, S, S]: post-softmax probabilities with the causal mask, H = query heads
  shapes        the shapes above (the layout of the lm-probe pack graph contract, batch 1)
computed by scripts/hf_reference.py (float64) from the weights read back from the written files (fp16 / bf16
widened), rounded to 7 significant digits.

Deterministic (fixed seeds). Usage: /usr/bin/python3 scripts/make-hf-fixtures.py
"""
import json
import math
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, HERE)
import hf_reference as ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hf')
TOKENIZER = os.path.join(ROOT, 'test', 'fixtures', 'tiny-gpt', 'tokenizer.json')
V = 269
S = 13
TRANSFORMERS_VERSION = '4.46.3'
TORCH_DTYPE = {'F32': 'float32', 'F16': 'float16', 'BF16': 'bfloat16'}


class Gen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def mat(self, *shape):
        return self.rng.normal(0.0, 0.2, size=shape).astype(np.float32)

    def norm(self, n):
        return (1.0 + 0.1 * self.rng.normal(size=n)).astype(np.float32)

    def bias(self, n):
        return (0.1 * self.rng.normal(size=n)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# weights (float32 masters, stored in the folder's dtype)

def gpt2_weights(g, c, prefix):
    D, L, P = c['n_embd'], c['n_layer'], c['n_positions']
    inner = c['n_inner'] or 4 * D
    t = {'wte.weight': g.mat(V, D), 'wpe.weight': g.mat(P, D)}
    for l in range(L):
        p = f'h.{l}.'
        t[p + 'ln_1.weight'], t[p + 'ln_1.bias'] = g.norm(D), g.bias(D)
        t[p + 'attn.c_attn.weight'], t[p + 'attn.c_attn.bias'] = g.mat(D, 3 * D), g.bias(3 * D)  # Conv1D [in, out]
        t[p + 'attn.c_proj.weight'], t[p + 'attn.c_proj.bias'] = g.mat(D, D), g.bias(D)
        t[p + 'ln_2.weight'], t[p + 'ln_2.bias'] = g.norm(D), g.bias(D)
        t[p + 'mlp.c_fc.weight'], t[p + 'mlp.c_fc.bias'] = g.mat(D, inner), g.bias(inner)
        t[p + 'mlp.c_proj.weight'], t[p + 'mlp.c_proj.bias'] = g.mat(inner, D), g.bias(D)
    t['ln_f.weight'], t['ln_f.bias'] = g.norm(D), g.bias(D)
    return {prefix + k: v for k, v in t.items()}


def neox_weights(g, c):
    D, L, I = c['hidden_size'], c['num_hidden_layers'], c['intermediate_size']
    t = {'gpt_neox.embed_in.weight': g.mat(V, D)}
    for l in range(L):
        p = f'gpt_neox.layers.{l}.'
        t[p + 'input_layernorm.weight'], t[p + 'input_layernorm.bias'] = g.norm(D), g.bias(D)
        t[p + 'post_attention_layernorm.weight'], t[p + 'post_attention_layernorm.bias'] = g.norm(D), g.bias(D)
        t[p + 'attention.query_key_value.weight'] = g.mat(3 * D, D)  # nn.Linear [out, in]
        t[p + 'attention.query_key_value.bias'] = g.bias(3 * D)
        t[p + 'attention.dense.weight'], t[p + 'attention.dense.bias'] = g.mat(D, D), g.bias(D)
        t[p + 'mlp.dense_h_to_4h.weight'], t[p + 'mlp.dense_h_to_4h.bias'] = g.mat(I, D), g.bias(I)
        t[p + 'mlp.dense_4h_to_h.weight'], t[p + 'mlp.dense_4h_to_h.bias'] = g.mat(D, I), g.bias(D)
    t['gpt_neox.final_layer_norm.weight'], t['gpt_neox.final_layer_norm.bias'] = g.norm(D), g.bias(D)
    t['embed_out.weight'] = g.mat(V, D)
    return t


def llama_weights(g, c, qkv_bias):
    D, L, I = c['hidden_size'], c['num_hidden_layers'], c['intermediate_size']
    H = c['num_attention_heads']
    KV = c['num_key_value_heads']
    hd = ref.llama_head_dim(c)
    t = {'model.embed_tokens.weight': g.mat(V, D)}
    for l in range(L):
        p = f'model.layers.{l}.'
        t[p + 'input_layernorm.weight'] = g.norm(D)
        t[p + 'self_attn.q_proj.weight'] = g.mat(H * hd, D)
        t[p + 'self_attn.k_proj.weight'] = g.mat(KV * hd, D)
        t[p + 'self_attn.v_proj.weight'] = g.mat(KV * hd, D)
        if qkv_bias:
            t[p + 'self_attn.q_proj.bias'] = g.bias(H * hd)
            t[p + 'self_attn.k_proj.bias'] = g.bias(KV * hd)
            t[p + 'self_attn.v_proj.bias'] = g.bias(KV * hd)
        t[p + 'self_attn.o_proj.weight'] = g.mat(D, H * hd)
        t[p + 'post_attention_layernorm.weight'] = g.norm(D)
        t[p + 'mlp.gate_proj.weight'] = g.mat(I, D)
        t[p + 'mlp.up_proj.weight'] = g.mat(I, D)
        t[p + 'mlp.down_proj.weight'] = g.mat(D, I)
    t['model.norm.weight'] = g.norm(D)
    if not c['tie_word_embeddings']:
        t['lm_head.weight'] = g.mat(V, D)
    return t


# ---------------------------------------------------------------------------------------------------------------
# configs, as transformers' save_pretrained writes them (sorted keys, indent 2)

def gpt2_config(D, H, L, P, inner, dtype, act='gelu_new'):
    return {
        'activation_function': act, 'architectures': ['GPT2LMHeadModel'], 'attn_pdrop': 0.1, 'bos_token_id': 0,
        'embd_pdrop': 0.1, 'eos_token_id': 0, 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-05,
        'model_type': 'gpt2', 'n_ctx': P, 'n_embd': D, 'n_head': H, 'n_inner': inner, 'n_layer': L,
        'n_positions': P, 'reorder_and_upcast_attn': False, 'resid_pdrop': 0.1, 'scale_attn_by_inverse_layer_idx': False,
        'scale_attn_weights': True, 'summary_activation': None, 'summary_first_dropout': 0.1,
        'summary_proj_to_labels': True, 'summary_type': 'cls_index', 'summary_use_proj': True,
        'torch_dtype': TORCH_DTYPE[dtype], 'transformers_version': TRANSFORMERS_VERSION, 'use_cache': True,
        'vocab_size': V,
    }


def neox_config(D, H, L, I, pct, parallel, dtype, base, newer):
    c = {
        'architectures': ['GPTNeoXForCausalLM'], 'bos_token_id': 0, 'classifier_dropout': 0.1, 'eos_token_id': 0,
        'hidden_act': 'gelu', 'hidden_size': D, 'initializer_range': 0.02, 'intermediate_size': I,
        'layer_norm_eps': 1e-05, 'max_position_embeddings': 2048, 'model_type': 'gpt_neox',
        'num_attention_heads': H, 'num_hidden_layers': L, 'rotary_emb_base': base, 'rotary_pct': pct,
        'tie_word_embeddings': False, 'torch_dtype': TORCH_DTYPE[dtype], 'transformers_version': '4.24.0',
        'use_cache': True, 'use_parallel_residual': parallel, 'vocab_size': V,
    }
    if newer:  # transformers >= 4.45 also writes these
        c.update({'attention_bias': True, 'attention_dropout': 0.0, 'hidden_dropout': 0.0,
                  'partial_rotary_factor': pct, 'rope_scaling': None, 'rope_theta': base,
                  'transformers_version': TRANSFORMERS_VERSION})
    return c


def llama_family_config(mt, D, H, KV, L, I, dtype, tie, theta, eps, **extra):
    arch = {'llama': 'LlamaForCausalLM', 'mistral': 'MistralForCausalLM', 'qwen2': 'Qwen2ForCausalLM'}[mt]
    c = {
        'architectures': [arch], 'attention_dropout': 0.0, 'bos_token_id': 0, 'eos_token_id': 0,
        'hidden_act': 'silu', 'hidden_size': D, 'initializer_range': 0.02, 'intermediate_size': I,
        'max_position_embeddings': 2048, 'model_type': mt, 'num_attention_heads': H, 'num_hidden_layers': L,
        'num_key_value_heads': KV, 'rms_norm_eps': eps, 'rope_scaling': None, 'rope_theta': theta,
        'tie_word_embeddings': tie, 'torch_dtype': TORCH_DTYPE[dtype], 'transformers_version': TRANSFORMERS_VERSION,
        'use_cache': True, 'vocab_size': V,
    }
    if mt == 'llama':
        c.update({'attention_bias': False, 'head_dim': D // H, 'mlp_bias': False, 'pretraining_tp': 1})
    c.update(extra)
    return c


# ---------------------------------------------------------------------------------------------------------------

def rounded(a, dtype):
    """What the file holds for float32 array a stored as dtype, widened to float64."""
    if dtype == 'F32':
        return a.astype(np.float64)
    if dtype == 'F16':
        return a.astype(np.float16).astype(np.float64)
    return ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(a)).astype(np.float64)


def r7(a):
    return [float(f'{x:.7g}') for x in np.asarray(a, dtype=np.float64).ravel()]


def write_json(path, obj, **kw):
    with open(path, 'w') as f:
        json.dump(obj, f, **kw)
        f.write('\n')


def write_folder(name, cfg, tensors, dtype, shards=None, extra=None):
    """tensors: name -> float32 master; extra: name -> (array, dtype) stored as is (buffers)."""
    d = os.path.join(OUT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    write_json(os.path.join(d, 'config.json'), cfg, indent=2, sort_keys=True)
    shutil.copyfile(TOKENIZER, os.path.join(d, 'tokenizer.json'))
    stored = {k: (v, dtype) for k, v in tensors.items()}
    stored.update(extra or {})
    meta = {'format': 'pt'}
    if shards is None:
        ref.write_safetensors(os.path.join(d, 'model.safetensors'), stored, meta)
    else:
        n = len(shards)
        wm, total = {}, 0
        for i, names in enumerate(shards):
            fn = f'model-{i + 1:05d}-of-{n:05d}.safetensors'
            total += ref.write_safetensors(os.path.join(d, fn), {k: stored[k] for k in names}, meta)
            wm.update({k: fn for k in names})
        assert set(wm) == set(stored), 'shards must cover every tensor exactly once'
        write_json(os.path.join(d, 'model.safetensors.index.json'),
                   {'metadata': {'total_size': total}, 'weight_map': dict(sorted(wm.items()))}, indent=2)
    return d


def input_ids(cfg, seed):
    rng = np.random.default_rng(seed)
    return [int(cfg['bos_token_id'])] + [int(x) for x in rng.integers(1, V, size=S - 1)]


def check_common(name, cfg, w, dtypes, masters, dtype, out, ids):
    """Self-consistency of the reference on one fixture."""
    L = out['hidden'].shape[0] - 1
    # the reference sees exactly the stored (rounded) weights
    for k, m in masters.items():
        assert dtypes[k] == dtype, (name, k, dtypes[k])
        assert np.array_equal(w[k], rounded(m, dtype)), (name, k)
        if dtype != 'F32':
            assert not np.array_equal(w[k], m.astype(np.float64)) or m.size < 4, (name, k, 'not rounded?')
    # attention: rows sum to 1, causal (zero above the diagonal), non-trivial
    a = out['attentions']
    assert np.allclose(a.sum(-1), 1.0, atol=1e-12), name
    assert np.all(np.triu(a, 1) == 0.0), name
    assert np.all(a[..., 0, 0] == 1.0), name
    assert a[..., -1, :].max() < 0.999, name
    # logits far from uniform
    lg = out['logits']
    p = np.exp(lg - lg.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    assert p.max(-1).mean() > 5.0 / V and lg.std() > 0.5, (name, p.max(-1).mean(), lg.std())
    assert out['hidden'].shape == (L + 1, len(ids), out['hidden'].shape[2])
    # causality: changing the last token leaves every earlier position unchanged
    ids2 = list(ids)
    ids2[-1] = (ids2[-1] % (V - 1)) + 1
    out2 = ref.forward(cfg, w, ids2)
    assert np.allclose(out2['logits'][:-1], lg[:-1], rtol=0, atol=1e-12), name
    assert not np.allclose(out2['logits'][-1], lg[-1]), name
    # running on a prefix gives the prefix of the outputs
    out3 = ref.forward(cfg, w, ids[:7])
    assert np.allclose(out3['logits'], lg[:7], rtol=0, atol=1e-10), name
    assert np.allclose(out3['attentions'], a[..., :7, :7], rtol=0, atol=1e-12), name


def check_tied(name, cfg, w, out, embed_key, norm):
    """Tied models: logits = final_norm(h_L) @ embedding.T."""
    x = out['hidden'][-1]
    assert np.allclose(norm(x) @ w[embed_key].T, out['logits'], rtol=0, atol=1e-10), name


def finish(name, d, cfg, ids, out, checks=()):
    L, _, D = out['hidden'].shape[0] - 1, None, out['hidden'].shape[2]
    H = out['attentions'].shape[1]
    Sx = len(ids)
    refj = {
        'note': 'scripts/hf_reference.py (float64) on the stored weights; logits [1,S,V], hiddenStates [L+1,1,S,D] '
                '(0: embedding output; l: residual stream after block l, before the final norm), attentions '
                '[L,1,H,S,S] post-softmax with the causal mask; 7 significant digits',
        'modelType': cfg['model_type'],
        'inputIds': [ids],
        'shapes': {'inputIds': [1, Sx], 'logits': [1, Sx, V], 'hiddenStates': [L + 1, 1, Sx, D],
                   'attentions': [L, 1, H, Sx, Sx]},
        'logits': r7(out['logits']),
        'hiddenStates': r7(out['hidden']),
        'attentions': r7(out['attentions']),
    }
    write_json(os.path.join(d, 'reference.json'), refj, separators=(',', ':'))
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f'{name:20s} {cfg["model_type"]:9s} L={L} H={H} D={D} bytes={size}')
    assert size < 220_000, (name, size)


# ---------------------------------------------------------------------------------------------------------------
# fixtures

def make_gpt2(name, seed, D, H, L, P, inner, dtype, prefix, mask_buffers):
    g = Gen(seed)
    cfg = gpt2_config(D, H, L, P, inner, dtype)
    masters = gpt2_weights(g, cfg, prefix)
    extra = {}
    if mask_buffers:
        tril = np.tril(np.ones((P, P), dtype=np.float32)).reshape(1, 1, P, P)
        extra = {f'{prefix}h.{l}.attn.bias': (tril, 'F32') for l in range(L)}
    d = write_folder(name, cfg, masters, dtype, extra=extra)
    rcfg, w, dtypes = ref.load_folder(d)
    assert ('lm_head.weight' not in w) and rcfg == cfg
    masters_only = {k: v for k, v in masters.items()}
    ids = input_ids(cfg, seed)
    out = ref.forward(rcfg, w, ids)
    check_common(name, rcfg, w, {k: dtypes[k] for k in masters}, masters_only, dtype, out, ids)
    eps = cfg['layer_norm_epsilon']
    check_tied(name, rcfg, w, out, prefix + 'wte.weight',
               lambda x: ref.layer_norm(x, w[prefix + 'ln_f.weight'], w[prefix + 'ln_f.bias'], eps))
    # hidden[0] = wte + wpe
    assert np.allclose(out['hidden'][0], w[prefix + 'wte.weight'][ids] + w[prefix + 'wpe.weight'][:len(ids)])
    # gelu_new differs from exact gelu enough to matter
    other = ref.forward(dict(rcfg, activation_function='gelu'), w, ids)
    assert np.abs(other['logits'] - out['logits']).max() > 1e-4, name
    finish(name, d, cfg, ids, out)


def make_neox(name, seed, D, H, L, I, pct, parallel, dtype, base, newer, sharded):
    g = Gen(seed)
    cfg = neox_config(D, H, L, I, pct, parallel, dtype, base, newer)
    masters = neox_weights(g, cfg)
    shards = None
    if sharded:
        first = [k for k in masters if k.startswith('gpt_neox.embed_in.') or k.startswith('gpt_neox.layers.0.')]
        shards = [first, [k for k in masters if k not in first]]
    d = write_folder(name, cfg, masters, dtype, shards=shards)
    rcfg, w, dtypes = ref.load_folder(d)
    ids = input_ids(cfg, seed)
    out = ref.forward(rcfg, w, ids)
    check_common(name, rcfg, w, dtypes, masters, dtype, out, ids)
    hd = D // H
    rot = int(hd * pct)
    assert rot % 2 == 0 and rot > 0
    # the per-head [q|k|v] split matters: a three-D-block split gives different outputs
    wb = dict(w)
    for l in range(L):
        k = f'gpt_neox.layers.{l}.attention.query_key_value.'
        perm = np.arange(3 * D).reshape(H, 3, hd).transpose(1, 0, 2).ravel()  # block row r <- per-head row perm[r]
        wb[k + 'weight'], wb[k + 'bias'] = w[k + 'weight'][perm], w[k + 'bias'][perm]
    alt = ref.forward(rcfg, wb, ids)
    assert np.abs(alt['logits'] - out['logits']).max() > 1e-3, name
    # the residual wiring matters
    alt = ref.forward(dict(rcfg, use_parallel_residual=not parallel), w, ids)
    assert np.abs(alt['logits'] - out['logits']).max() > 1e-3, name
    # the rotary base is read (from rotary_emb_base; rope_theta agrees when present)
    if 'rope_theta' in rcfg:
        assert rcfg['rope_theta'] == rcfg['rotary_emb_base']
    alt = ref.forward(dict(rcfg, rotary_emb_base=10000 if base != 10000 else 500), w, ids)
    assert np.abs(alt['logits'] - out['logits']).max() > 1e-4, name
    finish(name, d, cfg, ids, out)


def naive_gqa_attention(q, k, v, scale):
    """Loop version of grouped-query causal attention (query head h uses kv head h // (H / KV))."""
    H, Sx, _ = q.shape
    KV = k.shape[0]
    out = np.zeros_like(q)
    probs = np.zeros((H, Sx, Sx))
    for h in range(H):
        kvh = h // (H // KV)
        for i in range(Sx):
            s = np.array([q[h, i] @ k[kvh, j] * scale for j in range(i + 1)])
            e = np.exp(s - s.max())
            pr = e / e.sum()
            probs[h, i, :i + 1] = pr
            out[h, i] = sum(pr[j] * v[kvh, j] for j in range(i + 1))
    return out, probs


def make_llama(name, seed, mt, D, H, KV, L, I, dtype, tie, theta, eps, qkv_bias, **extra):
    g = Gen(seed)
    cfg = llama_family_config(mt, D, H, KV, L, I, dtype, tie, theta, eps, **extra)
    masters = llama_weights(g, cfg, qkv_bias)
    d = write_folder(name, cfg, masters, dtype)
    rcfg, w, dtypes = ref.load_folder(d)
    assert ('lm_head.weight' in w) == (not tie)
    ids = input_ids(cfg, seed)
    out = ref.forward(rcfg, w, ids)
    check_common(name, rcfg, w, dtypes, masters, dtype, out, ids)
    if tie:
        check_tied(name, rcfg, w, out, 'model.embed_tokens.weight',
                   lambda x: ref.rms_norm(x, w['model.norm.weight'], eps))
    hd = ref.llama_head_dim(rcfg)
    # GQA against a loop implementation, on the first layer's real q, k, v
    x = ref.rms_norm(w['model.embed_tokens.weight'][ids], w['model.layers.0.input_layernorm.weight'], eps)
    p = 'model.layers.0.self_attn.'
    q = ref.split_heads(ref.linear(x, w[p + 'q_proj.weight'], w.get(p + 'q_proj.bias')), H, hd)
    k = ref.split_heads(ref.linear(x, w[p + 'k_proj.weight'], w.get(p + 'k_proj.bias')), KV, hd)
    v = ref.split_heads(ref.linear(x, w[p + 'v_proj.weight'], w.get(p + 'v_proj.bias')), KV, hd)
    inv = ref.llama_inv_freq(rcfg)
    pos = np.arange(len(ids))
    q, k = ref.apply_rope(q, inv, pos), ref.apply_rope(k, inv, pos)
    o1, p1 = ref.attention(q, k, v, hd ** -0.5)
    o2, p2 = naive_gqa_attention(q, k, v, hd ** -0.5)
    assert np.allclose(o1, o2, atol=1e-12) and np.allclose(p1, p2, atol=1e-12), name
    assert np.allclose(p1, out['attentions'][0], atol=1e-12), name
    # rotary: norm-preserving and relative (q_m . k_n depends on m - n only)
    a = np.random.default_rng(0).normal(size=(1, 1, hd))
    b = np.random.default_rng(1).normal(size=(1, 1, hd))
    for m in range(4):
        ra = ref.apply_rope(a, inv, np.array([m]))
        assert np.isclose(np.linalg.norm(ra), np.linalg.norm(a))
    dots = [float(ref.apply_rope(a, inv, np.array([m + 3])).ravel() @ ref.apply_rope(b, inv, np.array([m])).ravel())
            for m in range(5)]
    assert np.allclose(dots, dots[0]), dots
    if qkv_bias:  # the biases are used
        wz = {kk: (np.zeros_like(vv) if kk.endswith('_proj.bias') else vv) for kk, vv in w.items()}
        assert np.abs(ref.forward(rcfg, wz, ids)['logits'] - out['logits']).max() > 1e-4
    rs = rcfg.get('rope_scaling')
    if rs and rs.get('rope_type') == 'llama3':
        base = ref.default_inv_freq(rcfg['rope_theta'], hd)
        wl = 2 * math.pi / base
        old = rs['original_max_position_embeddings']
        lo, hi = old / rs['low_freq_factor'], old / rs['high_freq_factor']
        bands = {'high': wl < hi, 'low': wl > lo, 'medium': (wl >= hi) & (wl <= lo)}
        assert all(bands[b].any() for b in bands), bands
        assert np.allclose(inv[bands['high']], base[bands['high']])
        assert np.allclose(inv[bands['low']], base[bands['low']] / rs['factor'])
        med = bands['medium']
        assert np.all(inv[med] < base[med]) and np.all(inv[med] > base[med] / rs['factor'])
        alt = ref.forward(dict(rcfg, rope_scaling=None), w, ids)
        assert np.abs(alt['logits'] - out['logits']).max() > 1e-4, name
    if mt == 'mistral' and rcfg.get('sliding_window'):
        assert rcfg['sliding_window'] > len(ids)
        alt = ref.forward(dict(rcfg, sliding_window=None), w, ids)
        assert np.array_equal(alt['logits'], out['logits'])
        alt = ref.forward(dict(rcfg, sliding_window=4), w, ids)
        assert np.all(alt['attentions'][:, :, 8, :5] == 0) and not np.allclose(alt['logits'], out['logits'])
    finish(name, d, cfg, ids, out)


def check_bf16():
    one = np.float32(1.0)
    cases = [(1.0, 1.0), (1 + 2 ** -8, 1.0), (1 + 3 * 2 ** -8, 1 + 2 ** -6), (1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7),
             (-2.5, -2.5), (3.0e38, None)]
    for x, want in cases:
        got = float(ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(np.array([x], dtype=np.float32)))[0])
        if want is not None:
            assert got == want, (x, got, want)
    assert ref.f32_to_bf16_bits(np.array([one]))[0] == 0x3F80


def main():
    os.makedirs(OUT, exist_ok=True)
    check_bf16()
    make_gpt2('gpt2-tiny', 101, D=24, H=2, L=2, P=32, inner=None, dtype='F32', prefix='transformer.',
              mask_buffers=False)
    make_gpt2('gpt2-noprefix-f16', 102, D=32, H=4, L=2, P=32, inner=64, dtype='F16', prefix='',
              mask_buffers=True)
    make_neox('neox-tiny', 201, D=32, H=2, L=2, I=64, pct=0.25, parallel=True, dtype='F32', base=10000,
              newer=False, sharded=False)
    make_neox('neox-seq-bf16', 202, D=32, H=4, L=2, I=128, pct=1.0, parallel=False, dtype='BF16', base=25000,
              newer=True, sharded=True)
    make_llama('llama-gqa', 301, 'llama', D=32, H=4, KV=2, L=2, I=64, dtype='F32', tie=False, theta=500000.0,
               eps=1e-05, qkv_bias=False,
               rope_scaling={'factor': 8.0, 'high_freq_factor': 4.0, 'low_freq_factor': 1.0,
                             'original_max_position_embeddings': 256, 'rope_type': 'llama3'})
    make_llama('qwen2-tiny', 302, 'qwen2', D=32, H=4, KV=1, L=2, I=96, dtype='F16', tie=True, theta=1000000.0,
               eps=1e-06, qkv_bias=True, max_window_layers=2, sliding_window=4096, use_sliding_window=False)
    make_llama('mistral-tiny', 303, 'mistral', D=24, H=4, KV=2, L=2, I=64, dtype='F32', tie=False, theta=10000.0,
               eps=1e-05, qkv_bias=False, head_dim=8, sliding_window=4096)
    print('all reference self-checks passed')


if __name__ == '__main__':
    sys.exit(main())
