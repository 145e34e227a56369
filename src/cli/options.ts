// What every lm-probe subcommand shares: its shape, the common options and their parsing.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { statSync } from 'node:fs';
import type { EngineOptions } from '../engine/api';
import type { Engine } from '../engine/engine';
import { CliError, EXIT } from './io';

export interface Ctx {
  signal: AbortSignal;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  /** Every option the command takes; each one is documented in its usage (help.ts). */
  options: ParseArgsConfig['options'];
  allowPositionals: boolean;
  run(values: Values, positionals: string[], ctx: Ctx): Promise<void>;
}

/** The options of every command that opens a model. */
export const engineCommon: ParseArgsConfig['options'] = {
  model: { type: 'string' },
  providers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** engineCommon and --json, for the commands whose output has a text and a JSON form. */
export const common: ParseArgsConfig['options'] = { ...engineCommon, json: { type: 'boolean' } };

export function engineOptions(v: Values): EngineOptions {
  const p = typeof v.providers === 'string' ? v.providers.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  // Providers named on the command line are always tried; the default list skips one that failed
  // on this machine in the last week (its failure, and Dawn's stderr noise, show once).
  return p && p.length ? { providers: p } : { rememberProviderFailures: true };
}

export function intOption(v: Values, name: string, def: number, min: number): number {
  const raw = v[name];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new CliError(EXIT.USAGE, `--${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function numOption(v: Values, name: string, min = -Infinity): number | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new CliError(EXIT.USAGE, `--${name}: expected a number, got ${JSON.stringify(raw)}`);
  if (n < min) throw new CliError(EXIT.USAGE, `--${name}: expected a number >= ${min}, got ${raw}`);
  return n;
}

/** A negative number as an option's value: node's parseArgs would take "-1" for an option. */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * parseArgs for one subcommand, with messages a user can act on: "--top -1" reaches the option's
 * own check (which says what it accepts) instead of "argument is ambiguous", and an unknown option
 * names the command's options.
 */
export function parseCommandArgs(name: string, cmd: Command, args: string[]): { values: Values; positionals: string[] } {
  const opts = cmd.options ?? {};
  const longOf = (a: string): string | undefined => {
    if (a.startsWith('--')) return a.slice(2);
    if (/^-[^-]$/.test(a)) return Object.keys(opts).find((k) => opts[k].short === a.slice(1));
    return undefined;
  };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const long = longOf(args[i]);
    if (args[i] === '--') {
      joined.push(...args.slice(i));
      break;
    }
    if (long !== undefined && opts[long]?.type === 'string' && i + 1 < args.length && NEGATIVE_NUMBER.test(args[i + 1])) {
      joined.push(`--${long}=${args[++i]}`);
    } else joined.push(args[i]);
  }
  const hint = `see lm-probe ${name} --help`;
  try {
    const r = parseArgs({ args: joined, options: opts, allowPositionals: cmd.allowPositionals, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const option = quoted.split(', ').pop()?.replace(/ <value>$/, '') ?? quoted;
    const known = Object.keys(opts).map((k) => `--${k}`).join(' ');
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new CliError(EXIT.USAGE, `lm-probe ${name} has no option ${option} (its options: ${known}; ${hint})`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new CliError(
          EXIT.USAGE,
          /argument missing/.test(err.message)
            ? `${option} needs a value (${hint})`
            : /ambiguous/.test(err.message)
              ? `${option} needs a value, and what follows it is an option; a value that starts with "-" is written ${option}=VALUE (${hint})`
              : /does not take an argument/.test(err.message)
                ? `${option} takes no value (${hint})`
                : `${err.message.split('\n')[0]} (${hint})`,
        );
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new CliError(EXIT.USAGE, `lm-probe ${name} takes no FILE or other bare argument, got ${JSON.stringify(quoted)} (${hint})`);
      default:
        throw new CliError(EXIT.USAGE, `${err.message.split('\n')[0]} (${hint})`);
    }
  }
}

/** Writes to stdout, waiting for 'drain' so that a long result never piles up in memory. */
export function write(s: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(s)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

/** A file's size for progress; an unreadable file is reported by readTextFile when its turn comes. */
export function fileSize(file: string): number {
  try {
    return Math.max(1, statSync(file).size);
  } catch {
    return 1;
  }
}

/** One warning line per execution provider that could not start. */
export function reportFallbacks(engine: Engine): void {
  for (const f of engine.fallbacks) process.stderr.write(`lm-probe: warning: execution provider ${f.provider} unavailable (${f.error}); using ${engine.provider}\n`);
}
