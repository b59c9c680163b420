#!/usr/bin/env bash
# The journeys that `cargo test` does not run: the built binaries on their own, driven as a
# user following the README would drive them.
#
#  1. demo: `cargo run`'s binary on its default ports (4000, 8787, 3001), the official Python
#     MCP SDK's journey (e2e/python/mcp_sdk/journey.py) against it, then Ctrl-C, which must
#     stop it cleanly;
#  2. quickstart: the quickstart's own Management API calls (fake-auth0/quickstart-setup.sh,
#     curl and jq) against a fresh fake-auth0 serving the quickstart's empty tenant;
#  3. obo-quickstart: the On-Behalf-Of edition of the quickstart's setup
#     (quickstart-setup.sh --obo) against a fresh fake-auth0, then mcp-server and
#     upstream-api configured with the OBO sample's .env (no MCP_AUTH0_SUBJECT_TOKEN_TYPE)
#     and the Python SDK journey against them, greet's token naming the new client in `act`;
#  4. auth0-sdk: Auth0's own Python SDKs against fake-auth0 over HTTPS
#     (e2e/python/auth0_sdk/run.sh);
#  5. scanners: two conformance scanners nobody here wrote, pinned in e2e/python/authlab/
#     and e2e/python/mcpcheck/, against the built fake-auth0, upstream-api and mcp-server on
#     ephemeral ports: mcp-authlab (grade A, no failed check) with AUTH0_AUDIENCE the root
#     (the quickstart's) and the MCP endpoint, jbt-mcpcheck (every check passes, no warning)
#     with sessions and with MCP_STATELESS=true.
#  6. browser: a real Chromium through the login and consent pages, by Selenium
#     (e2e/python/browser/run.sh; screenshots in target/browser-journey/).
#
# `just e2e` runs this, and CI runs `just e2e`. The Python environments and the binaries come
# from the test harness, as in `cargo test` (made or built on first use). Needs curl, jq, and
# Debian's chromium and chromium-driver (.ci/run installs them).
# Everything it starts is stopped on exit, whether a journey failed or not.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
harness() { cargo run --quiet --locked -p e2e --example harness -- "$@"; }

python=$(harness python mcp_sdk)
demo_bin=$(harness bin demo)
fake_auth0_bin=$(harness bin fake-auth0)
upstream_api_bin=$(harness bin upstream-api)
mcp_server_bin=$(harness bin mcp-server)
authlab_python=$(harness python authlab)
mcpcheck_python=$(harness python mcpcheck)
logs=$(mktemp -d)
demo_pid=""
quickstart_pid=""
scan_pids=()
obo_pids=()
passed=0

cleanup() {
  local status=$?
  set +e
  for pid in "${obo_pids[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ -n $quickstart_pid ]]; then
    kill "$quickstart_pid" 2>/dev/null
    wait "$quickstart_pid" 2>/dev/null
  fi
  if [[ -n $demo_pid ]]; then
    kill -INT "$demo_pid" 2>/dev/null
    wait "$demo_pid" 2>/dev/null
  fi
  for pid in "${scan_pids[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ $status -ne 0 ]]; then
    for log in "$logs"/*.log; do
      [[ -s $log ]] && printf '\n--- %s\n' "$(basename "$log")" && tail -n 40 "$log"
    done
    printf 'stack-journeys: %d passed, 1 failed\n' "$passed"
  fi
  rm -rf "$logs"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_http URL SECONDS: polls until URL answers 2xx.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until "$python" - "$url" <<'EOF' 2>/dev/null; do
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status < 300 else 1)
EOF
    if ((SECONDS >= deadline)); then
      echo "timed out waiting for $url" >&2
      return 1
    fi
    sleep 0.2
  done
}

# journey NAME COMMAND...: runs one journey, with its duration.
journey() {
  local name=$1 start=$SECONDS
  shift
  printf '\n==> %s\n' "$name"
  "$@"
  passed=$((passed + 1))
  printf '<== %s passed (%ds)\n' "$name" $((SECONDS - start))
}

demo_journey() {
  "$demo_bin" >"$logs/demo.log" 2>&1 &
  demo_pid=$!
  wait_http http://localhost:3001/ready 60
  "$python" e2e/python/mcp_sdk/journey.py --mcp-url http://localhost:3001/mcp --mode both
  kill -INT "$demo_pid"
  # The demo stops cleanly on Ctrl-C: a non-zero exit here fails the journey.
  wait "$demo_pid"
  demo_pid=""
  grep -q "stopping" "$logs/demo.log"
}

quickstart_journey() {
  local port
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$fake_auth0_bin" --listen "127.0.0.1:$port" --issuer "http://127.0.0.1:$port/" \
    --tenant fake-auth0/tenants/quickstart.yaml >"$logs/quickstart-fake-auth0.log" 2>&1 &
  quickstart_pid=$!
  wait_http "http://127.0.0.1:$port/health" 30
  bash fake-auth0/quickstart-setup.sh "http://127.0.0.1:$port/"
  kill "$quickstart_pid"
  wait "$quickstart_pid" 2>/dev/null || true
  quickstart_pid=""
}

# scan_stack AUDIENCE_PATH STATELESS: fake-auth0, upstream-api and mcp-server on free ports,
# the demo tenant with the MCP API's identifier http://localhost:<port>/AUDIENCE_PATH; sets
# scan_mcp (the base URL), scan_token (admin's token) and scan_foreign (one for the upstream
# API, which the MCP server must refuse).
scan_stack() {
  local audience_path=$1 stateless=$2 idp api mcp port_of
  port_of='import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  idp=$("$python" -c "$port_of")
  api=$("$python" -c "$port_of")
  mcp=$("$python" -c "$port_of")
  sed -e "s#http://localhost:3001/#http://localhost:$mcp/$audience_path#g" \
    -e "s#http://localhost:8787/#http://localhost:$api/#g" \
    -e "s#http://localhost:4000/#http://localhost:$idp/#g" \
    fake-auth0/src/model/demo.yaml >"$logs/scan-tenant.yaml"
  "$fake_auth0_bin" --listen "127.0.0.1:$idp" --issuer "http://localhost:$idp/" \
    --tenant "$logs/scan-tenant.yaml" >"$logs/scan-fake-auth0.log" 2>&1 &
  scan_pids+=($!)
  AUTH0_DOMAIN="http://localhost:$idp" API_AUTH0_AUDIENCE="http://localhost:$api/" \
    UPSTREAM_API_LISTEN="127.0.0.1:$api" "$upstream_api_bin" >"$logs/scan-upstream-api.log" 2>&1 &
  scan_pids+=($!)
  AUTH0_DOMAIN="http://localhost:$idp" AUTH0_AUDIENCE="http://localhost:$mcp/$audience_path" \
    PORT="$mcp" MCP_SERVER_URL="http://localhost:$mcp/" MCP_STATELESS="$stateless" \
    API_AUTH0_AUDIENCE="http://localhost:$api/" API_BASE_URL="http://localhost:$api/" \
    "$mcp_server_bin" >"$logs/scan-mcp-server.log" 2>&1 &
  scan_pids+=($!)
  wait_http "http://localhost:$mcp/ready" 30
  wait_http "http://localhost:$api/ready" 30
  scan_mcp="http://localhost:$mcp/"
  scan_token=$(password_token "http://localhost:$idp/" "http://localhost:$mcp/$audience_path")
  scan_foreign=$(password_token "http://localhost:$idp/" "http://localhost:$api/")
}

# password_token ISSUER AUDIENCE: admin's access token by demo-cli's password grant.
password_token() {
  curl -fsS "$1oauth/token" -d grant_type=password -d client_id=demo-cli \
    -d username=admin@example.com -d password=admin-pass -d "audience=$2" \
    -d 'scope=openid tool:whoami tool:greet' | jq -er .access_token
}

stop_scan_stack() {
  for pid in "${scan_pids[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  scan_pids=()
}

# authlab AUDIENCE_PATH: mcp-authlab grades the stack A with no failed check.
authlab() {
  scan_stack "$1" false
  local report="$logs/authlab-${1:-root}.txt"
  "$authlab_python" -m mcp_authlab scan --no-color --no-login --fail-under A \
    --token "$scan_token" --foreign-token "$scan_foreign" "${scan_mcp}mcp" >"$report" 2>&1 ||
    { cat "$report"; return 1; }
  sed -n '1,6p' "$report"
  grep -q ' 0 fail ' "$report" || { cat "$report"; return 1; }
  stop_scan_stack
}

# mcpcheck STATELESS: jbt-mcpcheck passes every check with no warning (--strict).
mcpcheck() {
  scan_stack "" "$1"
  local report="$logs/mcpcheck-$1.txt"
  "$mcpcheck_python" -m mcpcheck --no-color --strict --token "$scan_token" "${scan_mcp}mcp" \
    >"$report" 2>&1 || { cat "$report"; return 1; }
  grep -E '^[✓!✗]|checks' "$report"
  stop_scan_stack
}

obo_quickstart_journey() {
  local port issuer setup client_id client_secret
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  issuer="http://127.0.0.1:$port/"
  "$fake_auth0_bin" --listen "127.0.0.1:$port" --issuer "$issuer" \
    --tenant fake-auth0/tenants/quickstart.yaml >"$logs/obo-fake-auth0.log" 2>&1 &
  obo_pids+=($!)
  wait_http "${issuer}health" 30
  setup=$(bash fake-auth0/quickstart-setup.sh --obo "$issuer")
  client_id=$(sed -n 's/^MCP_AUTH0_CLIENT_ID=//p' <<<"$setup")
  client_secret=$(sed -n 's/^MCP_AUTH0_CLIENT_SECRET=//p' <<<"$setup")
  # The OBO sample's .env: the new client, no MCP_AUTH0_SUBJECT_TOKEN_TYPE. A scratch working
  # directory, so no .env of the workspace configures the servers.
  (cd "$logs" && exec env -i PATH="$PATH" AUTH0_DOMAIN="$issuer" API_AUTH0_AUDIENCE=http://localhost:8787/ \
    "$upstream_api_bin" >"$logs/obo-upstream-api.log" 2>&1) &
  obo_pids+=($!)
  (cd "$logs" && exec env -i PATH="$PATH" AUTH0_DOMAIN="$issuer" AUTH0_AUDIENCE=http://localhost:3001/ \
    MCP_AUTH0_CLIENT_ID="$client_id" MCP_AUTH0_CLIENT_SECRET="$client_secret" \
    MCP_AUTH0_EXCHANGE_SCOPE=read:private API_AUTH0_AUDIENCE=http://localhost:8787/ \
    API_BASE_URL=http://localhost:8787 "$mcp_server_bin" >"$logs/obo-mcp-server.log" 2>&1) &
  obo_pids+=($!)
  wait_http http://localhost:8787/ready 30
  wait_http http://localhost:3001/ready 30
  grep -q "on-behalf-of" "$logs/obo-mcp-server.log"
  "$python" e2e/python/mcp_sdk/journey.py --mcp-url http://localhost:3001/mcp --mode auto \
    --expect-actor "$client_id"
  for pid in "${obo_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  obo_pids=()
}

journey demo demo_journey
journey quickstart quickstart_journey
journey obo-quickstart obo_quickstart_journey
journey auth0-sdk env FAKE_AUTH0_BIN="$fake_auth0_bin" bash e2e/python/auth0_sdk/run.sh
journey "mcp-authlab, AUTH0_AUDIENCE=<server>/" authlab ""
journey "mcp-authlab, AUTH0_AUDIENCE=<server>/mcp" authlab mcp
journey "jbt-mcpcheck, sessions" mcpcheck false
journey "jbt-mcpcheck, MCP_STATELESS=true" mcpcheck true
journey browser env FAKE_AUTH0_BIN="$fake_auth0_bin" bash e2e/python/browser/run.sh
printf '\nstack-journeys: %d passed, 0 failed\n' "$passed"
