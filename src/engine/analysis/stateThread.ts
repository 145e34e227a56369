// Runs the state analyses (stateAnalyses.ts) in worker threads. onnxruntime-node runs a session
// synchronously on the JavaScript thread, so while the main thread decodes the future-token
// probes (ONNX Runtime) nothing else can run on it; the Lasso path, the information gain and the
// matrix entropies run beside it here instead of after it. Two workers per process (importance
// and geometry side by side: on 2 cores, 512 tokens, the analyses took 164-211 ms with two and
// 174-253 ms with one, 8 runs each, alternated), started on first use and unref'd (they never
// keep a CLI alive); when one cannot start or
// dies, its job runs on the calling thread and the reason is returned, so that a failure costs
// time, never a result.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runStateJob, type StateJob, type StateResult } from './stateAnalyses';
import type { StateReply } from './stateWorker';

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(r: StateResult): void; reject(e: Error): void }>;
}
const POOL = 2;
const slots: (Slot | null)[] = new Array(POOL).fill(null);
let nextId = 1;

function start(k: number): Slot {
  // Bundled: dist/stateWorker.js beside this bundle (cli.js, engineHost.js). From the TypeScript
  // sources (tests, tsx): the .ts entry, through tsx's CommonJS hook, which a worker does not
  // inherit from the parent's --import.
  const built = join(__dirname, 'stateWorker.js');
  const source = join(__dirname, 'stateWorker.ts');
  let w: Worker;
  if (existsSync(built)) w = new Worker(built);
  else if (existsSync(source)) {
    const tsx = createRequire(__filename).resolve('tsx/cjs/api');
    w = new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(source)});`, { eval: true });
  } else throw new Error(`no worker script at ${built}`);
  w.unref();
  const slot: Slot = { worker: w, pending: new Map() };
  const fail = (e: Error) => {
    if (slots[k] === slot) slots[k] = null;
    for (const p of slot.pending.values()) p.reject(e);
    slot.pending.clear();
  };
  w.on('message', (m: StateReply) => {
    const p = slot.pending.get(m.id);
    if (!p) return;
    slot.pending.delete(m.id);
    if (slot.pending.size === 0) w.unref();
    if (m.result) p.resolve(m.result);
    else p.reject(new Error(m.error ?? 'no result'));
  });
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the worker thread exited (code ${code})`)));
  return slot;
}

/**
 * The job's result, computed in a worker thread (the least busy of the pool); `fallback` says why
 * it was computed on this thread instead (the worker could not start, died, or threw). An error of
 * the job itself is thrown from here as it would be by runStateJob.
 */
export async function runStateJobOffThread(job: StateJob): Promise<StateResult & { fallback?: string }> {
  let reason: string;
  try {
    let k = 0;
    for (let i = 1; i < POOL; i++) if ((slots[i]?.pending.size ?? 0) < (slots[k]?.pending.size ?? 0)) k = i;
    const slot = (slots[k] ??= start(k));
    const id = nextId++;
    const result = new Promise<StateResult>((resolve, reject) => slot.pending.set(id, { resolve, reject }));
    // ref'd while a job is out, so that a CLI waits for it
    slot.worker.ref();
    slot.worker.postMessage({ id, job });
    return await result;
  } catch (e) {
    reason = e instanceof Error ? e.message : String(e);
  }
  return { ...runStateJob(job), fallback: reason };
}

/** Stops the workers (a later job starts new ones). */
export async function stopStateWorker(): Promise<void> {
  const all = slots.splice(0, POOL, ...new Array(POOL).fill(null));
  await Promise.all(all.map((s) => s?.worker.terminate()));
}
