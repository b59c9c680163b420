"""The user journey through the official Python MCP SDK, as a real third-party client.

Why this exists: the Rust tests prove the stack against our own idea of the protocol; this
script proves it against the official `mcp` package (pinned in requirements.txt), which does
its own discovery (RFC 9728, RFC 8414), dynamic client registration (RFC 7591), PKCE, token
handling and the 403 `insufficient_scope` step-up. The only thing it fakes is the person in
front of the browser: the redirect handler fetches the authorize URL with an HTTP client,
fills in the login form (and the consent form that every dynamically registered, third-party
client sees), and hands the code from the 302 `Location` to the SDK's callback handler.

Usage (against a running stack, e.g. `cargo run` at the workspace root), with the interpreter
of this folder's environment (`cargo test` makes it under target/python/mcp_sdk/; any
virtual environment with requirements.txt installed does as well):

    python=$(cargo run -q -p e2e --example harness -- python mcp_sdk)
    "$python" e2e/python/mcp_sdk/journey.py --mcp-url http://localhost:3001/mcp

It exits 0 when every check passed and 1 with a message naming the failed check otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

try:
    import httpx2
    from mcp import Client
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import (
        AuthorizationCodeResult,
        OAuthClientInformationFull,
        OAuthClientMetadata,
        OAuthToken,
    )
    from mcp.shared.exceptions import MCPError
except ImportError as import_error:  # The venv is missing or incomplete: say how to make it.
    sys.stderr.write(
        f"journey.py: cannot import the MCP SDK ({import_error}).\n"
        "Run it with the interpreter of its environment, from the workspace root:\n"
        "  \"$(cargo run -q -p e2e --example harness -- python mcp_sdk)\" e2e/python/mcp_sdk/journey.py ...\n"
    )
    sys.exit(2)

# The redirect URI the SDK registers. Nothing listens there: the headless browser reads the
# code from the authorization server's 302 `Location` instead of following it (RFC 8252 §7.3
# loopback redirect, which the demo tenant accepts on any port).
REDIRECT_URI = "http://127.0.0.1:33418/callback"

DEMO_USERS = {
    "admin@example.com": "admin-pass",
    "user@example.com": "user-pass",
    "guest@example.com": "guest-pass",
}


class JourneyFailure(Exception):
    """A check of the journey did not hold; the message says which and what was seen."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise JourneyFailure(message)


def log(message: str) -> None:
    print(f"journey: {message}", flush=True)


# --- the headless browser -------------------------------------------------------------------


@dataclass
class Form:
    """One `<form>` of a page: where it posts, its fields, and its submit buttons."""

    action: str
    method: str
    inputs: dict[str, str] = field(default_factory=dict)
    input_types: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """Collects the forms of a page (the login/consent HTML contract of fake-auth0)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: (value or "") for name, value in attrs}
        if tag == "form":
            self._current = Form(
                action=attributes.get("action", ""), method=attributes.get("method", "get").lower()
            )
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and "name" in attributes:
            self._current.inputs[attributes["name"]] = attributes.get("value", "")
            self._current.input_types[attributes["name"]] = attributes.get("type", "text").lower()
        elif tag == "button" and self._current is not None and "name" in attributes:
            self._current.buttons.append((attributes["name"], attributes.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def text(self) -> str:
        return " ".join(" ".join(self._text).split())


def parse_forms(html: str) -> tuple[list[Form], str]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms, parser.text()


@dataclass
class HeadlessBrowser:
    """Plays the person at the browser: logs in as one demo user and accepts consent.

    The SDK calls `redirect` with the authorize URL and then `callback` for the code. Each
    authorization is recorded so the journey can assert what the SDK asked for (for example
    the scopes of a step-up).
    """

    username: str
    password: str
    # Scopes the person does not grant on the first authorization (the client asked for
    # them, the person took them out): a later step-up has to ask again.
    withhold_at_first: frozenset[str] = frozenset()
    authorize_urls: list[str] = field(default_factory=list)
    consents: int = 0
    _result: AuthorizationCodeResult | None = None

    async def redirect(self, authorize_url: str) -> None:
        self.authorize_urls.append(authorize_url)
        if len(self.authorize_urls) == 1 and self.withhold_at_first:
            authorize_url = without_scopes(authorize_url, self.withhold_at_first)
        # Each authorization gets a fresh cookie jar, as a private browser window would.
        async with httpx2.AsyncClient(timeout=15.0, follow_redirects=False) as http:
            page = await http.get(authorize_url)
            check(
                page.status_code == 200,
                f"GET /authorize answered {page.status_code}, expected 200 with the login page: "
                f"{page.text[:300]}",
            )
            location = await self._submit_login(http, str(page.url), page.text)
        self._result = self._code_from(location)

    async def callback(self) -> AuthorizationCodeResult:
        check(self._result is not None, "the SDK asked for the code before redirecting")
        result, self._result = self._result, None
        assert result is not None
        return result

    async def _submit_login(self, http: httpx2.AsyncClient, page_url: str, html: str) -> str:
        forms, text = parse_forms(html)
        logins = [f for f in forms if "username" in f.inputs and "password" in f.inputs]
        check(len(logins) == 1, f"expected one login form on the authorize page, found {len(logins)}: {text[:300]}")
        login = logins[0]
        check(login.method == "post", f"the login form's method is {login.method!r}, expected post")
        check(login.input_types.get("password") == "password", "the password input is not type=password")
        data = {name: value for name, value in login.inputs.items() if login.input_types.get(name) == "hidden"}
        data["username"] = self.username
        data["password"] = self.password
        response = await http.post(urljoin(page_url, login.action), data=data)
        if response.status_code in (302, 303):
            return response.headers["location"]
        check(response.status_code == 200, f"login answered {response.status_code}: {response.text[:300]}")
        return await self._submit_consent(http, str(response.url), response.text)

    async def _submit_consent(self, http: httpx2.AsyncClient, page_url: str, html: str) -> str:
        forms, text = parse_forms(html)
        consents = [f for f in forms if ("action", "accept") in f.buttons]
        check(
            len(consents) == 1,
            f"after login expected a redirect or one consent form, got a page saying: {text[:300]}",
        )
        consent = consents[0]
        check(("action", "deny") in consent.buttons, "the consent form has no deny button")
        data = {name: value for name, value in consent.inputs.items() if consent.input_types.get(name) == "hidden"}
        data["action"] = "accept"
        self.consents += 1
        response = await http.post(urljoin(page_url, consent.action), data=data)
        check(
            response.status_code in (302, 303),
            f"consent accept answered {response.status_code}, expected a redirect: {response.text[:300]}",
        )
        return response.headers["location"]

    @staticmethod
    def _code_from(location: str) -> AuthorizationCodeResult:
        check(location.startswith(REDIRECT_URI), f"redirected to {location!r}, not to the registered redirect URI")
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        check("error" not in query, f"the authorization server answered error={query.get('error')!r}: {query}")
        check("code" in query, f"no code in the redirect: {location!r}")
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


class InMemoryTokenStorage:
    """The SDK's TokenStorage protocol, kept in memory for one journey."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


# --- one signed-in session ------------------------------------------------------------------


@dataclass
class Session:
    browser: HeadlessBrowser
    storage: InMemoryTokenStorage
    client: Client


def make_provider(mcp_url: str, browser: HeadlessBrowser, storage: InMemoryTokenStorage) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        client_name="mcp-auth0 e2e journey (Python SDK)",
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
        # A Client ID Metadata Document URL (--client-metadata-url): used instead of
        # dynamic registration when the authorization server advertises support.
        client_metadata_url=CLIENT_METADATA_URL or None,
    )


def tool_names(listing: Any) -> list[str]:
    return sorted(tool.name for tool in listing.tools)


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def scopes_of(url: str) -> set[str]:
    query = parse_qs(urlsplit(url).query)
    return set(" ".join(query.get("scope", [""])).split())


def without_scopes(url: str, withheld: frozenset[str]) -> str:
    """The authorize URL with some requested scopes taken out."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query["scope"] = [" ".join(s for s in " ".join(query.get("scope", [""])).split() if s not in withheld)]
    return parts._replace(query=urlencode(query, doseq=True)).geturl()


# The `act.sub` the upstream API must report for admin's greet (--expect-actor); empty: none checked.
EXPECTED_ACTOR = ""
# The client's metadata document URL (--client-metadata-url); empty: dynamic registration.
CLIENT_METADATA_URL = ""


class TokenEndpointLog:
    """Every request the SDK's HTTP client sends, by path and grant type (an httpx event hook)."""

    def __init__(self) -> None:
        self.registrations = 0
        self.refresh_grants = 0

    async def __call__(self, request: httpx2.Request) -> None:
        if request.method != "POST":
            return
        if request.url.path.endswith("/oidc/register"):
            self.registrations += 1
        if request.url.path.endswith("/oauth/token") and b"grant_type=refresh_token" in request.content:
            self.refresh_grants += 1


async def admin_journey(mcp_url: str, mode: str) -> None:
    user = "admin@example.com"
    browser = HeadlessBrowser(user, DEMO_USERS[user])
    storage = InMemoryTokenStorage()
    provider = make_provider(mcp_url, browser, storage)
    requests = TokenEndpointLog()
    async with httpx2.AsyncClient(auth=provider, timeout=30.0, event_hooks={"request": [requests]}) as http:
        async with Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client:
            log(f"[{mode}] {user}: signed in, protocol {client.protocol_version}")
            if CLIENT_METADATA_URL:
                client_id = storage.client_info.client_id if storage.client_info else None
                check(
                    client_id == CLIENT_METADATA_URL,
                    f"the SDK used client_id {client_id!r}, not its metadata document URL",
                )
                check(requests.registrations == 0, "the SDK registered dynamically despite its metadata URL")
                log(f"[{mode}] {user}: client_id = {client_id} (Client ID Metadata Document, no registration)")
            else:
                check(storage.client_info is not None, "the SDK did not register a client dynamically")
            check(len(browser.authorize_urls) == 1, f"expected one authorization, saw {len(browser.authorize_urls)}")
            authorize = browser.authorize_urls[0]
            query = parse_qs(urlsplit(authorize).query)
            check(query.get("code_challenge_method") == ["S256"], "the SDK did not use PKCE S256")
            check(browser.consents == 1, "a dynamically registered (third-party) client was not asked for consent")

            names = tool_names(await client.list_tools())
            check(
                names == ["get_current_time", "greet", "whoami"],
                f"{user} should see all three tools, saw {names}",
            )
            log(f"[{mode}] {user}: tools/list = {names}")

            now = await client.call_tool("get_current_time", {})
            check(not now.is_error, f"get_current_time failed: {text_of(now)}")
            log(f"[{mode}] {user}: get_current_time = {text_of(now)}")

            who = await client.call_tool("whoami", {})
            check(not who.is_error, f"whoami failed: {text_of(who)}")
            identity = who.structured_content or json.loads(text_of(who) or "{}")
            sub = identity.get("sub")
            check(isinstance(sub, str) and sub != "", f"whoami did not name the caller's sub: {identity}")
            log(f"[{mode}] {user}: whoami sub = {sub}")

            greet = await client.call_tool("greet", {"name": "Python SDK"})
            check(not greet.is_error, f"greet failed: {text_of(greet)}")
            greeting = text_of(greet)
            check("Python SDK" in greeting, f"greet did not greet by name: {greeting!r}")
            check(sub in greeting, f"greet's answer does not carry admin's sub {sub!r}: {greeting!r}")
            check(
                "Upstream API Response: {" in greeting,
                f"greet's text does not carry the upstream API's answer: {greeting!r}",
            )
            check(
                greet.structured_content is not None,
                "greet returned no structured content (the upstream API's JSON)",
            )
            log(f"[{mode}] {user}: greet = {greeting!r} upstream = {json.dumps(greet.structured_content)}")
            if EXPECTED_ACTOR:
                # An On-Behalf-Of exchange names the MCP server's client as the current actor.
                upstream = greet.structured_content.get("upstream") or {}
                actor = (upstream.get("act") or {}).get("sub")
                check(
                    actor == EXPECTED_ACTOR,
                    f"the exchanged token's act.sub is {actor!r}, expected {EXPECTED_ACTOR!r}: {upstream}",
                )
                log(f"[{mode}] {user}: exchanged token act = {json.dumps(upstream.get('act'))}")
            check(len(browser.authorize_urls) == 1, "admin had to sign in more than once")
            if CLIENT_METADATA_URL:
                # The access token "expires": the SDK must refresh it with the refresh token.
                provider.context.token_expiry_time = time.time() - 1
                again = await client.call_tool("whoami", {})
                check(not again.is_error, f"whoami after the refresh failed: {text_of(again)}")
                check(requests.refresh_grants == 1, f"expected one refresh, saw {requests.refresh_grants}")
                check(len(browser.authorize_urls) == 1, "the refresh asked admin to sign in again")
                check(requests.registrations == 0, "the SDK registered dynamically")
                log(f"[{mode}] {user}: refreshed with the metadata document client, whoami still works")


async def step_up_journey(mcp_url: str, mode: str) -> None:
    """admin has tool:greet but consents first to tool:whoami only: greet is listed, its call
    is answered 403 insufficient_scope, the SDK authorizes again for tool:greet, and greet runs."""
    user = "admin@example.com"
    browser = HeadlessBrowser(user, DEMO_USERS[user], withhold_at_first=frozenset({"tool:greet"}))
    storage = InMemoryTokenStorage()
    async with httpx2.AsyncClient(auth=make_provider(mcp_url, browser, storage), timeout=30.0) as http:
        async with Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client:
            granted = set((storage.tokens.scope or "").split()) if storage.tokens else set()
            check("tool:greet" not in granted, f"the first token already has tool:greet: {sorted(granted)}")
            names = tool_names(await client.list_tools())
            check("greet" in names, f"greet should be listed (admin can consent to it), saw {names}")

            greet = await client.call_tool("greet", {"name": "step-up"})
            check(not greet.is_error, f"greet failed after the step-up: {text_of(greet)}")
            check(
                len(browser.authorize_urls) == 2,
                f"expected one step-up authorization after the 403, saw {len(browser.authorize_urls) - 1}",
            )
            step_up_scopes = scopes_of(browser.authorize_urls[-1])
            check(
                "tool:greet" in step_up_scopes,
                f"the step-up authorization did not ask for tool:greet: {sorted(step_up_scopes)}",
            )
            log(f"[{mode}] {user}: step-up asked for {sorted(step_up_scopes)}; greet = {text_of(greet)!r}")


async def user_journey(mcp_url: str, mode: str) -> None:
    """user@example.com has tool:whoami only: greet is hidden, and calling it is refused with
    an error naming tool:greet, without a step-up (asking again cannot help)."""
    user = "user@example.com"
    browser = HeadlessBrowser(user, DEMO_USERS[user])
    storage = InMemoryTokenStorage()
    async with httpx2.AsyncClient(auth=make_provider(mcp_url, browser, storage), timeout=30.0) as http:
        async with Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client:
            log(f"[{mode}] {user}: signed in, protocol {client.protocol_version}")
            names = tool_names(await client.list_tools())
            check(names == ["get_current_time", "whoami"], f"{user} should see get_current_time and whoami, saw {names}")
            log(f"[{mode}] {user}: tools/list = {names}")

            who = await client.call_tool("whoami", {})
            check(not who.is_error, f"whoami failed for {user}: {text_of(who)}")

            before = len(browser.authorize_urls)
            message = ""
            try:
                result = await client.call_tool("greet", {"name": "refused"})
                check(False, f"greet ran for {user}, who lacks tool:greet: {text_of(result)!r}")
            except MCPError as error:
                message = error.message
            log(f"[{mode}] {user}: greet -> {message!r}")
            check("tool:greet" in message, f"the refusal does not name tool:greet: {message!r}")
            check(len(browser.authorize_urls) == before, "a refusal that asking again cannot fix started a step-up")

            # The session still works after the refusal.
            names = tool_names(await client.list_tools(cache_mode="refresh"))
            check(names == ["get_current_time", "whoami"], f"after the refusal {user} sees {names}")


async def guest_journey(mcp_url: str, mode: str) -> None:
    user = "guest@example.com"
    browser = HeadlessBrowser(user, DEMO_USERS[user])
    storage = InMemoryTokenStorage()
    async with httpx2.AsyncClient(auth=make_provider(mcp_url, browser, storage), timeout=30.0) as http:
        async with Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client:
            names = tool_names(await client.list_tools())
            check(names == ["get_current_time"], f"{user} should see get_current_time only, saw {names}")
            log(f"[{mode}] {user}: tools/list = {names}")


def describe(error: BaseException) -> str:
    """The leaf errors of an exception (anyio task groups wrap them in ExceptionGroups)."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    cause = f" (caused by {describe(error.__cause__)})" if error.__cause__ is not None else ""
    where = ""
    try:
        request = getattr(error, "request", None)
        if request is not None:
            where = f" [{request.method} {request.url}]"
    except RuntimeError:  # httpx raises when the error carries no request
        pass
    return f"{type(error).__name__}{where}: {error}{cause}"


async def wait_for_health(mcp_url: str, timeout: float) -> None:
    """Poll the MCP server's /health until it answers, so a just-started stack is not a failure."""
    health = urljoin(mcp_url, "/health")
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with httpx2.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.get(health)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx2.HTTPError as error:
                last = str(error) or type(error).__name__
            await asyncio.sleep(0.2)
    raise JourneyFailure(f"{health} did not become healthy within {timeout:.0f} s ({last})")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mcp-url",
        default=os.environ.get("MCP_URL", "http://localhost:3001/mcp"),
        help="the MCP endpoint (env MCP_URL; default http://localhost:3001/mcp)",
    )
    parser.add_argument(
        "--mode",
        choices=["auto", "legacy", "both"],
        default=os.environ.get("JOURNEY_MODE", "both"),
        help="protocol era: auto (2026-07-28 when the server offers it), legacy (initialize "
        "handshake, sessions), or both (env JOURNEY_MODE; default both)",
    )
    parser.add_argument(
        "--only",
        choices=["admin", "step-up", "user", "guest", "all"],
        default=os.environ.get("JOURNEY_ONLY", "all"),
        help="run one user's journey only (env JOURNEY_ONLY; default all)",
    )
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for /health (default 30)")
    parser.add_argument(
        "--expect-actor",
        default=os.environ.get("JOURNEY_EXPECT_ACTOR", ""),
        help="check that greet's exchanged token has act.sub equal to this client id, as an "
        "On-Behalf-Of exchange writes it (env JOURNEY_EXPECT_ACTOR)",
    )
    parser.add_argument(
        "--client-metadata-url",
        default=os.environ.get("JOURNEY_CLIENT_METADATA_URL", ""),
        help="identify the client by this Client ID Metadata Document URL (https) instead of "
        "registering dynamically; admin's journey then also checks a refresh "
        "(env JOURNEY_CLIENT_METADATA_URL)",
    )
    args = parser.parse_args()
    global EXPECTED_ACTOR, CLIENT_METADATA_URL
    EXPECTED_ACTOR = args.expect_actor
    CLIENT_METADATA_URL = args.client_metadata_url

    modes = ["auto", "legacy"] if args.mode == "both" else [args.mode]
    journeys = {"admin": admin_journey, "step-up": step_up_journey, "user": user_journey, "guest": guest_journey}
    selected = list(journeys) if args.only == "all" else [args.only]
    passed = 0
    failed = 0
    try:
        await wait_for_health(args.mcp_url, args.wait)
    except JourneyFailure as failure:
        print(f"journey: FAILED: {failure}", file=sys.stderr)
        return 1
    for mode in modes:
        for name in selected:
            try:
                await journeys[name](args.mcp_url, mode)
                passed += 1
                log(f"ok: {name} ({mode})")
            except JourneyFailure as failure:
                failed += 1
                print(f"journey: FAILED: {name} ({mode}): {failure}", file=sys.stderr)
            except Exception as error:  # An SDK or transport error is a failure of this journey too.
                failed += 1
                print(f"journey: FAILED: {name} ({mode}): {describe(error)}", file=sys.stderr)
    print(f"python-sdk-journey: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
