// The state analyses (importance, geometry) in their worker thread give exactly what they give on
// the calling thread; the worker restarts after a stop; a job's own error reaches the caller.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { attentionRows } from '../../src/engine/analysis/importance';
import { runStateJob, type StateJob } from '../../src/engine/analysis/stateAnalyses';
import { runStateJobOffThread, stopStateWorker } from '../../src/engine/analysis/stateThread';

const TINY = join(resolve(__dirname, '..', '..'), 'test', 'fixtures', 'tiny-gpt');
after(() => stopStateWorker());

async function jobFor(text: string): Promise<StateJob> {
  const engine = await Engine.open(TINY);
  try {
    const ids = engine.tokenize(text).ids.slice(0, engine.pack.manifest.contextLength - 1);
    const out = await engine.run('forward', ids);
    const { T, L, H } = out.dims;
    return {
      hidden: out.hidden!,
      dims: out.dims,
      window: { start: 0, end: T },
      tokenCount: T,
      importance: { target: T - 1, layer: L, attentionLayer: L - 1, attention: attentionRows(out.attentions!, L, H, T, T - 1), ids },
      geometry: true,
    };
  } finally {
    await engine.dispose();
  }
}

test('state analyses: the worker thread returns exactly the calling thread\'s result', async () => {
  const job = await jobFor('def area(r):\n    return 3.14159 * r * r  # circle\n');
  const here = runStateJob(job);
  const there = await runStateJobOffThread(job);
  assert.equal(there.fallback, undefined, `fell back: ${there.fallback}`);
  assert.deepEqual(there.importance, here.importance);
  assert.deepEqual(there.geometry, here.geometry);
  assert.ok(there.importance!.path.length > 1 && there.geometry!.entropyNats.length === job.dims.L + 1);
  assert.ok(typeof there.ms.importance === 'number' && typeof there.ms.geometry === 'number');
});

test('state analyses: a stopped worker is started again; jobs in parallel all come back', async () => {
  const job = await jobFor('const x = [1, 2, 3].map((v) => v * 2);\n');
  await runStateJobOffThread(job);
  await stopStateWorker();
  const rs = await Promise.all([runStateJobOffThread(job), runStateJobOffThread({ ...job, importance: null }), runStateJobOffThread({ ...job, geometry: false })]);
  for (const r of rs) assert.equal(r.fallback, undefined);
  assert.deepEqual(rs[0].geometry, rs[1].geometry);
  assert.deepEqual(rs[0].importance, rs[2].importance);
  assert.equal(rs[1].importance, undefined);
  assert.equal(rs[2].geometry, undefined);
});

test('state analyses: an error of the job itself is thrown to the caller', async () => {
  const job = await jobFor('x = 1\n');
  await assert.rejects(runStateJobOffThread({ ...job, hidden: null as unknown as Float32Array }), TypeError);
});

test('state analyses: a worker that dies mid-job costs time, not the result', async () => {
  const job = await jobFor('for (let i = 0; i < 10; i++) console.log(i);\n');
  const here = runStateJob(job);
  // The job goes to a worker that is still starting, which is then terminated with the job in
  // flight. (Sent to a running worker, the tiny model's job sometimes came back before the
  // worker was stopped, about 1 run in 12.)
  await stopStateWorker();
  const pending = runStateJobOffThread(job);
  await stopStateWorker();
  const r = await pending;
  assert.match(r.fallback ?? '', /exited/);
  assert.deepEqual(r.importance, here.importance);
  assert.deepEqual(r.geometry, here.geometry);
  const again = await runStateJobOffThread(job);
  assert.equal(again.fallback, undefined, 'the next job has a new worker');
});
