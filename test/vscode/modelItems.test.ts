// The rows of "LM Probe: Choose model...": groups, descriptions, unsupported models marked, the
// current model, and the Browse actions last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiscoveredModel } from '../../src/engine/models/discover';
import { isCurrent, modelRows, notAModel, refused, type ModelRow } from '../../src/vscode/modelItems';

const model = (o: Partial<DiscoveredModel>): DiscoveredModel => ({
  kind: 'huggingface',
  source: 'hf-cache',
  label: 'org/name',
  path: '/hf/models--org--name/snapshots/abc',
  sizeBytes: 497_800_000,
  architecture: 'gpt2 · GPT2LMHeadModel',
  parameters: 124_439_808,
  hasBackward: false,
  supported: true,
  ...o,
});

const MODELS: DiscoveredModel[] = [
  model({ kind: 'pack', source: 'bundled', label: 'lm-probe-default', path: '/ext/models/default', architecture: '4 layers · width 256', parameters: null, sizeBytes: 23_000_000, hasBackward: true }),
  model({ kind: 'pack', source: 'workspace', label: 'markov', path: '/ws/markov', architecture: '1 layers · width 1', parameters: null, sizeBytes: 300_000, hasBackward: true }),
  model({ kind: 'pair', source: 'workspace', label: 'gpt2 pair', path: '/ws/default-hf', hasBackward: true, sizeBytes: 995_600_000 }),
  model({}),
  model({ label: 'google/bert-tiny', path: '/hf/models--google--bert-tiny/snapshots/def', architecture: 'bert · BertForMaskedLM', parameters: 4_400_000, sizeBytes: 17_600_000, supported: false, reason: 'model_type "bert" is not supported; supported: gpt2 (GPT-2)' }),
];

test('rows are grouped Bundled, Workspace, Hugging Face cache, then Browse', () => {
  const rows = modelRows(MODELS, { path: '/ext/models/default', bundled: true });
  const shape = rows.map((r) => (r.type === 'separator' ? `-- ${r.label}` : r.label));
  assert.deepEqual(shape, [
    '-- Bundled',
    '$(package) lm-probe-default',
    '-- Workspace',
    '$(package) markov',
    '$(arrow-swap) gpt2 pair',
    '-- Hugging Face cache',
    '$(hubot) org/name',
    '$(circle-slash) google/bert-tiny',
    '-- Other',
    '$(folder-opened) Browse for a model folder…',
    '$(json) Browse for a pair file…',
  ]);
  const byLabel = (l: string) => rows.find((r): r is Extract<ModelRow, { type: 'model' }> => r.type === 'model' && r.label.endsWith(l))!;
  assert.equal(byLabel('lm-probe-default').description, '4 layers · width 256 · 23 MB · bundled · current');
  assert.equal(byLabel('gpt2 pair').description, 'pair · gpt2 · GPT2LMHeadModel · 124M parameters per direction · 996 MB');
  const hf = byLabel('org/name');
  assert.equal(hf.description, 'forward only · gpt2 · GPT2LMHeadModel · 124M parameters · 498 MB');
  assert.equal(hf.detail, '/hf/models--org--name/snapshots/abc');
  const bert = byLabel('bert-tiny');
  assert.equal(bert.description, 'not supported · bert · BertForMaskedLM · 4.4M parameters · 18 MB');
  assert.match(bert.detail, /^\$\(warning\) model_type "bert" is not supported; supported: gpt2/);
});

test('the current model is marked; an empty search still offers Browse', () => {
  const cur = { path: '/hf/models--org--name/snapshots/abc/', bundled: false };
  assert.equal(isCurrent(MODELS[3], cur), true);
  assert.equal(isCurrent(MODELS[0], cur), false);
  const rows = modelRows(MODELS, cur);
  assert.ok(rows.some((r) => r.type === 'model' && r.current && r.model.label === 'org/name'));
  assert.equal(rows.filter((r) => r.type === 'model' && r.current).length, 1);
  const empty = modelRows([], cur, true);
  assert.deepEqual(empty.map((r) => r.type), ['separator', 'browse', 'browse']);
  assert.match(empty[0].label, /Searching/);
});

test('messages for a refused model and a folder that is no model', () => {
  assert.equal(refused(MODELS[4]), 'google/bert-tiny cannot be used: model_type "bert" is not supported; supported: gpt2 (GPT-2) (/hf/models--google--bert-tiny/snapshots/def)');
  assert.match(notAModel('/tmp/x'), /no manifest\.json \(model pack\), pair\.json .* or config\.json/);
});
