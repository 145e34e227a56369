// Runs every test/**/*.test.ts with node's own test runner (TypeScript through tsx), so that CI
// reads node's standard summary. Extra arguments are passed through (e.g. a file filter).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
let files = find('test').sort();
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Graphs built from Hugging Face folders go to a cache of this run's own, not the user's.
const cache = mkdtempSync(join(tmpdir(), 'lm-probe-test-cache-'));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...flags, ...files], {
  stdio: 'inherit',
  env: { ...process.env, LM_PROBE_CACHE_DIR: process.env.LM_PROBE_CACHE_DIR ?? cache },
});
rmSync(cache, { recursive: true, force: true });
process.exit(r.status ?? 1);
