// The real engine host streams a long probe: the scores of each batch of windows arrive before the
// result (so the heatmap is painted as they do), they cover every token once per direction and
// equal the result's; the progress stages read as they should; and a selection whose lower bound
// on tokens passes lmProbe.maxTokens is refused before it is sent, consistently with the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineClient, type PartialScores, type Progress } from '../../src/host/client';
import { HostError } from '../../src/host/protocol';
import { progressText, tooManyTokens } from '../../src/vscode/probeProgress';

const ROOT = resolve(__dirname, '..', '..');
const hostScript = join(ROOT, 'dist', 'engineHost.js');
const packDir = join(ROOT, 'models', 'default');
const skip = !existsSync(hostScript) || !existsSync(join(packDir, 'manifest.json')) ? 'dist/engineHost.js or models/default is missing (run npm run build)' : false;

test('a long probe streams its scores window by window, before the result, each token once per direction', { skip }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const text = readFileSync(join(ROOT, 'src', 'engine', 'engine.ts'), 'utf8').slice(0, 12_000);
    const partials: (PartialScores & { at: number })[] = [];
    const stages: Progress[] = [];
    let resultAt = 0;
    const r = await c
      .request('probe', { packDir, text, options: { topK: 2 } }, { onPartial: (p) => partials.push({ ...p, at: Date.now() }), onProgress: (p) => stages.push(p) })
      .then((x) => ((resultAt = Date.now()), x));
    const n = r.tokens.length;
    assert.ok(partials.length >= 4, `${partials.length} partial messages for ${n} tokens`);
    assert.ok(partials.every((p) => p.at <= resultAt));
    // forward runs first, in text order; the backward runs come from the end of the text
    const fw = partials.filter((p) => p.direction === 'forward');
    const bw = partials.filter((p) => p.direction === 'backward');
    assert.ok(fw.length > 1 && bw.length > 1);
    assert.ok(partials.indexOf(bw[0]) > partials.indexOf(fw[fw.length - 1]), 'every forward run comes before the backward ones');
    assert.deepEqual(fw.map((p) => p.first), [...fw.map((p) => p.first)].sort((a, b) => a - b));
    assert.deepEqual(bw.map((p) => p.first), [...bw.map((p) => p.first)].sort((a, b) => b - a));
    for (const runs of [fw, bw]) {
      const seen = new Array<number>(n).fill(0);
      for (const p of runs) {
        assert.equal(p.tokenCount, n);
        assert.equal(p.offsets.length, 2 * p.bits.length);
        for (let i = 0; i < p.bits.length; i++) {
          const k = p.first + i;
          seen[k]++;
          const t = r.tokens[k];
          const s = p.direction === 'forward' ? t.forward : t.backward!;
          assert.equal(p.bits[i], s.surprisalBits, `token ${k} ${p.direction}`);
          assert.equal(p.ranks[i], s.rank);
          assert.deepEqual([p.offsets[2 * i], p.offsets[2 * i + 1]], [t.start, t.end]);
        }
      }
      assert.ok(seen.every((x) => x === 1), 'each token exactly once');
    }
    // progress: loading (the child had no model yet), tokenizing, then the windows of both directions
    assert.deepEqual([...new Set(stages.map((s) => s.stage))], ['loading', 'tokenizing', 'forward', 'backward']);
    const total = stages[stages.length - 1].total;
    const fwText = progressText(stages.find((s) => s.stage === 'forward')!, { painted: fw[0].bits.length, tokenCount: n, directions: 2 });
    assert.match(fwText, new RegExp(`^forward model: window \\d+ of ${total / 2}, [\\d,]+ of ${n.toLocaleString('en-US')} tokens painted$`));
    const last = progressText(stages[stages.length - 1], { painted: n, tokenCount: n, directions: 2 });
    assert.equal(last, `backward model: window ${total / 2} of ${total / 2}, ${n.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} tokens painted`);
    assert.equal(progressText({ stage: 'loading', done: 0, total: 0 }, { painted: 0, tokenCount: 0, directions: 2 }), 'loading the model…');
    // a second probe finds the model loaded: no "loading" stage
    const again: string[] = [];
    await c.request('probe', { packDir, text: 'A short one.', options: {} }, { onProgress: (p) => again.push(p.stage) });
    assert.ok(!again.includes('loading'), again.join(','));
  } finally {
    c.dispose();
  }
});

test('a selection past lmProbe.maxTokens by the longest-token bound is refused before sending; the engine agrees', { skip }, async () => {
  const c = new EngineClient({ hostScript });
  try {
    const open = await c.request('open', { packDir });
    assert.ok(open.maxTokenBytes >= 1);
    const text = 'lorem ipsum dolor sit amet, '.repeat(2000); // 56,000 bytes
    const bound = Math.ceil(Buffer.byteLength(text) / open.maxTokenBytes);
    // Refused without a request: the bound is over the limit.
    const msg = tooManyTokens(text, open.maxTokenBytes, bound - 1);
    assert.match(msg ?? '', new RegExp(`at least ${bound.toLocaleString('en-US')} tokens \\(56,000 bytes; this model's longest token is ${open.maxTokenBytes} bytes\\), over lmProbe.maxTokens`));
    // The bound is a true lower bound: the engine counts at least that many and refuses too.
    await assert.rejects(c.request('probe', { packDir, text, options: { maxTokens: bound - 1 } }), (e: HostError) => e.code === 'TOO_MANY_TOKENS');
    // Under the bound the extension sends it and the engine's exact count decides.
    assert.equal(tooManyTokens(text, open.maxTokenBytes, bound), null);
  } finally {
    c.dispose();
  }
});
