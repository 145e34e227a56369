// lm-probe models: what --model can name on this machine (the bundled pack, packs, pairs and
// Hugging Face folders under the given folders, and the local Hugging Face cache), as the VS Code
// picker lists them. Reads headers only; downloads nothing.
import { describeLine, discoverModels } from '../../engine/models/discover';
import { write, type Command } from '../options';

export const MODELS_USAGE = `
Finding models:
  lm-probe models [--json] [FOLDER...]
      what --model can name on this machine: the bundled pack, the packs, pairs and Hugging Face
      folders under each FOLDER (4 levels deep) and in the local Hugging Face cache, with
      architecture, parameters and size (headers only; nothing is downloaded)
`;

export const MODELS_COMMAND: Command = {
  options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
  async run(values, positionals) {
    const models = await discoverModels({ workspaceFolders: positionals });
    if (values.json) {
      await write(JSON.stringify(models, null, 1) + '\n');
      return;
    }
    const where = { bundled: 'bundled', workspace: 'folder', 'hf-cache': 'hf cache', path: 'path' } as const;
    for (const m of models) {
      const mark = m.supported ? (m.hasBackward ? 'pair   ' : 'forward') : 'refused';
      await write(`${mark}  ${m.label.padEnd(32)} ${where[m.source].padEnd(8)}  ${describeLine(m)}\n         ${m.path}\n`);
      if (!m.supported && m.reason) await write(`         ${m.reason}\n`);
    }
    if (models.length === 0) await write('no models found\n');
  },
};
