# vipps-golive as a container: build with the Rust toolchain, run on a small
# Debian image with CA certificates (the client speaks TLS to Vipps through
# rustls and the system roots). No credentials are baked in: pass them as
# environment variables at `docker run` (see docs/ci.md).
#
#   docker build -t vipps-golive .
#   docker run --rm -v "$PWD/reports:/reports" vipps-golive run

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin vipps-golive \
    && rm -rf src
COPY src ./src
COPY features ./features
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin vipps-golive \
    && cp target/release/vipps-golive /vipps-golive

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin golive \
    && mkdir /reports && chown golive /reports
COPY --from=build /vipps-golive /usr/local/bin/vipps-golive
USER 10001
# `--out reports` (the default) is relative: run from / so it is /reports.
WORKDIR /
VOLUME ["/reports"]
# Nobody is at a container's terminal to approve a payment.
ENV CI=true
ENTRYPOINT ["vipps-golive"]
CMD ["--help"]
