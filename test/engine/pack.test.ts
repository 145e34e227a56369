// Model pack validation: every refusal names the pack, the field and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { loadPack } from '../../src/engine/pack';
import { ProbeError } from '../../src/engine/errors';
import { onnx } from 'onnx-proto';
import { MARKOV, TINY, tempPack } from './helpers';

function refuses(dir: string, code: string, ...patterns: RegExp[]) {
  return async () => {
    await assert.rejects(Engine.open(dir), (e: ProbeError) => {
      assert.equal(e.code, code, e.message);
      assert.ok(e.message.includes(dir), `message names the pack: ${e.message}`);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    });
  };
}

test('loads the fixtures', () => {
  const p = loadPack(MARKOV);
  assert.equal(p.info.name, 'markov-fixture');
  assert.equal(p.info.hasBackward, true);
  assert.equal(p.manifest.graph.outputs.hiddenStates, null);
  assert.equal(loadPack(TINY).files.head !== null, true);
});

test('missing folder and missing manifest', async () => {
  await refuses('/nonexistent/lm-probe-pack', 'PACK_NOT_FOUND', /no such folder/)();
  const d = mkdtempSync(join(tmpdir(), 'lm-probe-empty-'));
  await refuses(d, 'PACK_NOT_FOUND', /manifest\.json is missing/)();
});

test('default pack missing names --model', async () => {
  // Only meaningful until models/default lands; afterwards it opens.
  try {
    const e = await Engine.open();
    await e.dispose();
  } catch (e) {
    assert.equal((e as ProbeError).code, 'PACK_NOT_FOUND');
    assert.match((e as ProbeError).message, /--model/);
  }
});

test('manifest not JSON', async () => {
  const d = tempPack(MARKOV);
  writeFileSync(join(d, 'manifest.json'), '{ nope');
  await refuses(d, 'BAD_PACK', /not valid JSON/)();
});

test('missing file', refuses(tempPack(MARKOV, (m) => (m.backward = 'gone.onnx')), 'BAD_PACK', /field "backward"/, /gone\.onnx.*missing/));

test('path that leaves the pack', refuses(tempPack(MARKOV, (m) => (m.forward = '../x.onnx')), 'BAD_PACK', /field "forward"/, /inside the pack/));

test('absolute path', refuses(tempPack(MARKOV, (m) => (m.tokenizer = '/etc/passwd')), 'BAD_PACK', /field "tokenizer"/, /not an absolute path/));

test('symlink that leaves the pack', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'lm-probe-outside-'));
  copyFileSync(join(MARKOV, 'forward.onnx'), join(outside, 'f.onnx'));
  const d = tempPack(MARKOV, (m, dir) => {
    symlinkSync(join(outside, 'f.onnx'), join(dir, 'link.onnx'));
    m.forward = 'link.onnx';
  });
  await refuses(d, 'BAD_PACK', /field "forward"/, /symlink leaves it/)();
  rmSync(outside, { recursive: true });
});

test('wrong field types', async () => {
  await refuses(tempPack(MARKOV, (m) => (m.contextLength = 'long')), 'BAD_PACK', /field "contextLength": expected an integer >= 2, got "long"/)();
  await refuses(tempPack(MARKOV, (m) => (m.format = 'other')), 'BAD_PACK', /field "format"/)();
  await refuses(tempPack(MARKOV, (m) => delete m.bos), 'BAD_PACK', /field "bos.id"/)();
  await refuses(tempPack(MARKOV, (m) => ((m.bos as { id: number }).id = 5)), 'BAD_PACK', /field "bos.id": expected 0, the tokenizer's id/)();
  await refuses(tempPack(MARKOV, (m) => ((m.architecture as { vocabSize: number }).vocabSize = 100)), 'BAD_PACK', /architecture.vocabSize/)();
});

test('wrong output name', refuses(
  tempPack(TINY, (m) => ((m.graph as { outputs: { logits: string } }).outputs.logits = 'scores')),
  'BAD_PACK', /graph.outputs.logits/, /"logits", "hidden_states", "attentions"/, /got "scores"/,
));

test('wrong input name', refuses(
  tempPack(TINY, (m) => ((m.graph as { inputs: { inputIds: string } }).inputs.inputIds = 'ids')),
  'BAD_PACK', /graph.inputs.inputIds/,
));

test('wrong logits shape (vocabulary)', refuses(
  tempPack(TINY, (m) => ((m.architecture as { vocabSize: number }).vocabSize = 300)),
  'BAD_PACK', /output "logits".*expected shape \[1, 2, 300\].*got \[1, 2, 269\]/,
));

test('wrong hidden and attention shapes (layers, heads, width)', async () => {
  await refuses(tempPack(TINY, (m) => ((m.architecture as { layers: number }).layers = 3)), 'BAD_PACK', /hidden_states.*expected shape \[4, 1, 2, 16\]/)();
  await refuses(tempPack(TINY, (m) => ((m.architecture as { heads: number }).heads = 4)), 'BAD_PACK', /attentions.*expected shape \[2, 1, 4, 2, 2\]/)();
});

test('a file that is not ONNX', async () => {
  const d = tempPack(MARKOV);
  writeFileSync(join(d, 'backward.onnx'), 'not a model');
  await refuses(d, 'BAD_PACK', /field "backward"/, /ONNX Runtime cannot load/)();
});

test('a tokenizer that is not a tokenizer', async () => {
  const d = tempPack(MARKOV);
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
  await refuses(d, 'BAD_PACK', /field "tokenizer"/)();
});

test('a normalizer that rewrites the text (other than NFC) is refused when the pack opens, by name', async () => {
  const d = tempPack(MARKOV);
  const p = join(d, 'tokenizer.json');
  const tj = JSON.parse(readFileSync(p, 'utf8'));
  tj.normalizer = { type: 'Lowercase' };
  writeFileSync(p, JSON.stringify(tj));
  await refuses(d, 'BAD_PACK', /field "tokenizer"/, /normalizer "Lowercase"/)();
});

test('a contextLength longer than the graph takes', refuses(
  tempPack(TINY, (m) => (m.contextLength = 64)),
  'BAD_PACK', /field "contextLength": the forward graph fails on 64 positions/,
));

test('a graph whose rows read each other across the batch', async () => {
  // h + mean over the batch of h before the final norm: a row's logits depend on the other rows
  const dir = tempPack(TINY, (m, d) => {
    const file = join(d, m.forward as string);
    const model = onnx.ModelProto.decode(readFileSync(file));
    const nodes = model.graph!.node as onnx.NodeProto[];
    const lnF = nodes.find((n) => n.opType === 'LayerNormalization' && n.input[1] === 'ln_f.weight')!;
    const h = lnF.input[0];
    nodes.splice(
      nodes.indexOf(lnF),
      0,
      onnx.NodeProto.create({ opType: 'ReduceMean', input: [h], output: ['t_batch_mean'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [0] }] }),
      onnx.NodeProto.create({ opType: 'Add', input: [h, 't_batch_mean'], output: ['t_mixed'] }),
    );
    lnF.input[0] = 't_mixed';
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
  });
  await refuses(dir, 'BAD_PACK', /the forward graph gives a row of a batch of 2 other logits than the same row alone/)();
});
