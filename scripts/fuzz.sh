#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each, from its committed
# corpus, and ends with `fuzz: N targets, M runs, K crashes`.
#
#   scripts/fuzz.sh SECONDS [TARGET...]   all targets, or the ones named
#   FUZZ_MERGE=1 scripts/fuzz.sh ...      then merge what the runs found into fuzz/corpus/,
#                                         minimised (libFuzzer's -set_cover_merge=1: about
#                                         the fewest inputs that keep the coverage), to commit
#
# Installs cargo-fuzz (pinned) when it is missing: a fresh machine has only the Rust toolchain.
# libFuzzer needs flags of nightly Rust; stable takes them with RUSTC_BOOTSTRAP=1, which is set
# for the fuzz build only, never for the exporter's. A crash, a hang (over 10 s for one input)
# or a memory blow-up (over 2 GiB resident) is a crash: its input is kept in
# fuzz/artifacts/TARGET/ and the script exits 1 after running the other targets. New inputs of
# a run go to fuzz/scratch/ (ignored by git), never into the committed corpus unless merged.
set -uo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
# Inputs longer than this are cut: long enough for every shape (the largest seed is 3.3 kB) and
# for messages that quote a whole input; short enough to keep runs fast.
MAX_LEN=8192

seconds=${1:-}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: scripts/fuzz.sh SECONDS [TARGET...]" >&2
  exit 2
fi
shift

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet || exit 1
fi

cd fuzz
# -s none: the exporter is safe Rust (ASan would find nothing it does not, at half the speed);
# debug assertions and overflow checks on, so an overflow is a crash too.
build=(cargo fuzz build -s none --debug-assertions)
started=$SECONDS
if ! RUSTC_BOOTSTRAP=1 "${build[@]}"; then
  echo "fuzz: the build failed"
  echo "fuzz: 0 passed, 1 failed"
  echo "fuzz: 0 targets, 0 runs, 1 crashes"
  exit 1
fi
echo "fuzz: built in $((SECONDS - started)) s"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
bin=target/x86_64-unknown-linux-gnu/release
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# fuzz_once TARGET SECONDS: one libFuzzer run (it stops at its first crash); adds its runs to
# target_runs and sets rc, coverage and what it printed.
fuzz_once() {
  local target=$1 budget=$2 out last n
  out="$log/$target.$((++attempt))"
  "$bin/$target" "scratch/$target" "corpus/$target" \
    -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 -max_len="$MAX_LEN" \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$out" 2>&1
  rc=$?
  # libFuzzer's status lines: "#RUNS <event> cov: C ft: F corp: N/SIZE ...".
  last=$(grep -E '^#[0-9]+' "$out" | tail -n 1)
  n=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$out" | grep -oE '[0-9]+$')
  [ -n "$n" ] || n=$(grep -oE '^#[0-9]+' <<<"$last" | tr -d '#')
  target_runs=$((target_runs + ${n:-0}))
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' <<<"$last" || true)
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $target: CRASH (exit $rc); input kept in fuzz/$(grep -oE 'artifacts/[^ ]+' "$out" | tail -n 1)"
    grep -E "panicked at|^thread '|ERROR: libFuzzer|SUMMARY" "$out" | head -n 20
  fi
}

runs=0
crashes=0
failed=0
for target in "${targets[@]}"; do
  mkdir -p "scratch/$target" "artifacts/$target" "corpus/$target"
  started=$SECONDS
  target_runs=0
  target_crashes=0
  attempt=0
  # After a crash the run goes on from the corpus until SECONDS are spent (5 crashes at most).
  while left=$((seconds - (SECONDS - started))) && [ "$left" -gt 0 ] && [ "$target_crashes" -lt 5 ]; do
    fuzz_once "$target" "$left"
    [ "$rc" -eq 0 ] || target_crashes=$((target_crashes + 1))
    [ "$rc" -ne 0 ] || break
  done
  runs=$((runs + target_runs))
  crashes=$((crashes + target_crashes))
  [ "$target_crashes" -eq 0 ] || failed=$((failed + 1))
  echo "fuzz: $target: $target_runs runs in $((SECONDS - started)) s, $target_crashes crashes, ${coverage:-no coverage line}"
  if [ "${FUZZ_MERGE:-}" = 1 ]; then
    # The seeds stay; of the rest, only what adds coverage to them.
    merged="$log/merged-$target"
    mkdir -p "$merged"
    cp corpus/"$target"/seed-* "$merged/"
    "$bin/$target" -set_cover_merge=1 -max_len="$MAX_LEN" "$merged" "corpus/$target" "scratch/$target" \
      >"$log/merge-$target" 2>&1
    find "corpus/$target" -type f ! -name 'seed-*' -delete
    cp "$merged"/* "corpus/$target/"
    echo "fuzz: $target: corpus merged: $(find "corpus/$target" -type f | wc -l) inputs, $(du -sh "corpus/$target" | cut -f1)"
  fi
done

echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
echo "fuzz: ${#targets[@]} targets, $runs runs, $crashes crashes"
[ "$crashes" -eq 0 ]
