// The engine on the tiny-gpt fixture (full graph contract): windowed scores agree with raw passes,
// run() shapes, options, cancellation, bad text, providers, dispose.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { ProbeError } from '../../src/engine/errors';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planWindows } from '../../src/engine/surprisal';
import { failureCacheFile, resetProviderFailures } from '../../src/engine/runtime';
import { TINY, MARKOV, ROOT, checkCover } from './helpers';

const enginePromise = Engine.open(TINY);
after(async () => (await enginePromise).dispose());

/** -log2 softmax(row)[id] in float64. */
function bits(row: Float32Array, id: number): number {
  let m = -Infinity;
  for (const x of row) m = Math.max(m, x);
  let s = 0;
  for (const x of row) s += Math.exp(x - m);
  return -(row[id] - m - Math.log(s)) / Math.LN2;
}

test('probe: result shape, offsets cover the text, finite scores', async () => {
  const e = await enginePromise;
  const text = 'Hello, world! naïve 中文 😀 e\u0301\r\n\t end';
  const r = await e.probe(text, { topK: 3 });
  assert.equal(r.version, 1);
  assert.equal(r.text, text);
  assert.equal(r.pack.name, 'tiny-gpt-fixture');
  assert.equal(r.pack.contextLength, 32);
  assert.equal(checkCover(text, r.tokens.map((t) => [t.start, t.end])), null);
  for (const t of r.tokens) {
    assert.equal(t.text, text.slice(t.start, t.end));
    for (const s of [t.forward, t.backward!]) {
      assert.ok(Number.isFinite(s.surprisalBits) && s.surprisalBits >= 0);
      assert.ok(Number.isInteger(s.rank) && s.rank >= 1 && s.rank <= 269);
      assert.ok(s.entropyBits >= 0 && s.entropyBits <= Math.log2(269) + 1e-9);
      assert.equal(s.top.length, 3);
      assert.ok(s.top[0].prob >= s.top[1].prob && s.top[1].prob >= s.top[2].prob);
      // rank 1 means the actual token is the top guess
      if (s.rank === 1) assert.equal(s.top[0].id, t.id);
      if (s.top.some((a) => a.id === t.id)) {
        const a = s.top.find((x) => x.id === t.id)!;
        assert.ok(Math.abs(-Math.log2(a.prob) - s.surprisalBits) < 1e-9);
      }
    }
  }
  const n = r.tokens.length;
  const fw = r.tokens.reduce((a, t) => a + t.forward.surprisalBits, 0);
  assert.ok(Math.abs(r.summary.forward.totalBits - fw) < 1e-6);
  assert.ok(Math.abs(r.summary.forward.meanNats - (fw * Math.LN2) / n) < 1e-9);
  const { meanNats: Lf } = r.summary.forward;
  const Lb = r.summary.backward!.meanNats;
  assert.ok(Math.abs(r.summary.delta! - (Lb - Lf) / ((Lb + Lf) / 2)) < 1e-12);
  assert.equal(r.runtime.provider, e.provider);
  assert.ok(r.runtime.windows >= 2, 'the text should need several windows of 31 tokens');
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
});

test('probe: every windowed score equals a raw run() over its window (forward and backward)', async () => {
  const e = await enginePromise;
  const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.';
  const r = await e.probe(text, { topK: 0 });
  const ids = r.tokens.map((t) => t.id);
  const N = ids.length;
  const W = r.pack.contextLength - 1;
  assert.ok(N > 2 * W, `want a text of several windows, got ${N} tokens`);
  let checked = 0;
  for (const direction of ['forward', 'backward'] as const) {
    const seq = direction === 'forward' ? ids : ids.slice().reverse();
    for (const w of planWindows(N, W)) {
      const out = await e.run(direction, seq.slice(w.start, w.start + w.length));
      for (let t = Math.max(w.scoreFrom, w.start + 1); t < w.scoreTo; t++) {
        // run() drops the BOS row: row p - 1 predicts the token at window position p
        const p = t - w.start;
        const ref = bits(out.logits.subarray((p - 1) * out.dims.V, p * out.dims.V), seq[t]);
        const tok = r.tokens[direction === 'forward' ? t : N - 1 - t];
        const got = direction === 'forward' ? tok.forward.surprisalBits : tok.backward!.surprisalBits;
        assert.ok(Math.abs(ref - got) < 1e-4, `${direction} position ${t}: run() ${ref} vs probe ${got}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 2 * (N - 1));
});

test('probe: a short text gives the same scores alone and inside a longer probe prefix (first window)', async () => {
  const e = await enginePromise;
  const a = await e.probe('abc the', { topK: 1 });
  const b = await e.probe('abc the cat sat on the mat and more text here', { topK: 1 });
  for (let i = 0; i < a.tokens.length; i++) assert.ok(Math.abs(a.tokens[i].forward.surprisalBits - b.tokens[i].forward.surprisalBits) < 1e-4);
});

test('run(): shapes without the BOS position, attention rows causal', async () => {
  const e = await enginePromise;
  const out = await e.run('forward', [5, 6, 7, 8]);
  assert.deepEqual(out.dims, { T: 4, V: 269, L: 2, D: 16, H: 2 });
  assert.equal(out.logits.length, 4 * 269);
  assert.equal(out.hidden!.length, 3 * 4 * 16);
  assert.equal(out.attentions!.length, 2 * 2 * 4 * 4);
  // query q attends to keys <= q only; with BOS removed rows sum to < 1
  for (let l = 0; l < 2; l++)
    for (let hh = 0; hh < 2; hh++)
      for (let q = 0; q < 4; q++) {
        let sum = 0;
        for (let k = 0; k < 4; k++) {
          const a = out.attentions![((l * 2 + hh) * 4 + q) * 4 + k];
          if (k > q) assert.equal(a, 0);
          sum += a;
        }
        assert.ok(sum > 0 && sum < 1 + 1e-6);
      }
  await assert.rejects(e.run('forward', []), (err: ProbeError) => err.code === 'BAD_ARGUMENT');
  await assert.rejects(e.run('forward', new Array(32).fill(5)), (err: ProbeError) => err.code === 'BAD_ARGUMENT' && /1 to 31/.test(err.message));
});

test('bad text: empty, whitespace only, NUL, too many tokens', async () => {
  const e = await enginePromise;
  await assert.rejects(e.probe(''), (err: ProbeError) => err.code === 'EMPTY_TEXT');
  await assert.rejects(e.probe(' \n\t '), (err: ProbeError) => err.code === 'EMPTY_TEXT' && /whitespace/.test(err.message));
  await assert.rejects(e.probe('ab\u0000c'), (err: ProbeError) => err.code === 'BAD_TEXT' && /NUL.*offset 2/.test(err.message));
  await assert.rejects(e.probe('a'.repeat(100), { maxTokens: 50 }), (err: ProbeError) => err.code === 'TOO_MANY_TOKENS' && /is 100 tokens long; the limit is 50/.test(err.message));
});

test('lone surrogates: probed with a warning, offsets into the original text', async () => {
  const e = await enginePromise;
  const text = 'ok \uD800 fine';
  const r = await e.probe(text);
  assert.equal(r.warnings.length, 1);
  assert.equal(checkCover(text, r.tokens.map((t) => [t.start, t.end])), null);
});

test('options: forwardOnly, topK 0, progress, cancellation', async () => {
  const e = await enginePromise;
  const text = 'progress over several windows of text '.repeat(6);
  const seen: { done: number; total: number; stage: string }[] = [];
  const r = await e.probe(text, { forwardOnly: true, topK: 0, onProgress: (p) => seen.push(p) });
  assert.equal(r.summary.backward, null);
  assert.equal(r.summary.delta, null);
  assert.ok(r.tokens.every((t) => t.backward === null && t.forward.top.length === 0));
  assert.ok(seen.length >= 1);
  assert.equal(seen[seen.length - 1].done, seen[seen.length - 1].total);
  assert.equal(seen[seen.length - 1].total, r.runtime.windows);

  const ac = new AbortController();
  ac.abort();
  await assert.rejects(e.probe(text, { signal: ac.signal }), (err: ProbeError) => err.code === 'CANCELLED');
  const ac2 = new AbortController();
  await assert.rejects(
    e.probe(text, { signal: ac2.signal, onProgress: () => ac2.abort() }),
    (err: ProbeError) => err.code === 'CANCELLED',
  );
});

test('providers: an unavailable provider falls back to cpu and is recorded', async () => {
  const e = await Engine.open(MARKOV, { providers: ['no-such-provider', 'cpu'] });
  try {
    assert.equal(e.provider, 'cpu');
    assert.equal(e.fallbacks[0].provider, 'no-such-provider');
    const r = await e.probe('abc');
    assert.equal(r.runtime.provider, 'cpu');
    assert.equal(r.runtime.fallbacks.length, 1);
    assert.ok(r.runtime.loadMs > 0, 'first probe reports the session load time');
    const r2 = await e.probe('abc');
    assert.equal(r2.runtime.loadMs, 0, 'sessions are reused');
  } finally {
    await e.dispose();
  }
});

test('webgpu: used where it starts, else a fallback to cpu is recorded', async () => {
  const e = await Engine.open(MARKOV, { providers: ['webgpu'] });
  try {
    if (e.provider === 'cpu') assert.equal(e.fallbacks[0].provider, 'webgpu');
    else assert.equal(e.provider, 'webgpu');
    const r = await e.probe('the cat');
    assert.ok(r.tokens.every((t) => Number.isFinite(t.forward.surprisalBits)));
  } finally {
    await e.dispose();
  }
});

test('dispose: later calls fail with DISPOSED, dispose twice is fine', async () => {
  const e = await Engine.open(MARKOV);
  await e.dispose();
  await e.dispose();
  await assert.rejects(e.probe('abc'), (err: ProbeError) => err.code === 'DISPOSED');
});

test('concurrent probes on one engine give the same results as one at a time; dispose waits', async () => {
  const e = await Engine.open(TINY);
  const texts = ['first text to probe, long enough for windows '.repeat(3), 'second 中文 😀 text', 'third'];
  const alone = [];
  for (const t of texts) alone.push(await e.probe(t, { topK: 1 }));
  const together = await Promise.all(texts.map((t) => e.probe(t, { topK: 1 })));
  for (let i = 0; i < texts.length; i++) {
    assert.deepEqual(together[i].tokens.map((t) => t.forward.surprisalBits), alone[i].tokens.map((t) => t.forward.surprisalBits));
  }
  let cleaned = false;
  e.onDispose(() => {
    cleaned = true;
  });
  const pending = e.probe(texts[0]);
  await e.dispose();
  assert.ok(cleaned);
  await assert.rejects(pending, (err: ProbeError) => err.code === 'DISPOSED');
});

test('provider failures are remembered on disk when asked (once per machine for the CLI)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-cache-'));
  const saved = process.env.LM_PROBE_CACHE_DIR;
  process.env.LM_PROBE_CACHE_DIR = dir;
  try {
    resetProviderFailures();
    const a = await Engine.open(MARKOV, { providers: ['no-such-ep'], rememberProviderFailures: true });
    await a.dispose();
    assert.equal(a.fallbacks[0].provider, 'no-such-ep');
    assert.ok(existsSync(failureCacheFile()));
    resetProviderFailures(); // as a new process would start
    const b = await Engine.open(MARKOV, { providers: ['no-such-ep'], rememberProviderFailures: true });
    await b.dispose();
    assert.match(b.fallbacks[0].error, /failed earlier on this machine/);
    resetProviderFailures();
    const c = await Engine.open(MARKOV, { providers: ['no-such-ep'] });
    await c.dispose();
    assert.doesNotMatch(c.fallbacks[0].error, /failed earlier/, 'without the option the disk is not read');
  } finally {
    if (saved === undefined) delete process.env.LM_PROBE_CACHE_DIR;
    else process.env.LM_PROBE_CACHE_DIR = saved;
    rmSync(dir, { recursive: true });
  }
});

test('a text far over maxTokens is refused before tokenizing', async () => {
  const e = await enginePromise;
  // "at least": the bound from the longest token's bytes, without tokenizing the 5 MB
  await assert.rejects(e.probe('x'.repeat(5_000_000), { maxTokens: 1000 }), (err: ProbeError) => err.code === 'TOO_MANY_TOKENS' && /at least \d+ tokens/.test(err.message));
});

test('a forward-only pack whose graph takes int32 ids and an attention mask', async () => {
  const e = await Engine.open(join(MARKOV, '..', 'markov-forward-int32'));
  const m = await Engine.open(MARKOV);
  try {
    assert.equal(e.hasBackward, false);
    assert.equal(e.pack.info.hasBackward, false);
    const text = 'The same chain, read through another export of the graph. '.repeat(3);
    const r = await e.probe(text, { topK: 2 });
    const ref = await m.probe(text, { topK: 2 });
    assert.equal(r.summary.backward, null);
    assert.equal(r.summary.delta, null);
    assert.ok(r.tokens.every((t) => t.backward === null));
    for (let i = 0; i < r.tokens.length; i++) assert.ok(Math.abs(r.tokens[i].forward.surprisalBits - ref.tokens[i].forward.surprisalBits) < 1e-9);
    await assert.rejects(e.run('backward', [5]), (err: ProbeError) => err.code === 'BAD_ARGUMENT' && /no backward model/.test(err.message));
  } finally {
    await e.dispose();
    await m.dispose();
  }
});

test('a long text is tokenized in pieces exactly as in one: blank lines, CRLF and punctuation at the cuts', async () => {
  // The default pack's vocabulary merges "\n\n", which tiny-gpt's does not.
  const e = await Engine.open(join(ROOT, 'models', 'default'), { providers: ['cpu'] });
  try {
    // Every line start is a possible cut; the runs of whitespace before a letter are where the
    // pre-tokenizer's regex reads an end of piece differently from the middle of a text.
    let text = '';
    // (lines of changing lengths, so that the cuts land on each kind of line start)
    for (let i = 0; text.length < 40_000; i++) text += `Para ${i} ${'y'.repeat((i * 7) % 23)} text.\n\nNext words\r\nMore 👋🏽 e\u0301\t\nTab\n\n\nThree ${i}\n  indented\n`;
    const whole = e.tokenize(text);
    const r = await e.probe(text, { topK: 0 });
    assert.equal(r.tokens.length, whole.ids.length);
    r.tokens.forEach((t, i) => {
      assert.equal(t.id, whole.ids[i], `token ${i}`);
      assert.deepEqual([t.start, t.end], whole.offsets[i], `token ${i} offsets`);
    });
  } finally {
    await e.dispose();
  }
});
