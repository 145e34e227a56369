// The in-context learning lab against closed forms: the masked LSA forward pass is gradient descent
// (prefix) or the causal recursion layer by layer; with enough layers the prefix pass gives least
// squares and the causal pass one pass of normalized LMS, to 1e-8; at the paper's setting the
// prefix error falls toward zero while the causal error stays on a plateau.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lsaForward } from '../../src/engine/labs/lsa';
import { errorVsExamples, iclMask, iclWeights, parseRows, runIcl, syntheticIcl, validateIclData, type IclData } from '../../src/engine/labs/icl';
import { causalPath, dot, gdPath, lambdaMax, lambdaMin, leastSquaresQR, maxAbsDiff, minNormWide, nlms } from './reference';

const predict = (w: number[], X: number[][]) => X.map((x) => dot(w, x));
const maxNormSq = (X: number[][]) => Math.max(...X.map((x) => dot(x, x)));

test('lsaForward: one layer by hand (d = 1, two examples, one query) under both masks', () => {
  // tokens [x; y]: (1, 2), (2, 3), query (1, 0); W_KQ picks x, W_PV writes -eta y into the y channel
  const eta = 0.1;
  const { wKQ, wPV } = iclWeights(1, eta);
  const tokens = Float64Array.from([1, 2, 2, 3, 1, 0]);
  const one = (kind: 'prefix' | 'causal') => lsaForward({ tokens, n: 3, width: 2, wKQ, wPV, mask: iclMask(kind, 2, 1), layers: 1 });
  const p = one('prefix');
  // example 1 attends to both: y1 - eta (2*1*1 + 3*2*1) = 2 - 0.8; example 2: 3 - eta (2*1*2 + 3*2*2) = 3 - 1.6
  // query attends to both examples: 0 - eta (2*1 + 3*2) = -0.8
  assert.deepEqual(Array.from(p).map((v) => +v.toFixed(12)), [1, 1.2, 2, 1.4, 1, -0.8]);
  const c = one('causal');
  // example 1 attends to itself only: 2 - eta*2*1 = 1.8; example 2 as in prefix; the query too
  assert.deepEqual(Array.from(c).map((v) => +v.toFixed(12)), [1, 1.8, 2, 1.4, 1, -0.8]);
  // the masks: queries never attend to queries, the causal mask is lower triangular on examples
  assert.deepEqual(Array.from(iclMask('causal', 3, 2)), [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(iclMask('prefix', 2, 1)), [1, 1, 0, 1, 1, 0, 1, 1, 0]);
});

test('every layer of the masked pass equals its closed form: gradient descent (prefix) and the causal recursion', () => {
  const data = syntheticIcl({ d: 6, n: 15, q: 7, seed: 3 });
  const X = data.examples.x;
  const eta = 0.5 / lambdaMax(X);
  const L = 30;
  const r = runIcl(data, { layers: L, eta });
  const gd = gdPath(X, data.examples.y, eta, L);
  const ca = causalPath(X, data.examples.y, eta, L);
  const mse = (p: number[]) => p.reduce((s, v, i) => s + (v - data.queries.y![i]) ** 2, 0) / p.length;
  for (let l = 0; l < L; l++) {
    assert.ok(Math.abs(r.prefix.mseByLayer![l] - mse(predict(gd[l], data.queries.x))) < 1e-10, `prefix layer ${l + 1}`);
    assert.ok(Math.abs(r.causal.mseByLayer![l] - mse(predict(ca[l], data.queries.x))) < 1e-10, `causal layer ${l + 1}`);
  }
  assert.ok(maxAbsDiff(r.prefix.predictions, predict(gd[L - 1], data.queries.x)) < 1e-10);
  assert.ok(maxAbsDiff(r.causal.predictions, predict(ca[L - 1], data.queries.x)) < 1e-10);
});

test('prefix mask: with eta < 2 / lambda_max and enough layers the predictions are least squares to 1e-8 (n >= d)', () => {
  for (const [d, n, seed, shift, noise] of [
    [3, 10, 1, 0, 0.1],
    [8, 30, 2, 0, 0.5],
    [16, 40, 3, 0, 0],
    [5, 7, 4, 0, 0.2],
    [4, 25, 5, 0.5, 0.3],
  ]) {
    const data = syntheticIcl({ d, n, q: 9, seed, shift, noise });
    const X = data.examples.x;
    const ref = predict(leastSquaresQR(X, data.examples.y), data.queries.x);
    const lmax = lambdaMax(X);
    const lmin = lambdaMin(X);
    for (const frac of [0.5, 0.95]) {
      const eta = (frac * 2) / lmax;
      // enough layers: the slowest error mode shrinks by max(|1 - eta lambda|) per layer, to 1e-14
      const rate = Math.max(Math.abs(1 - eta * lmin), Math.abs(1 - eta * lmax));
      const layers = Math.ceil(Math.log(1e-14) / Math.log(rate)) + 10;
      const r = runIcl(data, { layers, eta });
      assert.ok(r.stability.prefixConverges);
      const err = maxAbsDiff(r.prefix.predictions, ref);
      assert.ok(err < 1e-8, `d=${d} n=${n} eta=${frac}*2/lambda_max, ${layers} layers: |prefix - least squares| = ${err}`);
      assert.ok(maxAbsDiff(r.leastSquares, ref) < 1e-9, 'the engine\'s own least squares');
    }
  }
});

test('prefix mask with fewer examples than dimensions: the minimum-norm least-squares solution', () => {
  const data = syntheticIcl({ d: 12, n: 5, q: 6, seed: 9 });
  const X = data.examples.x;
  const ref = predict(minNormWide(X, data.examples.y), data.queries.x);
  const r = runIcl(data, { layers: 3000, eta: 1 / lambdaMax(X) });
  assert.ok(maxAbsDiff(r.prefix.predictions, ref) < 1e-8, `${maxAbsDiff(r.prefix.predictions, ref)}`);
  assert.ok(maxAbsDiff(r.leastSquares, ref) < 1e-9);
  assert.equal(r.stability.rank, 5);
});

test('causal mask: the predictions converge to one pass of normalized LMS to 1e-8, whatever eta below 2 / max ||x_j||^2', () => {
  for (const [d, n, seed, shift] of [
    [3, 10, 1, 0],
    [8, 30, 2, 0],
    [16, 40, 3, 0],
    [10, 6, 4, 0],
    [4, 25, 5, 0.5],
  ]) {
    const data = syntheticIcl({ d, n, q: 9, seed, shift, noise: 0.3 });
    const X = data.examples.x;
    const ref = predict(nlms(X, data.examples.y), data.queries.x);
    for (const frac of [0.3, 0.5, 0.9]) {
      const eta = (frac * 2) / maxNormSq(X);
      // the eigenvalues of I - eta tril(X X') are 1 - eta ||x_j||^2; twice the layers they need
      // for 1e-14 leaves room for the transient of the non-normal triangular matrix
      const rate = Math.max(...X.map((x) => Math.abs(1 - eta * dot(x, x))));
      const layers = 2 * Math.ceil(Math.log(1e-14) / Math.log(rate)) + 50;
      const r = runIcl(data, { layers, eta });
      assert.ok(r.stability.causalConverges);
      const err = maxAbsDiff(r.causal.predictions, ref);
      assert.ok(err < 1e-8, `d=${d} n=${n} eta=${frac}*2/max||x||^2, ${layers} layers: |causal - NLMS| = ${err}`);
      assert.ok(maxAbsDiff(r.nlms, ref) < 1e-12, 'the engine\'s own NLMS');
    }
  }
});

test("the paper's setting (d 16, 40 examples, 20 queries, eta 0.04, 50 layers): prefix error falls toward zero, causal error plateaus", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const data = syntheticIcl({ d: 16, n: 40, q: 20, seed });
    const r = runIcl(data, { layers: 50, eta: 0.04 });
    const p = r.prefix.mseByLayer!;
    const c = r.causal.mseByLayer!;
    assert.equal(p.length, 50);
    assert.ok(r.stability.prefixConverges && r.stability.causalConverges, `seed ${seed}: eta 0.04 is stable`);
    // prefix: decreasing, and three orders of magnitude below where it started
    for (let l = 1; l < 50; l++) assert.ok(p[l] <= p[l - 1] * (1 + 1e-9), `seed ${seed}: prefix error rose at layer ${l + 1}`);
    assert.ok(p[49] < 1e-3 * p[0], `seed ${seed}: prefix ${p[0]} -> ${p[49]}`);
    assert.ok((r.leastSquaresMse ?? 1) < 1e-20, 'noise-free data: least squares is exact');
    // causal: flat over the last 10 layers, at the NLMS error, far above prefix
    assert.ok(Math.abs(c[49] - c[39]) < 0.02 * c[49], `seed ${seed}: causal not on a plateau: ${c[39]} -> ${c[49]}`);
    assert.ok(Math.abs(c[49] - r.nlmsMse!) < 0.05 * r.nlmsMse!, `seed ${seed}: causal ${c[49]} vs NLMS ${r.nlmsMse}`);
    assert.ok(c[49] > 100 * p[49], `seed ${seed}: causal ${c[49]} vs prefix ${p[49]}`);
  }
});

test('error against the number of examples: least squares is exact from n = d on; causal stays above it', () => {
  const data = syntheticIcl({ d: 8, n: 40, q: 20, seed: 7 });
  const s = errorVsExamples(data, { layers: 200, eta: 0.05 }, [2, 8, 16, 40]);
  assert.deepEqual(s.examples, [2, 8, 16, 40]);
  assert.equal(s.measure, 'mse');
  assert.ok(s.leastSquares[0] > 0.1 && s.leastSquares[3] < 1e-20);
  assert.ok(s.causal[3] > 1e3 * s.prefix[3]);
  assert.ok(s.causal[3] < s.causal[0]);
});

test('queries without targets: no MSE, a gap to least squares; diverging step sizes are reported', () => {
  const data: IclData = { examples: { x: [[1, 0], [0, 1], [1, 1]], y: [1, 2, 3] }, queries: { x: [[2, 2]] } };
  const r = runIcl(data, { layers: 200, eta: 0.2 });
  assert.equal(r.prefix.mseByLayer, null);
  assert.equal(r.leastSquaresMse, null);
  assert.equal(r.prefix.gapToLeastSquaresByLayer.length, 200);
  assert.ok(r.prefix.gapToLeastSquaresByLayer[199] < 1e-20);
  assert.ok(Math.abs(r.leastSquares[0] - 6) < 1e-12);
  const bad = runIcl(data, { layers: 5, eta: 2 });
  assert.equal(bad.stability.prefixConverges, false);
  assert.match(bad.warnings.join('\n'), /prefix pass diverges/);
});

test('validateIclData refuses malformed data with the place of the fault', () => {
  const good = { examples: { x: [[1, 2]], y: [1] }, queries: { x: [[1, 1]] } };
  assert.equal(validateIclData(good), 2);
  assert.throws(() => validateIclData({ examples: { x: [[1, 2]], y: [1, 2] }, queries: { x: [[1, 1]] } }), /1 rows of x but 2 values/);
  assert.throws(() => validateIclData({ examples: { x: [[1, 2]], y: [1] }, queries: { x: [[1]] } }), /queries\.x\[0\] must have 2 numbers/);
  assert.throws(() => validateIclData({ examples: { x: [[1, NaN]], y: [1] }, queries: { x: [[1, 1]] } } as IclData), /examples\.x\[0\]\[1\]/);
  assert.throws(() => validateIclData({ examples: { x: [[1, 2]], y: [1] }, queries: { x: [] } }), /no queries/);
});

test('parseRows: examples, queries with an empty y, headers and bad rows', () => {
  const q = parseRows('x1, x2, y\n1, 2, 3\n4 5 6\n# comment\n7;8;\n9\t10\n');
  assert.deepEqual(q.data, { examples: { x: [[1, 2], [4, 5]], y: [3, 6] }, queries: { x: [[7, 8], [9, 10]] } });
  assert.deepEqual(q.skipped, [{ line: 1, reason: 'no numbers (header or text)' }]);
  assert.equal(parseRows('1 2 3\n4 5 6').error, 'no query rows (rows of 2 numbers, y left empty)');
  assert.match(parseRows('hello').error ?? '', /no rows of numbers/);
  // the longest row sets d: one stray long row leaves no queries
  const long = parseRows('1 2 3\n4 5\n1 2 3 4 5\n');
  assert.equal(long.d, 4);
  assert.equal(long.data, null);
  const mixed = parseRows('1 2 3\n4 5\n1 2 x\n');
  assert.deepEqual(mixed.skipped, [{ line: 3, reason: 'not a number: "x"' }]);
});
