// Messages between the Labs view (webview/labs/main.ts, which imports this file type-only) and the
// extension (labsProvider.ts). The webview sends parameters and intents; the extension computes
// (src/engine/labs) and sends back views to draw.
import type { ErrorVsExamples, IclResult } from '../../engine/labs/icl';
import type { SimulationReport, SkillsReport } from '../../engine/labs/skills';

export type LabId = 'icl' | 'skills';

/** The in-context learning lab's controls. d, n, q, shift, noise and seed shape the synthetic task;
 * eta and layers apply to any data. */
export interface IclParams {
  d: number;
  n: number;
  q: number;
  shift: number;
  noise: number;
  eta: number;
  layers: number;
  seed: number;
}

export interface IclDataInfo {
  source: 'synthetic' | 'selection';
  /** e.g. "synthetic: w ~ N(0, I), x ~ U[-1, 1]^16" or "selection: data.csv lines 3-40". */
  label: string;
  d: number;
  n: number;
  q: number;
  hasTargets: boolean;
  /** The query targets, when the data has them. */
  targets: number[] | null;
  /** Mean of the squared query targets: the error of predicting 0 (a reference level); null without targets. */
  zeroMse: number | null;
  /** Rows of the selection that were not read. */
  skipped: { line: number; reason: string }[];
}

export interface IclView {
  params: IclParams;
  data: IclDataInfo;
  result: IclResult;
  /** Error after the last layer against the number of examples; null while it is computed. */
  sweep: ErrorVsExamples | null;
  ms: number;
}

export interface SkillsParams {
  /** theta given directly, or from a measured loss minus an entropy floor. */
  thetaMode: 'theta' | 'loss';
  theta: number;
  /** Mean loss, nats per token. */
  loss: number;
  /** Entropy floor, nats per token. */
  floor: number;
  k: number;
  /** k' of the tuple curve. */
  tuple: number;
  skills: number;
  pieces: number;
  trials: number;
  seed: number;
}

export interface SkillsView {
  params: SkillsParams;
  /** The theta used (given, or 2 x excess loss). */
  theta: number;
  /** Where the loss came from when it was read from a probe. */
  lossSource: string | null;
  report: SkillsReport;
  simulation: SimulationReport | null;
  ms: number;
}

export type ToLabs =
  | {
      type: 'state';
      tab: LabId;
      iclParams: IclParams;
      skillsParams: SkillsParams;
      icl: IclView | null;
      skills: SkillsView | null;
    }
  | { type: 'icl'; view: IclView }
  | { type: 'skills'; view: SkillsView }
  /** New parameters chosen by the extension (a loss read from the last probe). */
  | { type: 'skillsParams'; params: SkillsParams; lossSource: string | null }
  | { type: 'busy'; lab: LabId; busy: boolean }
  | { type: 'error'; lab: LabId; message: string }
  | { type: 'tab'; tab: LabId };

export type FromLabs =
  | { type: 'ready' }
  | { type: 'tab'; tab: LabId }
  | { type: 'icl'; params: IclParams }
  /** Read the editor's selection as rows of numbers (x_1 .. x_d, y; an empty y makes a query). */
  | { type: 'iclUseSelection'; params: IclParams }
  /** Back to the synthetic task. */
  | { type: 'iclSynthetic'; params: IclParams }
  | { type: 'skills'; params: SkillsParams }
  /** Take the mean loss (forward, nats per token) of the last probe. */
  | { type: 'skillsUseLastProbe'; params: SkillsParams };
