# zonectl as a container: a static (musl) binary on an empty base, run as a non-root user.
# By default it serves the external-dns webhook on 127.0.0.1:8888 (the sidecar
# convention; the protocol has no authentication) and /healthz and /metrics on
# 0.0.0.0:8080. Mount the configuration at /etc/zonectl/zonectl.toml and the provider's
# secrets as files named by *_FILE variables (LUADNS_API_TOKEN_FILE=/run/secrets/…).
#
#   docker build -t zonectl .
#   docker run --rm -v $PWD/zonectl.toml:/etc/zonectl/zonectl.toml:ro zonectl zone list
FROM docker.io/library/rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# The server build: every provider, no emulators (`zonectl emulate` and `demo` are for
# trying zonectl out, not for a cluster).
RUN cargo build --release --locked --target x86_64-unknown-linux-musl -p zonectl \
      --no-default-features --features luadns,domeneshop,zoneid,vpsorg,mydomainlu \
 && install -D target/x86_64-unknown-linux-musl/release/zonectl /out/zonectl \
 && install -d -o 65532 -g 65532 /out/state

FROM docker.io/library/debian:bookworm-slim AS certificates
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates

FROM scratch
COPY --from=certificates /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/zonectl /usr/local/bin/zonectl
COPY --from=build --chown=65532:65532 /out/state /var/lib/zonectl
ENV ZONECTL_CONFIG=/etc/zonectl/zonectl.toml \
    ZONECTL_STATE_DIR=/var/lib/zonectl \
    WEBHOOK_HOST=127.0.0.1 \
    WEBHOOK_PORT=8888 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=8080
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/zonectl"]
CMD ["serve", "--log-format", "json"]
