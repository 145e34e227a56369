// The analyses' CLI subcommands through the built bundle (dist/cli.js; `npm test` builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TINY = join(ROOT, 'test', 'fixtures', 'tiny-gpt');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

test('lm-probe --help documents the analyses subcommands, and each one\'s --help its own usage', () => {
  const all = cli('--help');
  assert.equal(all.status, 0);
  for (const s of ['fit-probes', 'eval-probes', 'lasso', 'analyze', 'bench-analyses']) {
    assert.ok(all.stdout.includes(`lm-probe ${s}`), s);
    const own = cli(s, '--help');
    assert.equal(own.status, 0);
    assert.match(own.stdout, new RegExp(`^ {2}lm-probe ${s}`, 'm'), s);
  }
});

test('lm-probe lasso prints {coef, iterations} equal to scikit-learn', () => {
  const cases = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'analysis', 'lasso-cases.json'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-lasso-'));
  for (const c of cases.slice(0, 6).concat(cases.slice(12, 14))) {
    const f = join(dir, 'd.json');
    writeFileSync(f, JSON.stringify({ X: c.X, y: c.y }));
    const r = cli('lasso', '--json', '--alpha', String(c.alpha), '--data', f);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['coef', 'iterations']);
    out.coef.forEach((w: number, j: number) => assert.ok(Math.abs(w - c.tight.coef[j]) < 1e-6, `${c.name}[${j}]`));
    assert.equal(out.iterations, c.tight.iterations);
    const d = cli('lasso', '--json', '--alpha', String(c.alpha), '--data', f, '--tol', '1e-4', '--max-iter', '1000');
    assert.equal(JSON.parse(d.stdout).iterations, c.default.iterations);
  }
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ X: [[1, 2], [3]], y: [1, 2] }));
  const bad = cli('lasso', '--json', '--alpha', '0.1', '--data', join(dir, 'bad.json'));
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /X\[1\] must be an array of 2 finite numbers/);
  assert.equal(cli('lasso', '--json', '--data', join(dir, 'bad.json')).status, 2);
});

test('lm-probe fit-probes, eval-probes --json and importance on the tiny-gpt fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-cli-'));
  const out = join(dir, 'probes.json');
  const fit = cli('fit-probes', '--model', TINY, '--out', out, '--max-tokens', '3000', 'docs/model-pack.md', 'src/engine/engine.ts');
  assert.equal(fit.status, 0, fit.stderr);
  assert.match(fit.stdout, /wrote .*probes.json and probes.bin: 9 maps/);
  const ev = cli('eval-probes', '--model', TINY, '--probes', out, '--max-tokens', '800', '--json', 'src/engine/pack.ts');
  assert.equal(ev.status, 0, ev.stderr);
  const r = JSON.parse(ev.stdout);
  assert.equal(r.precisionAt1[2][0], r.modelNextTokenAccuracy);
  assert.equal(r.precisionAt1.length, 3);
  const imp = cli('importance', '--model', TINY, '--token', '5', '--alpha', '0.01', '--text', 'def f(x): return x');
  assert.equal(imp.status, 0, imp.stderr);
  const j = JSON.parse(imp.stdout);
  assert.equal(j.importance.target, 5);
  assert.equal(j.importance.lasso.length, 5);
  // the bundle finds its worker thread (dist/stateWorker.js) rather than falling back
  const all = cli('analyze', '--model', TINY, '--probes', out, '--text', 'def f(x): return x + 1');
  assert.equal(all.status, 0, all.stderr);
  const a = JSON.parse(all.stdout).analyses;
  assert.ok(a.importance && a.geometry && a.futureLens, Object.keys(a).join(','));
  assert.ok(!(a.notes ?? []).some((n: string) => /worker thread/.test(n)), JSON.stringify(a.notes));
  const none = cli('eval-probes', '--model', TINY, 'src/engine/pack.ts');
  assert.equal(none.status, 4);
  assert.match(none.stderr, /has no probes/);
});

test('fit-probes: --held-out is one file (repeatable) or --held-out-from LIST; small budgets still hold text out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lm-probe-held-'));
  const out = join(dir, 'p.json');
  const doc = readFileSync(join(ROOT, 'docs', 'model-pack.md'), 'utf8');
  // a held-out file much larger than its share of a small budget (this used to give "0 held out")
  const big = join(dir, 'big.txt');
  writeFileSync(big, doc.repeat(8));
  const small = join(dir, 'small.txt');
  writeFileSync(small, readFileSync(join(ROOT, 'src', 'engine', 'pack.ts'), 'utf8'));
  const fitFiles = ['docs/model-pack.md', 'src/engine/engine.ts'];
  const heldOut = (stdout: string) => Number(/\((\d+) held out/.exec(stdout)?.[1] ?? NaN);
  const withBig = cli('fit-probes', '--model', TINY, '--out', out, '--max-tokens', '3000', '--held-out', big, ...fitFiles);
  assert.equal(withBig.status, 0, withBig.stderr);
  assert.ok(heldOut(withBig.stdout) > 0, withBig.stdout);
  assert.match(withBig.stdout, /from 1 --held-out file/);
  const none = cli('fit-probes', '--model', TINY, '--out', out, '--max-tokens', '3000', ...fitFiles);
  assert.equal(none.status, 0, none.stderr);
  assert.ok(heldOut(none.stdout) > 0, none.stdout);
  assert.doesNotMatch(none.stdout, /--held-out file/);
  // --held-out-from LIST and a repeated --held-out name the same two files
  const list = join(dir, 'held.list');
  writeFileSync(list, `${big}\n\n${small}\n`);
  const fromList = cli('fit-probes', '--model', TINY, '--out', out, '--max-tokens', '3000', '--held-out-from', list, ...fitFiles);
  assert.equal(fromList.status, 0, fromList.stderr);
  assert.match(fromList.stdout, /from 2 --held-out file\(s\)/);
  assert.ok(heldOut(fromList.stdout) > 0);
  const repeated = cli('fit-probes', '--model', TINY, '--out', out, '--max-tokens', '3000', '--held-out', big, '--held-out', small, ...fitFiles);
  assert.equal(repeated.status, 0, repeated.stderr);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).fittedOn.files.filter((f: string) => f.endsWith('(held out)')).length, 2);
  assert.doesNotMatch(repeated.stderr, /warning/);
  // a file both fitted and held out is refused; a glob after one --held-out is warned about
  const both = cli('fit-probes', '--model', TINY, '--out', out, '--held-out', 'src/engine/engine.ts', ...fitFiles);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /src\/engine\/engine.ts is both a fitting FILE and a --held-out file/);
  const glob = cli('fit-probes', '--model', TINY, '--out', out, '--max-tokens', '3000', '--held-out', big, small, 'docs/model-pack.md');
  assert.equal(glob.status, 0, glob.stderr);
  assert.match(glob.stderr, /warning: 1 fitting FILE\(s\) \(e\.g\. .*small\.txt\) are in the folder of the one --held-out file .*--held-out-from LIST/);
  // a text of one window: its last tenth (at least 4 tokens here) is held out
  const tiny = join(dir, 'tiny.txt');
  writeFileSync(tiny, 'const x = 1;\nlet y = x + 2;\n');
  const one = cli('fit-probes', '--model', TINY, '--out', out, tiny);
  assert.equal(one.status, 0, one.stderr);
  assert.ok(heldOut(one.stdout) >= 4, one.stdout);
  // too little text to hold any out: refused, not fitted with an unchosen penalty
  writeFileSync(tiny, 'x = 1');
  const few = cli('fit-probes', '--model', TINY, '--out', out, tiny);
  assert.notEqual(few.status, 0);
  assert.match(few.stderr, /no held-out text: the text is too short to hold part of it out/);
  assert.equal(cli('fit-probes', '--model', TINY, '--out', out, '--lambdas', '0.01', tiny).status, 0);
  const help = cli('fit-probes', '--help');
  for (const s of ['--held-out-from LIST', 'repeat it per file']) assert.ok(help.stdout.includes(s), s);
  assert.ok(cli('eval-probes', '--help').stdout.includes('sampled evenly'));
});
