// Sharding in process (src/cli/commands/shards.ts, the include hook of futureLens.ts): shard specs,
// the split of the FILE list, and fit-probes shards written, read back, summed and solved give the
// float64 weights of one run over every file (to 1e-9).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { accumulateFit, fitProbes, fitSettings, solveFit, type FitOptions } from '../../src/engine/analysis/futureLens';
import { parseShard, readFitShards, shardMembers, shardOutPath, writeFitShard } from '../../src/cli/commands/shards';
import { makeCorpus } from '../cli/corpus-fixture';
import { TINY } from './helpers';

test('parseShard: I/N, auto/N from a Kubernetes Indexed Job or a Slurm array, refusals', () => {
  assert.deepEqual(parseShard('2/4', {}), { index: 2, count: 4 });
  assert.deepEqual(parseShard(' 1 / 1 ', {}), { index: 1, count: 1 });
  for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '-1/2', '1.5/3']) assert.throws(() => parseShard(bad, {}), /--shard/, bad);
  assert.deepEqual(parseShard('auto/4', { JOB_COMPLETION_INDEX: '0' }), { index: 1, count: 4 });
  assert.deepEqual(parseShard('auto/4', { JOB_COMPLETION_INDEX: '3' }), { index: 4, count: 4 });
  assert.throws(() => parseShard('auto/4', { JOB_COMPLETION_INDEX: '4' }), /outside 1\.\.4/);
  assert.deepEqual(parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 1, count: 4 });
  assert.deepEqual(parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 4, count: 4 });
  assert.throws(() => parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '8' }), /has 8 tasks/);
  assert.throws(() => parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2' }), /contiguous/);
  assert.throws(() => parseShard('auto/4', {}), /neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
  assert.throws(() => parseShard('auto/4', { JOB_COMPLETION_INDEX: 'x' }), /not a non-negative integer/);
  assert.equal(shardOutPath('out/part-{i}-of-{n}.json', { index: 2, count: 5 }), 'out/part-2-of-5.json');
});

test('shardMembers: every file in exactly one shard, by rank in the list sorted by path', () => {
  const paths = ['c.txt', 'a.txt', 'e.txt', 'b.txt', 'd.txt', 'a.txt', 'f.txt'];
  for (const n of [1, 2, 3, 7, 10]) {
    const seen = paths.map(() => 0);
    for (let i = 1; i <= n; i++) for (const j of shardMembers(paths, { index: i, count: n })) seen[j]++;
    assert.deepEqual(seen, paths.map(() => 1), `n = ${n}`);
  }
  // sorted: a(1) a(5) b(3) c(0) d(4) e(2) f(6); shard 1/3 takes ranks 0, 3, 6
  assert.deepEqual(shardMembers(paths, { index: 1, count: 3 }), [0, 1, 6]);
  assert.deepEqual(shardMembers(paths, { index: 2, count: 3 }), [4, 5]);
  assert.deepEqual(shardMembers(paths, { index: 3, count: 3 }), [2, 3]);
});

let engine: Engine;
let dir: string;
before(async () => {
  engine = await Engine.open(TINY);
  dir = mkdtempSync(join(tmpdir(), 'lm-probe-shards-'));
});
after(async () => {
  await engine?.dispose();
});

function relClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(scale, 1e-300), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

async function shardedEqualsOne(opts: FitOptions, n: number, tag: string): Promise<void> {
  const one = await fitProbes(engine, opts);
  const all = [...opts.files, ...(opts.heldOutFiles ?? [])];
  const parts: string[] = [];
  let ran = 0;
  let busy = 0;
  for (let i = 1; i <= n; i++) {
    const spec = { index: i, count: n };
    const mine = new Set(shardMembers(all, spec));
    const acc = await accumulateFit(engine, { ...opts, include: (k) => mine.has(k) });
    ran += acc.ran.windows;
    if (acc.ran.windows > 0) busy++;
    const p = join(dir, `${tag}-${i}.bin`);
    writeFitShard(p, { pack: engine.pack, provider: engine.provider, spec, acc, settings: fitSettings(engine, opts), maxTokens: opts.maxTokens ?? 200_000, heldOutEvery: 10, files: mine.size, seconds: 0 });
    parts.push(p);
  }
  const { acc, settings } = readFitShards(parts.reverse());
  assert.equal(ran, acc.windows, 'every planned window ran in exactly one shard');
  if (tag !== 'short') assert.ok(busy >= 2, `${tag}: the windows are spread over several shards`);
  const merged = solveFit(acc, settings);
  assert.deepEqual({ ...merged.meta, createdAt: '' }, { ...one.meta, createdAt: '' }, 'header: lambdas, bigram table, fittedOn');
  assert.equal(merged.maps.length, one.maps.length);
  one.maps.forEach((m, i) => {
    const g = merged.maps[i];
    assert.equal(g.lambda, m.lambda, `${tag} map ${i} lambda`);
    relClose(g.A, m.A, 1e-9, `${tag} map ${i} A`);
    relClose(g.b, m.b, 1e-9, `${tag} map ${i} b`);
    if (m.heldOutMse !== null) assert.ok(Math.abs(g.heldOutMse! - m.heldOutMse) <= 1e-9 * m.heldOutMse, `${tag} map ${i} heldOutMse`);
  });
}

test('fit-probes shards written, read back and summed: the weights of one run (1e-9), the same penalties and bigram table', async () => {
  const files = makeCorpus(dir, 7, 11, 200, 900);
  await shardedEqualsOne({ files, maxTokens: 5000 }, 3, 'default');
  await shardedEqualsOne({ files: files.slice(0, 5), heldOutFiles: files.slice(5), maxTokens: 4000, targetSpace: 'residual' }, 4, 'held');
  // more shards than files: the extra shards are empty and still merge
  await shardedEqualsOne({ files: files.slice(0, 2), maxTokens: 3000 }, 3, 'sparse');
  // a one-window text: its last tenth is held out (the split happens in the shard that owns the file)
  const short = makeCorpus(dir, 1, 5, 12, 13);
  await shardedEqualsOne({ files: short, lambdas: [0.01] }, 2, 'short');
});

test('readFitShards refuses a missing shard and shards of other options', async () => {
  const files = makeCorpus(dir, 3, 21, 200, 400);
  const write = async (tag: string, opts: FitOptions, spec: { index: number; count: number }) => {
    const mine = new Set(shardMembers(opts.files, spec));
    const acc = await accumulateFit(engine, { ...opts, include: (k) => mine.has(k) });
    const p = join(dir, `${tag}.bin`);
    writeFitShard(p, { pack: engine.pack, provider: engine.provider, spec, acc, settings: fitSettings(engine, opts), maxTokens: opts.maxTokens ?? 200_000, heldOutEvery: 10, files: mine.size, seconds: 0 });
    return p;
  };
  const a = await write('r1', { files, maxTokens: 2000 }, { index: 1, count: 2 });
  const b = await write('r2', { files, maxTokens: 3000 }, { index: 2, count: 2 });
  assert.throws(() => readFitShards([a]), /missing shard 2\/2 \(given: 1\/2\)/);
  assert.throws(() => readFitShards([a, b]), /differ in --max-tokens \(3000 vs 2000\)/);
  assert.throws(() => readFitShards([a, a]), /shard 1\/2 given twice/);
});
