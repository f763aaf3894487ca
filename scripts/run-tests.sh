#!/usr/bin/env bash
# Runs the whole test suite against real parts: the local Elasticsearch node is started first (and
# stopped afterwards if this script started it); Chromium, SMTP and the demo sites are started by the tests.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
started_es=0
if [ -z "${YUQING_TEST_ES_URL:-}" ] && [ -f scripts/es.sh ]; then
  url=$(bash scripts/es.sh url 2>/dev/null || true)
  if [ -z "$url" ] || ! curl -fsS -m 5 "$url/_cluster/health" >/dev/null 2>&1; then
    bash scripts/es.sh up || { echo "无法启动本地 Elasticsearch 节点(见上方错误)"; exit 1; }
    started_es=1
  fi
  YUQING_TEST_ES_URL=$(bash scripts/es.sh url)
  export YUQING_TEST_ES_URL
fi
"$VENV/bin/lint-imports" || exit 1
"$VENV/bin/python" -m pytest -p no:cacheprovider -q "$@"
rc=$?
if [ "$started_es" = 1 ]; then bash scripts/es.sh down || true; fi
exit $rc
