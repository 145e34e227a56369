// "LM Probe: Choose model...": a quick pick of the models found on this machine (the bundled pack,
// packs, pairs and Hugging Face folders in the workspace, the local Hugging Face cache), grouped
// by where they are, plus Browse for a folder or a pair file. Models the engine would refuse are
// listed, marked, and refused with the reason when picked. A pick sets lmProbe.modelPath and opens
// the model at once, so that a bad one is reported now and not on the next probe.
import * as vscode from 'vscode';
import { describeModel, discoverModels, type DiscoveredModel } from '../engine/models/discover';
import type { Ctx } from './context';
import { FORWARD_ONLY } from './forwardOnly';
import { modelRows, notAModel, refused, type ModelRow } from './modelItems';

type Item = vscode.QuickPickItem & { row?: ModelRow };

function toItems(rows: ModelRow[]): Item[] {
  return rows.map((r) =>
    r.type === 'separator'
      ? { label: r.label, kind: vscode.QuickPickItemKind.Separator }
      : { label: r.label, description: r.description, detail: r.detail, row: r },
  );
}

export async function chooseModel(ctx: Ctx): Promise<void> {
  const bundledDir = vscode.Uri.joinPath(ctx.extension.extensionUri, 'models', 'default').fsPath;
  const current = { path: ctx.config.packDir, bundled: ctx.config.packIsBundled };
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = 'LM Probe: Choose model';
  qp.placeholder = 'A model pack, a forward/backward pair or a Hugging Face model (type to filter)';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.busy = true;
  qp.items = toItems(modelRows([], current, true));
  const picked = new Promise<Item | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0] ?? qp.activeItems[0]));
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  const t0 = Date.now();
  discoverModels({
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    bundledPackDir: bundledDir,
  }).then(
    (models) => {
      ctx.log.info(`choose model: ${models.length} models found in ${Date.now() - t0} ms (${models.filter((m) => !m.supported).length} not supported)`);
      const items = toItems(modelRows(models, current));
      qp.items = items;
      const cur = items.find((i) => i.row?.type === 'model' && i.row.current);
      if (cur) qp.activeItems = [cur];
      qp.busy = false;
    },
    (e) => {
      ctx.log.error(`choose model: the search failed: ${(e as Error).message}`);
      qp.items = [{ label: `The search failed: ${(e as Error).message}`, kind: vscode.QuickPickItemKind.Separator }, ...toItems(modelRows([], current))];
      qp.busy = false;
    },
  );
  const pick = await picked;
  qp.dispose();
  const row = pick?.row;
  if (!row || row.type === 'separator') return;

  let model: DiscoveredModel | null;
  if (row.type === 'model') model = row.model;
  else {
    const uris = await vscode.window.showOpenDialog(
      row.browse === 'folder'
        ? { canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model', title: 'LM Probe: a model pack, a Hugging Face model folder or a folder with pair.json' }
        : { canSelectFolders: false, canSelectFiles: true, openLabel: 'Use this pair', title: 'LM Probe: a pair file (lm-probe-pair JSON)', filters: { 'Pair file': ['json'] } },
    );
    if (!uris?.length) return;
    model = await describeModel(uris[0].fsPath);
    if (!model) {
      void vscode.window.showErrorMessage(`LM Probe: ${notAModel(uris[0].fsPath)}`);
      return;
    }
  }
  if (!model.supported) {
    ctx.log.warn(`choose model: refused ${model.path}: ${model.reason}`);
    void vscode.window.showErrorMessage(`LM Probe: ${refused(model)}`);
    return;
  }
  const cfg = vscode.workspace.getConfiguration('lmProbe');
  // Where the setting is now (a workspace value wins over the user's), so that the pick applies.
  const inspect = cfg.inspect<string>('modelPath');
  const target = inspect?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await cfg.update('modelPath', model.source === 'bundled' ? undefined : model.path, target);
  ctx.log.info(`choose model: ${model.label} (${model.kind}) at ${model.path}`);
  await openChosenModel(ctx);
}

/** Opens the model just chosen and reports it (or why it cannot be opened). */
export async function openChosenModel(ctx: Ctx): Promise<void> {
  try {
    const r = await ctx.client.request('open', { packDir: ctx.config.packDir, providers: ctx.config.providers });
    ctx.status.idle(r.pack, r.provider);
    const fwOnly = r.pack.hasBackward ? '' : ` (${FORWARD_ONLY})`;
    void vscode.window.showInformationMessage(`LM Probe: using model "${r.pack.name}" on ${r.provider}${fwOnly}.`);
  } catch (e) {
    ctx.log.error(`choose model: ${ctx.config.packDir} did not open: ${(e as Error).message}`);
    const pick = await vscode.window.showErrorMessage(`LM Probe: ${(e as Error).message}`, 'Choose model...');
    if (pick) void vscode.commands.executeCommand('lmProbe.choosePack');
  }
}
