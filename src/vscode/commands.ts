// The commands of the "LM Probe" palette category.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { HostError } from '../host/protocol';
import type { ProbeResult } from '../engine/schema';
import { trackRange, type OffsetChange } from './annotations';
import type { Ctx } from './context';
import { toCsv, toJson } from './export';
import { MEASURES, type Measure } from './heatmap';
import { paragraphAt } from './text';
import { fitProbesOnWorkspace } from './fitProbes';
import { cancelAnalyses, cancelAnalysesByUser, startAnalyses } from './analyses';
import { wantsAnalyses } from './progressive';
import { chooseModel } from './chooseModel';
import { FORWARD_ONLY, hasBackward, measureFallbackNote, needsBackward } from './forwardOnly';
import { HEATMAP_UNITS, type HeatmapUnit } from './config';
import type { OpenResult } from '../host/protocol';
import type { PartialScores } from '../host/client';
import type { Preview } from './decorations';
import { progressText, tooManyTokens } from './probeProgress';

/** Shows a notification only for probes that take longer than this (model loading, long texts). */
const NOTIFY_AFTER_MS = 400;

const MEASURE_LABEL: Record<Measure, string> = {
  forward: 'forward surprisal',
  backward: 'backward surprisal',
  difference: 'difference (backward − forward)',
  rank: 'rank buckets (GLTR)',
  off: 'off',
};

const UNIT_LABEL: Record<HeatmapUnit, string> = {
  token: 'per token',
  word: 'per word (sum of its tokens)',
  identifier: 'per identifier (sum of its tokens)',
  line: 'per line (a bar in the gutter)',
};

export function registerCommands(ctx: Ctx): void {
  const reg = (id: string, fn: (...a: unknown[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg('lmProbe.probeSelection', () => probeSelection(ctx));
  reg('lmProbe.clearAnnotations', () => {
    ctx.running?.abort();
    cancelAnalyses(ctx);
    ctx.store.clear();
    ctx.panel.setResult(null, null);
    ctx.status.idle();
  });
  reg('lmProbe.cancel', () => {
    if (ctx.running) ctx.running.abort();
    else if (!cancelAnalysesByUser(ctx)) void vscode.window.showInformationMessage('LM Probe: no probe is running.');
  });
  reg('lmProbe.choosePack', () => chooseModel(ctx));
  reg('lmProbe.showPanel', () => ctx.panel.show(false));
  reg('lmProbe.export', () => exportResults(ctx));
  reg('lmProbe.switchHeatmap', async () => {
    const current = ctx.config.measure;
    const last = ctx.store.last?.result;
    const fwOnly = !!last && !hasBackward(last);
    type Item = vscode.QuickPickItem & { m?: Measure; u?: HeatmapUnit };
    const items: Item[] = [
      ...MEASURES.map((m) => {
        const notes = [m === current ? 'current' : '', fwOnly && needsBackward(m) ? `unavailable: ${FORWARD_ONLY} (shows forward)` : ''].filter(Boolean);
        return { label: MEASURE_LABEL[m], description: notes.join(', ') || undefined, m };
      }),
      { label: 'Color each...', kind: vscode.QuickPickItemKind.Separator },
      ...HEATMAP_UNITS.map((u) => ({ label: UNIT_LABEL[u], description: u === ctx.config.unit ? 'current' : undefined, u })),
    ];
    const pick = await vscode.window.showQuickPick(items, { placeHolder: 'LM Probe: color the probed text by...' });
    if (pick?.m) await ctx.config.setMeasure(pick.m);
    if (pick?.u) await ctx.config.setUnit(pick.u);
  });
  for (const m of MEASURES) reg(`lmProbe.heatmap.${m}`, () => ctx.config.setMeasure(m));
  for (const u of HEATMAP_UNITS) reg(`lmProbe.heatmap.per${u[0].toUpperCase()}${u.slice(1)}`, () => ctx.config.setUnit(u));
  // The hover's links: the token in the panel; the analyses' window moved around a token.
  reg('lmProbe.showTokenInPanel', async (index) => {
    await ctx.panel.show(true);
    if (typeof index === 'number') ctx.panel.focusToken(index);
  });
  reg('lmProbe.analyseAround', (index) => analyseAround(ctx, index));
  ctx.subscriptions.push(
    ctx.config.onDidChange((c) => {
      if (c.heatmap) explainMeasure(ctx);
    }),
  );
  reg('lmProbe.fitProbes', () => fitProbesOnWorkspace(ctx));
  reg('lmProbe.restartEngine', () => {
    ctx.running?.abort();
    cancelAnalysesByUser(ctx);
    ctx.client.stop();
    forgetPacks();
    ctx.status.idle();
    void vscode.window.showInformationMessage('LM Probe: the engine process was stopped; the next probe starts a new one.');
  });
  // The cursor on a probed token highlights it in the panel.
  let selTimer: ReturnType<typeof setTimeout> | undefined;
  ctx.subscriptions.push(
    vscode.window.onDidChangeTextEditorSelection((e) => {
      clearTimeout(selTimer);
      selTimer = setTimeout(() => {
        const p = ctx.store.get(e.textEditor.document.uri);
        if (!p || p !== ctx.store.last || !ctx.panel.visible) return;
        const at = p.spans.find(e.textEditor.document.offsetAt(e.selections[0].active));
        ctx.panel.focusToken(at >= 0 ? p.spans.tokenIndex[at] : -1);
      }, 150);
    }),
    { dispose: () => clearTimeout(selTimer) },
  );
}

/** The selection, or the paragraph around the cursor when nothing is selected. */
function probeRange(editor: vscode.TextEditor): vscode.Range | undefined {
  const sel = editor.selection;
  if (!sel.isEmpty) return new vscode.Range(sel.start, sel.end);
  const doc = editor.document;
  const para = paragraphAt((n) => doc.lineAt(n).text, doc.lineCount, sel.active.line);
  if (!para) return undefined;
  return new vscode.Range(para[0], 0, para[1], doc.lineAt(para[1]).text.length);
}

let lastProbe: { uri: vscode.Uri; start: number; end: number } | undefined;

export async function probeSelection(ctx: Ctx, again?: { uri: vscode.Uri; start: number; end: number }): Promise<ProbeResult | undefined> {
  let editor = vscode.window.activeTextEditor;
  let range: vscode.Range | undefined;
  if (again) {
    editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === again.uri.toString());
    if (editor) range = new vscode.Range(editor.document.positionAt(again.start), editor.document.positionAt(again.end));
  } else if (editor) {
    range = probeRange(editor);
  }
  if (!editor) {
    void vscode.window.showInformationMessage('LM Probe: open a file and select some text to probe.');
    return;
  }
  if (!range) {
    void vscode.window.showInformationMessage('LM Probe: select some text, or put the cursor in a paragraph.');
    return;
  }
  const doc = editor.document;
  // The exact text of the range (CRLF included), so that token offsets line up with the document.
  const text = doc.getText(range);
  if (!text.trim()) {
    void vscode.window.showInformationMessage('LM Probe: the selection is empty.');
    return;
  }
  const start = doc.offsetAt(range.start);
  lastProbe = { uri: doc.uri, start, end: start + text.length };

  // A new probe cancels the one that runs, and the analyses of the one before.
  ctx.running?.abort();
  cancelAnalyses(ctx);
  const ac = new AbortController();
  ctx.running = ac;
  void vscode.commands.executeCommand('setContext', 'lmProbe.busy', true);

  // Edits made while the probe runs move (or invalidate) the range it annotates.
  const changes: OffsetChange[] = [];
  const changeSub = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document === doc) changes.push(...e.contentChanges);
  });

  let progress: { done: number; total: number; stage: string } | undefined;
  let painted = 0;
  let tokenCount = 0;
  let pack: OpenResult | undefined = packInfo.get(packKey(ctx));
  let report: ((message: string, pct: number) => void) | undefined;
  const label = () =>
    progress
      ? progressText(progress, { painted, tokenCount, directions: pack?.pack.hasBackward === false ? 1 : 2 })
      : ctx.client.running
        ? 'probing…'
        : 'starting the engine…';
  // windows are what takes the time: the percentage counts them (loading and tokenizing show 0%)
  const scoring = () => !!progress && (progress.stage === 'forward' || progress.stage === 'backward') && progress.total > 0;
  const pctDone = () => (scoring() ? (100 * progress!.done) / progress!.total : 0);
  ctx.status.busy(label());
  ctx.panel.busy(label());
  const notifyTimer = setTimeout(() => {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'LM Probe', cancellable: true },
      (p, token) =>
        new Promise<void>((resolve) => {
          token.onCancellationRequested(() => ac.abort());
          let last = 0;
          report = (message, pct) => {
            p.report({ message, increment: pct - last });
            last = pct;
          };
          report(label(), pctDone());
          ac.signal.addEventListener('abort', () => resolve(), { once: true });
          done.then(() => resolve(), () => resolve());
        }),
    );
  }, NOTIFY_AFTER_MS);
  const update = () => {
    const text = label();
    report?.(text, pctDone());
    ctx.status.busy(scoring() ? `${Math.round(pctDone())}%` : text);
    ctx.panel.busy(text, scoring() ? { done: progress!.done, total: progress!.total } : undefined);
  };

  // The windows scored so far are painted as they arrive (a long text takes tens of seconds).
  let preview: Preview | undefined;
  let paintTimer: ReturnType<typeof setTimeout> | undefined;
  const paint = () => {
    paintTimer = undefined;
    if (preview && changes.length === 0) ctx.heatmap.setPreview(doc.uri, preview);
  };
  const onPartial = (x: PartialScores) => {
    if (ac.signal.aborted) return;
    preview ??= { base: start, tokens: new Array(x.tokenCount), tokenCount: x.tokenCount };
    tokenCount = x.tokenCount;
    for (let i = 0; i < x.bits.length; i++) {
      const k = x.first + i;
      const score = { surprisalBits: x.bits[i], rank: x.ranks[i], entropyBits: NaN, top: [] };
      const t = preview.tokens[k];
      if (x.direction === 'backward') {
        if (t) t.backward = score;
      } else {
        const a = x.offsets[2 * i], b = x.offsets[2 * i + 1];
        preview.tokens[k] = { index: k, id: -1, text: text.slice(a, b), start: a, end: b, forward: score, backward: null };
        painted = Math.max(painted, k + 1);
      }
    }
    // one repaint at a time, less often on long texts (each one walks every token scored so far)
    paintTimer ??= setTimeout(paint, painted > 5000 ? 500 : 150);
  };

  const t0 = Date.now();
  const done = (async () => {
    // A selection far past lmProbe.maxTokens is refused here, before its text is sent: the pack's
    // longest token bounds the token count from below (the engine counts exactly, in pieces).
    if (!pack) {
      progress = { done: 0, total: 0, stage: 'loading' };
      update();
      pack = await ctx.client.request('open', { packDir: ctx.config.packDir, providers: ctx.config.providers }, { signal: ac.signal });
      packInfo.set(packKey(ctx), pack);
      progress = undefined;
    }
    const refusal = tooManyTokens(text, pack.maxTokenBytes, ctx.config.maxTokens);
    if (refusal) throw new HostError('TOO_MANY_TOKENS', refusal);
    return ctx.client.request(
      'probe',
      {
        packDir: ctx.config.packDir,
        providers: ctx.config.providers,
        text,
        // Surprisal only: the analyses follow in a request of their own (analyses.ts), so that the
        // heatmap, the hovers and the panel show as soon as surprisal is known.
        options: { topK: ctx.config.topK, maxTokens: ctx.config.maxTokens },
      },
      {
        signal: ac.signal,
        onProgress: (x) => {
          progress = x;
          update();
        },
        onPartial,
      },
    );
  })();
  try {
    const result = await done;
    const moved = trackRange({ start, end: start + text.length }, changes);
    if (!moved) {
      void vscode.window.showWarningMessage('LM Probe: the text changed while it was being probed; probe it again.');
      ctx.status.idle(result.pack, result.runtime.provider);
      ctx.panel.idle();
      return;
    }
    const tApply = Date.now();
    clearTimeout(paintTimer);
    ctx.heatmap.setPreview(doc.uri, undefined, false);
    const p = ctx.store.set(doc, result, moved.start);
    ctx.status.result(result);
    // The analyses follow (analyses.ts): the panel says so from the first frame.
    const analysesOn = ctx.config.analysesEnabled && wantsAnalyses(ctx.analyses);
    ctx.panel.setResult(result, { file: basename(doc.uri.path), line: doc.positionAt(moved.start).line + 1 }, { state: analysesOn ? 'computing' : 'off' });
    // a target chosen in another text means nothing here: the analyses start from the default
    if (!again && typeof ctx.analyses?.importance === 'object' && ctx.analyses.importance.target !== undefined) {
      ctx.analyses = { ...ctx.analyses, importance: { ...ctx.analyses.importance, target: undefined } };
    }
    void startAnalyses(ctx, p);
    collapseSelection(editor, range);
    ctx.log.info(
      `probed ${result.tokens.length} tokens of ${basename(doc.uri.path)} in ${tApply - t0} ms (engine ${Math.round(result.runtime.ms)} ms, ${result.runtime.provider}); decorations and panel in ${Date.now() - tApply} ms`,
    );
    reportOnce(ctx, result);
    explainMeasure(ctx);
    void ctx.panel.show(true);
    return result;
  } catch (e) {
    const err = e instanceof HostError ? e : new HostError('INTERNAL', String((e as Error)?.message ?? e));
    if (err.code === 'CANCELLED') {
      if (ctx.running === ac) {
        ctx.status.idle();
        ctx.panel.idle();
      }
      return;
    }
    ctx.log.error(`probe failed: ${err.code}: ${err.message}`);
    ctx.panel.error(err.message);
    if (err.code === 'HOST_CRASHED') return; // onCrash already told the user, with "Probe again".
    ctx.status.idle();
    const actions = err.code === 'BAD_PACK' || err.code === 'PACK_NOT_FOUND' ? ['Choose model...'] : [];
    const pick = await vscode.window.showErrorMessage(`LM Probe: ${err.message}`, ...actions);
    if (pick) void vscode.commands.executeCommand('lmProbe.choosePack');
    return;
  } finally {
    clearTimeout(notifyTimer);
    clearTimeout(paintTimer);
    // cancelled or failed: the editor shows the previous annotations again
    ctx.heatmap.setPreview(doc.uri, undefined);
    changeSub.dispose();
    if (ctx.running === ac) {
      ctx.running = undefined;
      void vscode.commands.executeCommand('setContext', 'lmProbe.busy', false);
    }
  }
}

/** Pack facts from the engine's 'open' (longest token, backward model), by pack and providers. */
const packInfo = new Map<string, OpenResult>();
const packKey = (ctx: Ctx) => JSON.stringify([ctx.config.packDir, ctx.config.providers]);

/** Forgets what was learnt of the packs (a pack folder may have changed on disk, or the engine restarted). */
export function forgetPacks(): void {
  packInfo.clear();
}

/**
 * After a probe the selection is collapsed to its cursor, so that the selection's highlight does
 * not tint the heatmap; only when it is still the probed range.
 */
function collapseSelection(editor: vscode.TextEditor, range: vscode.Range): void {
  const sel = editor.selection;
  if (!sel.isEmpty && sel.isEqual(range)) editor.selection = new vscode.Selection(sel.active, sel.active);
}

/** The hover's "Analyse around this token": the analyses' window moves to hold it (it becomes the importance target). */
async function analyseAround(ctx: Ctx, index: unknown): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const p = editor ? ctx.store.get(editor.document.uri) : ctx.store.last;
  if (typeof index !== 'number' || !p || index < 0 || index >= p.result.tokens.length) return;
  if (p !== ctx.store.last) {
    void vscode.window.showInformationMessage('LM Probe: the analyses follow the latest probe; probe this text again to analyse it.');
    return;
  }
  const imp = typeof ctx.analyses?.importance === 'object' ? ctx.analyses.importance : {};
  ctx.analyses = { ...ctx.analyses, importance: { ...imp, target: index } };
  if (!ctx.config.analysesEnabled) {
    void vscode.window.showInformationMessage('LM Probe: the analyses are turned off (lmProbe.analyses.enabled).');
    return;
  }
  await startAnalyses(ctx, p);
}

/** Re-runs the last probe (the panel's analysis views changed their options). */
export function probeAgain(ctx: Ctx): void {
  if (lastProbe) void probeSelection(ctx, lastProbe);
}

let explained = '';

/**
 * Says once per model and measure that the heatmap shows forward surprisal because the model has
 * no backward twin (after a probe, and when the heatmap measure changes).
 */
export function explainMeasure(ctx: Ctx): void {
  const r = ctx.store.last?.result;
  const m = ctx.config.measure;
  const note = r ? measureFallbackNote(m, hasBackward(r)) : null;
  if (!r || !note) return;
  const key = `${r.pack.dir}:${m}`;
  if (explained === key) return;
  explained = key;
  ctx.log.info(`heatmap: ${note}`);
  void vscode.window.showInformationMessage(`LM Probe: ${r.pack.name}: ${note}`);
}

function reportOnce(ctx: Ctx, r: ProbeResult): void {
  for (const w of r.warnings) ctx.log.warn(w);
  if (r.warnings.length) void vscode.window.showWarningMessage(`LM Probe: ${r.warnings.join(' ')}`);
  for (const f of r.runtime.fallbacks) {
    const key = `${f.provider}:${f.error}`;
    if (ctx.reportedFallbacks.has(key)) continue;
    ctx.reportedFallbacks.add(key);
    ctx.log.warn(`execution provider ${f.provider} failed: ${f.error}`);
    void vscode.window.showInformationMessage(
      `LM Probe: the ${f.provider} execution provider did not start here; running on ${r.runtime.provider}. Details in the LM Probe output.`,
    );
  }
}

async function exportResults(ctx: Ctx): Promise<void> {
  const last = ctx.store.last;
  if (!last) {
    void vscode.window.showInformationMessage('LM Probe: nothing to export yet; probe a selection first.');
    return;
  }
  // Next to the probed file; an untitled document has no folder: use the workspace's.
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const defaultUri =
    last.uri.scheme === 'untitled'
      ? folder && vscode.Uri.joinPath(folder, 'probe.lmprobe.csv')
      : last.uri.with({ path: `${last.uri.path.replace(/\.[^./]*$/, '')}.lmprobe.csv` });
  const target = await vscode.window.showSaveDialog({
    defaultUri,
    filters: { 'CSV (per-token table)': ['csv'], 'JSON (ProbeResult)': ['json'] },
    saveLabel: 'Export',
  });
  if (!target) return;
  const body = target.path.toLowerCase().endsWith('.json') ? toJson(last.result) : toCsv(last.result);
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(body));
  void vscode.window.showInformationMessage(`LM Probe: exported ${last.result.tokens.length} tokens to ${basename(target.path)}.`);
}
