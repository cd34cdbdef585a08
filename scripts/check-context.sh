#!/usr/bin/env bash
# The Docker build context, as .dockerignore lets it through, builds: its allow-list is copied
# to a temporary directory and built there with `cargo build --locked --workspace`, in this
# repository's target dir, where a `cargo build` has already compiled every dependency with the
# same features and profile, so only the two workspace crates are compiled again (their copies'
# paths differ, so nothing is clobbered). It relinks target/debug's binaries. Called by
# scripts/check-deploy.sh, or by scripts/test.sh once the integration tests are done with them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
# The allow-list: every "!path" line of .dockerignore (which starts by excluding "*").
for path in $(sed -n 's|^!\(.*[^/]\)/*$|\1|p' .dockerignore); do
  mkdir -p "$ctx/$(dirname "$path")"
  cp -r "$path" "$ctx/$path"
done
(cd "$ctx" && CARGO_TARGET_DIR="$ROOT/target" cargo build --locked --quiet --workspace)
