"""Auth0's own Python SDKs against fake-auth0 over HTTPS (issue 8, "Done when").

auth0-python's GetToken gets tokens from the fake's /oauth/token (client_credentials for the
Management API, the password grant for the upstream API with an ID token), auth0-api-python's
ApiClient verifies the access tokens through the fake's discovery document and JWKS, and
auth0-python's TokenVerifier verifies the ID token. Both SDKs build https://<domain>/ URLs
and refuse plain HTTP: this is what `fake-auth0 --tls` is for.

The fake's CA must be trusted: run with SSL_CERT_FILE (httpx, used by auth0-api-python) and
REQUESTS_CA_BUNDLE (requests, used by auth0-python) set to its ca.pem; run.sh does that.

Usage: python check.py <domain>, e.g. localhost:4000. Exits non-zero on the first failure.
"""

import asyncio
import os
import sys
import time

import httpx

from auth0.authentication import GetToken
from auth0.authentication.token_verifier import AsymmetricSignatureVerifier, TokenVerifier
from auth0_api_python import ApiClient, ApiClientOptions

UPSTREAM_API = "http://localhost:8787/"


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
    print(f"auth0_sdk: {PASSED} passed, 0 failed")


if __name__ == "__main__":
    main()
