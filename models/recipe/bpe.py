"""Byte-level BPE (GPT-2 style) trained on the corpus, written as a Hugging Face tokenizer.json.

Ids: 0 = <|bos|> (special, never produced by encoding text), 1..256 = the 256 bytes in GPT-2's
byte-to-unicode order, then one id per merge in merge order. Pre-tokenizer: GPT-2's regex (the one HF's
ByteLevel pre-tokenizer uses with use_regex true), no prefix space, no normalizer.

  /usr/bin/python3 models/recipe/bpe.py train   # learns the merges on a subsample -> work/tokenizer.json
  /usr/bin/python3 models/recipe/bpe.py encode  # tokenizes work/corpus/*.jsonl -> work/{train,val}.bin (+ .docs.json)
"""
import argparse
import heapq
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict

import numpy as np
import regex

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')
BOS = '<|bos|>'
PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()


def pretokens(text):
    for w in PAT.findall(text):
        yield ''.join(B2U[b] for b in w.encode('utf-8'))


def train(texts, vocab_size):
    t0 = time.time()
    counts = Counter()
    for t in texts:
        counts.update(pretokens(t))
    words = [list(w) for w in counts]
    freqs = list(counts.values())
    print(f'{len(words)} distinct pre-tokens in {time.time() - t0:.1f}s', flush=True)
    pair_count = defaultdict(int)
    where = defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    base = [B2U[b] for b in range(256)]
    n_merges = vocab_size - 1 - 256
    merges = []
    while len(merges) < n_merges and heap:
        c, p = heapq.heappop(heap)
        if -c != pair_count.get(p, 0):
            if pair_count.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_count[p], p))
            continue
        if -c < 2:
            break
        merges.append(p)
        a, b = p
        new = a + b
        changed = set()
        for i in list(where[p]):
            w, f = words[i], freqs[i]
            j = 0
            out = []
            # remove old pairs of this word
            for x, y in zip(w, w[1:]):
                pair_count[(x, y)] -= f
                changed.add((x, y))
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            for x, y in zip(w, w[1:]):
                where[(x, y)].discard(i)
            words[i] = out
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += f
                where[(x, y)].add(i)
                changed.add((x, y))
        pair_count.pop(p, None)
        where.pop(p, None)
        for q in changed:
            if q != p and pair_count.get(q, 0) > 0:
                heapq.heappush(heap, (-pair_count[q], q))
        if len(merges) % 500 == 0:
            print(f'{len(merges)} merges, {time.time() - t0:.1f}s', flush=True)
    vocab = {BOS: 0}
    for s in base:
        vocab[s] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    return vocab, merges


def tokenizer_json(vocab, merges):
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': 0, 'content': BOS, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True}],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }


class Encoder:
    """The recipe's own encoder: GPT-2's rank-ordered BPE over the same regex pre-tokens."""

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            tj = json.load(f)
        self.vocab = tj['model']['vocab']
        self.ranks = {tuple(m.split(' ')): i for i, m in enumerate(tj['model']['merges'])}
        self.cache = {}
        self.bos_id = self.vocab[BOS]

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            out, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for w in pretokens(text):
            ids.extend(self.bpe(w))
        return ids


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        for line in f:
            yield json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd', choices=['train', 'encode'])
    ap.add_argument('--vocab-size', type=int, default=4096)
    ap.add_argument('--sample-chars', type=int, default=6_000_000, help='chars of training text the merges are learned on')
    ap.add_argument('--seed', type=int, default=1234)
    args = ap.parse_args()
    tok_path = os.path.join(WORK, 'tokenizer.json')
    if args.cmd == 'train':
        docs = list(read_jsonl(os.path.join(WORK, 'corpus', 'train.jsonl')))
        rng = random.Random(args.seed)
        rng.shuffle(docs)
        # equal share of the sample for each source, so that prose and code both get merges
        by_src = defaultdict(list)
        for d in docs:
            by_src[d['source']].append(d['text'])
        share = args.sample_chars // len(by_src)
        texts = []
        for src in sorted(by_src):
            n = 0
            for t in by_src[src]:
                if n >= share:
                    break
                texts.append(t)
                n += len(t)
            print(f'{src}: {n} chars in the BPE sample')
        vocab, merges = train(texts, args.vocab_size)
        with open(tok_path, 'w', encoding='utf-8') as f:
            json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False)
        print(f'wrote {tok_path}: {len(vocab)} tokens')
    else:
        enc = Encoder(tok_path)
        for split in ('train', 'val'):
            t0 = time.time()
            ids, docs = [], []
            nchars = 0
            for d in read_jsonl(os.path.join(WORK, 'corpus', f'{split}.jsonl')):
                e = enc.encode(d['text'])
                docs.append({'id': d['id'], 'source': d['source'], 'kind': d['kind'], 'start': len(ids), 'len': len(e)})
                ids.extend(e)
                nchars += len(d['text'])
            arr = np.array(ids, dtype=np.uint16)
            arr.tofile(os.path.join(WORK, f'{split}.bin'))
            with open(os.path.join(WORK, f'{split}.docs.json'), 'w') as f:
                json.dump(docs, f)
            print(f'{split}: {len(docs)} docs, {nchars} chars, {len(arr)} tokens ({nchars / max(1, len(arr)):.2f} chars/token), {time.time() - t0:.0f}s', flush=True)


if __name__ == '__main__':
    sys.exit(main())
