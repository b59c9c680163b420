# One image, three binaries (fake-auth0, upstream-api, mcp-server), picked by the container's
# command. Multi-stage with cargo-chef, so dependency layers stay cached until Cargo.lock moves.
#
#   docker build -t mcp-auth0-demo:0.1.0 .
#   docker run --rm -p 127.0.0.1:4000:4000 -e FAKE_AUTH0_LISTEN=0.0.0.0:4000 mcp-auth0-demo:0.1.0 /usr/local/bin/fake-auth0
#
# The base images are build arguments, defaulting to the real ones. A machine without a registry
# passes stand-ins (`docker compose build --build-arg RUST_IMAGE=… --build-arg RUNTIME_IMAGE=…`);
# .ci/run builds this file that way, on stand-ins made by .ci/images/standins, and runs the
# compose journey on the result. Dockerfile.prebuilt is the other way: host-built binaries.

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
ARG CARGO_CHEF_VERSION=0.1.78

FROM ${RUST_IMAGE} AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# The image needs neither the release profile's line tables (kept for profiling on the host) nor
# symbols. Set before `cook`, so that the dependencies it builds are the ones the build reuses.
ENV CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=symbols
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until the dependency graph changes.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
        -p fake-auth0 -p upstream-api -p mcp-server
COPY . .
RUN cargo build --release --locked --bins -p fake-auth0 -p upstream-api -p mcp-server \
    && mkdir -p /out/bin /out/data \
    && cp target/release/fake-auth0 target/release/upstream-api target/release/mcp-server /out/bin/

FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=builder /out/bin/ /usr/local/bin/
# fake-auth0's data directory (FAKE_AUTH0_DATA_DIR), owned by the runtime user so that a named
# volume mounted there starts writable.
COPY --from=builder --chown=65532:65532 /out/data /data
# distroless's `nonroot` user; numeric so the runtime image needs no /etc/passwd entry.
USER 65532:65532
# In a container each service listens on 0.0.0.0; publish ports on 127.0.0.1 only.
ENV FAKE_AUTH0_LISTEN=0.0.0.0:4000 \
    UPSTREAM_API_LISTEN=0.0.0.0:8787 \
    MCP_BIND_HOST=0.0.0.0
EXPOSE 4000 8787 3001
CMD ["/usr/local/bin/mcp-server"]
