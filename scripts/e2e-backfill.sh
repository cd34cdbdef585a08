#!/usr/bin/env bash
# End-to-end test of `braze-exporter backfill` into a real Prometheus.
#
# For UTC and for Asia/Kolkata (hours at :30 UTC):
# 1. starts the Braze simulator (target/debug/braze-simulator) on a free 127.0.0.1 port, with
#    two campaigns (one email, one iOS push, two variations each), a Canvas with two steps,
#    and two API sends of the push campaign: one sent before the window, one 2 days ago;
# 2. `braze-exporter backfill` of the 8 days ending now, a sample every 5 minutes (hourly
#    sessions of every app and segment, daily DAU, refresh.delay 10m; campaigns, the Canvas
#    with steps and the sends, by day, delay 0), with the labels Prometheus adds when scraping;
#    then the live exporter against the same simulator for one refresh, its /metrics kept
#    (the window ends no later than a minute before a local midnight, so both show one day);
# 3. `promtool tsdb create-blocks-from openmetrics`, then moves the blocks into a fresh data
#    directory (Prometheus 2.42, Debian's, needs nothing more: overlapping blocks are allowed
#    from 2.39 on, so --storage.tsdb.allow-overlapping-blocks is only for older versions);
# 4. starts Prometheus on it (lookback 4m, under the 5m between samples, so a missing sample
#    is a missing point) and runs scripts/e2e_backfill_compare.py: range queries over the
#    imported interval equal the simulator's value for every bucket and every messaging
#    channel/variation/variant/step, BrazeSessionsDropped's last-week side has data right
#    after the import, and the live exporter's messaging samples are the backfill's last.
# Ends with `e2e-backfill: N passed, M failed`; exits non-zero on any failure.
# BRAZE_EXPORTER_BIN / BRAZE_SIMULATOR_BIN skip the build. Every wait is bounded; every
# process started here is stopped on exit (by its pid). Traffic: loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
finish() {
  echo "e2e-backfill: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# http_ok URL: succeed when URL answers 2xx.
http_ok() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' "$1" 2>/dev/null
}

# before_midnight ZONE SECONDS: sleeps past the next local midnight of ZONE if it comes within
# SECONDS, so what the backfill shows last and what a live refresh moments later shows are
# the same day.
before_midnight() {
  local clock left
  clock=$(TZ=$1 date +%H:%M:%S)
  left=$((86400 - 10#${clock:0:2} * 3600 - 10#${clock:3:2} * 60 - 10#${clock:6:2}))
  if [ "$left" -le "$2" ]; then
    echo "waiting ${left}s for midnight in $1"
    sleep $((left + 1))
  fi
}

# wait_until SECONDS PID COMMAND...: COMMAND every second until it succeeds, PID dies, or time is up.
wait_until() {
  local end=$((SECONDS + $1)) pid=$2
  shift 2
  while [ "$SECONDS" -lt "$end" ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    "$@" && return 0
    sleep 1
  done
  return 1
}

TMP=""
PIDS=()
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    if [ "$FAILED" -ne 0 ] || [ "$rc" -ne 0 ]; then
      for log in "$TMP"/*/*.log; do
        [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 20 "$log"; }
      done
    fi
    rm -rf "$TMP"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$ROOT/scripts/install-test-deps.sh"; then
  pass "prometheus and promtool available ($(prometheus --version 2>&1 | head -n 1))"
else
  fail "prometheus and promtool available"
  finish
  exit 1
fi

BIN=${BRAZE_EXPORTER_BIN:-}
SIM=${BRAZE_SIMULATOR_BIN:-}
if [ -z "$BIN" ] || [ -z "$SIM" ]; then
  TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
  if (cd "$ROOT" && timeout 1800 cargo build --quiet --bin braze-exporter --bin braze-simulator); then
    pass "cargo build"
  else
    fail "cargo build"
  fi
  BIN=${BIN:-$TARGET/debug/braze-exporter}
  SIM=${SIM:-$TARGET/debug/braze-simulator}
fi
for b in "$BIN" "$SIM"; do
  [ -x "$b" ] || { fail "binary $b exists"; finish; exit 1; }
done

TMP=$(mktemp -d /tmp/braze-e2e-backfill.XXXXXX)
KEY=e2e-backfill-key
DELAY=600
# The time between samples, and between the compare's query instants: 5 minutes keeps the
# messaging families (about 130 series a zone over 8 days) quick for promtool, and every
# bucket change (hours at :10 or :40 UTC, days at local midnight or 10 minutes past) falls
# on a sample.
STEP=300
RULES="$ROOT/grafana/rules/braze-exporter.rules.yml"

# live_refresh DIR: runs the exporter on DIR/config.yml until it serves every messaging series
# of one refresh (braze_up 1 for the 2 campaigns, the Canvas and the 2 sends), keeps that
# /metrics as DIR/live.metrics, and stops it.
live_refresh() {
  local dir=$1 port pid ok=1
  port=$(free_port)
  "$BIN" --config.file "$dir/config.yml" --web.listen-address "127.0.0.1:$port" \
    >"$dir/exporter.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_until 30 "$pid" messaging_up "http://127.0.0.1:$port/metrics" "$dir/live.metrics" && ok=0
  stop_pid "$pid"
  return $ok
}

# messaging_up URL FILE: saves URL to FILE; succeeds once it shows braze_up 1 for 5 messaging series.
messaging_up() {
  python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=3).read())' \
    "$1" "$2" 2>/dev/null || return 1
  [ "$(grep -cE '^braze_up\{kind="(campaign|canvas|send)".* 1$' "$2")" -eq 5 ]
}

run_zone() {
  local zone=$1 dir="$TMP/$2"
  mkdir -p "$dir"
  local sim_port prom_port
  sim_port=$(free_port)
  prom_port=$(free_port)
  while [ "$prom_port" = "$sim_port" ]; do prom_port=$(free_port); done

  "$SIM" --listen "127.0.0.1:$sim_port" --time-zone "$zone" --apps 2 --segments 1 \
    --campaigns 2 --channels 1 --canvases 1 --steps 2 \
    --send campaign-0002/send-old/9d1h --send campaign-0002/send-new/2d \
    --api-key "$KEY" >"$dir/simulator.log" 2>&1 &
  local sim_pid=$!
  PIDS+=("$sim_pid")
  if ! wait_until 30 "$sim_pid" grep -qs '^listening on' "$dir/simulator.log"; then
    fail "$zone: simulator listening on 127.0.0.1:$sim_port"
    return
  fi

  echo "$KEY" >"$dir/api-key"
  cat >"$dir/config.yml" <<EOF
braze:
  url: http://127.0.0.1:$sim_port
  api_key_file: $dir/api-key
  time_zone: $zone
refresh:
  delay: 10m
export:
  sessions: {}
  kpis:
    metrics: [dau]
  campaigns: {}
  canvases: {steps: true}
  sends:
    ids:
      - {campaign: push, send_id: send-old}
      - {campaign: push, send_id: send-new}
campaigns:
  - {name: email, id: campaign-0001}
  - {name: push, id: campaign-0002}
canvases:
  - {name: welcome, id: canvas-0001}
apps:
  - name: app-0001
    id: app-0001
  - name: app-0002
    id: app-0002
segments:
  - name: seg-0001
    id: seg-0001
EOF
  # The 8 days that end now: whatever the clock says, only settled buckets are written.
  before_midnight "$zone" 60
  local end start
  end=$(date -u +%s)
  start=$((end - 8 * 86400))
  local iso_start iso_end
  iso_start=$(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ)
  iso_end=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
  local rc=0
  "$BIN" backfill --config.file "$dir/config.yml" --start "$iso_start" --end "$iso_end" \
    --step "${STEP}s" --output "$dir/history.om" --label job=braze --label instance=braze-exporter:9887 \
    2>"$dir/backfill.log" || rc=$?
  if [ "$rc" -eq 0 ] && grep -q '^# EOF$' "$dir/history.om"; then
    pass "$zone: backfill wrote $(grep -vc '^#' "$dir/history.om") samples ($(tail -n 1 "$dir/backfill.log"))"
  else
    fail "$zone: backfill exited $rc: $(tail -n 3 "$dir/backfill.log")"
    return
  fi
  if live_refresh "$dir"; then
    pass "$zone: the live exporter served every messaging series after one refresh"
  else
    fail "$zone: the live exporter served every messaging series after one refresh"
    return
  fi
  if timeout 600 promtool tsdb create-blocks-from openmetrics --max-block-duration=24h \
    "$dir/history.om" "$dir/blocks" >"$dir/promtool.log" 2>&1; then
    pass "$zone: promtool tsdb create-blocks-from openmetrics ($(find "$dir/blocks" -mindepth 1 -maxdepth 1 -type d | wc -l) blocks)"
  else
    fail "$zone: promtool tsdb create-blocks-from openmetrics: $(tail -n 3 "$dir/promtool.log")"
    return
  fi
  mkdir -p "$dir/data"
  mv "$dir/blocks"/* "$dir/data/"

  printf 'global:\n  evaluation_interval: 1m\nscrape_configs: []\n' >"$dir/prometheus.yml"
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --query.lookback-delta=4m \
    --storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$prom_port" \
    --web.console.templates="$dir" --web.console.libraries="$dir" >"$dir/prometheus.log" 2>&1 &
  local prom_pid=$!
  PIDS+=("$prom_pid")
  if ! wait_until 90 "$prom_pid" http_ok "http://127.0.0.1:$prom_port/-/ready"; then
    fail "$zone: Prometheus ready on 127.0.0.1:$prom_port"
    return
  fi
  pass "$zone: Prometheus ready on the imported blocks"

  set +e
  python3 "$ROOT/scripts/e2e_backfill_compare.py" --prom "http://127.0.0.1:$prom_port" \
    --simulator "http://127.0.0.1:$sim_port" --api-key "$KEY" --zone "$zone" \
    --start "$start" --end "$end" --delay "$DELAY" --rules "$RULES" --job braze \
    --query-step "$STEP" --apps app-0001 app-0002 --segments seg-0001 \
    --campaigns email=campaign-0001 push=campaign-0002 --canvases welcome=canvas-0001 \
    --sends push/send-old push/send-new --messaging-delay 0 --read-at "$end" \
    --live-metrics "$dir/live.metrics" | tee "$dir/compare.out"
  set -e
  PASSED=$((PASSED + $(grep -c '^PASS ' "$dir/compare.out" || true)))
  FAILED=$((FAILED + $(grep -c '^FAIL ' "$dir/compare.out" || true)))
  grep -q '^e2e-backfill-compare ' "$dir/compare.out" || fail "$zone: e2e_backfill_compare.py ran to the end"

  stop_pid "$prom_pid"
  stop_pid "$sim_pid"
}

run_zone UTC utc
run_zone Asia/Kolkata kolkata
finish
