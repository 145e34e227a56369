// The Markov fixture is what it claims (so that the equality test in markov.test.ts means
// something): rows are log-probabilities, the BOS row is the stationary distribution of the
// forward chain, and the backward table is its time reversal. Read through the engine's run().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { MARKOV, TINY } from './helpers';

async function table(e: Engine, direction: 'forward' | 'backward', V: number): Promise<Float64Array[]> {
  const rows: Float64Array[] = [];
  const W = e.pack.manifest.contextLength - 1;
  for (let i0 = 0; i0 < V; i0 += W) {
    const ids = Array.from({ length: Math.min(W, V - i0) }, (_, k) => i0 + k);
    const out = await e.run(direction, ids);
    for (let k = 0; k < ids.length; k++) rows.push(Float64Array.from(out.logits.subarray(k * V, (k + 1) * V), Math.exp));
  }
  return rows;
}

test('Markov fixture: stochastic rows, stationary BOS row, backward = reversed chain', async () => {
  const e = await Engine.open(MARKOV);
  try {
    const V = e.pack.info.vocabSize;
    const P = await table(e, 'forward', V); // P[i][j] = p(next j | token i); row 0 (BOS) = pi
    const Q = await table(e, 'backward', V);
    const pi = P[0];
    let worst = 0;
    for (let i = 0; i < V; i++) {
      worst = Math.max(worst, Math.abs(P[i].reduce((a, b) => a + b, 0) - 1), Math.abs(Q[i].reduce((a, b) => a + b, 0) - 1));
    }
    assert.ok(worst < 1e-5, `rows sum to 1 (worst ${worst})`);
    assert.deepEqual(Array.from(Q[0]), Array.from(pi), 'both directions start from pi at BOS');
    // The reversal identity pi(j) Q(i | j) = pi(i) P(j | i) for i, j != BOS (whose rows hold pi):
    // with it, the product of a text's probabilities telescopes to the same value both ways.
    let rel = 0;
    for (let i = 1; i < V; i++) {
      for (let j = 1; j < V; j++) {
        const a = pi[j] * Q[j][i];
        const b = pi[i] * P[i][j];
        rel = Math.max(rel, Math.abs(a - b) / b);
      }
    }
    assert.ok(rel < 1e-4, `detailed balance of the reversal (worst relative ${rel})`);
  } finally {
    await e.dispose();
  }
});

test('fixture packs stay small (< 2 MB together)', () => {
  let total = 0;
  for (const d of [MARKOV, TINY, join(MARKOV, '..', 'markov-forward-int32')]) for (const f of readdirSync(d)) total += statSync(join(d, f)).size;
  assert.ok(total < 2 * 1024 * 1024, `${total} bytes`);
});
