// lm-probe bench: how fast a model probes on this machine, on the user's own text. The engine's side
// of `npm run bench` (which also runs PyTorch on the same weights and measures the matmul rate, and
// needs a checkout): probe medians per length, corpus mode's tokens/s, peak RSS. Figures, never a
// pass or fail.
import { Engine } from '../../engine/engine';
import { CliError, EXIT, readCheckedText } from '../io';
import { common, engineOptions, intOption, write, type Command } from '../options';

export const BENCH_USAGE = `
  lm-probe bench [--model DIR] [--providers LIST] [--tokens N,N,...] [--repeats R] [--json] FILE...
      how fast the model probes here, on the FILEs' text: each length N (default 128,512,2048;
      those the text has) probed R times after a warm-up (default 5), median and range in ms and
      tokens/s (both directions); corpus mode (nats only) over the whole text; peak RSS. With
      --providers, each provider named is measured as it is (no warm-up choice), side by side with
      the repeats interleaved, and the ratios printed (e.g. --providers webgpu,cpu). PyTorch on the
      same weights and the matmul rate: npm run bench in a checkout (BENCHMARKS.md)
`;

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(xs: number[]): Spread {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: s[s.length >> 1], min: s[0], max: s[s.length - 1] };
}

const ms = (x: number) => Math.round(x * 10) / 10;

interface ProviderRun {
  provider: string;
  loadMs: number;
  probes: Record<string, { tokens: number; engineMs: Spread; tokensPerSecond: number; windows: number }>;
  corpus: { tokens: number; seconds: number; tokensPerSecond: number };
}

/** Opens the engine once per provider named, on that provider alone; one that does not start is reported and left out. */
async function openEach(model: string | undefined, named: string[] | undefined): Promise<{ engines: Engine[]; loadMs: number[]; unavailable: string[] }> {
  const engines: Engine[] = [];
  const loadMs: number[] = [];
  const unavailable: string[] = [];
  try {
    for (const p of named ?? [undefined]) {
      const t0 = performance.now();
      const e = await Engine.open(model, p === undefined ? engineOptions({}) : { providers: [p], chooseFasterProvider: false });
      if (p !== undefined && e.provider !== p) {
        unavailable.push(`${p} (${e.fallbacks.find((f) => f.provider === p)?.error ?? `opened on ${e.provider}`})`);
        await e.dispose();
        continue;
      }
      engines.push(e);
      loadMs.push(performance.now() - t0);
    }
  } catch (e) {
    await Promise.all(engines.map((x) => x.dispose()));
    throw e;
  }
  return { engines, loadMs, unavailable };
}

export const BENCH_COMMAND: Command = {
  options: { ...common, tokens: { type: 'string' }, repeats: { type: 'string' } },
  allowPositionals: true,
  async run(v, pos) {
    if (!pos.length) throw new CliError(EXIT.USAGE, 'bench needs a text FILE (e.g. a few of your own files: the figures are for that kind of text)');
    const sizes = String(v.tokens ?? '128,512,2048')
      .split(',')
      .map((s) => s.trim());
    if (sizes.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) throw new CliError(EXIT.USAGE, `--tokens: expected positive integers separated by commas, got ${JSON.stringify(v.tokens)}`);
    const repeats = intOption(v, 'repeats', 5, 1);
    const text = pos.map((f) => readCheckedText(f)).join('\n');
    const named = engineOptions(v).providers;
    const { engines, loadMs, unavailable } = await openEach(v.model as string | undefined, named ? [...new Set(named.map((p) => p.toLowerCase()))] : undefined);
    try {
      if (!engines.length) throw new CliError(EXIT.RUNTIME, `no provider named could be measured: ${unavailable.join('; ')}`);
      const engine = engines[0];
      const offsets = engine.tokenize(text).offsets;
      const wanted = sizes.map(Number);
      const lengths = wanted.filter((n) => n <= offsets.length);
      if (!lengths.length) throw new CliError(EXIT.USAGE, `the text has ${offsets.length} tokens, fewer than every --tokens length (${wanted.join(', ')})`);
      const runs: ProviderRun[] = engines.map((e, i) => ({ provider: e.provider, loadMs: ms(loadMs[i]), probes: {}, corpus: { tokens: 0, seconds: 0, tokensPerSecond: 0 } }));
      for (const n of lengths) {
        const piece = text.slice(0, offsets[n - 1][1]);
        for (const e of engines) await e.probe(piece, {}); // warm-up: first runs of a shape allocate
        const times: number[][] = engines.map(() => []);
        const windows: number[] = engines.map(() => 0);
        for (let i = 0; i < repeats; i++) {
          // Interleaved, the order rotating each repeat: the machine's noise hits every provider.
          for (let j = 0; j < engines.length; j++) {
            const k = (i + j) % engines.length;
            const a = performance.now();
            const r = await engines[k].probe(piece, {});
            times[k].push(performance.now() - a);
            windows[k] = r.runtime.windows;
          }
        }
        engines.forEach((_, k) => {
          const s = spread(times[k]);
          runs[k].probes[`probe${n}`] = { tokens: n, engineMs: { median: ms(s.median), min: ms(s.min), max: ms(s.max) }, tokensPerSecond: Math.round(n / (s.median / 1000)), windows: windows[k] };
        });
      }
      for (const [k, e] of engines.entries()) {
        const c0 = performance.now();
        const corpus = await e.surprisalNats(text, { maxTokens: Number.MAX_SAFE_INTEGER });
        const corpusS = (performance.now() - c0) / 1000;
        runs[k].corpus = { tokens: corpus.forward.length, seconds: Math.round(corpusS * 100) / 100, tokensPerSecond: Math.round(corpus.forward.length / corpusS) };
      }
      const head = {
        pack: engine.pack.manifest.name,
        directions: engine.hasBackward ? 2 : 1,
        repeats,
        skipped: wanted.filter((n) => n > offsets.length),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      const single = !named;
      if (v.json) {
        const one = (r: ProviderRun) => ({ provider: r.provider, loadMs: r.loadMs, ...r.probes, corpus: r.corpus });
        const report = single
          ? { ...head, ...one(runs[0]) }
          : { ...head, providers: runs.map(one), unavailable, ratios: ratios(runs) };
        await write(JSON.stringify(report, null, 1) + '\n');
        return;
      }
      const dir = head.directions === 2 ? 'both directions' : 'forward only';
      const lines = runs.length === 1
        ? [`${head.pack} on ${runs[0].provider}, ${dir}; opened in ${runs[0].loadMs} ms; medians of ${repeats} after a warm-up`]
        : [`${head.pack} on ${runs.map((r) => `${r.provider} (opened in ${r.loadMs} ms)`).join(', ')}, side by side, repeats interleaved; ${dir}; medians of ${repeats} after a warm-up`];
      for (const u of unavailable) lines.push(`not measured: ${u}`);
      for (const r of runs) {
        const tag = runs.length === 1 ? '' : `${r.provider.padEnd(8)} `;
        for (const p of Object.values(r.probes)) lines.push(`${tag}probe ${String(p.tokens).padStart(6)} tokens  ${p.engineMs.median} ms (${p.engineMs.min}-${p.engineMs.max}), ${p.tokensPerSecond.toLocaleString('en-US')} tokens/s, ${p.windows} window${p.windows === 1 ? '' : 's'} per direction`);
        lines.push(`${tag}corpus ${r.corpus.tokens.toLocaleString('en-US')} tokens (nats only) in ${r.corpus.seconds} s: ${r.corpus.tokensPerSecond.toLocaleString('en-US')} tokens/s`);
      }
      if (runs.length > 1) {
        const base = runs[runs.length - 1].provider;
        const rs = ratios(runs);
        for (const r of runs.slice(0, -1)) {
          const pair = `${base}/${r.provider}`;
          const each = Object.entries(rs).map(([what, byPair]) => `${what} ${byPair[pair]}x`);
          lines.push(`${r.provider} vs ${base}: ${each.join(', ')} (${base}'s time over ${r.provider}'s: above 1, ${r.provider} is faster)`);
        }
      }
      if (head.skipped.length) lines.push(`skipped: ${head.skipped.join(', ')} tokens (the text has ${offsets.length})`);
      lines.push(`peak RSS ${head.peakRssMb} MB`);
      await write(lines.join('\n') + '\n');
    } finally {
      await Promise.all(engines.map((e) => e.dispose()));
    }
  },
};

/** Time of the last provider (cpu, as the list is usually written) over each other's, per measure: > 1 means that one is faster. */
function ratios(runs: ProviderRun[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const base = runs[runs.length - 1];
  const r2 = (x: number) => Number(x.toPrecision(3));
  for (const r of runs.slice(0, -1)) {
    const pair = `${base.provider}/${r.provider}`;
    for (const [k, p] of Object.entries(r.probes)) (out[k] ??= {})[pair] = r2(base.probes[k].engineMs.median / p.engineMs.median);
    (out.corpus ??= {})[pair] = r2(r.corpus.tokensPerSecond / base.corpus.tokensPerSecond);
  }
  return out;
}
