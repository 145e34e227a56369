// lm-probe: the command line over src/engine. Results go to stdout, messages to stderr, and the
// exit code says what happened (EXIT in io.ts). A new subcommand is one entry in COMMANDS.
import { interrupt } from './signals';
import { parseArgs } from 'node:util';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../engine/pack';
import { Engine } from '../engine/engine';
import { isProbeError, type ProbeErrorCode } from '../engine/errors';
import { PROBE_RESULT_VERSION, type ProbeResult } from '../engine/schema';
import { CliError, EXIT, readStdin, readTextFile } from './io';
import { formatTable } from './format';
import { formatCorpus, runCorpus, type CorpusDoc } from './corpus';
import { SingleBar } from 'cli-progress';
import { ANALYSIS_COMMANDS, ANALYSIS_USAGE } from './commands/analysis';
import { MODELS_COMMAND, MODELS_USAGE } from './commands/models';
import { LABS_COMMANDS, LABS_USAGE } from './commands/labs';
import { CORPUS_SHARD_OPTIONS, MERGE_COMMAND, SHARD_USAGE, corpusShard } from './commands/shards';
import { common, engineOptions, fileSize, intOption, reportFallbacks, write, type Command, type Values } from './options';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const USAGE = `lm-probe: what a language model makes of your text (forward and backward surprisal)

Usage:
  lm-probe probe  [--model DIR] [--json] [--top K] [--summary] (--text "..." | FILE | -)
  lm-probe corpus [--model DIR] [--json] [--resamples N] [--seed S] [--shard I/N --out FILE] FILE...
  lm-probe merge  [--json] [--out FILE] SHARD...   combine corpus / fit-probes shards (below)
  lm-probe models [--json] [FOLDER...]
  lm-probe icl | skills [--json] ...   theory labs (below)
  lm-probe help | --help | --version

Common options:
  --model PATH       a model pack folder, a Hugging Face model folder (config.json, safetensors,
                     tokenizer.json; probed forward only) or a pair (pair.json, or a folder holding
                     one); default: models/default of this package. lm-probe models lists them
  --providers LIST   execution providers in order, comma-separated (default: the best bundled
                     one for this machine, then cpu)
  --json             print the result as JSON (probe: the ProbeResult) and nothing else on stdout
probe options:
  --text "..."       the text to probe; or a FILE; or - for standard input (UTF-8)
  --top K            alternatives kept per token and direction (default 5)
  --max-tokens N     refuse texts longer than N tokens (default 1000000)
  --forward-only     skip the backward model
  --summary          print only the summary, not the per-token table
corpus options:
  --resamples N      bootstrap resamples for delta's 95% interval (default 1000); resampled
                     units are the files when there are 10 or more, else blocks of one context
  --seed S           bootstrap seed (default 1)
${ANALYSIS_USAGE}${SHARD_USAGE}${MODELS_USAGE}${LABS_USAGE}
Exit codes:
  0 success   1 runtime failure   2 usage error   3 bad input text   4 bad or missing model pack
  130 cancelled (Ctrl-C)
`;

/**
 * Writes a ProbeResult as one line of JSON without building one giant string: a long text's
 * result can be hundreds of MB of JSON, past what one V8 string holds. Same bytes as
 * JSON.stringify(r) (a JSON string value cannot contain the unescaped key "tokens":[]).
 */
async function writeResultJson(r: ProbeResult): Promise<void> {
  const shell = JSON.stringify({ ...r, tokens: [] });
  const at = shell.indexOf('"tokens":[]') + '"tokens":['.length;
  await write(shell.slice(0, at));
  for (let i = 0; i < r.tokens.length; i += 2000) {
    const part = r.tokens.slice(i, i + 2000).map((t) => JSON.stringify(t)).join(',');
    await write(i === 0 ? part : ',' + part);
  }
  await write(shell.slice(at) + '\n');
}

function warn(msg: string): void {
  process.stderr.write(`lm-probe: warning: ${msg}\n`);
}

const COMMANDS: Record<string, Command> = {
  probe: {
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
      if (topK > 100) throw new CliError(EXIT.USAGE, '--top: at most 100');
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
        // A progress bar on a terminal for texts that take many windows (stderr only: stdout stays clean).
        let bar: SingleBar | null = null;
        const onProgress = (p: { done: number; total: number; stage: string }) => {
          if (!bar && process.stderr.isTTY && p.total >= 16 && p.done < p.total) {
            bar = new SingleBar({ format: 'scoring |{bar}| {percentage}% | {stage} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
            bar.start(p.total, p.done, { stage: p.stage });
          }
          bar?.update(p.done, { stage: p.stage });
        };
        const probeOpts = { topK, maxTokens, forwardOnly: v['forward-only'] === true, signal: ctx.signal, onProgress };
        let r;
        try {
          // --summary needs only the sums: no per-token objects, so memory stays flat on long texts.
          r = v.summary && !v.json ? await summaryResult(engine, text, probeOpts) : await engine.probe(text, probeOpts);
        } finally {
          (bar as SingleBar | null)?.stop();
        }
        for (const w of r.warnings) warn(w);
        if (v.json) await writeResultJson(r);
        else await write(formatTable(r, { summaryOnly: v.summary === true }));
      } finally {
        await engine.dispose();
      }
    },
  },
  corpus: {
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
      const docs: CorpusDoc[] = pos.map((file) =>
        file === '-' ? { file, text: readStdin, size: 1 } : { file, text: () => readTextFile(file), size: fileSize(file) },
      );
      const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
      const bar = process.stderr.isTTY
        ? new SingleBar({ format: 'scoring |{bar}| {percentage}% | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true })
        : null;
      try {
        reportFallbacks(engine);
        bar?.start(1000, 0);
        let report;
        try {
          report = await runCorpus(engine, docs, {
            resamples,
            seed,
            signal: ctx.signal,
            onProgress: (f) => bar?.update(Math.round(f * 1000)),
          });
        } finally {
          bar?.stop();
        }
        await write(v.json ? JSON.stringify(report, null, 1) + '\n' : formatCorpus(report));
      } finally {
        await engine.dispose();
      }
    },
  },
  ...ANALYSIS_COMMANDS,
  merge: MERGE_COMMAND,
  models: MODELS_COMMAND,
  ...LABS_COMMANDS,
};

/** A ProbeResult without tokens (what formatSummary reads), from the per-token nats alone. */
async function summaryResult(engine: Engine, text: string, opts: Parameters<Engine['surprisalNats']>[1]): Promise<ProbeResult> {
  const n = await engine.surprisalNats(text, opts);
  return { version: PROBE_RESULT_VERSION, text: '', pack: engine.pack.info, tokens: [], summary: n.summary, runtime: n.runtime, warnings: n.warnings };
}



const CODE_EXIT: Record<ProbeErrorCode, number> = {
  EMPTY_TEXT: EXIT.BAD_TEXT,
  BAD_TEXT: EXIT.BAD_TEXT,
  TOO_MANY_TOKENS: EXIT.BAD_TEXT,
  TOKENIZER_MISMATCH: EXIT.BAD_TEXT,
  PACK_NOT_FOUND: EXIT.BAD_PACK,
  BAD_PACK: EXIT.BAD_PACK,
  CANCELLED: EXIT.CANCELLED,
  BAD_ARGUMENT: EXIT.USAGE,
  DISPOSED: EXIT.RUNTIME,
  RUNTIME: EXIT.RUNTIME,
};

async function main(argv: string[]): Promise<number> {
  const [cmdName, ...rest] = argv;
  if (cmdName === undefined || cmdName === 'help' || cmdName === '--help' || cmdName === '-h') {
    process.stdout.write(USAGE);
    return cmdName === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (cmdName === '--version' || cmdName === '-v') {
    process.stdout.write(version() + '\n');
    return EXIT.OK;
  }
  const cmd = COMMANDS[cmdName];
  if (!cmd) throw new CliError(EXIT.USAGE, `unknown command ${JSON.stringify(cmdName)} (commands: ${Object.keys(COMMANDS).join(', ')}; see lm-probe --help)`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: cmd.allowPositionals, strict: true });
  } catch (e) {
    throw new CliError(EXIT.USAGE, `${(e as Error).message.split('\n')[0]} (see lm-probe --help)`);
  }
  if ((parsed.values as Values).help) {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  await cmd.run(parsed.values as Values, parsed.positionals, { signal: interrupt.signal });
  return EXIT.OK;
}

// Last resort: whatever escapes is still one line on stderr and exit 1, never a stack trace.
for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(ev, (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`lm-probe: error: internal error: ${msg}${process.env.LM_PROBE_DEBUG && e instanceof Error ? '\n' + e.stack : ''}\n`);
    process.exit(EXIT.RUNTIME);
  });
}

// A closed pipe (lm-probe ... | head) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.OK);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    let code: number = EXIT.RUNTIME;
    let msg: string;
    if (e instanceof CliError) {
      code = e.exitCode;
      msg = e.message;
    } else if (isProbeError(e)) {
      code = CODE_EXIT[e.code] ?? EXIT.RUNTIME;
      msg = e.message;
    } else {
      msg = `internal error: ${e instanceof Error ? e.message : String(e)}`;
      if (process.env.LM_PROBE_DEBUG && e instanceof Error && e.stack) msg += '\n' + e.stack;
      else msg += ' (set LM_PROBE_DEBUG=1 for a stack trace)';
    }
    process.stderr.write(`lm-probe: error: ${msg}\n`);
    process.exitCode = code;
  },
);
