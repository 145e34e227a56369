// The skip-bigram baseline of the future-token probes, counted on the model's whole training split
// and written into the pack as a compact top-1 table (models/default/baselines.json + .bin).
//
//   node --import tsx models/recipe/skip_bigrams.ts [--pack models/default] [--corpus models/recipe/work/corpus/train.jsonl]
//
// For each offset k in 1..3 and each token a: next[k][a] = the most frequent token b at distance k
// after a (within a document; ties: the smaller id), with count(a, b) and the number of pairs that
// start with a, so the table's guesses (and how often they held in training) can be checked from the
// file alone. A token never seen as a start (or too near a document's end) gets the most frequent
// token of the split (fallback). Documents are tokenized one by one, exactly as the engine tokenizes
// a file (the pack's tokenizer.json through @huggingface/tokenizers, no BOS).
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadPack } from '../../src/engine/pack';
import { writeBaselines } from '../../src/engine/analysis/baselines';

const OFFSETS = [1, 2, 3];

async function main(): Promise<void> {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const packDir = arg('--pack', 'models/default');
  const corpus = arg('--corpus', 'models/recipe/work/corpus/train.jsonl');
  const pack = loadPack(packDir);
  const V = pack.manifest.architecture.vocabSize;
  const pairs = OFFSETS.map(() => new Uint32Array(V * V));
  const unigram = new Float64Array(V);
  let tokens = 0;
  let documents = 0;
  const lines = createInterface({ input: createReadStream(corpus, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const ids = pack.tokenizer.encode((JSON.parse(line) as { text: string }).text).ids;
    documents++;
    tokens += ids.length;
    for (let t = 0; t < ids.length; t++) {
      unigram[ids[t]]++;
      OFFSETS.forEach((k, oi) => {
        if (t + k < ids.length) pairs[oi][ids[t] * V + ids[t + k]]++;
      });
    }
    if (documents % 200 === 0) process.stderr.write(`${documents} documents, ${tokens} tokens\n`);
  }
  let fallback = 0;
  for (let v = 1; v < V; v++) if (unigram[v] > unigram[fallback]) fallback = v;
  const tables = pairs.map((p) => {
    const next = new Uint16Array(V);
    const top = new Uint32Array(V);
    const total = new Uint32Array(V);
    for (let a = 0; a < V; a++) {
      let best = -1;
      let bc = 0;
      let s = 0;
      for (let b = 0; b < V; b++) {
        const c = p[a * V + b];
        s += c;
        if (c > bc) {
          bc = c;
          best = b;
        }
      }
      next[a] = best >= 0 ? best : fallback;
      top[a] = bc;
      total[a] = s;
    }
    return { next, top, total };
  });
  const out = join(packDir, 'baselines.json');
  writeBaselines(out, {
    offsets: OFFSETS,
    vocabSize: V,
    fallback,
    countedOn: { description: 'the training split of models/recipe (work/corpus/train.jsonl), each document tokenized on its own', documents, tokens },
    tables,
  });
  // name it in the manifest (export.py keeps it there on later exports)
  const mPath = join(packDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(mPath, 'utf8'));
  if (manifest.baselines !== 'baselines.json') writeFileSync(mPath, JSON.stringify({ ...manifest, baselines: 'baselines.json' }, null, 1) + '\n');
  process.stderr.write(`wrote ${out}: ${documents} documents, ${tokens} tokens, fallback token ${fallback}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
