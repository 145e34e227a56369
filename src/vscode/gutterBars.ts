// The per-line heatmap's gutter bars: small SVG files (a gutter icon is an image, it cannot take
// a theme color), one per color and bar length, written once into the extension's storage.
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

/** Bar lengths: a line's bar is k/GUTTER_STEPS of the gutter's width for the largest line sum. */
export const GUTTER_STEPS = 8;

/** The SVG of a bar `k` steps long in `color` (any CSS color). */
export function gutterBarSvgText(color: string, k: number): string {
  const w = Math.max(1, Math.round((16 * k) / GUTTER_STEPS));
  const safe = color.replace(/[^#\w(),.% -]/g, '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16"><rect x="0" y="2" width="${w}" height="12" rx="1" fill="${safe}"/></svg>`;
}

/** A file URI of that SVG under `dir` (written on first use). */
export function gutterBarSvg(dir: vscode.Uri, color: string, k: number): vscode.Uri {
  const svg = gutterBarSvgText(color, k);
  const name = `bar-${createHash('sha1').update(svg).digest('hex').slice(0, 12)}.svg`;
  const file = vscode.Uri.joinPath(dir, name);
  if (!existsSync(file.fsPath)) {
    mkdirSync(dir.fsPath, { recursive: true });
    writeFileSync(file.fsPath, svg);
  }
  return file;
}
