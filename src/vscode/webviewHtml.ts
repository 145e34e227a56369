// The page of every LM Probe webview: a strict Content Security Policy with a fresh nonce, no
// remote resources, the bundled script, the shared stylesheet and the codicons. Both views use it.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, opts: { script: string; title: string; appClass?: string }): string {
  const nonce = randomBytes(16).toString('base64');
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', opts.script));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css'));
  // vscode-elements' buttons find the codicons by this link's id (a copy bundled in dist/codicons).
  const codicons = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'codicons', 'codicon.css'));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // vscode-elements (Lit) style their shadow roots through adoptedStyleSheets, which this allows.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${codicons}" nonce="${nonce}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${css}" nonce="${nonce}">
<title>${opts.title}</title>
</head>
<body>
<div id="app"${opts.appClass ? ` class="${opts.appClass}"` : ''} data-nonce="${nonce}"></div>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
}

/** Lets the view load only this extension's dist/ and media/, with scripts, and sets its page. */
export function showWebview(view: vscode.WebviewView, extensionUri: vscode.Uri, opts: { script: string; title: string; appClass?: string }): void {
  const roots = [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
  view.webview.options = { enableScripts: true, localResourceRoots: roots };
  view.webview.html = webviewHtml(view.webview, extensionUri, opts);
}
