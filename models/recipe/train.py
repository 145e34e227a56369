"""Trains one direction of the pair. Both directions use the same seed, so the same windows in the same
order and the same initial weights; the backward model reads each window with its token ids flipped
(BOS + flipped[:-1] as input, flipped as target), as in Papadopoulos et al. 2024.

  OMP_NUM_THREADS=1 /usr/bin/python3 models/recipe/train.py --direction forward  --steps N
  OMP_NUM_THREADS=1 /usr/bin/python3 models/recipe/train.py --direction backward --steps N
Checkpoints go to work/ckpt_<direction>.pt every --ckpt-minutes (resume with --resume); the log to
work/train_<direction>.log (JSON lines).
"""
import argparse
import json
import math
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import GPT, Config

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')
BOS_ID = 0


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def make_batch(data, starts, T, direction):
    x = np.stack([data[s:s + T].astype(np.int64) for s in starts])
    if direction == 'backward':
        x = x[:, ::-1].copy()
    inp = np.concatenate([np.full((len(starts), 1), BOS_ID, dtype=np.int64), x[:, :-1]], axis=1)
    return torch.from_numpy(inp), torch.from_numpy(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--direction', choices=['forward', 'backward'], required=True)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--width', type=int, default=192)
    ap.add_argument('--context', type=int, default=256)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--steps', type=int, default=2000)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--min-lr-frac', type=float, default=0.1)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--decay-start', type=int, default=None,
                    help='warmup-stable-decay: constant LR from the end of warmup to this step, then cosine decay to '
                         'min-lr-frac at --steps (default: cosine over all steps after warmup)')
    ap.add_argument('--weight-decay', type=float, default=0.1)
    ap.add_argument('--seed', type=int, default=1337)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-minutes', type=float, default=4)
    ap.add_argument('--eval-every', type=int, default=250)
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--bench', type=int, default=0, help='time this many steps and exit')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    data = np.memmap(os.path.join(WORK, 'train.bin'), dtype=np.uint16, mode='r')
    val = np.memmap(os.path.join(WORK, 'val.bin'), dtype=np.uint16, mode='r')
    with open(os.path.join(WORK, 'tokenizer.json'), encoding='utf-8') as f:
        vocab_size = len(json.load(f)['model']['vocab'])
    cfg = Config(vocab_size=vocab_size, context=args.context, layers=args.layers, heads=args.heads, width=args.width)
    T = args.context  # window of T tokens: input BOS + T-1 tokens fills all T positions

    torch.manual_seed(args.seed)
    model = GPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.weight_decay},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=args.lr, betas=(0.9, 0.95))
    ckpt_path = os.path.join(WORK, f'ckpt_{args.direction}.pt')
    log_path = os.path.join(WORK, f'train_{args.direction}.log')
    step, train_seconds = 0, 0.0
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, train_seconds = ck['step'], ck['train_seconds']
    # the window schedule depends only on the seed and the step, so both directions see the same windows
    # and a resumed run continues with the windows it would have seen
    rng_eval = np.random.default_rng(args.seed + 1)
    eval_starts = rng_eval.integers(0, len(val) - T, size=32)

    decay_start = args.warmup if args.decay_start is None else max(args.warmup, args.decay_start)

    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        if s < decay_start:
            return args.lr
        p = min(1.0, (s - decay_start) / max(1, args.steps - decay_start))
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))

    def save():
        tmp = ckpt_path + '.tmp'
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'train_seconds': train_seconds,
                    'config': cfg.__dict__, 'args': vars(args), 'cpu': cpu_name(), 'torch': torch.__version__,
                    'direction': args.direction}, tmp)
        os.replace(tmp, ckpt_path)

    @torch.no_grad()
    def evaluate():
        model.eval()
        losses = []
        for i in range(0, len(eval_starts), 8):
            inp, tgt = make_batch(val, eval_starts[i:i + 8], T, args.direction)
            logits = model(inp, with_internals=False)
            losses.append(F.cross_entropy(logits.reshape(-1, cfg.vocab_size), tgt.reshape(-1)).item())
        model.train()
        return float(np.mean(losses))

    log = open(log_path, 'a')
    if step > 0:
        log.write(json.dumps({'event': 'resume', 'step': step, 'args': vars(args),
                              'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}) + '\n')
    if step == 0:
        log.write(json.dumps({'event': 'start', 'params': model.n_params(), 'config': cfg.__dict__, 'args': vars(args),
                              'cpu': cpu_name(), 'torch': torch.__version__, 'train_tokens': len(data),
                              'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}) + '\n')
        log.flush()
    model.train()
    last_ckpt = time.time()
    t_log, tok_log = time.time(), 0
    while step < args.steps:
        t0 = time.time()
        rng = np.random.default_rng([args.seed, step])
        starts = rng.integers(0, len(data) - T, size=args.batch)
        inp, tgt = make_batch(data, starts, T, args.direction)
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        logits = model(inp, with_internals=False)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), tgt.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        train_seconds += time.time() - t0
        tok_log += inp.numel()
        if args.bench and step >= args.bench:
            dt = time.time() - t_log
            print(json.dumps({'params': model.n_params(), 'steps': step, 'tokens_per_s': tok_log / dt, 's_per_step': dt / step,
                              'loss': loss.item()}))
            return
        if step % 25 == 0 or step == args.steps:
            rec = {'step': step, 'loss': round(loss.item(), 4), 'lr': lr_at(step - 1),
                   'tokens_per_s': round(tok_log / (time.time() - t_log), 1), 'train_seconds': round(train_seconds, 1)}
            if step % args.eval_every == 0 or step == args.steps:
                rec['val_loss_sample'] = round(evaluate(), 4)
            log.write(json.dumps(rec) + '\n')
            log.flush()
            t_log, tok_log = time.time(), 0
        if time.time() - last_ckpt > args.ckpt_minutes * 60 or step == args.steps:
            save()
            last_ckpt = time.time()
    log.write(json.dumps({'event': 'done', 'step': step, 'train_seconds': round(train_seconds, 1),
                          'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}) + '\n')
    log.close()


if __name__ == '__main__':
    main()
