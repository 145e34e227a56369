// Hostile and broken Hugging Face folders: every refusal is a ProbeError that names the file, the
// tensor or the config field, and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHeader, readWeights } from '../../src/engine/hf/safetensors';
import { loadHfModel } from '../../src/engine/hf/source';
import { openModel } from '../../src/engine/modelSource';

process.env.LM_PROBE_CACHE_DIR = mkdtempSync(join(tmpdir(), 'lm-probe-cache-'));
const FIX = join(__dirname, '..', 'fixtures', 'hf');
const tmp = mkdtempSync(join(tmpdir(), 'lm-probe-hf-'));

function safetensors(header: unknown, dataBytes: number, rawHeader?: string): Buffer {
  const h = Buffer.from(rawHeader ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

function file(name: string, buf: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, buf);
  return p;
}

const refuses = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: Error & { code?: string }) => {
    assert.equal(e.name, 'ProbeError');
    assert.match(e.message, re);
    return true;
  });

test('safetensors headers: a good one is read with absolute offsets', () => {
  const p = file('good.safetensors', safetensors({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, b: { dtype: 'BF16', shape: [4], data_offsets: [24, 32] } }, 32));
  const h = readHeader(p);
  const hlen = readFileSync(p).readBigUInt64LE(0);
  assert.deepEqual(h.get('a')!.shape, [2, 3]);
  assert.equal(h.get('a')!.offset, 8 + Number(hlen));
  assert.equal(h.get('b')!.offset, 8 + Number(hlen) + 24);
  assert.equal(h.get('b')!.byteLength, 8);
});

test('safetensors headers: truncated, oversized, not JSON, bad dtype/shape/offsets, overlap', () => {
  refuses(() => readHeader(file('short', Buffer.alloc(5))), /shorter than the 8-byte header length/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1n << 40n);
  refuses(() => readHeader(file('huge', huge)), /header length .* past the end/);
  refuses(() => readHeader(file('notjson', safetensors(null, 0, '{"a": '))), /not valid JSON/);
  refuses(() => readHeader(file('array', safetensors([1, 2], 0))), /not a JSON object/);
  refuses(() => readHeader(file('dtype', safetensors({ a: { dtype: 'F7', shape: [1], data_offsets: [0, 4] } }, 4))), /tensor "a": unknown dtype "F7"/);
  refuses(() => readHeader(file('shape', safetensors({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4))), /shape must be a list of non-negative integers/);
  refuses(() => readHeader(file('backwards', safetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4))), /data_offsets must be \[begin, end\]/);
  refuses(() => readHeader(file('past', safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8))), /run past the end of the data .* truncated/);
  refuses(() => readHeader(file('size', safetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8))), /8 bytes of data for shape \[3\] of F32 \(12 expected\)/);
  refuses(
    () => readHeader(file('overlap', safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12))),
    /tensors "a" and "b" overlap/,
  );
});

function copyFixture(name: string, to: string): string {
  const d = join(tmp, to);
  rmSync(d, { recursive: true, force: true });
  cpSync(join(FIX, name), d, { recursive: true });
  return d;
}

test('sharded index: a shard outside the folder, a missing shard, a tensor mapped to the wrong shard', () => {
  const d = copyFixture('neox-seq-bf16', 'shards');
  const index = JSON.parse(readFileSync(join(d, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  const write = (m: Record<string, string>) => writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: m }));
  assert.equal(readWeights(d).files.length, 2);
  const [k] = Object.keys(index.weight_map);
  write({ ...index.weight_map, [k]: '../outside.safetensors' });
  refuses(() => readWeights(d), /expected a \.safetensors file inside the model folder/);
  write({ ...index.weight_map, [k]: 'model-00009-of-00009.safetensors' });
  refuses(() => readWeights(d), /shard model-00009-of-00009\.safetensors is missing/);
  const other = Object.values(index.weight_map).find((f) => f !== index.weight_map[k])!;
  write({ ...index.weight_map, [k]: other });
  refuses(() => readWeights(d), new RegExp(`tensor "${k.replace(/\./g, '\\.')}" is mapped to .* but`));
});

test('a folder with only pytorch_model.bin is refused: pickles are never read', () => {
  const d = join(tmp, 'pickle');
  mkdirSync(d, { recursive: true });
  copyFileSync(join(FIX, 'gpt2-tiny', 'config.json'), join(d, 'config.json'));
  copyFileSync(join(FIX, 'gpt2-tiny', 'tokenizer.json'), join(d, 'tokenizer.json'));
  writeFileSync(join(d, 'pytorch_model.bin'), 'not read');
  return assert.rejects(loadHfModel(d), /pytorch_model\.bin is not read .* convert it to safetensors/);
});

test('config.json: unsupported model_type names the supported ones; wrong sizes name the weight', async () => {
  const d = copyFixture('gpt2-tiny', 'cfg');
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
  const put = (c: Record<string, unknown>) => writeFileSync(join(d, 'config.json'), JSON.stringify(c));
  put({ ...cfg, model_type: 'bert', architectures: ['BertForMaskedLM'] });
  await assert.rejects(loadHfModel(d), /model_type "bert" \(BertForMaskedLM\) is not one LM Probe builds a graph for; supported: gpt2 .*gpt_neox .*llama/);
  put({ ...cfg, n_embd: 64 });
  await assert.rejects(loadHfModel(d), /weight "transformer\.h\.0\.ln_1\.weight" has shape \[\d+\], expected \[64\] from config\.json/);
  put({ ...cfg, n_layer: 'two' });
  await assert.rejects(loadHfModel(d), /config\.json field "n_layer": expected a positive integer, got "two"/);
  put({ ...cfg, n_layer: 9 });
  await assert.rejects(loadHfModel(d), /weight "transformer\.h\.2\.ln_1\.weight" is missing/);
  writeFileSync(join(d, 'config.json'), '{ not json');
  await assert.rejects(loadHfModel(d), /config\.json is not valid JSON/);
  put(cfg);
  rmSync(join(d, 'tokenizer.json'));
  await assert.rejects(loadHfModel(d), /tokenizer\.json is missing/);
});

test('llama: a rope scaling LM Probe does not implement is refused by name', async () => {
  const d = copyFixture('llama-gqa', 'yarn');
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4 } }));
  await assert.rejects(loadHfModel(d), /rope_scaling .*"yarn".*supports rope scaling "linear" and "llama3" only/);
});

test('pair.json: bad format, a missing folder, tokenizers that differ, a context past the positions', async () => {
  const p = join(tmp, 'pair');
  mkdirSync(p, { recursive: true });
  copyFixture('gpt2-tiny', 'pair/fw');
  copyFixture('gpt2-tiny', 'pair/bw');
  const put = (j: unknown) => writeFileSync(join(p, 'pair.json'), JSON.stringify(j));
  put({ format: 'lm-probe-pair', formatVersion: 1, forward: 'fw', backward: 'bw' });
  const ok = await openModel(p);
  assert.equal(ok.info.hasBackward, true);
  put({ format: 'lm-probe-pair', formatVersion: 2, forward: 'fw' });
  await assert.rejects(openModel(p), /field "formatVersion": expected 1/);
  put({ format: 'lm-probe-pair', formatVersion: 1, forward: 'nowhere' });
  await assert.rejects(openModel(p), /no such folder/);
  put({ format: 'lm-probe-pair', formatVersion: 1, forward: 'fw', contextLength: 100000 });
  await assert.rejects(openModel(p), /field "contextLength": expected an integer from 2 to \d+/);
  const tok = JSON.parse(readFileSync(join(p, 'bw', 'tokenizer.json'), 'utf8')) as { model: { merges: unknown[] } };
  tok.model.merges = tok.model.merges.slice(1);
  writeFileSync(join(p, 'bw', 'tokenizer.json'), JSON.stringify(tok));
  put({ format: 'lm-probe-pair', formatVersion: 1, forward: 'fw', backward: 'bw' });
  await assert.rejects(openModel(p), /tokenizers differ: a pair must share one tokenizer/);
});

test('a model too large for this machine is refused with its size and the memory it needs', async () => {
  const d = copyFixture('gpt2-tiny', 'huge');
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
  const st = readFileSync(join(d, 'model.safetensors'));
  const n = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[]; data_offsets: number[] }>;
  const data = st.subarray(8 + n);
  // The embedding of a 2^31-token vocabulary (128 GB of F32) at the end of a sparse file: no disk used.
  const V = 2 ** 31;
  const wte = header['transformer.wte.weight'];
  const D = wte.shape[1];
  wte.shape = [V, D];
  wte.data_offsets = [data.length, data.length + V * D * 4];
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const path = join(d, 'model.safetensors');
  writeFileSync(path, Buffer.concat([len, h, data]));
  truncateSync(path, 8 + h.length + wte.data_offsets[1]);
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, vocab_size: V }));
  await assert.rejects(loadHfModel(d), /\d+\.\d\dB parameters need about \d+\.\d GB of memory in float32 on the CPU, and this machine has/);
  rmSync(d, { recursive: true, force: true });
});
