# Everyday commands. `just` is optional: each recipe is one documented cargo or docker command
# that works as well typed by hand. `just --list` shows them.

# The container image built by `images` and used by `up-prebuilt` (never `:latest`).
image := env_var_or_default("STACK_IMAGE", "mcp-auth0-demo:0.1.0")
# `docker compose` (v2) where the plugin exists, else `docker-compose` (v1.29).
compose := `docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose`
static_target := "x86_64-unknown-linux-gnu"

# List the recipes.
default:
    @just --list

# Run the whole demo in one process: fake-auth0 :4000, upstream-api :8787, mcp-server :3001.
demo *ARGS:
    cargo run -- {{ARGS}}

# The README's test command, which needs no `just`: the Python environments (target/python/)
# and the binaries that the journeys run are made on first use.

# Every test of the workspace.
test:
    cargo test --workspace --locked

# The demo driven by the Python MCP SDK, the quickstart's Management API calls, and Auth0's
# Python SDKs over HTTPS, and a real Chromium through the login and consent pages (needs curl,
# jq, and Debian's chromium and chromium-driver); CI runs this recipe.

# The journeys outside `cargo test`, against the built binaries as a user runs them.
e2e:
    bash e2e/stack-journeys.sh

# The Python MCP SDK journey against a stack that is already running (e.g. `just demo`).
journey url="http://localhost:3001/mcp":
    "$(cargo run -q --locked -p e2e --example harness -- python mcp_sdk)" e2e/python/mcp_sdk/journey.py --mcp-url {{url}}

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Benchmarks (issue 7, BENCHMARKS.md): the whole chain over HTTP next to its floor, the IdP's
# token endpoint, each binary's readiness and RSS; writes bench-results/{results.json,results.md,latency.svg}.
# Then the criterion micro-benchmarks (verify, exchange-cache hit, its Redis tier, RS256
# signing), shortened.
# About 6 minutes on 2 cores once built. Options: `cargo run --release -p bench -- --help`.
bench *ARGS:
    cargo build --release -p fake-auth0 -p upstream-api -p mcp-server
    cargo run --release -p bench -- {{ARGS}}
    cargo bench -p bearer-auth --bench verify -- --warm-up-time 1 --measurement-time 2
    cargo bench -p mcp-server --bench exchange_cache -- --warm-up-time 1 --measurement-time 2
    cargo bench -p mcp-server --bench shared_exchange_cache -- --warm-up-time 1 --measurement-time 3
    cargo bench -p fake-auth0 --bench signing --bench token_exchange -- --warm-up-time 1 --measurement-time 2

# Build the static binaries and the FROM-scratch image (no registry needed).
images:
    RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target {{static_target}} -p fake-auth0 -p upstream-api -p mcp-server
    mkdir -p target/docker/data
    cp target/{{static_target}}/release/fake-auth0 target/{{static_target}}/release/upstream-api target/{{static_target}}/release/mcp-server /etc/ssl/certs/ca-certificates.crt target/docker/
    strip target/docker/fake-auth0 target/docker/upstream-api target/docker/mcp-server
    docker build -f Dockerfile.prebuilt -t {{image}} .

# The demo in containers, built from source with the multi-stage Dockerfile (needs a registry).
up:
    {{compose}} up --build

# The demo in containers from the prebuilt image (run `just images` first).
up-prebuilt:
    STACK_IMAGE={{image}} DOCKERFILE=Dockerfile.prebuilt {{compose}} up --no-build

# Stop the containers and remove their volumes.
down:
    {{compose}} down -v

# Every fuzz target for 20 s each (cargo-fuzz, libFuzzer; installed by the script when
# missing), as CI runs it. fuzz/README.md says how it works on a stable toolchain.
fuzz:
    fuzz/run smoke

# Every fuzz target for 10 minutes each (FUZZ_LONG_SECS to change it); prints executions and
# crashes per target into fuzz/target/summary-long.txt.
fuzz-long *TARGETS:
    fuzz/run long {{TARGETS}}

# The soak (not in CI): the release binaries under 256 clients for 10 minutes, with errors,
# RSS, open descriptors and threads of each service over time in bench-results/soak.*.
soak *ARGS:
    cargo build --release -p fake-auth0 -p upstream-api -p mcp-server -p bench
    cargo run --release -p bench -- soak {{ARGS}}
