// Hover over a probed token: served from the cache in ProbeStore by a binary search on offsets.
import * as vscode from 'vscode';
import { HOVER_COMMANDS, hoverMarkdown } from './hoverText';
import type { ProbeStore } from './store';

export function registerHovers(store: ProbeStore): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }, { scheme: 'vscode-userdata' }],
    {
      provideHover(doc, pos) {
        const probe = store.get(doc.uri);
        if (!probe) return undefined;
        const p = probe.spans.find(doc.offsetAt(pos));
        if (p < 0) return undefined;
        const md = new vscode.MarkdownString(hoverMarkdown(probe.result, probe.spans.tokenIndex[p]));
        md.supportHtml = false;
        // Only the hover's own links run (token text is in code spans and cannot add any).
        md.isTrusted = { enabledCommands: [...HOVER_COMMANDS] };
        return new vscode.Hover(md, new vscode.Range(doc.positionAt(probe.spans.starts[p]), doc.positionAt(probe.spans.ends[p])));
      },
    },
  );
}
