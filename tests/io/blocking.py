"""The blocking `Client` behind the async API, so one async test body drives all three runtimes.

Every call runs at once, in the calling thread, and blocks until it is done; the
coroutine returned only hands back the result. Names the async API spells
differently (`aclose`, `aread`, `aiter_bytes`) map to their blocking twins, and
the results that belong to the blocking driver (resources, streams, raw
responses) are wrapped the same way. Nothing else is translated.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

__all__ = ["Blocking", "run_now", "unwrap", "wrap"]

_RENAMES = {
    "aclose": "close",
    "aread": "read",
    "aiter_bytes": "iter_bytes",
    "aiter_raw": "iter_raw",
    "aiter_text": "iter_text",
    "aiter_lines": "iter_lines",
    "astream_to_file": "stream_to_file",
}
# Methods that are plain (not awaitable) on the async API too.
_PLAIN = frozenset(
    {
        "with_options",
        "copy",
        "parse_event",
        "stream",
        "unwrap",
        "verify_signature",
        "on",
        "off",
        "once",
        "for_result",
        "with_result_collection",
    }
)
# Objects all of whose methods are plain on the async API too (`with_streaming_response`
# methods return an `async with` block without being awaited; a raw response's body
# is read when the call returns, so its `parse()`, `read()` and `json()` are plain).
_PLAIN_TYPES = frozenset({"SyncResourceWithStreamingResponse", "RawResponse"})
# Methods that return an iterator on the blocking API and an async iterator on the async one.
_ITERATORS = frozenset(
    {
        "aiter_bytes",
        "aiter_raw",
        "aiter_text",
        "aiter_lines",
        "iter_bytes",
        "iter_text",
        "iter_lines",
    }
)


# The core's client-event builders (`conn.response`, `conn.session`, ...) serve both
# drivers: reached through a blocking connection, their calls block too.
_CORE_EVENT_BUILDERS = frozenset(
    {
        "oxide_proto.sessions._responses_socket",
        "oxide_proto.sessions._realtime_socket",
        "oxide_proto.sessions._live_socket",
    }
)


def wrap(value: Any) -> Any:
    """`value` seen through the async API when it is an object of the blocking driver."""
    module = type(value).__module__
    if module.startswith("oxide_io._sync") or module in _CORE_EVENT_BUILDERS:
        return Blocking(value)
    return value


def run_now(awaitable: Coroutine[Any, Any, Any]) -> Any:
    """The result of a wrapped call's coroutine, which never suspends (for use in a thread)."""
    try:
        awaitable.send(None)
    except StopIteration as done:
        return done.value
    awaitable.close()
    raise RuntimeError("a blocking call suspended")


def unwrap(value: Any) -> Any:
    """The object itself, whether or not it was wrapped."""
    return value._target if isinstance(value, Blocking) else value


class Blocking:
    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, _RENAMES.get(name, name))
        if not callable(value) or isinstance(value, type):
            return wrap(value)
        if name in _PLAIN or type(self._target).__name__ in _PLAIN_TYPES:
            return lambda *args, **kwargs: wrap(value(*args, **kwargs))
        if name in _ITERATORS:
            return lambda *args, **kwargs: Blocking(value(*args, **kwargs))

        async def call(*args: Any, **kwargs: Any) -> Any:
            return wrap(value(*args, **kwargs))

        return call

    def __aiter__(self) -> Blocking:
        return Blocking(iter(self._target))

    async def __anext__(self) -> Any:
        try:
            return next(self._target)
        except StopIteration:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Any:
        # A context manager may hand out another object (a connection manager does).
        entered = self._target.__enter__()
        return self if entered is self._target else wrap(entered)

    async def __aexit__(self, *exc: Any) -> Any:
        return self._target.__exit__(*exc)

    def __repr__(self) -> str:
        return repr(self._target)

    def __str__(self) -> str:
        return str(self._target)
