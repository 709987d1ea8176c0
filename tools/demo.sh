#!/usr/bin/env bash
# `npm run demo`: from a fresh clone, install what is missing, build, bring the local stack up,
# then run the demo (tools/demo.ts): a simulated CloudHSM fleet → the forwarder → OpenSearch and
# Kafka, ending with the three questions SOC teams ask of CloudHSM audit logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The pinned runtime (.nvmrc), fetched once if the node on PATH differs.
# shellcheck source=tools/node-runtime.sh
source tools/node-runtime.sh
use_node_runtime
echo "== runtime: Node $(node --version)"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "== installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --prefer-offline
fi
echo "== building"
npm run --silent build
echo "== starting the local stack (moto, Kafka, OpenSearch) — first run downloads once"
bash test/stack/stack.sh up
eval "$(bash test/stack/stack.sh env)"
exec node --import tsx tools/demo.ts "$@"
