"""What an `on_reconnecting` callback is told before a WebSocket is reopened, and may answer.

The official SDK's `connect()` methods take `on_reconnecting`; giving it turns
reconnecting on, and the callback runs before every attempt with a
`ReconnectingEvent`. It may answer with `ReconnectingOverrides`: `abort` ends
the reconnecting (the send that needed the connection then fails with the close
that started it), `extra_query` / `extra_headers` replace the ones the next
handshake carries (a fresh token, a resumed session's id). A callback that
raises ends the reconnecting the same way, its exception chained.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict

# Not attrs: this module is loaded by `import oxide_io`, which leaves attrs for first use.
from oxide_proto._record import frozen

__all__ = ["OnReconnecting", "ReconnectingEvent", "ReconnectingOverrides"]


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
