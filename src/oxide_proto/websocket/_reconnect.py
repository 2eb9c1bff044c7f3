"""When a dropped WebSocket may be opened again, and how long to wait first.

A WebSocket that ended abnormally (RFC 6455 §7.4.1: 1001 going away, 1005 no
status, 1006 lost without a Close frame, 1011 server error, 1012 service restart,
1013 try again later, and as the official SDK also 1015, a failed TLS handshake)
is worth reopening; one closed normally (1000), for a
policy reason (1008), a bad message (1002, 1003, 1007, 1009) or an application
code (3000-4999) is not: reopening would meet the same answer.

Reopening never replays anything: a message in flight when the connection broke
may have been acted on, so it fails with an error and only the next one goes
over the new connection. The wait before each attempt is the exponential backoff
with up to 25 % jitter that request retries use (`base._backoff`); the caller
passes the `random` callable.

The official SDK's `connect()` methods take `on_reconnecting`: it runs before every
attempt with a `ReconnectingEvent` and may answer with `ReconnectingOverrides`
(`abort` ends the reconnecting, `extra_query` / `extra_headers` replace what the
next handshake carries: a fresh token, a resumed session's id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict

from ..base._backoff import Delay, backoff_delay
from ..base._record import frozen

__all__ = [
    "NO_RECONNECT",
    "RECONNECT_CLOSE_CODES",
    "OnReconnecting",
    "ReconnectPolicy",
    "ReconnectingEvent",
    "ReconnectingOverrides",
]

RECONNECT_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})


@frozen(kw_only=True)
class ReconnectPolicy:
    """Up to `max_retries` attempts to reopen, waiting `initial_delay` doubling to `max_delay`.

    `max_retries=0` turns reconnecting off.
    """

    max_retries: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {self.max_retries}")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("reconnect delays must be 0 or more")

    def should_reconnect(self, close_code: int) -> bool:
        """True when a connection that closed with `close_code` may be opened again."""
        return self.max_retries > 0 and close_code in RECONNECT_CLOSE_CODES

    def exhausted(self, attempts: int) -> bool:
        """True once `attempts` attempts to reopen were made: no more follow."""
        return attempts >= self.max_retries

    def delay(self, attempt: int, random: Callable[[], float]) -> Delay:
        """The wait before attempt number `attempt` (0-based) to reopen.

        The budget is the caller's to check (`exhausted`), as it is for `RetryPolicy.delay`.
        """
        return Delay(
            backoff_delay(
                attempt, initial=self.initial_delay, maximum=self.max_delay, draw=random()
            )
        )


NO_RECONNECT = ReconnectPolicy(max_retries=0)


@frozen(kw_only=True)
class ReconnectingEvent:
    """One reconnect attempt about to start.

    `attempt` counts from 1 (it starts again after the server answered a new
    connection with an event that is not an error), `max_attempts` is how many
    will be made, `delay` the seconds waited before this attempt connects,
    `close_code` the WebSocket close code that ended the last connection (1006:
    lost without a Close frame, or the server stopped answering pings), and
    `extra_query` / `extra_headers` what the next handshake will carry.
    """

    attempt: int
    max_attempts: int
    delay: float
    close_code: int
    extra_query: Mapping[str, object]
    extra_headers: Mapping[str, str | None]


class ReconnectingOverrides(TypedDict, total=False):
    """What an `on_reconnecting` callback may return to change the next attempt.

    `extra_query` / `extra_headers` replace the query parameters and headers of
    the next handshake (a header set to None is left out); `abort=True` stops
    reconnecting.
    """

    extra_query: Mapping[str, object]
    extra_headers: Mapping[str, str | None]
    abort: bool


OnReconnecting = Callable[[ReconnectingEvent], "ReconnectingOverrides | None"]
