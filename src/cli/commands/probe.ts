// lm-probe probe (one text: the per-token table, the summary, or the ProbeResult as JSON) and
// lm-probe corpus (the arrow of time over files).
import { accessSync, constants } from 'node:fs';
import { Engine } from '../../engine/engine';
import { PROBE_RESULT_VERSION, type ProbeResult } from '../../engine/schema';
import type { ProbeOptions } from '../../engine/api';
import { CliError, EXIT, readStdin, readTextFile } from '../io';
import { formatTable } from '../format';
import { formatCorpus, runCorpus, type CorpusDoc } from '../corpus';
import { progress } from '../progress';
import { CORPUS_SHARD_OPTIONS, corpusShard } from './shards';
import { common, engineOptions, fileSize, intOption, reportFallbacks, write, type Command } from '../options';

export const PROBE_USAGE = `
Probing one text:
  lm-probe probe [--model PATH] [--providers LIST] [--json] [--top K] [--max-tokens N]
                 [--forward-only] [--summary] (--text "..." | FILE | -)
      forward and backward surprisal of every token: a table (token, UTF-16 range, surprisal in
      bits and rank each way, the forward model's top guess) and the summary (mean nats per
      token each way, delta). -t, --text "...": the text; or a FILE; or - for standard input
      (UTF-8). -k, --top K: alternatives kept per token and direction (0 to 100, default 5).
      --max-tokens N: refuse texts longer than N tokens (default 1000000). --forward-only:
      skip the backward model. --summary: only the summary (per-token nats only: memory stays
      flat). --json: the ProbeResult (src/engine/schema.ts) on one line, written as the tokens
      are scored (memory stays flat; a run that fails midway leaves it unfinished, and the exit
      code says so); --summary does not shorten it
  lm-probe corpus [--model PATH] [--providers LIST] [--json] [--resamples N] [--seed S] FILE...
      the arrow of time over FILEs (- for standard input): tokens, mean nats per direction, delta
      with a percentile bootstrap 95% interval over documents (10 or more FILEs) or over blocks
      of one context length. --resamples N: bootstrap resamples (default 1000); --seed S:
      bootstrap seed (default 1). --shard I/N --out FILE: one shard of a split run (below)
`;

/** A ProbeResult without tokens (what formatSummary reads), from the per-token nats alone. */
async function summaryResult(engine: Engine, text: string, opts: ProbeOptions): Promise<ProbeResult> {
  const n = await engine.surprisalNats(text, opts);
  return { version: PROBE_RESULT_VERSION, text: '', pack: engine.pack.info, tokens: [], summary: n.summary, runtime: n.runtime, warnings: n.warnings };
}

/**
 * Prints the ProbeResult as one line of JSON while it is computed: the engine passes the tokens on
 * a batch at a time (ProbeOptions.onTokens) and keeps none, so memory does not grow with the text.
 * The bytes are JSON.stringify(result)'s with the tokens in place; nothing is written before the
 * first tokens, so a text refused up front leaves stdout empty.
 */
async function probeJson(engine: Engine, text: string, opts: ProbeOptions): Promise<ProbeResult> {
  // "tokens" is the last key here, so this ends with "tokens":[
  const head = JSON.stringify({ version: PROBE_RESULT_VERSION, text, pack: engine.pack.info, tokens: [] }).slice(0, -2);
  let started = false;
  const r = await engine.probe(text, {
    ...opts,
    onTokens: (tokens) => {
      const part = tokens.map((t) => JSON.stringify(t)).join(',');
      const out = started ? ',' + part : head + part;
      started = true;
      return write(out);
    },
  });
  const shell = JSON.stringify(r);
  if (!started) await write(head);
  if (!shell.startsWith(head)) throw new Error('ProbeResult keys out of order: the streamed JSON would differ from JSON.stringify');
  await write(shell.slice(head.length) + '\n');
  return r;
}

function warn(msg: string): void {
  process.stderr.write(`lm-probe: warning: ${msg}\n`);
}

export const PROBE_COMMAND: Command = {
  options: {
    ...common,
    text: { type: 'string', short: 't' },
    top: { type: 'string', short: 'k' },
    'max-tokens': { type: 'string' },
    'forward-only': { type: 'boolean' },
    summary: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(v, pos, ctx) {
    const topK = intOption(v, 'top', 5, 0);
    if (topK > 100) throw new CliError(EXIT.USAGE, `--top: at most 100, got ${topK}`);
    const maxTokens = intOption(v, 'max-tokens', 1_000_000, 1);
    let text: string;
    if (typeof v.text === 'string') {
      if (pos.length) throw new CliError(EXIT.USAGE, `give the text either with --text or as a FILE, not both (extra: ${pos.join(' ')})`);
      text = v.text;
    } else if (pos.length === 1) {
      text = pos[0] === '-' ? await readStdin() : readTextFile(pos[0]);
    } else if (pos.length === 0) {
      throw new CliError(EXIT.USAGE, 'nothing to probe: give --text "...", a FILE, or - for standard input');
    } else {
      throw new CliError(EXIT.USAGE, `probe reads one FILE, got ${pos.length}; use lm-probe corpus for several`);
    }
    const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
    try {
      reportFallbacks(engine);
      const bar = progress('probe');
      const probeOpts: ProbeOptions = {
        topK,
        maxTokens,
        forwardOnly: v['forward-only'] === true,
        signal: ctx.signal,
        // --json runs the directions interleaved: no one stage to show
        onProgress: (p) => bar.update({ fraction: p.done / p.total, done: p.tokens ?? 0, total: p.tokenTotal, stage: v.json ? undefined : p.stage }),
      };
      let r: ProbeResult;
      try {
        if (v.json) r = await probeJson(engine, text, probeOpts);
        // --summary needs only the sums: no per-token objects, so memory stays flat on long texts.
        else if (v.summary) r = await summaryResult(engine, text, probeOpts);
        else r = await engine.probe(text, probeOpts);
      } finally {
        bar.stop();
      }
      for (const w of r.warnings) warn(w);
      if (!v.json) await write(formatTable(r, { summaryOnly: v.summary === true }));
    } finally {
      await engine.dispose();
    }
  },
};

export const CORPUS_COMMAND: Command = {
  options: { ...common, resamples: { type: 'string' }, seed: { type: 'string' }, ...CORPUS_SHARD_OPTIONS },
  allowPositionals: true,
  async run(v, pos, ctx) {
    if (v.shard !== undefined || v.out !== undefined) return corpusShard(v, pos, ctx);
    if (pos.length === 0) throw new CliError(EXIT.USAGE, 'corpus needs at least one FILE');
    const resamples = intOption(v, 'resamples', 1000, 1);
    const seed = intOption(v, 'seed', 1, 0);
    for (const f of pos) {
      try {
        if (f !== '-') accessSync(f, constants.R_OK);
      } catch {
        readTextFile(f); // throws the usual usage error for that file, before any work
      }
    }
    // Files are read one at a time as the corpus reaches them; their sizes give the progress.
    const docs: CorpusDoc[] = pos.map((file) => (file === '-' ? { file, text: readStdin, size: 1 } : { file, text: () => readTextFile(file), size: fileSize(file) }));
    const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
    try {
      reportFallbacks(engine);
      const bar = progress('corpus');
      let report;
      try {
        report = await runCorpus(engine, docs, { resamples, seed, signal: ctx.signal, onProgress: (p) => bar.update(p) });
      } finally {
        bar.stop();
      }
      await write(v.json ? JSON.stringify(report, null, 1) + '\n' : formatCorpus(report));
    } finally {
      await engine.dispose();
    }
  },
};
