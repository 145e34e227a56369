// "LM Probe: Fit future-token probes on workspace files...": runs `lm-probe fit-probes` (the
// bundled CLI, dist/cli.js) in a child process over files the user picks, with a cancellable
// progress notification, then uses the new probes for the future-lens analysis.
import * as vscode from 'vscode';
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from './context';
import { startAnalyses } from './analyses';

const DEFAULT_GLOB = '**/*.{py,ts,js,md,txt,rst,java,go,rs,c,h,cpp}';
const MAX_FILES = 5000;

export async function fitProbesOnWorkspace(ctx: Ctx): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showErrorMessage('LM Probe: open a folder first: the probes are fitted on its files.');
    return;
  }
  const glob = await vscode.window.showInputBox({
    title: 'LM Probe: fit future-token probes',
    prompt: 'Text files to fit the probes on (a glob relative to the workspace)',
    value: DEFAULT_GLOB,
  });
  if (!glob) return;
  const uris = await vscode.workspace.findFiles(glob, '{**/node_modules/**,**/.git/**,**/dist/**,**/out/**}', MAX_FILES);
  const files = uris.filter((u) => u.scheme === 'file').map((u) => u.fsPath);
  if (files.length === 0) {
    void vscode.window.showWarningMessage(`LM Probe: no files match ${glob}.`);
    return;
  }
  const target = await vscode.window.showSaveDialog({
    title: `LM Probe: save probes fitted on ${files.length} files`,
    defaultUri: vscode.Uri.joinPath(folder.uri, '.lmprobe', 'probes.json'),
    filters: { 'Probe file': ['json'] },
  });
  if (!target) return;
  const out = target.fsPath;
  const cli = vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'cli.js').fsPath;
  const args = ['fit-probes', '--out', out, '--json'];
  if (!ctx.config.packIsBundled) args.push('--model', ctx.config.packDir);
  // The file list goes through a file: thousands of paths overflow a command line on Windows.
  const list = join(mkdtempSync(join(tmpdir(), 'lm-probe-fit-')), 'files.txt');
  writeFileSync(list, files.join('\n') + '\n');
  args.push('--files-from', list);
  const ok = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `LM Probe: fitting probes on ${files.length} files`, cancellable: true },
    (progress, token) =>
      new Promise<boolean>((resolve) => {
        const child = fork(cli, args, { execPath: process.execPath, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
        let last = 0;
        let err = '';
        child.stderr?.setEncoding('utf8').on('data', (d: string) => {
          for (const line of d.split('\n')) {
            const m = /\((\w+)\) (\d+)%/.exec(line);
            if (m) {
              const pct = Number(m[2]);
              progress.report({ message: `${m[1]} ${pct}%`, increment: m[1] === 'fit' ? Math.max(0, pct - last) : undefined });
              if (m[1] === 'fit') last = pct;
            } else if (line.startsWith('lm-probe: error')) err += line.replace(/^lm-probe: error: /, '') + ' ';
          }
        });
        child.stdout?.setEncoding('utf8').on('data', (d: string) => ctx.log.info(`fit-probes: ${d.trim()}`));
        token.onCancellationRequested(() => child.kill('SIGINT'));
        child.on('exit', (code) => {
          if (code === 0) resolve(true);
          else {
            if (!token.isCancellationRequested) void vscode.window.showErrorMessage(`LM Probe: fitting the probes failed: ${err.trim() || `exit code ${code}`}`);
            resolve(false);
          }
        });
        child.on('error', (e) => {
          void vscode.window.showErrorMessage(`LM Probe: could not start the fit: ${e.message}`);
          resolve(false);
        });
      }),
  );
  if (!ok) return;
  ctx.analyses = { ...ctx.analyses, futureLens: { probesFile: out } };
  // The last probe's analyses are recomputed with the new probes at once (no new surprisal pass).
  const last = ctx.store.last;
  if (last && ctx.config.analysesEnabled) void startAnalyses(ctx, last);
  const pick = await vscode.window.showInformationMessage(
    `LM Probe: probes written to ${vscode.workspace.asRelativePath(out)}; ${last ? 'the panel and ' : ''}the next probes use them.`,
    'Probe selection now',
  );
  if (pick) void vscode.commands.executeCommand('lmProbe.probeSelection');
}
