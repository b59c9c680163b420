#!/usr/bin/env bash
# A real browser (Debian's chromium and chromium-driver, Selenium pinned in requirements.txt)
# through fake-auth0's login and consent pages: journey.py, against a fresh fake-auth0 serving
# the demo tenant on a free loopback port. Screenshots of every page land in
# target/browser-journey/ (a CI artefact). The server's log is printed if a check fails.
#
#   bash e2e/python/browser/run.sh                 # from anywhere in the workspace
#   FAKE_AUTH0_BIN=target/release/fake-auth0 bash e2e/python/browser/run.sh
#   CHROMIUM=/path/to/chromium CHROMEDRIVER=/path/to/chromedriver bash e2e/python/browser/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
harness() { (cd "$root" && cargo run --quiet --locked -p e2e --example harness -- "$@"); }

for tool in "${CHROMIUM:-/usr/bin/chromium}" "${CHROMEDRIVER:-/usr/bin/chromedriver}"; do
    if [[ ! -x $tool ]]; then
        echo "browser journey: $tool is missing; install Debian's chromium and chromium-driver" \
            "(apt-get install chromium chromium-driver) or set CHROMIUM / CHROMEDRIVER" >&2
        exit 1
    fi
done

python="$(harness python browser)"
bin="${FAKE_AUTH0_BIN:-$(harness bin fake-auth0)}"
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
shots="$target_dir/browser-journey"
rm -rf "$shots"
log="$(mktemp)"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

issuer="http://127.0.0.1:$port/"
"$bin" --listen "127.0.0.1:$port" --issuer "$issuer" --log-format json >"$log" 2>&1 &
server_pid=$!
"$python" - "${issuer}health" <<'PY' || { cat "$log" >&2; exit 1; }
import sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200:
            break
    except OSError:
        if time.monotonic() > deadline:
            raise SystemExit(f"fake-auth0 never answered at {sys.argv[1]}")
        time.sleep(0.1)
PY

if ! "$python" "$here/journey.py" "$issuer" "$shots"; then
    echo "--- fake-auth0 log ---" >&2
    cat "$log" >&2
    exit 1
fi
