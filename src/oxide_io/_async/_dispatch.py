"""What the Responses and Realtime connections share: sending, receiving, handlers.

A connection sends client events as JSON and reads typed server events by
`recv()`, `async for`, or as the official SDK does: `conn.on(type, handler)` (or
`@conn.on(type)`; `"event"` for all, `once`, `off`), then `dispatch_events()`, which
awaits what a handler returns when it is awaitable. The managers take handlers too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from oxide_proto import WebSocketConnectionClosedError
from oxide_proto.sessions._event_socket import parse_event_payload

from .._event_handlers import EventHandlers, HandlerRegistry, call_handler
from .._options import NOT_GIVEN, NotGiven
from ._event_socket import AsyncEventSocket

if TYPE_CHECKING:
    from oxide_proto import BaseModel

__all__ = ["AsyncConnectionManager", "AsyncDispatchingConnectionManager", "AsyncEventConnection"]

E = TypeVar("E")
_Self = TypeVar("_Self", bound="AsyncEventConnection[Any]")


class AsyncEventConnection(HandlerRegistry[E]):
    """A live event WebSocket whose server events are `E`, as `decode` makes them.

    `async for event in conn` yields events until the connection closes (quietly
    after a normal close, raising `WebSocketConnectionClosedError` after another);
    `recv()` returns one; `on(type, handler)` and `dispatch_events()` call handlers.
    """

    def __init__(self, socket: AsyncEventSocket, decode: Callable[[dict[str, Any]], E]) -> None:
        self._socket = socket
        self._decode = decode
        self._handlers: EventHandlers[E] = EventHandlers()

    @property
    def url(self) -> str:
        return str(self._socket.proto.url)

    @property
    def reconnects(self) -> int:
        """How many times the connection was reopened after an abnormal close."""
        return self._socket.proto.reconnects

    async def send(self, event: Mapping[str, Any] | BaseModel) -> None:
        """Sends one client event as JSON: a dict with its `type`, or an event model
        (the keys it holds, as the official SDK sends one)."""
        await self._socket.send_json(event)

    async def send_raw(self, data: str) -> None:
        """Sends one text message exactly as given."""
        await self._socket.send_raw(data)

    async def recv(self, timeout: float | NotGiven | None = NOT_GIVEN) -> E:
        """The next server event, waiting at most `timeout` (the read timeout by default)."""
        return self._decode(await self._recv_payload(timeout))

    async def recv_bytes(self, timeout: float | NotGiven | None = NOT_GIVEN) -> bytes:
        """The next server message, undecoded."""
        data = await self._socket.receive(timeout)
        return data.encode("utf-8") if isinstance(data, str) else data

    def parse_event(self, data: str | bytes) -> E:
        """One server message as a typed event; `MalformedEventError` when it is not JSON."""
        return self._decode(parse_event_payload(data))

    async def _recv_payload(self, timeout: float | NotGiven | None) -> dict[str, Any]:
        return parse_event_payload(await self._socket.receive(timeout))

    async def _until_closed(self, timeout: float | NotGiven | None) -> dict[str, Any] | None:
        """The next event's payload; None after a normal close (1000), which ends reading."""
        try:
            return await self._recv_payload(timeout)
        except WebSocketConnectionClosedError as exc:
            if exc.code == 1000:
                return None
            raise

    async def __aiter__(self) -> AsyncIterator[E]:
        while (payload := await self._until_closed(NOT_GIVEN)) is not None:
            yield self._decode(payload)

    async def dispatch_events(self) -> None:
        """Reads events until the connection closes, calling their handlers.

        Returns after a normal close (1000); raises `WebSocketConnectionClosedError`
        after any other, `APIEventError` for an `error` event nobody handles, and
        whatever a handler raises. Waits without a read timeout: the keepalive
        pings find a dead connection.
        """
        while (payload := await self._until_closed(None)) is not None:
            event = self._decode(payload)
            for handler in self._handlers.for_event(payload):
                # unasync: handler(event)
                await call_handler(handler, event)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the WebSocket close handshake; waits at most a few seconds."""
        await self._socket.aclose(code, reason)

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Closable(Protocol):
    async def close(self, code: int = 1000, reason: str = "") -> None: ...


C = TypeVar("C", bound=_Closable)
D = TypeVar("D", bound=AsyncEventConnection[Any])


class AsyncConnectionManager(Generic[C]):
    """`async with manager as connection`: opens on entry, closes (handshake) on exit.

    `await manager.enter()` opens without the block; then close the connection yourself.
    """

    def __init__(self, socket: AsyncEventSocket, make: Callable[[AsyncEventSocket], C]) -> None:
        self._socket = socket
        self._make = make
        self._connection: C | None = None

    async def enter(self) -> C:
        socket = self._socket
        await socket.open()
        if socket.proto.has_queued:
            try:
                await socket.send_queued()
            except BaseException:
                # Entering failed: the socket opened for it is closed, not left behind.
                with contextlib.suppress(Exception):
                    await socket.aclose()
                raise
        self._connection = self._make(socket)
        return self._connection

    async def __aenter__(self) -> C:
        return await self.enter()

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()


class AsyncDispatchingConnectionManager(AsyncConnectionManager[D], HandlerRegistry[Any]):
    """A connection manager that takes handlers (`on`, `off`, `once`) and client events
    (`send`) before connecting, as the official SDK's managers do: the handlers move
    to the connection when it opens, the events are sent first, in order.

    There is nothing to receive before entering (no `recv`), as in the official SDK.
    """

    def __init__(self, socket: AsyncEventSocket, make: Callable[[AsyncEventSocket], D]) -> None:
        super().__init__(socket, make)
        self._handlers: EventHandlers[Any] = EventHandlers()

    def send(self, event: Mapping[str, Any] | BaseModel) -> None:
        """Queues one client event (a dict with its `type`, or an event model, as the
        connection's `send` takes) to send when the connection opens; callable before
        entering (and after: it goes before the next send). It is encoded now, so a
        `TypeError` for what is no client event comes from this call.

        The queue holds at most `max_queue_size` bytes (a `connect()` argument):
        `WebSocketQueueFullError` for an event that would pass it, which is not
        queued; `WebSocketConnectionClosedError` once the connection was closed.
        """
        self._socket.queue_json(event)

    async def enter(self) -> D:
        connection = await super().enter()
        self._handlers.move_to(connection._handlers)
        return connection
