"""Writes a model pack's forward and backward models as Hugging Face GPT-2 folders, and checks them.

  /usr/bin/python3 models/recipe/export_hf_gpt2.py [--pack models/default] [--out models/default-hf]

Needs numpy and onnx only (Debian's python3-numpy, python3-onnx). Reads the parameters of the recipe's torch
module (model.py) from the initializers of forward.onnx / backward.onnx (they keep the module's parameter names)
and writes <out>/forward/ and <out>/backward/, each with
  config.json        model_type gpt2; activation_function "gelu" (the recipe uses torch's F.gelu, the exact erf form,
                     which is transformers' ACT2FN["gelu"], not GPT-2's usual gelu_new); layer_norm_epsilon 1e-5
                     (nn.LayerNorm's default, also the epsilon in the exported LayerNormalization nodes)
  model.safetensors  F32, the keys save_pretrained writes for GPT2LMHeadModel ("transformer." prefix, no
                     lm_head.weight: tied to wte), Conv1D layouts [in, out] = the transposed nn.Linear weights;
                     the recipe's qkv Linear splits its output into three D-blocks q | k | v, as c_attn does
  tokenizer.json     the pack's
and <out>/pair.json naming the two folders. Then it runs scripts/hf_reference.py on the written folders and
compares with the torch outputs in <pack>/parity.json (tolerance 1e-4).
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
import hf_reference as ref  # noqa: E402


def initializers(path):
    m = onnx.load(path)
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}, m


def check_graph(m, layers):
    """The things the conversion assumes about the exported graph: exact erf GELU, LayerNorm eps 1e-5, and the
    unembedding a MatMul with the transposed token embedding (tied)."""
    ops = [n.op_type for n in m.graph.node]
    assert ops.count('Erf') == layers, 'expected one exact (erf) GELU per block'
    assert 'Tanh' not in ops, 'a tanh GELU would need activation_function gelu_new'
    eps = {round(a.f, 12) for n in m.graph.node if n.op_type == 'LayerNormalization' for a in n.attribute
           if a.name == 'epsilon'}
    assert len(eps) == 1 and abs(eps.pop() - 1e-5) < 1e-9, 'LayerNorm epsilon'
    tied = [n for n in m.graph.node if n.op_type == 'Transpose' and list(n.input) == ['tok.weight']]
    assert len(tied) == 1, 'unembedding is not the transposed tok.weight'


def convert(init, layers):
    expected = {'tok.weight', 'pos.weight', 'ln_f.weight', 'ln_f.bias'}
    for l in range(layers):
        for k in ('ln1.weight', 'ln1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
                  'ln2.weight', 'ln2.bias', 'fc.weight', 'fc.bias', 'out.weight', 'out.bias'):
            expected.add(f'blocks.{l}.{k}')
    if set(init) != expected:
        print('initializers:', sorted(init))
        raise SystemExit(f'unexpected initializer names: missing {sorted(expected - set(init))}, '
                         f'extra {sorted(set(init) - expected)}')
    p = 'transformer.'
    t = {p + 'wte.weight': init['tok.weight'], p + 'wpe.weight': init['pos.weight'],
         p + 'ln_f.weight': init['ln_f.weight'], p + 'ln_f.bias': init['ln_f.bias']}
    for l in range(layers):
        b, h = f'blocks.{l}.', f'{p}h.{l}.'
        t[h + 'ln_1.weight'], t[h + 'ln_1.bias'] = init[b + 'ln1.weight'], init[b + 'ln1.bias']
        t[h + 'attn.c_attn.weight'], t[h + 'attn.c_attn.bias'] = init[b + 'attn.qkv.weight'].T, init[b + 'attn.qkv.bias']
        t[h + 'attn.c_proj.weight'], t[h + 'attn.c_proj.bias'] = init[b + 'attn.proj.weight'].T, init[b + 'attn.proj.bias']
        t[h + 'ln_2.weight'], t[h + 'ln_2.bias'] = init[b + 'ln2.weight'], init[b + 'ln2.bias']
        t[h + 'mlp.c_fc.weight'], t[h + 'mlp.c_fc.bias'] = init[b + 'fc.weight'].T, init[b + 'fc.bias']
        t[h + 'mlp.c_proj.weight'], t[h + 'mlp.c_proj.bias'] = init[b + 'out.weight'].T, init[b + 'out.bias']
    return {k: (np.ascontiguousarray(v, dtype=np.float32), 'F32') for k, v in t.items()}


def gpt2_config(arch, context, bos):
    D = arch['width']
    return {
        'activation_function': 'gelu', 'architectures': ['GPT2LMHeadModel'], 'attn_pdrop': 0.0, 'bos_token_id': bos,
        'embd_pdrop': 0.0, 'eos_token_id': bos, 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-05,
        'model_type': 'gpt2', 'n_ctx': context, 'n_embd': D, 'n_head': arch['heads'], 'n_inner': None,
        'n_layer': arch['layers'], 'n_positions': context, 'reorder_and_upcast_attn': False, 'resid_pdrop': 0.0,
        'scale_attn_by_inverse_layer_idx': False, 'scale_attn_weights': True, 'summary_activation': None,
        'summary_first_dropout': 0.1, 'summary_proj_to_labels': True, 'summary_type': 'cls_index',
        'summary_use_proj': True, 'tie_word_embeddings': True, 'torch_dtype': 'float32',
        'transformers_version': '4.46.3', 'use_cache': True, 'vocab_size': arch['vocabSize'],
    }


def verify(out, pack):
    """hf_reference on the written folders against the pack's torch parity outputs."""
    with open(os.path.join(pack, 'parity.json')) as f:
        parity = json.load(f)
    models = {d: ref.load_folder(os.path.join(out, d)) for d in ('forward', 'backward')}
    worst = {}
    for case in parity['cases']:
        cfg, w, _ = models[case['direction']]
        rows = [ref.forward(cfg, w, ids) for ids in case['inputIds']]
        B, T = len(rows), len(case['inputIds'][0])
        sub = case['vocabSubset']
        got = {
            'logitsSubset': np.stack([r['logits'][:, sub] for r in rows]),  # [B,T,|sub|]
            'logitsLastStride8': np.stack([r['logits'][-1, ::8] for r in rows]),  # [B,V/8]
            'hiddenLast': np.stack([r['hidden'][:, -1, :] for r in rows], axis=1),  # [L+1,B,D]
            'attentionsLastRow': np.stack([r['attentions'][:, :, -1, :] for r in rows], axis=1),  # [L,B,H,T]
        }
        for k, g in got.items():
            want = np.asarray(case[k], dtype=np.float64)
            assert want.size == g.size, (k, want.size, g.shape)
            err = float(np.abs(g.ravel() - want).max())
            key = f'{k}'
            worst[key] = max(worst.get(key, 0.0), err)
            print(f'  {case["direction"]:8s} B={B} T={T:3d} {k:18s} max|err| {err:.2e}')
    tol = parity.get('tolerance', 1e-4)
    print('max errors:', json.dumps({k: float(f'{v:.3g}') for k, v in worst.items()}), f'(tolerance {tol})')
    assert all(v < tol for v in worst.values()), 'parity failed'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pack', default=os.path.join(ROOT, 'models', 'default'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'default-hf'))
    ap.add_argument('--no-verify', action='store_true')
    args = ap.parse_args()
    with open(os.path.join(args.pack, 'manifest.json')) as f:
        manifest = json.load(f)
    arch, context, bos = manifest['architecture'], manifest['contextLength'], manifest['bos']['id']
    os.makedirs(args.out, exist_ok=True)
    for direction in ('forward', 'backward'):
        init, graph = initializers(os.path.join(args.pack, manifest[direction]))
        check_graph(graph, arch['layers'])
        tensors = convert(init, arch['layers'])
        assert tensors['transformer.wpe.weight'][0].shape == (context, arch['width'])
        assert tensors['transformer.wte.weight'][0].shape == (arch['vocabSize'], arch['width'])
        d = os.path.join(args.out, direction)
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        with open(os.path.join(d, 'config.json'), 'w') as f:
            json.dump(gpt2_config(arch, context, bos), f, indent=2, sort_keys=True)
            f.write('\n')
        ref.write_safetensors(os.path.join(d, 'model.safetensors'), tensors, {'format': 'pt'})
        shutil.copyfile(os.path.join(args.pack, manifest['tokenizer']), os.path.join(d, 'tokenizer.json'))
        # the written file holds exactly the ONNX parameters
        _, back, _ = ref.load_folder(d)
        for k, (v, _) in tensors.items():
            assert np.array_equal(back[k], v.astype(np.float64)), k
    pair = {'format': 'lm-probe-pair', 'formatVersion': 1, 'name': f'{manifest["name"]} (Hugging Face folders)',
            'forward': 'forward', 'backward': 'backward', 'contextLength': context}
    with open(os.path.join(args.out, 'pair.json'), 'w') as f:
        json.dump(pair, f, indent=1)
        f.write('\n')
    print(json.dumps({'out': args.out, 'files': {os.path.relpath(os.path.join(dp, f), args.out):
                                                 os.path.getsize(os.path.join(dp, f))
                                                 for dp, _, fs in os.walk(args.out) for f in sorted(fs)}}))
    if not args.no_verify:
        verify(args.out, args.pack)


if __name__ == '__main__':
    sys.exit(main())
