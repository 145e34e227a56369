// npm run package: a platform-specific VSIX (vsce --target) for this machine's platform, or the
// one named with --target (e.g. node scripts/package.mjs --target win32-x64). It carries only that
// platform's onnxruntime-node binaries, the production bundles and models/default.
// Prints the VSIX path and size on the last line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const argTarget = process.argv.indexOf('--target');
const target = argTarget > 0 ? process.argv[argTarget + 1] : `${process.platform}-${process.arch}`;
const [platform, arch] = target.split('-');
const supported = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
if (!supported.includes(target)) {
  console.error(`package: no onnxruntime-node binaries for ${target}; one of ${supported.join(', ')}`);
  process.exit(2);
}

function run(cmd, args) {
  console.log(`package: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, ['scripts/build.mjs', '--production']);

// This platform's native binaries (napi-v6/linux/x64/...), whichever napi folder the package uses.
const binRoot = 'node_modules/onnxruntime-node/bin';
const napis = existsSync(binRoot) ? readdirSync(binRoot).filter((d) => d.startsWith('napi-v')) : [];
const binDirs = napis.map((n) => `${binRoot}/${n}/${platform}/${arch}`).filter((d) => existsSync(d));
if (!binDirs.length) {
  console.error(`package: ${binRoot}/napi-v*/${platform}/${arch} is missing; run npm ci on a machine whose onnxruntime-node carries it`);
  process.exit(2);
}
if (!existsSync('models/default/manifest.json')) console.warn('package: warning: models/default has no manifest.json; the VSIX will carry no default model pack');

mkdirSync('.cache', { recursive: true });
const ignoreFile = join('.cache', `vscodeignore.${target}`);
writeFileSync(ignoreFile, readFileSync('.vscodeignore', 'utf8') + binDirs.map((d) => `!${d}/**\n`).join(''));

const out = `${pkg.name}-${target}-${pkg.version}.vsix`;
const vsce = join('node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
run(vsce, [
  'package',
  '--target', target,
  '--ignoreFile', ignoreFile,
  '--out', out,
  '--allow-missing-repository',
  '--skip-license',
  // No public repository URL yet: keep README links relative instead of failing.
  '--no-rewrite-relative-links',
  '--no-update-package-json',
  '--no-git-tag-version',
]);
const mb = (statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`package: ${out} ${mb} MiB (${target})`);
