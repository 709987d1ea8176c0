#!/usr/bin/env bash
# `npm test`: the whole job from a fresh clone — install if needed, build, lint, unit tests,
# bring the local stack up, integration tests (the README quick start among them), the demo, then a
# summary. Stops a stack it started itself
# (set STACK_KEEP=1 to leave it running); leaves alone a stack that was already up.
# Everything runs on the pinned Node.js runtime (.nvmrc, fetched if the node on PATH differs: see
# tools/node-runtime.sh). UNIT_TESTS_ALSO_ON_NODE=24 also runs the unit tests on the pinned
# oldest supported line (.ci/run sets it).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=tools/node-runtime.sh
source tools/node-runtime.sh
use_node_runtime || exit 2
runtime="$(node --version)"

results=()
passed_total=0
failed_total=0
overall=0
logs="$(mktemp -d)"

step() {
  local name="$1"
  shift
  printf '\n=== %s\n' "$name"
  local start=$SECONDS
  if "$@"; then
    results+=("ok    $name ($((SECONDS - start))s)")
  else
    results+=("FAIL  $name ($((SECONDS - start))s)")
    overall=1
  fi
}

# Runs a node:test suite and adds its pass/fail counts to the totals.
run_tests() {
  local name="$1" log="$logs/$1.log"
  shift
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local pass fail
  pass="$(grep -E '^(ℹ|#) pass [0-9]+' "$log" | tail -n 1 | awk '{print $3}')"
  fail="$(grep -E '^(ℹ|#) fail [0-9]+' "$log" | tail -n 1 | awk '{print $3}')"
  passed_total=$((passed_total + ${pass:-0}))
  failed_total=$((failed_total + ${fail:-0}))
  if [[ -z "$pass" ]]; then
    echo "no test summary found for $name" >&2
    return 1
  fi
  if [[ "${pass:-0}" -eq 0 ]]; then
    echo "$name ran no test" >&2
    return 1
  fi
  return "$status"
}

install_if_needed() {
  if [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]]; then
    echo "dependencies up to date"
    return 0
  fi
  npm ci --no-audit --no-fund --prefer-offline
}

started_stack=0
stack_up() {
  local before
  before="$(bash test/stack/stack.sh status)"
  if [[ "$before" == *stopped* ]]; then
    started_stack=1
  else
    echo "stack already running: using it"
  fi
  bash test/stack/stack.sh up || return 1
  eval "$(bash test/stack/stack.sh env)"
}

cleanup() {
  if [[ $started_stack -eq 1 && "${STACK_KEEP:-0}" != "1" ]]; then
    bash test/stack/stack.sh down
  fi
  rm -rf "$logs"
}
trap cleanup EXIT

step "install dependencies" install_if_needed
step "build (tsc)" npm run --silent build
step "lint (eslint + prettier)" npm run --silent lint
step "unit tests (Node $runtime)" run_tests unit npm run --silent test:unit
if [[ -n "${UNIT_TESTS_ALSO_ON_NODE:-}" ]]; then
  step "unit tests (Node $UNIT_TESTS_ALSO_ON_NODE line)" run_tests "unit-node$UNIT_TESTS_ALSO_ON_NODE" \
    bash tools/with-node.sh --line "$UNIT_TESTS_ALSO_ON_NODE" npm run --silent test:unit
fi
step "local stack up" stack_up
if [[ $overall -eq 0 || -n "${AWS_ENDPOINT_URL:-}" ]]; then
  step "integration tests (Node $runtime)" run_tests integration npm run --silent test:integration
  # The README's main command, end to end, exactly as a user runs it.
  step "demo (npm run demo)" npm run --silent demo
fi

printf '\n=== summary (runtime: Node %s)\n' "$runtime"
printf '%s\n' "${results[@]}"
printf 'tests: %d passed, %d failed\n' "$passed_total" "$failed_total"
if [[ $overall -ne 0 ]]; then
  echo "npm test: FAILED"
else
  echo "npm test: all steps passed"
fi
exit "$overall"
