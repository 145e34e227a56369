#!/usr/bin/python3
"""Writes the engine's test model packs under test/fixtures/ (run with Debian's /usr/bin/python3:
it needs numpy, onnx and, for tiny-gpt, torch).

  markov-pack/   forward and backward first-order Markov chains as ONNX graphs. The forward graph's
                 logits at position i are log P(next | token i); the backward graph's are the
                 reversed chain log pi(i) P(j|i) / pi(j). At BOS both emit log pi, the stationary
                 distribution. On any text the two directions' total surprisal are then equal
                 (the product of the chain's probabilities telescopes), which catches every reversal,
                 window alignment and BOS mistake in the engine. contextLength is small (16) so that
                 short texts already take many windows.
  markov-forward-int32/  the same forward chain as a graph with int32 ids and an attention_mask
                 input, and no backward model (the other common export, and a forward-only pack).
  tiny-gpt/      a randomly initialised 2-layer GPT (same tokenizer) with the full graph contract:
                 logits, hidden_states, attentions, plus head.onnx. Its numbers mean nothing; it is
                 there for shapes, the analyses and the graph-contract checks.

Both packs share a tiny byte-level BPE tokenizer.json: <|bos|> (id 0), the 256 bytes, and a few
merges, one of which ("Ġð") joins a space with the first byte of a 4-byte emoji so that tests
see a token that ends inside a character.

Deterministic (fixed seeds); the generated files are committed. Usage:
  /usr/bin/python3 scripts/make-fixtures.py [--no-torch]
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def bytes_to_unicode():
    # GPT-2's reversible byte <-> printable character table.
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


MERGES = [
    ('Ġ', 't'), ('h', 'e'), ('Ġt', 'he'), ('i', 'n'), ('e', 'r'), ('a', 'n'), ('Ġ', 'a'),
    ('o', 'n'), ('r', 'e'), ('Ġ', 's'), ('Ġ', 'ð'), ('ä', '¸'),
]


def make_tokenizer():
    b2u = bytes_to_unicode()
    vocab = {'<|bos|>': 0}
    for b in range(256):
        vocab[b2u[b]] = 1 + b
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    tok = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{
            'id': 0, 'content': '<|bos|>', 'single_word': False, 'lstrip': False, 'rstrip': False,
            'normalized': False, 'special': True,
        }],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': None,
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {
            'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
            'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
            'vocab': vocab, 'merges': [f'{a} {b}' for a, b in MERGES],
        },
    }
    return tok, len(vocab)


def markov_manifest(name, description, V, backward):
    m = {
        'format': 'lm-probe-pack',
        'formatVersion': 1,
        'name': name,
        'description': description,
        'tokenizer': 'tokenizer.json',
        'contextLength': 16,
        'bos': {'id': 0, 'token': '<|bos|>'},
        'architecture': {'layers': 1, 'heads': 1, 'width': 1, 'vocabSize': V},
        'graph': {
            'inputs': {'inputIds': 'input_ids'},
            'outputs': {'logits': 'logits', 'hiddenStates': None, 'attentions': None},
        },
        'forward': 'forward.onnx',
    }
    if backward:
        m['backward'] = 'backward.onnx'
    return m


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write('\n')


def gather_graph(table, name):
    # logits[b, t, :] = table[input_ids[b, t], :]
    V = table.shape[0]
    ids = helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['B', 'T'])
    out = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['B', 'T', V])
    init = numpy_helper.from_array(table.astype(np.float32), 'table')
    node = helper.make_node('Gather', ['table', 'input_ids'], ['logits'], axis=0)
    g = helper.make_graph([node], name, [ids], [out], [init])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='lm-probe make-fixtures')
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def masked_int32_graph(table, name):
    # The same Markov logits from a graph exported the other common way: int32 ids and an
    # attention_mask input (all ones here): logits = table[ids] * mask[..., None].
    V = table.shape[0]
    ids = helper.make_tensor_value_info('input_ids', TensorProto.INT32, ['B', 'T'])
    mask = helper.make_tensor_value_info('attention_mask', TensorProto.INT32, ['B', 'T'])
    out = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['B', 'T', V])
    init = [numpy_helper.from_array(table.astype(np.float32), 'table'), numpy_helper.from_array(np.array([-1], dtype=np.int64), 'last')]
    nodes = [
        helper.make_node('Gather', ['table', 'input_ids'], ['g'], axis=0),
        helper.make_node('Cast', ['attention_mask'], ['mf'], to=TensorProto.FLOAT),
        helper.make_node('Unsqueeze', ['mf', 'last'], ['m3']),
        helper.make_node('Mul', ['g', 'm3'], ['logits']),
    ]
    g = helper.make_graph(nodes, name, [ids, mask], [out], init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='lm-probe make-fixtures')
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def make_markov(tok, V):
    rng = np.random.default_rng(20261123)
    # Full support, fairly peaked rows so surprisal varies.
    logits = rng.normal(0.0, 2.0, size=(V, V))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    # Stationary distribution: left eigenvector of P for eigenvalue 1, by power iteration in float64.
    pi = np.full(V, 1.0 / V)
    for _ in range(10000):
        nxt = pi @ P
        if np.abs(nxt - pi).max() < 1e-17:
            pi = nxt
            break
        pi = nxt
    pi /= pi.sum()
    Q = (pi[None, :] * P.T) / pi[:, None]  # Q[j, i] = pi(i) P(i, j) / pi(j): reversed chain
    assert np.allclose(Q.sum(axis=1), 1.0, atol=1e-12)
    fw = np.log(P)
    bw = np.log(Q)
    fw[0, :] = np.log(pi)  # BOS row: stationary distribution
    bw[0, :] = np.log(pi)
    d = os.path.join(ROOT, 'markov-pack')
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, 'tokenizer.json'), tok)
    onnx.save(gather_graph(fw, 'markov_forward'), os.path.join(d, 'forward.onnx'))
    onnx.save(gather_graph(bw, 'markov_backward'), os.path.join(d, 'backward.onnx'))
    write_json(os.path.join(d, 'manifest.json'), markov_manifest(
        'markov-fixture',
        'Exact forward/backward first-order Markov pair (test fixture, scripts/make-fixtures.py)',
        V, backward=True))
    # A forward-only pack (no backward model) whose graph takes int32 ids and an attention mask.
    d2 = os.path.join(ROOT, 'markov-forward-int32')
    os.makedirs(d2, exist_ok=True)
    write_json(os.path.join(d2, 'tokenizer.json'), tok)
    onnx.save(masked_int32_graph(fw, 'markov_forward_int32'), os.path.join(d2, 'forward.onnx'))
    write_json(os.path.join(d2, 'manifest.json'), markov_manifest(
        'markov-forward-int32-fixture',
        'The Markov forward chain as an int32/attention_mask graph, no backward model (test fixture)',
        V, backward=False))


def make_tiny_gpt(tok, V):
    import torch
    import torch.nn as nn

    L, H, D, C = 2, 2, 16, 32

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(D)
            self.qkv = nn.Linear(D, 3 * D)
            self.proj = nn.Linear(D, D)
            self.ln2 = nn.LayerNorm(D)
            self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))

        def forward(self, x):
            B, T, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
            q = q.view(B, T, H, D // H).transpose(1, 2)
            k = k.view(B, T, H, D // H).transpose(1, 2)
            v = v.view(B, T, H, D // H).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) / float(np.sqrt(D // H))
            mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
            att = att.masked_fill(~mask, float('-inf'))
            att = torch.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, D)
            x = x + self.proj(y)
            x = x + self.mlp(self.ln2(x))
            return x, att

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(V, D)
            self.wpe = nn.Embedding(C, D)
            self.blocks = nn.ModuleList([Block() for _ in range(L)])
            self.ln_f = nn.LayerNorm(D)
            self.lm_head = nn.Linear(D, V, bias=False)

        def forward(self, input_ids):
            T = input_ids.shape[1]
            pos = torch.arange(T).unsqueeze(0)
            x = self.wte(input_ids) + self.wpe(pos)
            hs, atts = [x], []
            for b in self.blocks:
                x, a = b(x)
                hs.append(x)
                atts.append(a)
            return self.lm_head(self.ln_f(x)), torch.stack(hs), torch.stack(atts)

    class Head(nn.Module):
        def __init__(self, gpt):
            super().__init__()
            self.ln_f = gpt.ln_f
            self.lm_head = gpt.lm_head

        def forward(self, hidden):
            return self.lm_head(self.ln_f(hidden))

    d = os.path.join(ROOT, 'tiny-gpt')
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, 'tokenizer.json'), tok)
    for name, seed in (('forward', 1), ('backward', 2)):
        torch.manual_seed(seed)
        m = GPT().eval()
        with torch.no_grad():
            m.wte.weight.mul_(3.0)  # livelier distributions than the default init
        x = torch.randint(0, V, (2, 7))
        torch.onnx.export(
            m, (x,), os.path.join(d, f'{name}.onnx'), opset_version=17,
            input_names=['input_ids'], output_names=['logits', 'hidden_states', 'attentions'],
            dynamic_axes={'input_ids': {0: 'B', 1: 'T'}, 'logits': {0: 'B', 1: 'T'},
                          'hidden_states': {1: 'B', 2: 'T'}, 'attentions': {1: 'B', 3: 'T', 4: 'T'}},
        )
        if name == 'forward':
            torch.onnx.export(
                Head(m), (torch.randn(3, D),), os.path.join(d, 'head.onnx'), opset_version=17,
                input_names=['hidden'], output_names=['logits'],
                dynamic_axes={'hidden': {0: 'N'}, 'logits': {0: 'N'}},
            )
    write_json(os.path.join(d, 'manifest.json'), {
        'format': 'lm-probe-pack',
        'formatVersion': 1,
        'name': 'tiny-gpt-fixture',
        'description': 'Randomly initialised 2-layer GPT pair with the full graph contract (test fixture)',
        'tokenizer': 'tokenizer.json',
        'contextLength': C,
        'bos': {'id': 0, 'token': '<|bos|>'},
        'architecture': {'layers': L, 'heads': H, 'width': D, 'vocabSize': V},
        'graph': {
            'inputs': {'inputIds': 'input_ids'},
            'outputs': {'logits': 'logits', 'hiddenStates': 'hidden_states', 'attentions': 'attentions'},
        },
        'forward': 'forward.onnx',
        'backward': 'backward.onnx',
        'head': 'head.onnx',
    })


def main():
    tok, V = make_tokenizer()
    make_markov(tok, V)
    if '--no-torch' not in sys.argv:
        make_tiny_gpt(tok, V)
    print(f'wrote fixtures under {os.path.normpath(ROOT)} (vocabulary {V})')


if __name__ == '__main__':
    main()
