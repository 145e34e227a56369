// The committed default pack (models/default) against the torch outputs that the recipe saved beside it
// (models/recipe/export.py -> parity.json): onnxruntime-node must reproduce the logits within 1e-4,
// and the hidden states, attention probabilities and head graph must follow docs/model-pack.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadPack } from '../../src/engine/pack';

const PACK = resolve(__dirname, '..', '..', 'models', 'default');

interface Case {
  direction: 'forward' | 'backward';
  inputIds: number[][];
  vocabSubset: number[];
  logitsSubset: number[];
  logitsLastStride8: number[];
  hiddenLast: number[];
  attentionsLastRow: number[];
}
interface Parity {
  tolerance: number;
  shapes: { layers: number; heads: number; width: number; vocabSize: number };
  cases: Case[];
  head: { hidden: number[]; n: number; logits: number[] };
}

const parity = JSON.parse(readFileSync(join(PACK, 'parity.json'), 'utf8')) as Parity;
const manifest = JSON.parse(readFileSync(join(PACK, 'manifest.json'), 'utf8'));
const { layers: L, heads: H, width: D, vocabSize: V } = parity.shapes;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const sessions = new Map<string, ort.InferenceSession>();
async function session(file: string): Promise<ort.InferenceSession> {
  let s = sessions.get(file);
  if (!s) {
    s = await ort.InferenceSession.create(join(PACK, file), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    sessions.set(file, s);
  }
  return s;
}

test('the pack is under 40 MB and its manifest matches the parity shapes', () => {
  const bytes = readdirSync(PACK).reduce((n, f) => n + statSync(join(PACK, f)).size, 0);
  assert.ok(bytes < 40 * 1024 * 1024, `pack is ${bytes} bytes`);
  assert.deepEqual(manifest.architecture, { layers: L, heads: H, width: D, vocabSize: V });
  assert.deepEqual(manifest.bos, { id: 0, token: '<|bos|>' });
});

test('the engine loads the pack', () => {
  const pack = loadPack(PACK);
  assert.equal(pack.info.contextLength, manifest.contextLength);
  assert.equal(pack.info.hasBackward, true);
  assert.equal(pack.tokenizer.tokenId('<|bos|>'), 0);
});

for (const [i, c] of parity.cases.entries()) {
  const B = c.inputIds.length;
  const T = c.inputIds[0].length;
  test(`${c.direction} graph matches torch (case ${i}: batch ${B}, length ${T})`, async () => {
    const s = await session(manifest[c.direction]);
    const ids = new ort.Tensor('int64', BigInt64Array.from(c.inputIds.flat().map(BigInt)), [B, T]);
    const out = await s.run({ [manifest.graph.inputs.inputIds]: ids });
    const logits = out[manifest.graph.outputs.logits];
    const hidden = out[manifest.graph.outputs.hiddenStates];
    const att = out[manifest.graph.outputs.attentions];
    assert.deepEqual(logits.dims, [B, T, V]);
    assert.deepEqual(hidden.dims, [L + 1, B, T, D]);
    assert.deepEqual(att.dims, [L, B, H, T, T]);
    const lg = logits.data as Float32Array;
    const hd = hidden.data as Float32Array;
    const at = att.data as Float32Array;

    const subset: number[] = [];
    const last: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) for (const v of c.vocabSubset) subset.push(lg[(b * T + t) * V + v]);
      for (let v = 0; v < V; v += 8) last.push(lg[(b * T + T - 1) * V + v]);
    }
    const dLogits = Math.max(maxAbsDiff(subset, c.logitsSubset), maxAbsDiff(last, c.logitsLastStride8));
    assert.ok(dLogits < parity.tolerance, `max abs logit difference ${dLogits}`);

    const hLast: number[] = [];
    for (let l = 0; l <= L; l++) for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) hLast.push(hd[((l * B + b) * T + T - 1) * D + d]);
    const dHidden = maxAbsDiff(hLast, c.hiddenLast);
    assert.ok(dHidden < 1e-3, `max abs hidden-state difference ${dHidden}`);

    const aLast: number[] = [];
    for (let l = 0; l < L; l++)
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++) {
          const row = (((l * B + b) * H + h) * T + T - 1) * T;
          for (let k = 0; k < T; k++) aLast.push(at[row + k]);
        }
    const dAtt = maxAbsDiff(aLast, c.attentionsLastRow);
    assert.ok(dAtt < 1e-4, `max abs attention difference ${dAtt}`);

    // attention rows are causal probability distributions
    for (let l = 0; l < L; l++)
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let q = 0; q < T; q++) {
            const row = (((l * B + b) * H + h) * T + q) * T;
            let sum = 0;
            for (let k = 0; k < T; k++) {
              if (k > q) assert.equal(at[row + k], 0, 'attention to a later position');
              sum += at[row + k];
            }
            assert.ok(Math.abs(sum - 1) < 1e-4, `attention row sums to ${sum}`);
          }
  });
}

test('head graph matches torch and reproduces the logits from the last hidden state', async () => {
  const head = await session(manifest.head);
  const { n, hidden, logits } = parity.head;
  const out = await head.run({ hidden: new ort.Tensor('float32', Float32Array.from(hidden), [n, D]) });
  assert.deepEqual(out.logits.dims, [n, V]);
  const d = maxAbsDiff(out.logits.data as Float32Array, logits);
  assert.ok(d < parity.tolerance, `max abs head logit difference ${d}`);

  // head(hidden_states[L]) == logits on the forward graph's own outputs
  const c = parity.cases[0];
  const T = c.inputIds[0].length;
  const fw = await session(manifest.forward);
  const o = await fw.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(c.inputIds[0].map(BigInt)), [1, T]) });
  const hd = o.hidden_states.data as Float32Array;
  const lastHidden = hd.slice(L * T * D, (L + 1) * T * D);
  const ho = await head.run({ hidden: new ort.Tensor('float32', lastHidden, [T, D]) });
  const d2 = maxAbsDiff(ho.logits.data as Float32Array, o.logits.data as Float32Array);
  assert.ok(d2 < 1e-4, `head(hidden_states[L]) vs logits: ${d2}`);
});
