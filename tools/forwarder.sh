#!/usr/bin/env bash
# `npm run forwarder -- <command> [options]`: the forwarder's CLI from a clone, on the pinned
# runtime (.nvmrc, fetched once if the node on PATH differs), installing and building first when
# needed, so that the README's quick start works as pasted on a machine whose node is older.
# The last step execs node: a signal sent to this script's pid reaches the forwarder itself.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools/node-runtime.sh
source "$repo/tools/node-runtime.sh"
use_node_runtime
cd "$repo"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[forwarder] installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --prefer-offline >&2
fi
if [[ ! -f dist/src/cli.js || -n "$(find src tsconfig.json -newer dist/src/cli.js -print -quit)" ]]; then
  echo "[forwarder] building (tsc)" >&2
  npm run --silent build >&2
fi
cd - >/dev/null
exec node "$repo/dist/src/cli.js" "$@"
