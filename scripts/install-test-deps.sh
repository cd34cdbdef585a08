#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, on Debian, as root; skips what is
# already there. promtool and prometheus (Debian's `prometheus`): exposition and rules checks,
# end-to-end scrapes. kubectl: renders the kustomizations. Python packages: offline manifest
# validation.
set -euo pipefail

apt_packages=()
command -v promtool >/dev/null 2>&1 || apt_packages+=(prometheus)
command -v prometheus >/dev/null 2>&1 || apt_packages+=(prometheus)
command -v kubectl >/dev/null 2>&1 || apt_packages+=(kubectl)
command -v curl >/dev/null 2>&1 || apt_packages+=(curl)
python3 -c 'import yaml' 2>/dev/null || apt_packages+=(python3-yaml)

if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to install: ${apt_packages[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: installing ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package from starting a Prometheus service of its own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

pip_packages=()
python3 -c 'import kubernetes_validate' 2>/dev/null || pip_packages+=(kubernetes-validate)
python3 -c 'import jsonschema' 2>/dev/null || pip_packages+=(jsonschema)
if [ ${#pip_packages[@]} -gt 0 ]; then
  echo "install-test-deps: pip installing ${pip_packages[*]}"
  python3 -m pip install --quiet --disable-pip-version-check "${pip_packages[@]}"
fi

for tool in promtool prometheus kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-test-deps: $tool is still missing" >&2; exit 1; }
done
