"""The events a WebSocket session hands out, and the session's states.

Small frozen classes with one union alias, so a `match` over `WebSocketEvent`
covers every case. Pings and pongs are not events: the session answers pings and
watches pongs itself (RFC 6455 §5.5.2-3), so a driver only ever sees messages and
the two ends of the connection.
"""

from __future__ import annotations

import enum

from ..base._headers import Headers
from ..base._record import frozen

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WebSocketState",
    "Opened",
    "TextMessage",
    "BinaryMessage",
    "Closed",
    "WebSocketEvent",
]

# The largest message a session reassembles unless told otherwise.
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
# How long the peer may stay quiet before a ping, and how long its pong may take.
DEFAULT_KEEPALIVE_INTERVAL = 20.0
DEFAULT_KEEPALIVE_TIMEOUT = 20.0
# How long a close waits for the peer's Close frame before the socket is dropped.
DEFAULT_CLOSE_TIMEOUT = 5.0


class WebSocketState(enum.Enum):
    """Where a WebSocket session stands.

    CONNECTING until the server's 101 is validated; OPEN while messages flow;
    CLOSING once either side sent a Close frame and the other's is awaited;
    CLOSED when the close handshake completed or the connection was lost.
    """

    CONNECTING = "CONNECTING"
    OPEN = "OPEN"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"


@frozen
class Opened:
    """The server accepted the upgrade (101 with a correct `Sec-WebSocket-Accept`).

    `headers` are the other response headers (for example `x-request-id`);
    `subprotocol` is the one the server chose, if any.
    """

    subprotocol: str | None
    headers: Headers


@frozen
class TextMessage:
    """A whole text message, reassembled from its fragments and decoded as UTF-8."""

    data: str


@frozen
class BinaryMessage:
    """A whole binary message, reassembled from its fragments."""

    data: bytes


@frozen
class Closed:
    """The connection is over; nothing more will be received or may be sent.

    `code` is the WebSocket Connection Close Code of RFC 6455 §7.1.5: the code in
    the peer's Close frame, or 1006 when the connection ended without one (EOF,
    keepalive timeout, a protocol error). `reason` is the peer's reason text, or
    says what happened when there was no Close frame.
    """

    code: int
    reason: str = ""


WebSocketEvent = Opened | TextMessage | BinaryMessage | Closed
