"""Exports a Hugging Face causal language model (optionally with a backward partner) as an LM Probe
model pack (docs/model-pack.md). See docs/export-hf.md.

  python models/export_hf.py MODEL_ID_OR_FOLDER --out PACK_DIR [--backward MODEL_ID_OR_FOLDER]
                             [--context N] [--dtype float32] [--name NAME] [--trust-remote-code]

Use it for architectures LM Probe does not build itself (it reads GPT-2, GPT-NeoX and Llama-family
folders directly). Needs: pip install torch transformers onnx onnxruntime (onnx only for models over
1.5 GB, onnxruntime only for the check at the end).

Writes into PACK_DIR:
  forward.onnx [+ forward.onnx.data]    input_ids [B,T] int64 -> logits [B,T,V],
                                        hidden_states [L+1,B,T,D], attentions [L,B,H,T,T]
  backward.onnx [+ backward.onnx.data]  the same contract, with --backward
  head.onnx [+ head.onnx.data]          hidden [N,D] -> logits [N,V]: the forward model's own final
                                        norm and unembedding (skipped, with a message, when they
                                        cannot be found or do not reproduce the logits)
  tokenizer.json                        the forward model's fast tokenizer
  manifest.json                         written last, only when the export succeeded

hidden_states convention: entry 0 is the embedding output, entry l (1..L) the residual stream after
block l, all BEFORE the final norm. transformers applies the final norm to its last hidden-state entry;
this exporter replaces that entry with the final norm's input (captured with a forward pre-hook), so
that head(hidden_states[L]) == logits. When the final norm cannot be identified the entry is left as
transformers returns it and head.onnx is not written.
"""
import argparse
import gc
import importlib
import inspect
import json
import os
import re
import shutil
import sys
import tempfile

INSTALL = 'pip install torch transformers onnx onnxruntime'
EXTERNAL_DATA_BYTES = int(1.5e9)  # graphs of models above this size keep their weights in PATH.data
DEFAULT_MAX_CONTEXT = 1024
VERIFY_TEXT = 'The quick brown fox jumps over the lazy dog. Then it ran back home, 12 times in a row.'
# relative tolerances (max abs diff / max(1, max abs value of the reference))
TORCH_TOL = 1e-4  # two torch computations of the same thing (head check, final-norm check)
ORT_TOL = 1e-3  # onnxruntime against torch
# model_type -> dotted path of the final norm; anything else is looked for by name (find_final_norm)
FINAL_NORM = {
    **{t: 'transformer.ln_f' for t in ('gpt2', 'gptj', 'gpt_neo', 'codegen', 'bloom', 'falcon', 'gpt_bigcode')},
    'mpt': 'transformer.norm_f',
    'gpt_neox': 'gpt_neox.final_layer_norm',
    'gpt_neox_japanese': 'gpt_neox_japanese.final_layer_norm',
    'opt': 'model.decoder.final_layer_norm',
    'xglm': 'model.layer_norm',
    'phi': 'model.final_layernorm',
    'persimmon': 'model.final_layernorm',
    **{t: 'model.norm' for t in ('llama', 'mistral', 'mixtral', 'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe', 'gemma',
                                 'gemma2', 'gemma3_text', 'olmo', 'olmo2', 'phi3', 'stablelm', 'starcoder2', 'cohere',
                                 'granite', 'granitemoe', 'smollm3', 'deepseek_v2', 'deepseek_v3', 'internlm2')},
}
NORM_NAMES = ('norm', 'ln_f', 'final_layer_norm', 'final_layernorm', 'norm_f', 'final_norm', 'ln_final', 'layer_norm')
# families LM Probe builds itself from a Hugging Face folder (src/engine/hf/families.ts)
BUILT_IN = ('gpt2', 'gpt_neox', 'llama', 'mistral', 'qwen2')


class ExportError(Exception):
    pass


def say(msg):
    print(f'export_hf: {msg}', flush=True)


def first_line(e):
    s = re.sub(r'\x1b\[[0-9;]*m', '', str(e)).strip()  # onnxruntime colours its messages
    line = next((l for l in s.splitlines() if l.strip()), s)
    return line if len(line) <= 300 else line[:300] + '...'


def require(*names):
    """Imports the named packages or raises ExportError naming what to pip install."""
    missing = []
    for n in names:
        try:
            importlib.import_module(n)
        except ImportError:
            missing.append(n)
    if missing:
        raise ExportError(f'missing Python package{"s" if len(missing) > 1 else ""} {", ".join(missing)} '
                          f'(for {sys.executable}); install with: {INSTALL}')


# ---------------------------------------------------------------------------------------------------
# tokenizer


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (the one LM Probe maps tokens back to bytes with)."""
    bs = list(range(0x21, 0x7f)) + list(range(0xa1, 0xad)) + list(range(0xae, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = set(bytes_to_unicode().values())


def tokenizer_json(tokenizer, label):
    """The tokenizer.json of a transformers tokenizer (a dict), refusing what LM Probe cannot read."""
    if not getattr(tokenizer, 'is_fast', False) or getattr(tokenizer, 'backend_tokenizer', None) is None:
        raise ExportError(f'{label}: transformers has only a slow (Python) tokenizer for this model, so no tokenizer.json '
                          'can be written; LM Probe needs a Hugging Face fast tokenizer (tokenizer.json, byte-level BPE)')
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, 'tokenizer.json')
        tokenizer.backend_tokenizer.save(p)
        with open(p, encoding='utf-8') as f:
            j = json.load(f)
    model = j.get('model') or {}
    if model.get('type') != 'BPE':
        raise ExportError(f'{label}: the tokenizer is a {model.get("type")!r} tokenizer; LM Probe reads BPE tokenizers only '
                          '(byte-level as GPT-2, Pythia, Llama 3, Qwen2; or SentencePiece-style with byte fallback as Llama 2, Mistral)')
    added = {t['id'] for t in j.get('added_tokens') or []}
    vocab = model.get('vocab') or {}
    bad = [t for t, i in vocab.items() if i not in added and not set(t) <= BYTE_CHARS]
    # SentencePiece-style BPE ("▁" for spaces) is read when every byte has a <0x..> fallback piece.
    if bad and not model.get('byte_fallback'):
        raise ExportError(f'{label}: the tokenizer is BPE but neither byte-level nor byte-fallback ({len(bad)} of {len(vocab)} '
                          f'tokens use characters outside the GPT-2 byte alphabet, e.g. {bad[:3]!r}, and "byte_fallback" is off): '
                          'LM Probe computes token offsets from the bytes each token stands for and would refuse texts it cannot spell')
    if j.get('normalizer'):
        say(f'warning: {label}: the tokenizer has a normalizer ({j["normalizer"].get("type")}); LM Probe refuses texts that '
            'the normalizer rewrites (TOKENIZER_MISMATCH)')
    for k in ('truncation', 'padding'):
        if j.get(k):
            say(f'note: {label}: dropped the tokenizer\'s {k} setting from tokenizer.json (LM Probe windows texts itself)')
            j[k] = None
    return j


def vocab_of(j):
    """token -> id of a tokenizer.json dict (model vocabulary plus added tokens)."""
    v = dict(j['model'].get('vocab') or {})
    for t in j.get('added_tokens') or []:
        v[t['content']] = t['id']
    return v


def pick_bos(tokenizer, j, label):
    """(token, id): the tokenizer's bos_token, else its eos_token."""
    vocab = vocab_of(j)
    for attr in ('bos_token', 'eos_token'):
        tok = getattr(tokenizer, attr, None)
        tok = getattr(tok, 'content', tok)  # AddedToken
        if isinstance(tok, str) and tok in vocab:
            if attr == 'eos_token':
                say(f'note: {label}: the tokenizer has no bos_token; using its eos_token {tok!r} (id {vocab[tok]}) as BOS')
            return tok, int(vocab[tok])
    raise ExportError(f'{label}: the tokenizer names neither a bos_token nor an eos_token that is in its vocabulary; '
                      'LM Probe puts a BOS token before every window')


def encode(tokenizer, text):
    if hasattr(tokenizer, 'encode'):
        return list(tokenizer.encode(text, add_special_tokens=False))
    return list(tokenizer(text, add_special_tokens=False)['input_ids'])


# ---------------------------------------------------------------------------------------------------
# model structure


def get_path(obj, path):
    for k in path.split('.'):
        obj = getattr(obj, k, None)
        if obj is None:
            return None
    return obj


def text_config(config):
    f = getattr(config, 'get_text_config', None)
    return f() if callable(f) else config


def config_int(config, *names):
    for n in names:
        v = getattr(config, n, None)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def find_final_norm(model):
    """(dotted path, module) of the final norm, from FINAL_NORM by model_type or by name; (None, None)."""
    import torch
    mt = getattr(text_config(model.config), 'model_type', None)
    candidates = []
    if mt in FINAL_NORM:
        candidates.append(FINAL_NORM[mt])
    prefixes = [p for p in (getattr(model, 'base_model_prefix', None), 'model', 'transformer', 'gpt_neox', 'backbone') if p]
    for p in dict.fromkeys(prefixes):
        for sub in ('', '.decoder'):
            candidates += [f'{p}{sub}.{n}' for n in NORM_NAMES]
    for path in dict.fromkeys(candidates):
        m = get_path(model, path)
        if isinstance(m, torch.nn.Module) and not isinstance(m, (torch.nn.ModuleList, torch.nn.Sequential)):
            return path, m
    return None, None


def logit_post(config):
    """What the CausalLM does to lm_head's output, for the families known to do something: a function or None."""
    import torch
    c = text_config(config)
    steps = []
    scale = getattr(c, 'logit_scale', None)  # cohere
    if isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale != 1:
        steps.append(lambda z, s=float(scale): z * s)
    div = getattr(c, 'logits_scaling', None)  # granite
    if isinstance(div, (int, float)) and not isinstance(div, bool) and div != 1:
        steps.append(lambda z, s=float(div): z / s)
    cap = getattr(c, 'final_logit_softcapping', None)  # gemma 2 and 3
    if isinstance(cap, (int, float)) and not isinstance(cap, bool) and cap > 0:
        steps.append(lambda z, s=float(cap): torch.tanh(z / s) * s)
    if not steps:
        return None

    def post(z):
        for f in steps:
            z = f(z)
        return z
    return post


def _rel_diff(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp(min=1.0))


class _Capture:
    """Forward pre-hook that keeps the final norm's input."""

    def __init__(self, module):
        self.module = module
        self.seen = []

    def __enter__(self):
        self.seen = []
        self.handle = self.module.register_forward_pre_hook(self._hook)
        return self

    def _hook(self, module, args):
        if args:
            self.seen.append(args[0])

    def __exit__(self, *exc):
        self.handle.remove()


def run_model(model, input_ids):
    out = model(input_ids=input_ids, output_hidden_states=True, output_attentions=True, use_cache=False, return_dict=True)
    return out.logits, tuple(out.hidden_states or ()), tuple(out.attentions or ())


def make_pack_graph(model, final_norm, pre_norm):
    """The CausalLM as a module returning (logits, stacked hidden states, stacked attentions)."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids):
            if pre_norm:
                with _Capture(final_norm) as cap:
                    logits, hidden, att = run_model(self.model, input_ids)
                hidden = hidden[:-1] + (cap.seen[-1],)
            else:
                logits, hidden, att = run_model(self.model, input_ids)
            return logits.float(), torch.stack(hidden).float(), torch.stack(att).float()
    return Graph().eval()


def make_head(norm, unembed, post):
    import torch

    class Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = norm
            self.unembed = unembed

        def forward(self, hidden):
            z = self.unembed(self.norm(hidden))
            return (post(z) if post else z).float()
    return Head().eval()


def inspect_model(model, label, sample_ids):
    """Runs the model once and decides the hidden-state convention and the head. Returns a dict."""
    import torch
    cfg = text_config(model.config)
    norm_path, norm = find_final_norm(model)
    with torch.no_grad():
        if norm is not None:
            with _Capture(norm) as cap:
                logits, hidden, att = run_model(model, sample_ids)
            seen = list(cap.seen)
        else:
            logits, hidden, att = run_model(model, sample_ids)
            seen = []
    if not att or any(a is None for a in att):
        raise ExportError(f'{label}: the model returned no attention probabilities (output_attentions); this export needs '
                          'attn_implementation="eager", which this architecture or transformers version does not honour')
    if len(hidden) != len(att) + 1:
        raise ExportError(f'{label}: the model returned {len(hidden)} hidden states for {len(att)} layers of attentions; '
                          'expected L+1 (embeddings, then one per block)')
    L = len(att)
    measured = {'layers': L, 'heads': int(att[0].shape[1]), 'width': int(hidden[0].shape[-1]),
                'vocabSize': int(logits.shape[-1])}
    configured = {'layers': config_int(cfg, 'num_hidden_layers', 'n_layer', 'num_layers', 'n_layers'),
                  'heads': config_int(cfg, 'num_attention_heads', 'n_head', 'num_heads', 'n_heads'),
                  'width': config_int(cfg, 'hidden_size', 'n_embd', 'd_model', 'dim'),
                  'vocabSize': config_int(cfg, 'vocab_size')}
    arch = {}
    for k, v in measured.items():
        if configured[k] is not None and configured[k] != v:
            say(f'warning: {label}: config says {k} = {configured[k]} but the model outputs have {v}; using {v} '
                '(LM Probe checks the manifest against the graphs)')
        arch[k] = v
    if any(tuple(a.shape) != tuple(att[0].shape) for a in att) or any(tuple(h.shape) != tuple(hidden[0].shape) for h in hidden):
        raise ExportError(f'{label}: hidden states or attentions differ in shape between layers; they cannot be stacked')

    info = {'arch': arch, 'norm_path': norm_path, 'pre_norm': False, 'head': None, 'head_note': None}
    if norm is None:
        info['head_note'] = 'the final norm was not found by family or by name'
    elif len(seen) != 1:
        info['head_note'] = f'{norm_path} ran {len(seen)} times in one forward pass (expected once), so it is not the final norm'
        norm_path = info['norm_path'] = None
    else:
        x = seen[0]
        with torch.no_grad():
            normed = norm(x)
        if tuple(x.shape) == tuple(hidden[-1].shape) and (_rel_diff(normed, hidden[-1]) <= TORCH_TOL
                                                          or _rel_diff(x, hidden[-1]) <= TORCH_TOL):
            info['pre_norm'] = True
        else:
            info['head_note'] = (f'{norm_path} applied to its input does not give transformers\' last hidden state '
                                 '(the model does something more after the final norm)')
            info['norm_path'] = None
    if info['pre_norm']:
        unembed = model.get_output_embeddings() if hasattr(model, 'get_output_embeddings') else None
        if unembed is None:
            info['head_note'] = 'model.get_output_embeddings() returned nothing'
        else:
            head = make_head(norm, unembed, logit_post(model.config))
            with torch.no_grad():
                h = head(seen[0].reshape(-1, seen[0].shape[-1]))
            d = _rel_diff(h, logits.reshape(-1, logits.shape[-1]).float())
            if d <= TORCH_TOL:
                info['head'] = head
            else:
                info['head_note'] = (f'final norm ({norm_path}) + get_output_embeddings() does not reproduce the logits '
                                     f'(relative max diff {d:.2e}); the CausalLM does more than that to its logits')
    return info


# ---------------------------------------------------------------------------------------------------
# ONNX


def model_bytes(module):
    seen = set()
    n = 0
    for t in list(module.parameters()) + list(module.buffers()):
        if t.data_ptr() in seen:
            continue
        seen.add(t.data_ptr())
        n += t.numel() * t.element_size()
    return n


def onnx_export(module, args, path, input_names, output_names, dynamic_axes, external):
    """torch.onnx.export (opset 17) into a scratch folder, then into path [+ path.data]."""
    import torch
    out_dir = os.path.dirname(os.path.abspath(path))
    data_name = os.path.basename(path) + '.data'
    kw = dict(opset_version=17, do_constant_folding=False, input_names=input_names, output_names=output_names,
              dynamic_axes=dynamic_axes)
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kw['dynamo'] = False  # the TorchScript exporter: dynamic_axes, hooks and opset 17 as in models/recipe
    tmp = tempfile.mkdtemp(prefix='.export-', dir=out_dir)
    try:
        tmp_path = os.path.join(tmp, 'model.onnx')
        with torch.no_grad():
            torch.onnx.export(module, args, tmp_path, **kw)
        if os.path.exists(os.path.join(out_dir, data_name)):
            os.remove(os.path.join(out_dir, data_name))
        extra = [f for f in os.listdir(tmp) if f != 'model.onnx']
        if external or extra:
            try:
                import onnx
            except ImportError:
                raise ExportError(f'the model is over {EXTERNAL_DATA_BYTES / 1e9:g} GB, so its weights go to external data, '
                                  f'which needs the onnx package; install with: {INSTALL}')
            m = onnx.load(tmp_path)  # with the weights torch put beside it, if any
            onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name,
                            size_threshold=1024)
            return [os.path.basename(path), data_name]
        os.replace(tmp_path, path)
        return [os.path.basename(path)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


GRAPH_AXES = {'input_ids': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch', 1: 'seq'},
              'hidden_states': {1: 'batch', 2: 'seq'}, 'attentions': {1: 'batch', 3: 'seq', 4: 'seq_k'}}


def verify(graph, path, head, head_path, cases, label):
    """Compares onnxruntime (python) with torch on `cases` ([B,T] int64 arrays); returns a summary or None."""
    import numpy as np
    import torch
    try:
        import onnxruntime as ort
    except ImportError:
        say(f'{label}: NOT verified: onnxruntime is not installed for {sys.executable} (pip install onnxruntime)')
        return None
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    hsess = ort.InferenceSession(head_path, providers=['CPUExecutionProvider']) if head_path else None
    worst = {'logits': 0.0, 'hidden_states': 0.0, 'attentions': 0.0, 'head': 0.0}
    scaled = dict(worst)
    for ids in cases:
        with torch.no_grad():
            ref = [t.numpy() for t in graph(torch.from_numpy(ids))]
        try:
            got = sess.run(['logits', 'hidden_states', 'attentions'], {'input_ids': ids})
        except Exception as e:  # onnxruntime raises its own exception types
            raise ExportError(f'{label}: onnxruntime fails on input_ids of shape {ids.shape} (the trace used 2x8): '
                              f'{first_line(e)}; the traced graph baked in a shape. No manifest.json was written. '
                              'Try another transformers version')
        for name, r, g in zip(('logits', 'hidden_states', 'attentions'), ref, got):
            if r.shape != g.shape:
                raise ExportError(f'{label}: onnxruntime gives {name} of shape {g.shape} where torch gives {r.shape} '
                                  f'(input {ids.shape}); the trace baked in a shape')
            d = float(np.abs(r - g).max())
            worst[name] = max(worst[name], d)
            scaled[name] = max(scaled[name], d / max(1.0, float(np.abs(r).max())))
        if hsess is not None:
            h = got[1][-1].reshape(-1, got[1].shape[-1])
            z = hsess.run(['logits'], {'hidden': h})[0]
            r = ref[0].reshape(-1, ref[0].shape[-1])
            d = float(np.abs(z - r).max())
            worst['head'] = max(worst['head'], d)
            scaled['head'] = max(scaled['head'], d / max(1.0, float(np.abs(r).max())))
    shapes = ', '.join('x'.join(map(str, c.shape)) for c in cases)
    say(f'{label}: onnxruntime vs transformers on inputs {shapes}: max abs diff logits {worst["logits"]:.2e}, '
        f'hidden_states {worst["hidden_states"]:.2e}, attentions {worst["attentions"]:.2e}'
        + (f', head(hidden_states[L]) vs logits {worst["head"]:.2e}' if hsess is not None else ''))
    bad = [k for k, v in scaled.items() if v > ORT_TOL]
    if bad:
        raise ExportError(f'{label}: onnxruntime does not reproduce transformers ({", ".join(bad)} differ by more than '
                          f'{ORT_TOL:g} relative); the traced graph is wrong for other shapes. No manifest.json was written. '
                          'Try another transformers version')
    return worst


def export_direction(model, label, out, graph_name, verify_ids, trace_vocab, with_head):
    """Exports one model's graph (and optionally the head); returns (info, files, verified summary)."""
    import numpy as np
    import torch
    model.eval()
    if hasattr(model.config, 'use_cache'):
        model.config.use_cache = False
    rng = np.random.default_rng(0)
    info = inspect_model(model, label, torch.from_numpy(rng.integers(0, trace_vocab, (1, 6), dtype=np.int64)))
    a = info['arch']
    say(f'{label}: {a["layers"]} layers, {a["heads"]} heads, width {a["width"]}, vocabulary {a["vocabSize"]}')
    if info['pre_norm']:
        say(f'{label}: hidden_states[L] = input of the final norm {info["norm_path"]} (before the final norm)')
    else:
        say(f'{label}: warning: hidden_states[L] is transformers\' last hidden state as returned (usually AFTER the final '
            f'norm): {info["head_note"]}')
    size = model_bytes(model)
    external = size > EXTERNAL_DATA_BYTES
    graph = make_pack_graph(model, get_path(model, info['norm_path']) if info['pre_norm'] else None, info['pre_norm'])
    path = os.path.join(out, graph_name)
    say(f'{label}: exporting {graph_name} ({size / 1e9:.2f} GB of weights{", external data" if external else ""}) ...')
    trace = torch.from_numpy(rng.integers(0, trace_vocab, (2, 8), dtype=np.int64))
    files = onnx_export(graph, (trace,), path, ['input_ids'], ['logits', 'hidden_states', 'attentions'], GRAPH_AXES, external)
    head_path = None
    if with_head:
        if info['head'] is not None:
            head_path = os.path.join(out, 'head.onnx')
            hb = model_bytes(info['head'])
            h = torch.randn(3, a['width'])
            files += onnx_export(info['head'], (h,), head_path, ['hidden'], ['logits'],
                                 {'hidden': {0: 'n'}, 'logits': {0: 'n'}}, hb > EXTERNAL_DATA_BYTES)
            say(f'{label}: exported head.onnx (final norm {info["norm_path"]} + get_output_embeddings())')
        else:
            say(f'{label}: head.onnx NOT written: {info["head_note"]}; the future-token probes will be unavailable')
    verified = verify(graph, path, info['head'] if head_path else None, head_path, verify_ids, label)
    return info, files, verified


# ---------------------------------------------------------------------------------------------------
# pack


class Source:
    """A model to export: label (id or folder), tokenizer, load() -> the CausalLM (called once, late)."""

    def __init__(self, label, tokenizer, load):
        self.label = label
        self.tokenizer = tokenizer
        self.load = load


def export_pack(out, forward, backward=None, context=None, max_positions=None, name=None):
    """Writes the pack; returns the manifest. forward/backward are Sources."""
    tok = tokenizer_json(forward.tokenizer, forward.label)
    vocab = vocab_of(tok)
    if backward is not None:
        btok = tokenizer_json(backward.tokenizer, backward.label)
        bvocab = vocab_of(btok)
        if bvocab != vocab:
            only_f = sorted(set(vocab.items()) - set(bvocab.items()))[:3]
            only_b = sorted(set(bvocab.items()) - set(vocab.items()))[:3]
            raise ExportError(f'the two tokenizers differ: {forward.label} has {len(vocab)} ids, {backward.label} {len(bvocab)}; '
                              f'e.g. only in the forward one {only_f}, only in the backward one {only_b}. A pack has one '
                              'tokenizer for both directions')
        same_model = btok.get('model') == tok.get('model')
        say(f'tokenizers: {backward.label} has the same vocabulary as {forward.label} ({len(vocab)} ids)'
            + ('' if same_model else '; their BPE merges or settings differ, and the forward tokenizer is the one written'))
    bos_token, bos_id = pick_bos(forward.tokenizer, tok, forward.label)
    tok_vocab = max(vocab.values()) + 1
    if context is None:
        context = min(max_positions, DEFAULT_MAX_CONTEXT) if max_positions else DEFAULT_MAX_CONTEXT
        if not max_positions:
            say(f'note: the config names no maximum position count; contextLength {context} (set --context to change it)')
    elif max_positions and context > max_positions:
        say(f'warning: --context {context} is more than the model\'s {max_positions} positions')
    if context < 2:
        raise ExportError(f'--context must be at least 2 (BOS plus one token), got {context}')

    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, 'manifest.json')
    old = None
    if os.path.exists(manifest_path):
        try:
            with open(manifest_path, encoding='utf-8') as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = None
        os.remove(manifest_path)  # never leave a manifest that names half-written graphs
    with open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tok, f, ensure_ascii=False)

    import numpy as np
    text_ids = [bos_id] + encode(forward.tokenizer, VERIFY_TEXT)
    text_ids = np.array([text_ids[:min(len(text_ids), context)]], dtype=np.int64)
    rng = np.random.default_rng(1)
    rand_ids = rng.integers(0, tok_vocab, (3, min(context, 13)), dtype=np.int64)
    rand_ids[:, 0] = bos_id
    cases = [text_ids, rand_ids]

    files = ['tokenizer.json']
    results = {}
    for direction, src in (('forward', forward), ('backward', backward)):
        if src is None:
            continue
        model = src.load()
        emb = model.get_input_embeddings() if hasattr(model, 'get_input_embeddings') else None
        trace_vocab = min(tok_vocab, int(emb.weight.shape[0])) if getattr(emb, 'weight', None) is not None else tok_vocab
        # the backward model reads [BOS] + the window reversed, as LM Probe feeds it
        ids = cases if direction == 'forward' else [np.concatenate([c[:, :1], c[:, :0:-1]], axis=1) for c in cases]
        info, f, verified = export_direction(model, src.label, out, f'{direction}.onnx', ids, trace_vocab,
                                             with_head=direction == 'forward')
        info['head'] = 'head.onnx' if 'head.onnx' in f else None  # drop the module (it holds the weights)
        results[direction] = (info, verified)
        files += f
        del model
        gc.collect()

    arch = results['forward'][0]['arch']
    if backward is not None and results['backward'][0]['arch'] != arch:
        raise ExportError(f'the two models differ in shape: {forward.label} {arch}, {backward.label} '
                          f'{results["backward"][0]["arch"]}; a pack has one architecture. No manifest.json was written')
    if arch['vocabSize'] < tok_vocab:
        raise ExportError(f'the tokenizer has {tok_vocab} ids but the model only {arch["vocabSize"]} logits. '
                          'No manifest.json was written')
    fw_info = results['forward'][0]
    convention = ('hidden_states[L] is the residual stream before the final norm' if fw_info['pre_norm']
                  else 'hidden_states[L] is transformers\' last hidden state (after the final norm)')
    description = (f'{forward.label}' + (f' (forward) and {backward.label} (backward)' if backward else '')
                   + f', exported from Hugging Face transformers by models/export_hf.py; {convention}')
    manifest = {
        'format': 'lm-probe-pack',
        'formatVersion': 1,
        'name': name or pack_name(forward.label),
        'description': description,
        'tokenizer': 'tokenizer.json',
        'contextLength': int(context),
        'bos': {'id': bos_id, 'token': bos_token},
        'architecture': arch,
        'graph': {'inputs': {'inputIds': 'input_ids'},
                  'outputs': {'logits': 'logits', 'hiddenStates': 'hidden_states', 'attentions': 'attentions'}},
        'forward': 'forward.onnx',
    }
    if backward is not None:
        manifest['backward'] = 'backward.onnx'
    if fw_info['head'] is not None:
        manifest['head'] = 'head.onnx'
    probes = os.path.join(out, 'probes.json')
    if os.path.exists(probes):
        if old and old.get('probes') == 'probes.json' and old.get('description') == description and 'head' in manifest:
            manifest['probes'] = 'probes.json'
            say('kept probes.json: the previous manifest named it for the same models')
        else:
            say('note: probes.json in the output folder is not named in the new manifest (it was fitted for another '
                'export); run lm-probe fit-probes again')
    with open(manifest_path, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write('\n')
    files.append('manifest.json')
    total = sum(os.path.getsize(os.path.join(out, f)) for f in files)
    say(f'wrote {out}: {", ".join(files)} ({total / 1e6:.1f} MB)')
    if any(v is None for _, v in results.values()):
        say('the graphs were NOT checked against transformers (install onnxruntime to check them)')
    return manifest


def pack_name(label):
    base = os.path.basename(os.path.normpath(label)) or 'hf-model'
    return re.sub(r'[^A-Za-z0-9._-]+', '-', base)


# ---------------------------------------------------------------------------------------------------
# loading from transformers


def transformers_version():
    import transformers
    try:
        return tuple(int(x) for x in re.findall(r'\d+', transformers.__version__)[:2])
    except ValueError:
        return (0, 0)


def load_config(src, trust_remote_code):
    from transformers import AutoConfig
    try:
        return AutoConfig.from_pretrained(src, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError) as e:
        where = 'folder' if os.path.isdir(src) else 'model'
        raise ExportError(f'cannot load {src!r}: {first_line(e)}. Give a Hugging Face model id or a local {where} with '
                          'config.json (private or gated models need `huggingface-cli login`; new architectures may need '
                          'a newer transformers or --trust-remote-code)')


def load_tokenizer(src, trust_remote_code):
    from transformers import AutoTokenizer
    try:
        return AutoTokenizer.from_pretrained(src, use_fast=True, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError, ImportError) as e:
        raise ExportError(f'{src}: no tokenizer could be loaded: {first_line(e)}. LM Probe needs a fast tokenizer '
                          '(tokenizer.json); a model that ships only a slow tokenizer cannot be exported')


def model_loader(src, config, trust_remote_code):
    def load():
        import torch
        from transformers import AutoModelForCausalLM
        dtype_kw = 'dtype' if transformers_version() >= (4, 56) else 'torch_dtype'
        kw = {dtype_kw: torch.float32, 'trust_remote_code': trust_remote_code}
        say(f'loading {src} ...')
        try:
            try:
                model = AutoModelForCausalLM.from_pretrained(src, attn_implementation='eager', **kw)
            except TypeError as e:
                if 'attn_implementation' not in str(e):
                    raise
                model = AutoModelForCausalLM.from_pretrained(src, **kw)  # transformers before 4.36: eager already
        except ValueError as e:
            if 'Unrecognized configuration class' in str(e) or 'does not recognize this architecture' in str(e):
                raise ExportError(f'{src}: transformers has no causal language model class for model_type '
                                  f'{getattr(config, "model_type", None)!r}: {first_line(e)}')
            raise ExportError(f'{src}: {first_line(e)}')
        except OSError as e:
            raise ExportError(f'{src}: cannot load the weights: {first_line(e)}')
        model.eval()
        return model
    return load


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog='export_hf.py',
        description='Export a Hugging Face causal LM (optionally with a backward partner) as an LM Probe model pack '
                    '(docs/model-pack.md, docs/export-hf.md). For architectures LM Probe does not build itself. '
                    f'Needs: {INSTALL}')
    ap.add_argument('model', metavar='MODEL_ID_OR_FOLDER', help='forward model: Hugging Face id or local folder')
    ap.add_argument('--out', required=True, metavar='PACK_DIR', help='pack folder to write (created if missing)')
    ap.add_argument('--backward', metavar='MODEL_ID_OR_FOLDER',
                    help='backward model, trained on token-reversed sequences, with the same tokenizer')
    ap.add_argument('--context', type=int, metavar='N',
                    help=f'contextLength, BOS included (default: min(max_position_embeddings, {DEFAULT_MAX_CONTEXT}))')
    ap.add_argument('--dtype', default='float32', choices=['float32'],
                    help='weight type of the graphs; the pack contract is float32 (the only choice)')
    ap.add_argument('--name', help='pack name in manifest.json (default: the model folder/id\'s last part)')
    ap.add_argument('--trust-remote-code', action='store_true',
                    help='let transformers run the model repository\'s own Python code (only for repositories you trust)')
    args = ap.parse_args(argv)
    try:
        require('numpy', 'torch', 'transformers')
        import transformers
        import torch
        say(f'torch {torch.__version__}, transformers {transformers.__version__}')
        sources = []
        max_positions = None
        for src in [args.model] + ([args.backward] if args.backward else []):
            config = load_config(src, args.trust_remote_code)
            mt = getattr(text_config(config), 'model_type', None)
            if mt in BUILT_IN:
                say(f'note: {src} is a {mt} model, which LM Probe can read from its folder directly; exporting anyway')
            if not sources:
                max_positions = config_int(text_config(config), 'max_position_embeddings', 'n_positions', 'n_ctx',
                                           'max_seq_len', 'seq_length')
            sources.append(Source(src, load_tokenizer(src, args.trust_remote_code),
                                  model_loader(src, config, args.trust_remote_code)))
        export_pack(args.out, sources[0], sources[1] if len(sources) > 1 else None, args.context, max_positions, args.name)
    except ExportError as e:
        print(f'export_hf: error: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
