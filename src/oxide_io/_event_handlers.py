"""Handlers registered by server event type, for a connection's `on` / `off` / `once`.

The official SDK's WebSocket connections dispatch each server event to the
handlers registered for its `type`, then to those registered for `"event"`
(every event). A handler registered with `once` runs for one event and is then
dropped. Registering, removing and taking a snapshot are safe across threads;
the snapshot is taken before any handler runs, so a handler may register or
remove others without changing who sees the current event.

`HandlerRegistry` gives a connection (or its manager, before connecting) the
SDK's `on` / `once` / `off`, for the async and the blocking connections alike.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, overload

from oxide_proto.sessions._event_socket import unhandled_error

__all__ = ["ALL_EVENTS", "EventHandlers", "HandlerRegistry", "call_handler"]

E = TypeVar("E")
_H = TypeVar("_H", bound=Callable[..., object])
_R = TypeVar("_R", bound="HandlerRegistry[Any]")

# The event type whose handlers see every event, as in the official SDK.
ALL_EVENTS = "event"


class EventHandlers(Generic[E]):
    """The handlers of one connection (or of a connection manager, until it connects)."""

    __slots__ = ("_handlers", "_lock")

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[Callable[[E], object], bool]]] = {}
        self._lock = threading.Lock()

    def add(self, event_type: str, handler: Callable[[E], object], *, once: bool = False) -> None:
        """Appends `handler`; adding it twice makes it run twice."""
        with self._lock:
            self._handlers.setdefault(event_type, []).append((handler, once))

    def remove(self, event_type: str, handler: Callable[[E], object]) -> None:
        """Removes the first registration of `handler` for `event_type`, if any."""
        with self._lock:
            registered = self._handlers.get(event_type, [])
            for index, (candidate, _) in enumerate(registered):
                if candidate == handler:
                    del registered[index]
                    return

    def take(self, event_type: str) -> list[Callable[[E], object]]:
        """The handlers for one event of `event_type`; `once` handlers are dropped now."""
        with self._lock:
            registered = self._handlers.get(event_type)
            if not registered:
                return []
            if any(once for _, once in registered):
                self._handlers[event_type] = [entry for entry in registered if not entry[1]]
            return [handler for handler, _ in registered]

    def for_event(self, payload: Mapping[str, Any]) -> list[Callable[[E], object]]:
        """The handlers for one event: its type's, then every event's (`once` ones dropped now).

        Raises `APIEventError` for an `error` event that neither has (the core's
        `unhandled_error`): an error nobody handles ends the dispatch.
        """
        kind = payload.get("type")
        handlers = self.take(kind) if isinstance(kind, str) else []
        handlers += self.take(ALL_EVENTS)
        error = unhandled_error(payload, handled=bool(handlers))
        if error is not None:
            raise error
        return handlers

    def move_to(self, target: EventHandlers[E]) -> None:
        """Moves every registration to `target` (after its own), leaving this one empty."""
        with self._lock:
            moved, self._handlers = self._handlers, {}
        for event_type, registered in moved.items():
            for handler, once in registered:
                target.add(event_type, handler, once=once)


async def call_handler(handler: Callable[[E], object], event: E) -> None:
    """Runs one handler of an async connection: a coroutine it returns is awaited."""
    result = handler(event)
    if inspect.isawaitable(result):
        await result


class HandlerRegistry(Generic[E]):
    """`on`, `once` and `off` over `self._handlers`."""

    _handlers: EventHandlers[E]

    @overload
    def on(self: _R, event_type: str, handler: Callable[[E], object]) -> _R: ...
    @overload
    def on(self, event_type: str, handler: None = None) -> Callable[[_H], _H]: ...
    def on(self, event_type: str, handler: Callable[[E], object] | None = None) -> Any:
        """Adds `handler` for `event_type` (`"event"`: every event); returns the connection.

        Without `handler`, a decorator that adds the function it decorates.
        Adding a handler twice makes it run twice per event.
        """
        return self._register(event_type, handler, once=False)

    @overload
    def once(self: _R, event_type: str, handler: Callable[[E], object]) -> _R: ...
    @overload
    def once(self, event_type: str, handler: None = None) -> Callable[[_H], _H]: ...
    def once(self, event_type: str, handler: Callable[[E], object] | None = None) -> Any:
        """As `on`, for the next event of `event_type` only."""
        return self._register(event_type, handler, once=True)

    def off(self: _R, event_type: str, handler: Callable[[E], object]) -> _R:
        """Removes one registration of `handler` for `event_type`; returns the connection."""
        self._handlers.remove(event_type, handler)
        return self

    def _register(
        self, event_type: str, handler: Callable[[E], object] | None, *, once: bool
    ) -> Any:
        if handler is not None:
            self._handlers.add(event_type, handler, once=once)
            return self

        def decorator(function: _H) -> _H:
            self._handlers.add(event_type, function, once=once)
            return function

        return decorator
