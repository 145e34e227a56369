#!/usr/bin/env bash
# After both training runs: export the pack, measure, fit the probes, write the card, run the pack tests.
#   bash models/recipe/finish.sh            (from the repository root; needs `npm ci`)
# CLI=path/to/cli.js overrides the CLI bundle (default dist/cli.js, built by `npm run build`).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
W=models/recipe/work
CLI=${CLI:-dist/cli.js}
[ -f "$CLI" ] || npm run --silent build
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
OOD="/usr/share/common-licenses/GPL-3 /usr/share/vim/vim90/doc/usr_01.txt /usr/include/stdio.h /usr/lib/python3/dist-packages/numpy/core/numeric.py node_modules/esbuild/lib/main.js"

rm -f models/default/probes.json models/default/probes.bin
$PY models/recipe/export.py
# the recipe's own figures (PyTorch) and the engine's (onnxruntime-node), side by side
$PY models/recipe/evaluate.py > $W/eval.json &
node "$CLI" corpus --providers cpu --json $W/val/*.txt > $W/cli_corpus_all.json
wait
# spot check on text outside the corpus and this repo (English prose and code in other packages)
$PY models/recipe/evaluate.py --glob $OOD > $W/eval_ood.json

# sources of fewer than 10 held-out documents get a block-bootstrap interval instead of one over documents
for s in nodejs-api-docs typescript-lib; do
  node "$CLI" corpus --providers cpu --json $W/val/${s}_*.txt > $W/cli_corpus_source_${s}.json
done
# the training-split skip-bigram table shipped with the pack (the probes' strongest lookup baseline)
node --import tsx models/recipe/skip_bigrams.ts

if [ "${SKIP_PROBES:-0}" != 1 ]; then
  $PY models/recipe/probe_text.py
  held=()
  for f in $W/probe-heldout/*.txt; do held+=(--held-out "$f"); done
  node "$CLI" fit-probes --providers cpu --model models/default --out models/default/probes.json --set-manifest \
    --max-tokens "${PROBE_TOKENS:-100000}" "${held[@]}" $W/probe-fit/*.txt
  node "$CLI" eval-probes --providers cpu --model models/default --json --max-tokens "${EVAL_PROBE_TOKENS:-50000}" --rollout-every "${ROLLOUT_EVERY:-1}" $W/probe-eval/*.txt > $W/eval_probes.json
fi
$PY models/recipe/make_card.py
node scripts/run-tests.mjs test/pack
du -sh models/default
