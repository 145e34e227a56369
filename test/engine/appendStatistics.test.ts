// The statistics appended to a pack's graph: a scoring run (lm_probe_full false) gets empty full
// outputs and the statistics of the rows it names; a full run that scores every row gets the
// original graph's logits, hidden states and attentions; lm_probe_scores false leaves the rank,
// entropy and top-k empty and the log-probability as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { appendStatistics, STAT_NAMES } from '../../src/engine/hf/statistics';
import { MARKOV, ROOT } from './helpers';

const B = 2;
const S = 7;
const ids = BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 37 + 5) % 300));
const OUTS = { logits: 'logits', hiddenStates: 'hidden_states', attentions: 'attentions' };

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
}

function feeds(rows: number[], full: boolean, scores: boolean): Record<string, ort.Tensor> {
  return {
    input_ids: new ort.Tensor('int64', ids, [B, S]),
    [STAT_NAMES.rows]: new ort.Tensor('int64', BigInt64Array.from(rows.map(BigInt)), [rows.length]),
    [STAT_NAMES.targetIds]: new ort.Tensor('int64', BigInt64Array.from(rows.map((r) => BigInt((r * 11) % 300))), [rows.length]),
    [STAT_NAMES.topK]: new ort.Tensor('int64', BigInt64Array.of(3n), [1]),
    [STAT_NAMES.full]: new ort.Tensor('bool', Uint8Array.of(full ? 1 : 0), []),
    [STAT_NAMES.scores]: new ort.Tensor('bool', Uint8Array.of(scores ? 1 : 0), []),
  };
}

const file = join(ROOT, 'models', 'default', 'forward.onnx');

test('a full run that scores every row returns the original graph outputs', async () => {
  const plain = await session(readFileSync(file));
  const appended = await session(appendStatistics(readFileSync(file), OUTS));
  try {
    const want = await plain.run({ input_ids: new ort.Tensor('int64', ids, [B, S]) });
    const got = await appended.run(feeds([...Array(B * S).keys()], true, true));
    for (const name of Object.values(OUTS)) {
      assert.deepEqual(got[name].dims, want[name].dims, name);
      const a = got[name].data as Float32Array;
      const b = want[name].data as Float32Array;
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
      assert.ok(max < 1e-5, `${name}: max difference ${max}`);
    }
  } finally {
    await plain.release();
    await appended.release();
  }
});

test('a scoring run gets empty full outputs and the statistics of the rows it names, in their order', async () => {
  const s = await session(appendStatistics(readFileSync(file), OUTS));
  try {
    const all = await s.run(feeds([...Array(B * S).keys()], true, true));
    const rows = [13, 2, 9];
    const some = await s.run(feeds(rows, false, true));
    for (const name of Object.values(OUTS)) assert.equal(some[name].size, 0, `${name} is empty`);
    const lpAll = all[STAT_NAMES.targetLogprob].data as Float32Array;
    const lp = some[STAT_NAMES.targetLogprob].data as Float32Array;
    const V = 4096;
    const logits = all.logits.data as Float32Array;
    rows.forEach((r, j) => {
      // ln softmax of the full logits' row r at the target, computed here in float64
      const row = logits.subarray(r * V, (r + 1) * V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      assert.ok(Math.abs(lp[j] - (row[(r * 11) % 300] - lse)) < 1e-4, `row ${r}`);
      assert.ok(Math.abs(lp[j] - lpAll[r]) < 1e-5, `row ${r}: the same as when every row is scored`);
    });
    assert.deepEqual(some[STAT_NAMES.topIds].dims, [3, 3]);
    const none = await s.run(feeds(rows, false, false));
    assert.deepEqual(Array.from(none[STAT_NAMES.targetLogprob].data as Float32Array), Array.from(lp));
    for (const k of ['greater', 'entropy', 'topIds', 'topLogprobs'] as const) assert.equal(none[STAT_NAMES[k]].size, 0, `${k} is empty`);
  } finally {
    await s.release();
  }
});

test('the unembedding runs on the scored rows only where the logits are MatMul(x, W); other graphs gather rows of the full logits', () => {
  const graphOf = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!;
  const dflt = graphOf(appendStatistics(readFileSync(file), OUTS));
  const matmulOfRows = dflt.node!.filter((n) => n.opType === 'MatMul' && dflt.node!.some((g) => g.opType === 'Gather' && g.output![0] === n.input![0]));
  assert.equal(matmulOfRows.length, 1, 'one MatMul of gathered rows');
  assert.deepEqual(dflt.node!.filter((n) => n.output!.includes('logits')).map((n) => n.opType), ['If'], 'the full logits come from the If only');
  const markov = graphOf(appendStatistics(readFileSync(join(MARKOV, 'forward.onnx')), { logits: 'logits' }));
  assert.ok(markov.node!.some((n) => n.opType === 'Gather' && n.input![0] !== 'logits' && markov.node!.some((f) => f.opType === 'Flatten' && f.input![0] === 'logits' && f.output![0] === n.input![0])));
});
