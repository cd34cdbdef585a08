#!/usr/bin/env bash
# Every test of braze-exporter: installs what the tests need (see install-test-deps.sh), then
# runs formatting and lint checks, the Rust unit and integration tests (real HTTP over loopback
# against the built-in Braze simulator, promtool on the exposition), the rules and dashboard
# checks, the deployment checks, and an end-to-end run with a real Prometheus.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

# Runs one suite, keeping its output; a suite's last "N passed, M failed" adds to the totals.
suite() {
  local name=$1 started=$SECONDS; shift
  echo "== $name"
  if "$@" 2>&1 | tee "$log/$name"; then
    echo "== $name: $((SECONDS - started)) s"
    local line
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -n 1 || true)
    if [ -n "$line" ]; then
      passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')))
    else
      passed=$((passed + 1))
    fi
  else
    echo "== $name FAILED after $((SECONDS - started)) s"
    failed=$((failed + 1))
  fi
}

cargo_tests() {
  cargo test --locked --all-targets 2>&1 | tee "$log/cargo-raw"
  local status=${PIPESTATUS[0]}
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       END { printf "cargo test: %d passed, %d failed\n", p, f }' "$log/cargo-raw"
  return "$status"
}

suite fmt cargo fmt --all -- --check
suite clippy cargo clippy --locked --all-targets -- -D warnings
suite build cargo build --locked
suite cargo-test cargo_tests
for script in scripts/check-rules.sh scripts/check-deploy.sh scripts/e2e-prometheus.sh scripts/e2e-backfill.sh; do
  [ -x "$script" ] && suite "$(basename "$script" .sh)" "$script"
done

# A build without the simulator (`--no-default-features`) builds, and its --demo says plainly
# that the simulator is missing. Last, since it relinks target/debug/braze-exporter; the
# default build is restored after it.
no_demo_build() {
  cargo build --locked --quiet --no-default-features -p braze-exporter
  local out rc=0
  out=$(target/debug/braze-exporter --demo 2>&1) || rc=$?
  cargo build --locked --quiet -p braze-exporter
  echo "$out"
  [ "$rc" -eq 2 ] && grep -q "this build has no Braze simulator" <<<"$out"
}
suite no-demo-build no_demo_build

echo "== all suites: $SECONDS s"
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
