// Interleaved A/B of two checkouts' engines in one process: the same texts, the repeats taking turns,
// so that the machine's noise hits both sides. Prints figures, never passes or fails.
//
//   git worktree add /tmp/lm-probe-base <commit> && ln -s "$PWD/node_modules" /tmp/lm-probe-base/
//   npx tsx scripts/bench-ab.ts --base /tmp/lm-probe-base [--model PATH] [--tokens 512,2048] [--repeats 12] [--corpus]
//
// --model is a path relative to each checkout (default models/default) or an absolute one (both
// sides open the same folder). Each side's mean nats per direction is printed, to show the work is
// the same.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    model: { type: 'string', default: join('models', 'default') },
    tokens: { type: 'string', default: '512,2048' },
    repeats: { type: 'string', default: '12' },
    corpus: { type: 'boolean', default: false },
  },
});
if (!values.base) {
  console.error('bench-ab: --base DIR (a checkout with node_modules) is required');
  process.exit(2);
}

interface Side {
  name: string;
  engine: { tokenize(t: string): { offsets: [number, number][] }; probe(t: string, o: object): Promise<{ tokens: unknown[]; summary: { forward: { meanNats: number }; backward?: { meanNats: number } | null } }>; surprisalNats(t: string): Promise<unknown>; dispose(): Promise<void> };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function main(): Promise<void> {
  const here = resolve(__dirname, '..');
  const sides: Side[] = [];
  for (const [name, dir] of [['base', resolve(values.base!)], ['this', here]] as const) {
    const { Engine } = await import(join(dir, 'src', 'engine', 'engine.ts'));
    const model = isAbsolute(values.model!) ? values.model! : join(dir, values.model!);
    sides.push({ name, engine: await Engine.open(model, { providers: ['cpu'] }) });
  }
  const repeats = Number(values.repeats);
  const base = ['README.md', 'BENCHMARKS.md', 'docs/model-pack.md', 'docs/huggingface.md'].map((f) => readFileSync(join(here, f), 'utf8')).join('\n');
  for (const n of values.tokens!.split(',').map(Number)) {
    const offsets = sides[1].engine.tokenize(base).offsets;
    if (offsets.length < n) throw new Error(`the texts have ${offsets.length} tokens, fewer than ${n}`);
    const text = base.slice(0, offsets[n - 1][1]);
    const times = new Map<string, number[]>();
    for (let i = 0; i <= repeats; i++) {
      for (const s of i % 2 ? sides.slice().reverse() : sides) {
        const t0 = performance.now();
        const r = await s.engine.probe(text, { topK: 5, analyses: false });
        const ms = performance.now() - t0;
        if (i === 0) console.log(`${s.name}: ${r.tokens.length} tokens, mean nats forward ${r.summary.forward.meanNats} backward ${r.summary.backward?.meanNats ?? '-'}`);
        else times.set(s.name, [...(times.get(s.name) ?? []), ms]);
      }
    }
    const [a, b] = sides.map((s) => times.get(s.name)!);
    console.log(`probe ${n} tokens: base ${median(a).toFixed(1)} ms (min ${Math.min(...a).toFixed(1)}), this ${median(b).toFixed(1)} ms (min ${Math.min(...b).toFixed(1)}): base/this ${(median(a) / median(b)).toFixed(2)}`);
  }
  if (values.corpus) {
    const times = new Map<string, number[]>();
    for (let i = 0; i <= Math.max(3, repeats >> 2); i++) {
      for (const s of i % 2 ? sides.slice().reverse() : sides) {
        const t0 = performance.now();
        await s.engine.surprisalNats(base);
        if (i > 0) times.set(s.name, [...(times.get(s.name) ?? []), performance.now() - t0]);
      }
    }
    const [a, b] = sides.map((s) => times.get(s.name)!);
    console.log(`corpus mode (nats only), ${base.length} characters: base ${median(a).toFixed(0)} ms, this ${median(b).toFixed(0)} ms: base/this ${(median(a) / median(b)).toFixed(2)}`);
  }
  for (const s of sides) await s.engine.dispose();
}

main().catch((e) => {
  console.error(`bench-ab: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
