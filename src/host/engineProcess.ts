// The child side of the engine host: runs in its own Node process (forked by client.ts) so that a
// native crash or an out-of-memory in ONNX Runtime takes down only this process. Holds one open
// Engine (reopened when the pack or the providers change) and runs one probe at a time; a cancel
// aborts the running probe between windows. The analyses come in a request of their own after
// the probe (the editor shows surprisal first): they reuse the last probe's result.
import { Engine, type ProbeResult } from '../engine';
import { runAnalyses } from '../engine/analysis';
import { keepYoungGenerationSmall } from '../engine/youngGeneration';
import {
  isParentToChild,
  toWireError,
  type ChildToParent,
  type Method,
  type Methods,
  type OpenParams,
  type RequestMessage,
} from './protocol';

function send(msg: ChildToParent): void {
  process.send?.(msg);
}

keepYoungGenerationSmall();

let engine: Engine | undefined;
let engineKey = '';
/** Requests are served one after another: a probe waits for the one before it to finish or abort. */
let queue: Promise<unknown> = Promise.resolve();
const aborts = new Map<number, AbortController>();
/** The last probe's result, for an analyses request on the same text (no second surprisal pass). */
let lastProbe: { key: string; result: ProbeResult } | undefined;

function probeKey(engineKey: string, text: string, o: { topK?: number; maxTokens?: number }): string {
  return JSON.stringify([engineKey, o.topK ?? null, o.maxTokens ?? null, text.length]);
}

function cancelled(): Error {
  return Object.assign(new Error('Probe cancelled'), { code: 'CANCELLED' });
}

function engineKeyOf(p: OpenParams): string {
  return JSON.stringify([p.packDir ?? '', p.providers ?? []]);
}

/** True when the engine for these parameters is already open (no loading to report). */
function isOpen(p: OpenParams): boolean {
  return !!engine && engineKey === engineKeyOf(p);
}

async function openEngine(p: OpenParams): Promise<{ engine: Engine; loadMs: number; fresh: boolean }> {
  const key = engineKeyOf(p);
  if (engine && engineKey === key) return { engine, loadMs: 0, fresh: false };
  if (engine) {
    const old = engine;
    engine = undefined;
    await old.dispose().catch(() => undefined);
  }
  const t0 = performance.now();
  engine = await Engine.open(p.packDir, p.providers?.length ? { providers: p.providers } : undefined);
  engineKey = key;
  return { engine, loadMs: performance.now() - t0, fresh: true };
}

type Handler<M extends Method> = (params: Methods[M]['params'], id: number, signal: AbortSignal) => Promise<Methods[M]['result']>;

const handlers: { [M in Method]: Handler<M> } = {
  async open(params) {
    const { engine: e, loadMs } = await openEngine(params);
    return { pack: e.pack.info, provider: e.provider, fallbacks: [...e.fallbacks], loadMs, maxTokenBytes: e.pack.tokenizer.maxTokenBytes() };
  },
  async probe(params, id, signal) {
    if (signal.aborted) throw cancelled();
    if (!isOpen(params)) send({ type: 'progress', id, done: 0, total: 0, stage: 'loading' });
    const { engine: e } = await openEngine(params);
    let last = 0;
    lastProbe = undefined;
    send({ type: 'progress', id, done: params.text.length, total: params.text.length, stage: 'tokenizing' });
    const result = await e.probe(params.text, {
      ...params.options,
      signal,
      onScores: (p) => {
        const offsets: number[] = [];
        for (const [a, b] of p.offsets) offsets.push(a, b);
        send({
          type: 'partial',
          id,
          direction: p.direction,
          first: p.first,
          tokenCount: p.tokenCount,
          offsets,
          bits: p.scores.map((s) => s.surprisalBits),
          ranks: p.scores.map((s) => s.rank),
        });
      },
      onProgress: (p) => {
        // Throttle: at most ~20 notifications a second, always the last one.
        const now = performance.now();
        if (p.done === p.total || now - last > 50) {
          last = now;
          send({ type: 'progress', id, done: p.done, total: p.total, stage: p.stage });
        }
      },
    });
    lastProbe = { key: probeKey(engineKey, params.text, params.options), result };
    return result;
  },
  async analyses(params, _id, signal) {
    if (signal.aborted) throw cancelled();
    const { engine: e } = await openEngine(params);
    const a = params.options.analyses;
    if (!a || !(a.futureLens || a.importance || a.geometry)) return { window: { start: 0, end: 0 }, ms: 0, notes: ['no analysis was asked for'] };
    const hit = lastProbe && lastProbe.key === probeKey(engineKey, params.text, params.options) && lastProbe.result.text === params.text ? lastProbe.result : undefined;
    if (hit) return runAnalyses(e, hit, { ...params.options, signal });
    // The child restarted (or the pack changed) since the probe: probe again, with the analyses.
    const r = await e.probe(params.text, { ...params.options, signal });
    if (signal.aborted) throw cancelled();
    lastProbe = { key: probeKey(engineKey, params.text, params.options), result: { ...r, analyses: undefined } };
    return r.analyses ?? { window: { start: 0, end: 0 }, ms: 0 };
  },
  async ping() {
    return { pid: process.pid, rssBytes: process.memoryUsage().rss };
  },
};

function handle(msg: RequestMessage): void {
  const ac = new AbortController();
  aborts.set(msg.id, ac);
  const run = async () => {
    try {
      const handler = handlers[msg.method] as Handler<Method>;
      const result = await handler(msg.params, msg.id, ac.signal);
      send({ type: 'response', id: msg.id, ok: true, result });
    } catch (e) {
      send({ type: 'response', id: msg.id, ok: false, error: ac.signal.aborted ? { code: 'CANCELLED', message: 'Probe cancelled' } : toWireError(e) });
    } finally {
      aborts.delete(msg.id);
    }
  };
  // ping answers at once, even while a probe runs; the rest are serialized. A request that is
  // cancelled frees the queue at once: the analyses cannot stop mid-way, and a new probe must not
  // wait for them (the engine serializes its session runs, so the two may overlap safely).
  if (msg.method === 'ping') void run();
  else {
    const aborted = new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
    queue = queue.then(() => Promise.race([run(), aborted]));
  }
}

process.on('message', (msg: unknown) => {
  if (!isParentToChild(msg)) return;
  if (msg.type === 'cancel') aborts.get(msg.id)?.abort();
  else handle(msg);
});

// The parent going away (VS Code closed, extension host crashed) ends this process too.
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (e) => {
  send({ type: 'log', level: 'error', message: `engine host: ${e?.stack ?? e}` });
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  send({ type: 'log', level: 'error', message: `engine host: unhandled rejection ${String((e as Error)?.stack ?? e)}` });
});

send({ type: 'ready', pid: process.pid });
