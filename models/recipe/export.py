"""Exports the trained pair as a model pack (docs/model-pack.md) and writes the parity fixtures.

  /usr/bin/python3 models/recipe/export.py [--out models/default]

Writes forward.onnx, backward.onnx (input_ids [B,T] int64 -> logits [B,T,V], hidden_states [L+1,B,T,D],
attentions [L,B,H,T,T]), head.onnx (hidden [N,D] -> logits [N,V]: final LayerNorm + tied unembedding),
manifest.json, tokenizer.json, parity.json (torch outputs on fixed inputs, checked against
onnxruntime-node by test/pack/parity.test.ts) and test/pack/fixtures/tokenizer-lines.json (the recipe
encoder's ids on held-out lines and hard Unicode lines, checked against @huggingface/tokenizers).
An existing probes.json (and baselines.json) in the output folder is kept and stays named in the manifest.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch

from model import GPT, Config, Head
from bpe import Encoder, BOS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
WORK = os.path.join(HERE, 'work')
BOS_ID = 0


def load(direction, ckpt_dir=WORK):
    ck = torch.load(os.path.join(ckpt_dir, f'ckpt_{direction}.pt'), map_location='cpu')
    model = GPT(Config(**ck['config']))
    model.load_state_dict(ck['model'])
    model.eval()
    return model, ck


def export_gpt(model, path):
    T = 8
    ids = torch.randint(1, model.config.vocab_size, (2, T))
    torch.onnx.export(
        model, (ids,), path, opset_version=17, do_constant_folding=False,
        input_names=['input_ids'], output_names=['logits', 'hidden_states', 'attentions'],
        dynamic_axes={'input_ids': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch', 1: 'seq'},
                      'hidden_states': {1: 'batch', 2: 'seq'}, 'attentions': {1: 'batch', 3: 'seq', 4: 'seq_k'}})


def export_head(model, path):
    h = torch.randn(3, model.config.width)
    torch.onnx.export(Head(model), (h,), path, opset_version=17, do_constant_folding=False,
                      input_names=['hidden'], output_names=['logits'],
                      dynamic_axes={'hidden': {0: 'n'}, 'logits': {0: 'n'}})


def r(a, digits=7):
    return [float(f'{x:.{digits}g}') for x in np.asarray(a, dtype=np.float64).ravel()]


HARD_LINES = [
    'Emoji: 👋🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ and text after',
    'CJK: 日本語のテキストと中文文本，한국어 텍스트。',
    'Combining marks: e\u0301 a\u0308 n\u0303 Z\u0351\u0352\u0353 ǅ ﬁ',
    'CRLF line\r\nnext line\r\n',
    '\tTabs\tand  double  spaces\t\t',
    'Mixed: naïve café – “quotes” — ‘single’ … €100 ½ ² ⅞',
    'Devanagari नमस्ते, Arabic مرحبا, Hebrew שלום, Thai สวัสดี',
    'Math: ∀x ∈ ℝ, ∑ᵢ xᵢ² ≥ 0 ⇒ √x',
    "It's they'll we've I'm you'd she's 'tis O'Neil's",
    '    def __init__(self, x: int = 0x1F, *args, **kw) -> None:  # comment',
    'const re = /[\\u0300-\\u036f]/g; let s = `${a}+${b}`;',
    'nbsp\u00a0here, thin\u2009space, zero\u200bwidth, bom\ufeffmark',
    'control \x1c\x1d\x1e\x1f chars and NEL\x85 and \x0b\x0c',
    '   \n\n   leading and trailing spaces   ',
    '0123456789 3.14159 1e-10 -42 1_000_000',
    'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ and ｶﾀｶﾅ',
    '',
    ' ',
    '\n',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝟘𝟙𝟚 and 🧪🧬',
]


def tokenizer_lines(enc, n=300):
    rng = np.random.default_rng(7)
    lines = []
    with open(os.path.join(WORK, 'corpus', 'val.jsonl'), encoding='utf-8') as f:
        for line in f:
            lines.extend(l for l in json.loads(line)['text'].split('\n') if l.strip())
    pick = sorted(rng.choice(len(lines), size=min(n, len(lines)), replace=False))
    chosen = [lines[i] for i in pick] + HARD_LINES
    return [{'text': t, 'ids': enc.encode(t)} for t in chosen]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'default'))
    ap.add_argument('--ckpt-dir', default=WORK)
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    fw, ckf = load('forward', args.ckpt_dir)
    bw, ckb = load('backward', args.ckpt_dir)
    cfg = fw.config
    assert ckf['config'] == ckb['config'], 'directions differ in architecture'
    export_gpt(fw, os.path.join(out, 'forward.onnx'))
    export_gpt(bw, os.path.join(out, 'backward.onnx'))
    export_head(fw, os.path.join(out, 'head.onnx'))
    shutil.copyfile(os.path.join(WORK, 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    manifest = {
        'format': 'lm-probe-pack',
        'formatVersion': 1,
        'name': 'default',
        'description': 'Forward/backward GPT pair trained by models/recipe on Python docs, Node.js docs, the Python stdlib and '
                       "TypeScript's lib .d.ts (see MODEL_CARD.md)",
        'tokenizer': 'tokenizer.json',
        'contextLength': cfg.context,
        'bos': {'id': BOS_ID, 'token': BOS},
        'architecture': {'layers': cfg.layers, 'heads': cfg.heads, 'width': cfg.width, 'vocabSize': cfg.vocab_size},
        'graph': {'inputs': {'inputIds': 'input_ids'},
                  'outputs': {'logits': 'logits', 'hiddenStates': 'hidden_states', 'attentions': 'attentions'}},
        'forward': 'forward.onnx',
        'backward': 'backward.onnx',
        'head': 'head.onnx',
    }
    if os.path.exists(os.path.join(out, 'probes.json')):
        manifest['probes'] = 'probes.json'
    if os.path.exists(os.path.join(out, 'baselines.json')):
        manifest['baselines'] = 'baselines.json'  # written by skip_bigrams.ts
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')

    # parity fixtures: held-out token sequences (BOS first), torch outputs on a fixed vocabulary subset at every
    # position and on the full vocabulary at the last position
    enc = Encoder(os.path.join(WORK, 'tokenizer.json'))
    val = np.fromfile(os.path.join(WORK, 'val.bin'), dtype=np.uint16).astype(np.int64)
    rng = np.random.default_rng(42)
    vocab_subset = sorted(rng.choice(cfg.vocab_size, size=16, replace=False).tolist())
    cases = []
    for length, batch in ((cfg.context - 1, 1), (37, 2), (1, 1)):
        rows = []
        for _ in range(batch):
            s = int(rng.integers(0, len(val) - length))
            rows.append([BOS_ID] + val[s:s + length - 1].tolist())
        ids = torch.tensor(rows)
        for name, model in (('forward', fw), ('backward', bw)):
            with torch.no_grad():
                logits, hidden, att = model(ids)
            cases.append({
                'direction': name, 'inputIds': rows, 'vocabSubset': vocab_subset,
                'logitsSubset': r(logits[:, :, vocab_subset]),
                'logitsLastStride8': r(logits[:, -1, ::8]),
                'hiddenLast': r(hidden[:, :, -1, :]),
                'attentionsLastRow': r(att[:, :, :, -1, :]),
            })
    with torch.no_grad():
        hidden = fw(torch.tensor([[BOS_ID] + val[100:140].tolist()]))[1][cfg.layers, 0, -2:, :]
        head_logits = fw.head(hidden)
    parity = {
        'note': 'torch outputs of the recipe (models/recipe/export.py); logitsSubset is [B,T,|vocabSubset|], '
                'logitsLastStride8 [B,V/8] at the last position for vocabulary ids 0,8,16,..., hiddenLast [L+1,B,D] at the last position, '
                'attentionsLastRow [L,B,H,T] for the last query',
        'torch': torch.__version__,
        'tolerance': 1e-4,
        'shapes': {'layers': cfg.layers, 'heads': cfg.heads, 'width': cfg.width, 'vocabSize': cfg.vocab_size},
        'cases': cases,
        'head': {'hidden': r(hidden), 'n': int(hidden.shape[0]), 'logits': r(head_logits)},
    }
    with open(os.path.join(out, 'parity.json'), 'w') as f:
        json.dump(parity, f, separators=(',', ':'))
    fixdir = os.path.join(ROOT, 'test', 'pack', 'fixtures')
    os.makedirs(fixdir, exist_ok=True)
    with open(os.path.join(fixdir, 'tokenizer-lines.json'), 'w', encoding='utf-8') as f:
        json.dump({'note': 'ids from models/recipe/bpe.py Encoder on held-out lines and hard Unicode lines',
                   'lines': tokenizer_lines(enc)}, f, ensure_ascii=False, separators=(',', ':'))
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(json.dumps({'out': out, 'params': fw.n_params(), 'steps': [ckf['step'], ckb['step']],
                      'pack_bytes': total, 'files': {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))}}))


if __name__ == '__main__':
    sys.exit(main())
