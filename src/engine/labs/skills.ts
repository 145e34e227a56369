// The skills-emergence calculator: Arora and Goyal 2023, "A theory for emergence of complex skills
// and learning in language models" (arXiv 2307.15936v2).
//
// Setting: a random bipartite graph between skills and text pieces, each piece using k random skills.
// The model fails on a fraction theta of the pieces (any set of pieces of that measure). The
// competence of a skill is the fraction of its pieces on which the model does not fail.
//
// Theorem 8 (the same condition is Thm. 14's for k'-tuples): if alpha, beta > 0 with beta > 1 and
// alpha beta < 1 satisfy
//
//   H(theta) + k theta ( H(beta alpha) - beta alpha log(1/alpha) - (1 - beta alpha) log(1/(1 - alpha)) ) < 0
//
// (H the binary entropy, all logs in one base), then, with high probability over the graph, the
// fraction of skills with competence below 1 - beta theta is at most alpha. The bracket is
// -KL(beta alpha || alpha): a union bound over the failure sets (2^{H(theta) N} of them) of a
// Chernoff bound on the share of the failed pieces' k theta N edges that land in an alpha share of
// the skills. The curve is, for each beta, the smallest such alpha (the root in alpha: the left side
// increases with alpha); where no alpha < 1/beta satisfies it (k theta log beta <= H(theta)) the
// theorem says nothing and the curve shows the vacuous alpha = 1.
//
// k'-tuples (Sec. 5.1.1, Cor. 13, Thm. 14): the k'-wise tensor product of the graph. A k'-tuple of
// pieces counts as failed when any of its pieces fails, so its failure fraction is at most
// k' theta; applying the bound at theta_t = k' theta gives the fraction of k'-tuples of skills
// whose competence is below 1 - beta k' theta. Hence Cor. 13: the tuple curve at theta / k' is the
// single-skill curve at theta.

import { rng } from './random';

/** Binary entropy in bits; H(0) = H(1) = 0. */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
}

/** KL(a || b) between Bernoulli distributions, bits. */
export function bernoulliKl(a: number, b: number): number {
  const t = (p: number, q: number) => (p <= 0 ? 0 : p * Math.log2(p / q));
  return t(a, b) + t(1 - a, 1 - b);
}

/**
 * The left side of Theorem 8's condition, in bits:
 * H(theta) + k theta (H(beta alpha) - beta alpha log2(1/alpha) - (1 - beta alpha) log2(1/(1 - alpha))).
 * Negative: the bound "fraction of skills with competence < 1 - beta theta is at most alpha" holds.
 */
export function theoremCondition(theta: number, k: number, alpha: number, beta: number): number {
  const ba = beta * alpha;
  const bracket = binaryEntropy(ba) - (ba > 0 ? ba * Math.log2(1 / alpha) : 0) - (1 - ba) * Math.log2(1 / (1 - alpha));
  return binaryEntropy(theta) + k * theta * bracket;
}

export interface CurvePoint {
  beta: number;
  /** Bound on the fraction of skills (or k'-tuples) whose competence is below `competence`. */
  alpha: number;
  /** The competence level 1 - beta theta (theta_t for tuples). */
  competence: number;
  /** True where the theorem gives nothing (no alpha < 1/beta satisfies it): alpha is then 1. */
  vacuous: boolean;
}

/** The smallest alpha in (0, 1/beta) with theoremCondition < 0 (bisection); 1 when there is none. */
export function alphaBound(theta: number, k: number, beta: number): { alpha: number; vacuous: boolean } {
  if (!(theta > 0)) return { alpha: 0, vacuous: false };
  if (!(beta > 1) || theta >= 1) return { alpha: 1, vacuous: true };
  const h = binaryEntropy(theta);
  // At alpha -> 1/beta the bracket is -log2(beta): the condition can hold only if k theta log2 beta > H(theta).
  if (!(k * theta * Math.log2(beta) > h)) return { alpha: 1, vacuous: true };
  let lo = 0;
  let hi = 1 / beta;
  for (let i = 0; i < 200 && hi - lo > 1e-16 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (theoremCondition(theta, k, mid, beta) < 0) hi = mid;
    else lo = mid;
  }
  return { alpha: hi, vacuous: false };
}

/** beta values from 1 to 1/theta (competence from 1 - theta down to 0), `points` of them, evenly spaced. */
export function betaGrid(theta: number, points = 60): number[] {
  const top = 1 / theta;
  return Array.from({ length: points }, (_, i) => 1 + ((top - 1) * (i + 1)) / points);
}

export function boundCurve(theta: number, k: number, betas: number[] = betaGrid(theta)): CurvePoint[] {
  return betas.map((beta) => ({ beta, ...alphaBound(theta, k, beta), competence: 1 - beta * theta }));
}

/** k' theta: the failure fraction of k'-tuples of pieces (a tuple fails when any piece fails), rounded
 * to 15 significant digits so that k' (theta / k') is theta again. */
export function tupleTheta(theta: number, kTuple: number): number {
  return Math.min(1, Number((kTuple * theta).toPrecision(15)));
}

/** Where the curve stops being vacuous: the smallest beta with k theta log2 beta > H(theta). */
export function emergenceBeta(theta: number, k: number): number {
  return 2 ** (binaryEntropy(theta) / (k * theta));
}

/** theta from a measured loss: Markov's inequality with the paper's rule that a piece fails when its
 * excess loss is at least 1/2 (nats): theta <= 2 (mean loss - entropy floor). */
export function thetaFromExcessLoss(meanLossNats: number, entropyFloorNats: number): number {
  return Math.min(1, Math.max(0, 2 * (meanLossNats - entropyFloorNats)));
}

export interface SkillsOptions {
  theta: number;
  k: number;
  /** k' for the tuple curve. */
  tuple?: number;
  /** Evaluate at these betas (default: betaGrid of each curve's theta). */
  betas?: number[];
  points?: number;
}

export interface SkillsReport {
  theorem: string;
  theta: number;
  k: number;
  /** Single skills: fraction alpha of skills with competence below 1 - beta theta, at most. */
  curve: CurvePoint[];
  /** beta above which the single-skill bound is not vacuous. */
  emergenceBeta: number;
  tuple?: number;
  /** k' theta: the failure fraction used for tuples. */
  tupleTheta?: number;
  /** k'-tuples: fraction of k'-tuples with competence below 1 - beta k' theta, at most. */
  tupleCurve?: CurvePoint[];
  tupleEmergenceBeta?: number;
}

export const THEOREM_TEXT =
  'Arora & Goyal 2023, Theorem 8: if H(θ) + kθ·(H(βα) − βα·log(1/α) − (1 − βα)·log(1/(1 − α))) < 0 (β > 1, αβ < 1), ' +
  'then at most a fraction α of skills have competence below 1 − βθ. k′-tuples (Cor. 13, Thm. 14): the same bound at θ′ = k′θ ' +
  'for the fraction of k′-tuples with competence below 1 − βk′θ.';

export class SkillsInputError extends Error {}

export function skillsReport(o: SkillsOptions): SkillsReport {
  const { theta, k } = o;
  if (!(theta > 0 && theta < 1)) throw new SkillsInputError(`theta must be in (0, 1), got ${theta}`);
  if (!Number.isInteger(k) || k < 1) throw new SkillsInputError(`k must be an integer >= 1, got ${k}`);
  const r: SkillsReport = {
    theorem: THEOREM_TEXT,
    theta,
    k,
    curve: boundCurve(theta, k, o.betas ?? betaGrid(theta, o.points)),
    emergenceBeta: emergenceBeta(theta, k),
  };
  if (o.tuple !== undefined) {
    const kt = o.tuple;
    if (!Number.isInteger(kt) || kt < 1) throw new SkillsInputError(`tuple size k' must be an integer >= 1, got ${kt}`);
    const tt = tupleTheta(theta, kt);
    r.tuple = kt;
    r.tupleTheta = tt;
    r.tupleCurve = tt < 1 ? boundCurve(tt, k, o.betas ?? betaGrid(tt, o.points)) : [];
    r.tupleEmergenceBeta = tt < 1 ? emergenceBeta(tt, k) : Infinity;
  }
  return r;
}

export interface SimulationOptions {
  theta: number;
  k: number;
  skills: number;
  pieces: number;
  trials: number;
  seed: number;
  betas: number[];
  /** k' and the betas of the tuple curve (evaluated at theta_t = k' theta). */
  tuple?: number;
  tupleBetas?: number[];
  /** Random k'-tuples of distinct skills sampled per failure set (default 2000). */
  tupleSamples?: number;
}

export interface SimulatedPoint {
  beta: number;
  competence: number;
  /** Fraction of skills (tuples) below that competence under a uniformly random failure set: mean
   * over the trials, and the largest. */
  random: number;
  randomMax: number;
  /** The largest fraction under the concentrated failure sets (one per target size, every trial). */
  concentrated: number;
}

export interface SimulationReport {
  skills: number;
  pieces: number;
  k: number;
  trials: number;
  seed: number;
  /** Mean number of pieces per skill (k pieces / skills). */
  meanDegree: number;
  /** Target sizes (fractions of the skills) of the concentrated failure sets. */
  targetFractions: number[];
  curve: SimulatedPoint[];
  tupleCurve?: SimulatedPoint[];
}

/** Target sizes of the concentrated failure sets: 0.5% to 60% of the skills, geometric. */
export const TARGET_FRACTIONS = Array.from({ length: 22 }, (_, i) => Number((0.005 * 1.25 ** i).toPrecision(3)));

/**
 * The Monte Carlo check. Each trial samples the random graph (each piece picks k distinct skills
 * uniformly) and fails round(theta pieces) pieces, chosen two ways:
 * - random: a uniformly random set of pieces;
 * - concentrated: for a target set of skills (a fraction a of them, for each a of
 *   TARGET_FRACTIONS), the pieces that use the most target skills (ties in random order): an
 *   adversary that piles the failures onto few skills, which is what the theorem must withstand
 *   (it holds for every failure set of measure theta).
 * A skill's competence is the share of its pieces not failed; skills no piece uses are left out.
 * k'-tuples: random tuples of distinct skills, whose competence in the k'-wise tensor graph is the
 * product of their skills' competences, counted against 1 - beta k' theta.
 */
export function simulateSkills(o: SimulationOptions): SimulationReport {
  const { theta, k, skills, pieces, trials } = o;
  if (!Number.isInteger(skills) || skills < k) throw new SkillsInputError(`skills must be an integer >= k = ${k}`);
  if (!Number.isInteger(pieces) || pieces < 1) throw new SkillsInputError('pieces must be an integer >= 1');
  if (!Number.isInteger(trials) || trials < 1) throw new SkillsInputError('trials must be an integer >= 1');
  const kt = o.tuple ?? 0;
  if (kt && (!Number.isInteger(kt) || kt < 1 || kt > skills)) throw new SkillsInputError(`tuple size must be an integer in [1, skills], got ${kt}`);
  const r = rng(o.seed);
  const failures = Math.round(theta * pieces);
  const edges = new Int32Array(pieces * k);
  const deg = new Int32Array(skills);
  const fails = new Int32Array(skills);
  const order = new Int32Array(pieces);
  const comp = new Float64Array(skills);
  const tt = kt ? tupleTheta(theta, kt) : 0;
  const tupleBetas = kt ? (o.tupleBetas ?? []) : [];
  const samples = o.tupleSamples ?? 2000;
  const acc = (betas: number[]) => betas.map(() => ({ sum: 0, max: 0, conc: 0 }));
  const single = acc(o.betas);
  const tuple = acc(tupleBetas);
  const byCount: number[][] = Array.from({ length: k + 1 }, () => []);
  const prods = new Float64Array(samples);

  // Fraction of skills / tuples below each level, for the failure counts now in `fails`.
  const measure = (into: typeof single, tupleInto: typeof tuple, concentrated: boolean) => {
    let used = 0;
    for (let s = 0; s < skills; s++) {
      comp[s] = deg[s] > 0 ? 1 - fails[s] / deg[s] : NaN;
      if (deg[s] > 0) used++;
    }
    o.betas.forEach((beta, bi) => {
      const level = 1 - beta * theta;
      let below = 0;
      for (let s = 0; s < skills; s++) if (comp[s] < level) below++;
      const f = used ? below / used : 0;
      if (concentrated) into[bi].conc = Math.max(into[bi].conc, f);
      else {
        into[bi].sum += f;
        into[bi].max = Math.max(into[bi].max, f);
      }
    });
    if (!tupleBetas.length || used < kt) return;
    const pick: number[] = [];
    for (let i = 0; i < samples; i++) {
      pick.length = 0;
      while (pick.length < kt) {
        const s = r.int(skills);
        if (deg[s] > 0 && !pick.includes(s)) pick.push(s);
      }
      let p = 1;
      for (const s of pick) p *= comp[s];
      prods[i] = p;
    }
    tupleBetas.forEach((beta, bi) => {
      const level = 1 - beta * tt;
      let below = 0;
      for (let i = 0; i < samples; i++) if (prods[i] < level) below++;
      const f = below / samples;
      if (concentrated) tupleInto[bi].conc = Math.max(tupleInto[bi].conc, f);
      else {
        tupleInto[bi].sum += f;
        tupleInto[bi].max = Math.max(tupleInto[bi].max, f);
      }
    });
  };

  for (let t = 0; t < trials; t++) {
    deg.fill(0);
    for (let p = 0; p < pieces; p++) {
      for (let e = 0; e < k; e++) {
        let s: number;
        do s = r.int(skills);
        while (edges.subarray(p * k, p * k + e).includes(s));
        edges[p * k + e] = s;
        deg[s]++;
      }
    }
    // random failure set: the first `failures` pieces of a random permutation
    for (let p = 0; p < pieces; p++) order[p] = p;
    for (let i = pieces - 1; i > 0; i--) {
      const j = r.int(i + 1);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    fails.fill(0);
    for (let i = 0; i < failures; i++) for (let e = 0; e < k; e++) fails[edges[order[i] * k + e]]++;
    measure(single, tuple, false);
    // concentrated failure sets: target skills 0..m-1 (the graph is random, so any m skills will do);
    // pieces by how many target skills they use, most first, ties in the random order above
    for (const a of TARGET_FRACTIONS) {
      const m = Math.max(1, Math.round(a * skills));
      if (m > skills) break;
      byCount.forEach((b) => (b.length = 0));
      for (let i = 0; i < pieces; i++) {
        const p = order[i];
        let c = 0;
        for (let e = 0; e < k; e++) if (edges[p * k + e] < m) c++;
        byCount[c].push(p);
      }
      fails.fill(0);
      let left = failures;
      for (let c = k; c >= 0 && left > 0; c--) {
        for (const p of byCount[c]) {
          if (left-- <= 0) break;
          for (let e = 0; e < k; e++) fails[edges[p * k + e]]++;
        }
      }
      measure(single, tuple, true);
    }
  }
  const out = (betas: number[], a: typeof single, th: number): SimulatedPoint[] =>
    betas.map((beta, i) => ({ beta, competence: 1 - beta * th, random: a[i].sum / trials, randomMax: a[i].max, concentrated: a[i].conc }));
  const rep: SimulationReport = {
    skills,
    pieces,
    k,
    trials,
    seed: o.seed,
    meanDegree: (k * pieces) / skills,
    targetFractions: TARGET_FRACTIONS,
    curve: out(o.betas, single, theta),
  };
  if (kt) rep.tupleCurve = out(tupleBetas, tuple, tt);
  return rep;
}
