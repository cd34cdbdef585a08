#!/usr/bin/env bash
# End-to-end test of the monitoring mixin (grafana/) against a real Prometheus.
#
# 1. Installs Debian's `prometheus` package when prometheus/promtool are missing (root; the
#    package's own service is kept from starting, and stopped/disabled if it started anyway).
# 2. Builds the exporter (`cargo build`; BRAZE_EXPORTER_BIN=path skips the build) and runs it
#    with --demo (in-process Braze simulator) on a free 127.0.0.1 port.
# 3. Backfills a week of synthetic history for the session, DAU, revenue and Canvas entry gauges into a fresh TSDB
#    (promtool tsdb create-blocks-from openmetrics), so `offset 1w` queries have data.
# 4. Starts Prometheus on another free 127.0.0.1 port with that TSDB, every rules file under
#    grafana/, and a `braze` job scraping the exporter every 2 s.
# 5. scripts/e2e_queries.py asserts, through the HTTP API, that every rule and every dashboard
#    query (variables substituted) parses and returns data, that alerts stay quiet; then the
#    exporter is stopped and BrazeExporterDown must go pending.
# Ends with `e2e-prometheus: N passed, M failed`; exits non-zero on any failure.
# Every wait is bounded; every process started here is stopped on exit. Traffic: loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPTS="$ROOT/scripts"
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
finish() {
  echo "e2e-prometheus: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

ensure_prometheus() {
  "$ROOT/scripts/install-test-deps.sh"
}

# http_has URL [REGEX]: succeed when URL answers 2xx (and its body matches REGEX, multi-line).
# python3, as curl may not be installed.
http_has() {
  python3 - "$@" <<'PY'
import re, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    body = r.read().decode()
sys.exit(0 if len(sys.argv) < 3 or re.search(sys.argv[2], body, re.M) else 1)
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every second until it succeeds;
# COMMAND exiting with 2 means it never will (a process died): stop waiting.
wait_for() {
  local secs=$1 what=$2 rc
  shift 2
  local end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    rc=0
    "$@" >/dev/null 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      pass "$what"
      return 0
    fi
    if [ "$rc" -eq 2 ]; then
      fail "$what (the process exited)"
      return 1
    fi
    sleep 1
  done
  fail "$what (not within ${secs}s)"
  return 1
}

# alive PID COMMAND...: exit 2 when PID is gone, else COMMAND's success (0) or failure (1).
alive() {
  local pid=$1
  shift
  kill -0 "$pid" 2>/dev/null || return 2
  "$@" || return 1
}

TMP=""
EXPORTER_PID=""
PROM_PID=""
cleanup() {
  local rc=$?
  for pid in $EXPORTER_PID $PROM_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $EXPORTER_PID $PROM_PID; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    if [ "$FAILED" -ne 0 ] || [ "$rc" -ne 0 ]; then
      for log in exporter.log prometheus.log; do
        [ -f "$TMP/$log" ] && { echo "--- last lines of $log"; tail -n 30 "$TMP/$log"; }
      done
    fi
    rm -rf "$TMP"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ensure_prometheus; then
  pass "prometheus and promtool available ($(prometheus --version 2>&1 | head -n 1))"
else
  fail "prometheus and promtool available"
  finish
  exit 1
fi

# The exporter.
if [ -n "${BRAZE_EXPORTER_BIN:-}" ]; then
  BIN=$BRAZE_EXPORTER_BIN
else
  BIN="$ROOT/target/debug/braze-exporter"
  if (cd "$ROOT" && timeout 1800 cargo build --quiet --bin braze-exporter); then
    pass "cargo build"
  else
    fail "cargo build"
  fi
fi
if [ ! -x "$BIN" ]; then
  fail "exporter binary $BIN exists"
  finish
  exit 1
fi

TMP=$(mktemp -d /tmp/braze-e2e.XXXXXX)
EXPORTER_PORT=$(free_port)
PROM_PORT=$(free_port)
while [ "$PROM_PORT" = "$EXPORTER_PORT" ]; do PROM_PORT=$(free_port); done
EXPORTER="127.0.0.1:$EXPORTER_PORT"
PROM="http://127.0.0.1:$PROM_PORT"

"$BIN" --demo --web.listen-address "$EXPORTER" >"$TMP/exporter.log" 2>&1 &
EXPORTER_PID=$!
# Sessions, and the DAU, revenue and Canvas entries the backfill writes a week of history for.
exporter_has_sessions() {
  http_has "http://$EXPORTER/metrics" '^braze_sessions\{' &&
    http_has "http://$EXPORTER/metrics" '^braze_dau\{' &&
    http_has "http://$EXPORTER/metrics" '^braze_purchase_revenue\{' &&
    http_has "http://$EXPORTER/metrics" '^braze_canvas_entries\{'
}
if ! wait_for 60 "exporter --demo serves braze_sessions, braze_dau, braze_purchase_revenue and braze_canvas_entries on $EXPORTER" alive "$EXPORTER_PID" exporter_has_sessions; then
  finish
  exit 1
fi

# A week of history, ending an hour before now so that nothing read "now" comes from it.
# E2E_BACKFILL=0 skips it (to see which queries only have data thanks to it).
NOW=$(date +%s)
if [ "${E2E_BACKFILL:-1}" = 0 ]; then
  echo "NOTE E2E_BACKFILL=0: no synthetic history, offset 1w queries will have no data"
elif python3 "$SCRIPTS/e2e_backfill.py" --metrics-url "http://$EXPORTER/metrics" --job braze \
  --instance "$EXPORTER" --now "$NOW" --end $((NOW - 3600)) --days 8 --out "$TMP/backfill.om" &&
  timeout 300 promtool tsdb create-blocks-from openmetrics --max-block-duration=24h \
    "$TMP/backfill.om" "$TMP/data" >"$TMP/backfill.log" 2>&1; then
  pass "backfilled a week of synthetic session, DAU, revenue and Canvas entry history ($(find "$TMP/data" -maxdepth 1 -mindepth 1 -type d | wc -l) blocks)"
else
  fail "backfill: $(tail -n 5 "$TMP/backfill.log" 2>/dev/null)"
fi
rm -f "$TMP/backfill.om"

# Prometheus, with every rules file of the mixin.
mapfile -t RULE_FILES < <(find "$ROOT/grafana" -type f \( -name '*.rules.yml' -o -name '*.rules.yaml' \) ! -name '*.test.*' | sort)
mapfile -t DASHBOARDS < <(find "$ROOT/grafana/dashboards" -type f -name '*.json' | sort)
RULE_COUNT=0
for f in "${RULE_FILES[@]}"; do
  n=$(promtool check rules "$f" 2>&1 | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p' || true)
  RULE_COUNT=$((RULE_COUNT + ${n:-0}))
done
{
  echo "global:"
  echo "  scrape_interval: 2s"
  echo "  scrape_timeout: 2s"
  echo "  evaluation_interval: 2s"
  echo "rule_files:"
  for f in "${RULE_FILES[@]}"; do echo "  - '$f'"; done
  echo "scrape_configs:"
  echo "  - job_name: braze"
  echo "    static_configs:"
  echo "      - targets: ['$EXPORTER']"
} >"$TMP/prometheus.yml"
if promtool check config "$TMP/prometheus.yml" >"$TMP/check-config.log" 2>&1; then
  pass "promtool check config of the test prometheus.yml (${#RULE_FILES[@]} rules files, $RULE_COUNT rules)"
else
  fail "promtool check config: $(cat "$TMP/check-config.log")"
fi

prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
  --storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$PROM_PORT" \
  --web.console.templates="$TMP" --web.console.libraries="$TMP" >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
if ! wait_for 90 "Prometheus ready on 127.0.0.1:$PROM_PORT" alive "$PROM_PID" http_has "$PROM/-/ready"; then
  finish
  exit 1
fi
target_up() {
  http_has "$PROM/api/v1/query?query=up%7Bjob%3D%22braze%22%7D%3D%3D1" '"value"'
}
wait_for 60 "Prometheus scrapes the exporter (up{job=\"braze\"} == 1)" target_up || true

DASH_ARGS=()
for d in "${DASHBOARDS[@]}"; do DASH_ARGS+=(--dashboard "$d"); done
set +e
python3 "$SCRIPTS/e2e_queries.py" healthy --prom "$PROM" --rule-count "$RULE_COUNT" --job braze \
  --deadline 150 "${DASH_ARGS[@]}" | tee "$TMP/healthy.log"
set -e
PASSED=$((PASSED + $(grep -c '^PASS ' "$TMP/healthy.log" || true)))
FAILED=$((FAILED + $(grep -c '^FAIL ' "$TMP/healthy.log" || true)))
grep -q '^e2e-queries-healthy: ' "$TMP/healthy.log" || fail "e2e_queries.py healthy ran to the end"

# Stop the exporter: Prometheus must notice, and BrazeExporterDown must go pending.
kill "$EXPORTER_PID" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$EXPORTER_PID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$EXPORTER_PID" 2>/dev/null || true
EXPORTER_PID=""
set +e
python3 "$SCRIPTS/e2e_queries.py" down --prom "$PROM" --job braze --deadline 60 | tee "$TMP/down.log"
set -e
PASSED=$((PASSED + $(grep -c '^PASS ' "$TMP/down.log" || true)))
FAILED=$((FAILED + $(grep -c '^FAIL ' "$TMP/down.log" || true)))
grep -q '^e2e-queries-down: ' "$TMP/down.log" || fail "e2e_queries.py down ran to the end"

finish
