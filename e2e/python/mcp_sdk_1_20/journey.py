"""The demo users' journeys through the official MCP Python SDK 1.20, the version Auth0's own
Python sample locks, which speaks the older protocol (2025-06-18: initialize, sessions, SSE).

Why this exists beside `e2e/python/mcp_sdk/journey.py` (SDK 2.x, OAuth included): 1.x is
what many deployed clients still run, and it breaks where a server sends what only 2025-11-25
clients understand (SSE priming events: a traceback on every response) or answers a session
close with a status it does not expect. So this drives 1.20's own transport
(`streamablehttp_client`, `ClientSession`) through whole sessions with bearer tokens and
checks the results; the Rust test that runs it also checks that nothing it printed is a
traceback or a warning. The SDK 2.x journey covers the OAuth flow.

The tokens come from the environment (JOURNEY_TOKEN_ADMIN, _USER, _GUEST; see
../bearer_journey.py).

    python journey.py --mcp-url http://localhost:3001/mcp

It exits 0 when every check passed and 1 naming the failed check otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bearer_journey import check, run_users, text_of  # noqa: E402

EXPECTED_TOOLS = {
    "admin": ["get_current_time", "greet", "whoami"],
    "user": ["get_current_time", "whoami"],
    "guest": ["get_current_time"],
}


async def journey(mcp_url: str, user: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with streamablehttp_client(mcp_url, headers=headers) as (read, write, _session_id):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check(init.protocolVersion == "2025-06-18", f"negotiated {init.protocolVersion}, expected 2025-06-18")
            names = sorted(tool.name for tool in (await session.list_tools()).tools)
            check(names == EXPECTED_TOOLS[user], f"{user} should see {EXPECTED_TOOLS[user]}, saw {names}")
            now = await session.call_tool("get_current_time", {})
            check(not now.isError, f"get_current_time failed: {text_of(now)}")
            if user == "admin":
                greet = await session.call_tool("greet", {"name": "SDK 1.20"})
                greeting = text_of(greet)
                check(not greet.isError, f"greet failed: {greeting}")
                check("Upstream API Response: {" in greeting, f"greet's text lacks the upstream answer: {greeting!r}")
                check(greet.structuredContent is not None, "greet returned no structured content")
                print(f"mcp-1.20: {user}: greet = {greeting!r}", flush=True)
            elif user == "user":
                try:
                    result = await session.call_tool("greet", {})
                    check(False, f"greet ran for {user}: {text_of(result)!r}")
                except McpError as error:
                    shown = error.error.message
                check("tool:greet" in shown, f"the refusal does not name tool:greet: {shown!r}")
                print(f"mcp-1.20: {user}: greet refused: {shown!r}", flush=True)
            print(f"mcp-1.20: {user}: tools = {names}", flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mcp-url", required=True, help="the MCP endpoint")
    args = parser.parse_args()
    # What the SDK logs at WARNING and above (a traceback, "Session termination failed")
    # goes to stderr, where the test looks for it.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    runs = [("legacy", user) for user in ("admin", "user", "guest")]
    return await run_users(
        "mcp-1.20-journey", runs, lambda _mode, user, token: journey(args.mcp_url, user, token)
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
