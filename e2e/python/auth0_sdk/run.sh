#!/usr/bin/env bash
# Auth0's own Python SDKs (auth0-python, auth0-api-python) against fake-auth0 over HTTPS.
#
# Starts `fake-auth0 --tls` on a free loopback port with its CA in a fresh directory, trusts
# that CA through SSL_CERT_FILE / REQUESTS_CA_BUNDLE, runs check.py, and stops the server.
# The pinned SDKs (requirements.txt) and fake-auth0 come from the test harness, as in
# `cargo test`: the environment is made under target/python/auth0_sdk/ on first use, and
# target/debug/fake-auth0 is built when missing or stale.
#
#   bash e2e/python/auth0_sdk/run.sh            # from anywhere in the workspace
#   FAKE_AUTH0_BIN=target/release/fake-auth0 bash e2e/python/auth0_sdk/run.sh
#   E2E_PYTHON_AUTH0_SDK=/path/to/python bash e2e/python/auth0_sdk/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
harness() { (cd "$root" && cargo run --quiet --locked -p e2e --example harness -- "$@"); }

python="$(harness python auth0_sdk)"
bin="${FAKE_AUTH0_BIN:-$(harness bin fake-auth0)}"
work="$(mktemp -d)"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Without --data-dir the CA lives in $XDG_CACHE_HOME/fake-auth0/: a fresh one per run here.
# The control surface mints tokens in the dialects no demo API uses; its token is ours.
control_token="$("$python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
export FAKE_AUTH0_CONTROL_TOKEN="$control_token"
XDG_CACHE_HOME="$work" "$bin" --tls --control --listen "127.0.0.1:$port" \
    --issuer "https://localhost:$port/" --log-format json >"$work/fake-auth0.log" 2>&1 &
server_pid=$!

ca="$work/fake-auth0/ca.pem"
for _ in $(seq 1 300); do
    [[ -s "$ca" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/fake-auth0.log" >&2
        echo "fake-auth0 exited before serving" >&2
        exit 1
    fi
    sleep 0.1
done

if ! SSL_CERT_FILE="$ca" REQUESTS_CA_BUNDLE="$ca" "$python" "$here/check.py" "localhost:$port"; then
    echo "--- fake-auth0 log ---" >&2
    cat "$work/fake-auth0.log" >&2
    exit 1
fi
