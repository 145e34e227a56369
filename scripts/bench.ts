// Prints figures, never pass/fail: session load time, probe throughput (tokens/s, both directions)
// on a long text, and peak memory. Usage: npm run bench [-- --model DIR] [--chars N | --tokens N] [--top K]
// --model takes a pack, a Hugging Face folder or a pair.json; the first open of a Hugging Face folder
// hashes its weights and builds its graphs (run with LM_PROBE_CACHE_DIR pointing at an empty folder
// to measure that).
// Run through tsx (npm run bench), straight from src/engine.
import { parseArgs } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../src/engine/index';

const root = join(__dirname, '..');
const { values } = parseArgs({
  options: { model: { type: 'string' }, chars: { type: 'string', default: '50000' }, tokens: { type: 'string' }, top: { type: 'string', default: '5' } },
});

// A long, realistic text: the project's own sources and docs, repeated to the requested length.
function corpus(n: number): string {
  const parts: string[] = [];
  for (const d of ['src/engine', 'src/cli', 'docs']) {
    for (const f of readdirSync(join(root, d))) if (/\.(ts|md)$/.test(f)) parts.push(readFileSync(join(root, d, f), 'utf8'));
  }
  let s = parts.join('\n');
  while (s.length < n) s += s;
  return s.slice(0, n);
}

const mb = (x: number) => (x / 1024 / 1024).toFixed(0) + ' MB';
const pack = values.model ?? join(root, 'models', 'default');
async function main() {
  let t0 = performance.now();
  const engine = await Engine.open(pack);
  const loadMs = performance.now() - t0;
  console.log(`pack            ${engine.pack.info.name} (${engine.pack.dir}), context ${engine.pack.info.contextLength}, vocab ${engine.pack.info.vocabSize}`);
  console.log(`provider        ${engine.provider}${engine.fallbacks.length ? ` (fell back from ${engine.fallbacks.map((f) => f.provider).join(', ')})` : ''}`);
  console.log(`session load    ${loadMs.toFixed(0)} ms (forward + backward, with the shape check)`);

  const short = await engine.probe('The quick brown fox jumps over the lazy dog.', { topK: 5 });
  console.log(`short probe     ${short.tokens.length} tokens in ${short.runtime.ms.toFixed(0)} ms`);

  let text = corpus(Number(values.chars));
  if (values.tokens) {
    // exactly N tokens: cut the text at the end of token N
    const enc = engine.tokenize(text);
    text = text.slice(0, enc.offsets[Math.min(Number(values.tokens), enc.ids.length) - 1][1]);
  }
  const rssBefore = process.memoryUsage().rss;
  t0 = performance.now();
  const r = await engine.probe(text, { topK: Number(values.top), maxTokens: Number.MAX_SAFE_INTEGER });
  const ms = performance.now() - t0;
  const n = r.tokens.length;
  console.log(`long probe      ${text.length} chars, ${n} tokens, ${r.runtime.windows} windows/direction, top ${values.top}`);
  console.log(`                ${ms.toFixed(0)} ms: ${(n / (ms / 1000)).toFixed(0)} tokens/s (both directions)`);
  for (let i = 0; i < 2; i++) {
    const t1 = performance.now();
    await engine.probe(text, { topK: Number(values.top), maxTokens: Number.MAX_SAFE_INTEGER });
    console.log(`  again         ${(performance.now() - t1).toFixed(0)} ms`);
  }
  console.log(`memory          RSS ${mb(rssBefore)} before, peak ${mb(process.resourceUsage().maxRSS * 1024)}`);
  await engine.dispose();
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
