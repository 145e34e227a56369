#!/usr/bin/env bash
# Builds a real VS Code for the end-to-end tests: code-server 4.100.3 with its native modules
# rebuilt for this Node, plus Debian's Chromium for Playwright. The steps are all here, in order.
# Idempotent: skips every step whose result is already there. Output goes to CODE_SERVER_DIR
# (default .cache/code-server, git-ignored). Works from nothing on a clean Debian machine (root).
set -euo pipefail

VERSION=4.100.3
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${CODE_SERVER_DIR:-$ROOT/.cache/code-server}"
STAMP="$DIR/.built-$VERSION"
say() { echo "[e2e-setup $(date -u +%H:%M:%S)] $*"; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
else
  say "apt packages present (chromium, ripgrep, libkrb5-dev, build tools)"
fi

if [ -f "$STAMP" ]; then
  say "code-server $VERSION already built in $DIR (delete $STAMP to rebuild)"
  exit 0
fi

say "building code-server $VERSION in $DIR (about 5-10 minutes on 2 cores)"
mkdir -p "$DIR"
cd "$DIR"
# Its own package.json so that npm never walks up into the project.
[ -f package.json ] || echo '{ "name": "lm-probe-e2e-code-server", "private": true }' > package.json
export ONNXRUNTIME_NODE_INSTALL=skip npm_config_yes=true npm_config_fund=false npm_config_audit=false

if [ ! -d node_modules/code-server/lib/vscode ]; then
  say "npm install --ignore-scripts code-server@$VERSION"
  npm install --ignore-scripts --no-save "code-server@$VERSION"
fi
CS="$DIR/node_modules/code-server"
VS="$CS/lib/vscode"

say "lib/vscode: npm install --omit=dev --ignore-scripts"
(cd "$VS" && npm install --omit=dev --ignore-scripts)
say "lib/vscode: rebuilding native modules"
(cd "$VS" && npm rebuild kerberos node-pty @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog)
# argon2 is hoisted next to code-server (the top level of this folder).
say "top level: npm rebuild argon2"
npm rebuild argon2

say "linking Debian's rg into @vscode/ripgrep"
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
ln -sf "$(command -v rg)" "$VS/node_modules/@vscode/ripgrep/bin/rg"

say "postinstall symlinks"
(cd "$VS" && { [ -e node_modules.asar ] || ln -s node_modules node_modules.asar; })
(cd "$VS/bin/remote-cli" && { [ -e code-server ] || ln -s code-linux.sh code-server; })
(cd "$VS/bin/helpers" && { [ -e browser.sh ] || ln -s browser-linux.sh browser.sh; })

say "lib/vscode/extensions: npm install --omit=dev"
(cd "$VS/extensions" && npm install --omit=dev)

say "smoke test: code-server --version"
node "$CS/out/node/entry.js" --version
touch "$STAMP"
say "done: $CS/out/node/entry.js"
