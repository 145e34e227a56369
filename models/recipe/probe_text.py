"""Writes training-split text for the future-token probes as plain files, for `lm-probe fit-probes`.

  /usr/bin/python3 models/recipe/probe_text.py [--chars 400000] [--heldout-chars 100000]

work/probe-fit/*.txt: documents of the training split (an equal share of characters per source), the
text the ridge maps are fitted on; work/probe-heldout/*.txt: other training documents, on which the
fitter picks the ridge penalty. work/probe-eval/*.txt: the first --eval-chars characters of every
held-out document (work/val), for eval-probes (which reads whole files in order up to its token budget,
so cut files spread that budget over all held-out documents).
"""
import argparse
import glob
import json
import os
import random
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--chars', type=int, default=400_000)
    ap.add_argument('--heldout-chars', type=int, default=100_000)
    ap.add_argument('--eval-chars', type=int, default=2000)
    ap.add_argument('--seed', type=int, default=5)
    args = ap.parse_args()
    by_src = defaultdict(list)
    with open(os.path.join(WORK, 'corpus', 'train.jsonl'), encoding='utf-8') as f:
        for line in f:
            d = json.loads(line)
            by_src[d['source']].append(d)
    rng = random.Random(args.seed)
    for sub, budget in (('probe-fit', args.chars), ('probe-heldout', args.heldout_chars)):
        out = os.path.join(WORK, sub)
        os.makedirs(out, exist_ok=True)
        for p in glob.glob(os.path.join(out, '*.txt')):
            os.remove(p)
    ev = os.path.join(WORK, 'probe-eval')
    os.makedirs(ev, exist_ok=True)
    for p in glob.glob(os.path.join(ev, '*.txt')):
        os.remove(p)
    for p in sorted(glob.glob(os.path.join(WORK, 'val', '*.txt'))):
        with open(p, encoding='utf-8', newline='') as f:
            text = f.read()
        cut = text[:args.eval_chars]
        nl = cut.rfind('\n')
        if len(text) > args.eval_chars and nl > args.eval_chars // 2:
            cut = cut[:nl + 1]
        with open(os.path.join(ev, os.path.basename(p)), 'w', encoding='utf-8', newline='') as f:
            f.write(cut)
    for src in sorted(by_src):
        docs = by_src[src]
        rng.shuffle(docs)
        i = 0
        for sub, budget in (('probe-fit', args.chars), ('probe-heldout', args.heldout_chars)):
            n, share = 0, budget // len(by_src)
            while n < share and i < len(docs):
                d = docs[i]
                i += 1
                text = d['text'][:share - n + 2000]
                name = d['id'].replace('/', '_').replace(':', '_').replace('#', '_')
                with open(os.path.join(WORK, sub, name + '.txt'), 'w', encoding='utf-8', newline='') as f:
                    f.write(text)
                n += len(text)
            print(f'{sub} {src}: {n} chars')


if __name__ == '__main__':
    main()
