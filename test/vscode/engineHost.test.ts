// The real engine host (dist/engineHost.js, built by `npm test`) on the Markov fixture pack:
// offsets of a CRLF + emoji selection inside a larger document, cancellation, and a kill mid-probe
// followed by a probe that works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../../src/host/client';
import { HostError } from '../../src/host/protocol';
import { SpanTable } from '../../src/vscode/annotations';

const root = join(__dirname, '..', '..');
const hostScript = join(root, 'dist', 'engineHost.js');
const packDir = join(root, 'test', 'fixtures', 'markov-pack');
const skip = !existsSync(hostScript) || !existsSync(join(packDir, 'manifest.json')) ? 'dist/engineHost.js or the Markov pack is missing (run npm run build)' : false;

test('offsets of a probed CRLF selection map back onto the document text', { skip }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const doc = 'Header line\r\n\r\nThe café — naïve 😀 text,\r\nsecond line\tend.\r\nTrailer';
    const start = doc.indexOf('The');
    const end = doc.indexOf('Trailer');
    const text = doc.slice(start, end); // what document.getText(range) returns
    const r = await c.request('probe', { packDir, text, options: { topK: 3 } });
    assert.equal(r.text, text);
    const spans = SpanTable.fromTokens(r.tokens, start);
    // Tokens that carry part of a character's bytes share that character's range (an emoji split
    // into byte tokens): count each character once.
    let covered = '';
    let reached = start;
    for (let p = 0; p < spans.size; p++) {
      const t = r.tokens[spans.tokenIndex[p]];
      assert.equal(doc.slice(spans.starts[p], spans.ends[p]), t.text, `token ${t.index}`);
      assert.ok(spans.ends[p] >= reached, 'ends never go backwards');
      covered += doc.slice(Math.max(reached, spans.starts[p]), spans.ends[p]);
      reached = Math.max(reached, spans.ends[p]);
    }
    assert.equal(covered, text, 'the tokens cover the selection exactly');
    // The hover lookup finds the token under every character.
    for (let off = start; off < end; off++) assert.ok(spans.find(off) >= 0, `no token at ${off}`);
    assert.equal(spans.find(start - 1), -1);
    assert.equal(spans.find(end), -1);
  } finally {
    c.dispose();
  }
});

test('a probe killed mid-run fails with HOST_CRASHED and the next probe works', { skip }, async () => {
  const crashes: string[] = [];
  const c = new EngineClient({ hostScript, onCrash: (m) => crashes.push(m) });
  try {
    const long = 'the quick brown fox jumps over the lazy dog. '.repeat(400);
    let killed = false;
    const p = c.request('probe', { packDir, text: long, options: {} }, {
      onProgress: () => {
        if (!killed && c.pid) {
          killed = true;
          process.kill(c.pid, 'SIGKILL');
        }
      },
    });
    await assert.rejects(p, (e: HostError) => e.code === 'HOST_CRASHED');
    assert.equal(crashes.length, 1);
    const r = await c.request('probe', { packDir, text: 'after the crash', options: {} });
    assert.ok(r.tokens.length > 0);
  } finally {
    c.dispose();
  }
});

test('cancelling a long probe rejects with CANCELLED; the host serves the next one', { skip }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const long = 'colorless green ideas sleep furiously. '.repeat(600);
    const ac = new AbortController();
    const p = c.request('probe', { packDir, text: long, options: {} }, { signal: ac.signal, onProgress: () => ac.abort() });
    await assert.rejects(p, (e: HostError) => e.code === 'CANCELLED');
    const r = await c.request('probe', { packDir, text: 'next one', options: {} });
    assert.ok(r.tokens.length > 0);
  } finally {
    c.dispose();
  }
});

test('engine errors keep their code (EMPTY_TEXT, PACK_NOT_FOUND)', { skip }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    await assert.rejects(c.request('probe', { packDir, text: '   ', options: {} }), (e: HostError) => e.code === 'EMPTY_TEXT');
    await assert.rejects(c.request('probe', { packDir: join(root, 'no-such-pack'), text: 'x', options: {} }), (e: HostError) => /PACK_NOT_FOUND|BAD_PACK/.test(e.code));
  } finally {
    c.dispose();
  }
});

const tinyPack = join(root, 'test', 'fixtures', 'tiny-gpt');
const skipTiny = skip || (!existsSync(join(tinyPack, 'manifest.json')) ? 'the tiny-gpt fixture pack is missing' : false);

test('progressive probe: surprisal first, then the analyses of the same text equal those of a one-shot probe', { skip: skipTiny }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const text = 'the cat sat on the mat, and the dog sat on the log.';
    const analyses = { importance: { target: 5 }, geometry: true } as const;
    const r = await c.request('probe', { packDir: tinyPack, text, options: { topK: 3 } });
    assert.equal(r.analyses, undefined, 'the probe answers with surprisal only');
    const a = await c.request('analyses', { packDir: tinyPack, text, options: { topK: 3, analyses } });
    const one = await c.request('probe', { packDir: tinyPack, text, options: { topK: 3, analyses } });
    assert.ok(a.geometry && a.importance, `analyses: ${JSON.stringify(a.notes)}`);
    assert.deepEqual(a.window, one.analyses!.window);
    assert.deepEqual(a.geometry, one.analyses!.geometry);
    assert.equal(a.importance.target, 5);
    assert.deepEqual(a.importance.lasso, one.analyses!.importance!.lasso);
    // After a restart the child has no cached probe: it probes again and still answers.
    c.stop();
    for (let i = 0; i < 100 && c.running; i++) await new Promise((r) => setTimeout(r, 50));
    const b = await c.request('analyses', { packDir: tinyPack, text, options: { topK: 3, analyses } });
    assert.deepEqual(b.geometry, a.geometry);
  } finally {
    c.dispose();
  }
});

test('cancelled analyses free the host at once for the next probe', { skip: skipTiny }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const text = 'alpha beta gamma delta epsilon zeta eta theta iota kappa. '.repeat(3);
    await c.request('probe', { packDir: tinyPack, text, options: {} });
    const ac = new AbortController();
    const p = c.request('analyses', { packDir: tinyPack, text, options: { analyses: { importance: {}, geometry: true } } }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 2); // sent, and (most likely) under way in the child
    const t0 = performance.now();
    await assert.rejects(p, (e: HostError) => e.code === 'CANCELLED');
    const r = await c.request('probe', { packDir: tinyPack, text: 'next one', options: {} });
    assert.ok(r.tokens.length > 0);
    assert.ok(performance.now() - t0 < 5000, 'the next probe waited too long');
  } finally {
    c.dispose();
  }
});

test('analyses on a pack without hidden states answer with a note, not an error', { skip }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const text = 'the quick brown fox';
    await c.request('probe', { packDir, text, options: {} });
    const a = await c.request('analyses', { packDir, text, options: { analyses: { futureLens: true, importance: {}, geometry: true } } });
    assert.equal(a.futureLens, undefined);
    assert.equal(a.importance, undefined);
    assert.equal(a.geometry, undefined);
    assert.ok(a.notes?.some((n) => /hidden states/.test(n)), `notes: ${JSON.stringify(a.notes)}`);
  } finally {
    c.dispose();
  }
});
