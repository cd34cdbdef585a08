#!/usr/bin/env bash
# Every test of braze-exporter: installs what the tests need (see install-test-deps.sh), then
# runs formatting and lint checks, the Rust unit and integration tests (real HTTP over loopback
# against the built-in Braze simulator, promtool on the exposition), the rules and dashboard
# checks, the deployment checks, an end-to-end run with a real Prometheus, and the docs check.
#
# On two cores the compiles are most of the time, so each is done once and reused:
#   - `cargo build`: the binaries every later check runs, kept aside;
#   - clippy lints the workspace's crates while `cargo test --no-run` compiles every target
#     (clippy-driver as cargo's RUSTC_WORKSPACE_WRAPPER, as `cargo clippy` itself uses it, with
#     `-D warnings`): the same lints on the same targets as `cargo clippy --all-targets -- -D
#     warnings`, without a second, check-only pass over every dependency;
#   - what needs no compiler (rules, deployment and end-to-end checks, each on its own ports
#     and temporary directory) runs beside the compiles; its output is shown whole when it ends;
#   - the docs check (README.md's commands, run as written) does its release build beside the
#     tests' run, which mostly waits.
# Each suite's duration is printed, and the total.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0
background=()

# Adds a finished suite's outcome: its last "N passed, M failed" line, else one pass.
count() { # NAME STATUS SECONDS
  local name=$1 status=$2 seconds=$3 line
  if [ "$status" -eq 0 ]; then
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -n 1 || true)
    if [ -n "$line" ]; then
      passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')))
    else
      passed=$((passed + 1))
    fi
    echo "== $name: $seconds s"
  else
    echo "== $name FAILED after $seconds s"
    failed=$((failed + 1))
  fi
}

# Runs one suite in the foreground, showing its output as it goes.
suite() {
  local name=$1 started=$SECONDS status=0; shift
  echo "== $name"
  "$@" 2>&1 | tee "$log/$name" || status=$?
  count "$name" "$status" $((SECONDS - started))
}

# Starts one suite in the background; `finish` waits for it and shows its output.
start() {
  local name=$1; shift
  ( started=$SECONDS; status=0; "$@" >"$log/$name" 2>&1 || status=$?
    echo "$status $((SECONDS - started))" >"$log/$name.status" ) &
  background+=("$name")
}
finish() {
  wait
  local name status seconds
  for name in "${background[@]}"; do
    echo "== $name (ran in the background)"
    cat "$log/$name"
    read -r status seconds <"$log/$name.status"
    count "$name" "$status" "$seconds"
  done
  background=()
}

# Clippy as the compiler of the workspace's crates (dependencies are compiled by rustc alone).
clippy_driver() {
  local driver
  driver=$(command -v clippy-driver || echo "$(rustc --print sysroot)/bin/clippy-driver")
  [ -x "$driver" ] || { echo "clippy-driver is missing (rustup component add clippy)" >&2; return 1; }
  export RUSTC_WORKSPACE_WRAPPER=$driver
  # cargo-clippy's way of passing `-- -D warnings` to the driver.
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

cargo_tests() {
  # The integration tests mostly wait on sockets and timers: more threads than cores.
  cargo test --locked --all-targets -- --test-threads 8 2>&1 | tee "$log/cargo-raw"
  local status=${PIPESTATUS[0]}
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       END { printf "cargo test: %d passed, %d failed\n", p, f }' "$log/cargo-raw"
  return "$status"
}

# The binaries of `cargo build`, kept aside: `cargo test` rebuilds target/debug's with the
# test features, and the checks below run what a user builds.
keep_binaries() {
  cargo build --locked
  mkdir -p "$log/bin"
  cp target/debug/braze-exporter target/debug/braze-simulator "$log/bin/"
}

suite fmt cargo fmt --all -- --check
suite build keep_binaries

export BRAZE_EXPORTER_BIN=$log/bin/braze-exporter BRAZE_SIMULATOR_BIN=$log/bin/braze-simulator
start check-rules scripts/check-rules.sh
start check-deploy env BRAZE_CONTEXT_CHECK=later scripts/check-deploy.sh
start e2e-prometheus scripts/e2e-prometheus.sh
start e2e-backfill scripts/e2e-backfill.sh

clippy_driver
suite clippy cargo test --locked --all-targets --no-run
# What the docs tell a reader to run, run as written, and what they show held to the binary.
# Its first command, the README's `cargo run --release --locked -- --demo`, is a release build:
# target/release has a lock of its own, so it compiles while the tests below, which mostly wait
# on sockets and timers, run. Without clippy as the compiler: the command as a reader runs it.
start check-docs env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS scripts/check-docs.sh
suite cargo-test cargo_tests
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS

# After the tests, whose target/debug binaries these relink: check-deploy's check of the Docker
# build context, then a build without the simulator.
suite build-context scripts/check-context.sh

# A build without the simulator (`--no-default-features`) builds, linted as it compiles (clippy
# as the compiler of the exporter's crate, warnings as errors), and its --demo says plainly
# that the simulator is missing. It relinks target/debug/braze-exporter; the default build is
# restored after it.
no_demo_build() {
  ( clippy_driver && cargo build --locked --quiet --no-default-features -p braze-exporter )
  local out rc=0
  out=$(target/debug/braze-exporter --demo 2>&1) || rc=$?
  cargo build --locked --quiet -p braze-exporter
  echo "$out"
  [ "$rc" -eq 2 ] && grep -q "this build has no Braze simulator" <<<"$out"
}
suite no-demo-build no_demo_build
finish

echo "== all suites: $SECONDS s"
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
