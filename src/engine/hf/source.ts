// A Hugging Face model folder as a model source: config.json + safetensors + tokenizer.json in,
// the same LoadedPack as a model pack out (graphs built by decoder.ts, cached by graphCache.ts).
// A pair (pair.json) names a forward and a backward folder that share a tokenizer.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ProbeError } from '../errors';
import type { LoadedPack, PackManifest } from '../pack';
import { PackTokenizer } from '../tokenizer';
import type { PackInfo } from '../schema';
import { decoderSpec, type DecoderSpec } from './architectures';
import { buildForward, buildHead, GRAPH_NAMES } from './decoder';
import { cachedGraphs, type CachedGraphs } from './graphCache';
import { readWeights, type WeightSet } from './safetensors';
import { STAT_NAMES } from './statistics';

/**
 * LM Probe's windows for a Hugging Face model: at most this many positions unless a pair.json says
 * otherwise. Longer windows cost quadratic attention memory in the analyses (a 12-layer, 12-head
 * model's attentions at 1,024 positions are 600 MB) for little gain in surprisal.
 */
export const HF_DEFAULT_CONTEXT = 512;

export interface HfModel {
  dir: string;
  name: string;
  spec: DecoderSpec;
  graphs: CachedGraphs;
  tokenizer: PackTokenizer;
  tokenizerFile: string;
  buildMs: number;
}

function readJson(path: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProbeError('BAD_PACK', `${what}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProbeError('BAD_PACK', `${what}: ${path}: expected a JSON object`);
  return v as Record<string, unknown>;
}

/** "org/name" for a folder inside a Hugging Face cache (models--org--name/snapshots/rev), else the folder's name. */
export function modelName(dir: string): string {
  const m = /models--([^/\\]+)[/\\]snapshots[/\\][^/\\]+[/\\]?$/.exec(dir);
  return m ? m[1].replace(/--/g, '/') : basename(dir);
}

export function isHfFolder(dir: string): boolean {
  return existsSync(join(dir, 'config.json'));
}

/** Reads a Hugging Face folder and builds (or finds) its graphs. */
export async function loadHfModel(path: string): Promise<HfModel> {
  const dir = resolve(path);
  const what = `model ${dir}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ProbeError('PACK_NOT_FOUND', `${what}: no such folder`);
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new ProbeError('PACK_NOT_FOUND', `${what}: config.json is missing (a Hugging Face model folder has config.json, model.safetensors and tokenizer.json)`);
  const config = readJson(configFile, what);
  const tokenizerFile = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerFile)) {
    const slow = ['tokenizer.model', 'vocab.json', 'spiece.model'].find((f) => existsSync(join(dir, f)));
    throw new ProbeError(
      'BAD_PACK',
      `${what}: tokenizer.json is missing${slow ? ` (${slow} is there: LM Probe reads only the fast tokenizer's tokenizer.json; save it with AutoTokenizer.from_pretrained(...).save_pretrained(...))` : ''}`,
    );
  }
  const weights = readWeights(dir);
  const spec = decoderSpec(dir, config, weights);
  const tokenizer = new PackTokenizer(readJson(tokenizerFile, what), `${what}: tokenizer.json`);
  if (tokenizer.vocabSize > spec.vocabSize) {
    throw new ProbeError('BAD_PACK', `${what}: tokenizer.json has ${tokenizer.vocabSize} ids but config.json vocab_size is ${spec.vocabSize}`);
  }
  checkMemory(dir, weights, spec);
  const t0 = performance.now();
  const graphs = await cachedGraphs(weights.files, JSON.stringify(config), (name) => ({ forward: buildForward(spec, name), head: buildHead(spec, name) }));
  return { dir, name: modelName(dir), spec, graphs, tokenizer, tokenizerFile, buildMs: performance.now() - t0 };
}

/**
 * ONNX Runtime holds the weights in float32 on the CPU, plus a few [window, vocabulary] buffers while
 * it runs: measured on this project's machine, a 1.24B-parameter Llama (2.5 GB of bf16 safetensors)
 * peaked at 7.1 GB, a 162M-parameter GPT-NeoX at 1.6 GB. A model that cannot fit is refused here,
 * with the figures, rather than left to fail inside ONNX Runtime or be killed by the system.
 */
function checkMemory(dir: string, w: WeightSet, s: DecoderSpec): void {
  let params = 0;
  for (const t of w.tensors.values()) params += t.shape.reduce((a, d) => a * d, 1);
  const need = params * 4 * 1.45 + 6 * 4 * Math.min(s.maxPositions, HF_DEFAULT_CONTEXT) * s.vocabSize;
  const have = totalmem();
  if (need > have && !process.env.LM_PROBE_SKIP_MEMORY_CHECK) {
    const gb = (x: number) => (x / 2 ** 30).toFixed(1) + ' GB';
    throw new ProbeError(
      'BAD_PACK',
      `model ${dir}: ${(params / 1e9).toFixed(2)}B parameters need about ${gb(need)} of memory in float32 on the CPU, and this machine has ${gb(have)}: ` +
        'choose a smaller model (or set LM_PROBE_SKIP_MEMORY_CHECK=1 to try anyway)',
    );
  }
}

function bosOf(m: HfModel): { id: number; token: string } {
  const id = m.spec.bosId ?? m.spec.eosId;
  if (id === null) {
    throw new ProbeError('BAD_PACK', `model ${m.dir}: config.json names neither bos_token_id nor eos_token_id: LM Probe needs a token to start every window with`);
  }
  return { id, token: m.tokenizer.tokenText(id) };
}

function asPack(fw: HfModel, bw: HfModel | null, name: string, contextLength: number, description: string): LoadedPack {
  const s = fw.spec;
  const manifest: PackManifest = {
    format: 'lm-probe-pack',
    formatVersion: 1,
    name,
    description,
    tokenizer: fw.tokenizerFile,
    contextLength,
    bos: bosOf(fw),
    architecture: { layers: s.layers, heads: s.heads, width: s.width, vocabSize: s.vocabSize },
    graph: {
      inputs: { inputIds: GRAPH_NAMES.inputIds },
      outputs: { logits: GRAPH_NAMES.logits, hiddenStates: GRAPH_NAMES.hiddenStates, attentions: GRAPH_NAMES.attentions },
      statistics: STAT_NAMES,
    },
    forward: fw.graphs.forward,
    ...(bw ? { backward: bw.graphs.forward } : {}),
    head: fw.graphs.head,
  };
  const info: PackInfo = {
    name,
    dir: fw.dir,
    contextLength,
    layers: s.layers,
    heads: s.heads,
    width: s.width,
    vocabSize: s.vocabSize,
    hasBackward: bw !== null,
    hasProbes: false,
  };
  return {
    dir: fw.dir,
    manifest,
    files: { tokenizer: fw.tokenizerFile, forward: fw.graphs.forward, backward: bw ? bw.graphs.forward : null, head: fw.graphs.head, probes: null },
    tokenizer: fw.tokenizer,
    info,
    built: true,
  };
}

function describe(m: HfModel): string {
  return `${m.spec.family} (${m.spec.modelType}), ${m.spec.layers} layers, width ${m.spec.width}, ${m.spec.dtype} weights, from ${m.dir}`;
}

/** A Hugging Face folder, probed forward only. */
export async function openHfFolder(dir: string): Promise<LoadedPack> {
  const m = await loadHfModel(dir);
  return asPack(m, null, m.name, Math.min(m.spec.maxPositions, HF_DEFAULT_CONTEXT), describe(m) + '; forward only (no backward twin)');
}

/** A pair manifest: {"format": "lm-probe-pair", "formatVersion": 1, "name", "forward", "backward"?, "contextLength"?}. */
export async function openPair(file: string): Promise<LoadedPack> {
  const path = realpathSync(file);
  const base = dirname(path);
  const j = readJson(path, `pair ${path}`);
  const fail = (field: string, expected: string): never => {
    throw new ProbeError('BAD_PACK', `pair ${path}: field "${field}": expected ${expected}, got ${JSON.stringify(j[field])}`);
  };
  if (j.format !== 'lm-probe-pair') fail('format', '"lm-probe-pair"');
  if (j.formatVersion !== 1) fail('formatVersion', '1');
  const folder = (field: string): string => {
    const v = j[field];
    if (typeof v !== 'string' || v.length === 0) fail(field, 'the path of a Hugging Face model folder (relative to the pair file, or absolute)');
    return isAbsolute(v as string) ? (v as string) : resolve(base, v as string);
  };
  const fw = await loadHfModel(folder('forward'));
  const bw = j.backward === undefined || j.backward === null ? null : await loadHfModel(folder('backward'));
  if (bw) {
    if (bw.tokenizer.fingerprint() !== fw.tokenizer.fingerprint()) {
      throw new ProbeError('BAD_PACK', `pair ${path}: the forward (${fw.tokenizerFile}) and backward (${bw.tokenizerFile}) tokenizers differ: a pair must share one tokenizer, so that token t means the same in both directions`);
    }
    const a = fw.spec;
    const b = bw.spec;
    if (a.layers !== b.layers || a.heads !== b.heads || a.width !== b.width || a.vocabSize !== b.vocabSize) {
      throw new ProbeError(
        'BAD_PACK',
        `pair ${path}: forward and backward models differ in shape (layers/heads/width/vocab ${a.layers}/${a.heads}/${a.width}/${a.vocabSize} vs ${b.layers}/${b.heads}/${b.width}/${b.vocabSize}): a pair must be two trainings of one architecture`,
      );
    }
  }
  const maxCtx = Math.min(fw.spec.maxPositions, bw ? bw.spec.maxPositions : Infinity);
  let ctx = Math.min(maxCtx, HF_DEFAULT_CONTEXT);
  if (j.contextLength !== undefined) {
    const c = j.contextLength;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 2 || c > maxCtx) fail('contextLength', `an integer from 2 to ${maxCtx} (the models' positions)`);
    ctx = c as number;
  }
  const name = typeof j.name === 'string' && j.name ? j.name : basename(base);
  return asPack(fw, bw, name, ctx, `pair: forward ${describe(fw)}` + (bw ? `; backward ${describe(bw)}` : '; forward only (no backward twin)'));
}
