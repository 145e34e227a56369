// What the analyses need from the engine, as a structural type (no import of the Engine class,
// which imports the analyses), and the head.onnx session that decodes probe outputs.
import type { LoadedPack } from '../pack';
import type { Direction } from '../schema';
import { ProbeError } from '../errors';
import { createSession, firstLine, normalizeProviders, ort, type Session } from '../runtime';
import { releaseHeadTop1 } from './headTop1';
import { FLOAT, GraphBuilder, INT64 } from '../hf/onnxGraph';

export interface RunOutputLike {
  logits: Float32Array;
  hidden: Float32Array | null;
  attentions: Float32Array | null;
  dims: { T: number; V: number; L: number; D: number; H: number };
}

export interface AnalysisEngine {
  readonly pack: LoadedPack;
  readonly provider: string;
  run(direction: Direction, ids: number[]): Promise<RunOutputLike>;
  tokenText(id: number): string;
  tokenize(text: string): { ids: number[] };
}

const heads = new WeakMap<object, Promise<Session>>();

/** The pack's head.onnx session (opened once per engine, on the engine's provider or cpu). */
export function headSession(engine: AnalysisEngine): Promise<Session> {
  let s = heads.get(engine);
  if (!s) {
    const file = engine.pack.files.head;
    if (!file) return Promise.reject(new ProbeError('BAD_PACK', `model pack ${engine.pack.dir} has no "head" graph: the future-token probes need one`));
    s = createSession(file, normalizeProviders([engine.provider.split('+')[0]]))
      .then((o) => o.session)
      .catch((e) => {
        heads.delete(engine);
        throw new ProbeError('BAD_PACK', `model pack ${engine.pack.dir}: field "head": ONNX Runtime cannot load ${engine.pack.manifest.head}: ${firstLine(e)}`);
      });
    heads.set(engine, s);
  }
  return s;
}

/** head(hidden) for N residual vectors [N, D] -> logits [N, V]. */
export async function runHead(engine: AnalysisEngine, hidden: Float32Array, n: number): Promise<Float32Array> {
  const s = await headSession(engine);
  const D = engine.pack.manifest.architecture.width;
  const input = s.inputNames[0];
  const out = await s.run({ [input]: new ort.Tensor('float32', hidden, [n, D]) });
  const t = out[s.outputNames[0]];
  return t.data as Float32Array;
}

export async function releaseHead(engine: AnalysisEngine): Promise<void> {
  await releaseHeadTop1(engine);
  const s = heads.get(engine);
  heads.delete(engine);
  if (s) await (await s.catch(() => null))?.release().catch(() => undefined);
}

// The helper graphs below run on the CPU with worker threads that do not spin after a run (as the
// pack's sessions, runtime.ts): between runs the analyses do JavaScript work (Lasso, SVDs) that a
// spinning pool thread would take a core from on a 2-core machine.
const HELPER_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

// A two-node ONNX graph, z = transpose(x, [0, 2, 1]) @ y for x [B, T, D], y [B, T, N] -> z [B, D, N]:
// ONNX Runtime's matrix product is tens of times faster than a JavaScript loop for accumulating the
// probes' X'X and X'Y.
function xtyModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', FLOAT, ['B', 'T', 'D']);
  const y = g.input('y', FLOAT, ['B', 'T', 'N']);
  g.output(g.o('MatMul', [g.o('Transpose', [x], { perm: [0, 2, 1] }), y]), 'z', FLOAT, ['B', 'D', 'N']);
  return g.encode('xty');
}
let xty: Promise<ort.InferenceSession> | null = null;

/** x'y batched: x [B, T, D], y [B, T, N] (float32) -> [B, D, N]. */
export async function batchedXtY(x: Float32Array, y: Float32Array, B: number, T: number, D: number, N: number): Promise<Float32Array> {
  if (!xty) {
    xty = ort.InferenceSession.create(xtyModel(), HELPER_OPTIONS);
    xty.catch(() => (xty = null));
  }
  const s = await xty;
  const out = await s.run({ x: new ort.Tensor('float32', x, [B, T, D]), y: new ort.Tensor('float32', y, [B, T, N]) });
  return out.z.data as Float32Array;
}

// y = x @ a + b for x [B, T, D], a [B, D, N], b [B, 1, N] -> y [B, T, N]: the probes' maps applied
// to a window's states in one run, with no transposes or bias loops in JavaScript.
function affineModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', FLOAT, ['B', 'T', 'D']);
  const a = g.input('a', FLOAT, ['B', 'D', 'N']);
  const b = g.input('b', FLOAT, ['B', 1, 'N']);
  g.output(g.o('Add', [g.o('MatMul', [x, a]), b]), 'y', FLOAT, ['B', 'T', 'N']);
  return g.encode('affine');
}
let affine: Promise<ort.InferenceSession> | null = null;

/** x a + b batched: x [B, T, D], a [B, D, N], b [B, N] (float32) -> [B, T, N]. */
export async function batchedAffine(x: Float32Array, a: Float32Array, b: Float32Array, B: number, T: number, D: number, N: number): Promise<Float32Array> {
  if (!affine) {
    affine = ort.InferenceSession.create(affineModel(), HELPER_OPTIONS);
    affine.catch(() => (affine = null));
  }
  const s = await affine;
  const out = await s.run({ x: new ort.Tensor('float32', x, [B, T, D]), a: new ort.Tensor('float32', a, [B, D, N]), b: new ort.Tensor('float32', b, [B, 1, N]) });
  return out.y.data as Float32Array;
}

// Top-1 of each row of logits [N, V] and its softmax probability, in ONNX Runtime:
// i = ArgMax(z), p = ReduceMax(Softmax(z)). Its vectorized Softmax is about twice as fast as a
// ReduceLogSumExp (same ids; probabilities within float32 rounding). Ties go to the first index,
// as in top1Rows.
function top1Model(): Uint8Array {
  const g = new GraphBuilder();
  const z = g.input('z', FLOAT, ['N', 'V']);
  g.output(g.o('ArgMax', [z], { axis: 1, keepdims: 0 }), 'i', INT64, ['N']);
  g.output(g.o('ReduceMax', [g.o('Softmax', [z], { axis: 1 })], { axes: [1], keepdims: 0 }), 'p', FLOAT, ['N']);
  return g.encode('top1');
}
let top1: Promise<ort.InferenceSession> | null = null;

export async function top1Logits(logits: Float32Array, N: number, V: number, ids: Int32Array, probs: Float32Array): Promise<void> {
  if (!top1) {
    top1 = ort.InferenceSession.create(top1Model(), HELPER_OPTIONS);
    top1.catch(() => (top1 = null));
  }
  const s = await top1;
  const out = await s.run({ z: new ort.Tensor('float32', logits.length === N * V ? logits : logits.subarray(0, N * V), [N, V]) });
  const i = out.i.data as BigInt64Array;
  const p = out.p.data as Float32Array;
  for (let n = 0; n < N; n++) {
    ids[n] = Number(i[n]);
    probs[n] = p[n];
  }
}
