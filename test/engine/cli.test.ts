// The lm-probe CLI as a user runs it: node dist/cli.js (built by `npm test`), exit codes, stderr
// messages, stdout JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, MARKOV, ROOT, TINY, checkCover, tempPack } from './helpers';
import type { ProbeResult } from '../../src/engine/schema';

function cli(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 30, cwd: ROOT, env: { ...process.env, LM_PROBE_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'lm-probe-cli-'));
function file(name: string, content: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

function assertCleanError(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp) {
  assert.equal(r.code, code, `exit ${r.code}, stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line of error: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

const HARD = 'Ça va? 中文テキスト 😀👍🏽 👨‍👩‍👧 🇫🇷 e\u0301 ñ\r\n\tindent  trailing ';

test('probe --json: ProbeResult on stdout only, offsets cover hard Unicode, finite surprisal', () => {
  for (const pack of [MARKOV, TINY]) {
    const r = cli(['probe', '--model', pack, '--json', '--top', '3', '--text', HARD]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as ProbeResult;
    assert.equal(res.text, HARD);
    assert.equal(checkCover(HARD, res.tokens.map((t) => [t.start, t.end])), null);
    for (const t of res.tokens) {
      assert.ok(Number.isFinite(t.forward.surprisalBits) && Number.isFinite(t.backward!.surprisalBits));
      assert.equal(t.forward.top.length, 3);
      assert.ok(typeof t.forward.top[0].text === 'string' && t.forward.top[0].prob > 0);
    }
    assert.ok(Number.isFinite(res.summary.forward.meanNats) && Number.isFinite(res.summary.backward!.meanNats) && Number.isFinite(res.summary.delta!));
    assert.equal(res.runtime.provider, 'cpu');
    assert.ok(res.runtime.ms > 0);
  }
});

test('probe: table by default, FILE and stdin inputs', () => {
  const table = cli(['probe', '--model', MARKOV, '--text', 'the cat']);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /fw bits/);
  assert.match(table.stdout, /delta\s+-?\d/);
  const f = file('in.txt', '\uFEFFthe cat'); // a BOM is dropped
  const fromFile = cli(['probe', '--model', MARKOV, '--json', f]);
  assert.equal(JSON.parse(fromFile.stdout).text, 'the cat');
  const fromStdin = cli(['probe', '--model', MARKOV, '--json', '-'], 'the cat');
  assert.equal(JSON.parse(fromStdin.stdout).text, 'the cat');
  const summary = cli(['probe', '--model', MARKOV, '--summary', '--text', 'the cat']);
  assert.doesNotMatch(summary.stdout, /fw bits/);
});

test('probe: a 200,000-character file is scored in windows', () => {
  const text = ('The quick brown fox jumps over the lazy dog. 中文 😀\n').repeat(4000).slice(0, 200_000);
  const p = file('big.txt', text);
  const t0 = Date.now();
  const r = cli(['probe', '--model', MARKOV, '--json', '--top', '1', p]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ProbeResult;
  assert.equal(res.text.length, 200_000);
  assert.equal(checkCover(text, res.tokens.map((t) => [t.start, t.end])), null);
  assert.ok(res.runtime.windows > 1000);
  const rel = Math.abs(res.summary.forward.totalBits - res.summary.backward!.totalBits) / res.summary.forward.totalBits;
  assert.ok(rel < 1e-6, `Markov equality over ${res.tokens.length} tokens: ${rel}`);
  console.log(`200k chars: ${res.tokens.length} tokens, ${res.runtime.windows} windows/direction, ${Date.now() - t0} ms wall (markov fixture)`);
});

test('bad input text: empty, whitespace, NUL, invalid UTF-8, missing file', () => {
  assertCleanError(cli(['probe', '--model', MARKOV, '--text', '']), 3, /error: the text is empty/);
  assertCleanError(cli(['probe', '--model', MARKOV, '--text', ' \n\t ']), 3, /only whitespace/);
  assertCleanError(cli(['probe', '--model', MARKOV, file('nul.txt', 'ab\u0000cd')]), 3, /NUL character/);
  // CESU-8 lone surrogate (ED A0 80) and a stray continuation byte: invalid UTF-8
  assertCleanError(cli(['probe', '--model', MARKOV, file('bad.txt', Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62]))]), 3, /not valid UTF-8 \(invalid byte 0xed at offset 1\)/);
  assertCleanError(cli(['probe', '--model', MARKOV, join(tmp, 'nope.txt')]), 2, /no such file/);
  assertCleanError(cli(['probe', '--model', MARKOV, '--max-tokens', '3', '--text', 'abcdefgh']), 3, /limit is 3/);
});

test('usage errors exit 2 with a hint', () => {
  assertCleanError(cli(['probe', '--model', MARKOV]), 2, /nothing to probe/);
  assertCleanError(cli(['probe', '--bogus']), 2, /has no option --bogus.*--help/);
  assertCleanError(cli(['frobnicate']), 2, /unknown command "frobnicate"/);
  assertCleanError(cli(['probe', '--model', MARKOV, '--top', 'x', '--text', 'a']), 2, /--top: expected an integer/);
  const help = cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit codes:/);
});

test('bad packs exit 4 with one line naming pack and field', () => {
  assertCleanError(cli(['probe', '--model', join(tmp, 'no-pack'), '--text', 'a']), 4, /no such folder/);
  const escape = tempPack(MARKOV, (m) => (m.forward = '../x.onnx'));
  assertCleanError(cli(['probe', '--model', escape, '--text', 'a']), 4, new RegExp(`${escape}.*field "forward".*inside the pack`));
  const wrongName = tempPack(TINY, (m) => ((m.graph as { outputs: { attentions: string } }).outputs.attentions = 'attn'));
  assertCleanError(cli(['probe', '--model', wrongName, '--text', 'a']), 4, /graph.outputs.attentions/);
  const wrongShape = tempPack(TINY, (m) => ((m.architecture as { width: number }).width = 32));
  assertCleanError(cli(['probe', '--model', wrongShape, '--text', 'a']), 4, /hidden_states.*expected shape/);
  const missing = tempPack(MARKOV, (m) => (m.tokenizer = 'tok.json'));
  assertCleanError(cli(['probe', '--model', missing, '--text', 'a']), 4, /field "tokenizer".*missing/);
});

test('default pack: probes English and hard Unicode, or says it is missing with the --model hint', (t) => {
  const installed = existsSync(join(ROOT, 'models', 'default', 'manifest.json'));
  if (!installed) {
    assertCleanError(cli(['probe', '--text', 'a']), 4, /default model pack is not installed.*--model/);
    return;
  }
  for (const text of ['The quick brown fox jumps over the lazy dog.', HARD]) {
    const r = cli(['probe', '--json', '--text', text]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as ProbeResult;
    assert.equal(checkCover(text, res.tokens.map((x) => [x.start, x.end])), null);
    assert.ok(res.tokens.every((x) => Number.isFinite(x.forward.surprisalBits) && (x.backward === null || Number.isFinite(x.backward.surprisalBits))));
  }
  t.diagnostic('probed with models/default');
});

test('corpus: delta with a bootstrap interval, JSON and text', () => {
  const a = file('a.txt', 'The quick brown fox jumps over the lazy dog. '.repeat(20));
  const b = file('b.txt', 'function f(x) { return x * 2; }\n'.repeat(20));
  const c = file('c.txt', '中文テキスト 😀 naïve café\n'.repeat(20));
  const r = cli(['corpus', '--model', MARKOV, '--json', a, b, c]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.files.length, 3);
  assert.equal(rep.bootstrap.unit, 'block', 'too few documents to resample documents');
  assert.ok(Math.abs(rep.delta) < 1e-6, 'Markov pair: delta 0');
  assert.ok(rep.deltaCI95[0] <= rep.delta + 1e-9 && rep.delta <= rep.deltaCI95[1] + 1e-9);
  assert.ok(rep.tokensPerSecond > 0);
  const one = cli(['corpus', '--model', TINY, a]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /delta\s+-?\d\.\d+\s+\(95% CI \[.*\], bootstrap over \d+ blocks of 31 tokens/);
  assert.match(one.stdout, /tokens\/s/);
  assertCleanError(cli(['corpus', '--model', MARKOV, a, file('empty.txt', '')]), 3, /empty\.txt: the text is empty/);
  const many = Array.from({ length: 10 }, (_, i) => file(`doc${i}.txt`, `document ${i}: `.repeat(5 + i)));
  const byDoc = JSON.parse(cli(['corpus', '--model', TINY, '--json', ...many]).stdout);
  assert.equal(byDoc.bootstrap.unit, 'document');
  assert.equal(byDoc.bootstrap.units, 10);
});

test('Ctrl-C (SIGINT) cancels between windows: exit 130, one message', async () => {
  // long enough to take far more than 3 s (tens of thousands of windows), under the token limit
  const p = file('long.txt', 'a fairly long text that takes a while to score in many windows. '.repeat(9000));
  const child = spawn(process.execPath, [CLI, 'probe', '--model', TINY, '--summary', p], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LM_PROBE_PROGRESS_SECONDS: '0.05' },
  });
  let stderr = '';
  let stdout = '';
  // interrupt once the engine is scoring (its first progress line), whatever the machine's speed
  let scoring: () => void = () => undefined;
  const started = new Promise<void>((r) => (scoring = r));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (/tokens/.test(stderr)) scoring();
  });
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await started;
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.equal(stdout, '');
  assert.match(stderr, /error: the probe was cancelled/);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

test('probe --json streams the same JSON as JSON.stringify, even when the text holds "tokens":[]', () => {
  const text = 'key "tokens":[] and "tokens":[1] 😀';
  const r = cli(['probe', '--model', MARKOV, '--json', '--text', text]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ProbeResult;
  assert.equal(res.text, text);
  assert.equal(r.stdout, JSON.stringify(res) + '\n');
  assert.equal(checkCover(text, res.tokens.map((t) => [t.start, t.end])), null);
});

test('probe and corpus on a pack without a backward model', () => {
  const fwOnly = join(MARKOV, '..', 'markov-forward-int32');
  const table = cli(['probe', '--model', fwOnly, '--text', 'the cat sat']);
  assert.equal(table.code, 0, table.stderr);
  assert.doesNotMatch(table.stdout, /bw bits|backward|delta/);
  const res = JSON.parse(cli(['probe', '--model', fwOnly, '--json', '--text', 'the cat sat']).stdout) as ProbeResult;
  assert.equal(res.summary.backward, null);
  assert.ok(res.tokens.every((t) => t.backward === null && Number.isFinite(t.forward.surprisalBits)));
  const corpus = cli(['corpus', '--model', fwOnly, '--json', file('fw.txt', 'some text to score')]);
  assert.equal(corpus.code, 0, corpus.stderr);
  const rep = JSON.parse(corpus.stdout);
  assert.equal(rep.backward, null);
  assert.equal(rep.delta, null);
});

test('--providers: a provider that cannot start falls back to cpu with one warning', () => {
  const r = cli(['probe', '--model', MARKOV, '--providers', 'no-such-ep,cpu', '--json', '--text', 'the cat']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ProbeResult;
  assert.equal(res.runtime.provider, 'cpu');
  assert.equal(res.runtime.fallbacks[0].provider, 'no-such-ep');
  assert.equal(r.stderr.match(/lm-probe: warning: execution provider no-such-ep unavailable/g)?.length, 1, r.stderr);
});
