#!/usr/bin/env bash
# Memory soak: the exporter (release build) refreshing 66 series every 2 s against the
# simulator and reloading its configuration every 2.5 s, for SECONDS (default 300); prints the
# resident memory after warm-up, its peak and its last value. The test suite runs the same
# test for 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."
BRAZE_SOAK_SECONDS=${1:-300} cargo test --release --locked --test exporter \
  memory_stays_flat_over_many_refreshes_and_reloads -- --nocapture 2>&1 | grep -E '^soak:|test result'
