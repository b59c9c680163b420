#!/usr/bin/env bash
# Auth0's own Python SDKs (auth0-python, auth0-api-python) against fake-auth0 over HTTPS.
#
# Starts `fake-auth0 --tls` on a free loopback port with its CA in a fresh directory, trusts
# that CA through SSL_CERT_FILE / REQUESTS_CA_BUNDLE, runs check.py, and stops the server.
# The SDKs are installed (pinned, requirements.txt) into <workspace>/.venv-auth0 on first use.
#
#   bash e2e/python/auth0_sdk/run.sh            # from the workspace root
#   FAKE_AUTH0_BIN=target/release/fake-auth0 bash e2e/python/auth0_sdk/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${AUTH0_SDK_VENV:-$root/.venv-auth0}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import auth0, auth0_api_python' 2>/dev/null; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

work="$(mktemp -d)"
bin="${FAKE_AUTH0_BIN:-}"
if [[ -z "$bin" ]]; then
    if ! (cd "$root" && cargo build --quiet -p fake-auth0) >"$work/build.log" 2>&1; then
        cat "$work/build.log" >&2
        rm -rf "$work"
        exit 1
    fi
    bin="$root/target/debug/fake-auth0"
fi
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
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
XDG_CACHE_HOME="$work" "$bin" --tls --listen "127.0.0.1:$port" \
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

if ! SSL_CERT_FILE="$ca" REQUESTS_CA_BUNDLE="$ca" "$venv/bin/python" "$here/check.py" "localhost:$port"; then
    echo "--- fake-auth0 log ---" >&2
    cat "$work/fake-auth0.log" >&2
    exit 1
fi
