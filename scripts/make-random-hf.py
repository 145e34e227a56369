#!/usr/bin/python3
"""Writes a random-weight Hugging Face folder of a real model's size, for load-time, memory and speed
measurements (README "Hugging Face models"; bench). Needs numpy only.

  /usr/bin/python3 scripts/make-random-hf.py --arch neox-160m --out /tmp/pythia-160m-random [--dtype F16]
  /usr/bin/python3 scripts/make-random-hf.py --arch gpt2-small --out /tmp/gpt2-small-random --dtype F32
  /usr/bin/python3 scripts/make-random-hf.py --arch llama-1b  --out /tmp/llama-1b-random

The tokenizer is the default pack's (models/default/tokenizer.json): its ids are a subset of the
config's vocabulary, which is all a random model needs.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hf_reference import write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..'))
DTYPES = {'F32': 'float32', 'F16': 'float16', 'BF16': 'bfloat16'}

ARCHS = {
    # openai-community/gpt2's shape (124M, tied embeddings)
    'gpt2-small': dict(model_type='gpt2', architectures=['GPT2LMHeadModel'], n_embd=768, n_layer=12, n_head=12,
                       n_positions=1024, vocab_size=50257, activation_function='gelu_new', layer_norm_epsilon=1e-5,
                       bos_token_id=0, eos_token_id=0),
    # EleutherAI/pythia-160m's shape
    'neox-160m': dict(model_type='gpt_neox', architectures=['GPTNeoXForCausalLM'], hidden_size=768, num_hidden_layers=12,
                      num_attention_heads=12, intermediate_size=3072, vocab_size=50304, max_position_embeddings=2048,
                      rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True, hidden_act='gelu',
                      layer_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=0, eos_token_id=0),
    # Llama 3.2 1B's shape (tied embeddings, 8 kv heads, llama3 rope scaling)
    'llama-1b': dict(model_type='llama', architectures=['LlamaForCausalLM'], hidden_size=2048, num_hidden_layers=16,
                     num_attention_heads=32, num_key_value_heads=8, intermediate_size=8192, vocab_size=128256,
                     max_position_embeddings=131072, rope_theta=500000.0, rms_norm_eps=1e-5, hidden_act='silu',
                     tie_word_embeddings=True, bos_token_id=0, eos_token_id=0, head_dim=64,
                     rope_scaling={'rope_type': 'llama3', 'factor': 32.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                   'original_max_position_embeddings': 8192}),
}


def tensors(c, rng, dtype):
    out = {}

    def mat(name, *shape):
        out[name] = (rng.standard_normal(shape, dtype=np.float32) * 0.02, dtype)

    def vec(name, n, one=False):
        out[name] = ((np.ones(n) if one else np.zeros(n)).astype(np.float32), dtype)

    if c['model_type'] == 'gpt2':
        D, L, V = c['n_embd'], c['n_layer'], c['vocab_size']
        mat('transformer.wte.weight', V, D)
        mat('transformer.wpe.weight', c['n_positions'], D)
        for i in range(L):
            p = f'transformer.h.{i}.'
            for n in ('ln_1', 'ln_2'):
                vec(p + n + '.weight', D, True)
                vec(p + n + '.bias', D)
            mat(p + 'attn.c_attn.weight', D, 3 * D)  # Conv1D: [in, out]
            vec(p + 'attn.c_attn.bias', 3 * D)
            mat(p + 'attn.c_proj.weight', D, D)
            vec(p + 'attn.c_proj.bias', D)
            mat(p + 'mlp.c_fc.weight', D, 4 * D)
            vec(p + 'mlp.c_fc.bias', 4 * D)
            mat(p + 'mlp.c_proj.weight', 4 * D, D)
            vec(p + 'mlp.c_proj.bias', D)
        vec('transformer.ln_f.weight', D, True)
        vec('transformer.ln_f.bias', D)
        return out
    D, L = c['hidden_size'], c['num_hidden_layers']
    V, I = c['vocab_size'], c['intermediate_size']
    if c['model_type'] == 'gpt_neox':
        mat('gpt_neox.embed_in.weight', V, D)
        for i in range(L):
            p = f'gpt_neox.layers.{i}.'
            for n in ('input_layernorm', 'post_attention_layernorm'):
                vec(p + n + '.weight', D, True)
                vec(p + n + '.bias', D)
            mat(p + 'attention.query_key_value.weight', 3 * D, D)
            vec(p + 'attention.query_key_value.bias', 3 * D)
            mat(p + 'attention.dense.weight', D, D)
            vec(p + 'attention.dense.bias', D)
            mat(p + 'mlp.dense_h_to_4h.weight', I, D)
            vec(p + 'mlp.dense_h_to_4h.bias', I)
            mat(p + 'mlp.dense_4h_to_h.weight', D, I)
            vec(p + 'mlp.dense_4h_to_h.bias', D)
        vec('gpt_neox.final_layer_norm.weight', D, True)
        vec('gpt_neox.final_layer_norm.bias', D)
        mat('embed_out.weight', V, D)
    else:
        H, KV, hd = c['num_attention_heads'], c['num_key_value_heads'], c['head_dim']
        mat('model.embed_tokens.weight', V, D)
        for i in range(L):
            p = f'model.layers.{i}.'
            vec(p + 'input_layernorm.weight', D, True)
            vec(p + 'post_attention_layernorm.weight', D, True)
            mat(p + 'self_attn.q_proj.weight', H * hd, D)
            mat(p + 'self_attn.k_proj.weight', KV * hd, D)
            mat(p + 'self_attn.v_proj.weight', KV * hd, D)
            mat(p + 'self_attn.o_proj.weight', D, H * hd)
            mat(p + 'mlp.gate_proj.weight', I, D)
            mat(p + 'mlp.up_proj.weight', I, D)
            mat(p + 'mlp.down_proj.weight', D, I)
        vec('model.norm.weight', D, True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--arch', choices=sorted(ARCHS), required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--dtype', choices=sorted(DTYPES), default='F16')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    c = dict(ARCHS[a.arch], torch_dtype=DTYPES[a.dtype])
    os.makedirs(a.out, exist_ok=True)
    t = tensors(c, np.random.default_rng(a.seed), a.dtype)
    write_safetensors(os.path.join(a.out, 'model.safetensors'), t, {'format': 'pt'})
    with open(os.path.join(a.out, 'config.json'), 'w') as f:
        json.dump(c, f, indent=2)
    shutil.copyfile(os.path.join(ROOT, 'models', 'default', 'tokenizer.json'), os.path.join(a.out, 'tokenizer.json'))
    n = sum(int(np.prod(v[0].shape)) for v in t.values())
    print(json.dumps({'out': a.out, 'parameters': n, 'bytes': os.path.getsize(os.path.join(a.out, 'model.safetensors'))}))


if __name__ == '__main__':
    main()
