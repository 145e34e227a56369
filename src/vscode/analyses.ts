// The second half of a progressive probe: after surprisal is shown, the analyses (future tokens,
// importance, geometry) are computed by the engine host for the same text, in a request of their
// own, and merged into the cached result when it is still the one they were asked for
// (progressive.ts). A new probe, Clear annotations, Cancel or other analysis options abort them.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { HostError } from '../host/protocol';
import type { Ctx } from './context';
import { mergeAnalyses, staleReason, wantsAnalyses, type AnalysesTicket } from './progressive';
import type { DocProbe } from './store';

let requests = 0;

/** Aborts the analyses under way, if any; true when there were some. */
export function cancelAnalyses(ctx: Ctx): boolean {
  const ac = ctx.analysing;
  ctx.analysing = undefined;
  if (!ac) return false;
  ac.abort();
  return true;
}

/** Computes the analyses of probe `p` with the current options (ctx.analyses) and shows them. */
export async function startAnalyses(ctx: Ctx, p: DocProbe): Promise<void> {
  cancelAnalyses(ctx);
  const shownHere = () => ctx.store.last === ctx.store.get(p.uri) && ctx.store.get(p.uri)?.seq === p.seq;
  if (!ctx.config.analysesEnabled || !wantsAnalyses(ctx.analyses)) {
    if (shownHere()) ctx.panel.setAnalyses({ state: 'off' });
    return;
  }
  const ac = new AbortController();
  ctx.analysing = ac;
  const ticket: AnalysesTicket = { seq: p.seq, result: p.result, request: ++requests };
  p.analysesRequest = ticket.request;
  if (shownHere()) ctx.panel.setAnalyses({ state: 'computing' });
  const t0 = Date.now();
  try {
    const analyses = await ctx.client.request(
      'analyses',
      {
        packDir: ctx.config.packDir,
        providers: ctx.config.providers,
        text: p.result.text,
        options: { topK: ctx.config.topK, maxTokens: ctx.config.maxTokens, analyses: ctx.analyses },
      },
      { signal: ac.signal },
    );
    const current = ctx.store.get(p.uri);
    const merged = mergeAnalyses(current, ticket, analyses);
    if (!merged || !current) {
      ctx.log.info(`analyses dropped: ${staleReason(current, ticket) ?? 'their window does not fit the probe'}`);
      return;
    }
    ctx.store.updateResult(p.uri, p.seq, merged);
    ctx.heatmap.renderWindowOf(p.uri);
    if (shownHere()) ctx.panel.setAnalyses({ state: 'done' }, analyses);
    const parts = Object.entries(analyses.timingsMs ?? {})
      .map(([k, v]) => `${k} ${Math.round(v ?? 0)}`)
      .join(', ');
    ctx.log.info(
      `analyses of ${p.result.tokens.length} tokens of ${basename(p.uri.path)} in ${Date.now() - t0} ms (engine ${Math.round(analyses.ms)} ms${parts ? `: ${parts}` : ''})`,
    );
    for (const n of analyses.notes ?? []) ctx.log.info(`analyses: ${n}`);
  } catch (e) {
    const err = e instanceof HostError ? e : new HostError('INTERNAL', String((e as Error)?.message ?? e));
    if (err.code === 'CANCELLED') return; // whoever cancelled sets the panel's state
    if (staleReason(ctx.store.get(p.uri), ticket) !== null) return;
    ctx.log.error(`analyses failed: ${err.code}: ${err.message}`);
    if (shownHere()) ctx.panel.setAnalyses({ state: 'error', message: err.message });
  } finally {
    if (ctx.analysing === ac) ctx.analysing = undefined;
  }
}

/** The analyses were turned on or off in the settings. */
export function onAnalysesSettingChanged(ctx: Ctx): void {
  const last = ctx.store.last;
  if (ctx.config.analysesEnabled) {
    if (last && !last.result.analyses) void startAnalyses(ctx, last);
  } else if (cancelAnalyses(ctx) || last) {
    ctx.panel.setAnalyses({ state: 'off' }, last?.result.analyses ?? null);
  }
}

/** The panel's cancel of the analyses (or the Cancel command while only they run). */
export function cancelAnalysesByUser(ctx: Ctx): boolean {
  if (!cancelAnalyses(ctx)) return false;
  ctx.panel.setAnalyses({ state: 'cancelled' });
  void vscode.window.setStatusBarMessage('LM Probe: analyses cancelled', 3000);
  return true;
}
