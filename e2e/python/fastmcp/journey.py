"""The demo users' journeys through the `fastmcp` client (pinned in requirements.txt).

Why this exists: fastmcp is the Python MCP client most hosts build on, and nobody here wrote
it. It shows a person the tools a user has and, for a refused call, the server's error text,
so this checks what that person sees: admin, user and guest each list their tools, admin's
greet shows the upstream API's answer, and a refused call names the missing permission. Both
protocol eras: `auto` (2026-07-28) and `legacy` (initialize, sessions).

The tokens come from the environment (JOURNEY_TOKEN_ADMIN, _NARROWED, _USER, _GUEST: access
tokens for the MCP server, e.g. from the demo tenant's password grant; _NARROWED is admin's
with scope tool:whoami only; see ../bearer_journey.py).

    python journey.py --mcp-url http://localhost:3001/mcp

It exits 0 when every check passed and 1 naming the failed check otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp.shared.exceptions import MCPError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bearer_journey import check, run_users, text_of  # noqa: E402

EXPECTED_TOOLS = {
    "admin": ["get_current_time", "greet", "whoami"],
    # admin's token from a client granted only tool:whoami: greet is listed (admin can
    # consent to it), and calling it gets the HTTP 403 step-up, whose JSON-RPC body fastmcp
    # shows (with a bearer token it cannot authorize again itself).
    "narrowed": ["get_current_time", "greet", "whoami"],
    "user": ["get_current_time", "whoami"],
    "guest": ["get_current_time"],
}
# For each user, a tool it lacks and the permission the refusal must name.
REFUSED = {
    "narrowed": ("greet", "tool:greet"),
    "user": ("greet", "tool:greet"),
    "guest": ("whoami", "tool:whoami"),
}


async def journey(mcp_url: str, mode: str, user: str, token: str) -> None:
    async with Client(mcp_url, auth=token, mode=mode) as client:
        names = sorted(tool.name for tool in await client.list_tools())
        check(names == EXPECTED_TOOLS[user], f"{user} should see {EXPECTED_TOOLS[user]}, saw {names}")
        now = await client.call_tool("get_current_time", {})
        check(not now.is_error, f"get_current_time failed for {user}: {text_of(now)}")
        if user == "admin":
            greet = await client.call_tool("greet", {"name": "fastmcp"})
            greeting = text_of(greet)
            check("Hello, fastmcp" in greeting, f"greet did not greet: {greeting!r}")
            check("Upstream API Response: {" in greeting, f"greet's text lacks the upstream answer: {greeting!r}")
            print(f"fastmcp: [{mode}] {user}: greet = {greeting!r}", flush=True)
        else:
            tool, permission = REFUSED[user]
            shown = ""
            try:
                result = await client.call_tool(tool, {})
                check(False, f"{tool} ran for {user}: {text_of(result)!r}")
            except (ToolError, MCPError) as error:
                shown = str(error)
            check(permission in shown, f"the refusal of {tool} does not name {permission}: {shown!r}")
            print(f"fastmcp: [{mode}] {user}: {tool} refused: {shown!r}", flush=True)
        print(f"fastmcp: [{mode}] {user}: tools = {names}", flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mcp-url", required=True, help="the MCP endpoint")
    args = parser.parse_args()
    runs = [(mode, user) for mode in ("auto", "legacy") for user in ("admin", "narrowed", "user", "guest")]
    return await run_users(
        "fastmcp-journey", runs, lambda mode, user, token: journey(args.mcp_url, mode, user, token)
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
