// The probes' decoding in one ONNX Runtime run: the pack's head.onnx with the top-1 nodes of
// hf/statistics.ts appended, fetched alone. The logits [N, V] (16 MB for 1,000 rows) then never
// leave ONNX Runtime: no copy into JavaScript, no second session call, no garbage to collect.
// CPU only (the head's own session serves other providers); any failure to build or run the fused
// graph falls back to head + top-1 (host.ts), once and for all.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { onnx } from 'onnx-proto';
import { ort } from '../runtime';
import type { AnalysisEngine } from './host';
import { GraphBuilder } from '../hf/onnxGraph';
import { appendTop1, TOP1_NAMES } from '../hf/statistics';

const OUT_ID = TOP1_NAMES.id;
const OUT_PROB = TOP1_NAMES.prob;

/** head.onnx's bytes with the top-1 outputs appended (logits output `logits`, rank 2, axis 1). */
export function fusedHeadBytes(head: Uint8Array, logits: string): Uint8Array {
  const g = new GraphBuilder();
  appendTop1(g, logits);
  return g.appendTo(head);
}

const fused = new WeakMap<object, Promise<ort.InferenceSession | null>>();

function fusedSession(engine: AnalysisEngine): Promise<ort.InferenceSession | null> {
  let s = fused.get(engine);
  if (!s) {
    const file = engine.pack.files.head;
    s =
      !file || engine.provider.split('+')[0] !== 'cpu'
        ? Promise.resolve(null)
        : (async () => {
            const options: ort.InferenceSession.SessionOptions = {
              executionProviders: ['cpu'],
              logSeverityLevel: 3,
              graphOptimizationLevel: 'all',
              enableCpuMemArena: false,
              // All cores but one: the decode runs while the worker thread of the other analyses
              // (stateThread.ts) takes a core. On 2 cores, a second ORT thread fought the worker
              // for its core (the benchmark's ratio 0.88-1.05 with two threads, 0.78-0.81 with one).
              intraOpNumThreads: Math.max(1, availableParallelism() - 1),
              extra: { session: { intra_op: { allow_spinning: '0' } } },
            };
            const bytes = readFileSync(file);
            const graph = onnx.ModelProto.decode(bytes).graph as onnx.GraphProto | null; // decoded: arrays, never undefined
            // Heads that LM Probe builds carry the top-1 outputs already (and external weights, which
            // a session made from bytes could not find): open them by path.
            if (graph?.output.some((o) => o.name === OUT_ID)) return ort.InferenceSession.create(file, options);
            const logits = graph?.output[0]?.name;
            if (!logits) return null;
            return ort.InferenceSession.create(fusedHeadBytes(bytes, logits), options);
          })().catch(() => null);
    fused.set(engine, s);
  }
  return s;
}

/**
 * Top-1 id and probability of head(hidden) for n rows [n, D], in one run; false when the fused
 * graph is not available here (the caller then runs the head and the top-1 graph apart).
 */
export async function headTop1(engine: AnalysisEngine, hidden: Float32Array, n: number, ids: Int32Array, probs: Float32Array): Promise<boolean> {
  const s = await fusedSession(engine);
  if (!s) return false;
  const D = engine.pack.manifest.architecture.width;
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', hidden, [n, D]) }, [OUT_ID, OUT_PROB]);
  } catch {
    fused.set(engine, Promise.resolve(null));
    await s.release().catch(() => undefined);
    return false;
  }
  const i = out[OUT_ID].data as BigInt64Array;
  const p = out[OUT_PROB].data as Float32Array;
  for (let r = 0; r < n; r++) {
    ids[r] = Number(i[r]);
    probs[r] = p[r];
  }
  return true;
}

export async function releaseHeadTop1(engine: AnalysisEngine): Promise<void> {
  const s = fused.get(engine);
  fused.delete(engine);
  if (s) await (await s)?.release().catch(() => undefined);
}
