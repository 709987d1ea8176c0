# syntax=docker/dockerfile:1
#
# cloudhsm-audit-forwarder container image.
#
#   docker build -t cloudhsm-audit-forwarder:0.1.0 .
#   docker run --read-only --tmpfs /tmp -v cafwd-data:/var/lib/cloudhsm-audit-forwarder \
#     -e AWS_REGION=eu-west-1 -e KAFKA_BROKERS=broker:9092 cloudhsm-audit-forwarder:0.1.0
#
# Stages: `build` (all dependencies, tsc) -> `prod-deps` (production dependencies only, no dev
# tooling) -> `runtime` (distroless Node 26, the .nvmrc line: no shell, no package manager, UID 65532).
#
# Base images are pinned by tag. Pin them by digest as well in the release pipeline
# (`--build-arg NODE_BUILD_IMAGE=node:26.10.0-trixie-slim@sha256:...`, or let Renovate manage the
# ARG lines): the digests could not be resolved from this build environment, and a digest
# copied from elsewhere without checking it against the registry is worse than none.
# The build stages use the exact Node version of .nvmrc (a unit test keeps them equal).
ARG NODE_BUILD_IMAGE=node:26.10.0-trixie-slim
ARG NODE_RUNTIME_IMAGE=gcr.io/distroless/nodejs26-debian13:nonroot

# ---- build: dev dependencies + TypeScript compile ------------------------------------------------
FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY config ./config
# The fleet simulator stays: `simulate` (loopback emulators only) is a command of the CLI.
RUN npm run build \
  && mkdir -p /out/var/lib/cloudhsm-audit-forwarder/checkpoints

# ---- prod-deps: production dependencies only (separate stage, so no dev tooling leaks) ----------
FROM ${NODE_BUILD_IMAGE} AS prod-deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# No dependency needs an install script; --ignore-scripts keeps the install hermetic.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_RUNTIME_IMAGE} AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cloudhsm-audit-forwarder" \
      org.opencontainers.image.description="Forwards AWS CloudHSM audit logs from CloudWatch Logs to Kafka and OpenSearch as OCSF events" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="cloudhsm-audit-forwarder" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs26-debian13:nonroot"

# Everything the process may write lives under the volumes below, so the container runs with a
# read-only root filesystem: the checkpoint store and the dead-letter file on the data volume,
# scratch files in /tmp. `config/default.json` is read relative to the package root (/app), the
# checkpoint paths are absolute so they do not depend on the working directory.
ENV NODE_ENV=production \
    CHECKPOINT_DIR=/var/lib/cloudhsm-audit-forwarder/checkpoints \
    DEAD_LETTER_FILE=/var/lib/cloudhsm-audit-forwarder/dead-letter.ndjson

WORKDIR /app
# Application files stay owned by root (read-only for the runtime user).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/config ./config
# The data directory must exist and belong to the runtime user so that an anonymous or named
# Docker volume starts writable (Kubernetes sets the group with fsGroup instead).
COPY --from=build --chown=65532:65532 /out/var/lib/cloudhsm-audit-forwarder /var/lib/cloudhsm-audit-forwarder

VOLUME ["/var/lib/cloudhsm-audit-forwarder", "/tmp"]

# distroless "nonroot" (numeric so that Kubernetes runAsNonRoot can verify it).
USER 65532:65532

# Metrics and health (GET /metrics, /healthz, /readyz).
EXPOSE 9464

# No HEALTHCHECK: the image is run by Kubernetes, whose startup/liveness/readiness probes call
# /healthz and /readyz (Docker HEALTHCHECK is ignored there), and distroless has no curl or shell
# to run one with.

# node is PID 1, started directly (no npm, no shell): the forwarder handles SIGTERM/SIGINT itself
# (drain in-flight batches, commit checkpoints, exit) and spawns no child processes to reap.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "/app/dist/src/cli.js"]
CMD ["run"]
