#!/usr/bin/env bash
# What the documentation tells a reader to run and shows, held to what the code does: see
# scripts/check_docs.py. Runs README.md's first command as written (a release build, reused by
# the docs' later `target/release/...` commands). Installs what it lacks through
# scripts/install-test-deps.sh (openssl, PyYAML). Ends with `check-docs: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh >/dev/null
exec python3 scripts/check_docs.py
