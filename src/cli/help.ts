// The help texts: `lm-probe --help` prints every command's usage; `lm-probe CMD --help` prints the
// sections of the usage blocks that name CMD, with the common options CMD takes. A section starts
// at a line "  lm-probe NAME[ | NAME]..." and runs over the more deeply indented lines after it.
import type { Command } from './options';

const SECTION_START = /^ {2}lm-probe ([a-z][a-z-]*(?: \| [a-z][a-z-]*)*)/;

/** The options every command documents in one place (help.ts prints those a command takes). */
const COMMON_OPTIONS: Record<string, string> = {
  model: `  --model PATH       a model pack folder, a Hugging Face model folder (config.json, safetensors,
                     tokenizer.json; probed forward only) or a pair (pair.json, or a folder holding
                     one); default: models/default of this package. lm-probe models lists them`,
  providers: `  --providers LIST   execution providers in order, comma-separated (webgpu, cuda, dml, coreml,
                     cpu; default: the best bundled one for this machine, then cpu)`,
  json: `  --json             print the result as JSON and nothing else on stdout`,
  help: `  -h, --help         print this command's usage`,
};

export const EXIT_CODES = `Exit codes:
  0 success   1 runtime failure   2 usage error   3 bad input text (empty, whitespace only, NUL
  characters, invalid UTF-8, too many tokens)   4 bad or missing model pack   130 cancelled (Ctrl-C)
`;

const PROGRESS_NOTE = `Progress goes to stderr: a bar on a terminal; otherwise (a log file, CI) one line every
LM_PROBE_PROGRESS_SECONDS seconds (default 5) with the tokens done, tokens per second and the ETA.
`;

/** Sections of a usage block by command name (a section naming two commands is under both). */
export function usageSections(block: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: { names: string[]; lines: string[] } | null = null;
  const flush = () => {
    if (!current) return;
    for (const n of current.names) out.set(n, [...(out.get(n) ?? []), current.lines.join('\n')]);
    current = null;
  };
  for (const line of block.split('\n')) {
    const start = SECTION_START.exec(line);
    if (start) {
      flush();
      current = { names: start[1].split(' | '), lines: [line] };
    } else if (current && /^ {3,}\S/.test(line)) {
      current.lines.push(line);
    } else flush();
  }
  flush();
  return out;
}

export interface HelpSource {
  /** What `lm-probe --help` prints before the usage blocks. */
  intro: string;
  /** The usage blocks, in the order `lm-probe --help` prints them. */
  blocks: string[];
  commands: Record<string, Command>;
  /** Commands documented under another's options (e.g. importance: analyze). */
  seeAlso?: Record<string, string[]>;
}

export function globalHelp(src: HelpSource): string {
  const common = Object.values(COMMON_OPTIONS).join('\n');
  return `${src.intro}\nCommon options (of the commands that take them; lm-probe COMMAND --help for one command):\n${common}\n${src.blocks.join('')}\n${PROGRESS_NOTE}\n${EXIT_CODES}`;
}

export function commandHelp(src: HelpSource, name: string): string {
  const sections = src.blocks.map(usageSections);
  const of = (n: string) => sections.flatMap((s) => s.get(n) ?? []);
  const parts = [...of(name), ...(src.seeAlso?.[name] ?? []).flatMap(of)];
  const opts = src.commands[name]?.options ?? {};
  const common = Object.keys(COMMON_OPTIONS)
    .filter((k) => k in opts)
    .map((k) => COMMON_OPTIONS[k]);
  return `Usage:\n${parts.join('\n')}\n\nCommon options:\n${common.join('\n')}\n\n${EXIT_CODES}`;
}
