"""Held-out figures for the model card, computed the way the engine computes them.

  /usr/bin/python3 models/recipe/evaluate.py [--ckpt-dir models/recipe/work] > models/recipe/work/eval.json

Each held-out document (work/val/*.txt, one file per document) is tokenized with the recipe encoder and
scored with the engine's window plan (src/engine/surprisal.ts planWindows: windows of
contextLength-1 tokens with BOS prepended, later windows scoring only tokens with at least half a window
of history); the backward model runs the same plan on the reversed sequence. Figures: mean nats per
token per direction (all documents, and per kind and source), delta = (L_bw - L_fw)/((L_bw + L_fw)/2)
with a percentile bootstrap 95% interval over documents using the CLI's PRNG (mulberry32, seed 1,
1000 resamples: the same interval `lm-probe corpus` prints), and a unigram baseline: the cross-entropy
of the held-out tokens under the training split's unigram distribution (add-one smoothed), in nats.
"""
import argparse
import glob
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from bpe import Encoder
from export import load

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')
BOS_ID = 0


def plan_windows(n, w):
    if n <= 0:
        return []
    if n <= w:
        return [(0, n, 0, n)]
    h = math.ceil(w / 2)
    s = max(1, w - h)
    out = [(0, w, 0, w)]
    scored = w
    k = 1
    while scored < n:
        start = k * s
        if start + w >= n:
            start = n - w
        score_to = min(n, start + w)
        out.append((start, w, scored, score_to))
        scored = score_to
        k += 1
    return out


@torch.no_grad()
def doc_nats(model, ids, w, batch=16):
    """Sum of -ln p over the tokens of one document, with the engine's windows."""
    plan = plan_windows(len(ids), w)
    ids = np.asarray(ids, dtype=np.int64)
    total = 0.0
    for i in range(0, len(plan), batch):
        group = plan[i:i + batch]
        L = group[0][1]
        assert all(g[1] == L for g in group)
        wins = np.stack([ids[s:s + L] for s, _, _, _ in group])
        inp = np.concatenate([np.full((len(group), 1), BOS_ID), wins[:, :-1]], axis=1)
        logits = model(torch.from_numpy(inp), with_internals=False).double()
        lp = F.log_softmax(logits, dim=-1)
        tok_lp = lp.gather(2, torch.from_numpy(wins).unsqueeze(-1)).squeeze(-1)
        for j, (s, _, f, t) in enumerate(group):
            total -= tok_lp[j, f - s:t - s].sum().item()
    return total


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    return nxt


def delta_of(units):
    n = sum(u[0] for u in units)
    f = sum(u[1] for u in units) / n
    b = sum(u[2] for u in units) / n
    return (b - f) / ((b + f) / 2)


def bootstrap(units, resamples=1000, seed=1):
    r = mulberry32(seed)
    ds = []
    for _ in range(resamples):
        pick = [units[math.floor(r() * len(units))] for _ in range(len(units))]
        ds.append(delta_of(pick))
    ds.sort()
    q = lambda p: ds[min(len(ds) - 1, max(0, round(p * (len(ds) - 1))))]
    return [q(0.025), q(0.975)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt-dir', default=WORK)
    ap.add_argument('--limit', type=int, default=0, help='only the first N documents (smoke test)')
    ap.add_argument('--glob', nargs='+', default=[os.path.join(WORK, 'val', '*.txt')], help='held-out documents')
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    enc = Encoder(os.path.join(WORK, 'tokenizer.json'))
    fw, ck = load('forward', args.ckpt_dir)
    bw, ckb = load('backward', args.ckpt_dir)
    w = fw.config.context - 1
    with open(os.path.join(WORK, 'val.docs.json')) as f:
        meta = {d['id'].replace('/', '_').replace(':', '_').replace('#', '_'): d for d in json.load(f)}
    files = sorted({p for g in args.glob for p in glob.glob(g)})
    if args.limit:
        files = files[:args.limit]
    train = np.fromfile(os.path.join(WORK, 'train.bin'), dtype=np.uint16)
    counts = np.bincount(train, minlength=fw.config.vocab_size).astype(np.float64) + 1.0
    logp_uni = np.log(counts / counts.sum())
    docs = []
    for path in files:
        name = os.path.basename(path)[:-4]
        with open(path, encoding='utf-8', newline='') as f:
            text = f.read()
        ids = enc.encode(text)
        m = meta.get(name, {'source': os.path.basename(path), 'kind': 'outside the corpus'})
        docs.append({'file': os.path.relpath(path, os.path.join(HERE, '..', '..')), 'source': m.get('source'), 'kind': m.get('kind'),
                     'tokens': len(ids), 'fwNats': doc_nats(fw, ids, w), 'bwNats': doc_nats(bw, ids[::-1], w),
                     'unigramNats': float(-logp_uni[np.asarray(ids)].sum())})
        print(f"{name}: {len(ids)} tokens fw {docs[-1]['fwNats'] / len(ids):.4f} bw {docs[-1]['bwNats'] / len(ids):.4f}", file=sys.stderr, flush=True)

    def summary(ds):
        n = sum(d['tokens'] for d in ds)
        units = [(d['tokens'], d['fwNats'], d['bwNats']) for d in ds]
        fwm = sum(d['fwNats'] for d in ds) / n
        bwm = sum(d['bwNats'] for d in ds) / n
        return {'documents': len(ds), 'tokens': n, 'forwardMeanNats': fwm, 'backwardMeanNats': bwm,
                'unigramMeanNats': sum(d['unigramNats'] for d in ds) / n,
                'delta': delta_of(units), 'deltaCI95': bootstrap(units) if len(ds) >= 10 else None}  # fewer documents: block interval from lm-probe corpus (make_card.py)

    out = {'steps': [ck['step'], ckb['step']], 'windowTokens': w, 'bootstrap': {'unit': 'document', 'resamples': 1000, 'seed': 1, 'prng': 'mulberry32'},
           'all': summary(docs),
           'byKind': {k: summary([d for d in docs if d['kind'] == k]) for k in sorted({d['kind'] for d in docs})},
           'bySource': {k: summary([d for d in docs if d['source'] == k]) for k in sorted({d['source'] for d in docs})},
           'unigramEntropyTrainNats': float(-(np.exp(logp_uni) * logp_uni).sum()),
           'docs': docs}
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
