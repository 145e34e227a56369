// lm-probe: the command line over src/engine. Results go to stdout, messages to stderr, and the
// exit code says what happened (EXIT in io.ts). The subcommands are in commands/index.ts.
import { interrupt } from './signals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../engine/pack';
import { isProbeError, type ProbeErrorCode } from '../engine/errors';
import { CliError, EXIT } from './io';
import { COMMANDS, HELP } from './commands';
import { commandHelp, globalHelp } from './help';
import { parseCommandArgs } from './options';
import { keepYoungGenerationSmall } from '../engine/youngGeneration';

keepYoungGenerationSmall();

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
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
  if (cmdName === undefined) {
    // No command is a usage error: the help goes to stderr, where a script's log keeps it.
    process.stderr.write(globalHelp(HELP));
    return EXIT.USAGE;
  }
  if (cmdName === 'help' || cmdName === '--help' || cmdName === '-h') {
    const topic = rest[0];
    process.stdout.write(topic !== undefined && COMMANDS[topic] ? commandHelp(HELP, topic) : globalHelp(HELP));
    return EXIT.OK;
  }
  if (cmdName === '--version' || cmdName === '-v') {
    process.stdout.write(version() + '\n');
    return EXIT.OK;
  }
  const cmd = COMMANDS[cmdName];
  if (!cmd) throw new CliError(EXIT.USAGE, `unknown command ${JSON.stringify(cmdName)} (commands: ${Object.keys(COMMANDS).join(', ')}; see lm-probe --help)`);
  // --help anywhere before a "--" wins over whatever else is on the line (even an unknown option).
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(commandHelp(HELP, cmdName));
    return EXIT.OK;
  }
  const { values, positionals } = parseCommandArgs(cmdName, cmd, rest);
  await cmd.run(values, positionals, { signal: interrupt.signal });
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
