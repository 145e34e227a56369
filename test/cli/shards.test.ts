// lm-probe corpus / fit-probes --shard I/N and lm-probe merge through the built bundle
// (dist/cli.js; `npm test` builds it): merged shards give the figures of one run over all FILEs,
// and merge refuses shards that do not make one whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeCorpus } from './corpus-fixture';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TINY = join(ROOT, 'test', 'fixtures', 'tiny-gpt');
const MARKOV = join(ROOT, 'test', 'fixtures', 'markov-pack');
const dir = mkdtempSync(join(tmpdir(), 'lm-probe-shards-cli-'));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean: NodeJS.ProcessEnv = { ...process.env, LM_PROBE_DEBUG: '' };
  for (const k of ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_STEP']) delete clean[k];
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 300_000, env: { ...clean, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: { code: number | null; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function refused(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line of error: ${r.stderr}`);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

interface Report {
  files: unknown[];
  tokens: number;
  forward: { meanNats: number };
  backward: { meanNats: number } | null;
  delta: number | null;
  deltaCI95: [number, number] | null;
  bootstrap: unknown;
}

function sameReport(merged: Report, one: Report, what: string): void {
  assert.deepEqual(merged.files, one.files, `${what}: per-file figures`);
  assert.equal(merged.tokens, one.tokens, `${what}: tokens`);
  assert.ok(rel(merged.forward.meanNats, one.forward.meanNats) <= 1e-12, `${what}: L_fw`);
  assert.ok(rel(merged.backward!.meanNats, one.backward!.meanNats) <= 1e-12, `${what}: L_bw`);
  assert.ok(rel(merged.delta!, one.delta!) <= 1e-12, `${what}: delta`);
  assert.deepEqual(merged.deltaCI95, one.deltaCI95, `${what}: the bootstrap interval`);
  assert.deepEqual(merged.bootstrap, one.bootstrap, `${what}: bootstrap`);
}

/** Runs corpus over `files` in n shards (env per shard when given) and returns the shard files. */
function corpusShards(pack: string, files: string[], n: number, tag: string, extra: string[] = [], env?: (i: number) => NodeJS.ProcessEnv): string[] {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) {
    const out = join(dir, `${tag}-{i}-of-{n}.json`);
    const spec = env ? `auto/${n}` : `${i}/${n}`;
    ok(cli(['corpus', '--model', pack, '--shard', spec, '--out', out, ...extra, ...files], env?.(i)));
    parts.push(join(dir, `${tag}-${i}-of-${n}.json`));
  }
  return parts;
}

test('corpus: shards merged give the report of one run (document bootstrap; --shard I/N and auto/N)', () => {
  const files = makeCorpus(mkdtempSync(join(dir, 'docs-')), 12, 3);
  const one = JSON.parse(ok(cli(['corpus', '--model', MARKOV, '--json', ...files]))) as Report;
  assert.deepEqual((one.bootstrap as { unit: string }).unit, 'document');
  const cases: [number, ((i: number) => NodeJS.ProcessEnv) | undefined][] = [
    [3, undefined],
    [5, (i) => ({ JOB_COMPLETION_INDEX: String(i - 1) })],
    [4, (i) => ({ SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })],
    [13, undefined], // more shards than files: one shard is empty
  ];
  for (const [n, env] of cases) {
    const parts = corpusShards(MARKOV, files, n, `doc${n}`, [], env);
    const merged = JSON.parse(ok(cli(['merge', '--json', ...parts.slice().reverse()]))) as Report;
    sameReport(merged, one, `${n} shards`);
  }
  // the plain report is the corpus report (but for the timing line)
  const parts = corpusShards(MARKOV, files, 3, 'plain');
  const noSpeed = (s: string) => s.split('\n').filter((l) => !l.startsWith('speed')).join('\n');
  assert.equal(noSpeed(ok(cli(['merge', ...parts]))), noSpeed(ok(cli(['corpus', '--model', MARKOV, ...files]))));
});

test('corpus: shards merged give the block bootstrap of one run; --seed and --resamples carry over or are chosen at merge', () => {
  const files = makeCorpus(mkdtempSync(join(dir, 'blocks-')), 4, 8, 100, 600);
  const one = JSON.parse(ok(cli(['corpus', '--model', TINY, '--json', '--seed', '7', '--resamples', '300', ...files]))) as Report;
  assert.equal((one.bootstrap as { unit: string }).unit, 'block');
  const parts = corpusShards(TINY, files, 3, 'blk', ['--seed', '7', '--resamples', '300']);
  sameReport(JSON.parse(ok(cli(['merge', '--json', ...parts]))) as Report, one, 'blocks');
  const other = JSON.parse(ok(cli(['corpus', '--model', TINY, '--json', '--seed', '9', ...files]))) as Report;
  sameReport(JSON.parse(ok(cli(['merge', '--json', '--seed', '9', '--resamples', '1000', ...parts]))) as Report, other, 'seed chosen at merge');
  const p2 = corpusShards(TINY, files, 3, 'blk9', ['--seed', '9', '--resamples', '300']);
  refused(cli(['merge', parts[0], p2[1], parts[2]]), 2, /different --seed \(7, 9\|9, 7\)|different --seed/);
});

test('fit-probes: shards merged give the probe file of one run (weights to 1e-9, penalties, bigram table)', () => {
  const files = makeCorpus(mkdtempSync(join(dir, 'fit-')), 6, 17, 300, 900);
  const args = ['--model', TINY, '--max-tokens', '6000', '--lambdas', '1e-4,1e-2,1', ...files];
  ok(cli(['fit-probes', '--out', join(dir, 'one.json'), ...args]));
  const parts: string[] = [];
  for (let i = 1; i <= 3; i++) {
    const out = ok(cli(['fit-probes', '--shard', `${i}/3`, '--out', join(dir, 'fit-part{i}.bin'), '--json', ...args]));
    assert.equal(JSON.parse(out).shard.index, i);
    parts.push(join(dir, `fit-part${i}.bin`));
  }
  assert.match(ok(cli(['merge', '--out', join(dir, 'merged.json'), ...parts])), /wrote .*merged.json and merged.bin: 9 maps fitted on \d+ tokens \(\d+ held out\) from 3 shards/);
  const a = JSON.parse(readFileSync(join(dir, 'one.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8'));
  for (const k of Object.keys(a)) {
    if (k === 'createdAt' || k === 'binary' || k === 'maps') continue;
    assert.deepEqual(b[k], a[k], k);
  }
  a.maps.forEach((m: { lambda: number; heldOutMse: number | null }, i: number) => {
    assert.equal(b.maps[i].lambda, m.lambda);
    if (m.heldOutMse !== null) assert.ok(rel(b.maps[i].heldOutMse, m.heldOutMse) <= 1e-9);
  });
  const wa = new Float32Array(new Uint8Array(readFileSync(join(dir, 'one.bin'))).buffer);
  const wb = new Float32Array(new Uint8Array(readFileSync(join(dir, 'merged.bin'))).buffer);
  assert.equal(wb.length, wa.length);
  let scale = 0;
  for (const x of wa) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < wa.length; i++) assert.ok(Math.abs(wa[i] - wb[i]) <= 1e-9 * scale, `weight ${i}: ${wa[i]} vs ${wb[i]}`);
  // the merged file is a probe file like any other
  ok(cli(['eval-probes', '--model', TINY, '--probes', join(dir, 'merged.json'), '--max-tokens', '300', files[0]]));
  // refusals: other options, no --out, --set-manifest
  ok(cli(['fit-probes', '--shard', '2/3', '--out', join(dir, 'fit-other2.bin'), '--model', TINY, '--max-tokens', '5000', '--lambdas', '1e-4,1e-2,1', ...files]));
  refused(cli(['merge', '--out', join(dir, 'x.json'), parts[0], join(dir, 'fit-other2.bin'), parts[2]]), 2, /differ in --max-tokens \(5000 vs 6000\)/);
  refused(cli(['merge', ...parts]), 2, /needs --out FILE/);
  refused(cli(['fit-probes', '--shard', '1/3', '--set-manifest', '--out', join(dir, 'y.bin'), ...args]), 2, /--set-manifest does not go with --shard/);
});

test('merge refuses missing, repeated, foreign and mixed shards; corpus --shard refuses bad options', () => {
  const files = makeCorpus(mkdtempSync(join(dir, 'ref-')), 4, 29);
  const parts = corpusShards(MARKOV, files, 3, 'ref');
  refused(cli(['merge', parts[0], parts[2]]), 2, /missing shard 2\/3 \(given: 1\/3, 3\/3\): merge needs every shard 1\.\.3 exactly once/);
  refused(cli(['merge', parts[0], parts[1], parts[1], parts[2]]), 2, /shard 2\/3 given twice/);
  // another model
  const tiny = corpusShards(TINY, files, 3, 'ref-tiny');
  refused(cli(['merge', parts[0], tiny[1], parts[2]]), 2, /written with model tiny-gpt-fixture \(sha256 [0-9a-f]{12}\), .* with model .*: shards of different models cannot be merged/);
  // another FILE list (same length) and another N
  const others = corpusShards(MARKOV, [...files.slice(0, 3), makeCorpus(mkdtempSync(join(dir, 'ref2-')), 1, 30)[0]], 3, 'ref-other');
  refused(cli(['merge', parts[0], others[1], parts[2]]), 2, /differ in the FILE list/);
  const four = corpusShards(MARKOV, files, 4, 'ref4');
  refused(cli(['merge', parts[0], parts[1], four[2]]), 2, /all shards must split into the same N/);
  // a fit-probes shard among corpus shards; a file that is not a shard
  ok(cli(['fit-probes', '--model', TINY, '--shard', '2/3', '--out', join(dir, 'ref-fit.bin'), '--max-tokens', '2000', ...files]));
  refused(cli(['merge', parts[0], join(dir, 'ref-fit.bin'), parts[2]]), 2, /is a fit-probes shard, .* a corpus shard: merge shards of one kind at a time/);
  const notShard = join(dir, 'not-a-shard.json');
  writeFileSync(notShard, '{"format": "lm-probe-probes"}');
  refused(cli(['merge', notShard]), 3, /is not an lm-probe shard \(field "format"/);
  refused(cli(['merge', files[0]]), 3, /is not an lm-probe shard/);
  refused(cli(['merge', join(dir, 'nothing.json')]), 2, /cannot read .*nothing.json: no such file/);
  refused(cli(['merge']), 2, /merge needs the shard FILEs/);
  refused(cli(['merge', '--out', join(dir, 'z.json'), ...parts]), 2, /merge --out is for fit-probes shards/);
  // corpus options
  refused(cli(['corpus', '--model', MARKOV, '--shard', '1/3', ...files]), 2, /--shard needs --out FILE/);
  refused(cli(['corpus', '--model', MARKOV, '--out', join(dir, 'o.json'), ...files]), 2, /--out writes a shard: give --shard I\/N too/);
  refused(cli(['corpus', '--model', MARKOV, '--shard', '0/3', '--out', join(dir, 'o.json'), ...files]), 2, /--shard: I must be in 1\.\.3/);
  refused(cli(['corpus', '--model', MARKOV, '--shard', '1/3', '--out', join(dir, 'o.json'), '-']), 2, /not standard input/);
  refused(cli(['corpus', '--model', MARKOV, '--shard', 'auto/3', '--out', join(dir, 'o.json'), ...files]), 2, /neither JOB_COMPLETION_INDEX/);
});
