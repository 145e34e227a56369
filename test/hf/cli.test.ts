// Hugging Face models from the command line as a user runs it (node dist/cli.js, built by npm test):
// a model in the local Hugging Face cache (snapshot files are symlinks into blobs/) is listed by
// `lm-probe models` and probed by path; an unsupported one is listed with the reason and refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeResult } from '../../src/engine/schema';
import type { DiscoveredModel } from '../../src/engine/models/discover';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const home = mkdtempSync(join(tmpdir(), 'lm-probe-hfhome-'));
const env = { ...process.env, HF_HOME: home, HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: '', LM_PROBE_CACHE_DIR: join(home, 'lm-probe-cache') };

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000, cwd: ROOT, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** models--org--name/{blobs/<sha256>, snapshots/<rev>/<file> -> ../../blobs/<sha256>, refs/main}, as huggingface_hub writes it. */
function cacheModel(repo: string, from: string, patch?: (name: string, bytes: Buffer) => Buffer): string {
  const base = join(home, 'hub', `models--${repo.replace('/', '--')}`);
  const rev = 'a'.repeat(40);
  mkdirSync(join(base, 'blobs'), { recursive: true });
  mkdirSync(join(base, 'snapshots', rev), { recursive: true });
  mkdirSync(join(base, 'refs'), { recursive: true });
  writeFileSync(join(base, 'refs', 'main'), rev);
  for (const f of readdirSync(from).filter((n) => n !== 'reference.json')) {
    const bytes = patch ? patch(f, readFileSync(join(from, f))) : readFileSync(join(from, f));
    const sha = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(base, 'blobs', sha), bytes);
    symlinkSync(join('..', '..', 'blobs', sha), join(base, 'snapshots', rev, f));
  }
  return join(base, 'snapshots', rev);
}

const llama = cacheModel('tiny-org/llama-gqa', join(ROOT, 'test', 'fixtures', 'hf', 'llama-gqa'));
cacheModel('tiny-org/bert-like', join(ROOT, 'test', 'fixtures', 'hf', 'gpt2-tiny'), (name, b) =>
  name === 'config.json' ? Buffer.from(JSON.stringify({ ...JSON.parse(b.toString('utf8')), model_type: 'bert', architectures: ['BertModel'] })) : b,
);

test('lm-probe models lists the Hugging Face cache with architecture and parameters, and marks what it cannot run', () => {
  const r = cli(['models', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const models = JSON.parse(r.stdout) as DiscoveredModel[];
  const l = models.find((m) => m.label === 'tiny-org/llama-gqa');
  assert.ok(l, r.stdout);
  assert.equal(l.supported, true);
  assert.equal(l.source, 'hf-cache');
  assert.match(l.architecture!, /llama/);
  assert.ok(l.parameters! > 1000);
  const b = models.find((m) => m.label === 'tiny-org/bert-like');
  assert.equal(b?.supported, false);
  assert.match(b!.reason!, /bert/);
  assert.ok(models.some((m) => m.source === 'bundled'));
});

test('probe --model <snapshot>: a cached Llama folder probes forward only, with exact offsets', () => {
  const text = 'Grüße 👋🏽 from a tiny Llama,\r\nwith CJK 中文 and e\u0301.';
  const r = cli(['probe', '--model', llama, '--json', '--text', text]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ProbeResult;
  assert.equal(res.pack.name, 'tiny-org/llama-gqa');
  assert.equal(res.pack.hasBackward, false);
  assert.equal(res.summary.backward, null);
  assert.equal(res.summary.delta, null);
  let at = 0;
  for (const t of res.tokens) {
    assert.ok(t.start <= at && t.end >= at, 'tokens cover the text in order');
    assert.equal(t.backward, null);
    assert.ok(Number.isFinite(t.forward.surprisalBits) && t.forward.rank >= 1 && t.forward.top.length === 5);
    at = Math.max(at, t.end);
  }
  assert.equal(at, text.length);
  const again = cli(['probe', '--model', llama, '--json', '--text', text]);
  assert.deepEqual((JSON.parse(again.stdout) as ProbeResult).tokens, res.tokens, 'the cached graph gives the same result');
});

test('probe --model on an unsupported architecture: exit 4, one line naming it and the supported ones', () => {
  const bert = join(home, 'hub', 'models--tiny-org--bert-like', 'snapshots', 'a'.repeat(40));
  const r = cli(['probe', '--model', bert, '--text', 'hello']);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /model_type "bert" \(BertModel\) is not one LM Probe builds a graph for; supported: gpt2 \(GPT-2\), gpt_neox/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('a cache blob is linked beside its graph, not copied, and never hashed again (its name is its sha256)', () => {
  const graphs = join(env.LM_PROBE_CACHE_DIR, 'graphs');
  const dirs = readdirSync(graphs);
  assert.equal(dirs.length, 1, 'one model probed, one graph folder');
  assert.equal(statSync(join(graphs, dirs[0], 'w0.safetensors')).nlink, 2, 'a hard link to the blob');
  assert.equal(existsSync(join(env.LM_PROBE_CACHE_DIR, 'weight-hashes.json')), false, 'no file was hashed');
});
