"""Handlers registered by server event type, for a connection's `on` / `off` / `once`.

The official SDK's WebSocket connections dispatch each server event to the
handlers registered for its `type`, then to those registered for `"event"`
(every event). A handler registered with `once` runs for one event and is then
dropped. Registering, removing and taking a snapshot are safe across threads;
the snapshot is taken before any handler runs, so a handler may register or
remove others without changing who sees the current event.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ALL_EVENTS", "EventHandlers", "call_handler"]

E = TypeVar("E")

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
