"""Live transcripts grouped into display segments, with handlers and a timer.

`TranscriptGrouper` (blocking code) and `AsyncTranscriptGrouper` (asyncio, trio)
take a Live session's server events (`push(event)`) and call the handlers
registered for `"segment.updated"` (a `TranscriptSegment`: replace the shown
text) and `"segment.closed"` (a `TranscriptSegmentClosedEvent`). The grouping
itself is the core's `TranscriptTracker`; this module gives it a clock, runs the
handlers in order, and wakes it when time alone decides something (the
assistant fell silent, an interjection stayed isolated):

- the blocking grouper arms a daemon timer thread, cancelled by `close()`;
  handlers may then run on that thread;
- the async grouper runs its timer as a task while it is entered (`async with`);
  pushed without the block, what time decides is applied at the next `push`
  or `close()` instead.

Neither owns the connection: closing the grouper closes its segments
(`"manual"`), nothing else. A `session.closed` event closes them too
(`"session_closed"`); a pushed event after closing is an `OpenAIError`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from oxide_proto.helpers._transcripts import (
    TranscriptSegment,
    TranscriptSettings,
    TranscriptTracker,
    TranscriptUpdate,
)

from ._event_handlers import EventHandlers, HandlerRegistry, call_handler

__all__ = ["AsyncTranscriptGrouper", "TranscriptGrouper"]

_KINDS = frozenset({"segment.updated", "segment.closed"})


def _now() -> float:
    return time.monotonic() * 1000


def _kind(update: TranscriptUpdate) -> str:
    return "segment.updated" if isinstance(update, TranscriptSegment) else "segment.closed"


class _Grouper(HandlerRegistry[Any]):
    def __init__(
        self,
        *,
        min_turn_separation_ms: float | None = None,
        assistant_silence_ms: float | None = None,
        backchannel_max_duration_ms: float | None = None,
        backchannel_isolation_ms: float | None = None,
        additional_acknowledgments: Sequence[str] | None = None,
    ) -> None:
        settings = TranscriptSettings.of(
            min_turn_separation_ms,
            assistant_silence_ms,
            backchannel_max_duration_ms,
            backchannel_isolation_ms,
            additional_acknowledgments,
        )
        self._tracker = TranscriptTracker(settings)
        self._handlers: EventHandlers[Any] = EventHandlers()
        self._updates: deque[TranscriptUpdate] = deque()
        self._dispatching = False

    def _register(
        self, event_type: str, handler: Callable[[Any], object] | None, *, once: bool
    ) -> Any:
        if event_type not in _KINDS:
            raise ValueError(
                f"a transcript grouper's events are 'segment.updated' and 'segment.closed',"
                f" not {event_type!r}"
            )
        return super()._register(event_type, handler, once=once)


class TranscriptGrouper(_Grouper):
    """Groups Live transcript events into segments for blocking code (see the module).

    Handlers run one update at a time, in order, outside the grouper's lock, on
    the thread that pushed (or the timer's); a handler's exception goes to that
    `push`/`close` caller (from the timer thread, to `threading.excepthook`).
    Thresholds are in milliseconds; `backchannel_max_duration_ms=0` shows every
    interjection.
    """

    def __init__(
        self,
        *,
        min_turn_separation_ms: float | None = None,
        assistant_silence_ms: float | None = None,
        backchannel_max_duration_ms: float | None = None,
        backchannel_isolation_ms: float | None = None,
        additional_acknowledgments: Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            min_turn_separation_ms=min_turn_separation_ms,
            assistant_silence_ms=assistant_silence_ms,
            backchannel_max_duration_ms=backchannel_max_duration_ms,
            backchannel_isolation_ms=backchannel_isolation_ms,
            additional_acknowledgments=additional_acknowledgments,
        )
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._armed = 0  # which arming of the timer is current

    def push(self, event: object) -> None:
        """Takes one Live server event; others than transcript deltas and
        `session.closed` (and repeated deltas) are ignored."""
        with self._lock:
            updates = self._tracker.push(event, _now())
            if updates is None:
                return
            self._updates.extend(updates)
            self._arm()
        self._dispatch()

    def close(self) -> None:
        """Closes the open segments (once) and stops the timer."""
        with self._lock:
            self._updates.extend(self._tracker.finish("manual", _now()))
            self._disarm()
        self._dispatch()

    def __enter__(self) -> TranscriptGrouper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _disarm(self) -> None:
        self._armed += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        self._disarm()
        delay = self._tracker.delay(_now())
        if delay is not None:
            self._timer = threading.Timer(delay / 1000, self._fired, args=(self._armed,))
            self._timer.daemon = True
            self._timer.start()

    def _fired(self, armed: int) -> None:
        with self._lock:
            if armed != self._armed or self._tracker.closed:
                return
            self._timer = None
            self._updates.extend(self._tracker.tick(_now()))
            self._arm()
        self._dispatch()

    def _dispatch(self) -> None:
        # One thread runs the handlers at a time; updates added meanwhile (by a
        # handler's own push, or another thread's) are run by that thread, in order.
        with self._lock:
            if self._dispatching:
                return
            self._dispatching = True
        try:
            while True:
                with self._lock:
                    if not self._updates:
                        # Cleared with the check, so no update is left behind.
                        self._dispatching = False
                        return
                    update = self._updates.popleft()
                for handler in self._handlers.take(_kind(update)):
                    handler(update)
        except BaseException:
            with self._lock:
                self._dispatching = False
            raise


class AsyncTranscriptGrouper(_Grouper):
    """Groups Live transcript events into segments in async code (see the module).

    Handlers may be plain functions or coroutine functions; they run one update at
    a time, in order. A `push` made while handlers run (by a handler, or another
    task) leaves its updates to that run. A handler's exception goes to the
    `push`/`close` caller; from the timer task, out of the `async with` block.
    """

    def __init__(
        self,
        *,
        min_turn_separation_ms: float | None = None,
        assistant_silence_ms: float | None = None,
        backchannel_max_duration_ms: float | None = None,
        backchannel_isolation_ms: float | None = None,
        additional_acknowledgments: Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            min_turn_separation_ms=min_turn_separation_ms,
            assistant_silence_ms=assistant_silence_ms,
            backchannel_max_duration_ms=backchannel_max_duration_ms,
            backchannel_isolation_ms=backchannel_isolation_ms,
            additional_acknowledgments=additional_acknowledgments,
        )
        self._group: Any = None
        self._wake: Any = None

    async def push(self, event: object) -> None:
        """Takes one Live server event and runs the handlers of what it changed."""
        now = _now()
        updates = [] if self._group is not None else self._overdue(now)
        pushed = self._tracker.push(event, now)
        if pushed is None and not updates:
            return
        self._updates.extend(updates + (pushed or []))
        self._rearm()
        await self._dispatch()

    async def close(self) -> None:
        """Closes the open segments (once)."""
        self._updates.extend(self._tracker.finish("manual", _now()))
        self._rearm()
        await self._dispatch()

    async def __aenter__(self) -> AsyncTranscriptGrouper:
        import anyio

        if self._group is not None:
            raise RuntimeError("this transcript grouper is already entered")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        group.start_soon(self._timer)
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        import anyio

        group, self._group = self._group, None
        try:
            # The segments close whatever ended the block, a cancellation too.
            with anyio.CancelScope(shield=True):
                await self.close()
        finally:
            group.cancel_scope.cancel()
            handled: bool | None = await group.__aexit__(*exc)
        return handled

    def _overdue(self, now: float) -> list[TranscriptUpdate]:
        # Without the timer task, what time decided is applied when next called.
        delay = self._tracker.delay(now)
        return self._tracker.tick(now) if delay == 0 else []

    def _rearm(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _timer(self) -> None:
        import anyio

        while not self._tracker.closed:
            self._wake = anyio.Event()
            delay = self._tracker.delay(_now())
            if delay is None:
                await self._wake.wait()
                continue
            with anyio.move_on_after(delay / 1000):
                await self._wake.wait()
                continue
            self._updates.extend(self._tracker.tick(_now()))
            await self._dispatch()

    async def _dispatch(self) -> None:
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._updates:
                update = self._updates.popleft()
                for handler in self._handlers.take(_kind(update)):
                    await call_handler(handler, update)
        finally:
            self._dispatching = False
