"""What the bearer-token journeys (fastmcp/, mcp_sdk_1_20/) share: the checks, the token
hand-over and the closing count. Each runs in its own environment, so this file uses the
standard library only; the scripts import it from their parent folder.

Tokens come from the environment, JOURNEY_TOKEN_<USER> (e.g. JOURNEY_TOKEN_ADMIN), never
from the command line, where other users of the machine can read them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable


class JourneyFailure(Exception):
    """A check did not hold; the message says which and what was seen."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise JourneyFailure(message)


def text_of(result) -> str:
    """The text blocks of a tool result, joined."""
    return " ".join(getattr(block, "text", "") for block in result.content)


async def run_users(
    label: str,
    runs: list[tuple[str, str]],
    journey: Callable[[str, str, str], Awaitable[None]],
) -> int:
    """Runs `journey(mode, user, token)` for each (mode, user); prints `<label>: N passed,
    M failed` and returns the exit status."""
    passed = failed = 0
    for mode, user in runs:
        token = os.environ.get(f"JOURNEY_TOKEN_{user.upper()}", "")
        try:
            check(token != "", f"JOURNEY_TOKEN_{user.upper()} is not set")
            await journey(mode, user, token)
            passed += 1
        except Exception as error:  # a client or transport error fails this journey too
            failed += 1
            print(f"{label}: FAILED: {user} ({mode}): {type(error).__name__}: {error}", file=sys.stderr)
    print(f"{label}: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
