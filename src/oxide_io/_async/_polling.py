"""The polling helpers' one loop: fetch, stop when done, sleep as long as the API asks.

The API says how long to wait before asking again in `openai-poll-after-ms`; a
caller's `poll_interval_ms` takes precedence, and with neither a second passes
(the official SDK's rule). Polls carry `X-Stainless-Poll-Helper: true`, plus
`X-Stainless-Custom-Poll-Interval` when the caller chose the interval, as the
official SDK's do. Sleeping uses the runtime's sleep, so on asyncio and trio a
poll is cancellable like any other wait.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .._options import NOT_GIVEN, NotGiven
from ._api_client import AsyncRawResponse
from ._resource import AsyncResource

__all__ = ["DEFAULT_POLL_INTERVAL_MS", "poll_until", "poll_interval_ms_from"]

DEFAULT_POLL_INTERVAL_MS = 1000


def poll_interval_ms_from(headers: Mapping[str, str]) -> int:
    """The wait the API asked for in `openai-poll-after-ms`, else one second."""
    value = headers.get("openai-poll-after-ms")
    try:
        return max(int(value), 0) if value is not None else DEFAULT_POLL_INTERVAL_MS
    except ValueError:
        return DEFAULT_POLL_INTERVAL_MS


def check_max_wait(max_wait_seconds: float | NotGiven) -> float | None:
    """The deadline (monotonic clock) `max_wait_seconds` sets, or None for no limit."""
    if isinstance(max_wait_seconds, NotGiven):
        return None
    if not math.isfinite(max_wait_seconds) or max_wait_seconds < 0:
        raise ValueError("Expected a finite, non-negative value for `max_wait_seconds`")
    return time.monotonic() + max_wait_seconds


async def poll_until(
    resource: AsyncResource,
    retrieve: Callable[[dict[str, str]], Awaitable[AsyncRawResponse[Any]]],
    done: Callable[[Any], bool],
    *,
    what: str,
    poll_interval_ms: int | NotGiven,
    max_wait_seconds: float | NotGiven = NOT_GIVEN,
    extra_headers: Mapping[str, str | None] | None = None,
) -> Any:
    """Calls `retrieve(headers)` (a raw-response call) until `done(result)`; returns the result.

    Raises `TimeoutError` naming `what` once `max_wait_seconds` have passed
    (0 allows no request at all); the server's work is not cancelled.
    """
    deadline = check_max_wait(max_wait_seconds)
    headers: dict[str, Any] = {"X-Stainless-Poll-Helper": "true", **(extra_headers or {})}
    if not isinstance(poll_interval_ms, NotGiven):
        headers["X-Stainless-Custom-Poll-Interval"] = str(poll_interval_ms)
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"Timed out waiting for {what} to finish processing")
        raw = await retrieve(headers)
        result = raw.parse()
        if done(result):
            return result
        if isinstance(poll_interval_ms, NotGiven):
            interval_ms = poll_interval_ms_from(raw.headers)
        else:
            interval_ms = poll_interval_ms
        seconds = interval_ms / 1000
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Timed out waiting for {what} to finish processing")
            seconds = min(seconds, left)
        await resource._client._transport.backend.sleep(seconds)
