"""One long-lived event loop per async runtime, each in its own thread.

The official conftest keeps one async client for the whole session on one
session-scoped loop; building a client per test would also cost the official SDK
about a third of a second each (its HTTP client makes an SSL context), minutes
over the suite. So each runtime (asyncio, trio) runs one loop in a thread for the
session, the tests' coroutines are submitted to it, and the clients made in it
live until the loop is stopped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["Loop", "start_loop"]

T = TypeVar("T")
_START_TIMEOUT = 30.0


class Loop:
    """A running event loop of one runtime; `run` executes a coroutine function in it."""

    def __init__(
        self,
        submit: Callable[[Callable[[], Awaitable[Any]]], Any],
        stop: Callable[[], None],
        thread: threading.Thread,
    ) -> None:
        self._submit = submit
        self._stop = stop
        self._thread = thread

    def run(self, function: Callable[[], Awaitable[T]]) -> T:
        result: T = self._submit(function)
        return result

    def close(self) -> None:
        self._stop()
        self._thread.join(_START_TIMEOUT)


def _asyncio_loop() -> Loop:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sdk-suite-asyncio", daemon=True)
    thread.start()

    def submit(function: Callable[[], Awaitable[Any]]) -> Any:
        async def call() -> Any:
            return await function()

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    def stop() -> None:
        loop.call_soon_threadsafe(loop.stop)

    return Loop(submit, stop, thread)


def _trio_loop() -> Loop:
    import trio

    ready: Future[tuple[Any, trio.CancelScope]] = Future()

    async def serve() -> None:
        with trio.CancelScope() as scope:
            ready.set_result((trio.lowlevel.current_trio_token(), scope))
            await trio.sleep_forever()

    thread = threading.Thread(target=trio.run, args=(serve,), name="sdk-suite-trio", daemon=True)
    thread.start()
    token, scope = ready.result(_START_TIMEOUT)

    def submit(function: Callable[[], Awaitable[Any]]) -> Any:
        return trio.from_thread.run(function, trio_token=token)

    def stop() -> None:
        trio.from_thread.run_sync(scope.cancel, trio_token=token)

    return Loop(submit, stop, thread)


def start_loop(runtime: str) -> Loop:
    """A new loop of `runtime` ("asyncio" or "trio"), running in a thread."""
    return _trio_loop() if runtime == "trio" else _asyncio_loop()
