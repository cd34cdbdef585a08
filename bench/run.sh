#!/usr/bin/env bash
# braze-exporter benchmark harness: see bench/README.md.
# Installs its Debian packages when missing (as root), then runs bench/bench.py with the
# arguments given here (e.g. --quick, --scaling, --rev HEAD, --json out.json).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v prometheus-pushgateway >/dev/null || need+=(prometheus-pushgateway)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 2
  fi
  echo "bench: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
PATH=$PATH:/usr/sbin exec python3 "$here/bench.py" "$@"
