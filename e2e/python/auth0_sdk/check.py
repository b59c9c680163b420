"""Auth0's own Python SDKs against fake-auth0 over HTTPS (issue 8, "Done when").

auth0-python's GetToken gets tokens from the fake's /oauth/token (client_credentials for the
Management API, the password grant for the upstream API with an ID token), auth0-api-python's
ApiClient verifies the access tokens through the fake's discovery document and JWKS, and
auth0-python's TokenVerifier verifies the ID token. Both SDKs build https://<domain>/ URLs
and refuse plain HTTP: this is what `fake-auth0 --tls` is for.

The fake's CA must be trusted: run with SSL_CERT_FILE (httpx, used by auth0-api-python) and
REQUESTS_CA_BUNDLE (requests, used by auth0-python) set to its ca.pem; run.sh does that.

It also checks: verify_access_token for every token dialect (granted tokens of the demo
tenant's APIs, and tokens minted through the control surface in the two dialects no demo API
uses), get_token_by_exchange_profile (HTTP Basic) against the demo tenant's
mcp-server-client with the quickstart's exchange scope, and GetToken's refresh grant.

auth0-api-python's ApiClient.get_token_on_behalf_of runs Auth0's On-Behalf-Of exchange as the
MCP server's Custom API client against the demo tenant.

Usage: python check.py <domain>, e.g. localhost:4000, with FAKE_AUTH0_CONTROL_TOKEN set to
the fake's control token (run.sh starts it with --control). Exits non-zero on the first
failure.
"""

import asyncio
import base64
import json
import os
import sys
import time

import httpx

from auth0.authentication import GetToken
from auth0.authentication.token_verifier import AsymmetricSignatureVerifier, TokenVerifier
from auth0_api_python import ApiClient, ApiClientOptions

UPSTREAM_API = "http://localhost:8787/"
MCP_API = "http://localhost:3001/"
# The quickstart's .env, verbatim.
QUICKSTART_SUBJECT_TOKEN_TYPE = "urn:fastmcp:mcp"
QUICKSTART_EXCHANGE_SCOPE = "openid offline_access read:private"


PASSED = 0


def check(condition: bool, what: str) -> None:
    global PASSED
    if not condition:
        print(f"auth0_sdk: {PASSED} passed, 1 failed")
        raise SystemExit(f"FAILED: {what}")
    PASSED += 1
    print(f"ok: {what}")


async def verify(domain: str, audience: str, token: str) -> dict:
    client = ApiClient(ApiClientOptions(domain=domain, audience=audience))
    return await client.verify_access_token(token)


def header_of(token: str) -> dict:
    """A JWT's header, decoded without verification (to tell the dialects apart)."""
    encoded = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def mint(issuer: str, dialect: str) -> str:
    """A token in `dialect` for the MCP API, through the control surface."""
    response = httpx.post(
        f"{issuer}_control/mint",
        headers={"Authorization": f"Bearer {os.environ['FAKE_AUTH0_CONTROL_TOKEN']}"},
        json={
            "audience": MCP_API,
            "sub": "auth0|user",
            "scope": "tool:whoami",
            "permissions": ["tool:whoami"],
            "token_dialect": dialect,
        },
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["access_token"]


async def exchange(domain: str, subject_token: str) -> dict:
    """auth0-api-python's token exchange helper, configured as the quickstart's MCP server."""
    client = ApiClient(
        ApiClientOptions(
            domain=domain,
            audience=MCP_API,
            client_id="mcp-server-client",
            client_secret="mcp-server-secret",
        )
    )
    return await client.get_token_by_exchange_profile(
        subject_token,
        QUICKSTART_SUBJECT_TOKEN_TYPE,
        audience=UPSTREAM_API,
        scope=QUICKSTART_EXCHANGE_SCOPE,
    )


def wait_until_serving(issuer: str) -> None:
    """Waits (30 s at most) for the fake to answer over HTTPS with a certificate we trust."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{issuer}health", timeout=2).raise_for_status()
            return
        except httpx.ConnectError as error:
            if time.monotonic() > deadline:
                raise SystemExit(f"FAILED: fake-auth0 never answered at {issuer}: {error}")
            time.sleep(0.1)


def main() -> None:
    domain = sys.argv[1]
    issuer = f"https://{domain}/"
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        check(bool(os.environ.get(variable)), f"{variable} names the fake's CA file")
    wait_until_serving(issuer)

    # Machine token for the Management API (its identifier follows the issuer).
    management_api = f"{issuer}api/v2/"
    machine = GetToken(domain, "management-cli", client_secret="management-secret")
    granted = machine.client_credentials(audience=management_api)
    check(granted["token_type"] == "Bearer", "GetToken.client_credentials got a bearer token")
    claims = asyncio.run(verify(domain, management_api, granted["access_token"]))
    check(claims["iss"] == issuer, "ApiClient verified the machine token's issuer")
    check(claims["sub"] == "management-cli@clients", "the machine token's subject is the client")
    check("read:clients" in claims["scope"].split(), "the machine token carries its grant's scopes")

    # A user's token for the upstream API, with an ID token.
    user = GetToken(domain, "demo-cli")
    granted = user.login(
        username="admin@example.com",
        password="admin-pass",
        audience=UPSTREAM_API,
        scope="openid profile email",
        grant_type="password",
    )
    claims = asyncio.run(verify(domain, UPSTREAM_API, granted["access_token"]))
    check(claims["sub"] == "auth0|admin", "ApiClient verified the user's access token")
    granted_scopes = claims.get("scope", "").split() + claims.get("permissions", [])
    check("read:private" in granted_scopes, "the user's token grants read:private (admin's role)")
    id_claims = TokenVerifier(
        signature_verifier=AsymmetricSignatureVerifier(f"{issuer}.well-known/jwks.json"),
        issuer=issuer,
        audience="demo-cli",
    ).verify(granted["id_token"])
    check(id_claims["email"] == "admin@example.com", "TokenVerifier verified the ID token")

    # A token for another API must be refused.
    try:
        asyncio.run(verify(domain, "http://localhost:3001/", granted["access_token"]))
    except Exception as error:  # the SDK's VerifyAccessTokenError
        check("aud" in str(error).lower() or "audience" in str(error).lower(),
              f"ApiClient refused a token for another audience ({type(error).__name__})")
    else:
        check(False, "ApiClient refused a token for another audience")

    # verify_access_token for every dialect: Auth0's (typ JWT) and RFC 9068's (typ at+jwt),
    # with and without the permissions claim.
    login = user.login(
        username="admin@example.com",
        password="admin-pass",
        audience=MCP_API,
        scope="openid offline_access tool:greet",
        grant_type="password",
    )
    tokens = {
        "rfc9068_profile_authz (MCP Tools API, granted)": login["access_token"],
        "access_token (Protected First Party API, granted)": granted["access_token"],
        "access_token_authz (minted)": mint(issuer, "access_token_authz"),
        "rfc9068_profile (minted)": mint(issuer, "rfc9068_profile"),
    }
    for dialect, token in tokens.items():
        audience = UPSTREAM_API if "First Party" in dialect else MCP_API
        claims = asyncio.run(verify(domain, audience, token))
        typ = header_of(token).get("typ")
        expected_typ = "at+jwt" if dialect.startswith("rfc9068") else "JWT"
        check(typ == expected_typ and claims["iss"] == issuer,
              f"ApiClient verified a {dialect} token (typ {typ})")
        check(("permissions" in claims) == ("authz" in dialect),
              f"the {dialect} token has permissions only in an _authz dialect")

    # GetToken's refresh grant: the public demo-cli, the refresh token from the login above.
    check(isinstance(login.get("refresh_token"), str), "the login with offline_access got a refresh token")
    refreshed = user.refresh_token(login["refresh_token"])
    claims = asyncio.run(verify(domain, MCP_API, refreshed["access_token"]))
    check(claims["sub"] == "auth0|admin", "GetToken.refresh_token got a token for the same user")
    check(refreshed.get("refresh_token") not in (None, login["refresh_token"]),
          "the refresh token rotated")

    # The quickstart's token exchange, as its Python twin makes it: auth0-api-python sends HTTP
    # Basic to the demo tenant's mcp-server-client (registered client_secret_post), with the
    # quickstart's subject token type and scope.
    exchanged = asyncio.run(exchange(domain, login["access_token"]))
    claims = asyncio.run(verify(domain, UPSTREAM_API, exchanged["access_token"]))
    check(claims["sub"] == "auth0|admin", "get_token_by_exchange_profile got a token for the same user")
    check(claims.get("azp") == "mcp-server-client", "the exchanged token names mcp-server-client")
    check(exchanged.get("scope") == "openid read:private",
          f"the exchanged token carries what was granted ({exchanged.get('scope')!r})")

    # Auth0's On-Behalf-Of exchange, as the MCP server makes it: the admin's token for the MCP
    # API, exchanged by the MCP server's Custom API client (HTTP Basic) for the upstream API.
    mcp_token = user.login(
        username="admin@example.com",
        password="admin-pass",
        audience=MCP_API,
        scope="tool:greet",
        grant_type="password",
    )["access_token"]
    mcp_server = ApiClient(ApiClientOptions(
        domain=domain, audience=MCP_API,
        client_id="mcp-server-client", client_secret="mcp-server-secret",
    ))
    exchanged = asyncio.run(mcp_server.get_token_on_behalf_of(
        mcp_token, audience=UPSTREAM_API, scope="read:private",
    ))
    check(exchanged.get("issued_token_type") == "urn:ietf:params:oauth:token-type:access_token",
          "get_token_on_behalf_of got an access token")
    claims = asyncio.run(verify(domain, UPSTREAM_API, exchanged["access_token"]))
    check(claims["sub"] == "auth0|admin", "the OBO token is for the same user")
    check(claims.get("act", {}).get("sub") == "mcp-server-client",
          f"the OBO token's act names the MCP server's client: {claims.get('act')}")
    check(claims["azp"] == "mcp-server-client", "the OBO token was issued to the MCP server's client")
    # The user has no read:private: refused with 403.
    user_mcp_token = user.login(
        username="user@example.com", password="user-pass", audience=MCP_API,
        scope="tool:whoami", grant_type="password",
    )["access_token"]
    try:
        asyncio.run(mcp_server.get_token_on_behalf_of(
            user_mcp_token, audience=UPSTREAM_API, scope="read:private",
        ))
    except Exception as error:  # the SDK's ApiError
        status = getattr(error, "status_code", None)
        check(status == 403, f"get_token_on_behalf_of for a user without read:private is 403 ({status}: {error})")
    else:
        check(False, "get_token_on_behalf_of refused a user without read:private")
    print(f"auth0_sdk: {PASSED} passed, 0 failed")


if __name__ == "__main__":
    main()
