# braze-exporter container image.
#
#   docker build --build-arg BRAZE_EXPORTER_REVISION="$(git rev-parse --short=12 HEAD)" \
#     -t braze-exporter:0.1.0 .
#   docker run --rm -p 9887:9887 \
#     -v "$PWD/braze-api-key.txt:/run/secrets/braze/api-key:ro" braze-exporter:0.1.0
#
# Two stages: a Rust toolchain builds the release binary; the final image is distroless (glibc,
# libgcc, CA certificates and tzdata; no shell, no package manager), runs as the numeric
# non-root user 65532, and writes nothing to disk, so it runs with a read-only root file system.

ARG RUST_VERSION=1.95

# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

# Dependencies first, built against stub sources of both workspace members (the exporter and
# the simulator that `--demo` runs): this layer is reused until a Cargo.toml or Cargo.lock
# changes, so editing src/ does not download or rebuild the dependencies.
COPY Cargo.toml Cargo.lock ./
COPY simulator/Cargo.toml simulator/
RUN mkdir src simulator/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > simulator/src/main.rs \
 && touch simulator/src/lib.rs \
 && cargo build --release --locked -p braze-exporter \
 && rm -rf src simulator/src

# The real sources. The stub's build outputs and fingerprints go, so cargo cannot take them for
# an up-to-date build of these files (COPY keeps the files' own modification times). There is
# no .git in the context: pass the revision for braze_exporter_build_info as a build argument.
ARG BRAZE_EXPORTER_REVISION=unknown
ENV BRAZE_EXPORTER_REVISION=${BRAZE_EXPORTER_REVISION}
COPY build.rs ./
COPY src ./src
COPY simulator/src ./simulator/src
RUN rm -rf target/release/.fingerprint/braze-exporter-* \
           target/release/.fingerprint/braze-simulator-* \
           target/release/deps/braze_exporter-* \
           target/release/deps/libbraze_exporter-* \
           target/release/deps/braze_simulator-* \
           target/release/deps/libbraze_simulator-* \
 && cargo build --release --locked -p braze-exporter \
 && target/release/braze-exporter --version

# ---------------------------------------------------------------------------------------------
# cc, not static: the binary links glibc and libgcc_s dynamically (Debian 12's, as the
# builder's). This image also carries the CA certificates the TLS client trusts and the time
# zone database for braze.time_zone.
FROM gcr.io/distroless/cc-debian12:nonroot

LABEL org.opencontainers.image.title="braze-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Braze analytics and messaging: sessions, KPIs, events, purchases and segment sizes per app, segment, event or product, by hour or day; campaigns, canvases and API sends per channel, variation, variant and step, by day" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /src/target/release/braze-exporter /usr/local/bin/braze-exporter
# An example configuration; mount your own over /etc/braze-exporter (a ConfigMap in Kubernetes).
COPY deploy/braze-exporter.example.yml /etc/braze-exporter/config.yml

# Numeric, so that runAsNonRoot can verify it without looking the name up.
USER 65532:65532
EXPOSE 9887

# Exec form, no shell. Arguments given to `docker run` or a pod's `args` replace CMD, so they
# must repeat --config.file when they set any flag.
ENTRYPOINT ["/usr/local/bin/braze-exporter"]
CMD ["--config.file=/etc/braze-exporter/config.yml"]
# No HEALTHCHECK: the image has no shell or curl to run one. Orchestrators probe /-/healthy
# and /-/ready over HTTP instead.
