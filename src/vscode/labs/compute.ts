// What the Labs view computes, apart from VS Code (no 'vscode' import, so the tests can run it):
// the default and allowed parameters, and the views built from src/engine/labs. The ranges keep
// one computation within about a second on the extension host (the LSA pass is O(layers n^2 d)).
import { errorVsExamples, exampleCounts, runIcl, syntheticIcl, validateIclData, type ErrorVsExamples, type IclData } from '../../engine/labs/icl';
import { simulateSkills, skillsReport, thetaFromExcessLoss } from '../../engine/labs/skills';
import type { IclDataInfo, IclParams, IclView, SkillsParams, SkillsView } from './protocol';

export const ICL_DEFAULTS: IclParams = { d: 16, n: 40, q: 20, shift: 0, noise: 0, eta: 0.04, layers: 50, seed: 1 };

/** [min, max] of each control (integers where the default is). */
export const ICL_LIMITS: Record<keyof IclParams, [number, number]> = {
  d: [1, 32],
  n: [1, 100],
  q: [1, 40],
  shift: [-3, 3],
  noise: [0, 2],
  eta: [1e-5, 10],
  layers: [1, 200],
  seed: [0, 1_000_000],
};

export const SKILLS_DEFAULTS: SkillsParams = { thetaMode: 'theta', theta: 0.1, loss: 3.25, floor: 3.2, k: 5, tuple: 2, skills: 1000, pieces: 2000, trials: 3, seed: 1 };

export const SKILLS_LIMITS: Record<Exclude<keyof SkillsParams, 'thetaMode'>, [number, number]> = {
  theta: [1e-4, 0.9],
  loss: [0, 100],
  floor: [0, 100],
  k: [1, 50],
  tuple: [1, 10],
  skills: [10, 20_000],
  pieces: [10, 50_000],
  trials: [1, 20],
  seed: [0, 1_000_000],
};

const INTEGER = new Set(['d', 'n', 'q', 'layers', 'seed', 'k', 'tuple', 'skills', 'pieces', 'trials']);

function clampAll<T extends object>(p: Partial<T>, defaults: T, limits: Record<string, [number, number]>): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, def] of Object.entries(defaults)) {
    const v = (p as Record<string, unknown>)[key];
    if (typeof def !== 'number') {
      if (typeof v === typeof def) out[key] = v;
      continue;
    }
    const lim = limits[key];
    let x = typeof v === 'number' && Number.isFinite(v) ? v : def;
    if (INTEGER.has(key)) x = Math.round(x);
    if (lim) x = Math.min(lim[1], Math.max(lim[0], x));
    out[key] = x;
  }
  return out as T;
}

export function clampIcl(p: Partial<IclParams>): IclParams {
  return clampAll(p, ICL_DEFAULTS, ICL_LIMITS);
}

export function clampSkills(p: Partial<SkillsParams>): SkillsParams {
  const s = clampAll(p, SKILLS_DEFAULTS, SKILLS_LIMITS);
  if (s.thetaMode !== 'theta' && s.thetaMode !== 'loss') s.thetaMode = 'theta';
  s.tuple = Math.min(s.tuple, s.k);
  s.skills = Math.max(s.skills, s.k);
  return s;
}

export interface SelectionData {
  data: IclData;
  label: string;
  skipped: { line: number; reason: string }[];
}

export function syntheticData(p: IclParams): IclData {
  const s = syntheticIcl({ d: p.d, n: p.n, q: p.q, seed: p.seed, shift: p.shift, noise: p.noise });
  return { examples: s.examples, queries: s.queries };
}

function dataInfo(data: IclData, selection: SelectionData | null, p: IclParams): IclDataInfo {
  const d = validateIclData(data);
  const ys = data.queries.y;
  const shift = p.shift ? ` + ${p.shift}` : '';
  return {
    source: selection ? 'selection' : 'synthetic',
    label: selection
      ? selection.label
      : `synthetic: w ~ N(0, I), x ~ U[-1, 1]^${p.d}${shift}, y = w'x${p.noise ? ` + N(0, ${p.noise}²)` : ''}, seed ${p.seed}`,
    d,
    n: data.examples.x.length,
    q: data.queries.x.length,
    hasTargets: Array.isArray(ys),
    targets: Array.isArray(ys) ? ys : null,
    zeroMse: Array.isArray(ys) ? ys.reduce((s, y) => s + y * y, 0) / ys.length : null,
    skipped: selection?.skipped ?? [],
  };
}

/** The lab's main result (the per-layer series); the sweep follows (sweepPoints). */
export function iclView(p: IclParams, selection: SelectionData | null): IclView {
  const t0 = Date.now();
  const data = iclData(p, selection);
  const result = runIcl(data, { layers: p.layers, eta: p.eta });
  return { params: p, data: dataInfo(data, selection, p), result, sweep: null, ms: Date.now() - t0 };
}

/** The example counts of the sweep (error against the number of examples). */
export function sweepCounts(n: number): number[] {
  return exampleCounts(n, 12);
}

/** The data a view is computed on: the selection's, or the synthetic task of the parameters. */
export function iclData(p: IclParams, selection: SelectionData | null): IclData {
  return selection?.data ?? syntheticData(p);
}

/** One point of the sweep (the caller yields between points). Without query targets the error is
 * measured against least squares on all the examples: the same reference for every m. */
export function sweepPoint(data: IclData, p: IclParams, m: number): ErrorVsExamples {
  return errorVsExamples(data, { layers: p.layers, eta: p.eta }, [m]);
}

export function mergeSweep(parts: ErrorVsExamples[]): ErrorVsExamples {
  return {
    examples: parts.flatMap((s) => s.examples),
    prefix: parts.flatMap((s) => s.prefix),
    causal: parts.flatMap((s) => s.causal),
    leastSquares: parts.flatMap((s) => s.leastSquares),
    nlms: parts.flatMap((s) => s.nlms),
    measure: parts[0]?.measure ?? 'mse',
  };
}

export function skillsTheta(p: SkillsParams): number {
  return p.thetaMode === 'loss' ? thetaFromExcessLoss(p.loss, p.floor) : p.theta;
}

export function skillsView(p: SkillsParams, lossSource: string | null): SkillsView {
  const t0 = Date.now();
  const theta = skillsTheta(p);
  if (!(theta > 0 && theta < 1)) {
    throw new Error(
      p.thetaMode === 'loss'
        ? `θ = 2 × (loss − floor) = ${(2 * (p.loss - p.floor)).toFixed(4)}: it must be in (0, 1); the loss must be above the floor by less than 0.5 nats`
        : `θ must be in (0, 1), got ${p.theta}`,
    );
  }
  const report = skillsReport({ theta, k: p.k, tuple: p.tuple, points: 48 });
  const simulation = simulateSkills({
    theta,
    k: p.k,
    skills: p.skills,
    pieces: p.pieces,
    trials: p.trials,
    seed: p.seed,
    betas: report.curve.map((c) => c.beta),
    tuple: p.tuple,
    tupleBetas: report.tupleCurve?.map((c) => c.beta),
  });
  return { params: p, theta, lossSource: p.thetaMode === 'loss' ? lossSource : null, report, simulation, ms: Date.now() - t0 };
}
