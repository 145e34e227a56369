// The skills-emergence calculator: Theorem 8's condition and its root, the curve's monotonicity in
// beta, theta and k, the k'-tuple identity of Corollary 13, and the Monte Carlo check staying under
// the bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alphaBound,
  bernoulliKl,
  betaGrid,
  binaryEntropy,
  boundCurve,
  emergenceBeta,
  simulateSkills,
  skillsReport,
  theoremCondition,
  thetaFromExcessLoss,
  tupleTheta,
} from '../../src/engine/labs/skills';

const near = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('binary entropy and the condition: H(theta) - k theta KL(beta alpha || alpha), in bits', () => {
  near(binaryEntropy(0.5), 1, 1e-15);
  near(binaryEntropy(0.1), -(0.1 * Math.log2(0.1) + 0.9 * Math.log2(0.9)), 1e-15);
  assert.equal(binaryEntropy(0), 0);
  for (const [theta, k, alpha, beta] of [
    [0.1, 5, 0.2, 2],
    [0.01, 20, 0.01, 30],
    [0.3, 2, 0.05, 3],
  ]) {
    // the paper's bracket H(ba) - ba log(1/a) - (1 - ba) log(1/(1 - a)) is -KL(ba || a)
    near(theoremCondition(theta, k, alpha, beta), binaryEntropy(theta) - k * theta * bernoulliKl(beta * alpha, alpha), 1e-12);
  }
});

test('alphaBound is the root of the condition in alpha, and vacuous exactly when k theta log2 beta <= H(theta)', () => {
  for (const theta of [0.005, 0.05, 0.1, 0.3]) {
    for (const k of [1, 3, 10]) {
      const b0 = emergenceBeta(theta, k);
      for (const beta of betaGrid(theta, 25)) {
        const { alpha, vacuous } = alphaBound(theta, k, beta);
        assert.equal(vacuous, beta <= b0, `theta ${theta} k ${k} beta ${beta}`);
        if (vacuous) {
          assert.equal(alpha, 1);
          continue;
        }
        assert.ok(alpha > 0 && alpha < 1 / beta);
        assert.ok(theoremCondition(theta, k, alpha * (1 + 1e-9), beta) < 0, 'holds just above the root');
        assert.ok(theoremCondition(theta, k, alpha * (1 - 1e-6), beta) >= 0, 'fails just below the root');
      }
    }
  }
  // the left side falls with alpha on (0, 1/beta): the root is the smallest alpha that works
  for (const beta of [1.2, 2, 5, 40]) {
    let prev = Infinity;
    for (let a = 1e-7; a < 1 / beta; a *= 1.05) {
      const c = theoremCondition(0.05, 4, a, beta);
      assert.ok(c <= prev + 1e-12);
      prev = c;
    }
  }
});

test('monotone: alpha falls with beta and with k; at a fixed competence level it rises with theta', () => {
  for (const theta of [0.02, 0.1, 0.25]) {
    for (const k of [2, 5, 12]) {
      const c = boundCurve(theta, k, betaGrid(theta, 40));
      for (let i = 1; i < c.length; i++) assert.ok(c[i].alpha <= c[i - 1].alpha, `theta ${theta} k ${k}: alpha rose with beta`);
    }
  }
  for (const theta of [0.02, 0.1]) {
    for (const beta of [2, 3, 5, 1 / theta]) {
      let prev = Infinity;
      for (const k of [1, 2, 3, 5, 8, 13, 21]) {
        const a = alphaBound(theta, k, beta).alpha;
        assert.ok(a <= prev, `theta ${theta} beta ${beta}: alpha rose with k = ${k}`);
        prev = a;
      }
    }
  }
  // the fraction of skills below a given competence c: beta = (1 - c) / theta
  for (const comp of [0.5, 0.7, 0.85]) {
    for (const k of [3, 8]) {
      let prev = -Infinity;
      for (const theta of [0.005, 0.01, 0.02, 0.04, 0.08, 0.12]) {
        if (1 - comp <= theta) continue;
        const a = alphaBound(theta, k, (1 - comp) / theta).alpha;
        assert.ok(a >= prev, `competence ${comp} k ${k}: alpha fell as theta rose to ${theta}`);
        prev = a;
      }
    }
  }
});

test("k'-tuples (Cor. 13): the tuple curve at theta / k' is the single-skill curve at theta", () => {
  for (const theta of [0.3, 0.1, 0.05, 0.01]) {
    for (const k of [2, 5, 9]) {
      for (const kt of [2, 3, 4, 7]) {
        const single = skillsReport({ theta, k });
        const tuple = skillsReport({ theta: theta / kt, k, tuple: kt });
        assert.equal(tuple.tupleTheta, theta);
        assert.deepEqual(tuple.tupleCurve, single.curve, `theta ${theta} k ${k} k' ${kt}`);
      }
    }
  }
  assert.equal(tupleTheta(0.1 / 3, 3), 0.1);
  // and at the same theta a tuple is harder than a single skill: a larger fraction below the same competence
  for (const comp of [0.3, 0.5, 0.7]) {
    const single = alphaBound(0.05, 5, (1 - comp) / 0.05).alpha;
    const tuple = alphaBound(tupleTheta(0.05, 2), 5, (1 - comp) / tupleTheta(0.05, 2)).alpha;
    assert.ok(tuple >= single, `competence ${comp}: tuple ${tuple} < single ${single}`);
  }
});

test('the Monte Carlo fractions (random and concentrated failure sets) stay under the bound', () => {
  for (const [theta, k, skills, pieces, kt] of [
    [0.1, 5, 1000, 2000, 2],
    [0.05, 5, 500, 10000, 3],
    [0.1, 2, 500, 5000, 2],
    [0.02, 8, 300, 6000, 2],
    [0.2, 3, 400, 3000, 2],
  ]) {
    const rep = skillsReport({ theta, k, tuple: kt, points: 30 });
    const sim = simulateSkills({ theta, k, skills, pieces, trials: 3, seed: 11, betas: rep.curve.map((p) => p.beta), tuple: kt, tupleBetas: rep.tupleCurve!.map((p) => p.beta) });
    near(sim.meanDegree, (k * pieces) / skills, 1e-12);
    sim.curve.forEach((p, i) => {
      assert.ok(p.randomMax <= rep.curve[i].alpha, `theta ${theta} k ${k} beta ${p.beta}: random ${p.randomMax} > bound ${rep.curve[i].alpha}`);
      assert.ok(p.concentrated <= rep.curve[i].alpha, `theta ${theta} k ${k} beta ${p.beta}: concentrated ${p.concentrated} > bound ${rep.curve[i].alpha}`);
      assert.ok(p.random <= p.randomMax);
    });
    sim.tupleCurve!.forEach((p, i) => {
      assert.ok(p.randomMax <= rep.tupleCurve![i].alpha, `tuples: random ${p.randomMax} > ${rep.tupleCurve![i].alpha}`);
      assert.ok(p.concentrated <= rep.tupleCurve![i].alpha, `tuples: concentrated ${p.concentrated} > ${rep.tupleCurve![i].alpha}`);
    });
    // the check is not empty: failures concentrated on few skills put some of them below the level
    assert.ok(sim.curve.some((p) => p.concentrated > 0.01));
  }
  // deterministic for a seed
  const o = { theta: 0.1, k: 3, skills: 200, pieces: 600, trials: 2, seed: 5, betas: [2, 4] };
  assert.deepEqual(simulateSkills(o), simulateSkills(o));
});

test('theta from a measured loss: 2 x (mean loss - entropy floor), clipped to [0, 1]', () => {
  near(thetaFromExcessLoss(3.2, 3.15), 0.1, 1e-12);
  assert.equal(thetaFromExcessLoss(2, 3), 0);
  assert.equal(thetaFromExcessLoss(5, 1), 1);
});

test('skillsReport refuses theta outside (0, 1) and a k that is not a positive integer', () => {
  assert.throws(() => skillsReport({ theta: 0, k: 5 }), /theta must be in \(0, 1\)/);
  assert.throws(() => skillsReport({ theta: 1.2, k: 5 }), /theta/);
  assert.throws(() => skillsReport({ theta: 0.1, k: 0 }), /k must be/);
  const r = skillsReport({ theta: 0.1, k: 5 });
  assert.equal(r.curve.length, 60);
  near(r.curve[59].beta, 10, 1e-12);
  assert.match(r.theorem, /Theorem 8/);
});
