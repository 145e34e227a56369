// Runs the state analyses (stateAnalyses.ts) in a worker thread. onnxruntime-node runs a session
// synchronously on the JavaScript thread, so while the main thread decodes the future-token
// probes (ONNX Runtime) nothing else can run on it; the Lasso path, the information gain and the
// matrix entropies run beside it here instead of after it. One worker per process, started on
// first use and unref'd (it never keeps a CLI alive); when it cannot start or dies, the job runs on
// the calling thread and the reason is returned, so that a failure costs time, never a result.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runStateJob, type StateJob, type StateResult } from './stateAnalyses';
import type { StateReply } from './stateWorker';

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve(r: StateResult): void; reject(e: Error): void }>();

function start(): Worker {
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
  const fail = (e: Error) => {
    if (worker === w) worker = null;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  w.on('message', (m: StateReply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    if (m.result) p.resolve(m.result);
    else p.reject(new Error(m.error ?? 'no result'));
  });
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the worker thread exited (code ${code})`)));
  return w;
}

/**
 * The job's result, computed in the worker thread; `fallback` says why it was computed on this
 * thread instead (the worker could not start, died, or threw). An error of the job itself is
 * thrown from here as it would be by runStateJob.
 */
export async function runStateJobOffThread(job: StateJob): Promise<StateResult & { fallback?: string }> {
  let reason: string;
  try {
    worker ??= start();
    const w = worker;
    const id = nextId++;
    const result = new Promise<StateResult>((resolve, reject) => pending.set(id, { resolve, reject }));
    // ref'd while a job is out, so that a CLI waits for it
    w.ref();
    w.postMessage({ id, job });
    return await result;
  } catch (e) {
    reason = e instanceof Error ? e.message : String(e);
  }
  return { ...runStateJob(job), fallback: reason };
}

/** Stops the worker (a later job starts a new one). */
export async function stopStateWorker(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) await w.terminate();
}
