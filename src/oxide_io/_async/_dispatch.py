"""What the Responses and Realtime connections share: sending, receiving, handlers.

A connection sends client events as JSON and reads server events typed (its
`_decode`), by `recv()`, by `async for`, or push-style as the official SDK does:
`conn.on(type, handler)` (or `@conn.on(type)`; `"event"` for every event, `once`
for one, `off` to remove), then `dispatch_events()` reads until the connection
closes, calling the handlers of each event's type and then the `"event"` ones.
An async connection awaits what a handler returns when it is awaitable, so plain
and async handlers mix. An `error` event nobody handles raises (the core's
`unhandled_error` rule). The managers take handlers before connecting too and
hand them to the connection when it opens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from oxide_proto import WebSocketConnectionClosedError
from oxide_proto.sessions._event_socket import parse_event_payload, unhandled_error

from .._event_handlers import ALL_EVENTS, EventHandlers, HandlerRegistry, call_handler
from .._options import NOT_GIVEN, NotGiven
from ._event_socket import AsyncConnectionManager, AsyncEventSocket

__all__ = ["AsyncDispatchingConnectionManager", "AsyncEventConnection"]

E = TypeVar("E")
_Self = TypeVar("_Self", bound="AsyncEventConnection[Any]")


class AsyncEventConnection(HandlerRegistry[E]):
    """A live event WebSocket whose server events are `E`, typed by `_decode`."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        self._socket = socket
        self._handlers: EventHandlers[E] = EventHandlers()

    def _decode(self, payload: dict[str, Any]) -> E:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self._socket.url

    @property
    def reconnects(self) -> int:
        """How many times the connection was reopened after an abnormal close."""
        return self._socket.reconnects

    async def send(self, event: Mapping[str, Any]) -> None:
        """Sends one client event (a dict with its `type`) as JSON."""
        await self._socket.send_json(event)

    async def send_raw(self, data: str) -> None:
        """Sends one text message exactly as given."""
        await self._socket.send_raw(data)

    async def recv(self, timeout: float | NotGiven | None = NOT_GIVEN) -> E:
        """The next server event, waiting at most `timeout` (the read timeout by default)."""
        return self._decode(parse_event_payload(await self._socket.receive(timeout)))

    async def recv_bytes(self, timeout: float | NotGiven | None = NOT_GIVEN) -> bytes:
        """The next server message, undecoded."""
        data = await self._socket.receive(timeout)
        return data.encode("utf-8") if isinstance(data, str) else data

    def parse_event(self, data: str | bytes) -> E:
        """One server message as a typed event; `MalformedEventError` when it is not JSON."""
        return self._decode(parse_event_payload(data))

    async def _recv_payload(self, timeout: float | NotGiven | None) -> dict[str, Any]:
        return parse_event_payload(await self._socket.receive(timeout))

    async def __aiter__(self) -> AsyncIterator[E]:
        """The events until the connection closes: quietly after a normal close (1000),
        raising `WebSocketConnectionClosedError` after any other."""
        while True:
            try:
                event = await self.recv()
            except WebSocketConnectionClosedError as exc:
                if exc.code == 1000:
                    return
                raise
            yield event

    async def dispatch_events(self) -> None:
        """Reads events until the connection closes, calling their handlers.

        Returns after a normal close (1000); raises `WebSocketConnectionClosedError`
        after any other, `APIEventError` for an `error` event nobody handles, and
        whatever a handler raises. Waits for events without a read timeout: the
        keepalive pings find a dead connection.
        """
        while True:
            try:
                data = await self._socket.receive(None)
            except WebSocketConnectionClosedError as exc:
                if exc.code == 1000:
                    return
                raise
            payload = parse_event_payload(data)
            event = self._decode(payload)
            kind = payload.get("type")
            specific = self._handlers.take(kind) if isinstance(kind, str) else []
            every = self._handlers.take(ALL_EVENTS)
            error = unhandled_error(payload, handled=bool(specific or every))
            if error is not None:
                raise error
            for handler in (*specific, *every):
                # unasync: handler(event)
                await call_handler(handler, event)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the WebSocket close handshake; waits at most a few seconds."""
        await self._socket.aclose(code, reason)

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Dispatching(Protocol):
    _handlers: EventHandlers[Any]

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


C = TypeVar("C", bound=_Dispatching)


class AsyncDispatchingConnectionManager(
    AsyncConnectionManager[C], HandlerRegistry[Any], Generic[C]
):
    """A connection manager that also takes handlers before connecting (`on`, `off`, `once`).

    They move to the connection when it opens, as the official SDK's managers do.
    """

    def __init__(self, socket: AsyncEventSocket, make: Callable[[AsyncEventSocket], C]) -> None:
        super().__init__(socket, make)
        self._handlers: EventHandlers[Any] = EventHandlers()

    async def enter(self) -> C:
        connection = await super().enter()
        self._handlers.move_to(connection._handlers)
        return connection
