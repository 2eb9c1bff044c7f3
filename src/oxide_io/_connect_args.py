"""WebSocket `connect()` options: oxide's (`WebSocketConnectOptions`, turned into the
core's `EventSocket` by `event_socket()`), and the official SDK's arguments mapped onto them.

They live apart from the client options so that `import oxide_io` does not build
this module's TypedDicts (each string annotation in one is compiled) nor load the
WebSocket session.

The SDK's WebSocket `connect()` methods take the same arguments, positionally
too: `extra_query`, `extra_headers`, `websocket_connection_options` (options of
the `websockets` package), `on_reconnecting`, `max_retries`, `initial_delay`,
`max_delay` and `max_queue_size`. oxide's connections take the same names and
their own options besides (`WebSocketConnectOptions`: `timeout`, `reconnect`,
`max_message_size`, `keepalive_interval`, `keepalive_timeout`), as keywords.

Of `websocket_connection_options`, the settings oxide's WebSocket has are used:
`max_size` (the largest incoming message; None keeps oxide's limit, as a
message is always bounded here), `ping_interval` and `ping_timeout` (the
keepalive), and `compression=None` (oxide never compresses). Any other is a
`TypeError` that names them, rather than a setting silently dropped.

`max_queue_size` bounds, in bytes, the messages a connection manager's `send()`
queues before it is entered (sent in order once the connection opens); a
connection's own sends go out with backpressure and queue nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from oxide_proto.base._errors import OpenAIError
from oxide_proto.sessions._event_socket import (
    DEFAULT_QUEUE_SIZE,
    EventSocket,
    EventSocketTarget,
    WebSocketOptions,
)
from oxide_proto.websocket._reconnect import OnReconnecting, ReconnectPolicy

from ._options import NOT_GIVEN, ClientOptions, NotGiven
from ._timeout import Timeout, TimeoutTypes, to_timeout

__all__ = [
    "DEFAULT_LIVE_QUEUE_SIZE",
    "DEFAULT_QUEUE_SIZE",
    "OwnWebSocketOptions",
    "WebSocketConnectOptions",
    "connect_options",
    "event_socket",
]


class WebSocketConnectOptions(TypedDict, total=False):
    """The keyword arguments of every WebSocket `connect()` (and `responses.session()`).

    The core's `WebSocketOptions` documents them and holds their defaults;
    `timeout` (the client's by default) bounds the connect and each wait for an
    event.
    """

    extra_query: Mapping[str, object] | None
    extra_headers: Mapping[str, str | None] | None
    timeout: TimeoutTypes | NotGiven
    on_reconnecting: OnReconnecting | None
    reconnect: bool | ReconnectPolicy | None
    max_retries: int
    initial_delay: float
    max_delay: float
    max_message_size: int
    keepalive_interval: float | None
    keepalive_timeout: float
    max_queue_size: int


def event_socket(
    options: ClientOptions,
    path: str,
    given: WebSocketConnectOptions,
    query: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[EventSocket, Timeout]:
    """The core's `EventSocket` for a WebSocket at `path` under the client's base URL,
    and the timeouts of its connect and reads (the client's unless `given` has one).

    `headers` join the client's default headers (the call's `extra_headers` win).
    An option `WebSocketOptions` does not know is a TypeError.
    """
    if options.provider is not None:
        # As in the official SDK: a provider signs or authenticates HTTP requests only.
        raise OpenAIError(
            f"a {options.provider.name} client cannot open WebSocket connections: its "
            "provider authenticates HTTP requests only"
        )
    settings: dict[str, Any] = {**given}
    timeout = settings.pop("timeout", NOT_GIVEN)
    target = EventSocketTarget(
        base_url=options.base_url,
        path=path,
        query=query,
        websocket_base_url=options.websocket_base_url,
        api_key=options.api_key,
        organization=options.organization,
        project=options.project,
        default_headers={**options.default_headers, **(headers or {})},
        default_query=options.default_query,
        azure=options.azure,
        x509_identity=options.x509_identity,
    )
    return (
        EventSocket(target, WebSocketOptions(**settings)),
        options.timeout if isinstance(timeout, NotGiven) else to_timeout(timeout),
    )


class OwnWebSocketOptions(TypedDict, total=False):
    """The `connect()` keywords oxide has beside the SDK's arguments (see `WebSocketOptions`)."""

    timeout: TimeoutTypes | NotGiven
    reconnect: bool | ReconnectPolicy | None
    max_message_size: int
    keepalive_interval: float | None
    keepalive_timeout: float


# The SDK's default send-queue bounds, in bytes (Responses and Realtime; Live).
DEFAULT_LIVE_QUEUE_SIZE = 2_097_152

# `websockets` option -> oxide's.
_NATIVE = {"max_size": "max_message_size", "ping_interval": "keepalive_interval"}
_SUPPORTED = ("max_size", "ping_interval", "ping_timeout", "compression=None")


def connect_options(
    extra_query: Mapping[str, object] | None,
    extra_headers: Mapping[str, str | None] | None,
    websocket_connection_options: Mapping[str, Any] | None,
    on_reconnecting: OnReconnecting | None,
    max_retries: int,
    initial_delay: float,
    max_delay: float,
    max_queue_size: int,
    options: OwnWebSocketOptions,
) -> WebSocketConnectOptions:
    """oxide's options from the SDK's arguments and oxide's own (`options`).

    An oxide option also given through `websocket_connection_options` is a
    `TypeError`: one setting, one place.
    """
    if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int):
        raise TypeError(f"max_queue_size must be an int, not {type(max_queue_size).__name__}")
    if max_queue_size <= 0:
        raise ValueError(f"max_queue_size must be positive, not {max_queue_size}")
    merged: dict[str, Any] = dict(options)
    merged.update(
        extra_query=extra_query or None,
        extra_headers=extra_headers or None,
        on_reconnecting=on_reconnecting,
        max_retries=max_retries,
        initial_delay=initial_delay,
        max_delay=max_delay,
        max_queue_size=max_queue_size,
    )
    for key, value in (websocket_connection_options or {}).items():
        if key == "compression":
            if value is not None:
                raise TypeError(
                    f"websocket_connection_options: compression={value!r} is not supported; "
                    "oxide's WebSocket does not compress (compression=None)"
                )
            continue
        if key == "max_size" and value is None:
            continue  # unlimited in `websockets`; oxide keeps its bound
        if key == "ping_timeout" and value is None:
            key = "ping_interval"  # no pong deadline: no liveness check at all
        name = _NATIVE.get(key) or ("keepalive_timeout" if key == "ping_timeout" else None)
        if name is None:
            raise TypeError(
                f"websocket_connection_options: {key!r} is not supported; oxide's WebSocket "
                f"takes {', '.join(_SUPPORTED)} (and connect(timeout=..., max_message_size=..., "
                "keepalive_interval=..., keepalive_timeout=...))"
            )
        if name in options:
            raise TypeError(f"{name} given twice: as {name}= and as websocket_connection_options")
        merged[name] = value
    result: WebSocketConnectOptions = merged  # type: ignore[assignment]
    return result
