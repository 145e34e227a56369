// The Labs view's computations apart from VS Code (src/vscode/labs/compute.ts): parameters are
// clamped to the view's ranges, the views carry what the webview draws, the sweep assembles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampIcl, clampSkills, iclData, iclView, ICL_DEFAULTS, mergeSweep, skillsView, SKILLS_DEFAULTS, sweepCounts, sweepPoint } from '../../src/vscode/labs/compute';
import { errorVsExamples, parseRows } from '../../src/engine/labs/icl';

test('clampIcl / clampSkills: defaults for missing or bad values, integers rounded, ranges enforced', () => {
  assert.deepEqual(clampIcl({}), ICL_DEFAULTS);
  const p = clampIcl({ d: 1000, n: 2.6, eta: -1, layers: Number.NaN, shift: 9 });
  assert.equal(p.d, 32);
  assert.equal(p.n, 3);
  assert.equal(p.eta, 1e-5);
  assert.equal(p.layers, ICL_DEFAULTS.layers);
  assert.equal(p.shift, 3);
  assert.deepEqual(clampSkills({}), SKILLS_DEFAULTS);
  const s = clampSkills({ k: 3, tuple: 7, thetaMode: 'bogus' as 'theta', skills: 1 });
  assert.equal(s.tuple, 3);
  assert.equal(s.thetaMode, 'theta');
  assert.equal(s.skills, 10);
});

test('iclView and the sweep, point by point, equal errorVsExamples over all the counts', () => {
  const p = clampIcl({ d: 4, n: 12, q: 5, layers: 30, eta: 0.05 });
  const v = iclView(p, null);
  assert.equal(v.data.source, 'synthetic');
  assert.equal(v.data.targets?.length, 5);
  assert.ok(v.data.zeroMse! > 0);
  assert.equal(v.result.prefix.mseByLayer?.length, 30);
  const data = iclData(p, null);
  const counts = sweepCounts(12);
  assert.deepEqual(mergeSweep(counts.map((m) => sweepPoint(data, p, m))), errorVsExamples(data, { layers: 30, eta: 0.05 }, counts));
  // the selection's data: no targets, the gap to least squares instead
  const rows = parseRows('1 0 1\n0 1 2\n1 1 3\n2 2\n');
  const sel = iclView(p, { data: rows.data!, label: 'selection', skipped: [] });
  assert.equal(sel.data.hasTargets, false);
  assert.equal(sel.result.prefix.mseByLayer, null);
  assert.equal(sweepPoint(rows.data!, p, 2).measure, 'gapToLeastSquares');
});

test('skillsView: theta given or from a loss; a loss not above the floor is refused with the reason', () => {
  const v = skillsView(clampSkills({ theta: 0.05, k: 4, tuple: 2, skills: 200, pieces: 800, trials: 1 }), null);
  assert.equal(v.theta, 0.05);
  assert.equal(v.report.tupleTheta, 0.1);
  assert.equal(v.simulation?.curve.length, v.report.curve.length);
  const l = skillsView(clampSkills({ thetaMode: 'loss', loss: 3.3, floor: 3.25, skills: 200, pieces: 800, trials: 1 }), 'last probe');
  assert.ok(Math.abs(l.theta - 0.1) < 1e-12);
  assert.equal(l.lossSource, 'last probe');
  assert.throws(() => skillsView(clampSkills({ thetaMode: 'loss', loss: 3, floor: 3.2 }), null), /loss must be above the floor/);
});
