// Every lm-probe subcommand by name, and where its help comes from (help.ts). A new subcommand is
// one entry in COMMANDS and a section "  lm-probe NAME ..." in one of the usage blocks.
import { ANALYSIS_COMMANDS, ANALYSIS_USAGE } from './analysis';
import { BENCH_COMMAND, BENCH_USAGE } from './bench';
import { LABS_COMMANDS, LABS_USAGE } from './labs';
import { MODELS_COMMAND, MODELS_USAGE } from './models';
import { CORPUS_COMMAND, PROBE_COMMAND, PROBE_USAGE } from './probe';
import { MERGE_COMMAND, SHARD_USAGE } from './shards';
import type { Command } from '../options';
import type { HelpSource } from '../help';

export const COMMANDS: Record<string, Command> = {
  probe: PROBE_COMMAND,
  corpus: CORPUS_COMMAND,
  ...ANALYSIS_COMMANDS,
  bench: BENCH_COMMAND,
  merge: MERGE_COMMAND,
  models: MODELS_COMMAND,
  ...LABS_COMMANDS,
};

export const HELP: HelpSource = {
  intro: `lm-probe: what a language model makes of your text (forward and backward surprisal)

Usage: lm-probe COMMAND [OPTIONS] [ARGUMENTS]    (lm-probe COMMAND --help: that command only)
       lm-probe --help | --version
Commands: ${Object.keys(COMMANDS).join(', ')}
`,
  blocks: [PROBE_USAGE, ANALYSIS_USAGE, BENCH_USAGE, SHARD_USAGE, MODELS_USAGE, LABS_USAGE],
  commands: COMMANDS,
  seeAlso: { importance: ['analyze'], geometry: ['analyze'] },
};
