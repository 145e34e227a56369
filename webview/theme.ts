// Colors for canvas charts, read from the --vscode-* CSS variables that VS Code sets on the
// webview for the current theme (the contributed lmProbe.* colors included).
import type { ThemeColors } from './analyses/index';

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function themeColors(): ThemeColors {
  return {
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#999999'),
    grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    forward: cssVar('--vscode-charts-blue', '#3794ff'),
    backward: cssVar('--vscode-charts-orange', '#d18616'),
    accent: cssVar('--vscode-focusBorder', '#007fd4'),
    red: cssVar('--vscode-charts-red', '#f14c4c'),
    green: cssVar('--vscode-charts-green', '#89d185'),
    yellow: cssVar('--vscode-charts-yellow', '#cca700'),
    purple: cssVar('--vscode-charts-purple', '#b180d7'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

/** A contributed heatmap color as a CSS value, with the user's override when there is one. */
export function heatColor(id: string, overrides: Record<string, string>): string {
  const short = id.replace(/^lmProbe\./, '');
  // VS Code names a color's variable by replacing only the first '.' of its id with '-'
  // (lmProbe.surprisal.high -> --vscode-lmProbe-surprisal.high); the other dots need escaping.
  return overrides[short] ?? `var(--vscode-${id.replace('.', '-').replace(/\./g, '\\.')})`;
}

export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (m) return `#${m[1]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  return color;
}
