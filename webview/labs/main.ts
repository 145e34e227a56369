// The Labs view's browser app (bundled to dist/labs.js): two theory labs in tabs, the in-context
// learning lab (./icl.ts) and the skills-emergence calculator (./skills.ts). It receives views
// computed by the extension (src/vscode/labs) and sends back parameters and intents only.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import { Chart, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, ScatterController, Tooltip } from 'chart.js';
import type { FromLabs, IclParams, LabId, SkillsParams, ToLabs } from '../../src/vscode/labs/protocol';
import { themeColors } from '../theme';
import { createIclLab } from './icl';
import { createSkillsLab } from './skills';
import { h, injectStyles } from './ui';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, ScatterController, Tooltip, Legend);

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

interface UiState {
  tab: LabId;
  iclParams?: IclParams;
  skillsParams?: SkillsParams;
}
const ui: UiState = { tab: 'icl', ...((vscode.getState() as Partial<UiState>) ?? {}) };
const saveUi = () => vscode.setState(ui);
const post = (m: FromLabs) => vscode.postMessage(m);

injectStyles();
document.body.classList.add('labs-body');

// Placeholders until the extension's state arrives (it owns the parameters).
const icl = createIclLab({
  params: ui.iclParams ?? { d: 16, n: 40, q: 20, shift: 0, noise: 0, eta: 0.04, layers: 50, seed: 1 },
  colors: themeColors,
  change(p) {
    ui.iclParams = p;
    saveUi();
    post({ type: 'icl', params: p });
  },
  intent(type, p) {
    if (type === 'iclUseSelection' || type === 'iclSynthetic') post({ type, params: p });
  },
});
const skills = createSkillsLab({
  params: ui.skillsParams ?? { thetaMode: 'theta', theta: 0.1, loss: 3.25, floor: 3.2, k: 5, tuple: 2, skills: 1000, pieces: 2000, trials: 3, seed: 1 },
  colors: themeColors,
  change(p) {
    ui.skillsParams = p;
    saveUi();
    skills.setParams(p);
    post({ type: 'skills', params: p });
  },
  intent(type, p) {
    if (type === 'skillsUseLastProbe') post({ type, params: p });
  },
});
if (ui.iclParams) icl.setParams(ui.iclParams);
if (ui.skillsParams) skills.setParams(ui.skillsParams);

const TABS: LabId[] = ['icl', 'skills'];
const tabs = h(
  'vscode-tabs',
  { class: 'labs-tabs', id: 'labs-tabs', 'selected-index': String(TABS.indexOf(ui.tab)) },
  h('vscode-tab-header', { slot: 'header', 'data-tab': 'icl', title: 'Ding et al. 2023: prefix vs causal attention for in-context learning' }, 'In-context learning'),
  h('vscode-tab-panel', {}, icl.el),
  h('vscode-tab-header', { slot: 'header', 'data-tab': 'skills', title: 'Arora & Goyal 2023: the fraction of skills below a competence level, from the loss' }, 'Skills emergence'),
  h('vscode-tab-panel', {}, skills.el),
);
document.getElementById('app')!.append(tabs);

function selectTab(tab: LabId): void {
  ui.tab = tab;
  saveUi();
  (tabs as unknown as { selectedIndex: number }).selectedIndex = TABS.indexOf(tab);
  // a chart drawn while its panel was hidden has no size: draw it again
  requestAnimationFrame(() => (tab === 'icl' ? icl : skills).redraw());
}

tabs.addEventListener('vsc-tabs-select', (e) => {
  const tab = TABS[(e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex] ?? 'icl';
  if (tab === ui.tab) return;
  ui.tab = tab;
  saveUi();
  post({ type: 'tab', tab });
  requestAnimationFrame(() => (tab === 'icl' ? icl : skills).redraw());
});

window.addEventListener('message', (ev: MessageEvent<ToLabs>) => {
  const m = ev.data;
  switch (m?.type) {
    case 'state':
      ui.iclParams = m.iclParams;
      ui.skillsParams = m.skillsParams;
      icl.setParams(m.iclParams);
      skills.setParams(m.skillsParams);
      selectTab(m.tab);
      icl.render(m.icl);
      skills.render(m.skills);
      return;
    case 'icl':
      ui.iclParams = m.view.params;
      saveUi();
      icl.setParams(m.view.params);
      icl.render(m.view);
      return;
    case 'skills':
      skills.setParams(m.view.params);
      skills.render(m.view);
      skills.busy(false);
      return;
    case 'skillsParams':
      ui.skillsParams = m.params;
      saveUi();
      skills.setParams(m.params);
      skills.setLossSource(m.lossSource);
      return;
    case 'busy':
      (m.lab === 'icl' ? icl : skills).busy(m.busy);
      return;
    case 'error':
      (m.lab === 'icl' ? icl : skills).error(m.message);
      return;
    case 'tab':
      selectTab(m.tab);
      return;
  }
});

// Theme switches change the --vscode-* variables and the body class: redraw the canvases.
new MutationObserver(() => {
  icl.redraw();
  skills.redraw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

post({ type: 'ready' });
