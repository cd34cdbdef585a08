#!/usr/bin/env bash
# Tests of the deployment files: Dockerfile, .dockerignore and deploy/.
#
#   scripts/check-deploy.sh
#
# Installs what it lacks through scripts/install-test-deps.sh (kubectl; kubernetes-validate and
# prometheus-operator's CRD models from PyPI), then:
#   - renders every kustomization under deploy/kubernetes with `kubectl kustomize`, plus one
#     build per opt-in component that no overlay includes; a part of an overlay (a kustomization
#     in a subdirectory that the overlay lists as a resource, like overlays/sharded/shard-eu) must
#     render, and is checked through the overlay;
#   - validates every rendered object, and the Secret example, against Kubernetes' schemas in
#     strict mode, for the oldest and the newest Kubernetes version named below;
#   - validates every ServiceMonitor and PodMonitor against prometheus-operator's CRD schemas;
#   - asserts restricted Pod Security and the exporter's hardening, probes, resources, config and
#     key wiring, scrape objects and network policies on every rendered workload;
#   - runs `braze-exporter --config.check` on every config shipped in a ConfigMap and on
#     deploy/braze-exporter.example.yml, and on every shard's config with its --workspace flags;
#   - starts every exporter container of every render with exactly the files its volumes mount
#     (its Secrets from their examples), and the image's own config with the key file
#     deploy/README.md's `docker run` mounts: each must serve its workspaces and stop on
#     SIGTERM, and refuse to start without its Secrets;
#   - builds the Docker build context as .dockerignore admits it (scripts/check-context.sh);
#   - reads the Dockerfile and .dockerignore, and checks the binary's shared libraries against
#     the distroless image;
#   - runs negative controls: known-bad variants must fail the checks above.
#
# Environment:
#   BRAZE_EXPORTER_BIN  the binary to run (default target/debug/braze-exporter, built with
#                       `cargo build --locked` when missing)
#   BRAZE_CONTEXT_CHECK later: leave scripts/check-context.sh to the caller
#   KUBE_VERSIONS       Kubernetes versions to validate against (default "1.30.0 1.37.0"; the
#                       native sidecar needs >= 1.29)
#
# Ends with `check-deploy: N passed, M failed` and exits non-zero when any check failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

KUBE_VERSIONS="${KUBE_VERSIONS:-1.30.0 1.37.0}"
# The versions scripts/install-test-deps.sh installs.
KUBERNETES_VALIDATE_VERSION=$(sed -n 's/^KUBERNETES_VALIDATE=//p' scripts/install-test-deps.sh)
PROMETHEUS_OPERATOR_MODELS_VERSION=$(sed -n 's/^PROMETHEUS_OPERATOR_MODELS=//p' scripts/install-test-deps.sh)
BIN="${BRAZE_EXPORTER_BIN:-target/debug/braze-exporter}"
PY="$(command -v python3)"
KUSTOMIZE_DIR=deploy/kubernetes
SECRET_EXAMPLE="$KUSTOMIZE_DIR/base/secret.example.yaml"
# An overlay whose keys come from other Secrets ships its own secret.example.yaml beside it.
secret_example_of() { # DIR
  if [ -f "$1/secret.example.yaml" ]; then echo "$1/secret.example.yaml"; else echo "$SECRET_EXAMPLE"; fi
}
EXAMPLE_CONFIG=deploy/braze-exporter.example.yml
# Opt-in components that no overlay includes, and the overlay each is rendered on top of.
declare -A OPT_IN=([components/sidecar-networkpolicy]=overlays/sidecar-native)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Schemas derived once, read by the later checks (scripts/check_deploy.py crd_schema).
export CHECK_DEPLOY_CACHE="$WORK/cache"

passed=0
failed=0
failures=()

# check DESCRIPTION COMMAND...: one check; its output is shown when it fails.
check() {
  local desc="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1))
    echo "ok   $desc"
  else
    failed=$((failed + 1))
    failures+=("$desc")
    echo "FAIL $desc"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/     /'
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------
# Tools

echo "== tools"
# kubectl with a built-in kustomize of v4 or later (components, patches with targets).
ensure_kubectl() {
  scripts/install-test-deps.sh >/dev/null
  local v
  v="$(kubectl version --client 2>/dev/null)"
  printf '%s\n' "$v"
  local major
  major="$(printf '%s\n' "$v" | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')"
  if [ -z "$major" ] || [ "$major" -lt 4 ]; then
    echo "kubectl's kustomize is older than v4"
    return 1
  fi
}
check "kubectl with kustomize >= v4" ensure_kubectl
kubectl version --client 2>/dev/null | sed 's/^/     /' || true

pip_version() {
  "$PY" -c 'import importlib.metadata,sys; print(importlib.metadata.version(sys.argv[1]))' "$1" 2>/dev/null || true
}
ensure_python_packages() {
  scripts/install-test-deps.sh >/dev/null
  [ "$(pip_version kubernetes-validate)" = "$KUBERNETES_VALIDATE_VERSION" ] &&
    [ "$(pip_version cloudcoil-models-prometheus-operator)" = "$PROMETHEUS_OPERATOR_MODELS_VERSION" ] &&
    "$PY" -c 'import kubernetes_validate, jsonschema, yaml, cloudcoil.models.prometheus_operator.v1'
}
check "Python packages: kubernetes-validate $KUBERNETES_VALIDATE_VERSION, cloudcoil-models-prometheus-operator $PROMETHEUS_OPERATOR_MODELS_VERSION (CRDs of prometheus-operator v${PROMETHEUS_OPERATOR_MODELS_VERSION%.*})" ensure_python_packages

CHECK=("$PY" scripts/check_deploy.py)

# ---------------------------------------------------------------------------------------------
# Render

echo "== render"
renders=()
declare -A SECRETS_OF=()
render() { # NAME DIR
  kubectl kustomize "$2" >"$WORK/render-$1.yaml"
}
"${CHECK[@]}" includes "$KUSTOMIZE_DIR" >"$WORK/includes.tsv"
# The kustomization in an ancestor directory that lists DIR as a resource, if any.
part_of() { # DIR
  awk -F'\t' -v d="$1" '$3 == "resources" && $4 == d && index(d, $2 "/") == 1 { print $2; exit }' "$WORK/includes.tsv"
}
while IFS= read -r k; do
  dir="$(dirname "$k")"
  rel="${dir#"$KUSTOMIZE_DIR"/}"
  if grep -q '^kind: Component' "$k"; then
    continue # rendered through the kustomizations that include it
  fi
  name="${rel//\//-}"
  parent="$(part_of "$dir")"
  if [ -n "$parent" ]; then
    # Not applicable alone (a shard without the shared ConfigMap, say): checked through it.
    check "kubectl kustomize $dir (a part of $parent)" render "part-$name" "$dir"
    continue
  fi
  check "kubectl kustomize $dir" render "$name" "$dir"
  [ -s "$WORK/render-$name.yaml" ] && renders+=("$name")
  SECRETS_OF[$name]="$(secret_example_of "$dir")"
done < <(find "$KUSTOMIZE_DIR" -name kustomization.yaml | sort)

for component in "${!OPT_IN[@]}"; do
  overlay="${OPT_IN[$component]}"
  tmp="$WORK/with-${component//\//-}"
  mkdir -p "$tmp"
  up="$(realpath --relative-to="$tmp" "$KUSTOMIZE_DIR")"
  cat >"$tmp/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $up/$overlay
components:
  - $up/$component
EOF
  name="${overlay//\//-}+${component##*/}"
  check "kubectl kustomize $overlay + $component" render "$name" "$tmp"
  [ -s "$WORK/render-$name.yaml" ] && renders+=("$name")
  SECRETS_OF[$name]="$(secret_example_of "$KUSTOMIZE_DIR/$overlay")"
done

# Every component is used by some render (its path resolved from each kustomization that lists it).
components_used() {
  local missing=0 c
  for c in $(grep -l '^kind: Component' -r "$KUSTOMIZE_DIR" --include=kustomization.yaml | xargs -n1 dirname); do
    local rel="${c#"$KUSTOMIZE_DIR"/}"
    if [ -z "${OPT_IN[$rel]:-}" ] &&
      ! awk -F'\t' -v d="$c" '$3 == "components" && $4 == d { found = 1 } END { exit !found }' "$WORK/includes.tsv"; then
      echo "$rel is included by no kustomization and is not listed as opt-in"
      missing=1
    fi
  done
  return $missing
}
check "every component is rendered by some kustomization" components_used

# ---------------------------------------------------------------------------------------------
# Schemas

echo "== Kubernetes schemas (strict): $KUBE_VERSIONS"
for v in $KUBE_VERSIONS; do
  for r in "${renders[@]}"; do
    check "$r: strict schemas of Kubernetes $v" "${CHECK[@]}" k8s-schema "$WORK/render-$r.yaml" "$v"
  done
  while IFS= read -r example; do
    check "$example: strict schemas of Kubernetes $v" "${CHECK[@]}" k8s-schema "$example" "$v"
  done < <(find "$KUSTOMIZE_DIR" -name secret.example.yaml | sort)
done

# The backfill Job example: a plain manifest (no kustomization), applied with kubectl -f.
BACKFILL_JOB="$KUSTOMIZE_DIR/examples/backfill-job.yaml"
for v in $KUBE_VERSIONS; do
  check "$BACKFILL_JOB: strict schemas of Kubernetes $v" "${CHECK[@]}" k8s-schema "$BACKFILL_JOB" "$v"
done
check "$BACKFILL_JOB: restricted Pod Security" "${CHECK[@]}" restricted "$BACKFILL_JOB"

echo "== prometheus-operator CRD schemas"
for r in "${renders[@]}"; do
  grep -Eq '^kind: (ServiceMonitor|PodMonitor)$' "$WORK/render-$r.yaml" || continue
  check "$r: ServiceMonitor/PodMonitor against the CRD schemas" "${CHECK[@]}" crd-schema "$WORK/render-$r.yaml"
done

# ---------------------------------------------------------------------------------------------
# Hardening and wiring

echo "== hardening"
for r in "${renders[@]}"; do
  case "$r" in
  examples-*) # a stand-in host workload: restricted Pod Security, no exporter in it
    check "$r: restricted Pod Security" \
      "${CHECK[@]}" hardening "$WORK/render-$r.yaml" "${SECRETS_OF[$r]}" --host-only ;;
  *)
    check "$r: restricted Pod Security, exporter hardening and wiring" \
      "${CHECK[@]}" hardening "$WORK/render-$r.yaml" "${SECRETS_OF[$r]}" ;;
  esac
done

# ---------------------------------------------------------------------------------------------
# Configurations

echo "== configurations ($BIN --config.check)"
if [ ! -x "$BIN" ] && [ -z "${BRAZE_EXPORTER_BIN:-}" ]; then
  check "cargo build --locked" cargo build --locked --quiet --bin braze-exporter
fi
# The shipped configs read the key from /run/secrets/braze/api-key, which exists only in the
# pod: --config.check reports an unreadable key as a warning and checks everything else.
config_check() { # FILE
  "$BIN" --config.check --config.file "$1"
}
mkdir -p "$WORK/configs"
for r in "${renders[@]}"; do
  "${CHECK[@]}" configs "$WORK/render-$r.yaml" "$WORK/configs" >/dev/null
done
configs=("$EXAMPLE_CONFIG")
while IFS= read -r f; do configs+=("$f"); done < <(find "$WORK/configs" -type f | sort)
for f in "${configs[@]}"; do
  check "--config.check ${f#"$WORK"/configs/}" config_check "$f"
done
has_configmap_config() { [ "${#configs[@]}" -gt 1 ]; }
check "the renders ship at least one exporter config in a ConfigMap" has_configmap_config
rejects_bad_config() {
  printf 'braze:\n  url: https://rest.iad-01.braze.com\n  unknown_field: 1\n' >"$WORK/bad.yml"
  ! "$BIN" --config.check --config.file "$WORK/bad.yml" >/dev/null 2>&1
}
check "--config.check rejects a config with an unknown field (negative control)" rejects_bad_config
# The Job's backfill arguments are ones the binary takes: with a config file that does not
# exist, it must get as far as reading it (a flag error would be refused before).
backfill_job_args_parse() {
  local args out
  mapfile -t args < <("$PY" -c 'import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
for a in job["spec"]["template"]["spec"]["initContainers"][0]["args"]:
    print(a)' "$BACKFILL_JOB")
  args=("${args[@]/#--config.file=*/--config.file=$WORK/missing.yml}")
  args=("${args[@]/#--output=*/--output=$WORK/history.om}")
  out="$("$BIN" "${args[@]}" 2>&1)" && return 1
  printf '%s\n' "$out"
  grep -q "cannot read the file" <<<"$out"
}
check "$BACKFILL_JOB: the backfill arguments are accepted by $BIN" backfill_job_args_parse

# Shards: exporters of one render that run --workspace NAME of a shared workspaces: config.
echo "== shards ($BIN --config.check --workspace)"
shard_check() { # CONFIG NAMES(comma-separated)
  local flags=() n
  IFS=, read -ra names <<<"$2"
  for n in "${names[@]}"; do flags+=("--workspace=$n"); done
  "$BIN" --config.check --config.file "$1" "${flags[@]}"
}
rejects_unknown_workspace() { # CONFIG
  ! "$BIN" --config.check --config.file "$1" --workspace=not-a-workspace-of-it >/dev/null 2>&1
}
shard_renders=0
for r in "${renders[@]}"; do
  mkdir -p "$WORK/shards/$r"
  "${CHECK[@]}" shards "$WORK/render-$r.yaml" "$WORK/shards/$r" >"$WORK/shards-$r.tsv" 2>/dev/null || true
  [ -s "$WORK/shards-$r.tsv" ] || continue
  shard_renders=$((shard_renders + 1))
  check "$r: the shards' --workspace values are distinct and each names a workspace of the config" \
    "${CHECK[@]}" shards "$WORK/render-$r.yaml" "$WORK/shards/$r"
  while IFS=$'\t' read -r where config names; do
    check "$r: --config.check --workspace=${names//,/ --workspace=} ($where)" shard_check "$config" "$names"
  done <"$WORK/shards-$r.tsv"
  check "$r: --config.check rejects a --workspace the config lacks (negative control)" \
    rejects_unknown_workspace "$(cut -f2 "$WORK/shards-$r.tsv" | head -n1)"
done
has_shards() { [ "$shard_renders" -gt 0 ]; }
check "some render runs shards of one config" has_shards

# Each exporter as its manifest runs it: the files its volumes mount and nothing else.
echo "== starts ($BIN with the files each manifest mounts)"
for r in "${renders[@]}"; do
  case "$r" in examples-*) continue ;; esac # a stand-in host workload, no exporter
  check "$r: every exporter starts with only the files its manifest mounts, and serves its workspaces" \
    "${CHECK[@]}" start "$WORK/render-$r.yaml" "${SECRETS_OF[$r]}" "$BIN"
done
check "the image's config starts with the key file of deploy/README.md's docker run" \
  "${CHECK[@]}" start-image "$ROOT" "$BIN"

# ---------------------------------------------------------------------------------------------
# Container file

echo "== container file"
check "Dockerfile and .dockerignore" "${CHECK[@]}" dockerfile "$ROOT"
check "$BIN links only libraries of gcr.io/distroless/cc-debian12" "${CHECK[@]}" libs "$BIN"

# BRAZE_CONTEXT_CHECK=later: the caller runs scripts/check-context.sh itself (scripts/test.sh,
# after the integration tests, whose binaries it relinks).
if [ "${BRAZE_CONTEXT_CHECK:-now}" != later ]; then
  check "the Docker build context builds (scripts/check-context.sh)" scripts/check-context.sh
fi

# ---------------------------------------------------------------------------------------------
# Negative controls

echo "== negative controls"
selftest_inputs=()
for r in base overlays-sidecar-native overlays-sidecar-classic overlays-standalone-podmonitor overlays-sharded; do
  [ -s "$WORK/render-$r.yaml" ] && selftest_inputs+=("$WORK/render-$r.yaml=${SECRETS_OF[$r]}")
done
first_version="${KUBE_VERSIONS%% *}"
check "known-bad variants of ${#selftest_inputs[@]} renders fail the checks" \
  "${CHECK[@]}" selftest "$SECRET_EXAMPLE" "$first_version" "${selftest_inputs[@]}"

# ---------------------------------------------------------------------------------------------

if [ "$failed" -gt 0 ]; then
  echo
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "check-deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
