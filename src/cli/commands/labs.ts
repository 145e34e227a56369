// The theory labs' subcommands (src/engine/labs; docs/labs.md): icl (prefix vs causal attention for
// in-context linear regression, Ding et al. 2023) and skills (the emergence bound of Arora and
// Goyal 2023). Pure computation: no model is opened, except by skills --corpus to measure a loss.
import { common, engineOptions, intOption, numOption, write, type Command, type Values } from '../options';
import { CliError, EXIT, readStdin, readTextFile } from '../io';
import { runCorpus } from '../corpus';
import { Engine } from '../../engine/engine';
import {
  errorVsExamples,
  exampleCounts,
  IclInputError,
  parseRows,
  runIcl,
  syntheticIcl,
  validateIclData,
  type IclData,
} from '../../engine/labs/icl';
import { simulateSkills, skillsReport, SkillsInputError, thetaFromExcessLoss, tupleTheta, type SimulationReport } from '../../engine/labs/skills';

export const LABS_USAGE = `
Theory labs (docs/labs.md):
  lm-probe icl [--json] [--layers L] [--eta E] [--sweep]
               (--data FILE | --synthetic [--dim D] [--examples N] [--queries Q] [--seed S]
                [--shift MU] [--noise SIGMA])
      in-context linear regression by the linear self-attention construction of Ding et al.
      2023, run as a masked attention forward pass with a prefix mask and with a causal mask;
      prints {"prefix": {"predictions", "mseByLayer"}, "causal": {...}, "leastSquares", "nlms",
      ...}. FILE (or - for standard input): {"examples": {"x": [[...]], "y": [...]},
      "queries": {"x": [[...]], "y": [...] (optional)}}, or rows of numbers x_1..x_d y (a row
      with y left empty is a query). Defaults: L 50, E 0.04 (the paper's), D 16, N 40, Q 20,
      S 1, MU 0 (x ~ U[-1,1]^d + MU), SIGMA 0. --sweep adds the error against the number of
      examples. mseByLayer is null when the queries have no targets
  lm-probe skills [--json] (--theta T | --loss L --floor H | --corpus FILE... --floor H)
                  [--k K] [--tuple K2] [--points P] [--betas b1,b2,...]
                  [--simulate [--skills NS] [--pieces NT] [--trials T] [--seed S]]
      the emergence bound of Arora & Goyal 2023 (Thm. 8): the fraction alpha of skills with
      competence below 1 - beta theta, for each beta; --tuple K2 adds the K2-tuple curve (Cor.
      13, Thm. 14: the bound at K2 theta). theta from a loss: min(1, 2 (L - H)), L the mean
      loss and H the entropy floor in nats per token (--corpus measures L with --model).
      Defaults: K 5, P 60 betas from 1 to 1/theta; --simulate: a Monte Carlo check on sampled
      graphs (NS 1000 skills, NT 2000 pieces, T 5 trials, S 1) with random and concentrated
      failure sets
`;

/** JSON with non-finite numbers (a diverging pass) written as null. */
function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 1) + '\n';
}

function fmt(x: number | null | undefined, d = 6): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return String(x);
  return Math.abs(x) !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6) ? x.toExponential(3) : x.toFixed(d);
}

async function readData(file: string): Promise<IclData> {
  const text = file === '-' ? await readStdin() : readTextFile(file);
  let data: IclData;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      data = JSON.parse(text) as IclData;
    } catch (e) {
      throw new CliError(EXIT.USAGE, `--data ${file}: not valid JSON (${(e as Error).message})`);
    }
  } else {
    const rows = parseRows(text);
    if (!rows.data) throw new CliError(EXIT.USAGE, `--data ${file}: ${rows.error}`);
    for (const s of rows.skipped) process.stderr.write(`lm-probe: warning: ${file}:${s.line} skipped: ${s.reason}\n`);
    data = rows.data;
  }
  try {
    validateIclData(data);
  } catch (e) {
    if (e instanceof IclInputError) throw new CliError(EXIT.USAGE, `--data ${file}: ${e.message}`);
    throw e;
  }
  return data;
}

function positive(v: Values, name: string, def: number): number {
  const x = numOption(v, name) ?? def;
  if (!(x > 0)) throw new CliError(EXIT.USAGE, `--${name}: expected a number > 0, got ${x}`);
  return x;
}

export const ICL_COMMAND: Command = {
  options: {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    layers: { type: 'string' },
    eta: { type: 'string' },
    data: { type: 'string' },
    synthetic: { type: 'boolean' },
    dim: { type: 'string' },
    examples: { type: 'string' },
    queries: { type: 'string' },
    seed: { type: 'string' },
    shift: { type: 'string' },
    noise: { type: 'string' },
    sweep: { type: 'boolean' },
  },
  allowPositionals: false,
  async run(v) {
    const layers = intOption(v, 'layers', 50, 1);
    const eta = positive(v, 'eta', 0.04);
    const synthOpts = ['dim', 'examples', 'queries', 'seed', 'shift', 'noise'].filter((o) => v[o] !== undefined);
    let data: IclData;
    let synthetic: ReturnType<typeof syntheticIcl> | null = null;
    if (typeof v.data === 'string') {
      if (v.synthetic) throw new CliError(EXIT.USAGE, 'give either --data FILE or --synthetic, not both');
      if (synthOpts.length) throw new CliError(EXIT.USAGE, `--${synthOpts[0]} applies to --synthetic only`);
      data = await readData(v.data);
    } else if (v.synthetic) {
      const noise = numOption(v, 'noise') ?? 0;
      if (noise < 0) throw new CliError(EXIT.USAGE, '--noise: expected a number >= 0');
      synthetic = syntheticIcl({
        d: intOption(v, 'dim', 16, 1),
        n: intOption(v, 'examples', 40, 1),
        q: intOption(v, 'queries', 20, 1),
        seed: intOption(v, 'seed', 1, 0),
        shift: numOption(v, 'shift') ?? 0,
        noise,
      });
      data = { examples: synthetic.examples, queries: synthetic.queries };
    } else {
      throw new CliError(EXIT.USAGE, 'icl needs --data FILE or --synthetic (see lm-probe --help)');
    }
    let result;
    try {
      result = runIcl(data, { layers, eta });
    } catch (e) {
      if (e instanceof IclInputError) throw new CliError(EXIT.USAGE, e.message);
      throw e;
    }
    for (const w of result.warnings) process.stderr.write(`lm-probe: warning: ${w}\n`);
    const sweep = v.sweep ? errorVsExamples(data, { layers, eta }, exampleCounts(data.examples.x.length)) : undefined;
    if (v.json) {
      const { prefix, causal, leastSquares, nlms, ...rest } = result;
      await write(json({ prefix, causal, leastSquares, nlms, ...rest, ...(sweep ? { errorVsExamples: sweep } : {}), ...(synthetic ? { data: synthetic } : {}) }));
      return;
    }
    const r = result;
    const lines = [
      `in-context linear regression, LSA forward pass: d = ${r.d}, ${r.n} examples, ${r.q} queries, ${r.layers} layers, eta = ${r.eta}`,
      `  prefix converges for eta < 2/lambda_max(X'X) = ${fmt(r.stability.etaMaxPrefix, 4)}; causal for eta < 2/max||x_j||^2 = ${fmt(r.stability.etaMaxCausal, 4)}`,
    ];
    if (r.prefix.mseByLayer && r.causal.mseByLayer) {
      lines.push(
        `query MSE after layer ${r.layers}: prefix ${fmt(r.prefix.mseByLayer[r.layers - 1])}, causal ${fmt(r.causal.mseByLayer[r.layers - 1])}; ` +
          `least squares ${fmt(r.leastSquaresMse)}, one-pass normalized LMS ${fmt(r.nlmsMse)}`,
      );
    }
    lines.push('', `${'query'.padStart(6)} ${'prefix'.padStart(14)} ${'causal'.padStart(14)} ${'least sq.'.padStart(14)} ${'NLMS'.padStart(14)}${data.queries.y ? ` ${'target'.padStart(14)}` : ''}`);
    for (let j = 0; j < r.q; j++) {
      const cols = [r.prefix.predictions[j], r.causal.predictions[j], r.leastSquares[j], r.nlms[j], ...(data.queries.y ? [data.queries.y[j]] : [])];
      lines.push(`${String(j + 1).padStart(6)} ${cols.map((c) => fmt(c).padStart(14)).join(' ')}`);
    }
    if (sweep) {
      lines.push('', `error after ${layers} layers against the number of examples (${sweep.measure === 'mse' ? 'query MSE' : 'mean squared gap to least squares on all examples'}):`);
      lines.push(`${'n'.padStart(6)} ${'prefix'.padStart(14)} ${'causal'.padStart(14)} ${'least sq.'.padStart(14)} ${'NLMS'.padStart(14)}`);
      sweep.examples.forEach((m, i) => lines.push(`${String(m).padStart(6)} ${[sweep.prefix[i], sweep.causal[i], sweep.leastSquares[i], sweep.nlms[i]].map((c) => fmt(c).padStart(14)).join(' ')}`));
    }
    await write(lines.join('\n') + '\n');
  },
};

function betaList(raw: unknown): number[] | undefined {
  if (raw === undefined) return undefined;
  const xs = String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!xs.length || xs.some((x) => !Number.isFinite(x) || x <= 1)) throw new CliError(EXIT.USAGE, `--betas: expected numbers > 1 separated by commas, got ${JSON.stringify(raw)}`);
  return xs;
}

export const SKILLS_COMMAND: Command = {
  options: {
    ...common,
    theta: { type: 'string' },
    loss: { type: 'string' },
    floor: { type: 'string' },
    corpus: { type: 'string', multiple: true },
    k: { type: 'string' },
    tuple: { type: 'string' },
    points: { type: 'string' },
    betas: { type: 'string' },
    simulate: { type: 'boolean' },
    skills: { type: 'string' },
    pieces: { type: 'string' },
    trials: { type: 'string' },
    seed: { type: 'string' },
  },
  allowPositionals: true,
  async run(v, pos, ctx) {
    const k = intOption(v, 'k', 5, 1);
    const tuple = v.tuple === undefined ? undefined : intOption(v, 'tuple', 2, 1);
    const points = intOption(v, 'points', 60, 2);
    const betas = betaList(v.betas);
    const corpus = [...((v.corpus as string[] | undefined) ?? []), ...(v.corpus ? pos : [])];
    if (pos.length && !v.corpus) throw new CliError(EXIT.USAGE, `unexpected arguments: ${pos.join(' ')}`);
    const sources = [v.theta !== undefined, v.loss !== undefined, corpus.length > 0].filter(Boolean).length;
    if (sources !== 1) throw new CliError(EXIT.USAGE, 'give theta one way: --theta T, or --loss L --floor H, or --corpus FILE... --floor H');
    let theta: number;
    let thetaSource: Record<string, unknown> = { from: 'theta' };
    if (v.theta !== undefined) {
      theta = numOption(v, 'theta')!;
    } else {
      const floor = numOption(v, 'floor');
      if (floor === undefined) throw new CliError(EXIT.USAGE, '--floor H (the entropy floor, nats per token) is needed with --loss or --corpus');
      let loss: number;
      if (v.loss !== undefined) {
        loss = numOption(v, 'loss')!;
        thetaSource = { from: 'loss', lossNats: loss, floorNats: floor };
      } else {
        const docs = corpus.map((file) => ({ file, text: readTextFile(file) }));
        const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
        try {
          const report = await runCorpus(engine, docs, { resamples: 1, seed: 1, signal: ctx.signal });
          loss = report.forward.meanNats;
          thetaSource = { from: 'corpus', files: corpus, tokens: report.tokens, model: report.pack.name, lossNats: loss, floorNats: floor };
        } finally {
          await engine.dispose();
        }
      }
      theta = thetaFromExcessLoss(loss, floor);
      thetaSource.excessNats = loss - floor;
      if (!(theta > 0)) throw new CliError(EXIT.USAGE, `the loss ${loss} is not above the floor ${floor}: theta = 0, every skill is at full competence`);
    }
    let report;
    try {
      report = skillsReport({ theta, k, tuple, betas, points });
    } catch (e) {
      if (e instanceof SkillsInputError) throw new CliError(EXIT.USAGE, e.message);
      throw e;
    }
    let monteCarlo: SimulationReport | undefined;
    if (v.simulate) {
      try {
        monteCarlo = simulateSkills({
          theta,
          k,
          skills: intOption(v, 'skills', 1000, 1),
          pieces: intOption(v, 'pieces', 2000, 1),
          trials: intOption(v, 'trials', 5, 1),
          seed: intOption(v, 'seed', 1, 0),
          betas: report.curve.map((p) => p.beta),
          tuple,
          tupleBetas: report.tupleCurve?.map((p) => p.beta),
        });
      } catch (e) {
        if (e instanceof SkillsInputError) throw new CliError(EXIT.USAGE, e.message);
        throw e;
      }
    }
    if (v.json) {
      await write(json({ ...report, thetaSource, ...(monteCarlo ? { monteCarlo } : {}) }));
      return;
    }
    const lines = [
      report.theorem,
      `theta = ${fmt(theta, 6)}${thetaSource.from !== 'theta' ? ` (2 x excess loss ${fmt(thetaSource.excessNats as number, 4)} nats)` : ''}, k = ${k}; ` +
        `the bound is vacuous (alpha = 1) for beta <= ${fmt(report.emergenceBeta, 3)}`,
      '',
      `${'beta'.padStart(8)} ${'competence'.padStart(11)} ${'alpha'.padStart(9)}${monteCarlo ? ` ${'sim.random'.padStart(10)} ${'sim.conc.'.padStart(10)}` : ''}`,
    ];
    report.curve.forEach((p, i) => {
      const mc = monteCarlo?.curve[i];
      lines.push(`${fmt(p.beta, 3).padStart(8)} ${fmt(p.competence, 4).padStart(11)} ${fmt(p.alpha, 4).padStart(9)}${mc ? ` ${fmt(mc.randomMax, 4).padStart(10)} ${fmt(mc.concentrated, 4).padStart(10)}` : ''}`);
    });
    if (report.tupleCurve && tuple) {
      lines.push('', `${tuple}-tuples: theta' = ${tuple} theta = ${fmt(tupleTheta(theta, tuple), 6)}; vacuous for beta <= ${fmt(report.tupleEmergenceBeta, 3)}`);
      report.tupleCurve.forEach((p, i) => {
        const mc = monteCarlo?.tupleCurve?.[i];
        lines.push(`${fmt(p.beta, 3).padStart(8)} ${fmt(p.competence, 4).padStart(11)} ${fmt(p.alpha, 4).padStart(9)}${mc ? ` ${fmt(mc.randomMax, 4).padStart(10)} ${fmt(mc.concentrated, 4).padStart(10)}` : ''}`);
      });
    }
    await write(lines.join('\n') + '\n');
  },
};

export const LABS_COMMANDS: Record<string, Command> = { icl: ICL_COMMAND, skills: SKILLS_COMMAND };
