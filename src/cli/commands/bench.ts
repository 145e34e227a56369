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
      tokens/s (both directions); corpus mode (nats only) over the whole text; peak RSS. PyTorch
      on the same weights and the matmul rate: npm run bench in a checkout (BENCHMARKS.md)
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
    const t0 = performance.now();
    const engine = await Engine.open(v.model as string | undefined, engineOptions(v));
    const loadMs = performance.now() - t0;
    try {
      const offsets = engine.tokenize(text).offsets;
      const wanted = sizes.map(Number);
      const lengths = wanted.filter((n) => n <= offsets.length);
      if (!lengths.length) throw new CliError(EXIT.USAGE, `the text has ${offsets.length} tokens, fewer than every --tokens length (${wanted.join(', ')})`);
      const probes: Record<string, { tokens: number; engineMs: Spread; tokensPerSecond: number; windows: number }> = {};
      for (const n of lengths) {
        const piece = text.slice(0, offsets[n - 1][1]);
        await engine.probe(piece, {}); // warm-up: first runs of a shape allocate
        const times: number[] = [];
        let windows = 0;
        for (let i = 0; i < repeats; i++) {
          const a = performance.now();
          const r = await engine.probe(piece, {});
          times.push(performance.now() - a);
          windows = r.runtime.windows;
        }
        const s = spread(times);
        probes[`probe${n}`] = { tokens: n, engineMs: { median: ms(s.median), min: ms(s.min), max: ms(s.max) }, tokensPerSecond: Math.round(n / (s.median / 1000)), windows };
      }
      const c0 = performance.now();
      const corpus = await engine.surprisalNats(text, { maxTokens: Number.MAX_SAFE_INTEGER });
      const corpusS = (performance.now() - c0) / 1000;
      const report = {
        pack: engine.pack.manifest.name,
        provider: engine.provider,
        directions: engine.hasBackward ? 2 : 1,
        loadMs: ms(loadMs),
        repeats,
        ...probes,
        skipped: wanted.filter((n) => n > offsets.length),
        corpus: { tokens: corpus.forward.length, seconds: Math.round(corpusS * 100) / 100, tokensPerSecond: Math.round(corpus.forward.length / corpusS) },
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      if (v.json) {
        await write(JSON.stringify(report, null, 1) + '\n');
        return;
      }
      const lines = [`${report.pack} on ${report.provider}, ${report.directions === 2 ? 'both directions' : 'forward only'}; opened in ${report.loadMs} ms; medians of ${repeats} after a warm-up`];
      for (const p of Object.values(probes)) lines.push(`probe ${String(p.tokens).padStart(6)} tokens  ${p.engineMs.median} ms (${p.engineMs.min}-${p.engineMs.max}), ${p.tokensPerSecond.toLocaleString('en-US')} tokens/s, ${p.windows} window${p.windows === 1 ? '' : 's'} per direction`);
      if (report.skipped.length) lines.push(`skipped: ${report.skipped.join(', ')} tokens (the text has ${offsets.length})`);
      lines.push(`corpus ${report.corpus.tokens.toLocaleString('en-US')} tokens (nats only) in ${report.corpus.seconds} s: ${report.corpus.tokensPerSecond.toLocaleString('en-US')} tokens/s`);
      lines.push(`peak RSS ${report.peakRssMb} MB`);
      await write(lines.join('\n') + '\n');
    } finally {
      await engine.dispose();
    }
  },
};
