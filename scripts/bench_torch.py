#!/usr/bin/python3
"""PyTorch eager on a pack's own weights: the reference side of scripts/bench.ts.

Run by the bench as one long-lived child process per threading setting; it reads one JSON command
per line on stdin and answers one JSON line on stdout, so that the bench can interleave its engine
and torch repeats without paying for `import torch` each time:

    python3 scripts/bench_torch.py --pack models/default --setting default|passive|oneThread|allCores

The setting that needs the environment (OMP_WAIT_POLICY=PASSIVE) is set by the parent before the
process starts (libgomp reads it once); the thread counts are set here with torch.set_num_threads.

The weights: the pack's forward.onnx / backward.onnx initializers (onnx.numpy_helper.to_array),
loaded by name into models/recipe/model.py's GPT (strict: every parameter, no extra); a pack
whose initializers do not match that class answers {"error": ...} and the bench skips torch.

Commands (one JSON object per line):
  {"op": "probe", "ids": [...], "windows": [{start, length, scoreFrom, scoreTo}...], "batch": B,
   "bos": id, "topK": k, "backward": true}
      The engine's work (src/engine/engine.ts scoreSequence): per direction (backward on the
      reversed ids), the windows in batches of B rows [BOS, ids[start .. start+length-1)], one
      forward pass per batch (logits only), then per position the statistics of the in-graph
      path (src/engine/hf/statistics.ts, float32): log-softmax, log p of the actual next token,
      how many logits beat it (rank - 1), entropy, top-k; then the scored positions as Python
      numbers. Answers the times in ms (forward/backward passes, statistics, total) and the mean
      nats per direction (the bench checks them against the engine's).
  {"op": "corpus", "docs": [{"ids": [...], "windows": [...]}...], "batch": B, "bos": id, "backward": true}
      Corpus mode's work (src/cli/corpus.ts via Engine.surprisalNats): per document and direction,
      the windows in batches, and only the log-probability of the actual next token (cross-entropy,
      no entropy or top-k: corpus reports nats only). Answers ms, tokens and mean nats per direction.
  {"op": "gemm", "shapes": [[batch, M, K, N], ...], "minMs": 300}
      float32 matmul of each shape (the model's), best of the repeats; GFLOP/s per shape and for
      the whole set (total FLOPs / total time).
  {"op": "exit"}
Without torch (or numpy/onnx) it prints {"error": "..."} once and exits 3.
"""
import argparse
import importlib.util
import json
import math
import os
import resource
import sys
import time


def reply(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def blas_library():
    """The BLAS shared object this process mapped (torch's libblas.so.3 may be any of Debian's)."""
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({line.split()[-1] for line in f if 'blas' in line.rsplit('/', 1)[-1].lower()})
        real = sorted({os.path.realpath(p) for p in libs})
        return real[0] if real else None
    except OSError:
        return None


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pack', required=True)
    ap.add_argument('--setting', default='default', choices=['default', 'passive', 'oneThread', 'allCores'])
    ap.add_argument('--recipe', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'models', 'recipe', 'model.py'))
    args = ap.parse_args()
    t0 = time.perf_counter()
    try:
        import numpy as np  # noqa: F401
        import torch
        import torch.nn.functional as F
        from onnx import load as onnx_load, numpy_helper
    except Exception as e:  # ImportError, or a broken BLAS
        reply({'error': f'python3 cannot import torch, numpy and onnx ({type(e).__name__}: {e})'})
        sys.exit(3)

    default_threads = torch.get_num_threads()
    if args.setting == 'oneThread':
        torch.set_num_threads(1)
    elif args.setting == 'allCores':
        torch.set_num_threads(os.cpu_count() or 1)

    manifest_path = os.path.join(args.pack, 'manifest.json')
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        arch = manifest['architecture']
        spec = importlib.util.spec_from_file_location('lm_probe_recipe_model', args.recipe)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        cfg = mod.Config(vocab_size=arch['vocabSize'], context=manifest['contextLength'], layers=arch['layers'], heads=arch['heads'], width=arch['width'])
        models = {}
        for direction in ('forward', 'backward'):
            if not manifest.get(direction):
                continue
            m = onnx_load(os.path.join(args.pack, manifest[direction]))
            init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
            gpt = mod.GPT(cfg)
            want = gpt.state_dict()
            missing = [k for k in want if k not in init]
            if missing:
                raise ValueError(f'{direction}.onnx has no initializer for {", ".join(missing[:3])}{"..." if len(missing) > 3 else ""}: not a models/recipe GPT')
            gpt.load_state_dict({k: init[k] for k in want}, strict=True)
            gpt.eval()
            models[direction] = gpt
    except Exception as e:
        reply({'error': f'cannot load {args.pack} into models/recipe/model.py GPT: {type(e).__name__}: {e}'})
        sys.exit(4)

    torch.set_grad_enabled(False)

    def score(direction, ids, windows, batch, bos, top_k, acc):
        """The engine's scoreSequence for one direction; adds to acc's timers, returns the nats."""
        gpt = models[direction]
        nats = [0.0] * len(ids)
        out = [None] * len(ids)
        for g0 in range(0, len(windows), batch):
            group = windows[g0:g0 + batch]
            t = time.perf_counter()
            rows = torch.tensor([[bos] + ids[w['start']:w['start'] + w['length'] - 1] for w in group], dtype=torch.long)
            logits = gpt(rows, with_internals=False)  # [B, S, V] float32
            t1 = time.perf_counter()
            acc['runMs'][direction] += (t1 - t) * 1000
            targets = torch.tensor([ids[w['start']:w['start'] + w['length']] for w in group], dtype=torch.long)
            lsm = F.log_softmax(logits, dim=-1)
            tgt = targets.unsqueeze(-1)
            logprob = lsm.gather(-1, tgt).squeeze(-1)
            greater = (logits > logits.gather(-1, tgt)).sum(-1)
            entropy = -(lsm.exp() * lsm).sum(-1)
            top_vals, top_ids = torch.topk(lsm, max(1, top_k), dim=-1, largest=True, sorted=True)
            lp, gr, en, tv, ti = logprob.tolist(), greater.tolist(), entropy.tolist(), top_vals.tolist(), top_ids.tolist()
            for b, w in enumerate(group):
                for tpos in range(w['scoreFrom'], w['scoreTo']):
                    i = tpos - w['start']
                    nats[tpos] = -lp[b][i]
                    out[tpos] = (-lp[b][i] / math.log(2), 1 + gr[b][i], max(0.0, en[b][i]) / math.log(2),
                                 [(ti[b][i][j], math.exp(tv[b][i][j])) for j in range(top_k)])
            acc['statsMs'] += (time.perf_counter() - t1) * 1000
        return nats

    def nats_only(direction, ids, windows, batch, bos):
        """Sum of -log p(actual token) over the scored positions of one direction."""
        gpt = models[direction]
        total = 0.0
        for g0 in range(0, len(windows), batch):
            group = windows[g0:g0 + batch]
            # windows of one batch share a length except possibly the last: run those apart
            for length in sorted({w['length'] for w in group}):
                sub = [w for w in group if w['length'] == length]
                rows = torch.tensor([[bos] + ids[w['start']:w['start'] + length - 1] for w in sub], dtype=torch.long)
                targets = torch.tensor([ids[w['start']:w['start'] + length] for w in sub], dtype=torch.long)
                logits = gpt(rows, with_internals=False)
                ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction='none').reshape(len(sub), length)
                for b, w in enumerate(sub):
                    total += float(ce[b, w['scoreFrom'] - w['start']:w['scoreTo'] - w['start']].sum())
        return total

    reply({
        'ready': True,
        'setting': args.setting,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'defaultThreads': default_threads,
        'ompWaitPolicy': os.environ.get('OMP_WAIT_POLICY', ''),
        'blas': blas_library(),
        'blasInfo': next((p.split('=')[1] for p in torch.__config__.show().replace(',', ' ').split() if p.startswith('BLAS_INFO=')), None),
        'loadMs': (time.perf_counter() - t0) * 1000,
        'directions': sorted(models),
        'peakRssMb': peak_rss_mb(),
    })

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        op = cmd.get('op')
        if op == 'exit':
            break
        if op == 'probe':
            ids = cmd['ids']
            acc = {'runMs': {'forward': 0.0, 'backward': 0.0}, 'statsMs': 0.0}
            t = time.perf_counter()
            fw = score('forward', ids, cmd['windows'], cmd['batch'], cmd['bos'], cmd['topK'], acc)
            bw = None
            if cmd.get('backward', True) and 'backward' in models:
                bw = score('backward', ids[::-1], cmd['windows'], cmd['batch'], cmd['bos'], cmd['topK'], acc)
            total = (time.perf_counter() - t) * 1000
            n = len(ids)
            reply({
                'ms': total,
                'forwardMs': acc['runMs']['forward'],
                'backwardMs': acc['runMs']['backward'],
                'statsMs': acc['statsMs'],
                'tokens': n,
                'meanNatsFw': sum(fw) / n,
                'meanNatsBw': sum(bw) / n if bw is not None else None,
                'peakRssMb': peak_rss_mb(),
            })
        elif op == 'corpus':
            t = time.perf_counter()
            n, f_sum, b_sum = 0, 0.0, 0.0
            for doc in cmd['docs']:
                ids = doc['ids']
                n += len(ids)
                f_sum += nats_only('forward', ids, doc['windows'], cmd['batch'], cmd['bos'])
                if cmd.get('backward', True) and 'backward' in models:
                    b_sum += nats_only('backward', ids[::-1], doc['windows'], cmd['batch'], cmd['bos'])
            reply({
                'ms': (time.perf_counter() - t) * 1000,
                'tokens': n,
                'meanNatsFw': f_sum / n,
                'meanNatsBw': b_sum / n if 'backward' in models and cmd.get('backward', True) else None,
                'peakRssMb': peak_rss_mb(),
            })
        elif op == 'gemm':
            min_ms = cmd.get('minMs', 300)
            per, tot_flop, tot_s = [], 0.0, 0.0
            gen = torch.Generator().manual_seed(0)
            for batch, M, K, N in cmd['shapes']:
                a = torch.randn(batch, M, K, generator=gen) if batch > 1 else torch.randn(M, K, generator=gen)
                b = torch.randn(batch, K, N, generator=gen) if batch > 1 else torch.randn(K, N, generator=gen)
                torch.matmul(a, b)
                best, spent = math.inf, 0.0
                while spent < min_ms / 1000 or best == math.inf:
                    t = time.perf_counter()
                    torch.matmul(a, b)
                    dt = time.perf_counter() - t
                    best, spent = min(best, dt), spent + dt
                flop = 2.0 * batch * M * K * N
                per.append({'shape': [batch, M, K, N], 'gflops': flop / best / 1e9, 'ms': best * 1000})
                tot_flop += flop
                tot_s += best
            reply({'gflops': tot_flop / tot_s / 1e9, 'perShape': per})
        else:
            reply({'error': f'unknown op {op!r}'})


if __name__ == '__main__':
    main()
