// The arrow-of-time measurement over files: mean log-perplexity per direction and the asymmetry
// delta with a bootstrap 95% interval (Papadopoulos et al. 2024).
import type { Engine } from '../engine/engine';
import type { ProgressState } from './progress';
import { ProbeError, isProbeError } from '../engine/errors';
import { MIN_UNITS, bootstrapDelta, deltaOf, rng, type DeltaUnit } from '../engine/bootstrap';

/** Token count and nat sums of a document or a block: the bootstrap's unit. */
export type CorpusUnit = DeltaUnit;
export { rng, deltaOf, bootstrapDelta };

export interface CorpusReport {
  files: { file: string; tokens: number; forwardMeanNats: number; backwardMeanNats: number | null }[];
  tokens: number;
  forward: { meanNats: number };
  backward: { meanNats: number } | null;
  delta: number | null;
  /** Percentile bootstrap interval of delta; null without a backward model or with fewer than 10 units (documents, else blocks). */
  deltaCI95: [number, number] | null;
  bootstrap: { unit: 'document' | 'block'; units: number; blockTokens: number | null; resamples: number; seed: number };
  tokensPerSecond: number;
  seconds: number;
  provider: string;
  pack: { name: string; dir: string };
}

/** Fewest documents for a bootstrap over documents; fewer are resampled as blocks of tokens. */
export const MIN_DOCS = MIN_UNITS;

/** A document of the corpus: its text, or a reader that gives it when its turn comes (files are read one at a time). */
export interface CorpusDoc {
  file: string;
  text: string | (() => string | Promise<string>);
  /** Size used for progress before the text is read (characters or bytes); default: the text's length. */
  size?: number;
}

/** One document's figures: what a shard of the corpus stores, and all that the report needs. */
export interface CorpusDocScore {
  file: string;
  tokens: number;
  fwNats: number;
  /** 0 without a backward model. */
  bwNats: number;
  /** Consecutive blocks of blockTokens tokens (the last may be shorter), for the block bootstrap. */
  blocks: CorpusUnit[];
}

/** Scores the documents one at a time (nats only) and sums them per document and per block. */
export async function scoreCorpus(
  engine: Engine,
  docs: CorpusDoc[],
  opts: { signal?: AbortSignal; onProgress?: (p: ProgressState) => void },
): Promise<{ docs: CorpusDocScore[]; seconds: number; blockTokens: number }> {
  const sizeOf = (d: CorpusDoc) => d.size ?? (typeof d.text === 'string' ? d.text.length : 1);
  const total = docs.reduce((a, d) => a + sizeOf(d), 0);
  let done = 0;
  let tokensDone = 0; // tokens of the finished documents
  const blockTokens = engine.pack.manifest.contextLength - 1;
  const scores: CorpusDocScore[] = [];
  let seconds = 0;
  for (const d of docs) {
    const size = sizeOf(d);
    let r;
    try {
      const text = typeof d.text === 'string' ? d.text : await d.text();
      // Only the nats: no token objects, so memory does not grow with the corpus.
      r = await engine.surprisalNats(text, {
        maxTokens: Number.MAX_SAFE_INTEGER,
        signal: opts.signal,
        onProgress: (p) => opts.onProgress?.({ fraction: (done + (size * p.done) / p.total) / total, done: tokensDone + (p.tokens ?? 0), stage: d.file }),
      });
    } catch (e) {
      // say which file, keep the code (and so the exit code)
      if (isProbeError(e) && e.code !== 'CANCELLED') throw new ProbeError(e.code, `${d.file}: ${e.message}`);
      throw e;
    }
    seconds += r.runtime.ms / 1000;
    done += size;
    tokensDone += r.forward.length;
    opts.onProgress?.({ fraction: done / total, done: tokensDone });
    const u: CorpusDocScore = { file: d.file, tokens: 0, fwNats: 0, bwNats: 0, blocks: [] };
    let block: CorpusUnit = { tokens: 0, fwNats: 0, bwNats: 0 };
    for (let i = 0; i < r.forward.length; i++) {
      const f = r.forward[i];
      const b = r.backward ? r.backward[i] : 0;
      u.tokens++;
      u.fwNats += f;
      u.bwNats += b;
      block.tokens++;
      block.fwNats += f;
      block.bwNats += b;
      if (block.tokens === blockTokens) {
        u.blocks.push(block);
        block = { tokens: 0, fwNats: 0, bwNats: 0 };
      }
    }
    if (block.tokens > 0) u.blocks.push(block);
    scores.push(u);
  }
  return { docs: scores, seconds, blockTokens };
}

/**
 * The report from per-document figures in corpus order: one run's, or the merge of shards' (the
 * same figures in the same order give the same report, bootstrap interval included).
 */
export function corpusReport(
  docs: CorpusDocScore[],
  meta: { hasBackward: boolean; blockTokens: number; resamples: number; seed: number; seconds: number; provider: string; pack: { name: string; dir: string } },
): CorpusReport {
  const hasBw = meta.hasBackward;
  const docUnits: CorpusUnit[] = docs.map((d) => ({ tokens: d.tokens, fwNats: d.fwNats, bwNats: d.bwNats }));
  const blockUnits: CorpusUnit[] = docs.flatMap((d) => d.blocks);
  const files: CorpusReport['files'] = docs.map((d) => ({
    file: d.file,
    tokens: d.tokens,
    forwardMeanNats: d.fwNats / d.tokens,
    backwardMeanNats: hasBw ? d.bwNats / d.tokens : null,
  }));
  // Documents are the natural unit of resampling (they keep the between-document variance), but a
  // handful of documents gives a meaningless bootstrap: below MIN_DOCS, resample blocks of one
  // context length instead.
  const byDoc = docUnits.length >= MIN_DOCS;
  const units = byDoc ? docUnits : blockUnits;
  const tokens = docUnits.reduce((a, u) => a + u.tokens, 0);
  const fw = docUnits.reduce((a, u) => a + u.fwNats, 0) / tokens;
  const bw = docUnits.reduce((a, u) => a + u.bwNats, 0) / tokens;
  const { blockTokens, resamples, seed, seconds } = meta;
  return {
    files,
    tokens,
    forward: { meanNats: fw },
    backward: hasBw ? { meanNats: bw } : null,
    delta: hasBw ? deltaOf(docUnits) : null,
    deltaCI95: hasBw ? bootstrapDelta(units, resamples, seed) : null,
    bootstrap: { unit: byDoc ? 'document' : 'block', units: units.length, blockTokens: byDoc ? null : blockTokens, resamples, seed },
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    seconds,
    provider: meta.provider,
    pack: meta.pack,
  };
}

export async function runCorpus(
  engine: Engine,
  docs: CorpusDoc[],
  opts: { resamples: number; seed: number; signal?: AbortSignal; onProgress?: (p: ProgressState) => void },
): Promise<CorpusReport> {
  const s = await scoreCorpus(engine, docs, opts);
  return corpusReport(s.docs, {
    hasBackward: engine.hasBackward,
    blockTokens: s.blockTokens,
    resamples: opts.resamples,
    seed: opts.seed,
    seconds: s.seconds,
    provider: engine.provider,
    pack: { name: engine.pack.info.name, dir: engine.pack.dir },
  });
}

export function formatCorpus(r: CorpusReport): string {
  const lines = [
    `pack      ${r.pack.name} (${r.pack.dir})`,
    `files     ${r.files.length}`,
    `tokens    ${r.tokens}`,
    `forward   L_fw = ${r.forward.meanNats.toFixed(4)} nats/token`,
  ];
  if (r.backward) lines.push(`backward  L_bw = ${r.backward.meanNats.toFixed(4)} nats/token`);
  if (r.delta !== null) {
    const unit = r.bootstrap.unit === 'document' ? `${r.bootstrap.units} documents` : `${r.bootstrap.units} blocks of ${r.bootstrap.blockTokens} tokens`;
    const ci = r.deltaCI95
      ? `95% CI [${r.deltaCI95[0].toFixed(5)}, ${r.deltaCI95[1].toFixed(5)}], bootstrap over ${unit}, ${r.bootstrap.resamples} resamples`
      : `no interval: ${unit} are fewer than ${MIN_UNITS} units to resample`;
    lines.push(`delta     ${r.delta.toFixed(5)}  (${ci})`);
  }
  lines.push(`speed     ${r.tokensPerSecond.toFixed(0)} tokens/s on ${r.provider} (${r.seconds.toFixed(1)} s, both directions)`);
  return lines.join('\n') + '\n';
}
