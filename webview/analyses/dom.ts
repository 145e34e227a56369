// Small DOM helpers for the analysis views. Styles are set through the CSSOM (el.style) or the
// one nonce'd <style> below: the panel's CSP refuses style attributes in markup.
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; title?: string; text?: string; [k: string]: unknown } = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = String(v);
    else if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v as EventListener);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}


const CSS = `
.an-scroll { overflow: auto; max-height: 360px; border: 1px solid var(--vscode-panel-border, rgba(128,128,128,.3)); }
.an-grid { border-collapse: collapse; font-family: var(--vscode-editor-font-family, monospace); font-size: 11px; }
.an-grid th { position: sticky; top: 0; background: var(--vscode-sideBar-background, var(--vscode-editor-background)); z-index: 1; padding: 2px 4px; font-weight: 600; color: var(--vscode-descriptionForeground); }
.an-grid td { padding: 1px 2px; border-top: 1px solid rgba(128,128,128,.15); vertical-align: top; }
.an-grid td.tok { cursor: pointer; white-space: nowrap; padding-right: 6px; }
.an-grid td.tok:hover { text-decoration: underline; }
.an-cell { display: flex; gap: 2px; }
.an-guess { min-width: 2.6em; max-width: 4.6em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding: 0 2px; border-radius: 2px; border: 1px solid transparent; }
.an-guess.hit { border-color: var(--vscode-charts-green, #89d185); font-weight: 600; }
.an-guess.hit::after { content: ' ✓'; color: var(--vscode-charts-green, #89d185); }
.an-heat { border-collapse: collapse; font-size: 11px; margin-top: 6px; }
.an-heat td, .an-heat th { padding: 3px 8px; text-align: right; }
.an-heat th { color: var(--vscode-descriptionForeground); font-weight: 600; }
.an-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 4px 0; font-size: 12px; }
.an-muted { color: var(--vscode-descriptionForeground); font-size: 11px; }
.an-chart { position: relative; height: 180px; }
.an-chart.small { height: 130px; }
.an-strip { display: flex; flex-wrap: wrap; gap: 1px; font-family: var(--vscode-editor-font-family, monospace); font-size: 11px; max-height: 90px; overflow: auto; }
.an-strip span { cursor: pointer; padding: 0 2px; border-radius: 2px; }
.an-strip span.target { outline: 1px solid var(--vscode-focusBorder, #007fd4); font-weight: 600; }
.an-grid.one { width: 100%; table-layout: fixed; }
.an-grid.one th { text-align: left; }
.an-grid.one th:first-child, .an-grid.one td.tok { width: 28%; overflow: hidden; text-overflow: ellipsis; }
.an-grid.one td { padding: 1px 3px; }
.an-grid.one .an-guess { display: block; min-width: 0; max-width: none; }
.an-source { overflow-wrap: anywhere; }
.an-row select, .an-select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border: 1px solid var(--vscode-dropdown-border, transparent); border-radius: 2px; padding: 1px 2px; font: inherit; font-size: 12px; }
.an-row select:focus, .an-select:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.an-row input[type=range] { accent-color: var(--vscode-button-background, #0078d4); flex: 1 1 120px; min-width: 80px; }
h2 .where.an-window { display: block; white-space: normal; overflow: visible; text-overflow: clip; margin-left: 0; text-transform: none; }
.an-legend-swatch { display: inline-block; width: 10px; height: 10px; vertical-align: middle; margin-right: 3px; }
`;

const injected = new Set<string>();

/** Adds a stylesheet once, with the page's nonce (the CSP allows no other inline style). */
export function injectCss(css: string): void {
  if (injected.has(css)) return;
  injected.add(css);
  const nonce = document.getElementById('app')?.dataset.nonce;
  const s = document.createElement('style');
  if (nonce) s.setAttribute('nonce', nonce);
  s.textContent = css;
  document.head.append(s);
}

export function injectStyles(): void {
  injectCss(CSS);
}

/** A color for a value in [0, 1] on a transparent-to-accent scale. */
export function shade(color: string, v: number): string {
  const a = Math.max(0, Math.min(1, v));
  const m = /^#([0-9a-f]{6})/i.exec(color.trim());
  if (m) return `#${m[1]}${Math.round(a * 200 + 20).toString(16).padStart(2, '0')}`;
  return `rgba(55,148,255,${(a * 0.8 + 0.08).toFixed(3)})`;
}
