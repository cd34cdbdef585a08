#!/usr/bin/env bash
# Checks of the monitoring mixin under grafana/, no exporter or Prometheus server needed:
# - mixin/build.sh --check: the dashboard and rules files under grafana/ are the render of the
#   jsonnet mixin in mixin/ (generated, never edited by hand), byte for byte;
# - `promtool check rules` on every rules file (grafana/**/*.rules.yml);
# - `promtool test rules` on every unit-test file (grafana/**/*.rules.test.yml);
# - `promtool check config` on the example Prometheus configuration(s) (grafana/**/prometheus*.yml);
# - scripts/rules_lint.py: dashboard structure (uid, datasource and label_values variables,
#   ${datasource} everywhere, known metric names), alert labels/annotations, a runbook section
#   and a runbook_url pointing at it per alert in docs/runbook.md, firing and not-firing tests per alert.
# Installs Debian's `prometheus` package (for promtool) and `jsonnet` when missing, without
# leaving its service running. Ends with `check-rules: N passed, M failed`; exits non-zero on
# any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }

ensure_promtool() {
  "$ROOT/scripts/install-test-deps.sh"
}

if ensure_promtool; then
  pass "promtool available ($(promtool --version 2>&1 | head -n 1))"
else
  fail "promtool available"
  echo "check-rules: $PASSED passed, $FAILED failed"
  exit 1
fi

# The shipped files are the mixin's render.
if out=$(timeout 120 "$ROOT/mixin/build.sh" --check 2>&1); then
  pass "mixin/build.sh --check: $(echo "$out" | grep -c 'is the mixin' || true) shipped files are the mixin's render"
else
  fail "mixin/build.sh --check: the shipped files are not the mixin's render (edit mixin/*.libsonnet, run mixin/build.sh, never edit grafana/ by hand)"
  echo "$out" | sed 's/^/    /'
fi

mapfile -t RULE_FILES < <(find "$ROOT/grafana" -type f \( -name '*.rules.yml' -o -name '*.rules.yaml' \) ! -name '*.test.*' | sort)
mapfile -t TEST_FILES < <(find "$ROOT/grafana" -type f \( -name '*.rules.test.yml' -o -name '*.rules.test.yaml' \) | sort)
[ "${#RULE_FILES[@]}" -gt 0 ] || fail "no rules files under grafana/"
[ "${#TEST_FILES[@]}" -gt 0 ] || fail "no rule test files under grafana/"

for f in "${RULE_FILES[@]}"; do
  rel=${f#"$ROOT"/}
  if out=$(timeout 120 promtool check rules "$f" 2>&1); then
    pass "promtool check rules $rel: $(echo "$out" | grep -o 'SUCCESS.*' | head -n 1)"
  else
    fail "promtool check rules $rel"
    echo "$out" | sed 's/^/    /'
  fi
done

# promtool_in FILE CHECK...: runs `promtool CHECK... FILE` from FILE's directory (tests and
# configurations name their rule files relative to themselves), one pass or fail per file.
promtool_in() {
  local f=$1 out
  shift
  if out=$(cd "$(dirname "$f")" && timeout 300 promtool "$@" "$(basename "$f")" 2>&1); then
    pass "promtool $* ${f#"$ROOT"/}"
  else
    fail "promtool $* ${f#"$ROOT"/}"
    echo "$out" | sed 's/^/    /'
  fi
}

# One promtool per test group, two at a time, one core each (the whole file took 83 s in one
# process): the groups are written to files of their own with the original's settings and its
# rule files by absolute path.
split_tests() { # FILE OUTDIR: writes OUTDIR/NN.yml, one per test group
  python3 - "$1" "$2" <<'PY'
import os, sys, yaml
src, out = sys.argv[1], sys.argv[2]
with open(src) as f:
    doc = yaml.safe_load(f)
here = os.path.dirname(os.path.abspath(src))
doc["rule_files"] = [os.path.join(here, r) for r in doc.get("rule_files", [])]
tests = doc.pop("tests")
for i, test in enumerate(tests, 1):
    with open(os.path.join(out, "%02d.yml" % i), "w") as f:
        yaml.safe_dump(dict(doc, tests=[test]), f, sort_keys=False)
PY
}
for f in "${TEST_FILES[@]}"; do
  rel=${f#"$ROOT"/}
  parts=$(mktemp -d)
  if ! split_tests "$f" "$parts"; then
    fail "promtool test rules $rel: cannot split it into its test groups"
    continue
  fi
  total=$(find "$parts" -name '*.yml' | wc -l)
  find "$parts" -name '*.yml' | sort | xargs -P 2 -I{} sh -c 'timeout 300 promtool test rules "$1" >"$1.out" 2>&1; echo $? >"$1.rc"' _ {}
  for part in "$parts"/*.yml; do
    n=$(basename "$part" .yml)
    if [ "$(cat "$part.rc")" = 0 ]; then
      pass "promtool test rules $rel: test group $((10#$n)) of $total"
    else
      fail "promtool test rules $rel: test group $((10#$n)) of $total"
      sed 's/^/    /' "$part.out"
    fi
  done
  rm -rf "$parts"
done

# Example Prometheus configurations (they load the rules files through rule_files).
mapfile -t CONFIGS < <(find "$ROOT/grafana" -type f -name 'prometheus*.yml' | sort)
for f in "${CONFIGS[@]}"; do
  promtool_in "$f" check config
done

set +e
lint=$(timeout 120 python3 "$ROOT/scripts/rules_lint.py" --root "$ROOT" 2>&1)
lint_rc=$?
set -e
echo "$lint" | grep -E '^(PASS|FAIL) ' || true
PASSED=$((PASSED + $(echo "$lint" | grep -c '^PASS ' || true)))
FAILED=$((FAILED + $(echo "$lint" | grep -c '^FAIL ' || true)))
if [ "$lint_rc" -ne 0 ] && ! echo "$lint" | grep -q '^FAIL '; then
  fail "rules_lint.py crashed (exit $lint_rc)"
  echo "$lint" | tail -n 20 | sed 's/^/    /'
fi

echo "check-rules: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
