#!/usr/bin/env bash
# The project's local Elasticsearch node (a bare server started by es/, see docs/elasticsearch.md).
#
#   scripts/es.sh up     build the launcher if needed, start the node in the background on
#                        127.0.0.1 (security off), wait until it answers, print its URL
#   scripts/es.sh down   stop it (SIGTERM, then SIGKILL after 30 s)
#   scripts/es.sh url    print the URL of the running node (exit 1 if none)
#   scripts/es.sh status one line: running or not
#
# All three are idempotent. State, data and the log live in $YUQING_ES_HOME (default .es/ in the
# repository): url, pid, node.log, home/. Environment: YUQING_ES_PORT (default 0 = a free port),
# YUQING_ES_HEAP (default 512m), JAVA_HOME (else the Temurin 25 JDK under /usr/lib/jvm).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ES_HOME=${YUQING_ES_HOME:-$ROOT/.es}
URL_FILE=$ES_HOME/url
PID_FILE=$ES_HOME/pid
LOG_FILE=$ES_HOME/node.log
PORT=${YUQING_ES_PORT:-0}
HEAP=${YUQING_ES_HEAP:-512m}
START_TIMEOUT=${YUQING_ES_START_TIMEOUT:-110}

say() { echo "es.sh: $*" >&2; }

find_java() {
  # Elasticsearch 9 needs Java 21+; Debian's default here is 17.
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] \
     && "$JAVA_HOME/bin/java" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
    echo "$JAVA_HOME"; return 0
  fi
  for candidate in /usr/lib/jvm/*temurin*25* /usr/lib/jvm/*temurin*2[1-9]* /usr/lib/jvm/java-2[1-9]-*; do
    if [ -x "$candidate/bin/java" ]; then echo "$candidate"; return 0; fi
  done
  say "no Java 21+ found (set JAVA_HOME or install a Temurin 25 JDK under /usr/lib/jvm)"
  return 1
}

running_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be our launcher.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'yuqing.es.Launcher' || return 1
  echo "$pid"
}

answers() {
  # Yellow, not just "listening": after a restart the node must have recovered its indices
  # from disk, or the first search would fail with 503 (all shards failed).
  curl -fsS -m 40 "$1/_cluster/health?wait_for_status=yellow&timeout=30s" >/dev/null 2>&1
}

build() {
  local java_home=$1 jar=$ROOT/es/target/yuqing-es-launcher-1.0.jar stamp=$ROOT/es/target/lib/.complete
  if [ -f "$jar" ] && [ -f "$stamp" ] && [ -z "$(find "$ROOT/es/pom.xml" "$ROOT/es/src" -newer "$stamp" -print -quit)" ]; then
    return 0
  fi
  say "building the launcher (Maven; artifacts are cached in ~/.m2)"
  rm -rf "$ROOT/es/target/lib"
  JAVA_HOME=$java_home mvn -q -B -f "$ROOT/es/pom.xml" package >"$ES_HOME/build.log" 2>&1 || {
    say "Maven build failed, see $ES_HOME/build.log:"; grep -E 'ERROR|BUILD' "$ES_HOME/build.log" | head -20 >&2; return 1; }
  touch "$stamp"
}

cmd_up() {
  mkdir -p "$ES_HOME/home"
  local pid url java_home i
  if pid=$(running_pid) && [ -f "$URL_FILE" ] && answers "$(cat "$URL_FILE")"; then
    cat "$URL_FILE"; return 0
  fi
  if pid=$(running_pid); then
    say "launcher $pid is running but does not answer; restarting it"
    cmd_down
  fi
  java_home=$(find_java)
  build "$java_home"
  rm -f "$URL_FILE"
  # setsid: the node must outlive the shell that started it (make, CI, pytest).
  setsid "$java_home/bin/java" -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseSerialGC \
    --enable-native-access=ALL-UNNAMED -Dfile.encoding=UTF-8 \
    -cp "$ROOT/es/target/classes:$ROOT/es/target/lib/*" yuqing.es.Launcher \
    "$ES_HOME/home" "$URL_FILE" "$PORT" >"$LOG_FILE" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$PID_FILE"
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "the node exited during start-up; last lines of $LOG_FILE:"; tail -20 "$LOG_FILE" >&2
      rm -f "$PID_FILE"; return 1
    fi
    if [ -f "$URL_FILE" ]; then
      url=$(cat "$URL_FILE")
      if answers "$url"; then
        say "node up (pid $pid, log $LOG_FILE)"
        echo "$url"; return 0
      fi
    fi
    sleep 0.5
  done
  say "the node did not answer within ${START_TIMEOUT}s; stopping it; see $LOG_FILE"
  cmd_down; return 1
}

cmd_down() {
  local pid i
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE" "$URL_FILE"; say "not running"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "node $pid did not stop in 30 s; killing it"; kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$URL_FILE"
  say "stopped (pid $pid)"
}

cmd_url() {
  running_pid >/dev/null && [ -f "$URL_FILE" ] || { say "not running"; return 1; }
  cat "$URL_FILE"
}

cmd_status() {
  local pid
  if pid=$(running_pid) && [ -f "$URL_FILE" ]; then echo "running pid=$pid url=$(cat "$URL_FILE")"
  else echo "stopped"; return 1; fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  url) cmd_url ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|url|status" >&2; exit 2 ;;
esac
