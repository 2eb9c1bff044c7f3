"""Assistants run streams with an event handler: `client.beta.threads.runs.stream(...)`.

`AsyncAssistantEventHandler` is subclassed to react to a streamed run: each
`on_*` method is called as its event arrives (`on_text_delta` with the text
so far, `on_tool_call_done` with the whole tool call, `on_message_done`, ...;
`oxide_proto.helpers._assistant_accumulator` builds the snapshots). The stream helpers
return an `AsyncAssistantStreamManager`: entering it starts the run and gives
back the handler, which is also an async iterator over the raw events;
`until_done()` reads to the end, then `get_final_run()`, `get_final_messages()`
and `get_final_run_steps()` give the results. Leaving the manager closes the
stream (and its connection) even when the body was not read to its end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from oxide_proto.helpers._assistant_accumulator import AssistantAccumulator

__all__ = ["AsyncAssistantEventHandler", "AsyncAssistantStreamManager"]

_H = TypeVar("_H", bound="AsyncAssistantEventHandler")


class AsyncAssistantEventHandler:
    """Override the `on_*` methods you need; each does nothing by default.

    One handler serves one stream: create a new one for each run.
    """

    def __init__(self) -> None:
        self._stream: Any = None
        self._events: AsyncIterator[Any] | None = None
        self._state = AssistantAccumulator()
        self._current_event: Any = None
        self._text_deltas: list[str] = []
        self._ended = False

    def _attach(self, stream: Any) -> None:
        if self._stream is not None:
            raise RuntimeError("this event handler already handles a stream: make a new one")
        self._stream = stream
        self._events = self._read()

    # -- reading ----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Any]:
        if self._events is None:
            raise RuntimeError("the handler has no stream yet: enter the stream manager first")
        return self._events

    async def _read(self) -> AsyncIterator[Any]:
        try:
            async for event in self._stream:
                self._current_event = event
                await self.on_event(event)
                for name, args in self._state.handle(event):
                    await self._dispatch(name, args)
                yield event
        except Exception as exc:
            await self.on_exception(exc)
            raise
        finally:
            if not self._ended:
                self._ended = True
                await self.on_end()

    async def _dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "run":
            return
        if name == "text_delta":
            value = getattr(args[0], "value", None)
            if value:
                self._text_deltas.append(value)
        callback: Callable[..., Awaitable[None]] = getattr(self, f"on_{name}")
        await callback(*args)

    async def until_done(self) -> None:
        """Reads the stream to its end, calling the handler's methods on the way."""
        async for _ in self:
            pass

    async def close(self) -> None:
        """Stops reading; the stream releases its connection."""
        if self._stream is not None:
            await self._stream.aclose()

    # -- what the stream built --------------------------------------------------------

    @property
    def current_event(self) -> Any:
        return self._current_event

    @property
    def current_run(self) -> Any:
        return self._state.run

    @property
    def current_message_snapshot(self) -> Any:
        found = self._state.current_message
        return None if found is None else self._state.message_snapshot(found)

    @property
    def current_run_step_snapshot(self) -> Any:
        found = self._state.current_step
        return None if found is None else self._state.step_snapshot(found)

    @property
    def text_deltas(self) -> AsyncIterator[str]:
        """The text of every text delta, as it arrives (reads the stream)."""
        return self._iter_text()

    async def _iter_text(self) -> AsyncIterator[str]:
        async for _ in self:
            while self._text_deltas:
                yield self._text_deltas.pop(0)

    async def get_final_run(self) -> Any:
        """The run as the last run event left it, after reading to the end."""
        await self.until_done()
        if self._state.run is None:
            raise RuntimeError("the stream ended without a run event")
        return self._state.run

    async def get_final_messages(self) -> list[Any]:
        """Every message the run finished, in order, after reading to the end."""
        await self.until_done()
        return list(self._state.finished_messages)

    async def get_final_run_steps(self) -> list[Any]:
        """Every run step the run finished, in order, after reading to the end."""
        await self.until_done()
        return list(self._state.finished_steps)

    # -- the callbacks ----------------------------------------------------------------

    async def on_event(self, event: Any) -> None:
        """Every event, before the more specific callbacks."""

    async def on_end(self) -> None:
        """The stream ended (read to its end, closed or failed)."""

    async def on_exception(self, exception: Exception) -> None:
        """Reading the stream raised `exception` (it is raised again afterwards)."""

    async def on_timeout(self) -> None:
        """Not called: a timeout raises `APITimeoutError`, reported to `on_exception`."""

    async def on_run_step_created(self, run_step: Any) -> None:
        pass

    async def on_run_step_delta(self, delta: Any, snapshot: Any) -> None:
        pass

    async def on_run_step_done(self, run_step: Any) -> None:
        pass

    async def on_tool_call_created(self, tool_call: Any) -> None:
        pass

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        pass

    async def on_tool_call_done(self, tool_call: Any) -> None:
        pass

    async def on_message_created(self, message: Any) -> None:
        pass

    async def on_message_delta(self, delta: Any, snapshot: Any) -> None:
        pass

    async def on_message_done(self, message: Any) -> None:
        pass

    async def on_text_created(self, text: Any) -> None:
        pass

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        pass

    async def on_text_done(self, text: Any) -> None:
        pass

    async def on_image_file_done(self, image_file: Any) -> None:
        pass


class AsyncAssistantStreamManager(Generic[_H]):
    """`async with` it: starts the run, gives the handler, closes the stream on exit."""

    def __init__(self, start: Callable[[], Awaitable[Any]], handler: _H) -> None:
        self._start = start
        self._handler = handler

    async def __aenter__(self) -> _H:
        self._handler._attach(await self._start())
        return self._handler

    async def __aexit__(self, *exc: object) -> None:
        await self._handler.close()
