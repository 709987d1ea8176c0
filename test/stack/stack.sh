#!/usr/bin/env bash
# Local stack of REAL services for the integration tests and the demo, without Docker:
#   moto_server (CloudWatch Logs + CloudHSM v2 emulator), Apache Kafka (KRaft, one node),
#   OpenSearch (one node). Everything binds to 127.0.0.1.
#
#   npm run stack -- up [moto|kafka|opensearch]...   start what is not running (idempotent)
#   npm run stack -- down [moto|kafka|opensearch]... stop exactly the processes this script started
#   npm run stack -- status                          what runs where
#   npm run stack -- env                             export lines that point a shell at the stack
#
# Downloads (Maven artifacts, the OpenSearch zip, a moto venv if moto is missing) are cached once
# in $STACK_CACHE_DIR; a warm `up` downloads nothing. Settings, all optional:
#   STACK_CACHE_DIR     download cache            (default ~/.cache/cloudhsm-audit-forwarder)
#   STACK_STATE_DIR     pids, logs, data          (default see below)
#   STACK_MOTO_PORT     moto_server port          (default 4599)
#   STACK_KAFKA_PORT    Kafka client port         (default 9392; controller uses port + 1)
#   STACK_OPENSEARCH_PORT  OpenSearch HTTP port   (default 9250; transport uses port + 100)
#   STACK_KAFKA_VERSION Kafka version             (default 4.3.1; 3.9.2 is the other tested line)
#   STACK_OPENSEARCH_VERSION                      (default 2.19.4, runs on Java 17; see below)
#   STACK_JAVA_HOME     JDK for Kafka and OpenSearch (default: the java on PATH, except below)
#
# OpenSearch 3.x needs Java 21+ (3.5 and later also run on 25; in 2026-11 Maven Central serves
# the 3.x integ-test zip up to 3.8.0, not 3.9.0). When STACK_JAVA_HOME is unset and the java on
# PATH is older than 21, the oldest JDK 21+ under /usr/lib/jvm runs OpenSearch 3.x (Kafka keeps
# the java on PATH). 2.x installs the Java SecurityManager, which Java 24 removed, so it needs a
# JDK 11-23. Each OpenSearch version keeps its own data dir: a newer node upgrades the data in
# place and an older one then refuses to start on it. One-off run of 3.8.0 on Temurin 25 (not CI):
#   export STACK_OPENSEARCH_VERSION=3.8.0; npm run stack -- down opensearch; npm run stack -- up
# then test/integration/stack/opensearch.test.ts, sink/sinks.test.ts, e2e/forwarder.test.ts:
# 14 tests pass (README.md, "Compatibility").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

cache_dir="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudhsm-audit-forwarder}"
# OpenSearch refuses to run as root, so as root it runs as a dedicated user; that user must be
# able to traverse its install and data directories, which root's 0700 home does not allow.
if [[ $(id -u) -eq 0 ]]; then
  default_state=/var/lib/cloudhsm-audit-forwarder-stack
else
  default_state="${XDG_STATE_HOME:-$HOME/.local/state}/cloudhsm-audit-forwarder-stack"
fi
state_dir="${STACK_STATE_DIR:-$default_state}"
moto_port="${STACK_MOTO_PORT:-4599}"
kafka_port="${STACK_KAFKA_PORT:-9392}"
kafka_controller_port="$((kafka_port + 1))"
os_port="${STACK_OPENSEARCH_PORT:-9250}"
os_transport_port="$((os_port + 100))"
kafka_version="${STACK_KAFKA_VERSION:-4.3.1}"
os_version="${STACK_OPENSEARCH_VERSION:-2.19.4}"
os_user="${STACK_OPENSEARCH_USER:-chaf-opensearch}"
dependency_plugin="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
java_bin="${STACK_JAVA_HOME:+$STACK_JAVA_HOME/bin/}java"
region="${AWS_REGION:-us-east-1}"

log() { printf '[stack] %s\n' "$*" >&2; }

fail() {
  local service="$1" message="$2" logfile="${3:-}"
  log "FAILED: $service: $message"
  if [[ -n "$logfile" && -f "$logfile" ]]; then
    log "last lines of $logfile:"
    tail -n 40 "$logfile" | sed 's/^/    /' >&2
  fi
  exit 1
}

pid_file() { echo "$state_dir/$1.pid"; }
log_file() { echo "$state_dir/logs/$1.log"; }

# A pid counts only while the process lives and is still the program we started (pids get reused).
running_pid() {
  local name="$1" file pid
  file="$(pid_file "$name")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  local marker
  case "$name" in
    moto) marker=moto ;;
    kafka) marker=kafka.Kafka ;;
    opensearch) marker=org.opensearch.bootstrap.OpenSearch ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$marker" || return 1
  echo "$pid"
}

# During start-up the recorded pid is a child this script has just forked. Until it has exec'd
# the program its cmdline is still this script's, so the marker check of running_pid would call
# a healthy start dead; here only a vanished or zombie process counts as exited.
started_alive() {
  local pid state
  pid="$(cat "$(pid_file "$1")" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/stat" ]] || return 1
  # Field 3 of /proc/PID/stat, read after the ")" that closes the (possibly spaced) command name.
  state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [[ -n "$state" && "$state" != Z ]]
}

# Waits for a real health probe, not a fixed sleep; gives up early if the process died.
wait_healthy() {
  local name="$1" timeout="$2" probe="$3" deadline
  deadline=$((SECONDS + timeout))
  until "$probe"; do
    if ! started_alive "$name"; then
      fail "$name" "process exited during start-up" "$(log_file "$name")"
    fi
    if ((SECONDS >= deadline)); then
      fail "$name" "not healthy after ${timeout}s" "$(log_file "$name")"
    fi
    sleep 1
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_port_free() {
  local service="$1" port="$2"
  if port_in_use "$port"; then
    fail "$service" "port $port on 127.0.0.1 is taken by another process (set the STACK_*_PORT variables to move the stack)"
  fi
}

# ---------------------------------------------------------------- moto (AWS emulator)
moto_cmd() {
  if command -v moto_server >/dev/null 2>&1 && python3 -c 'import flask, moto' >/dev/null 2>&1; then
    command -v moto_server
    return
  fi
  local venv="$cache_dir/moto-venv"
  if [[ ! -x "$venv/bin/moto_server" ]]; then
    log "moto_server not found: installing moto[server] into $venv"
    python3 -m venv "$venv" || fail moto "python3 -m venv failed"
    "$venv/bin/pip" install --quiet 'moto[server]>=5.1,<6' || fail moto "pip install moto[server] failed"
  fi
  echo "$venv/bin/moto_server"
}

moto_healthy() { curl -fs -o /dev/null "http://127.0.0.1:$moto_port/moto-api/data.json"; }

up_moto() {
  if running_pid moto >/dev/null && moto_healthy; then
    log "moto already running (pid $(running_pid moto), port $moto_port)"
    return
  fi
  check_port_free moto "$moto_port"
  local cmd
  cmd="$(moto_cmd)"
  log "starting moto_server on 127.0.0.1:$moto_port"
  setsid "$cmd" -H 127.0.0.1 -p "$moto_port" >"$(log_file moto)" 2>&1 </dev/null &
  echo $! >"$(pid_file moto)"
  wait_healthy moto 60 moto_healthy
  log "moto healthy"
}

# ---------------------------------------------------------------- Kafka (KRaft, one node)
kafka_lib() { echo "$cache_dir/kafka-$kafka_version/lib"; }

fetch_kafka() {
  local lib
  lib="$(kafka_lib)"
  [[ -f "$lib/.complete" ]] && return
  log "resolving Kafka $kafka_version jars from Maven Central into $lib (once)"
  rm -rf "$lib"
  mkdir -p "$lib"
  mvn -B -q -Dmaven.repo.local="$cache_dir/m2" -f "$here/kafka/pom.xml" -Dkafka.version="$kafka_version" \
    "$dependency_plugin:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$lib" \
    >"$state_dir/logs/kafka-fetch.log" 2>&1 ||
    fail kafka "Maven could not resolve org.apache.kafka:kafka_2.13:$kafka_version" "$state_dir/logs/kafka-fetch.log"
  touch "$lib/.complete"
}

kafka_healthy() {
  node "$here/probe-kafka.mjs" "127.0.0.1:$kafka_port" >>"$state_dir/logs/kafka-probe.log" 2>&1
}

up_kafka() {
  if running_pid kafka >/dev/null; then
    local running_version
    running_version="$(cat "$state_dir/kafka.version" 2>/dev/null || echo unknown)"
    if [[ "$running_version" != "$kafka_version" ]]; then
      fail kafka "Kafka $running_version is running but $kafka_version was asked for: run 'npm run stack -- down' first"
    fi
    if kafka_healthy; then
      log "kafka $kafka_version already running (pid $(running_pid kafka), port $kafka_port)"
      return
    fi
  fi
  check_port_free kafka "$kafka_port"
  check_port_free kafka "$kafka_controller_port"
  fetch_kafka
  local dir="$state_dir/kafka-$kafka_version" lib
  lib="$(kafka_lib)"
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
EOF
  # log4j2 (4.x) and log4j 1 (3.9.x) configs: properties files need no extra jars.
  cat >"$dir/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=WARN
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
EOF
  cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    log "formatting Kafka storage in $dir/data (once)"
    local cluster_id
    cluster_id="$("$java_bin" -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    "$java_bin" -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dlog4j.configuration="file:$dir/log4j.properties" \
      -cp "$lib/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" --ignore-formatted \
      >"$state_dir/logs/kafka-format.log" 2>&1 || fail kafka "storage format failed" "$state_dir/logs/kafka-format.log"
  fi
  log "starting Kafka $kafka_version on 127.0.0.1:$kafka_port"
  setsid "$java_bin" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dlog4j.configuration="file:$dir/log4j.properties" \
    -Dkafka.logs.dir="$state_dir/logs" -cp "$lib/*" kafka.Kafka "$dir/server.properties" \
    >"$(log_file kafka)" 2>&1 </dev/null &
  echo $! >"$(pid_file kafka)"
  echo "$kafka_version" >"$state_dir/kafka.version"
  wait_healthy kafka 120 kafka_healthy
  log "kafka healthy"
}

# ---------------------------------------------------------------- OpenSearch (one node)
os_home() { echo "$state_dir/opensearch-$os_version"; }
os_data() { echo "$state_dir/opensearch-$os_version-data"; }
os_major="${os_version%%.*}"

# Feature release of the JDK at $1 ("17", "25"; "1.8" counts as 8), from the JVM itself.
java_major() {
  local spec
  spec="$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  spec="${spec#1.}"
  echo "${spec:-0}"
}

# The JDK OpenSearch runs on: STACK_JAVA_HOME, else the java on PATH, else (3.x on a PATH java
# older than 21) the oldest JDK 21+ under /usr/lib/jvm, because every 3.x release supports 21
# while the newest JDKs are only supported by the newest releases.
os_java_home() {
  local home major
  if [[ -n "${STACK_JAVA_HOME:-}" ]]; then
    home="$STACK_JAVA_HOME"
  else
    home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    if ((os_major >= 3)) && (($(java_major "$home") < 21)); then
      local candidate best="" best_major=0
      for candidate in /usr/lib/jvm/*; do
        [[ -x "$candidate/bin/java" && ! -L "$candidate" ]] || continue
        major="$(java_major "$candidate")"
        if ((major >= 21 && (best_major == 0 || major < best_major))); then
          best="$candidate"
          best_major="$major"
        fi
      done
      [[ -n "$best" ]] && home="$best"
    fi
  fi
  major="$(java_major "$home")"
  if ((os_major >= 3 && major < 21)); then
    fail opensearch "OpenSearch $os_version needs Java 21 or newer, $home is Java $major: set STACK_JAVA_HOME to a JDK 21+"
  fi
  if ((os_major < 3 && major >= 24)); then
    fail opensearch "OpenSearch $os_version installs the Java SecurityManager, which Java $major removed: set STACK_JAVA_HOME to a JDK 11-23 (17 is tested)"
  fi
  echo "$home"
}

fetch_opensearch() {
  local zip="$cache_dir/downloads/opensearch-$os_version.zip"
  if [[ ! -f "$zip" ]]; then
    log "downloading OpenSearch $os_version (integ-test-zip) from Maven Central (once)"
    mkdir -p "$cache_dir/downloads"
    mvn -B -q -Dmaven.repo.local="$cache_dir/m2" "$dependency_plugin:copy" \
      -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$os_version:zip" \
      -DoutputDirectory="$cache_dir/downloads" >"$state_dir/logs/opensearch-fetch.log" 2>&1 ||
      fail opensearch "Maven could not fetch OpenSearch $os_version" "$state_dir/logs/opensearch-fetch.log"
  fi
  local home
  home="$(os_home)"
  if [[ ! -f "$home/.complete" ]]; then
    rm -rf "$home"
    (cd "$state_dir" && unzip -q "$zip") || fail opensearch "could not unpack $zip"
    touch "$home/.complete"
  fi
}

os_run_as() {
  if [[ $(id -u) -eq 0 ]]; then
    if ! id "$os_user" >/dev/null 2>&1; then
      log "creating system user $os_user (OpenSearch refuses to run as root)"
      useradd --system --no-create-home --shell /usr/sbin/nologin "$os_user" ||
        fail opensearch "could not create user $os_user"
    fi
    chown -R "$os_user:" "$(os_home)" "$(os_data)"
    runuser -u "$os_user" -- "$@"
  else
    "$@"
  fi
}

os_healthy() {
  curl -fs -o /dev/null "http://127.0.0.1:$os_port/_cluster/health?wait_for_status=yellow&timeout=1s"
}

up_opensearch() {
  if running_pid opensearch >/dev/null; then
    local running_version
    # No version file: started by an older copy of this script, which only ran the default.
    running_version="$(cat "$state_dir/opensearch.version" 2>/dev/null || true)"
    if [[ -n "$running_version" && "$running_version" != "$os_version" ]]; then
      fail opensearch "OpenSearch $running_version is running but $os_version was asked for: run 'npm run stack -- down opensearch' first"
    fi
    if os_healthy; then
      log "opensearch $os_version already running (pid $(running_pid opensearch), port $os_port)"
      return
    fi
  fi
  check_port_free opensearch "$os_port"
  check_port_free opensearch "$os_transport_port"
  local java_home
  java_home="$(os_java_home)"
  fetch_opensearch
  local home data
  home="$(os_home)"
  data="$(os_data)"
  mkdir -p "$data/data" "$data/logs"
  cat >"$home/config/opensearch.yml" <<EOF
cluster.name: cloudhsm-audit-forwarder-test
node.name: node-1
network.host: 127.0.0.1
http.port: $os_port
transport.port: $os_transport_port
discovery.type: single-node
path.data: $data/data
path.logs: $data/logs
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: true
EOF
  rm -f "$(pid_file opensearch)" "$data/opensearch.pid"
  touch "$(log_file opensearch)"
  log "starting OpenSearch $os_version on 127.0.0.1:$os_port (Java $(java_major "$java_home"), $java_home)"
  # The pid file lives in the data dir (writable by the OpenSearch user) and is copied to ours.
  os_run_as env OPENSEARCH_JAVA_HOME="$java_home" OPENSEARCH_JAVA_OPTS="-Xms512m -Xmx512m" \
    "$home/bin/opensearch" -d -p "$data/opensearch.pid" >>"$(log_file opensearch)" 2>&1 ||
    fail opensearch "bin/opensearch failed to start" "$(log_file opensearch)"
  local deadline=$((SECONDS + 30))
  until [[ -s "$data/opensearch.pid" ]]; do
    ((SECONDS < deadline)) || fail opensearch "no pid file after 30s" "$(log_file opensearch)"
    sleep 0.5
  done
  cp "$data/opensearch.pid" "$(pid_file opensearch)"
  echo "$os_version" >"$state_dir/opensearch.version"
  ln -sf "$data/logs/cloudhsm-audit-forwarder-test.log" "$state_dir/logs/opensearch-server.log"
  wait_healthy opensearch 180 os_healthy
  log "opensearch healthy"
}

# ---------------------------------------------------------------- commands
stop_service() {
  local name="$1" pid
  if ! pid="$(running_pid "$name")"; then
    rm -f "$(pid_file "$name")"
    return
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while [[ -d "/proc/$pid" ]] && ((SECONDS < deadline)); do sleep 0.5; done
  if [[ -d "/proc/$pid" ]]; then
    log "$name did not stop within 30s: sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$name")"
}

status() {
  local name pid healthy
  for name in moto kafka opensearch; do
    healthy=no
    case "$name" in
      moto) moto_healthy 2>/dev/null && healthy=yes ;;
      kafka) kafka_healthy 2>/dev/null && healthy=yes ;;
      opensearch) os_healthy 2>/dev/null && healthy=yes ;;
    esac
    if pid="$(running_pid "$name")"; then
      case "$name" in
        moto) printf '%-11s running  pid %-8s healthy=%-3s http://127.0.0.1:%s\n' "$name" "$pid" "$healthy" "$moto_port" ;;
        kafka) printf '%-11s running  pid %-8s healthy=%-3s 127.0.0.1:%s (Kafka %s, KRaft)\n' "$name" "$pid" "$healthy" "$kafka_port" "$(cat "$state_dir/kafka.version" 2>/dev/null)" ;;
        opensearch) printf '%-11s running  pid %-8s healthy=%-3s http://127.0.0.1:%s (OpenSearch %s)\n' "$name" "$pid" "$healthy" "$os_port" "$(cat "$state_dir/opensearch.version" 2>/dev/null || echo unknown)" ;;
      esac
    else
      printf '%-11s stopped\n' "$name"
    fi
  done
}

print_env() {
  cat <<EOF
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
export AWS_REGION=$region
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true
export KAFKA_BROKERS=127.0.0.1:$kafka_port
export OPENSEARCH_URL=http://127.0.0.1:$os_port
export KAFKAJS_NO_PARTITIONER_WARNING=1
EOF
}

main() {
  local command="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$command" in
    up)
      mkdir -p "$state_dir/logs" "$cache_dir"
      [[ -d "$repo/node_modules/kafkajs" ]] || fail stack "node_modules missing: run 'npm ci' first (the Kafka probe uses kafkajs)"
      local services=("$@")
      [[ ${#services[@]} -gt 0 ]] || services=(moto kafka opensearch)
      local s
      for s in "${services[@]}"; do
        case "$s" in
          moto) up_moto ;;
          kafka) up_kafka ;;
          opensearch) up_opensearch ;;
          *) fail stack "unknown service '$s' (expected moto, kafka or opensearch)" ;;
        esac
      done
      status
      ;;
    down)
      local services=("$@") s
      [[ ${#services[@]} -gt 0 ]] || services=(opensearch kafka moto)
      for s in "${services[@]}"; do
        case "$s" in
          moto | kafka | opensearch) stop_service "$s" ;;
          *) fail stack "unknown service '$s' (expected moto, kafka or opensearch)" ;;
        esac
      done
      ;;
    status) status ;;
    env) print_env ;;
    *)
      echo "usage: npm run stack -- up|down [moto|kafka|opensearch]... | status | env" >&2
      exit 2
      ;;
  esac
}

main "$@"
