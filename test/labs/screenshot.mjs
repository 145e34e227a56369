// Screenshots of the Labs view outside VS Code: the built bundle (dist/labs.js) in a page with a
// stubbed acquireVsCodeApi whose messages are answered in Node by the same code the extension runs
// (src/vscode/labs/compute.ts, bundled here with esbuild), rendered in Debian's Chromium.
//   node test/labs/screenshot.mjs OUTDIR [light]
// The end-to-end test (scripts/e2e.mjs) takes the same screenshots in a real VS Code.
import { chromium } from 'playwright-core';
import * as esbuild from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [outDir = 'test-results/labs', theme = 'dark'] = process.argv.slice(2);
const root = resolve(import.meta.dirname, '..', '..');
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'lm-probe-labs-shot-'));
const computeJs = join(tmp, 'compute.cjs');
await esbuild.build({ entryPoints: [join(root, 'src/vscode/labs/compute.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: computeJs, logLevel: 'warning' });
const compute = createRequire(import.meta.url)(computeJs);

const dark = theme !== 'light';
const vars = dark
  ? { bg: '#1e1e1e', fg: '#cccccc', muted: '#9d9d9d', side: '#181818', input: '#313131', widget: '#202020', border: '#2b2b2b' }
  : { bg: '#ffffff', fg: '#3b3b3b', muted: '#717171', side: '#f8f8f8', input: '#ffffff', widget: '#f8f8f8', border: '#e5e5e5' };
const html = `<!doctype html><html><head><meta charset="utf-8">
<style>:root{--vscode-foreground:${vars.fg};--vscode-descriptionForeground:${vars.muted};--vscode-editor-background:${vars.bg};
--vscode-sideBar-background:${vars.side};--vscode-editorWidget-background:${vars.widget};--vscode-widget-border:${vars.border};
--vscode-input-background:${vars.input};--vscode-input-foreground:${vars.fg};--vscode-input-border:${vars.border};
--vscode-font-family:system-ui,sans-serif;--vscode-editor-font-family:monospace;--vscode-font-size:13px;
--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-purple:#b180d7;
--vscode-charts-red:#f14c4c;--vscode-charts-yellow:#cca700;--vscode-focusBorder:#007fd4;--vscode-button-background:#0078d4;--vscode-button-foreground:#ffffff}
body{background:${vars.side};color:${vars.fg};font-family:system-ui,sans-serif;font-size:13px;width:${process.env.LABS_WIDTH ?? 400}px;margin:0}</style>
<style>${readFileSync(join(root, 'media', 'panel.css'), 'utf8')}</style></head>
<body><div id="app" class="labs" data-nonce=""></div>
<script>window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__fromLabs(m), getState: () => undefined, setState: () => {} });</script>
<script>${readFileSync(join(root, 'dist', 'labs.js'), 'utf8').replace(/<\/script>/g, '<\\/script>')}</script>
</body></html>`;
const pagePath = join(tmp, 'labs.html');
writeFileSync(pagePath, html);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 400, height: 1000 }, deviceScaleFactor: 1.5 });
page.on('console', (m) => m.type() === 'error' && console.error('page:', m.text()));
page.on('pageerror', (e) => console.error('page error:', e.message));
let iclParams = compute.ICL_DEFAULTS;
let skillsParams = compute.SKILLS_DEFAULTS;
const send = (m) => page.evaluate((x) => window.postMessage(x, '*'), m);
async function answer(m) {
  if (m.type === 'ready') {
    const icl = compute.iclView(iclParams, null);
    const data = compute.iclData(iclParams, null);
    icl.sweep = compute.mergeSweep(compute.sweepCounts(icl.data.n).map((n) => compute.sweepPoint(data, iclParams, n)));
    await send({ type: 'state', tab: 'icl', iclParams, skillsParams, icl, skills: compute.skillsView(skillsParams, null) });
  } else if (m.type === 'icl') {
    iclParams = compute.clampIcl(m.params);
    await send({ type: 'icl', view: compute.iclView(iclParams, null) });
  } else if (m.type === 'skills') {
    skillsParams = compute.clampSkills(m.params);
    await send({ type: 'skills', view: compute.skillsView(skillsParams, null) });
  }
}
await page.exposeFunction('__fromLabs', (m) => void answer(m));
await page.goto('file://' + pagePath);
await page.waitForTimeout(1500);
const suffix = dark ? 'dark' : 'light';
await page.screenshot({ path: join(outDir, `labs-icl-${suffix}.png`), fullPage: true });
await page.locator('vscode-tab-header[data-tab=skills]').click();
await page.waitForTimeout(800);
await page.screenshot({ path: join(outDir, `labs-skills-${suffix}.png`), fullPage: true });
console.log(`wrote ${outDir}/labs-{icl,skills}-${suffix}.png`);
await browser.close();
rmSync(tmp, { recursive: true, force: true });
