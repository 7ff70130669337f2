#!/usr/bin/env bash
# Regenerate harness/data/contracts/*.json from contracts/*.sol with the pinned solc-js that scripts/setup.sh
# installs into .tools/. Byte-for-byte reproducible (tests/integration/test_contract_flows.py checks it).
# Usage: bash scripts/compile-contracts.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .tools/node_modules/solc/package.json ]; then
  echo "compile-contracts: solc not installed: run bash scripts/setup.sh (needs npm)" >&2
  exit 2
fi
exec node scripts/compile-contracts.mjs "$@"
