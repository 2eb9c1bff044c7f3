"""Push-style reading of a WebSocket connection: `on`, `off`, `once`, `dispatch_events`.

The official SDK's Responses and Realtime connections (and their managers,
before connecting) take handlers by server event type: `conn.on(type, handler)`
or `@conn.on(type)`, `"event"` for every event, `once` for one event, `off` to
remove. `dispatch_events()` then reads until the connection closes, calling the
handlers of each event's type and then the `"event"` ones; an async connection
awaits what a handler returns when it is awaitable, so plain and async handlers
mix. An `error` event with neither an `error` nor an `"event"` handler raises
`APIEventError` (an `OpenAIError`, as in the SDK), ending the dispatch; with one
of them registered, errors are the handlers' to deal with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar, overload

from oxide_proto import WebSocketConnectionClosedError

from .._event_handlers import ALL_EVENTS, EventHandlers, call_handler
from ._event_socket import (
    AsyncConnectionManager,
    AsyncEventSocket,
    event_error,
    parse_event_payload,
)

__all__ = ["AsyncDispatchingConnectionManager", "AsyncEventDispatcher"]

E = TypeVar("E")
_H = TypeVar("_H", bound=Callable[..., object])
_D = TypeVar("_D", bound="AsyncEventDispatcher[Any]")
_M = TypeVar("_M", bound="AsyncDispatchingConnectionManager[Any]")


class AsyncEventDispatcher(Generic[E]):
    """Handlers by event type for a connection whose server events are `E`."""

    _socket: AsyncEventSocket
    _handlers: EventHandlers[E]

    def _decode(self, payload: dict[str, Any]) -> E:
        raise NotImplementedError

    @overload
    def on(self: _D, event_type: str, handler: Callable[[E], object]) -> _D: ...
    @overload
    def on(self, event_type: str, handler: None = None) -> Callable[[_H], _H]: ...
    def on(self, event_type: str, handler: Callable[[E], object] | None = None) -> Any:
        """Adds `handler` for `event_type` (`"event"`: every event); returns the connection.

        Without `handler`, a decorator that adds the function it decorates.
        Adding a handler twice makes it run twice per event.
        """
        return _register(self, self._handlers, event_type, handler, once=False)

    @overload
    def once(self: _D, event_type: str, handler: Callable[[E], object]) -> _D: ...
    @overload
    def once(self, event_type: str, handler: None = None) -> Callable[[_H], _H]: ...
    def once(self, event_type: str, handler: Callable[[E], object] | None = None) -> Any:
        """As `on`, for the next event of `event_type` only."""
        return _register(self, self._handlers, event_type, handler, once=True)

    def off(self: _D, event_type: str, handler: Callable[[E], object]) -> _D:
        """Removes one registration of `handler` for `event_type`; returns the connection."""
        self._handlers.remove(event_type, handler)
        return self

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
            if kind == "error" and not specific and not every:
                raise event_error(payload)
            for handler in (*specific, *every):
                # unasync: handler(event)
                await call_handler(handler, event)


class _Dispatching(Protocol):
    _handlers: EventHandlers[Any]

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


C = TypeVar("C", bound=_Dispatching)


class AsyncDispatchingConnectionManager(AsyncConnectionManager[C]):
    """A connection manager that also takes handlers before connecting (`on`, `off`, `once`).

    They move to the connection when it opens, as the official SDK's managers do.
    """

    def __init__(self, socket: AsyncEventSocket, make: Callable[[AsyncEventSocket], C]) -> None:
        super().__init__(socket, make)
        self._handlers: EventHandlers[Any] = EventHandlers()

    @overload
    def on(self: _M, event_type: str, handler: Callable[[Any], object]) -> _M: ...
    @overload
    def on(self, event_type: str, handler: None = None) -> Callable[[_H], _H]: ...
    def on(self, event_type: str, handler: Callable[[Any], object] | None = None) -> Any:
        """As the connection's `on`, registered now and moved to it when it opens."""
        return _register(self, self._handlers, event_type, handler, once=False)

    @overload
    def once(self: _M, event_type: str, handler: Callable[[Any], object]) -> _M: ...
    @overload
    def once(self, event_type: str, handler: None = None) -> Callable[[_H], _H]: ...
    def once(self, event_type: str, handler: Callable[[Any], object] | None = None) -> Any:
        return _register(self, self._handlers, event_type, handler, once=True)

    def off(self: _M, event_type: str, handler: Callable[[Any], object]) -> _M:
        self._handlers.remove(event_type, handler)
        return self

    async def enter(self) -> C:
        connection = await super().enter()
        self._handlers.move_to(connection._handlers)
        return connection


def _register(
    owner: Any,
    handlers: EventHandlers[Any],
    event_type: str,
    handler: Callable[[Any], object] | None,
    *,
    once: bool,
) -> Any:
    if handler is not None:
        handlers.add(event_type, handler, once=once)
        return owner

    def decorator(function: _H) -> _H:
        handlers.add(event_type, function, once=once)
        return function

    return decorator
