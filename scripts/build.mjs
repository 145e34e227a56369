// Bundles every entry point with esbuild. onnxruntime-node stays external: it loads a native
// binary from its own package folder at run time, which a bundle cannot carry.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
};

const browser = { bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: !production, minify: production, logLevel: 'warning' };
const entries = [
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: ['src/host/engineProcess.ts'], outfile: 'dist/engineHost.js' },
  // the worker thread of the analyses, found beside cli.js and engineHost.js (stateThread.ts)
  { ...node, entryPoints: ['src/engine/analysis/stateWorker.ts'], outfile: 'dist/stateWorker.js' },
  { ...node, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js' },
  { ...browser, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
  // the Labs view (src/vscode/labs/labsProvider.ts)
  { ...browser, entryPoints: ['webview/labs/main.ts'], outfile: 'dist/labs.js' },
].filter((e) => existsSync(e.entryPoints[0]));

// The webviews' buttons draw codicons (vscode-elements looks for <link id="vscode-codicon-stylesheet">):
// a local copy of the stylesheet and its font, served from dist/ so that no remote resource is needed.
mkdirSync('dist/codicons', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/codicons/${f}`);
copyFileSync('node_modules/@vscode/codicons/LICENSE', 'dist/codicons/LICENSE');

if (watch) {
  for (const e of entries) await (await esbuild.context(e)).watch();
} else {
  await Promise.all(entries.map((e) => esbuild.build(e)));
}
