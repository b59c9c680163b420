#!/usr/bin/env bash
# The MCP quickstart's tenant setup (Auth0's "Call your APIs on behalf of your users" MCP
# quickstart), run against fake-auth0: each Management API call the quickstart makes with
# the auth0 CLI or curl, at the same path with the same body, then a check that a user's
# token can be exchanged by the new client. Fails on the first non-2xx answer.
#
# Two editions of the quickstart:
#   (default) Custom Token Exchange: a machine client, the on-behalf-of Action's secrets and
#             a token exchange profile (the quickstart before 2026-04-30);
#   --obo     On-Behalf-Of token exchange: the MCP server's client is a Custom API client
#             (app_type resource_server) allowed on_behalf_of_token_exchange, the upstream
#             API requires client grants for users, and a user-delegated client grant
#             (subject_type user) lets the client get read:private on users' behalf.
#
# Usage:
#   cargo run -p fake-auth0 -- --tenant fake-auth0/tenants/quickstart.yaml &
#   fake-auth0/quickstart-setup.sh [--obo] [TENANT_URL]   # default http://localhost:4000/
#
# Environment:
#   FAKE_AUTH0_URL         the tenant (issuer) URL, if not given as the argument
#   FAKE_AUTH0_CA_FILE     a CA file to trust (with --tls), passed to curl --cacert
#   MANAGEMENT_CLIENT_ID / MANAGEMENT_CLIENT_SECRET   default management-cli / management-secret
# Needs curl and jq. The tenant must not have the quickstart's APIs, client or roles yet
# (tenants/quickstart.yaml is such a fresh tenant); prints the MCP server's client
# credentials for its .env at the end.
set -euo pipefail

EDITION=cte
if [[ ${1:-} == --obo ]]; then
  EDITION=obo
  shift
fi
TENANT=${1:-${FAKE_AUTH0_URL:-http://localhost:4000/}}
TENANT=${TENANT%/}/
MANAGEMENT_CLIENT_ID=${MANAGEMENT_CLIENT_ID:-management-cli}
MANAGEMENT_CLIENT_SECRET=${MANAGEMENT_CLIENT_SECRET:-management-secret}
MCP_AUDIENCE=http://localhost:3001/
API_AUDIENCE=http://localhost:8787/
SUBJECT_TOKEN_TYPE=urn:fastmcp:mcp
ACCESS_TOKEN_TYPE=urn:ietf:params:oauth:token-type:access_token

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "quickstart-setup: $tool is required" >&2; exit 1; }
done
CURL=(curl -sS --max-time 30)
if [[ -n ${FAKE_AUTH0_CA_FILE:-} ]]; then
  CURL+=(--cacert "$FAKE_AUTH0_CA_FILE")
fi

step() { printf '\n==> %s\n' "$*" >&2; }

# request METHOD URL [curl args…]: prints the body; fails (printing it) unless 2xx.
request() {
  local method=$1 url=$2 out status
  shift 2
  out=$(mktemp)
  status=$("${CURL[@]}" -o "$out" -w '%{http_code}' -X "$method" "$url" "$@") || {
    echo "quickstart-setup: $method $url: request failed" >&2
    rm -f "$out"
    exit 1
  }
  if [[ $status != 2?? ]]; then
    echo "quickstart-setup: $method $url answered $status:" >&2
    cat "$out" >&2
    echo >&2
    rm -f "$out"
    exit 1
  fi
  echo "  $method $url -> $status" >&2
  cat "$out"
  rm -f "$out"
}

# api METHOD PATH [JSON]: a Management API call, as `auth0 api METHOD PATH --data JSON` makes it.
api() {
  local method=$1 path=$2
  if [[ $# -ge 3 ]]; then
    request "$method" "${TENANT}api/v2/$path" -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' --data "$3"
  else
    request "$method" "${TENANT}api/v2/$path" -H "Authorization: Bearer $TOKEN"
  fi
}

uri() { jq -rn --arg v "$1" '$v|@uri'; }

# jwt_claims TOKEN: the JSON payload of a JWT (base64url, unpadded).
jwt_claims() {
  local payload
  payload=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
  while ((${#payload} % 4)); do payload+='='; done
  base64 -d <<<"$payload"
}

step "Management API token (client_credentials of $MANAGEMENT_CLIENT_ID, the auth0 CLI's stand-in)"
TOKEN=$(request POST "${TENANT}oauth/token" \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode "client_id=$MANAGEMENT_CLIENT_ID" \
  --data-urlencode "client_secret=$MANAGEMENT_CLIENT_SECRET" \
  --data-urlencode "audience=${TENANT}api/v2/" | jq -r .access_token)

step "Configure tenant settings: promote the database connection to domain level"
# auth0 api get connections
CONNECTION_ID=$(api GET connections | jq -r 'map(select(.strategy == "auth0")) | .[0].id')
# auth0 api patch connections/YOUR_CONNECTION_ID --data '{"is_domain_connection": true}'
api PATCH "connections/$CONNECTION_ID" '{"is_domain_connection": true}' >/dev/null

# The quickstart creates the APIs after the roles; their permissions need the APIs, so
# they come first here.
step "Create an API to represent your MCP server"
# auth0 api post resource-servers --data '{…}'
api POST resource-servers '{
  "identifier": "http://localhost:3001/",
  "name": "MCP Tools API",
  "signing_alg": "RS256",
  "token_dialect": "rfc9068_profile_authz",
  "enforce_policies": true,
  "scopes": [
    {"value": "tool:whoami", "description": "Access the WhoAmI tool"},
    {"value": "tool:greet", "description": "Access the Greeting tool"}
  ]
}' >/dev/null

step "Create a first-party API to call from the MCP server"
if [[ $EDITION == obo ]]; then
  AUDIENCE=$(api POST resource-servers '{
    "identifier": "http://localhost:8787/",
    "name": "Protected First Party API",
    "signing_alg": "RS256",
    "enforce_policies": true,
    "scopes": [{"value": "read:private", "description": "Private scope"}],
    "subject_type_authorization": {
      "user": {"policy": "require_client_grant"},
      "client": {"policy": "require_client_grant"}
    },
    "skip_consent_for_verifiable_first_party_clients": false
  }' | jq -r '.identifier')
else
  AUDIENCE=$(api POST resource-servers '{
    "identifier": "http://localhost:8787/",
    "name": "Protected First Party API",
    "signing_alg": "RS256",
    "enforce_policies": true,
    "scopes": [
      {"value": "read:private", "description": "Private scope"}
    ]
  }' | jq -r '.identifier')
fi
echo "  Audience: $AUDIENCE" >&2

step "Create an Application for your MCP server"
if [[ $EDITION == obo ]]; then
  # A Custom API client: the MCP API's own client, allowed the On-Behalf-Of exchange.
  CLIENT=$(api POST clients '{
    "name": "MCP Server Client",
    "app_type": "resource_server",
    "oidc_conformant": true,
    "resource_server_identifier": "http://localhost:3001/",
    "token_exchange": {"allow_any_profile_of_type": ["on_behalf_of_token_exchange"]}
  }')
else
  # auth0 api post clients --data '{…}' | jq -r '…client_id…client_secret'
  CLIENT=$(api POST clients '{
    "name": "MCP Server Client",
    "app_type": "non_interactive",
    "is_first_party": true,
    "grant_types": ["authorization_code"],
    "token_endpoint_auth_method": "client_secret_post",
    "oidc_conformant": true,
    "jwt_configuration": { "alg": "RS256" }
  }')
fi
MCP_AUTH0_CLIENT_ID=$(jq -r .client_id <<<"$CLIENT")
MCP_AUTH0_CLIENT_SECRET=$(jq -r .client_secret <<<"$CLIENT")
if [[ $EDITION == obo ]]; then
  step "Give the MCP server user-delegated access to the first-party API"
  # auth0 api post client-grants --data '{…, "subject_type": "user"}'
  api POST client-grants "$(jq -n --arg client "$MCP_AUTH0_CLIENT_ID" --arg api "$API_AUDIENCE" \
    '{client_id: $client, audience: $api, scope: ["read:private"], subject_type: "user"}')" >/dev/null
else
  # auth0 api patch clients/<client_id> --data '{"token_exchange": …}'
  api PATCH "clients/$MCP_AUTH0_CLIENT_ID" '{
    "token_exchange": {
      "allow_any_profile_of_type": ["custom_authentication"]
    }
  }' >/dev/null
fi

step "Create roles"
# auth0 roles create --name "Tool Administrator" --description "Grants access to all MCP tools"
ADMIN_ROLE_ID=$(api POST roles '{"name": "Tool Administrator", "description": "Grants access to all MCP tools"}' | jq -r .id)
# auth0 roles create --name "Tool User" --description "Grants access to basic MCP tools"
USER_ROLE_ID=$(api POST roles '{"name": "Tool User", "description": "Grants access to basic MCP tools"}' | jq -r .id)

step "Assign permissions to roles"
# auth0 roles permissions add YOUR_ADMIN_ROLE_ID --api-id "http://localhost:3001/" --permissions "tool:whoami,tool:greet"
api POST "roles/$ADMIN_ROLE_ID/permissions" '{"permissions": [
  {"resource_server_identifier": "http://localhost:3001/", "permission_name": "tool:whoami"},
  {"resource_server_identifier": "http://localhost:3001/", "permission_name": "tool:greet"}
]}' >/dev/null
# Beyond the quickstart's text: the greet tool's exchanged token needs read:private, which
# the API's RBAC grants only through a role (the demo tenant's Tool Administrator has it).
api POST "roles/$ADMIN_ROLE_ID/permissions" '{"permissions": [
  {"resource_server_identifier": "http://localhost:8787/", "permission_name": "read:private"}
]}' >/dev/null
# auth0 roles permissions add YOUR_USER_ROLE_ID --api-id "http://localhost:3001/" --permissions "tool:whoami"
api POST "roles/$USER_ROLE_ID/permissions" '{"permissions": [
  {"resource_server_identifier": "http://localhost:3001/", "permission_name": "tool:whoami"}
]}' >/dev/null

step "Assign roles to users"
# auth0 users search --query "email:\"admin@example.com\"" ; auth0 users roles assign USER_ID --roles ROLE_ID
assign() {
  local email=$1 role=$2 user_id
  user_id=$(api GET "users?q=$(uri "email:\"$email\"")&search_engine=v3" | jq -r '.[0].user_id')
  [[ $user_id != null ]] || { echo "quickstart-setup: no user $email" >&2; exit 1; }
  api POST "users/$(uri "$user_id")/roles" "{\"roles\": [\"$role\"]}" >/dev/null
}
assign admin@example.com "$ADMIN_ROLE_ID"
assign user@example.com "$USER_ROLE_ID"

# check_exchange FORM…: the MCP server's exchange of the admin's token must be granted
# read:private for the admin.
check_exchange() {
  request POST "${TENANT}oauth/token" \
    --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
    --data-urlencode "client_id=$MCP_AUTH0_CLIENT_ID" \
    --data-urlencode "client_secret=$MCP_AUTH0_CLIENT_SECRET" \
    --data-urlencode "subject_token=$SUBJECT_TOKEN" \
    --data-urlencode "audience=$API_AUDIENCE" "$@"
}

# admin_token: the admin's MCP token, checked for the permissions the roles grant.
admin_token() {
  SUBJECT_TOKEN=$(request POST "${TENANT}oauth/token" \
    --data-urlencode grant_type=password --data-urlencode client_id=demo-cli \
    --data-urlencode username=admin@example.com --data-urlencode password=admin-pass \
    --data-urlencode "audience=$MCP_AUDIENCE" | jq -r .access_token)
  PERMISSIONS=$(jwt_claims "$SUBJECT_TOKEN" | jq -c .permissions)
  [[ $PERMISSIONS == '["tool:whoami","tool:greet"]' ]] || {
    echo "quickstart-setup: the admin's token has permissions $PERMISSIONS" >&2
    exit 1
  }
}

print_env() {
  printf '\nquickstart-setup: done. For the MCP server'"'"'s .env:\n'
  printf 'AUTH0_DOMAIN=%s\nMCP_AUTH0_CLIENT_ID=%s\nMCP_AUTH0_CLIENT_SECRET=%s\n' \
    "$TENANT" "$MCP_AUTH0_CLIENT_ID" "$MCP_AUTH0_CLIENT_SECRET"
}

if [[ $EDITION == obo ]]; then
  step "Check: the admin's MCP token can be exchanged On-Behalf-Of, with act naming the client"
  admin_token
  EXCHANGED=$(check_exchange \
    --data-urlencode "subject_token_type=$ACCESS_TOKEN_TYPE" \
    --data-urlencode "requested_token_type=$ACCESS_TOKEN_TYPE" \
    --data-urlencode scope=read:private | jq -r .access_token)
  jwt_claims "$EXCHANGED" | jq -e --arg client "$MCP_AUTH0_CLIENT_ID" \
    '.act.sub == $client and .azp == $client and .scope == "read:private"' >/dev/null || {
    echo "quickstart-setup: the exchanged token's claims are wrong:" >&2
    jwt_claims "$EXCHANGED" | jq -c '{sub, azp, scope, act}' >&2
    exit 1
  }
  print_env
  exit 0
fi

step "Use Custom Token Exchange Action: find it and configure its secrets"
# auth0 actions list
ACTION_ID=$(api GET actions/actions | jq -r '.actions | map(select(.supported_triggers[0].id == "custom-token-exchange")) | .[0].id')
[[ $ACTION_ID == act_* ]] || { echo "quickstart-setup: no custom-token-exchange action" >&2; exit 1; }
echo "  Action ID: $ACTION_ID" >&2
# The dashboard step "add your custom logic": the template's secrets.
api PATCH "actions/actions/$ACTION_ID" "$(jq -n \
  --arg client "$MCP_AUTH0_CLIENT_ID" --arg mcp "$MCP_AUDIENCE" --arg api "$API_AUDIENCE" '{secrets: [
    {name: "SUBJECT_TOKEN_AUDIENCE", value: $mcp},
    {name: "ALLOWED_CLIENT_IDS", value: ([$client] | tojson)},
    {name: "ALLOWED_TARGET_AUDIENCES", value: ([$api] | tojson)},
    {name: "ALLOWED_SCOPES", value: (["openid", "offline_access", "read:private"] | tojson)}
  ]}')" >/dev/null
api POST "actions/actions/$ACTION_ID/deploy" >/dev/null

step "Setup the token exchange profile"
# The quickstart's curl, verbatim but for the tenant URL.
request POST "${TENANT}api/v2/token-exchange-profiles" \
  --header 'Content-Type: application/json' \
  --header "Authorization: Bearer $TOKEN" \
  --data "{
    \"name\": \"MCP Custom Token Exchange\",
    \"subject_token_type\": \"$SUBJECT_TOKEN_TYPE\",
    \"action_id\": \"$ACTION_ID\",
    \"type\": \"custom_authentication\"
}" | jq -c '{id, name, subject_token_type, action_id, type}' >&2

step "Check: the admin's MCP token carries the new permissions and can be exchanged"
admin_token
check_exchange --data-urlencode "subject_token_type=$SUBJECT_TOKEN_TYPE" \
  --data-urlencode scope=read:private | jq -e '.scope == "read:private"' >/dev/null
print_env
