// The skills-emergence calculator (Arora and Goyal 2023): theta given or read from an excess loss,
// k and k', the bound of Theorem 8 as a curve over beta (and the k'-tuple curve), next to a Monte
// Carlo check on sampled graphs. The extension computes (src/engine/labs/skills.ts).
import { Chart, type ChartConfiguration } from 'chart.js';
import type { SkillsParams, SkillsView } from '../../src/vscode/labs/protocol';
import type { CurvePoint } from '../../src/engine/labs/skills';
import { axis, baseOptions, fmt, h, metric, num, numberControl, type NumberControl } from './ui';
import type { Lab, LabContext } from './icl';

type Pt = { x: number; y: number };

export function createSkillsLab(ctx: LabContext<SkillsParams>): Lab<SkillsParams, SkillsView> & { setLossSource(s: string | null): void } {
  let params = ctx.params;
  let view: SkillsView | null = null;
  let chart: Chart | null = null;
  const change = (patch: Partial<SkillsParams>) => {
    params = { ...params, ...patch };
    if (params.tuple > params.k) {
      params.tuple = params.k;
      controls.tuple.set(params.k);
    }
    ctx.change(params);
  };
  const ctl = (key: Exclude<keyof SkillsParams, 'thetaMode'>, label: string, title: string, min: number, max: number, more: { log?: boolean; integer?: boolean; unit?: string; step?: number } = {}): NumberControl =>
    numberControl({ id: `skills-${key}`, label, title, min, max, value: params[key], onChange: (v) => change({ [key]: v }), ...more });

  const controls = {
    theta: ctl('theta', 'θ failure rate', 'θ: the fraction of text pieces on which the model fails (Thm. 8). From a loss: θ = min(1, 2 (L − H)).', 0.001, 0.5, { log: true }),
    loss: ctl('loss', 'mean loss L', 'L: the model\'s mean cross-entropy, nats per token (the forward mean log-perplexity of a probe or of lm-probe corpus).', 0, 12, { step: 0.001, unit: 'nats' }),
    floor: ctl('floor', 'entropy floor H', 'H: the entropy of the text itself, nats per token, which no model can beat; L − H is the excess loss. You give it (an estimate for the corpus).', 0, 12, { step: 0.001, unit: 'nats' }),
    k: ctl('k', 'k skills/piece', 'k: the number of skills each text piece uses (the random bipartite graph of the theory).', 1, 30, { integer: true }),
    tuple: ctl('tuple', "k′ tuple size", "k′: the size of the tuples of skills in the k′-tuple curve (Cor. 13, Thm. 14): competence on k′ skills used together.", 1, 10, { integer: true }),
    skills: ctl('skills', 'MC skills', 'Monte Carlo: the number of skills of each sampled graph.', 10, 20000, { integer: true, log: true }),
    pieces: ctl('pieces', 'MC text pieces', 'Monte Carlo: the number of text pieces of each sampled graph (each uses k distinct random skills). Mean pieces per skill = k × pieces / skills.', 10, 50000, { integer: true, log: true }),
    trials: ctl('trials', 'MC trials', 'Monte Carlo: graphs sampled; the random-failure curve is their mean, the concentrated one the worst of all.', 1, 20, { integer: true }),
    seed: ctl('seed', 'MC seed', 'Monte Carlo: seed of the sampled graphs and failure sets.', 0, 1_000_000, { integer: true }),
  };

  const modeTheta = h('input', { type: 'radio', name: 'skills-mode', id: 'skills-mode-theta', value: 'theta' });
  const modeLoss = h('input', { type: 'radio', name: 'skills-mode', id: 'skills-mode-loss', value: 'loss' });
  for (const r of [modeTheta, modeLoss]) r.addEventListener('change', () => r.checked && change({ thetaMode: r.value as SkillsParams['thetaMode'] }));
  const lastProbe = h('vscode-button', { id: 'skills-last-probe', secondary: '', icon: 'beaker', title: 'Use the forward mean loss (nats per token) of the last probe as L' }, 'Use last probe');
  lastProbe.addEventListener('click', () => ctx.intent('skillsUseLastProbe', params));
  const thetaLine = h('div', { class: 'lab-row' });
  const lossSource = h('div', { class: 'lab-row muted' });

  const status = h('div', { class: 'lab-status', role: 'status', 'aria-live': 'polite' });
  const metrics = h('div', { class: 'metrics', id: 'skills-metrics' });
  const canvas = h('canvas', { id: 'skills-chart', 'aria-label': 'Fraction of skills below competence 1 − βθ against β: the bound and the Monte Carlo check' });
  const chartNote = h('p', { class: 'muted' });
  const table = h('table', { class: 'lab-table', id: 'skills-table' });
  const mcLine = h('p', { class: 'muted' });
  const theorem = h(
    'div',
    { class: 'lab-formula', id: 'skills-theorem' },
    h('strong', {}, 'Theorem 8'),
    ' (Arora & Goyal 2023): for a random bipartite graph of skills and text pieces, each piece using k skills, if α, β > 0 with β > 1, αβ < 1 satisfy',
    h('br'),
    h('code', { class: 'lab-eq' }, 'H(θ) + kθ·(H(βα) − βα·log(1/α) − (1 − βα)·log(1/(1 − α))) < 0'),
    'then, for every set of failed pieces of measure θ, at most a fraction α of the skills have competence below 1 − βθ (H: binary entropy). The curve is the smallest such α for each β; where none exists (kθ·log β ≤ H(θ)) the bound is vacuous (α = 1). ',
    h('strong', {}, 'k′-tuples'),
    ' (Cor. 13, Thm. 14): a k′-tuple of pieces fails if any piece fails, at most k′θ; the same bound at θ′ = k′θ caps the fraction of k′-tuples with competence below 1 − βk′θ, so the tuple curve at θ/k′ is the single-skill curve at θ.',
  );

  const el = h(
    'div',
    { class: 'lab', id: 'skills-lab' },
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Skills emergence from loss', h('span', { class: 'lab-cite where' }, 'Arora & Goyal 2023, Thm. 8')),
      theorem,
      h('div', { class: 'lab-radio', role: 'radiogroup', 'aria-label': 'Where θ comes from' }, h('label', { for: 'skills-mode-theta' }, modeTheta, 'θ directly'), h('label', { for: 'skills-mode-loss' }, modeLoss, 'θ from excess loss')),
      h('div', { class: 'lab-controls' }, controls.theta.el, controls.loss.el, controls.floor.el),
      h('div', { class: 'lab-row' }, lastProbe),
      lossSource,
      thetaLine,
      h('div', { class: 'lab-controls' }, controls.k.el, controls.tuple.el),
      status,
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Bound'), metrics),
    h('section', { class: 'card' }, h('h2', {}, 'Fraction of skills below competence 1 − βθ'), h('div', { class: 'lab-chart tall' }, canvas), chartNote),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Monte Carlo check'),
      h('div', { class: 'lab-controls' }, controls.skills.el, controls.pieces.el, controls.trials.el, controls.seed.el),
      mcLine,
      h('div', { class: 'lab-scroll' }, table),
    ),
  );

  function showLossSource(src: string | null, p: SkillsParams): void {
    lossSource.textContent = src && p.thetaMode === 'loss' ? `L from the ${src}.` : '';
  }

  function setParams(p: SkillsParams): void {
    params = p;
    for (const [k, c] of Object.entries(controls)) c.set(p[k as keyof typeof controls]);
    modeTheta.checked = p.thetaMode === 'theta';
    modeLoss.checked = p.thetaMode === 'loss';
    controls.theta.setDisabled(p.thetaMode !== 'theta');
    controls.loss.setDisabled(p.thetaMode !== 'loss');
    controls.floor.setDisabled(p.thetaMode !== 'loss');
    lastProbe.toggleAttribute('disabled', false);
  }

  function drawChart(): void {
    chart?.destroy();
    chart = null;
    if (!view) return;
    const c = ctx.colors();
    const r = view.report;
    const sim = view.simulation;
    const kt = r.tuple ?? 0;
    // the bound where it says something (where it is vacuous the line is left out)
    const curve = (pts: CurvePoint[]): Pt[] => pts.filter((p) => !p.vacuous).map((p) => ({ x: p.beta, y: p.alpha }));
    const top = 1 / r.theta;
    const markov = Array.from({ length: 40 }, (_, i) => 1 + ((top - 1) * i) / 39).map((b) => ({ x: b, y: 1 / b }));
    const datasets: ChartConfiguration<'line', Pt[]>['data']['datasets'] = [
      { label: 'Markov 1/β (reference)', data: markov, borderColor: c.muted, backgroundColor: c.muted, borderDash: [4, 4], borderWidth: 1, pointRadius: 0 },
      { label: 'bound, single skills', data: curve(r.curve), borderColor: c.forward, backgroundColor: c.forward, borderWidth: 2, pointRadius: 0, stepped: false },
      ...(r.tupleCurve ? [{ label: `bound, ${kt}-tuples`, data: curve(r.tupleCurve), borderColor: c.backward, backgroundColor: c.backward, borderWidth: 2, pointRadius: 0 }] : []),
      ...(sim
        ? [
            { label: 'simulated: concentrated failures', data: sim.curve.map((p) => ({ x: p.beta, y: p.concentrated })), borderColor: c.purple, backgroundColor: c.purple, showLine: false, pointRadius: 2.5, pointStyle: 'rectRot' as const },
            { label: 'simulated: random failures', data: sim.curve.map((p) => ({ x: p.beta, y: p.random })), borderColor: c.green, backgroundColor: c.green, showLine: false, pointRadius: 2 },
            ...(sim.tupleCurve ? [{ label: `simulated ${kt}-tuples: concentrated`, data: sim.tupleCurve.map((p) => ({ x: p.beta, y: p.concentrated })), borderColor: c.yellow, backgroundColor: c.yellow, showLine: false, pointRadius: 2, pointStyle: 'triangle' as const }] : []),
          ]
        : []),
    ];
    const thetaOf = (label: string) => (label.includes('tuple') ? (r.tupleTheta ?? r.theta) : r.theta);
    chart = new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        ...baseOptions(c),
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          // no max: the axis ends on a round tick at or just past 1/θ
          x: axis(c, 'β (competence level 1 − βθ)', { min: 1 }),
          y: axis(c, 'α: fraction of skills below', { min: 0, max: 1 }),
        },
        plugins: {
          ...baseOptions(c).plugins,
          tooltip: {
            callbacks: {
              title: (items) => `β = ${fmt((items[0]?.raw as Pt | undefined)?.x ?? NaN, 3)}`,
              label: (item) => {
                const p = item.raw as Pt;
                const label = item.dataset.label ?? '';
                const comp = 1 - p.x * thetaOf(label);
                if (label.startsWith('Markov')) return `Markov's inequality: at most 1/β = ${fmt(p.y, 3)} of the skills (by their number of pieces) fail on more than βθ of their pieces`;
                return `${label}: ${fmt(p.y, 3)} below competence ${fmt(comp, 3)}`;
              },
            },
          },
        },
      },
    });
  }

  function render(v: SkillsView | null): void {
    view = v;
    if (!v) {
      chart?.destroy();
      chart = null;
      return;
    }
    const r = v.report;
    const p = v.params;
    const kt = r.tuple ?? 1;
    showLossSource(v.lossSource, p);
    thetaLine.replaceChildren(
      h('span', {}, 'θ = '),
      num(fmt(v.theta), p.thetaMode === 'loss'
        ? `θ = min(1, 2 × (L − H)) = 2 × (${fmt(p.loss)} − ${fmt(p.floor)}) nats: by Markov's inequality at most this fraction of pieces has an excess loss of 1/2 nat or more, the paper's rule for a failed piece (nats per token stand in for a piece's cloze questions).`
        : 'θ: the fraction of text pieces the model fails on, as given.'),
      h('span', {}, ` · k = ${p.k} · k′ = ${kt} · θ′ = k′θ = `),
      num(fmt(r.tupleTheta ?? v.theta), 'θ′ = k′θ: a k′-tuple of pieces fails when any of its pieces fails, so at most k′θ of them fail (the union bound the paper uses).'),
    );
    // the fraction below 50% competence, next to Markov's inequality
    const at = (theta: number) => 1 / (2 * theta);
    const half = (pts: CurvePoint[] | undefined, theta: number) => {
      if (!pts || !(theta < 0.5)) return null;
      const b = at(theta);
      let best: CurvePoint | null = null;
      for (const q of pts) if (!best || Math.abs(q.beta - b) < Math.abs(best.beta - b)) best = q;
      return best;
    };
    const h1 = half(r.curve, r.theta);
    const h2 = half(r.tupleCurve, r.tupleTheta ?? 1);
    metrics.replaceChildren(
      metric('θ', fmt(v.theta), 'Fraction of text pieces failed (Thm. 8\'s θ); the single-skill competence levels are 1 − βθ.', '', v.theta),
      metric('β emerges', fmt(r.emergenceBeta, 3), `The bound says something for β > 2^(H(θ)/(kθ)) = ${fmt(r.emergenceBeta, 4)}, i.e. below competence ${fmt(1 - r.emergenceBeta * r.theta, 3)}. Reference: β = 1 (competence 1 − θ, the average).`, '', r.emergenceBeta),
      metric('α @ 50%', h1 ? fmt(h1.alpha, 3) : '–', `At most this fraction of skills has competence below ${h1 ? fmt(h1.competence, 3) : '1/2'} (β = ${h1 ? fmt(h1.beta, 3) : '–'}). Reference: Markov's inequality alone gives 2θ = ${fmt(2 * r.theta, 3)}.`, 'prefix', h1?.alpha),
      metric(`α @ 50%, ${kt}-tuples`, h2 ? fmt(h2.alpha, 3) : '–', `At most this fraction of ${kt}-tuples of skills has competence below ${h2 ? fmt(h2.competence, 3) : '1/2'} (θ′ = ${fmt(r.tupleTheta)}). Reference: Markov gives 2θ′ = ${fmt(2 * (r.tupleTheta ?? 0), 3)}. By Cor. 13 this is the single-skill value of a model that fails on k′θ of the pieces: a loss ${kt} times lower brings ${kt}-tuples to today's single-skill level.`, 'tuple', h2?.alpha),
    );
    const sim = v.simulation;
    chartNote.textContent = `Lines: the bound where it is not vacuous (from β = ${fmt(r.emergenceBeta, 3)}; the ${kt}-tuple curve from β = ${fmt(r.tupleEmergenceBeta ?? NaN, 3)} to 1/(k′θ), at the competence level 1 − βk′θ), and Markov's inequality 1/β as the reference a bound must beat. Points: the Monte Carlo fractions, which must stay under their line.`;
    if (sim) {
      mcLine.replaceChildren(
        `${sim.trials} graphs of ${sim.skills} skills and ${sim.pieces} pieces (k = ${sim.k}; `,
        num(fmt(sim.meanDegree, 3), 'Mean number of pieces per skill, k × pieces / skills: the more, the closer each competence is to 1 − θ under random failures.'),
        ` pieces per skill). Random: θ of the pieces fail at random (mean over graphs). Concentrated: the failed pieces are those that use the most skills of a target set (${sim.targetFractions.length} target sizes, ${fmt(sim.targetFractions[0])}–${fmt(sim.targetFractions[sim.targetFractions.length - 1])} of the skills): the worst found. Computed in ${v.ms} ms.`,
      );
      const rows = [0.25, 0.5, 0.75, 1].map((f) => Math.min(r.curve.length - 1, Math.round(f * (r.curve.length - 1))));
      const head = (label: string, title: string) => h('th', { class: 'num', title }, label);
      table.replaceChildren(
        h('thead', {}, h('tr', {}, head('β', 'β: the competence level is 1 − βθ'), head('competence', 'the level 1 − βθ'), head('bound α', 'Theorem 8: at most this fraction of skills is below the level'), head('random', 'simulated fraction below the level, random failures (mean over graphs)'), head('concentr.', 'simulated fraction below the level, concentrated failures (worst found)'))),
        h(
          'tbody',
          {},
          ...rows.map((i) =>
            h(
              'tr',
              {},
              h('td', { class: 'num', 'data-value': String(r.curve[i].beta) }, fmt(r.curve[i].beta, 3)),
              h('td', { class: 'num', 'data-value': String(r.curve[i].competence) }, fmt(r.curve[i].competence, 3)),
              h('td', { class: 'num', 'data-value': String(r.curve[i].alpha) }, r.curve[i].vacuous ? '1 (vacuous)' : fmt(r.curve[i].alpha, 3)),
              h('td', { class: 'num', 'data-value': String(sim.curve[i].random) }, fmt(sim.curve[i].random, 3)),
              h('td', { class: 'num', 'data-value': String(sim.curve[i].concentrated) }, fmt(sim.curve[i].concentrated, 3)),
            ),
          ),
        ),
      );
    }
    drawChart();
  }

  return {
    el,
    setParams,
    render,
    setLossSource: (src) => showLossSource(src, params),
    busy(b) {
      status.classList.remove('error');
      status.textContent = b ? 'Computing…' : '';
    },
    error(message) {
      status.classList.add('error');
      status.textContent = message;
    },
    redraw: drawChart,
  };
}
