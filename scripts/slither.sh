#!/usr/bin/env bash
# Static analysis gate: compile with the pinned solc-js (writes the hardhat-format build-info
# Slither reads), run Slither 0.11.6 on it, and fail on any finding not listed in
# slither-triage.json (see scripts/slither_gate.py). Usage: bash scripts/slither.sh [gate args]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
SLITHER="${SLITHER:-.venv/bin/slither}"

# Deterministic: rewrites ledger/artifacts byte-for-byte identical unless contracts changed.
node scripts/compile.js

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Slither exits non-zero whenever it reports findings; the gate decides, so keep going and let the
# gate reject a missing or unsuccessful JSON report (compilation or analysis failure).
set +e
"$SLITHER" . \
  --compile-force-framework hardhat \
  --hardhat-ignore-compile \
  --npx-disable \
  --filter-paths node_modules \
  --json "$out/slither.json" \
  >"$out/slither.log" 2>&1
status=$?
set -e

if [ ! -s "$out/slither.json" ]; then
  cat "$out/slither.log" >&2
  echo "slither failed (exit $status) without a JSON report" >&2
  exit 2
fi
"$PYTHON" scripts/slither_gate.py "$out/slither.json" --triage slither-triage.json "$@"
