// What every lm-probe subcommand shares: its shape, the common options and their parsing.
import type { ParseArgsConfig } from 'node:util';
import { statSync } from 'node:fs';
import type { EngineOptions } from '../engine/api';
import type { Engine } from '../engine/engine';
import { CliError, EXIT } from './io';

export interface Ctx {
  signal: AbortSignal;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  options: ParseArgsConfig['options'];
  allowPositionals: boolean;
  run(values: Values, positionals: string[], ctx: Ctx): Promise<void>;
}

export const common: ParseArgsConfig['options'] = {
  model: { type: 'string' },
  providers: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

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

export function numOption(v: Values, name: string): number | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new CliError(EXIT.USAGE, `--${name}: expected a number, got ${JSON.stringify(raw)}`);
  return n;
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
