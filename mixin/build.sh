#!/usr/bin/env bash
# Renders the monitoring mixin (mixin/*.libsonnet, jsonnet) to the files shipped in grafana/:
#   grafana/dashboards/braze-exporter.json   (grafanaDashboards)
#   grafana/rules/braze-exporter.rules.yml   (prometheusRules + prometheusAlerts)
#   grafana/rules/testdata/opt-in.yml (the opt-in alerts opted in, for the unit tests)
# Those files are generated: edit mixin/, then run this script.
#   mixin/build.sh            write them into the repository
#   mixin/build.sh DIR        write them under DIR instead (DIR/grafana/...)
#   mixin/build.sh --check    render to a temporary directory and diff against the shipped
#                             files; exit 1 on any difference (scripts/check-rules.sh runs it)
# Needs Debian's `jsonnet` (scripts/install-test-deps.sh installs it).
set -euo pipefail
MIXIN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$MIXIN/.." && pwd)
command -v jsonnet >/dev/null 2>&1 || { echo "mixin/build.sh: jsonnet is missing (apt-get install jsonnet)" >&2; exit 1; }

render() {
  local out=$1 f
  mkdir -p "$out/grafana/dashboards" "$out/grafana/rules/testdata"
  (cd "$MIXIN" && jsonnet -J "$MIXIN" -S -m "$out" files.jsonnet) >/dev/null
  (cd "$MIXIN" && jsonnet -J "$MIXIN" -m "$out" files-json.jsonnet) >/dev/null
}

case "${1:-}" in
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    render "$tmp"
    rc=0
    while IFS= read -r f; do
      rel=${f#"$tmp"/}
      if ! diff -u "$ROOT/$rel" "$f" >"$tmp/diff" 2>&1; then
        echo "mixin/build.sh --check: $rel differs from the mixin's render (edit mixin/, then run mixin/build.sh; never edit $rel by hand):"
        head -n 40 "$tmp/diff" | sed 's/^/    /'
        rc=1
      else
        echo "mixin/build.sh --check: $rel is the mixin's render"
      fi
    done < <(find "$tmp/grafana" -type f | sort)
    exit $rc
    ;;
  "")
    render "$ROOT"
    ;;
  *)
    render "$1"
    ;;
esac
