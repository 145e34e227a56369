// The built-graph cache: keyed by the weights, the config and the graphs' own bytes, so a graph built
// by another version of the builder is never reused, and the same one is never written twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedGraphs } from '../../src/engine/hf/graphCache';

test('cachedGraphs reuses a folder only for the same weights, config and graph bytes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lm-probe-graph-cache-'));
  const before = process.env.LM_PROBE_CACHE_DIR;
  process.env.LM_PROBE_CACHE_DIR = join(root, 'cache');
  try {
    const weights = join(root, 'model.safetensors');
    writeFileSync(weights, 'weights');
    const graphs = (forward: string) => (name: (f: string) => string) => ({ forward: Buffer.from(forward + name(weights)), head: Buffer.from('head') });
    const a = await cachedGraphs([weights], '{}', graphs('v1'));
    const again = await cachedGraphs([weights], '{}', graphs('v1'));
    const changed = await cachedGraphs([weights], '{}', graphs('v2'));
    const otherConfig = await cachedGraphs([weights], '{"n_layer":2}', graphs('v1'));
    assert.equal(a.built, true);
    assert.equal(again.built, false, 'the same graph: the folder is reused');
    assert.equal(again.dir, a.dir);
    assert.equal(changed.built, true, 'other graph bytes: a folder of their own');
    assert.notEqual(changed.dir, a.dir);
    assert.equal(readFileSync(changed.forward, 'utf8'), 'v2w0.safetensors');
    assert.equal(readFileSync(a.forward, 'utf8'), 'v1w0.safetensors', 'the first folder is left as it was');
    assert.notEqual(otherConfig.dir, a.dir);
  } finally {
    if (before === undefined) delete process.env.LM_PROBE_CACHE_DIR;
    else process.env.LM_PROBE_CACHE_DIR = before;
  }
});
