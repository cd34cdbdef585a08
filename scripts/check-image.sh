#!/usr/bin/env bash
# Builds the container image from the Dockerfile, unchanged, and checks the result.
#
#   scripts/check-image.sh
#
# No public container registry is reachable from the test machines, so the two base images the
# Dockerfile names are assembled here first, under those same names, from Debian's packages and
# this machine's Rust toolchain (see deploy/README.md for how they differ from the real ones):
#   - rust:1.95-bookworm (ARG RUST_VERSION): a Debian bookworm root made by mmdebstrap with the
#     build tools of buildpack-deps, plus this machine's rustup and Rust toolchain (the profile
#     "minimal": rustc, cargo, rust-std) in /usr/local/rustup and /usr/local/cargo, with the
#     official image's RUSTUP_HOME, CARGO_HOME and PATH;
#   - gcr.io/distroless/cc-debian12:nonroot: from scratch, the files of Debian 12's libc6,
#     libgcc-s1, gcc-12-base, libgomp1, libstdc++6, libssl3, tzdata and netbase, the CA bundle,
#     /etc/passwd and /etc/group with nonroot (65532), /home/nonroot, /tmp (1777); no shell and
#     no package manager.
# Both are cached in the project's own buildah storage and reused while the recipe (this file's
# assembly functions and the toolchain's version) is unchanged. Then, with buildah and chroot
# isolation (docker and podman cannot start containers here), it
#   - builds the image from a clean copy of the tracked files (.dockerignore applies), timed;
#   - builds it again after a change to src/ only, and asserts that the dependency layer of the
#     Dockerfile is reused;
#   - runs the binary in the image as 65532: --version, --config.check on the shipped example
#     config, --demo serving /metrics and /-/ready on loopback; asserts that nothing was written
#     outside /tmp, and runs --demo once more on a read-only bind of the image's root;
#   - asserts that the image has no shell and no package manager, and prints its size.
#
# Environment:
#   BRAZE_IMAGE_CACHE       cache and buildah storage (default /var/cache/braze-exporter-image)
#   BRAZE_IMAGE_KEEP_CACHE  1: keep the build's layer cache from earlier runs (default: the
#                           first build starts from the bases alone, so it is timed in full)
#
# Ends with `check-image: N passed, M failed` and exits non-zero when any check failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CACHE="${BRAZE_IMAGE_CACHE:-/var/cache/braze-exporter-image}"
STORAGE_DRIVER=overlay
export BUILDAH_ISOLATION=chroot
BUILDAH=(buildah --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver "$STORAGE_DRIVER")
SUITE=bookworm
MIRRORS=(
  "deb http://deb.debian.org/debian $SUITE main"
  "deb http://deb.debian.org/debian $SUITE-updates main"
  "deb http://deb.debian.org/debian-security $SUITE-security main"
)
RUST_VERSION="$(sed -n 's/^ARG RUST_VERSION=//p' Dockerfile)"
BUILDER_BASE="rust:$RUST_VERSION-$SUITE"
RUNTIME_BASE="gcr.io/distroless/cc-debian12:nonroot"
IMAGE=localhost/braze-exporter:check
# buildpack-deps:bookworm's tools that a Rust build may use (its curl, scm and compiler layers,
# without the -dev libraries of image formats, databases and so on).
BUILDER_PACKAGES=ca-certificates,curl,wget,gnupg,dirmngr,netbase,tzdata,git,openssh-client,procps,gcc,g++,make,libc6-dev,pkg-config,libssl-dev,file,xz-utils,bzip2,unzip,patch,autoconf,automake,libtool
# distroless cc-debian12's packages (static + base + cc).
RUNTIME_PACKAGES=(libc6 libgcc-s1 gcc-12-base libgomp1 libstdc++6 libssl3 tzdata netbase ca-certificates)

WORK="$(mktemp -d)"
cleanup() {
  local c
  for c in "${containers[@]}"; do "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true; done
  if [ -n "${ro_root:-}" ]; then umount -l "$ro_root" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
containers=()
trap cleanup EXIT

passed=0
failed=0
failures=()
check() {
  local desc="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1))
    echo "ok   $desc"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/     /'
  else
    failed=$((failed + 1))
    failures+=("$desc")
    echo "FAIL $desc"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/     /'
  fi
  return 0
}
now() { date +%s; }

# ---------------------------------------------------------------------------------------------
echo "== tools"
install_tools() {
  command -v buildah >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1 && return 0
  [ "$(id -u)" -eq 0 ] || { echo "root is needed to install buildah and mmdebstrap"; return 1; }
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends buildah mmdebstrap >/dev/null
}
check "buildah and mmdebstrap (Debian's packages)" install_tools
buildah --version
mkdir -p "$CACHE"

# ---------------------------------------------------------------------------------------------
# The base images.

# The toolchain of this machine that matches the Dockerfile's RUST_VERSION.
SYSROOT="$(rustc --print sysroot)"
RUSTC_VERSION="$(rustc --version)"
HOST_TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
RUST_FULL_VERSION="$(rustc --version | awk '{print $2}')"
RUSTUP_BIN="$(command -v rustup || true)"

assemble_builder() {
  local tar="$WORK/builder.tar" ctr mnt tc
  mmdebstrap --quiet --variant=apt --include="$BUILDER_PACKAGES" --format=tar "$SUITE" "$tar" "${MIRRORS[@]}"
  ctr="$("${BUILDAH[@]}" from scratch)"
  containers+=("$ctr")
  mnt="$("${BUILDAH[@]}" mount "$ctr")"
  tar -xf "$tar" -C "$mnt"
  rm -f "$tar"
  # rustup's profile "minimal", as the official image installs it: rustc, cargo, rust-std.
  tc="$mnt/usr/local/rustup/toolchains/$RUST_FULL_VERSION-$HOST_TRIPLE"
  mkdir -p "$tc" "$mnt/usr/local/cargo/bin"
  tar -C "$SYSROOT" -cf - \
    --exclude=./share/doc/rust/html --exclude='./bin/cargo-clippy' --exclude='./bin/clippy-driver' \
    --exclude='./bin/rustfmt' --exclude='./bin/cargo-fmt' --exclude='./lib/rustlib/manifest-clippy-*' \
    --exclude='./lib/rustlib/manifest-rustfmt-*' --exclude='./lib/rustlib/manifest-rust-docs-*' . |
    tar -C "$tc" -xf -
  printf '%s\n' "cargo-$HOST_TRIPLE" "rust-std-$HOST_TRIPLE" "rustc-$HOST_TRIPLE" >"$tc/lib/rustlib/components"
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n\n[overrides]\n' \
    "$RUST_FULL_VERSION-$HOST_TRIPLE" >"$mnt/usr/local/rustup/settings.toml"
  install -m 755 "$RUSTUP_BIN" "$mnt/usr/local/cargo/bin/rustup"
  local proxy
  for proxy in cargo cargo-clippy cargo-fmt cargo-miri clippy-driver rls rust-analyzer rust-gdb \
    rust-gdbgui rust-lldb rustc rustdoc rustfmt; do
    ln "$mnt/usr/local/cargo/bin/rustup" "$mnt/usr/local/cargo/bin/$proxy"
  done
  chmod -R a+w "$mnt/usr/local/rustup" "$mnt/usr/local/cargo"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --os linux --arch amd64 \
    --env RUSTUP_HOME=/usr/local/rustup --env CARGO_HOME=/usr/local/cargo \
    --env PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env RUST_VERSION="$RUST_FULL_VERSION" --cmd bash "$ctr"
  "${BUILDAH[@]}" run "$ctr" -- cargo --version
  "${BUILDAH[@]}" run "$ctr" -- rustc --version
  "${BUILDAH[@]}" commit --quiet --rm "$ctr" "docker.io/library/$BUILDER_BASE" >/dev/null
  containers=("${containers[@]/$ctr/}")
}

assemble_runtime() {
  local debs="$WORK/debs" root="$WORK/runtime" ctr mnt deb pkg bmnt bctr
  mkdir -p "$debs" "$root"
  (cd "$debs" && apt-get download -qq "${RUNTIME_PACKAGES[@]}" 2>/dev/null)
  mkdir -p "$root/var/lib/dpkg/status.d"
  for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$root"
    pkg="$(dpkg-deb -f "$deb" Package)"
    # As distroless does: each package's control data, for image scanners, and no dpkg.
    dpkg-deb -f "$deb" >"$root/var/lib/dpkg/status.d/$pkg"
  done
  # ca-certificates' bundle, as update-ca-certificates made it in the bookworm builder root;
  # the package's scripts and single certificates stay out, as in distroless.
  bctr="$("${BUILDAH[@]}" from --pull=never "docker.io/library/$BUILDER_BASE")"
  containers+=("$bctr")
  bmnt="$("${BUILDAH[@]}" mount "$bctr")"
  rm -rf "$root/usr/share/ca-certificates" "$root/usr/sbin" "$root/etc/ca-certificates.conf"
  mkdir -p "$root/etc/ssl/certs"
  cp "$bmnt/etc/ssl/certs/ca-certificates.crt" "$root/etc/ssl/certs/ca-certificates.crt"
  "${BUILDAH[@]}" rm "$bctr" >/dev/null
  containers=("${containers[@]/$bctr/}")
  # Documentation: only the copyright files, as in distroless.
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  find "$root/usr/share/doc" -type l -delete
  rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" "$root/usr/share/bug"
  # Maintainer-script work that distroless does by hand.
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\nshadow: files\n' >"$root/etc/nsswitch.conf"
  cat >"$root/etc/os-release" <<'EOF'
PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
EOF
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
  ctr="$("${BUILDAH[@]}" from scratch)"
  containers+=("$ctr")
  mnt="$("${BUILDAH[@]}" mount "$ctr")"
  tar -C "$root" -cf - . | tar -C "$mnt" -xpf -
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --os linux --arch amd64 --user 65532 --workingdir /home/nonroot \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$ctr"
  "${BUILDAH[@]}" commit --quiet --rm "$ctr" "$RUNTIME_BASE" >/dev/null
  containers=("${containers[@]/$ctr/}")
}

# A base is reused while its recipe is unchanged: the assembly function, the package lists and
# mirrors, and the toolchain.
recipe_key() { # FUNCTION
  {
    declare -f "$1"
    printf '%s\n' "$BUILDER_PACKAGES" "${RUNTIME_PACKAGES[*]}" "${MIRRORS[@]}" "$RUSTC_VERSION" "$STORAGE_DRIVER"
  } | sha256sum | cut -c1-16
}
ensure_base() { # NAME FUNCTION
  local name="$1" fn="$2" key keyfile t0
  key="$(recipe_key "$fn")"
  keyfile="$CACHE/${fn}.key"
  if [ "$(cat "$keyfile" 2>/dev/null)" = "$key" ] && "${BUILDAH[@]}" inspect -t image "$name" >/dev/null 2>&1; then
    echo "$name: cached (recipe $key)"
    return 0
  fi
  t0=$(now)
  rm -f "$keyfile"
  "${BUILDAH[@]}" rmi -f "$name" >/dev/null 2>&1 || true
  "$fn"
  echo "$key" >"$keyfile"
  echo "$name: assembled in $(($(now) - t0)) s (recipe $key)"
}

echo "== base images"
toolchain_matches() {
  echo "$RUSTC_VERSION, rustup at ${RUSTUP_BIN:-none}"
  [ -n "$RUSTUP_BIN" ] && [[ "$RUST_FULL_VERSION" == "$RUST_VERSION" || "$RUST_FULL_VERSION" == "$RUST_VERSION".* ]]
}
check "this machine's Rust toolchain is $RUST_VERSION.x (the Dockerfile's RUST_VERSION)" toolchain_matches
t_bases=$(now)
check "$BUILDER_BASE assembled or cached" ensure_base "docker.io/library/$BUILDER_BASE" assemble_builder
check "$RUNTIME_BASE assembled or cached" ensure_base "$RUNTIME_BASE" assemble_runtime
t_bases=$(($(now) - t_bases))
echo "bases: $t_bases s"

# ---------------------------------------------------------------------------------------------
# The builds.

echo "== build"
if [ "${BRAZE_IMAGE_KEEP_CACHE:-}" != 1 ]; then
  # The layer cache of earlier runs goes: every image of this storage but the two bases.
  keep=" $("${BUILDAH[@]}" inspect -t image --format '{{.FromImageID}}' "docker.io/library/$BUILDER_BASE") $("${BUILDAH[@]}" inspect -t image --format '{{.FromImageID}}' "$RUNTIME_BASE") "
  drop=()
  for id in $("${BUILDAH[@]}" images -a -q --no-trunc | sed 's/^sha256://'); do
    [[ "$keep" == *" $id "* ]] || drop+=("$id")
  done
  [ "${#drop[@]}" -eq 0 ] || "${BUILDAH[@]}" rmi -f "${drop[@]}" >/dev/null 2>&1 || true
fi
# A clean copy of the tracked files, as a fresh clone has them (edits not yet committed
# included); .dockerignore then decides what of it the build sees.
ctx="$WORK/context"
mkdir -p "$ctx"
git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$ctx" -xf -
REVISION="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
# The crates. This machine reaches crates.io only through a TLS proxy whose certificate the
# builder base (like the real rust image) does not trust, so the crates of Cargo.lock are fetched
# by this machine's cargo into a cache of the script's own, which the build's RUN steps see as
# the builder's registry (/usr/local/cargo/registry), with cargo offline: the Dockerfile's
# `cargo build --locked` then finds every crate there, as if it had downloaded it.
seed_registry() {
  CARGO_HOME="$CACHE/cargo-home" nice -n 10 cargo fetch --locked --quiet --manifest-path "$ctx/Cargo.toml"
  printf '[net]\noffline = true\n' >"$WORK/cargo-offline.toml"
  du -sh "$CACHE/cargo-home/registry" | awk '{print "registry cache: " $1}'
}
check "the crates of Cargo.lock fetched on the host (cargo fetch --locked)" seed_registry
build() { # LOG
  nice -n 10 "${BUILDAH[@]}" bud --layers --pull=never --isolation chroot \
    -v "$CACHE/cargo-home/registry:/usr/local/cargo/registry" \
    -v "$WORK/cargo-offline.toml:/usr/local/cargo/config.toml:ro" \
    --build-arg BRAZE_EXPORTER_REVISION="$REVISION" -t "$IMAGE" -f "$ctx/Dockerfile" "$ctx" >"$1" 2>&1
}
t0=$(now)
check "first build (buildah bud --layers, the Dockerfile unchanged)" build "$WORK/build1.log"
t_build1=$(($(now) - t0))
echo "first build: $t_build1 s"
grep -E '^braze-exporter, version' "$WORK/build1.log" | tail -n 1 | sed 's/^/     /' || true
tail -n 2 "$WORK/build1.log" | sed 's/^/     /'

# The step that builds the dependencies, and whether buildah took it from its cache.
dep_step_cached() { # LOG
  awk '/STEP [0-9]+\/[0-9]+: RUN mkdir src/ { s = 1; next } s && /STEP [0-9]+\/[0-9]+:/ { exit } s && /Using cache/ { c = 1 } END { exit !c }' "$1"
}
first_build_ran_deps() { ! dep_step_cached "$WORK/build1.log"; }
if [ "${BRAZE_IMAGE_KEEP_CACHE:-}" != 1 ]; then
  check "the first build ran the dependency step (no cache from earlier runs)" first_build_ran_deps
fi

# A change of its own in every run, so that no cached layer from an earlier run matches it.
echo "// check-image: a change to src/ only, $(date -u +%Y%m%dT%H%M%S.%N)" >>"$ctx/src/main.rs"
t0=$(now)
check "second build after a change to src/ only" build "$WORK/build2.log"
t_build2=$(($(now) - t0))
echo "second build: $t_build2 s"
second_build_reuses() {
  grep -E 'STEP [0-9]+/[0-9]+: RUN mkdir src' -A2 "$WORK/build2.log" | cut -c1-100
  dep_step_cached "$WORK/build2.log" &&
    # ...and the sources' layer was not: the change reached the build.
    awk '/STEP [0-9]+\/[0-9]+: COPY src/ { s = 1; next } s && /STEP [0-9]+\/[0-9]+:/ { exit } s && /Using cache/ { c = 1 } END { exit c }' "$WORK/build2.log"
}
check "the second build reused the dependency layer (and rebuilt from COPY src on)" second_build_reuses

# ---------------------------------------------------------------------------------------------
# The image.

echo "== image"
# The image's own files, in a container that nothing runs in (buildah run adds its mount
# points, /etc/hosts, /etc/resolv.conf and so on, to a container's layer).
pristine="$("${BUILDAH[@]}" from --pull=never "$IMAGE")"
containers+=("$pristine")
pmnt="$("${BUILDAH[@]}" mount "$pristine")"
ctr="$("${BUILDAH[@]}" from --pull=never "$IMAGE")"
containers+=("$ctr")
mnt="$("${BUILDAH[@]}" mount "$ctr")"
run() { "${BUILDAH[@]}" run --isolation chroot "$@"; }

no_shell() {
  local found="" f
  for f in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash usr/bin/dash bin/busybox usr/bin/busybox \
    usr/bin/dpkg usr/bin/apt usr/bin/apt-get usr/bin/dpkg-deb sbin/apk usr/bin/perl; do
    [ -e "$pmnt/$f" ] || [ -L "$pmnt/$f" ] && found="$found /$f"
  done
  local shells
  shells="$(cd "$pmnt" && ls -d bin/*sh usr/bin/*sh sbin/*sh usr/sbin/*sh 2>/dev/null || true)"
  # Executables other than shared objects: only the exporter.
  local exes
  exes="$(cd "$pmnt" && find . -xdev -type f -perm /111 ! -name '*.so' ! -name '*.so.*' | sort)"
  echo "executables: $exes"
  [ -z "$found" ] && [ -z "$shells" ] && [ "$exes" = "./usr/local/bin/braze-exporter" ] ||
    { echo "found:$found $shells"; return 1; }
}
check "no shell, no package manager: the exporter is the only executable" no_shell

trust_and_zones() {
  local n
  n="$(grep -c 'BEGIN CERTIFICATE' "$pmnt/etc/ssl/certs/ca-certificates.crt")"
  echo "CA bundle: $n certificates; zoneinfo: $(find "$pmnt/usr/share/zoneinfo" -type f | wc -l) files"
  [ "$n" -gt 100 ] && [ -f "$pmnt/usr/share/zoneinfo/Europe/Berlin" ] && [ -f "$pmnt/usr/share/zoneinfo/America/New_York" ]
}
check "CA certificates and the time zone database are in the image" trust_and_zones
builder_is_bookworm() {
  local b bm
  b="$("${BUILDAH[@]}" from --pull=never "docker.io/library/$BUILDER_BASE")"
  containers+=("$b")
  bm="$("${BUILDAH[@]}" mount "$b")"
  grep -E '^(PRETTY_NAME|VERSION_CODENAME)=' "$bm/etc/os-release"
  grep -q '^VERSION_CODENAME=bookworm$' "$bm/etc/os-release"
}
check "the builder base is Debian bookworm" builder_is_bookworm

size() {
  "${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' |
    grep -E "braze-exporter:check|distroless|/rust" || true
  du -sh --apparent-size "$pmnt" | awk '{print "root file system: " $1}'
}
check "size" size


image_config() {
  local cfg
  cfg="$("${BUILDAH[@]}" inspect -t image --format '{{.OCIv1.Config.User}}|{{.OCIv1.Config.Entrypoint}}|{{.OCIv1.Config.Cmd}}|{{.OCIv1.Config.ExposedPorts}}' "$IMAGE")"
  echo "$cfg"
  [ "$cfg" = "65532:65532|[/usr/local/bin/braze-exporter]|[--config.file=/etc/braze-exporter/config.yml]|map[9887/tcp:{}]" ]
}
check "image config: USER 65532:65532, ENTRYPOINT, CMD, EXPOSE 9887" image_config

version() { run --user 65532:65532 "$ctr" -- /usr/local/bin/braze-exporter --version; }
check "braze-exporter --version as 65532:65532" version
libs() { run "$ctr" -- /lib64/ld-linux-x86-64.so.2 --list /usr/local/bin/braze-exporter; }
check "every shared library of the binary resolves inside the image" libs
config_check() { run "$ctr" -- /usr/local/bin/braze-exporter --config.check --config.file=/etc/braze-exporter/config.yml; }
check "--config.check on the shipped example config" config_check

# Before the demo runs, a marker: afterwards no file outside /tmp may be newer.
sleep 1
touch "$WORK/marker"
sleep 1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
descendants() { # PID: the process and all of its descendants
  local p="$1" c
  echo "$p"
  for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do descendants "$c"; done
}
stop_tree() { # PID
  local pids
  pids="$(descendants "$1" | tac)"
  # shellcheck disable=SC2086
  kill $pids 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
# demo LAUNCHER...: starts the exporter's --demo with the launcher, probes it over loopback from
# the host, and checks the uid the exporter process runs as.
demo() {
  local port pid i ok="" exporter uid
  port="$(free_port)"
  "$@" /usr/local/bin/braze-exporter --demo --web.listen-address="127.0.0.1:$port" >"$WORK/demo.log" 2>&1 &
  pid=$!
  for i in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/-/ready" >"$WORK/ready" 2>/dev/null; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if [ -z "$ok" ]; then
    echo "/-/ready never answered"; cat "$WORK/demo.log"; stop_tree "$pid"; return 1
  fi
  echo "/-/ready: $(head -c 200 "$WORK/ready")"
  # The demo's first refresh against its simulator fills braze_up.
  ok=""
  for i in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$port/metrics" >"$WORK/metrics" 2>/dev/null || true
    if grep -Eq '^braze_up(\{.*\})? 1$' "$WORK/metrics"; then ok=1; break; fi
    sleep 0.5
  done
  exporter="$(for p in $(descendants "$pid"); do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" != "" ] && case "$(cat "/proc/$p/comm" 2>/dev/null)" in braze-export*) echo "$p" ;; esac
  done | head -n 1)"
  uid="$(awk '/^Uid:/ {print $2}' "/proc/$exporter/status" 2>/dev/null || true)"
  stop_tree "$pid"
  echo "/metrics: $(wc -l <"$WORK/metrics") lines, $(grep -c '^braze_up' "$WORK/metrics" || true) braze_up series"
  echo "exporter process $exporter runs as uid $uid"
  [ -n "$ok" ] && [ "$uid" = 65532 ]
}
check "--demo serves /-/ready and /metrics on loopback, as uid 65532 (buildah run)" demo run "$ctr" --

# Not the exporter's: the mount points that buildah run itself makes or refreshes in the
# container's layer at every run (the directories themselves, not what is in them), and
# the .containerenv that buildah run leaves in /run when it is stopped by a signal.
BUILDAH_RUN_MOUNTS=(./run ./run/.containerenv ./run/secrets ./dev ./proc ./sys ./etc/hosts ./etc/hostname ./etc/resolv.conf)
nothing_written() {
  local new m args=()
  for m in "${BUILDAH_RUN_MOUNTS[@]}"; do args+=(! -path "$m"); done
  new="$(cd "$mnt" && find . -xdev -newer "$WORK/marker" ! -path './tmp' ! -path './tmp/*' "${args[@]}" | sort)"
  if [ -n "$new" ]; then echo "written outside /tmp:"; echo "$new"; return 1; fi
}
check "nothing written outside /tmp by the runs above" nothing_written
canary_found() {
  touch "$mnt/etc/braze-exporter/canary"
  ! nothing_written >/dev/null
  local rc=$?
  rm -f "$mnt/etc/braze-exporter/canary"
  return $rc
}
check "a file written outside /tmp is found (negative control)" canary_found

# The root file system read-only for real: a read-only bind of the image's root, with /proc
# and /dev bound in, the exporter started in it by chroot as 65532:65532.
ro_root="$WORK/ro"
ro_chroot() {
  unshare --mount --propagation private -- sh -c '
    set -e
    root="$1"; shift
    mkdir -p "$root"
    mount --bind "$MNT" "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mount -o remount,bind,ro "$root"
    exec chroot --userspec=65532:65532 "$root" "$@"
  ' sh "$ro_root" "$@"
}
export MNT="$mnt"
# Mount points, in the container's layer (a container runtime makes them too).
mkdir -p "$mnt/proc" "$mnt/dev"
check "--demo on a read-only root file system (chroot, as 65532:65532)" demo ro_chroot
ro_root=""


# ---------------------------------------------------------------------------------------------
echo "timings: bases $t_bases s (this run), first build $t_build1 s, second build $t_build2 s"
if [ "$failed" -gt 0 ]; then
  echo
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "check-image: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
