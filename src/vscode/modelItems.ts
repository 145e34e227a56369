// The rows of "LM Probe: Choose model...": discovered models grouped under separators (Bundled,
// Workspace, Hugging Face cache), then the Browse actions. Pure (no 'vscode'), so that the rows
// are unit-tested; chooseModel.ts turns them into QuickPickItems.
import { resolve } from 'node:path';
import { describeLine, type DiscoveredModel, type ModelSource } from '../engine/models/discover';

export type ModelRow =
  | { type: 'separator'; label: string }
  | { type: 'model'; label: string; description: string; detail: string; model: DiscoveredModel; current: boolean }
  | { type: 'browse'; label: string; description: string; detail: string; browse: 'folder' | 'pairFile' };

const GROUPS: { source: ModelSource; label: string }[] = [
  { source: 'bundled', label: 'Bundled' },
  { source: 'workspace', label: 'Workspace' },
  { source: 'hf-cache', label: 'Hugging Face cache' },
];

const ICON: Record<DiscoveredModel['kind'], string> = { pack: '$(package)', pair: '$(arrow-swap)', huggingface: '$(hubot)' };

export function isCurrent(m: DiscoveredModel, current: { path: string; bundled: boolean }): boolean {
  if (m.source === 'bundled') return current.bundled;
  if (current.bundled) return false;
  return resolve(m.path) === resolve(current.path);
}

/** One model's row: label, "forward only · architecture · parameters · size · current", and the path (or why it cannot be used). */
export function modelRow(m: DiscoveredModel, current: boolean): Extract<ModelRow, { type: 'model' }> {
  // What decides the pick first (the row is cut on the right in a narrow window).
  const parts: string[] = [];
  if (!m.supported) parts.push('not supported');
  if (m.kind === 'pair') parts.push('pair');
  if (m.supported && !m.hasBackward) parts.push('forward only');
  const line = describeLine(m);
  if (line) parts.push(line);
  if (m.source === 'bundled') parts.push('bundled');
  if (current) parts.push('current');
  return {
    type: 'model',
    label: `${m.supported ? ICON[m.kind] : '$(circle-slash)'} ${m.label}`,
    description: parts.join(' · '),
    detail: m.supported ? m.path : `$(warning) ${m.reason ?? 'not supported'} (${m.path})`,
    model: m,
    current,
  };
}

export function modelRows(models: DiscoveredModel[], current: { path: string; bundled: boolean }, searching = false): ModelRow[] {
  const rows: ModelRow[] = [];
  for (const g of GROUPS) {
    const ms = models.filter((m) => m.source === g.source);
    if (!ms.length) continue;
    rows.push({ type: 'separator', label: g.label });
    for (const m of ms) rows.push(modelRow(m, isCurrent(m, current)));
  }
  rows.push({ type: 'separator', label: searching ? 'Searching the workspace and the Hugging Face cache…' : 'Other' });
  rows.push({
    type: 'browse',
    label: '$(folder-opened) Browse for a model folder…',
    description: '',
    detail: 'a model pack (manifest.json), a Hugging Face model (config.json, safetensors, tokenizer.json) or a folder with pair.json',
    browse: 'folder',
  });
  rows.push({
    type: 'browse',
    label: '$(json) Browse for a pair file…',
    description: '',
    detail: 'a JSON file {"format": "lm-probe-pair", "forward": "<folder>", "backward": "<folder>"}',
    browse: 'pairFile',
  });
  return rows;
}

/** The message for a path that is not a model at all. */
export function notAModel(path: string): string {
  return `${path} is not a model LM Probe can open: it has no manifest.json (model pack), pair.json (forward/backward pair) or config.json (Hugging Face model).`;
}

/** The message for a model the engine would refuse. */
export function refused(m: DiscoveredModel): string {
  return `${m.label} cannot be used: ${m.reason ?? 'not supported'} (${m.path})`;
}
