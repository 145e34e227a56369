// Screenshots of the analyses' panel cards, outside VS Code: the built webview bundle
// (dist/webview.js) in a page with a stubbed acquireVsCodeApi, fed one ProbeResult with analyses
// (the JSON that `lm-probe analyze` prints), rendered in Debian's Chromium through playwright-core.
//   node test/analysis/screenshot.mjs RESULT.json OUTDIR [light|dark] [WIDTH_PX]   (default 560; the side bar's default is 300)
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [resultPath, outDir = 'screenshots', theme = 'dark', widthArg = '560'] = process.argv.slice(2);
const width = Number(widthArg);
const root = resolve(import.meta.dirname, '..', '..');
const result = JSON.parse(readFileSync(resultPath, 'utf8'));
mkdirSync(outDir, { recursive: true });
const dark = theme !== 'light';
const vars = dark
  ? { bg: '#1e1e1e', fg: '#cccccc', muted: '#9d9d9d', side: '#252526' }
  : { bg: '#ffffff', fg: '#333333', muted: '#717171', side: '#f3f3f3' };
const html = `<!doctype html><html><head><meta charset="utf-8">
<style>:root{--vscode-foreground:${vars.fg};--vscode-descriptionForeground:${vars.muted};--vscode-editor-background:${vars.bg};
--vscode-sideBar-background:${vars.side};--vscode-font-family:system-ui,sans-serif;--vscode-editor-font-family:monospace;
--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-purple:#b180d7;
--vscode-charts-red:#f14c4c;--vscode-charts-yellow:#cca700;--vscode-focusBorder:#007fd4}
body{background:${vars.side};color:${vars.fg};font-family:system-ui,sans-serif;font-size:13px;width:${width}px;margin:8px}</style>
<style>${readFileSync(join(root, 'media', 'panel.css'), 'utf8')}</style></head>
<body><div id="app" data-nonce=""></div>
<script>window.acquireVsCodeApi = () => ({ postMessage: (m) => (window.__posted = [...(window.__posted || []), m]), getState: () => undefined, setState: () => {} });</script>
<script>${readFileSync(join(root, 'dist', 'webview.js'), 'utf8').replace(/<\/script>/g, '<\\/script>')}</script>
</body></html>`;
const page_ = join(outDir, 'panel.html');
writeFileSync(page_, html);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: width + 20, height: 1600 }, deviceScaleFactor: 1.5 });
page.on('console', (m) => m.type() === 'error' && console.error('page:', m.text()));
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto('file://' + resolve(page_));
await page.evaluate((r) => window.postMessage({ type: 'state', result: r, source: { file: 'example.py', line: 1 }, settings: { measure: 'forward', thresholds: [2, 4, 8, 12], colors: {} } }, '*'), result);
await page.waitForTimeout(800);
for (const key of ['futureLens', 'importance', 'geometry']) {
  const card = page.locator(`section.card.analysis[data-key="${key}"]`);
  if ((await card.count()) === 0) {
    console.error(`no card for ${key}`);
    continue;
  }
  await card.screenshot({ path: join(outDir, `${key}${dark ? '' : '-light'}.png`) });
  console.log(`wrote ${join(outDir, `${key}${dark ? '' : '-light'}.png`)}`);
}
// the slider: move along the path and screenshot the importance card again
const slider = page.locator('section.card.analysis[data-key="importance"] input[type=range]');
if (await slider.count()) {
  await slider.evaluate((s) => {
    s.value = String(Math.round(Number(s.max) * 0.75));
    s.dispatchEvent(new Event('input'));
  });
  await page.waitForTimeout(200);
  await page.locator('section.card.analysis[data-key="importance"]').screenshot({ path: join(outDir, `importance-slider${dark ? '' : '-light'}.png`) });
}
await browser.close();
