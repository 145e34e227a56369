// The analyses' subcommands: fit-probes, eval-probes, lasso, analyze (importance, geometry, future
// lens on one text) and bench-analyses. Registered in main.ts by spreading ANALYSIS_COMMANDS.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { relative, resolve, isAbsolute, join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { common, engineCommon, engineOptions, intOption, numOption, write, type Command, type Values } from '../options';
import { progress } from '../progress';
import { Engine } from '../../engine/engine';
import type { ProbeOptions } from '../../engine/api';
import { designFromRows, lasso } from '../../engine/analysis/lasso';
import { accumulateFit, evalProbes, fitProbes, fitSettings, type EvalReport, type FitOptions, type Progress } from '../../engine/analysis/futureLens';
import { loadProbes, writeProbes } from '../../engine/analysis/probes';
import { loadBaselines } from '../../engine/analysis/baselines';
import { CliError, EXIT, readCheckedText, readStdin, readTextFile } from '../io';
import { parseShard, shardMembers, shardOutPath, writeFitShard } from './shards';

export const ANALYSIS_USAGE = `
Analyses (future-token probes, token importance, geometry):
  lm-probe fit-probes  [--model DIR] --out FILE [--held-out FILE]... [--held-out-from LIST]
                       [--max-tokens N] [--lambdas a,b,...] [--target normalized|residual]
                       [--set-manifest] [--files-from LIST] [--shard I/N] FILE...
      fit future-token probes (ridge, penalty chosen on held-out text) on text FILEs; writes
      FILE (JSON header) and FILE's .bin; --set-manifest points the pack's manifest at FILE
      (FILE must then be inside the pack folder); LIST: a file naming text files, one a line.
      --held-out takes ONE file (repeat it per file): a shell glob after a single --held-out
      gives it only the first match and makes the others fitting FILEs; for many held-out
      files use --held-out-from LIST. A file may not be both fitted and held out. Without
      held-out files, every 10th window of the sampled text (and the second window, when there
      is none yet; of a one-window text, its last tenth) is held out; with too little text for
      that, fit-probes refuses. --shard I/N: write this shard's sums to --out (binary) for
      lm-probe merge (below; every shard reads and tokenizes the sampled text of all FILEs so
      that the sample and the held-out split are those of one run, and runs the model on its own).
      --max-tokens N: tokens sampled from the FILEs (default 200000); --lambdas: the ridge
      penalties tried (default 1e-6 to 1, nine values); --target: what is fitted, the final
      hidden state after a layer norm (normalized, the default) or the raw residual
  lm-probe eval-probes [--model DIR] [--probes FILE] [--max-tokens N] [--rollout-every N]
                       [--baselines FILE] [--json] FILE...
      precision@1 per layer and offset on FILEs, next to baselines: the skip-bigram of the
      model's training split (the pack's baselines.json, or --baselines FILE), the model's
      greedy rollout (its own guess fed back; on every N-th position, default 8, 0 = off: each
      costs K-1 forward passes), the bigram of the probes' fitting text; the best probe per
      offset minus each baseline with a paired 95% bootstrap interval over documents (over
      windows when there are fewer than 10 documents; none below 10 windows). When the FILEs
      hold more than N tokens (default 20000), windows are sampled evenly through all of them
  lm-probe lasso [--json] --alpha A --data FILE [--tol T] [--max-iter N]
      Lasso (scikit-learn's objective, fit_intercept=False) on FILE = {"X": [[...]], "y": [...]}
      (- for standard input); prints {"coef": [...], "iterations": n}, JSON with or without --json. Default tol 1e-12 and max-iter 100000 (the
      optimum); --tol 1e-4 --max-iter 1000 reproduces scikit-learn's default stopping exactly
  lm-probe analyze [--model DIR] [--probes FILE] [--only LIST] [--token I] [--layer L]
                   [--attention-layer A] [--alpha X] [--max-tokens N] (--text "..." | FILE | -)
      the ProbeResult with analyses, always as JSON (LIST: futurelens,importance,geometry;
      default all; --probes FILE: probes other than the pack's). Importance: of token I (index,
      default the last), Lasso on hidden-state layer L (default the last) at penalty X >= 0
      (default 0.05 of the smallest penalty that zeroes every weight), beside the attention of
      block A (default max(L, 1) - 1). --max-tokens N: refuse longer texts (default 1000000)
  lm-probe importance | geometry  (same options as analyze): print only that analysis as JSON
  lm-probe bench-analyses [--model DIR] [--tokens N] [--repeat R] [--probes FILE] [--json] FILE...
      time of the two surprisal passes vs the analyses on an N-token selection (default 512) of
      the FILEs, median of R runs (default 3); --probes FILE: probes other than the pack's
`;

/** Progress of fit-probes / eval-probes (progress.ts): tokens while sampling, windows, then maps. */
function bar(label: string): { update(p: Progress): void; stop(): void } {
  const p = progress(label, { perStage: true });
  const unit: Record<string, string> = { eval: 'windows', solve: 'maps' };
  return {
    update: (x) => p.update({ fraction: x.done / Math.max(1, x.total), done: x.done, total: x.total, unit: unit[x.stage] ?? 'tokens', stage: x.stage }),
    stop: () => p.stop(),
  };
}

function files(pos: string[], what: string): string[] {
  if (pos.length === 0) throw new CliError(EXIT.USAGE, `${what} needs at least one text FILE`);
  for (const f of pos) readCheckedText(f); // missing: exit 2; empty, binary: exit 3, before any work
  return pos;
}

export function formatEval(r: EvalReport): string {
  const pct = (x: number | null) => (x === null ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);
  const pp = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
  const lines = [`precision@1 (%) of the future-token probes: share of positions t whose top-1 guess is the token at t+k (${r.tokens} tokens, ${r.documents} file(s); probes ${r.source})`, ''];
  lines.push('layer (0 = embeddings)   ' + r.offsets.map((k) => `  t+${k}  `).join(''));
  r.layers.forEach((l, li) => lines.push(`${String(l).padEnd(25)}` + r.precisionAt1[li].map((p) => ` ${pct(p)}`).join('')));
  const row = (label: string, xs: number[] | null, none: string, note = '') => lines.push(label.padEnd(25) + (xs ? xs.map((p) => ` ${pct(p)}`).join('') + note : `  (${none})`));
  row('skip-bigram (train split)', r.skipBigram?.precisionAt1 ?? null, 'the pack has no baselines.json');
  row('greedy rollout', r.rollout?.precisionAt1 ?? null, 'off', r.rollout ? `   (every ${r.rollout.every}th position: ${r.rollout.positions.join(' / ')})` : '');
  row('bigram (probe fit text)', r.bigramPrecisionAt1, 'the probe file has no bigram table');
  row('bigram* (in-sample)', r.bigramInSamplePrecisionAt1, '', '   (* fitted on the evaluated text itself: optimistic)');
  lines.push('', `model's own next-token accuracy: ${pct(r.modelNextTokenAccuracy)}`, '');
  lines.push('best probe minus baseline (percentage points, paired 95% interval):');
  for (const c of r.comparisons) {
    const ci = c.interval ? `[${pp(c.interval.lo)}, ${pp(c.interval.hi)}]` : '(no interval)';
    const verdict = c.interval ? (c.interval.hi < 0 ? 'the probe LOSES' : c.interval.lo > 0 ? 'the probe wins' : 'no clear difference') : c.difference < 0 ? 'the probe is behind' : 'the probe is ahead';
    lines.push(`  t+${c.offset}, layer ${c.layer} vs ${c.baseline}: ${pct(c.probe)} vs ${pct(c.baselinePrecision)}, ${pp(c.difference)} ${ci} on ${c.positions} positions: ${verdict}`);
  }
  lines.push(`  (${r.intervalNote})`);
  return lines.join('\n') + '\n';
}

function readLassoData(file: string, text: string): { X: number[][]; y: number[]; tol?: number; max_iter?: number } {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw new CliError(EXIT.BAD_TEXT, `${file} is not valid JSON (${(e as Error).message})`);
  }
  const o = d as { X?: unknown; y?: unknown; tol?: unknown; max_iter?: unknown };
  if (!o || !Array.isArray(o.X) || !Array.isArray(o.y)) throw new CliError(EXIT.BAD_TEXT, `${file}: expected {"X": [[...], ...], "y": [...]}`);
  const p = Array.isArray(o.X[0]) ? (o.X[0] as unknown[]).length : -1;
  o.X.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== p || row.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new CliError(EXIT.BAD_TEXT, `${file}: X[${i}] must be an array of ${p} finite numbers`);
    }
  });
  if (o.y.length !== o.X.length || o.y.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new CliError(EXIT.BAD_TEXT, `${file}: y must hold ${o.X.length} finite numbers (one per row of X), got ${o.y.length}`);
  }
  return o as { X: number[][]; y: number[]; tol?: number; max_iter?: number };
}

const analyzeOptions: ParseArgsConfig['options'] = {
  ...engineCommon, // no --json: these always print JSON
  text: { type: 'string', short: 't' },
  probes: { type: 'string' },
  only: { type: 'string' },
  token: { type: 'string' },
  layer: { type: 'string' },
  'attention-layer': { type: 'string' },
  alpha: { type: 'string' },
  'max-tokens': { type: 'string' },
};

async function analyzeText(v: Values, pos: string[]): Promise<string> {
  if (typeof v.text === 'string') {
    if (pos.length) throw new CliError(EXIT.USAGE, `give the text either with --text or as a FILE, not both`);
    return v.text;
  }
  if (pos.length !== 1) throw new CliError(EXIT.USAGE, 'give one text: --text "...", a FILE, or - for standard input');
  return pos[0] === '-' ? readStdin() : readTextFile(pos[0]);
}

function analysesOptions(v: Values, only: string[]): NonNullable<ProbeOptions['analyses']> {
  const known = ['futurelens', 'importance', 'geometry'];
  for (const o of only) if (!known.includes(o)) throw new CliError(EXIT.USAGE, `--only: unknown analysis ${JSON.stringify(o)} (known: ${known.join(', ')})`);
  const target = v.token === undefined ? undefined : intOption(v, 'token', 0, 0);
  const layer = v.layer === undefined ? undefined : intOption(v, 'layer', 0, 0);
  const attentionLayer = v['attention-layer'] === undefined ? undefined : intOption(v, 'attention-layer', 0, 0);
  const alpha = numOption(v, 'alpha', 0);
  return {
    futureLens: only.includes('futurelens') ? (typeof v.probes === 'string' ? { probesFile: v.probes } : true) : undefined,
    importance: only.includes('importance') ? { target, layer, alpha, attentionLayer } : undefined,
    geometry: only.includes('geometry') ? true : undefined,
  };
}

function analyzeCommand(part: 'all' | 'importance' | 'geometry' | 'futureLens'): Command {
  return {
    options: analyzeOptions,
    allowPositionals: true,
    async run(v, pos, ctx) {
      const text = await analyzeText(v, pos);
      const only =
        part === 'all'
          ? typeof v.only === 'string'
            ? v.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
            : ['futurelens', 'importance', 'geometry']
          : [part.toLowerCase()];
      const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
      try {
        const r = await engine.probe(text, {
          forwardOnly: true,
          maxTokens: intOption(v, 'max-tokens', 1_000_000, 1),
          analyses: analysesOptions(v, only),
          signal: ctx.signal,
        });
        for (const n of r.analyses?.notes ?? []) process.stderr.write(`lm-probe: note: ${n}\n`);
        if (part === 'all') await write(JSON.stringify(r) + '\n');
        else {
          const a = r.analyses?.[part];
          if (!a) throw new CliError(EXIT.BAD_PACK, `no ${part} result: ${(r.analyses?.notes ?? []).join('; ')}`);
          await write(JSON.stringify({ window: r.analyses!.window, notes: r.analyses!.notes ?? [], [part]: a }) + '\n');
        }
      } finally {
        await engine.dispose();
      }
    },
  };
}

function targetSpaceOf(raw: unknown): 'residual' | 'normalized' | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'residual' || raw === 'normalized') return raw;
  throw new CliError(EXIT.USAGE, `--target: expected residual or normalized, got ${JSON.stringify(raw)}`);
}

export const ANALYSIS_COMMANDS: Record<string, Command> = {
  'fit-probes': {
    options: {
      ...common,
      out: { type: 'string', short: 'o' },
      'held-out': { type: 'string', multiple: true },
      'held-out-from': { type: 'string' },
      'max-tokens': { type: 'string' },
      lambdas: { type: 'string' },
      'set-manifest': { type: 'boolean' },
      target: { type: 'string' },
      'files-from': { type: 'string' },
      shard: { type: 'string' },
    },
    allowPositionals: true,
    async run(v, pos, ctx) {
      if (typeof v.out !== 'string') throw new CliError(EXIT.USAGE, 'fit-probes needs --out FILE (the probe file to write, e.g. probes.json)');
      const spec = typeof v.shard === 'string' ? parseShard(v.shard) : null;
      if (spec && v['set-manifest']) throw new CliError(EXIT.USAGE, '--set-manifest does not go with --shard: a shard is not a probe file (merge the shards, then point the manifest at the merged file)');
      const out = spec ? shardOutPath(v.out, spec) : v.out.endsWith('.json') ? v.out : v.out + '.json';
      const listOf = (name: string) => (typeof v[name] === 'string' ? readTextFile(v[name] as string).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '') : []);
      const texts = files([...pos, ...listOf('files-from')], 'fit-probes');
      const held = [...((v['held-out'] as string[] | undefined) ?? []), ...listOf('held-out-from')];
      for (const f of held) if (!existsSync(f)) throw new CliError(EXIT.USAGE, `--held-out: cannot read ${f}: no such file`);
      const heldSet = new Set(held.map((f) => resolve(f)));
      const both = texts.filter((f) => heldSet.has(resolve(f)));
      if (both.length) throw new CliError(EXIT.USAGE, `${both[0]} is both a fitting FILE and a --held-out file (a file is one or the other)`);
      // The usual slip: "--held-out dir/*.txt other/*.txt" holds out only the glob's first file.
      if ((v['held-out'] as string[] | undefined)?.length === 1 && v['held-out-from'] === undefined) {
        const dirOf = (f: string) => resolve(f, '..');
        const hd = dirOf(held[0]);
        const same = texts.filter((f) => dirOf(f) === hd);
        if (same.length) {
          process.stderr.write(
            `lm-probe: warning: ${same.length} fitting FILE(s) (e.g. ${same[0]}) are in the folder of the one --held-out file ${held[0]}; ` +
              `if a glob was meant for --held-out, repeat --held-out per file or use --held-out-from LIST\n`,
          );
        }
      }
      const lambdas =
        typeof v.lambdas === 'string'
          ? v.lambdas.split(',').map((s) => {
              const n = Number(s);
              if (!(n > 0)) throw new CliError(EXIT.USAGE, `--lambdas: expected positive numbers, got ${JSON.stringify(s)}`);
              return n;
            })
          : undefined;
      const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
      const b = bar(spec ? `fitting probes, shard ${spec.index}/${spec.count}` : 'fitting probes');
      try {
        const t0 = performance.now();
        const maxTokens = intOption(v, 'max-tokens', 200_000, 1);
        const fitOpts: FitOptions = {
          files: texts,
          heldOutFiles: held.length ? held : undefined,
          maxTokens,
          lambdas,
          targetSpace: targetSpaceOf(v.target),
          onProgress: (p) => b.update(p),
          signal: ctx.signal,
        };
        if (spec) {
          // Shard I of N: the files of rank I-1 mod N in the sorted list of fitting + held-out files.
          const mine = new Set(shardMembers([...texts, ...held], spec));
          const acc = await accumulateFit(engine, { ...fitOpts, include: (i) => mine.has(i) });
          b.stop();
          const seconds = (performance.now() - t0) / 1000;
          const abs = writeFitShard(out, { pack: engine.pack, provider: engine.provider, spec, acc, settings: fitSettings(engine, fitOpts), maxTokens, heldOutEvery: 10, files: mine.size, seconds });
          const summary = { out: abs, shard: spec, files: mine.size, of: texts.length + held.length, windows: acc.ran.windows, tokens: acc.ran.tokens, plan: { tokens: acc.trainTokens, heldOutTokens: acc.heldTokens, windows: acc.windows }, seconds };
          await write(
            v.json
              ? JSON.stringify(summary) + '\n'
              : `wrote ${abs}: shard ${spec.index}/${spec.count}, ${mine.size} of ${summary.of} files, ${acc.ran.windows} of ${acc.windows} windows (${acc.ran.tokens} of ${acc.trainTokens + acc.heldTokens} tokens); combine the shards with lm-probe merge --out FILE\n`,
          );
          return;
        }
        const fit = await fitProbes(engine, fitOpts);
        b.stop();
        const header = writeProbes(out, fit.meta, fit.maps);
        if (v['set-manifest']) {
          const mPath = join(engine.pack.dir, 'manifest.json');
          const rel = relative(engine.pack.dir, resolve(out));
          if (rel.startsWith('..') || isAbsolute(rel)) throw new CliError(EXIT.USAGE, `--set-manifest: ${out} is not inside the pack folder ${engine.pack.dir}`);
          const manifest = JSON.parse(readFileSync(mPath, 'utf8'));
          manifest.probes = rel.split('\\').join('/');
          writeFileSync(mPath, JSON.stringify(manifest, null, 1) + '\n');
        }
        const summary = {
          out: resolve(out),
          binary: header.binary,
          maps: header.maps.map((m) => ({ layer: m.layer, offset: m.offset, lambda: m.lambda, heldOutMse: m.heldOutMse })),
          fittedOn: header.fittedOn,
          seconds: (performance.now() - t0) / 1000,
        };
        await write(v.json ? JSON.stringify(summary) + '\n' : `wrote ${summary.out} and ${header.binary}: ${header.maps.length} maps fitted on ${header.fittedOn.tokens} tokens (${header.fittedOn.heldOutTokens} held out${held.length ? ` from ${held.length} --held-out file(s)` : ''}) in ${summary.seconds.toFixed(1)} s\n`);
      } finally {
        b.stop();
        await engine.dispose();
      }
    },
  },
  'eval-probes': {
    options: { ...common, probes: { type: 'string' }, 'max-tokens': { type: 'string' }, 'rollout-every': { type: 'string' }, baselines: { type: 'string' } },
    allowPositionals: true,
    async run(v, pos, ctx) {
      const texts = files(pos, 'eval-probes');
      const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
      const b = bar('evaluating probes');
      try {
        const a = engine.pack.manifest.architecture;
        const path = typeof v.probes === 'string' ? v.probes : engine.pack.files.probes;
        if (!path) throw new CliError(EXIT.BAD_PACK, `model pack ${engine.pack.dir} has no probes; fit some with lm-probe fit-probes and pass --probes FILE`);
        const probes = loadProbes(path, { width: a.width, layers: a.layers, vocabSize: a.vocabSize }, typeof v.probes === 'string' ? undefined : engine.pack.dir);
        const bPath = typeof v.baselines === 'string' ? v.baselines : engine.pack.files.baselines;
        const baselines = bPath ? loadBaselines(bPath, a.vocabSize) : null;
        const rolloutEvery = intOption(v, 'rollout-every', 8, 0);
        const r = await evalProbes(engine, probes, texts, { maxTokens: intOption(v, 'max-tokens', 20_000, 1), baselines, rolloutEvery, onProgress: (p) => b.update(p), signal: ctx.signal });
        b.stop();
        await write(v.json ? JSON.stringify(r, null, 1) + '\n' : formatEval(r));
      } finally {
        b.stop();
        await engine.dispose();
      }
    },
  },
  lasso: {
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, alpha: { type: 'string' }, data: { type: 'string' }, tol: { type: 'string' }, 'max-iter': { type: 'string' } },
    allowPositionals: false,
    async run(v) {
      const alpha = numOption(v, 'alpha', 0);
      if (alpha === undefined || alpha < 0) throw new CliError(EXIT.USAGE, 'lasso needs --alpha A (a number >= 0)');
      if (typeof v.data !== 'string') throw new CliError(EXIT.USAGE, 'lasso needs --data FILE (JSON {"X": [[...]], "y": [...]}; - for standard input)');
      const text = v.data === '-' ? await readStdin() : readTextFile(v.data);
      const d = readLassoData(v.data, text);
      const tol = numOption(v, 'tol') ?? (typeof d.tol === 'number' ? d.tol : 1e-12);
      const maxIter = v['max-iter'] !== undefined ? intOption(v, 'max-iter', 0, 1) : typeof d.max_iter === 'number' ? d.max_iter : 100_000;
      const fit = lasso(designFromRows(d.X), d.y, alpha, { tol, maxIter });
      await write(JSON.stringify({ coef: Array.from(fit.coef), iterations: fit.iterations }) + '\n');
    },
  },
  analyze: analyzeCommand('all'),
  importance: analyzeCommand('importance'),
  geometry: analyzeCommand('geometry'),
  'bench-analyses': {
    options: { ...common, tokens: { type: 'string' }, repeat: { type: 'string' }, probes: { type: 'string' } },
    allowPositionals: true,
    async run(v, pos) {
      const n = intOption(v, 'tokens', 512, 2);
      const repeat = intOption(v, 'repeat', 3, 1);
      const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
      try {
        let source = pos.length ? pos.map((f) => readCheckedText(f)).join('\n') : '';
        if (!source) throw new CliError(EXIT.USAGE, 'bench-analyses needs a text FILE with at least --tokens tokens');
        const enc = engine.tokenize(source);
        if (enc.ids.length < n) throw new CliError(EXIT.USAGE, `the text has ${enc.ids.length} tokens, fewer than --tokens ${n}`);
        // cut at the n-th token's end
        source = source.slice(0, enc.offsets[n - 1][1]);
        const analyses: ProbeOptions['analyses'] = {
          futureLens: engine.pack.files.probes || typeof v.probes === 'string' ? (typeof v.probes === 'string' ? { probesFile: v.probes } : true) : undefined,
          importance: {},
          geometry: true,
        };
        await engine.probe(source, { analyses }); // warm-up (sessions, head, probe file)
        const rows: { surprisalMs: number; analysesMs: number; tokens: number; parts?: Record<string, number | undefined> }[] = [];
        for (let i = 0; i < repeat; i++) {
          const t0 = performance.now();
          const plain = await engine.probe(source, {});
          const t1 = performance.now();
          const full2 = await engine.probe(source, { analyses });
          const t2 = performance.now();
          rows.push({ surprisalMs: t1 - t0, analysesMs: full2.analyses?.ms ?? t2 - t1 - (t1 - t0), tokens: plain.tokens.length, parts: full2.analyses?.timingsMs });
          void full2;
        }
        const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const s = med(rows.map((r) => r.surprisalMs));
        const a = med(rows.map((r) => r.analysesMs));
        // Per part (wall time, median over the runs): the forward pass with hidden states and
        // attentions, and each analysis (futureLens's ONNX Runtime work interleaves with importance).
        const partNames = ['run', 'futureLens', 'importance', 'geometry'];
        const partsMs: Record<string, number> = {};
        for (const k of partNames) {
          const xs = rows.map((r) => r.parts?.[k]).filter((x): x is number => typeof x === 'number');
          if (xs.length) partsMs[k] = med(xs);
        }
        const report = {
          pack: engine.pack.manifest.name,
          provider: engine.provider,
          tokens: rows[0].tokens,
          directions: engine.hasBackward ? 2 : 1,
          surprisalMs: s,
          analysesMs: a,
          ratio: a / s,
          partsMs,
          runs: rows,
          analyses: Object.keys(analyses).filter((k) => (analyses as Record<string, unknown>)[k] !== undefined),
        };
        await write(
          v.json
            ? JSON.stringify(report, null, 1) + '\n'
            : `${report.tokens} tokens on ${report.pack} (${report.provider}): surprisal passes ${s.toFixed(0)} ms, analyses ${a.toFixed(0)} ms (ratio ${report.ratio.toFixed(2)}; median of ${repeat}; analyses: ${report.analyses.join(', ')})\n` +
                `  parts (ms, median): ${Object.entries(partsMs).map(([k, x]) => `${k === 'run' ? 'forward pass' : k} ${x.toFixed(0)}`).join(', ')}\n`,
        );
      } finally {
        await engine.dispose();
      }
    },
  },
};
