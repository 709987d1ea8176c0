#!/usr/bin/env bash
# Runs a command on the pinned Node.js runtime (tools/node-runtime.sh):
#   tools/with-node.sh [--line 24] COMMAND [ARG]...
# Default: the exact version in .nvmrc; `--line 24` the pinned oldest supported line.
set -euo pipefail
# shellcheck source=tools/node-runtime.sh
source "$(dirname "${BASH_SOURCE[0]}")/node-runtime.sh"
line=''
if [[ "${1:-}" == --line ]]; then
  line="${2:?--line needs a major version}"
  shift 2
fi
use_node_runtime "$line"
exec "$@"
