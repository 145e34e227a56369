// models/export_hf.py (docs/export-hf.md), tested without transformers:
//  - the command line: --help, and the error when transformers is missing;
//  - the tokenizer checks (slow-only, non-BPE, BPE that is neither byte-level nor byte-fallback, two different vocabularies);
//  - with a Python that has torch (e.g. Debian's python3-torch at /usr/bin/python3, or LM_PROBE_PYTHON):
//    the wrapper, graph export, head and manifest code, run on a TEST DOUBLE: a tiny torch module with
//    the interface of a transformers CausalLM, defined below. It is not a supported model; real
//    Hugging Face models are not exported here. The packs it writes are loaded with loadPack and run
//    with onnxruntime-node against the double's torch outputs. export_hf's own onnxruntime check is
//    exercised through a stand-in `onnxruntime` Python module that runs the graphs with onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadPack } from '../../src/engine/pack';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'models', 'export_hf.py');
const CANDIDATES = [process.env.LM_PROBE_PYTHON, '/usr/bin/python3', 'python3', 'python'].filter((p): p is string => !!p);

function runs(py: string, code: string): boolean {
  const r = spawnSync(py, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0;
}
const PY = CANDIDATES.find((p) => runs(p, 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)'));
const PY_TORCH = CANDIDATES.find((p) => runs(p, 'import torch, numpy'));
const noPython = PY ? false : 'no python3 found';
const noTorch = PY_TORCH ? false : 'no python3 with torch and numpy (apt-get install python3-torch, or set LM_PROBE_PYTHON)';

function py(python: string, args: string[], timeout = 120_000) {
  return spawnSync(python, args, { encoding: 'utf8', cwd: ROOT, timeout, maxBuffer: 1 << 28, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
}

test('export_hf.py --help runs without torch or transformers', { skip: noPython }, () => {
  const r = py(PY!, [SCRIPT, '--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const s of ['MODEL_ID_OR_FOLDER', '--out', '--backward', '--context', '--dtype']) assert.match(r.stdout, new RegExp(s));
});

test('export_hf.py says what to pip install when transformers is missing', { skip: noPython }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-hf-'));
  try {
    // transformers is made unimportable (sys.modules entry None), whatever this Python has installed
    const code =
      "import sys; sys.modules['transformers'] = None; sys.path.insert(0, 'models'); import export_hf; " +
      `sys.exit(export_hf.main(['EleutherAI/pythia-160m-deduped', '--out', ${JSON.stringify(join(dir, 'pack'))}]))`;
    const r = py(PY!, ['-c', code]);
    assert.equal(r.status, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /export_hf: error: missing Python package.*transformers/);
    assert.match(r.stderr, /pip install torch transformers onnx onnxruntime/);
    assert.equal(existsSync(join(dir, 'pack')), false, 'nothing is written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const TOKENIZER_CHECKS = String.raw`
import copy, json, os, sys, types
sys.path.insert(0, 'models')
import export_hf
base = json.load(open('models/default/tokenizer.json', encoding='utf-8'))

class Tok:  # stands in for a transformers tokenizer
    def __init__(self, j, fast=True, bos=None, eos=None):
        self.is_fast, self.bos_token, self.eos_token = fast, bos, eos
        self.backend_tokenizer = types.SimpleNamespace(save=lambda p: json.dump(j, open(p, 'w', encoding='utf-8')))
    def encode(self, text, add_special_tokens=False): return [5, 6]

def outcome(f):
    try:
        return {'ok': f()}
    except export_hf.ExportError as e:
        return {'error': str(e)}

spm = {'model': {'type': 'BPE', 'vocab': {'\u2581the': 0, '<0x41>': 1, 'a': 2}, 'merges': []}, 'added_tokens': []}
fallback = {'model': {'type': 'BPE', 'byte_fallback': True, 'vocab': {'<0x41>': 0, 'a': 1}, 'merges': []}, 'added_tokens': []}
padded = copy.deepcopy(base); padded['truncation'] = {'max_length': 8}; padded['padding'] = {'length': 8}
other = copy.deepcopy(base); other['model']['vocab'] = {('X' if i == 7 else t): i for t, i in base['model']['vocab'].items()}
def padded_case():
    j = export_hf.tokenizer_json(Tok(padded), 'padded')
    return [j['truncation'], j['padding'], export_hf.pick_bos(Tok(padded, eos='<|bos|>'), j, 'padded')]
never = lambda: (_ for _ in ()).throw(AssertionError('a model was loaded'))
res = {
    'slow': outcome(lambda: export_hf.tokenizer_json(Tok(base, fast=False), 'slow/model')),
    'unigram': outcome(lambda: export_hf.tokenizer_json(Tok({'model': {'type': 'Unigram', 'vocab': []}}), 'uni/model')),
    'spm': outcome(lambda: export_hf.tokenizer_json(Tok(spm), 'spm/model')),
    'fallback': outcome(lambda: export_hf.tokenizer_json(Tok(fallback), 'fallback/model')),
    'padded': outcome(padded_case),
    'nobos': outcome(lambda: export_hf.pick_bos(Tok(base), base, 'nobos/model')),
    'differ': outcome(lambda: export_hf.export_pack(sys.argv[1], export_hf.Source('fw/model', Tok(base, bos='<|bos|>'), never),
                                                    export_hf.Source('bw/model', Tok(other, bos='<|bos|>'), never))),
}
print(json.dumps(res))
`;

test('export_hf.py refuses tokenizers LM Probe cannot read, and two different vocabularies', { skip: noPython }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-hf-'));
  try {
    const r = py(PY!, ['-c', TOKENIZER_CHECKS, join(dir, 'pack')]);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { ok?: unknown; error?: string }>;
    assert.match(res.slow.error!, /slow \(Python\) tokenizer/);
    assert.match(res.unigram.error!, /'Unigram' tokenizer; LM Probe reads BPE tokenizers only/);
    assert.match(res.spm.error!, /BPE but neither byte-level nor byte-fallback \(1 of 3 tokens use characters outside the GPT-2 byte alphabet, e\.g\. \['\u2581the'\]/);
    assert.ok(res.fallback.ok, 'a SentencePiece-style tokenizer with byte fallback is exported');
    assert.deepEqual(res.padded.ok, [null, null, ['<|bos|>', 0]], 'truncation and padding dropped; eos used as BOS');
    assert.match(res.nobos.error!, /neither a bos_token nor an eos_token/);
    assert.match(res.differ.error!, /the two tokenizers differ/);
    assert.equal(existsSync(join(dir, 'pack')), false, 'nothing is written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// TEST DOUBLE ONLY (see the header): a transformers-CausalLM-shaped torch module, not a supported model.
const DRIVER = String.raw`
import json, math, os, shutil, subprocess, sys, types
import numpy as np
import torch
from torch import nn

ROOT, BASE, NODE_BIN = sys.argv[1:4]
VARIANTS = sys.argv[4:]
sys.path.insert(0, os.path.join(ROOT, 'models'))
import export_hf

class Cfg:
    model_type = 'lmprobe_test_double'
    num_hidden_layers = 2
    num_attention_heads = 2
    hidden_size = 16
    vocab_size = 4096
    max_position_embeddings = 64
    use_cache = True
    final_logit_softcapping = None

class Block(nn.Module):
    def __init__(s, d, h, baked):
        super().__init__()
        s.h, s.baked = h, baked
        s.ln1, s.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.qkv, s.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        s.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
    def forward(s, x):
        B, T, D = x.shape
        if s.baked:
            T = int(T)  # bakes the traced length into the graph, as a badly traceable model would
        q, k, v = s.qkv(s.ln1(x)).split(D, dim=2)
        q, k, v = (t.view(B, T, s.h, D // s.h).transpose(1, 2) for t in (q, k, v))
        a = q @ k.transpose(-1, -2) / math.sqrt(D // s.h)
        p = a.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float('-inf')).softmax(-1)
        x = x + s.proj((p @ v).transpose(1, 2).reshape(B, T, D))
        return x + s.mlp(s.ln2(x)), p

class Base(nn.Module):
    def __init__(s, c, norm_name, baked):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(c.vocab_size, c.hidden_size), nn.Embedding(c.max_position_embeddings, c.hidden_size)
        s.h = nn.ModuleList(Block(c.hidden_size, c.num_attention_heads, baked) for _ in range(c.num_hidden_layers))
        s.norm_name = norm_name
        setattr(s, norm_name, nn.LayerNorm(c.hidden_size))

class TestDoubleCausalLM(nn.Module):
    base_model_prefix = 'transformer'
    def __init__(s, seed, norm_name='ln_f', softcap=None, baked=False):
        super().__init__()
        torch.manual_seed(seed)
        s.config = Cfg()
        s.config.final_logit_softcapping = softcap
        s.transformer = Base(s.config, norm_name, baked)
        s.lm_head = nn.Linear(s.config.hidden_size, s.config.vocab_size, bias=False)
        s.lm_head.weight = s.transformer.wte.weight
        for p in s.parameters():
            nn.init.normal_(p, std=0.5)
    def get_input_embeddings(s): return s.transformer.wte
    def get_output_embeddings(s): return s.lm_head
    def forward(s, input_ids=None, output_hidden_states=False, output_attentions=False, use_cache=None, return_dict=True):
        t = s.transformer
        x = t.wte(input_ids) + t.wpe(torch.arange(input_ids.shape[1]))
        hs, att = [], []
        for b in t.h:
            hs.append(x)
            x, p = b(x)
            att.append(p)
        x = getattr(t, t.norm_name)(x)
        hs.append(x)  # like transformers: the last entry is after the final norm
        z = s.lm_head(x)
        if s.config.final_logit_softcapping:
            z = torch.tanh(z / s.config.final_logit_softcapping) * s.config.final_logit_softcapping
        return types.SimpleNamespace(logits=z, hidden_states=tuple(hs) if output_hidden_states else None,
                                     attentions=tuple(att) if output_attentions else None)

class TestDoubleTokenizer:
    """Stands in for a transformers fast tokenizer: saves models/default/tokenizer.json; encode() is canned."""
    is_fast, bos_token, eos_token = True, '<|bos|>', None
    def __init__(s, path): s.backend_tokenizer = types.SimpleNamespace(save=lambda p: shutil.copyfile(path, p))
    def encode(s, text, add_special_tokens=False): return [17, 300, 4095, 9, 1200, 77, 5, 41, 2048]

# Stand-in for the onnxruntime Python module: runs the graph with onnxruntime-node.
NODE = """
const ort = require('onnxruntime-node');
const q = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  const s = await ort.InferenceSession.create(q.path, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const feeds = {};
  for (const [k, v] of Object.entries(q.feeds)) feeds[k] = v.type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(v.data.map(BigInt)), v.dims) : new ort.Tensor('float32', Float32Array.from(v.data), v.dims);
  const r = await s.run(feeds, q.names);
  const out = {};
  for (const n of q.names) out[n] = { dims: r[n].dims, data: Array.from(r[n].data) };
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e.message)); process.exit(1); });
"""
class InferenceSession:
    def __init__(self, path, providers=None): self.path = path
    def run(self, names, feeds):
        q = {'path': self.path, 'names': names, 'feeds': {k: {'type': 'int64' if v.dtype == np.int64 else 'float32',
             'dims': list(v.shape), 'data': v.ravel().tolist()} for k, v in feeds.items()}}
        r = subprocess.run([NODE_BIN, '-e', NODE], input=json.dumps(q), capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        o = json.loads(r.stdout)
        return [np.array(o[n]['data'], dtype=np.float32).reshape(o[n]['dims']) for n in names]

tok = TestDoubleTokenizer(os.path.join(ROOT, 'models', 'default', 'tokenizer.json'))
results = {}
for v in VARIANTS:
    out = os.path.join(BASE, v)
    if v in ('verify', 'baked'):
        sys.modules['onnxruntime'] = types.SimpleNamespace(InferenceSession=InferenceSession)
    export_hf.EXTERNAL_DATA_BYTES = 0 if v == 'external' else int(1.5e9)  # 'external': weights in PATH.data
    if v == 'external':
        try:
            import onnx  # noqa: F401
        except ImportError:
            results[v] = {'skipped': 'no onnx package'}
            continue
    kw = {'nonorm': {'norm_name': 'weird_norm'}, 'softcap': {'softcap': 3.0}, 'baked': {'baked': True}}.get(v, {})
    fw, bw = TestDoubleCausalLM(1, **kw), TestDoubleCausalLM(2, **kw)
    try:
        m = export_hf.export_pack(out, export_hf.Source('test-double/fw', tok, lambda: fw),
                                  export_hf.Source('test-double/bw', tok, lambda: bw), context=32, max_positions=64)
        results[v] = {'manifest': m}
    except export_hf.ExportError as e:
        results[v] = {'error': str(e)}
        continue
    finally:
        sys.modules.pop('onnxruntime', None)
    # torch outputs of the double on a shape unlike the trace's (2x8), for the node side
    ids = np.random.default_rng(5).integers(1, 4096, (2, 11)).astype(np.int64)
    ids[:, 0] = 0
    ref = {'inputIds': ids.tolist()}
    with torch.no_grad():
        for name, model in (('forward', fw), ('backward', bw)):
            info = export_hf.inspect_model(model, name, torch.from_numpy(ids[:1, :6]))
            norm = export_hf.get_path(model, info['norm_path']) if info['pre_norm'] else None
            lo, hi, at = export_hf.make_pack_graph(model, norm, info['pre_norm'])(torch.from_numpy(ids))
            ref[name] = {'logits': lo.flatten().tolist(), 'hidden': hi.flatten().tolist(), 'attentions': at.flatten().tolist(),
                         'postNormLast': model(torch.from_numpy(ids), output_hidden_states=True).hidden_states[-1].flatten().tolist()}
    with open(os.path.join(out, 'reference.json'), 'w') as f:
        json.dump(ref, f)
with open(os.path.join(BASE, 'results.json'), 'w') as f:
    json.dump(results, f)
`;

interface Ref {
  inputIds: number[][];
  forward: { logits: number[]; hidden: number[]; attentions: number[]; postNormLast: number[] };
  backward: { logits: number[]; hidden: number[]; attentions: number[]; postNormLast: number[] };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
const scale = (a: ArrayLike<number>) => Math.max(1, ...Array.from(a, Math.abs));

test('export_hf.py on a torch test double: packs that LM Probe loads, with graphs that match torch', { skip: noTorch }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'export-hf-'));
  try {
    const variants = ['plain', 'nonorm', 'softcap', 'verify', 'baked', 'external'];
    const r = py(PY_TORCH!, ['-c', DRIVER, ROOT, base, process.execPath, ...variants], 600_000);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const log = r.stdout;
    const results = JSON.parse(readFileSync(join(base, 'results.json'), 'utf8')) as Record<string, { manifest?: Record<string, unknown>; error?: string; skipped?: string }>;

    // a graph that only works at the traced length is caught by the onnxruntime check; no manifest then
    assert.match(results.baked.error ?? '', /onnxruntime fails on input_ids of shape \(1, 10\) \(the trace used 2x8\): .*Reshape.*No manifest\.json was written/);
    assert.ok(!results.baked.error!.includes('\u001b'), 'terminal colour codes are stripped');
    assert.equal(existsSync(join(base, 'baked', 'manifest.json')), false);
    // the check itself ran and printed its differences
    assert.match(log, /test-double\/fw: onnxruntime vs transformers on inputs 1x10, 3x13: max abs diff logits [0-9.e+-]+, hidden_states .*head\(hidden_states\[L\]\) vs logits/);

    const checked = ['plain', 'nonorm', 'softcap', 'verify', ...(results.external.skipped ? [] : ['external'])];
    for (const v of checked) {
      const dir = join(base, v);
      if (v === 'external') {
        for (const f of ['forward.onnx', 'backward.onnx', 'head.onnx']) {
          assert.ok(statSync(join(dir, f + '.data')).size >= 4096 * 16 * 4, `${f}.data holds the weights`);
          assert.ok(statSync(join(dir, f)).size < 200_000, `${f} holds only the graph`);
        }
      }
      assert.ok(results[v].manifest, `${v}: ${results[v].error}`);
      const pack = loadPack(dir);
      const m = pack.manifest;
      assert.deepEqual(m.architecture, { layers: 2, heads: 2, width: 16, vocabSize: 4096 });
      assert.equal(m.contextLength, 32);
      assert.deepEqual(m.bos, { id: 0, token: '<|bos|>' });
      assert.equal(m.name, 'fw');
      assert.equal(pack.info.hasBackward, true);
      assert.equal(pack.tokenizer.tokenId('<|bos|>'), 0);
      const withHead = v !== 'nonorm';
      assert.equal(m.head, withHead ? 'head.onnx' : undefined, `${v}: head`);
      assert.match(m.description!, withHead ? /before the final norm/ : /after the final norm/);

      const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Ref;
      const B = ref.inputIds.length;
      const T = ref.inputIds[0].length;
      const [L, H, D, V] = [2, 2, 16, 4096];
      for (const direction of ['forward', 'backward'] as const) {
        const s = await ort.InferenceSession.create(join(dir, m[direction]!), { executionProviders: ['cpu'], logSeverityLevel: 3 });
        const out = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ref.inputIds.flat().map(BigInt)), [B, T]) });
        assert.deepEqual(out.logits.dims, [B, T, V]);
        assert.deepEqual(out.hidden_states.dims, [L + 1, B, T, D]);
        assert.deepEqual(out.attentions.dims, [L, B, H, T, T]);
        const want = ref[direction];
        const lg = out.logits.data as Float32Array;
        const hd = out.hidden_states.data as Float32Array;
        const at = out.attentions.data as Float32Array;
        assert.ok(maxAbsDiff(lg, want.logits) < 1e-4 * scale(want.logits), `${v} ${direction} logits`);
        assert.ok(maxAbsDiff(hd, want.hidden) < 1e-4 * scale(want.hidden), `${v} ${direction} hidden_states`);
        assert.ok(maxAbsDiff(at, want.attentions) < 1e-5, `${v} ${direction} attentions`);
        for (let row = 0; row < L * B * H * T; row++) {
          const q = row % T;
          let sum = 0;
          for (let k = 0; k < T; k++) {
            if (k > q) assert.equal(at[row * T + k], 0, 'attention to a later position');
            sum += at[row * T + k];
          }
          assert.ok(Math.abs(sum - 1) < 1e-5, `attention row sums to ${sum}`);
        }
        // hidden_states[L]: before the final norm when the norm was found, else transformers' own (after it)
        const last = hd.slice(L * B * T * D);
        const dPost = maxAbsDiff(last, want.postNormLast);
        if (withHead) assert.ok(dPost > 1e-2, `${v}: hidden_states[L] should not be the post-norm state`);
        else assert.ok(dPost < 1e-4 * scale(want.postNormLast), `${v}: hidden_states[L] should be transformers' last state`);
        await s.release();

        if (direction === 'forward' && withHead) {
          const head: ort.InferenceSession = await ort.InferenceSession.create(join(dir, m.head!), { executionProviders: ['cpu'], logSeverityLevel: 3 });
          const z: ort.Tensor = (await head.run({ hidden: new ort.Tensor('float32', last, [B * T, D]) })).logits;
          assert.deepEqual(z.dims, [B * T, V]);
          const d = maxAbsDiff(z.data as Float32Array, lg);
          assert.ok(d < 1e-4 * scale(lg), `${v}: head(hidden_states[L]) vs logits: ${d}`);
          await head.release();
        }
      }
    }
    assert.match(log, /head\.onnx NOT written: the final norm was not found/);
    assert.match(log, /tokenizers: test-double\/bw has the same vocabulary as test-double\/fw \(4096 ids\)/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
