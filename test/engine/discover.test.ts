// discoverModels: the bundled pack, packs / pairs / Hugging Face folders in the workspace, and the
// local Hugging Face cache (models--org--name/snapshots/{rev} linking into blobs/, refs/main).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { describeLine, describeModel, discoverModels, formatParameters, formatSize, hfHubCacheDir, safetensorsParameters, type DiscoveredModel } from '../../src/engine/models/discover';
import { ROOT } from './helpers';

const FIX = join(ROOT, 'test', 'fixtures');
const TOKENIZER = readFileSync(join(FIX, 'markov-pack', 'tokenizer.json'));

/** A safetensors file: 8-byte LE header length, JSON header, float32 zeros. */
function safetensors(tensors: Record<string, number[]>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [k, shape] of Object.entries(tensors)) {
    const n = shape.reduce((a, d) => a * d, 1) * 4;
    header[k] = { dtype: 'F32', shape, data_offsets: [off, off + n] };
    off += n;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(off)]);
}

const gpt2Config = (layers: number) => JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_layer: layers, n_embd: 8, n_head: 2, vocab_size: 16 });
const gpt2Weights = (layers: number) => {
  const t: Record<string, number[]> = { 'wte.weight': [16, 8], 'wpe.weight': [32, 8] };
  for (let i = 0; i < layers; i++) t[`h.${i}.attn.c_attn.weight`] = [8, 24];
  return safetensors(t);
};
// 16*8 + 32*8 + layers * 8*24
const gpt2Params = (layers: number) => 16 * 8 + 32 * 8 + layers * 8 * 24;

/** A cache repo folder, as huggingface_hub writes it: blobs named by hash, snapshots linking to them. */
function cacheRepo(hub: string, repo: string, revisions: Record<string, Record<string, Buffer | string>>, main?: string): string {
  const dir = join(hub, `models--${repo.replace('/', '--')}`);
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  mkdirSync(join(dir, 'refs'), { recursive: true });
  for (const [rev, files] of Object.entries(revisions)) {
    const snap = join(dir, 'snapshots', rev);
    mkdirSync(snap, { recursive: true });
    for (const [name, body] of Object.entries(files)) {
      const sha = createHash('sha256').update(body).digest('hex');
      writeFileSync(join(dir, 'blobs', sha), body);
      symlinkSync(relative(snap, join(dir, 'blobs', sha)), join(snap, name));
    }
  }
  if (main) writeFileSync(join(dir, 'refs', 'main'), main);
  return dir;
}

function hfFolder(dir: string, files: Record<string, Buffer | string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
  return dir;
}

const REV1 = 'a'.repeat(40), REV2 = 'b'.repeat(40);

function setup() {
  const tmp = mkdtempSync(join(tmpdir(), 'lm-probe-discover-'));
  const hub = join(tmp, 'hf', 'hub');
  // Two revisions: refs/main names the second (4 layers); the first (2 layers) is older.
  cacheRepo(
    hub,
    'lm-probe-test/gpt2-tiny',
    {
      [REV1]: { 'config.json': gpt2Config(2), 'model.safetensors': gpt2Weights(2), 'tokenizer.json': TOKENIZER },
      [REV2]: { 'config.json': gpt2Config(4), 'model.safetensors': gpt2Weights(4), 'tokenizer.json': TOKENIZER },
    },
    REV2,
  );
  cacheRepo(hub, 'google/bert-tiny', { [REV1]: { 'config.json': JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'] }), 'model.safetensors': safetensors({ w: [4, 4] }), 'tokenizer.json': TOKENIZER } }, REV1);
  cacheRepo(hub, 'org/no-tokenizer', { [REV1]: { 'config.json': gpt2Config(1), 'model.safetensors': gpt2Weights(1), 'vocab.json': '{}' } }, REV1);
  cacheRepo(hub, 'org/pickle-only', { [REV1]: { 'config.json': gpt2Config(1), 'pytorch_model.bin': 'not read', 'tokenizer.json': TOKENIZER } }, REV1);
  // Sharded: both shards present; another with a shard not downloaded.
  const index = JSON.stringify({ metadata: {}, weight_map: { 'wte.weight': 'model-00001-of-00002.safetensors', 'wpe.weight': 'model-00002-of-00002.safetensors' } });
  cacheRepo(hub, 'org/sharded', {
    [REV1]: {
      'config.json': JSON.stringify({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }),
      'model.safetensors.index.json': index,
      'model-00001-of-00002.safetensors': safetensors({ 'wte.weight': [16, 8] }),
      'model-00002-of-00002.safetensors': safetensors({ 'wpe.weight': [32, 8] }),
      'tokenizer.json': TOKENIZER,
    },
  }); // no refs/main: the newest snapshot
  cacheRepo(hub, 'org/partial', {
    [REV1]: { 'config.json': JSON.stringify({ model_type: 'qwen2' }), 'model.safetensors.index.json': index, 'model-00001-of-00002.safetensors': safetensors({ 'wte.weight': [16, 8] }), 'tokenizer.json': TOKENIZER },
  }, REV1);
  mkdirSync(join(hub, 'datasets--org--data', 'snapshots', REV1), { recursive: true });

  const ws = join(tmp, 'ws');
  cpSync(join(FIX, 'markov-pack'), join(ws, 'models', 'markov'), { recursive: true });
  cpSync(join(FIX, 'markov-forward-int32'), join(ws, 'models', 'fw-only'), { recursive: true });
  cpSync(join(FIX, 'tiny-gpt'), join(ws, 'node_modules', 'x', 'tiny'), { recursive: true }); // skipped
  cpSync(join(FIX, 'tiny-gpt'), join(ws, 'a', 'b', 'c', 'd', 'e', 'too-deep'), { recursive: true }); // depth 6
  // A pair folder: pair.json + forward/ + backward/ Hugging Face folders.
  const hf = { 'config.json': gpt2Config(2), 'model.safetensors': gpt2Weights(2), 'tokenizer.json': TOKENIZER };
  hfFolder(join(ws, 'pairs', 'gpt2-pair', 'forward'), hf);
  hfFolder(join(ws, 'pairs', 'gpt2-pair', 'backward'), hf);
  writeFileSync(join(ws, 'pairs', 'gpt2-pair', 'pair.json'), JSON.stringify({ format: 'lm-probe-pair', formatVersion: 1, name: 'gpt2 pair', forward: 'forward', backward: 'backward' }));
  // A lone Hugging Face folder (forward only), and a config.json that is no model.
  hfFolder(join(ws, 'hf', 'my-gpt2'), hf);
  hfFolder(join(ws, 'app'), { 'config.json': JSON.stringify({ port: 8080 }) });
  // A symlink loop back to the workspace root.
  symlinkSync(ws, join(ws, 'a', 'loop'));
  return { tmp, hub, ws };
}

const byLabel = (list: DiscoveredModel[], label: string) => {
  const m = list.find((x) => x.label === label);
  assert.ok(m, `no entry "${label}" in ${list.map((x) => x.label).join(', ')}`);
  return m;
};

test('discoverModels lists the bundled pack, the workspace models and the Hugging Face cache', async () => {
  const { tmp, hub, ws } = setup();
  try {
    const t0 = Date.now();
    const list = await discoverModels({ workspaceFolders: [ws], env: { HF_HUB_CACHE: hub }, home: tmp, bundledPackDir: join(FIX, 'tiny-gpt') });
    assert.ok(Date.now() - t0 < 5000, 'the walk is bounded (a symlink loop does not hang it)');
    const labels = list.map((m) => `${m.source}:${m.label}`);

    // bundled first
    assert.equal(list[0].source, 'bundled');
    assert.equal(list[0].kind, 'pack');
    assert.equal(list[0].label, JSON.parse(readFileSync(join(FIX, 'tiny-gpt', 'manifest.json'), 'utf8')).name);

    // workspace: two packs, the pair, the lone HF folder; not node_modules, not past depth 4, not app/config.json
    const wsModels = list.filter((m) => m.source === 'workspace');
    assert.deepEqual(
      wsModels.map((m) => `${m.kind}:${relative(ws, m.path)}`).sort(),
      ['huggingface:hf/my-gpt2', 'pack:models/fw-only', 'pack:models/markov', 'pair:pairs/gpt2-pair'],
      labels.join(', '),
    );
    const markov = wsModels.find((m) => m.path.endsWith('markov'))!;
    assert.equal(markov.hasBackward, true);
    assert.equal(markov.supported, true);
    assert.match(markov.architecture ?? '', /1 layers · width/);
    const fwOnly = wsModels.find((m) => m.path.endsWith('fw-only'))!;
    assert.equal(fwOnly.hasBackward, false, 'markov-forward-int32 has no backward model');
    assert.equal(fwOnly.sizeBytes, statSync(join(FIX, 'markov-forward-int32', 'forward.onnx')).size);
    const pair = byLabel(list, 'gpt2 pair');
    assert.equal(pair.kind, 'pair');
    assert.equal(pair.supported, true, pair.reason);
    assert.equal(pair.hasBackward, true);
    assert.equal(pair.parameters, gpt2Params(2));
    assert.equal(pair.sizeBytes, 2 * gpt2Weights(2).length);
    const lone = byLabel(list, 'my-gpt2');
    assert.equal(lone.kind, 'huggingface');
    assert.equal(lone.hasBackward, false);
    assert.equal(lone.supported, true);

    // Hugging Face cache
    const hfm = list.filter((m) => m.source === 'hf-cache');
    assert.deepEqual(hfm.map((m) => m.label), ['google/bert-tiny', 'lm-probe-test/gpt2-tiny', 'org/no-tokenizer', 'org/partial', 'org/pickle-only', 'org/sharded']);
    const tiny = byLabel(list, 'lm-probe-test/gpt2-tiny');
    assert.equal(tiny.kind, 'huggingface');
    assert.equal(tiny.revision, REV2, 'refs/main names the revision');
    assert.equal(tiny.path, join(hub, 'models--lm-probe-test--gpt2-tiny', 'snapshots', REV2));
    assert.equal(tiny.architecture, 'gpt2 · GPT2LMHeadModel');
    assert.equal(tiny.parameters, gpt2Params(4), 'parameters from the safetensors header of the current revision');
    assert.equal(tiny.sizeBytes, gpt2Weights(4).length, 'size follows the symlink into blobs/');
    assert.equal(tiny.supported, true);
    assert.equal(tiny.hasBackward, false);
    assert.match(describeLine(tiny), /^gpt2 · GPT2LMHeadModel · 1\.2K parameters · < 0\.1 MB$/);

    const bert = byLabel(list, 'google/bert-tiny');
    assert.equal(bert.supported, false);
    assert.match(bert.reason!, /model_type "bert" is not supported; supported: gpt2 \(GPT-2\), gpt_neox/);
    assert.match(byLabel(list, 'org/no-tokenizer').reason!, /no tokenizer\.json.*slow tokenizer/);
    assert.match(byLabel(list, 'org/pickle-only').reason!, /no safetensors.*pytorch_model\.bin is not read/);
    assert.equal(byLabel(list, 'org/pickle-only').sizeBytes, null);
    const sharded = byLabel(list, 'org/sharded');
    assert.equal(sharded.supported, true, sharded.reason);
    assert.equal(sharded.revision, REV1, 'without refs/main: the newest snapshot');
    assert.equal(sharded.parameters, 16 * 8 + 32 * 8, 'parameters summed over the shards');
    const partial = byLabel(list, 'org/partial');
    assert.equal(partial.supported, false);
    assert.match(partial.reason!, /shard model-00002-of-00002\.safetensors missing/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the bundled pack is listed once when the workspace holds it too', async () => {
  const { tmp, ws } = setup();
  try {
    const list = await discoverModels({ workspaceFolders: [ws], env: {}, home: tmp, bundledPackDir: join(ws, 'models', 'markov') });
    const markov = list.filter((m) => m.path.endsWith('markov'));
    assert.equal(markov.length, 1);
    assert.equal(markov[0].source, 'bundled');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the entry budget bounds the workspace walk', async () => {
  const { tmp, ws } = setup();
  try {
    const list = await discoverModels({ workspaceFolders: [ws], env: {}, home: tmp, bundledPackDir: null, maxEntries: 3 });
    assert.ok(list.length <= 1, list.map((m) => m.path).join(', '));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the Hugging Face cache folder: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache', () => {
  const home = '/home/u';
  assert.equal(hfHubCacheDir({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }, home), '/a');
  assert.equal(hfHubCacheDir({ HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }, home), '/b');
  assert.equal(hfHubCacheDir({ HF_HOME: '/c' }, home), '/c/hub');
  assert.equal(hfHubCacheDir({ HF_HOME: '~/hf' }, home), '/home/u/hf/hub');
  assert.equal(hfHubCacheDir({ XDG_CACHE_HOME: '/x' }, home), '/x/huggingface/hub');
  assert.equal(hfHubCacheDir({}, home), '/home/u/.cache/huggingface/hub');
  assert.equal(hfHubCacheDir({ HF_HUB_CACHE: '  ' }, home), '/home/u/.cache/huggingface/hub');
});

test('an empty or missing Hugging Face cache and no workspace give only the bundled pack', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lm-probe-discover-'));
  try {
    const list = await discoverModels({ workspaceFolders: [], env: { HF_HOME: join(tmp, 'nope') }, home: tmp, bundledPackDir: join(FIX, 'markov-pack') });
    assert.deepEqual(list.map((m) => m.source), ['bundled']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('describeModel: a browsed folder or pair file', async () => {
  const { tmp, ws, hub } = setup();
  try {
    assert.equal((await describeModel(join(ws, 'models', 'fw-only')))?.kind, 'pack');
    const pairDir = await describeModel(join(ws, 'pairs', 'gpt2-pair'));
    assert.equal(pairDir?.kind, 'pair');
    assert.equal(pairDir?.path, join(ws, 'pairs', 'gpt2-pair'));
    // a pair JSON file with another name: its path is the file
    writeFileSync(join(ws, 'pairs', 'other.json'), JSON.stringify({ format: 'lm-probe-pair', formatVersion: 1, name: 'other', forward: 'gpt2-pair/forward', backward: 'missing' }));
    const other = await describeModel(join(ws, 'pairs', 'other.json'));
    assert.equal(other?.path, join(ws, 'pairs', 'other.json'));
    assert.equal(other?.supported, false);
    assert.match(other!.reason!, /backward folder missing is missing/);
    assert.equal((await describeModel(join(ws, 'hf', 'my-gpt2')))?.kind, 'huggingface');
    assert.equal(await describeModel(join(ws, 'a')), null, 'a folder that is no model');
    assert.equal(await describeModel(join(tmp, 'nothing-here')), null);
    const snap = await describeModel(join(hub, 'models--google--bert-tiny', 'snapshots', REV1));
    assert.equal(snap?.supported, false);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('parameters come from the safetensors header alone (a sparse 3 GB file is not read)', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lm-probe-discover-'));
  try {
    const header = Buffer.from(JSON.stringify({ big: { dtype: 'F16', shape: [50_000, 30_000], data_offsets: [0, 3e9] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const p = join(tmp, 'model.safetensors');
    writeFileSync(p, Buffer.concat([len, header]));
    const fd = openSync(p, 'r+');
    ftruncateSync(fd, 8 + header.length + 3e9);
    closeSync(fd);
    utimesSync(p, new Date(), new Date());
    const t0 = Date.now();
    assert.equal(await safetensorsParameters(p), 1.5e9);
    assert.ok(Date.now() - t0 < 1000);
    writeFileSync(join(tmp, 'config.json'), gpt2Config(1));
    writeFileSync(join(tmp, 'tokenizer.json'), TOKENIZER);
    const m = await describeModel(tmp);
    assert.equal(m?.parameters, 1.5e9);
    assert.equal(describeLine(m!), 'gpt2 · GPT2LMHeadModel · 1.5B parameters · 3.0 GB');
    // a truncated or non-safetensors file: unknown, not an error
    writeFileSync(p, 'not safetensors');
    assert.equal(await safetensorsParameters(p), null);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('formatParameters and formatSize', () => {
  assert.deepEqual([999, 1234, 124_439_808, 7_241_732_096, 12_500_000].map(formatParameters), ['999', '1.2K', '124M', '7.2B', '13M']);
  assert.deepEqual([2_000, 80_000, 23_400_000, 497_800_000, 1_520_000_000].map(formatSize), ['< 0.1 MB', '0.1 MB', '23 MB', '498 MB', '1.5 GB']);
});
