// The paired bootstrap of eval-probes: no interval from fewer than 10 units, and an interval that
// brackets the observed difference and narrows as units are added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseUnits, pairedDifference } from '../../src/engine/analysis/pairedBootstrap';

test('paired bootstrap: refuses fewer than 10 units; brackets the difference; falls back to windows, then to none', () => {
  const units = (n: number) => Array.from({ length: n }, (_, i) => ({ positions: 100, a: 20 + (i % 7), b: 15 + (i % 5) }));
  assert.equal(pairedDifference(units(9), 'documents'), null);
  const ci = pairedDifference(units(40), 'documents')!;
  const d = units(40).reduce((s, u) => s + u.a - u.b, 0) / 4000;
  assert.ok(ci.lo <= d && d <= ci.hi, `${ci.lo} <= ${d} <= ${ci.hi}`);
  assert.equal(ci.units, 40);
  const wide = pairedDifference(units(10), 'documents')!;
  const narrow = pairedDifference(units(400), 'documents')!;
  assert.ok(narrow.hi - narrow.lo < wide.hi - wide.lo);
  assert.deepEqual(chooseUnits(units(12), units(30)).units?.length, 12);
  const w = chooseUnits(units(3), units(30));
  assert.ok(w.units && 'unit' in w && w.unit === 'windows');
  const none = chooseUnits(units(3), units(4));
  assert.equal(none.units, null);
});
