// Worker-thread entry of the state analyses (bundled as dist/stateWorker.js; stateThread.ts starts
// it): one StateJob in, its StateResult or the error's message out.
import { parentPort } from 'node:worker_threads';
import { runStateJob, type StateJob } from './stateAnalyses';

export interface StateReply {
  id: number;
  result?: ReturnType<typeof runStateJob>;
  error?: string;
}

const port = parentPort;
if (port) {
  port.on('message', (m: { id: number; job: StateJob }) => {
    let reply: StateReply;
    try {
      reply = { id: m.id, result: runStateJob(m.job) };
    } catch (e) {
      reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}
