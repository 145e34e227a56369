"""Writes models/default/MODEL_CARD.md from what the recipe and the CLI measured (no figure is typed by hand).

  /usr/bin/python3 models/recipe/make_card.py
  /usr/bin/python3 models/recipe/make_card.py --refresh   # only the analysis sections and intervals of the existing card

--refresh rewrites, in the committed card, the "Future-token probes" section (from work/eval_probes.json,
probes.json and baselines.json) and the interval of every held-out row with fewer than 10 documents (from
work/cli_corpus_source_<name>.json, a block bootstrap), for when the training logs and checkpoints that the
full card needs are not on this machine.

Reads work/sources.json, work/{train,val}.docs.json, work/train_{forward,backward}.log, work/eval.json
(evaluate.py), work/cli_corpus_{all,prose,code}.json (`lm-probe corpus --json`), and, where present,
work/eval_probes.json (`lm-probe eval-probes --json`) and models/default/probes.json.
"""
import json
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
WORK = os.path.join(HERE, 'work')
PACK = os.path.join(ROOT, 'models', 'default')


def jload(name, default=None):
    p = os.path.join(WORK, name)
    if not os.path.exists(p):
        return default
    with open(p, encoding='utf-8') as f:
        return json.load(f)


def log_records(direction):
    with open(os.path.join(WORK, f'train_{direction}.log')) as f:
        return [json.loads(l) for l in f if l.strip()]


def fmt(x, d=4):
    return 'n/a' if x is None else f'{x:.{d}f}'


MIN_DOCS = 10  # no interval from fewer documents: below it, blocks of tokens (lm-probe corpus), and the card says so


def group_ci(kind, name, documents, doc_ci):
    """The delta interval of a held-out row: over documents when it has >= MIN_DOCS, else the block bootstrap of
    `lm-probe corpus` over that group's files (work/cli_corpus_<kind>_<name>.json), else none."""
    if documents >= MIN_DOCS and doc_ci:
        return f'[{doc_ci[0]:+.5f}, {doc_ci[1]:+.5f}] (documents)'
    c = jload(f'cli_corpus_{kind}_{name}.json')
    if c and c.get('deltaCI95') and c.get('bootstrap', {}).get('unit') == 'block':
        b = c['bootstrap']
        return f"[{c['deltaCI95'][0]:+.5f}, {c['deltaCI95'][1]:+.5f}] ({b['units']} blocks of {b['blockTokens']} tokens: {documents} documents are too few)"
    return f'n/a ({documents} documents: too few)'


def pct(x):
    return f'{100 * x:.2f}'


def probes_section(pe, ph, arch):
    """The card's future-token probe section: probes against the skip-bigram of the training split, the model's
    greedy rollout and the fitting-text bigram, with paired bootstrap intervals over documents."""
    out = []
    w = out.append
    fo = ph.get('fittedOn', {})
    w(f"Linear maps (the Future Lens linear model) from the hidden state at position t and layer l to the final-layer "
      f"hidden state that predicts the token at t+k, k = 1..3, fitted in closed form by ridge regression with the engine's "
      f"fitter (`lm-probe fit-probes`, src/engine/analysis) on {fo.get('tokens', 0):,} tokens of training text "
      f"(work/probe-fit, an equal share of each source), penalty chosen on {fo.get('heldOutTokens', 0):,} other "
      f"training tokens (work/probe-heldout) from the grid {ph.get('lambdaGrid')}. Format: probes.json + probes.bin "
      f"(documented in src/engine/analysis/probes.ts). Layer {arch['layers']} with k = 1 is the model's own head (identity map).")
    w('')
    sb = pe.get('skipBigram')
    ro = pe.get('rollout')
    w(f"precision@1 (share of positions t whose top-1 guess is the token at t+k, in %) on {pe['tokens']:,} tokens of the "
      f"{pe.get('documents', 'n/a')} held-out documents (`lm-probe eval-probes`, work/probe-eval: the first 2,000 characters of "
      f"each). Baselines, from strongest to weakest:")
    w('')
    if sb:
        w(f"- **skip-bigram (training split)**: the most frequent token at distance k after the current token in the model's whole "
          f"training split ({sb['countedOnTokens']:,} tokens), shipped with the pack as a top-1 table (`baselines.json` + "
          f"`baselines.bin`, written by `models/recipe/skip_bigrams.ts`); anyone can recompute its precision from that file.")
    if ro:
        w(f"- **greedy rollout**: the model's own top-1 for t+1 fed back as if read, then its top-1 for t+2, and so on "
          f"(on {'every position' if ro['every'] == 1 else 'every ' + str(ro['every']) + 'th position'}: {ro['positions'][-1]:,} "
          f"positions for k = {pe['offsets'][-1]}); at k = 1 it is the model's next-token accuracy.")
    w("- **bigram (fitting text)**: the same table as the skip-bigram, counted on the probes' 100k fitting tokens only (stored in "
      "probes.json); **in-sample bigram**: counted on the evaluated text itself (an optimistic bound, not a baseline).")
    w('')
    w('| layer | ' + ' | '.join(f'k={k}' for k in pe['offsets']) + ' |')
    w('| --- | ' + ' | '.join('---' for _ in pe['offsets']) + ' |')
    for li, layer in enumerate(pe['layers']):
        w(f"| {layer}{' (embeddings)' if layer == 0 else ''} | " + ' | '.join(pct(pe['precisionAt1'][li][oi]) for oi in range(len(pe['offsets']))) + ' |')
    if sb:
        w('| skip-bigram (training split) | ' + ' | '.join(pct(x) for x in sb['precisionAt1']) + ' |')
    if ro:
        w('| greedy rollout | ' + ' | '.join(pct(x) for x in ro['precisionAt1']) + ' |')
    if pe.get('bigramPrecisionAt1'):
        w('| bigram (fitting text) | ' + ' | '.join(pct(x) for x in pe['bigramPrecisionAt1']) + ' |')
    w('| in-sample bigram | ' + ' | '.join(pct(x) for x in pe['bigramInSamplePrecisionAt1']) + ' |')
    w('')
    w(f"Model next-token accuracy (argmax of the logits): {pct(pe['modelNextTokenAccuracy'])}%.")
    w('')
    comps = pe.get('comparisons') or []
    if comps:
        w(f"The best probe of each k against each baseline, on the same positions: difference in percentage points with its "
          f"{pe.get('intervalNote', '')}.")
        w('')
        w('| k | best layer | baseline | probe (%) | baseline (%) | difference (points) | 95% interval | positions | verdict |')
        w('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
        loses = []
        for c in comps:
            iv = c.get('interval')
            ci = f"[{100 * iv['lo']:+.2f}, {100 * iv['hi']:+.2f}]" if iv else 'n/a'
            if iv and iv['hi'] < 0:
                verdict = '**probe loses**'
                loses.append(c)
            elif iv and iv['lo'] > 0:
                verdict = 'probe wins'
            elif c['offset'] == 1 and c['baseline'] == 'greedy rollout':
                verdict = 'the same guess (identity map)'
            else:
                verdict = 'no clear difference'
            w(f"| {c['offset']} | {c['layer']} | {c['baseline']} | {pct(c['probe'])} | {pct(c['baselinePrecision'])} | "
              f"{100 * c['difference']:+.2f} | {ci} | {c['positions']:,} | {verdict} |")
        w('')
        behind = [c for c in comps if c['difference'] < 0 and c not in loses]
        if loses or behind:
            parts = [f"k = {c['offset']} against the {c['baseline']} ({pct(c['probe'])}% vs {pct(c['baselinePrecision'])}%, interval excludes 0)" for c in loses]
            parts += [f"k = {c['offset']} against the {c['baseline']} ({pct(c['probe'])}% vs {pct(c['baselinePrecision'])}%, interval includes 0)" for c in behind]
            w("**Where the probes lose.** " + '; '.join(parts) + ". A linear map from one state does not read off t+k better "
              "than a lookup table of the training split or than the model continuing its own guess: on this model the "
              "probes show what the states hold, not that the model plans ahead. (With your own model, this table is what tells "
              "you whether it pre-caches: probes that beat both baselines.)")
        else:
            w("The best probes beat every baseline here.")
        w('')
    return out


def refresh():
    """Rewrites the analysis sections and the small-group intervals of the committed card (see the module doc)."""
    card_path = os.path.join(PACK, 'MODEL_CARD.md')
    card = open(card_path, encoding='utf-8').read()
    manifest = json.load(open(os.path.join(PACK, 'manifest.json')))
    pe = jload('eval_probes.json')
    ph = json.load(open(os.path.join(PACK, 'probes.json')))
    head, rest = card.split('## Future-token probes\n', 1)
    _, tail = rest.split('## How to rebuild\n', 1)
    card = head + '## Future-token probes\n\n' + '\n'.join(probes_section(pe, ph, manifest['architecture'])) + '\n## How to rebuild\n' + tail
    lines = card.split('\n')
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.split('|')]
        # held-out rows: | text | documents | tokens | L_fw | L_bw | delta | CI | unigram |
        if len(cells) == 10 and (cells[1].startswith('source: ') or cells[1].startswith('kind: ') or cells[1] == 'all') and cells[2].isdigit():
            docs = int(cells[2])
            name = cells[1].split(': ', 1)[-1]
            kind = cells[1].split(':')[0] if ':' in cells[1] else 'all'
            ci = cells[7]
            doc_ci = None
            if ci.startswith('[') and docs >= MIN_DOCS:
                lo, hi = ci.split(']')[0].strip('[').split(',')
                doc_ci = [float(lo), float(hi)]
            if docs >= MIN_DOCS and not doc_ci:
                continue  # a row that never had an interval (the engine table's token-weighted kinds)
            cells[7] = group_ci(kind, name, docs, doc_ci)
            lines[i] = '| ' + ' | '.join(cells[1:-1]) + ' |'
    card = '\n'.join(lines)
    card = card.replace("95% interval: percentile bootstrap over documents, 1000 resamples",
                        "95% interval: percentile bootstrap over documents when a row has at least 10 of them, otherwise over "
                        "blocks of one context length of its tokens (`lm-probe corpus` on that row's files; the cell says which), 1000 resamples")
    if 'skip_bigrams.ts' not in card.split('## How to rebuild', 1)[1]:
        card = card.replace("/usr/bin/python3 models/recipe/probe_text.py      # work/probe-fit, work/probe-heldout\n",
                            "for s in nodejs-api-docs typescript-lib; do node dist/cli.js corpus --providers cpu --json models/recipe/work/val/${s}_*.txt \\\n"
                            "  > models/recipe/work/cli_corpus_source_${s}.json; done   # sources of fewer than 10 documents: block intervals\n"
                            "node --import tsx models/recipe/skip_bigrams.ts  # models/default/baselines.json + .bin (training-split skip-bigram)\n"
                            "/usr/bin/python3 models/recipe/probe_text.py      # work/probe-fit, work/probe-heldout\n")
        card = card.replace("eval-probes --providers cpu --model models/default --json --max-tokens 50000 \\\n",
                            "eval-probes --providers cpu --model models/default --json --max-tokens 50000 --rollout-every 1 \\\n")
    card = card.replace("/usr/bin/python3 models/recipe/make_card.py         # this card",
                        "/usr/bin/python3 models/recipe/make_card.py         # this card (--refresh: only its analysis sections and intervals)")
    import re
    card = re.sub(r'_Generated [^_]*_', f"_Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (analysis sections and small-group intervals refreshed with make_card.py --refresh)._", card)
    open(card_path, 'w', encoding='utf-8').write(card)


PROBE_TOKENS = int(os.environ.get('PROBE_TOKENS', '100000'))
EVAL_PROBE_TOKENS = int(os.environ.get('EVAL_PROBE_TOKENS', '50000'))


def main():
    sources = jload('sources.json')
    tdocs, vdocs = jload('train.docs.json'), jload('val.docs.json')
    ev = jload('eval.json')
    cli = {k: jload(f'cli_corpus_{k}.json') for k in ('all', 'prose', 'code')}
    probes_eval = jload('eval_probes.json')
    manifest = json.load(open(os.path.join(PACK, 'manifest.json')))
    arch = manifest['architecture']
    logs = {d: log_records(d) for d in ('forward', 'backward')}
    tok = json.load(open(os.path.join(PACK, 'tokenizer.json'), encoding='utf-8'))
    L = []
    w = L.append

    start = next(r for r in logs['forward'] if r.get('event') == 'start')
    args = start['args']
    done = {d: next((r for r in logs[d] if r.get('event') == 'done'), None) for d in logs}
    steps_last = {d: [r for r in logs[d] if 'step' in r and 'loss' in r][-1] for d in logs}
    resumes = [r for r in logs['forward'] if r.get('event') == 'resume']
    final_args = resumes[-1]['args'] if resumes else args
    steps = final_args['steps']
    tokens_seen = steps * args['batch'] * args['context']
    train_tokens = sum(d['len'] for d in tdocs)
    val_tokens = sum(d['len'] for d in vdocs)
    params = start['params']
    files = {f: os.path.getsize(os.path.join(PACK, f)) for f in sorted(os.listdir(PACK)) if f != 'MODEL_CARD.md'}
    pack_bytes = sum(files.values())

    w('# LM Probe default model pack')
    w('')
    w('A forward and a backward GPT-2-style language model with one shared byte-level BPE tokenizer, trained from scratch '
      'on the CPU by `models/recipe` in the way of Papadopoulos et al. 2024, "Arrows of time for large language models": '
      'identical architecture, hyperparameters, seed and data windows; the backward model reads every window with its token ids '
      'reversed. It is small and trained on technical text only (Python and Node.js documentation, Python and TypeScript '
      'source): it exists so that LM Probe works offline on a fresh machine, not to be a good language model.')
    w('')
    if not (done['forward'] and done['backward']):
        w(f"**Interim pack**: exported from training checkpoints (forward step {steps_last['forward']['step']}, backward step "
          f"{steps_last['backward']['step']}) while training goes on; figures below are partial.")
        w('')
    w('This card is generated by `models/recipe/make_card.py` from the logs and JSON outputs of the commands listed at the end.')
    w('')
    w('## Summary')
    w('')
    w('| | |')
    w('| --- | --- |')
    w(f"| parameters | {params:,} per direction (tied embeddings counted once) |")
    w(f"| architecture | {arch['layers']} layers, {arch['heads']} heads, width {arch['width']}, context {manifest['contextLength']} (BOS included), vocabulary {arch['vocabSize']} |")
    w(f"| training tokens | {train_tokens:,} in the training split; {tokens_seen:,} token positions seen per direction ({steps} steps x {args['batch']} windows x {args['context']}) = {tokens_seen / train_tokens:.2f} epochs |")
    w(f"| held-out tokens | {val_tokens:,} ({len(vdocs)} documents) |")
    if ev:
        a = ev['all']
        w(f"| held-out loss, forward | {fmt(a['forwardMeanNats'])} nats/token |")
        w(f"| held-out loss, backward | {fmt(a['backwardMeanNats'])} nats/token |")
        w(f"| delta = (L_bw - L_fw) / mean | {a['delta']:+.5f}, 95% CI [{a['deltaCI95'][0]:+.5f}, {a['deltaCI95'][1]:+.5f}] (bootstrap over documents) |")
        w(f"| unigram baseline | {fmt(a['unigramMeanNats'])} nats/token (training unigram distribution, add-one smoothed, on the held-out tokens) |")
    w(f"| pack size | {pack_bytes / 1e6:.1f} MB on disk ({', '.join(f'{k} {v / 1e6:.2f} MB' for k, v in files.items())}) |")
    w('')

    w('## Sources and licenses')
    w('')
    w('All text comes from Debian or npm packages installed on the project machines, fetched by `models/recipe/corpus.py`. '
      'Each file is a document; files over 60,000 characters are cut at blank lines into several documents. Exact duplicates '
      '(SHA-256 of the text) are dropped; about 3% of documents (chosen by a hash of the document name) are held out.')
    w('')
    w('| source | kind | package (version) | license | files | documents | duplicates dropped | characters | train tokens | held-out documents | held-out tokens |')
    w('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for s in sources:
        tt = sum(d['len'] for d in tdocs if d['source'] == s['name'])
        vt = sum(d['len'] for d in vdocs if d['source'] == s['name'])
        w(f"| {s['name']} | {s['kind']} | {s['package']} ({s['version']}) | {s['license']} | {s['files']} | {s['docs']} | {s['dups']} | {s['chars']:,} | {tt:,} | {s['valDocs']} | {vt:,} |")
    prose = sum(d['len'] for d in tdocs if d['kind'] == 'prose')
    code = sum(d['len'] for d in tdocs if d['kind'] == 'code')
    w('')
    w(f'Training tokens: prose {prose:,} ({100 * prose / train_tokens:.0f}%), code {code:,} ({100 * code / train_tokens:.0f}%). '
      'No public-domain book was found among Debian packages (`apt-cache search gutenberg` lists only dictionaries and '
      'stylesheets), so the prose is technical documentation (which also contains code examples); the models know little of '
      'narrative English. The Node.js API docs are the Markdown files that the installed `nodejs` package (NodeSource build) '
      'ships under /usr/share/doc/nodejs/api; Debian\'s `nodejs-doc` carries the same documentation.')
    w('')

    w('## Tokenizer')
    w('')
    w(f"Byte-level BPE trained by `models/recipe/bpe.py` (its own trainer: GPT-2 byte-to-unicode map and GPT-2 pre-tokenizer "
      f"regex, merges learned on a 6M-character sample with an equal share from each source). {len(tok['model']['vocab'])} ids: "
      f"0 = `<|bos|>` (an added special token that encoding text never produces), 1-256 the 256 bytes, then "
      f"{len(tok['model']['merges'])} merges. Written as a standard Hugging Face tokenizer.json (model BPE, pre-tokenizer "
      f"ByteLevel with add_prefix_space false and use_regex true, ByteLevel decoder, ByteLevel post-processor with "
      f"trim_offsets false, no normalizer: CRLF, tabs and Unicode are kept as bytes). "
      f"{sum(s['chars'] for s in sources) / (train_tokens + val_tokens):.2f} characters per token on the corpus. "
      f"test/pack/tokenizer-parity.test.ts checks that @huggingface/tokenizers and the engine's tokenizer give the recipe "
      f"encoder's ids on {len(json.load(open(os.path.join(ROOT, 'test/pack/fixtures/tokenizer-lines.json'), encoding='utf-8'))['lines'])} "
      f"lines (held-out lines plus emoji, CJK, combining marks, CRLF, tabs, control characters).")
    w('')

    w('## Architecture and graphs')
    w('')
    w(f"GPT-2 style (`models/recipe/model.py`): learned absolute positions, pre-LayerNorm blocks, GELU MLP (4x width), "
      f"attention written out (q k^T, causal mask, softmax) so that its probabilities are a graph output, final LayerNorm, "
      f"unembedding tied to the token embedding. {params:,} parameters. ONNX opset 17, dynamic batch and length, fp32: "
      f"`input_ids` int64 [B,T] -> `logits` [B,T,V], `hidden_states` [L+1,B,T,D] (0 = embeddings, l = residual after block l, "
      f"before the final norm), `attentions` [L,B,H,T,T]. `head.onnx`: `hidden` [N,D] -> `logits` [N,V] (final norm + unembedding). "
      f"BOS convention as in docs/model-pack.md: a window x reads [BOS, x0 .. x(T-2)] and predicts x0 .. x(T-1); the backward graph "
      f"does the same on the reversed window. test/pack/parity.test.ts checks onnxruntime-node against the torch outputs saved "
      f"in parity.json (max abs logit difference < 1e-4 for both directions and the head).")
    w('')

    w('## Training')
    w('')
    t_fw = done['forward']['train_seconds'] if done['forward'] else steps_last['forward']['train_seconds']
    t_bw = done['backward']['train_seconds'] if done['backward'] else steps_last['backward']['train_seconds']
    end_time = (done['forward'] or {}).get('time'), (done['backward'] or {}).get('time')
    w(f"`models/recipe/train.py`, both directions at the same time as two processes, one CPU thread each (torch "
      f"{start['torch']}, `{start['cpu']}` CPU, {os.cpu_count()} cores shared with other engineers' builds and tests). "
      f"AdamW (betas 0.9/0.95, weight decay {args['weight_decay']} on matrices), peak LR {args['lr']}, "
      f"{args['warmup']} warmup steps, then a warmup-stable-decay schedule: constant LR to step {final_args.get('decay_start')}, "
      f"cosine decay to {args['min_lr_frac']} x peak at step {steps}; batch {args['batch']} windows of {args['context']} tokens "
      f"drawn at random offsets of the training token stream (documents concatenated), the same windows in the same order "
      f"for both directions (seed {args['seed']}); gradient clipping 1.0; no dropout.")
    w('')
    w('| direction | steps | final training loss (last logged step) | training time (s, summed step times) | tokens/s | started | finished |')
    w('| --- | --- | --- | --- | --- | --- | --- |')
    for d, t, e in (('forward', t_fw, end_time[0]), ('backward', t_bw, end_time[1])):
        last = steps_last[d]
        w(f"| {d} | {last['step']} | {last['loss']} | {t:.0f} | {last['step'] * args['batch'] * args['context'] / t:.0f} | {start['time'] if d == 'forward' else next(r for r in logs[d] if r.get('event') == 'start')['time']} | {e} |")
    w('')
    if resumes:
        w(f"The runs were stopped and resumed from their checkpoints {len(resumes)} time(s) (at steps "
          f"{', '.join(str(r['step']) for r in resumes)} for forward) to set the schedule's length once the throughput on the shared "
          f"CPU was known; a resumed run continues with the same windows and the same schedule (both depend only on the step). "
          f"Before these runs, a first launch (cosine schedule over 2,000 steps) was stopped after about 4 minutes, at step ~50, "
          f"when the CPU turned out to be busier than measured; nothing of it is in the pack.")
        w('')

    w('## Held-out results')
    w('')
    if ev:
        w(f"Mean nats per token over the held-out documents, scored the way the engine scores text (windows of "
          f"{ev['windowTokens']} tokens with BOS prepended; after the first window each token has at least half a window of "
          f"context), by `models/recipe/evaluate.py` on the PyTorch checkpoints. delta = (L_bw - L_fw) / ((L_bw + L_fw) / 2): "
          f"positive means the backward model finds the text harder. 95% interval: percentile bootstrap over documents, "
          f"1000 resamples, the CLI's PRNG and seed (mulberry32, seed 1). Unigram baseline: cross-entropy of the held-out tokens "
          f"under the training split's add-one-smoothed unigram distribution.")
        w('')
        w('| text | documents | tokens | L_fw (nats) | L_bw (nats) | delta | delta 95% CI | unigram (nats) |')
        w('| --- | --- | --- | --- | --- | --- | --- | --- |')
        rows = [('all', ev['all'])] + [(f'kind: {k}', v) for k, v in ev['byKind'].items()] + [(f'source: {k}', v) for k, v in ev['bySource'].items()]
        for name, s in rows:
            kind, _, gname = name.partition(': ')
            ci = group_ci(kind if gname else 'all', gname or 'all', s['documents'], s['deltaCI95'])
            w(f"| {name} | {s['documents']} | {s['tokens']:,} | {fmt(s['forwardMeanNats'])} | {fmt(s['backwardMeanNats'])} | {s['delta']:+.5f} | "
              f"{ci} | {fmt(s['unigramMeanNats'])} |")
        w('')
        a = ev['all']
        sign = 'positive' if a['delta'] > 0 else 'negative'
        excl = a['deltaCI95'][0] > 0 or a['deltaCI95'][1] < 0
        w(f"Sign of delta on the whole held-out split: {sign} ({a['delta']:+.5f}); the 95% interval "
          f"{'excludes' if excl else 'includes'} zero. Papadopoulos et al. report a small positive delta (backward harder) for "
          f"natural language with large models; this pack's figure comes from a {params / 1e6:.1f}M-parameter model trained for "
          f"{tokens_seen / train_tokens:.2f} epochs on documentation and source code, so it says little about that claim.")
        w(f"Entropy of the training unigram distribution itself: {ev['unigramEntropyTrainNats']:.4f} nats.")
        w('')
    if cli['all']:
        c = cli['all']
        kind_of = {os.path.basename(d['file']): d['kind'] for d in ev['docs']} if ev else {}
        w('Reproduced with the engine (onnxruntime-node on the committed ONNX graphs), '
          '`node dist/cli.js corpus --providers cpu --json models/recipe/work/val/*.txt`; the per-kind rows are token-weighted '
          'sums of the per-file figures in the same output:')
        w('')
        w('| text | files | tokens | L_fw (nats) | L_bw (nats) | delta | delta 95% CI | difference from the table above (L_fw, L_bw) |')
        w('| --- | --- | --- | --- | --- | --- | --- | --- |')
        ci = c['deltaCI95']
        ref = ev['all'] if ev else None
        def rel(a, b):
            return f'{100 * (a - b) / b:+.4f}%'
        w(f"| all | {len(c['files'])} | {c['tokens']:,} | {c['forward']['meanNats']:.4f} | {c['backward']['meanNats']:.4f} | {c['delta']:+.5f} | "
          f"[{ci[0]:+.5f}, {ci[1]:+.5f}] | {rel(c['forward']['meanNats'], ref['forwardMeanNats']) + ', ' + rel(c['backward']['meanNats'], ref['backwardMeanNats']) if ref else 'n/a'} |")
        for k in sorted(set(kind_of.values())):
            fs = [f for f in c['files'] if kind_of.get(os.path.basename(f['file'])) == k]
            n = sum(f['tokens'] for f in fs)
            if not n:
                continue
            lf = sum(f['tokens'] * f['forwardMeanNats'] for f in fs) / n
            lb = sum(f['tokens'] * f['backwardMeanNats'] for f in fs) / n
            r = ev['byKind'][k]
            w(f"| kind: {k} | {len(fs)} | {n:,} | {lf:.4f} | {lb:.4f} | {(lb - lf) / ((lb + lf) / 2):+.5f} | n/a | "
              f"{rel(lf, r['forwardMeanNats'])}, {rel(lb, r['backwardMeanNats'])} |")
        w('')
        w(f"Engine speed on this run: {c['tokensPerSecond']:.0f} tokens/s on {c['provider']} ({c['seconds']:.1f} s, both directions, "
          f"on the shared 2-core machine).")
        w('')

    ood = jload('eval_ood.json')
    if ood:
        w('Spot check on text that is in neither the corpus nor this repository (`models/recipe/evaluate.py --glob FILES`): '
          'English prose (a license text, a Vim manual chapter) and code in other languages or packages. The unigram column is '
          'the same training-split unigram baseline as above.')
        w('')
        w('| file | tokens | L_fw (nats) | L_bw (nats) | unigram (nats) |')
        w('| --- | --- | --- | --- | --- |')
        for d in ood['docs']:
            w(f"| {d['source']} | {d['tokens']:,} | {d['fwNats'] / d['tokens']:.4f} | {d['bwNats'] / d['tokens']:.4f} | {d['unigramNats'] / d['tokens']:.4f} |")
        w('')

    w('## Future-token probes')
    w('')
    probes_path = os.path.join(PACK, 'probes.json')
    if probes_eval and os.path.exists(probes_path):
        ph = json.load(open(probes_path))
        L.extend(probes_section(probes_eval, ph, arch))
    else:
        w('Not in this pack: no probes were fitted (see the report of the session that built it). The manifest has no `probes` '
          'field, so the future-lens analysis reports that probes are unavailable.')
        w('')

    w('## How to rebuild')
    w('')
    w('From the repository root, with Debian\'s PyTorch (`apt-get install -y python3-torch python3-onnx python3-numpy python3-regex '
      'libopenblas0-pthread`; use /usr/bin/python3) and `npm ci` done:')
    w('')
    w('```sh')
    w('/usr/bin/python3 models/recipe/corpus.py            # --install first apt-installs the Debian packages it reads')
    w('/usr/bin/python3 models/recipe/bpe.py train         # work/tokenizer.json')
    w('/usr/bin/python3 models/recipe/bpe.py encode        # work/train.bin, work/val.bin')
    w(f"OMP_NUM_THREADS=1 /usr/bin/python3 models/recipe/train.py --direction forward  --steps {steps} --decay-start {final_args.get('decay_start')} &")
    w(f"OMP_NUM_THREADS=1 /usr/bin/python3 models/recipe/train.py --direction backward --steps {steps} --decay-start {final_args.get('decay_start')} &")
    w('wait')
    w('/usr/bin/python3 models/recipe/export.py            # models/default/*.onnx, manifest.json, parity.json, test/pack/fixtures')
    w('OMP_NUM_THREADS=2 /usr/bin/python3 models/recipe/evaluate.py > models/recipe/work/eval.json')
    w('/usr/bin/python3 models/recipe/evaluate.py --glob /usr/share/common-licenses/GPL-3 /usr/share/vim/vim90/doc/usr_01.txt \\')
    w('  /usr/include/stdio.h /usr/lib/python3/dist-packages/numpy/core/numeric.py node_modules/esbuild/lib/main.js > models/recipe/work/eval_ood.json')
    w('npm run build')
    w('node dist/cli.js corpus --providers cpu --json models/recipe/work/val/*.txt > models/recipe/work/cli_corpus_all.json')
    if probes_eval:
        w('/usr/bin/python3 models/recipe/probe_text.py      # work/probe-fit, work/probe-heldout')
        w('held=(); for f in models/recipe/work/probe-heldout/*.txt; do held+=(--held-out "$f"); done')
        w(f"node dist/cli.js fit-probes --providers cpu --model models/default --out models/default/probes.json --set-manifest \\")
        w(f"  --max-tokens {PROBE_TOKENS} \"${{held[@]}}\" models/recipe/work/probe-fit/*.txt")
        w(f"node dist/cli.js eval-probes --providers cpu --model models/default --json --max-tokens {EVAL_PROBE_TOKENS} \\")
        w('  models/recipe/work/probe-eval/*.txt > models/recipe/work/eval_probes.json')
    w('/usr/bin/python3 models/recipe/make_card.py         # this card')
    w('node scripts/run-tests.mjs test/pack                # parity tests')
    w('```')
    w('')
    w('Training is deterministic given the seed up to floating-point nondeterminism of multi-threaded CPU kernels; '
      'the runs here used one thread each.')
    w('')
    w('## Limitations')
    w('')
    w('- Tiny model, trained well under two epochs: high surprisal on anything unlike Python/Node.js docs and Python/TypeScript '
      'source; narrative English, other programming languages and non-English text are barely covered.')
    w('- The held-out split comes from the same packages as the training split (different documents), so the held-out loss '
      'is optimistic for text from elsewhere.')
    w('- Windows were drawn across document boundaries during training; the engine scores each selection as its own sequence.')
    w('')
    w(f"_Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}._")
    with open(os.path.join(PACK, 'MODEL_CARD.md'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(L) + '\n')
    print('wrote', os.path.join(PACK, 'MODEL_CARD.md'))


if __name__ == '__main__':
    import sys
    refresh() if '--refresh' in sys.argv[1:] else main()
