// lm-probe as a user meets it, through the built bundle (dist/cli.js; `npm test` builds it) on the
// real fixture and bundled models: each command's help, bad arguments and bad text, progress in a
// log, the table's alignment, and probe --json written while it is computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMANDS } from '../../src/cli/commands';
import { Engine } from '../../src/engine/engine';
import type { ProbeResult } from '../../src/engine/schema';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TINY = join(ROOT, 'test', 'fixtures', 'tiny-gpt');
const MARKOV = join(ROOT, 'test', 'fixtures', 'markov-pack');
const DEFAULT = join(ROOT, 'models', 'default');
const dir = mkdtempSync(join(tmpdir(), 'lm-probe-cli-'));

function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 300_000,
    maxBuffer: 1 << 28,
    env: { ...process.env, LM_PROBE_DEBUG: '', ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** One line on stderr, nothing on stdout, the exit code; quotes and brackets in the message balanced. */
function refused(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', what);
  assert.match(r.stderr, /^lm-probe: error: [^\n]+\n$/, `${what}: one error line: ${r.stderr}`);
  assert.match(r.stderr, pattern, what);
  const msg = r.stderr.replace(/"[^"]*"/g, '""');
  assert.equal((msg.match(/"/g) ?? []).length % 2, 0, `${what}: balanced double quotes: ${r.stderr}`);
  assert.equal((msg.match(/\(/g) ?? []).length, (msg.match(/\)/g) ?? []).length, `${what}: balanced parentheses: ${r.stderr}`);
  assert.equal((r.stderr.match(/'/g) ?? []).length % 2, 0, `${what}: balanced single quotes: ${r.stderr}`);
}

test('each subcommand --help prints its own usage, documenting every option it takes', () => {
  const names = Object.keys(COMMANDS);
  const all = cli(['--help']);
  assert.equal(all.code, 0);
  for (const name of names) {
    assert.match(all.stdout, new RegExp(`^ {2}lm-probe ${name}\\b|^ {2}lm-probe [a-z-]+ \\| ${name}\\b`, 'm'), `lm-probe --help documents ${name}`);
    for (const args of [[name, '--help'], [name, '-h'], ['help', name]]) {
      const r = cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^ {2}lm-probe (?:[a-z-]+ \\| )?${name}(?![\\w-])`, 'm'), `${args.join(' ')} shows its usage`);
      assert.match(r.stdout, /Exit codes:/);
    }
    const own = cli([name, '--help']).stdout;
    for (const opt of Object.keys(COMMANDS[name].options ?? {})) assert.ok(own.includes(`--${opt}`), `lm-probe ${name} --help documents --${opt}`);
    // its own usage, not every command's: no section of an unrelated command
    const related: Record<string, string[]> = { importance: ['analyze', 'geometry'], geometry: ['analyze', 'importance'] };
    for (const other of names.filter((n) => n !== name && !(related[name] ?? []).includes(n))) {
      assert.doesNotMatch(own, new RegExp(`^ {2}lm-probe ${other}(?![\\w-])`, 'm'), `lm-probe ${name} --help shows lm-probe ${other}'s usage`);
    }
  }
  // --help wins over a bad option on the same line
  assert.equal(cli(['probe', '--bogus', '--help']).code, 0);
});

test('no arguments: the help on stderr, exit 2, nothing on stdout', () => {
  const r = cli([]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^lm-probe: what a language model makes of your text/);
  assert.match(r.stderr, /Exit codes:/);
  assert.equal(cli(['--help']).stderr, '', '--help itself goes to stdout');
});

test('negative numbers get the option\'s own message, unknown options a balanced one', () => {
  const cases: [string[], RegExp][] = [
    [['probe', '--model', MARKOV, '--top', '-1', '--text', 'a'], /--top: expected an integer >= 0, got "-1"/],
    [['probe', '--model', MARKOV, '-k', '-3', '--text', 'a'], /--top: expected an integer >= 0, got "-3"/],
    [['probe', '--model', MARKOV, '--max-tokens', '-10', '--text', 'a'], /--max-tokens: expected an integer >= 1/],
    [['analyze', '--model', TINY, '--alpha', '-0.5', '--text', 'a b c'], /--alpha: expected a number >= 0, got -0.5/],
    [['importance', '--model', TINY, '--token', '-2', '--text', 'a b c'], /--token: expected an integer >= 0/],
    [['lasso', '--alpha', '-1e-3', '--data', 'x.json'], /--alpha: expected a number >= 0, got -1e-3/],
    [['corpus', '--model', MARKOV, '--resamples', '-5', 'README.md'], /--resamples: expected an integer >= 1/],
    [['icl', '--synthetic', '--eta', '-.5'], /--eta: expected a number > 0/],
    [['skills', '--theta', '0.1', '--k', '-2'], /--k: expected an integer >= 1/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(args);
    refused(r, 2, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /ambiguous/);
  }
  refused(cli(['probe', '--bogus']), 2, /lm-probe probe has no option --bogus \(its options: .*--top.*; see lm-probe probe --help\)/, 'unknown long option');
  refused(cli(['probe', '-x', 'f.txt']), 2, /has no option -x/, 'unknown short option');
  refused(cli(['probe', '--text']), 2, /--text needs a value/, 'missing value');
  refused(cli(['probe', '--top', '--json', '--text', 'a']), 2, /--top needs a value.*--top=VALUE/, 'an option where a value belongs');
  refused(cli(['models', '--json=yes']), 2, /--json takes no value/, 'a value for a switch');
  refused(cli(['lasso', 'stray']), 2, /lm-probe lasso takes no FILE or other bare argument, got "stray"/, 'a bare argument');
  refused(cli(['analyze', '--json', '--text', 'a']), 2, /lm-probe analyze has no option --json/, 'analyze always prints JSON');
});

test('bad text exits 3 in every command that reads text: empty, binary, NUL', () => {
  const bad: Record<string, string> = {
    empty: file('empty.txt', ''),
    blank: file('blank.txt', ' \n\t\n'),
    binary: file('binary.dat', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0xff, 0xfe, 0x00, 0x80, 0xc3])),
    nul: file('nul.txt', 'text\u0000more'),
  };
  const message: Record<string, RegExp> = { empty: /the text is empty/, blank: /only whitespace/, binary: /not valid UTF-8/, nul: /NUL character/ };
  const commands: [string, (f: string) => string[]][] = [
    ['probe', (f) => ['probe', '--model', MARKOV, f]],
    ['probe --json', (f) => ['probe', '--model', MARKOV, '--json', f]],
    ['corpus', (f) => ['corpus', '--model', MARKOV, file('ok.txt', 'some good text here\n'), f]],
    ['analyze', (f) => ['analyze', '--model', TINY, f]],
    ['importance', (f) => ['importance', '--model', TINY, f]],
    ['geometry', (f) => ['geometry', '--model', TINY, f]],
    ['fit-probes', (f) => ['fit-probes', '--model', TINY, '--out', join(dir, 'p.json'), f]],
    ['eval-probes', (f) => ['eval-probes', '--model', TINY, f]],
    ['bench-analyses', (f) => ['bench-analyses', '--model', TINY, f]],
    ['skills --corpus', (f) => ['skills', '--model', MARKOV, '--floor', '0.1', '--corpus', f]],
  ];
  for (const [name, args] of commands) {
    for (const [kind, f] of Object.entries(bad)) refused(cli(args(f)), 3, message[kind], `${name} on ${kind} text`);
  }
  refused(cli(['probe', '--model', MARKOV, '--text', '']), 3, /the text is empty/, 'probe --text ""');
  refused(cli(['probe', '--model', MARKOV, '-'], { input: '' }), 3, /the text is empty/, 'probe - with empty stdin');
  refused(cli(['analyze', '--model', TINY, '-'], { input: '\u0000' }), 3, /NUL character/, 'analyze - with NUL on stdin');
});

test('progress in a log: a line every few seconds with tokens, rate and ETA, then a closing line', () => {
  const text = file('long.txt', 'A line of plain text that the model scores, window after window.\n'.repeat(700));
  const env = { LM_PROBE_PROGRESS_SECONDS: '0.01' }; // a line per batch or two, however fast the machine
  for (const args of [
    ['probe', '--model', TINY, '--summary', text],
    ['probe', '--model', TINY, '--json', text],
  ]) {
    const r = cli(args, { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    const progress = lines.filter((l) => /^lm-probe: probe: [\d,]+ of [\d,]+ tokens \(\d+(\.\d)?%(, (forward|backward))?\), [\d,]+ tokens\/s, ETA \d+(s|m\d\ds)$/.test(l));
    assert.ok(progress.length >= 2, `progress lines for ${args.join(' ')}:\n${r.stderr}`);
    assert.match(lines[lines.length - 1], /^lm-probe: probe: [\d,]+ tokens in \d+(s|m\d\ds) \([\d,]+ tokens\/s\)$/);
    const done = progress.map((l) => Number(/: ([\d,]+) of/.exec(l)![1].replace(/,/g, '')));
    assert.deepEqual(done, done.slice().sort((a, b) => a - b), 'tokens scored only grow');
  }
  const corpus = cli(['corpus', '--model', TINY, text, text], { env });
  assert.equal(corpus.code, 0, corpus.stderr);
  assert.match(corpus.stderr, /^lm-probe: corpus: [\d,]+ tokens \(\d+(\.\d)?%, .*long\.txt\), [\d,]+ tokens\/s, ETA /m);
  // a quick run prints nothing
  assert.equal(cli(['probe', '--model', TINY, '--summary', '--text', 'short'], { env: { LM_PROBE_PROGRESS_SECONDS: '5' } }).stderr, '');
});

/** Columns a terminal gives a grapheme: 2 for emoji and CJK scripts, 1 otherwise (the test's own oracle). */
function oracleWidth(s: string): number {
  let w = 0;
  for (const { segment } of new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s)) {
    w += /\p{Emoji_Presentation}|\p{Script=Han}|\p{Script=Katakana}|\p{Script=Hiragana}|\p{Script=Hangul}/u.test(segment) ? 2 : 1;
  }
  return w;
}

test('the table aligns CJK and emoji by display width, marks split characters, and has a legend', (t) => {
  if (!existsSync(join(DEFAULT, 'manifest.json'))) return t.skip('models/default is not installed');
  const text = 'a 中文テキスト 한국어 😀👍🏽 👨‍👩‍👧 🇫🇷 café';
  const r = cli(['probe', '--text', text]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const header = lines[0];
  const tokenCol = header.indexOf('part') - header.indexOf('token'); // the token column and its separator
  const rows = lines.slice(1, lines.findIndex((l) => l.startsWith('legend:')));
  assert.ok(rows.length > 30, `${rows.length} rows`);
  let split = 0;
  for (const row of rows) {
    // the columns before the token are ASCII; the token cell is measured on its own
    const m = /^( *\d+ )(.+?)( +)(\d+\/\d+ +)?(\d+-\d+) /.exec(row);
    assert.ok(m, row);
    assert.equal(m[1].length, header.indexOf('token'), row);
    const want = m[4] ? tokenCol : header.indexOf('range') - header.indexOf('token'); // or up to range, past a blank part
    assert.equal(oracleWidth(m[2]) + m[3].length, want, `the token cell of "${row}" is ${want} columns wide`);
    if (m[4]) split++;
  }
  assert.ok(split > 10, 'the byte-level pieces of CJK and emoji are marked k/n');
  assert.match(r.stdout, /^ *\d+ 中 +1\/3 +2-3 /m);
  assert.match(r.stdout, /^legend: bits: surprisal.*rank 1 = the top guess.*part k\/n: k-th of n tokens that split one character.*· space/m);
});

test('probe --json is written as it is computed and equals the engine\'s own ProbeResult', async () => {
  const text = ('Surprisal, token by token: 中文 😀 naïve café. ' + 'The quick brown fox jumps over the lazy dog.\n').repeat(40);
  for (const [pack, extra] of [
    [DEFAULT, []],
    [DEFAULT, ['--forward-only']],
    [TINY, ['--top', '3']],
    [MARKOV, ['--top', '0']],
  ] as [string, string[]][]) {
    if (!existsSync(join(pack, 'manifest.json'))) continue;
    const r = cli(['probe', '--model', pack, '--providers', 'cpu', '--json', ...extra, file('json.txt', text)]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as ProbeResult;
    assert.equal(r.stdout, JSON.stringify(got) + '\n', 'one line, the bytes of JSON.stringify');
    const engine = await Engine.open(pack, { providers: ['cpu'] });
    try {
      const topK = extra.includes('--top') ? Number(extra[extra.indexOf('--top') + 1]) : 5;
      const want = await engine.probe(text, { topK, maxTokens: 1_000_000, forwardOnly: extra.includes('--forward-only') });
      assert.ok(want.runtime.windows > 8, `several batches of windows (${want.runtime.windows})`);
      for (const x of [got, want]) x.runtime.ms = x.runtime.loadMs = 0;
      assert.deepEqual(got, want, `${pack} ${extra.join(' ')}`);
    } finally {
      await engine.dispose();
    }
  }
});

test('probe --summary: delta with its block-bootstrap interval, or why there is none', () => {
  const long = cli(['probe', '--summary', '--providers', 'cpu', '--model', DEFAULT, join(ROOT, 'docs', 'labs.md')]);
  assert.equal(long.code, 0, long.stderr);
  const m = /delta +(-?[\d.]+) .*\n +95% CI \[(-?[\d.]+), (-?[\d.]+)\], bootstrap over (\d+) blocks of (\d+) tokens/.exec(long.stdout);
  assert.ok(m, long.stdout);
  assert.ok(Number(m[2]) <= Number(m[1]) && Number(m[1]) <= Number(m[3]), m[0]);
  assert.ok(Number(m[4]) >= 10);
  const short = cli(['probe', '--summary', '--providers', 'cpu', '--model', DEFAULT, '--text', 'Hello world']);
  assert.equal(short.code, 0, short.stderr);
  assert.match(short.stdout, /no interval: too short for an interval: \d+ tokens?, at least 80 are needed/);
});

test('bench: medians per length on the given text, the lengths it lacks, corpus tokens/s and peak RSS', () => {
  const text = file('bench.txt', 'A line of plain text that the model scores, window after window.\n'.repeat(60));
  const r = cli(['bench', '--model', TINY, '--tokens', '16,40,999999', '--repeats', '2', '--json', text]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['probe16', 'probe40']) {
    assert.ok(j[k].engineMs.min > 0 && j[k].engineMs.min <= j[k].engineMs.median && j[k].engineMs.median <= j[k].engineMs.max, k);
    assert.ok(j[k].tokensPerSecond > 0 && j[k].windows >= 1, k);
  }
  assert.equal(j.probe40.tokens, 40);
  assert.deepEqual(j.skipped, [999999]);
  assert.ok(j.corpus.tokens > 40 && j.corpus.tokensPerSecond > 0);
  assert.ok(j.peakRssMb > 0 && j.directions === 2 && j.repeats === 2);
  const t = cli(['bench', '--model', TINY, '--tokens', '16', '--repeats', '1', text]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^probe +16 tokens +[\d.]+ ms \([\d.]+-[\d.]+\), [\d,]+ tokens\/s, 1 window per direction$/m);
  assert.match(t.stdout, /^corpus [\d,]+ tokens \(nats only\) in [\d.]+ s: [\d,]+ tokens\/s$/m);
  // Providers named are measured each on its own; one that does not start is said and left out.
  const named = cli(['bench', '--model', TINY, '--tokens', '16', '--repeats', '1', '--providers', 'dml,cpu', '--json', text]);
  assert.equal(named.code, 0, named.stderr);
  const n = JSON.parse(named.stdout);
  assert.deepEqual(
    n.providers.map((p: { provider: string }) => p.provider),
    ['cpu'],
  );
  assert.ok(n.providers[0].probe16.engineMs.median > 0 && n.providers[0].corpus.tokens > 40);
  assert.match(n.unavailable[0], /^dml \(DirectML runs only on Windows\)$/);
  const none = cli(['bench', '--model', TINY, '--tokens', '16', '--providers', 'dml', text]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no provider named could be measured: dml \(DirectML runs only on Windows\)/);
  refused(cli(['bench', '--model', TINY]), 2, /bench needs a text FILE/, 'bench without a file');
  refused(cli(['bench', '--model', TINY, '--tokens', '100000', text]), 2, /fewer than every --tokens length/, 'bench on too short a text');
});
