"""Lanes of responses over one Responses WebSocket: several conversations, one socket.

`AsyncResponsesWebSocketSession(connection, limits=...)` takes a connection of
`client.responses.connect()`; `session.lane("name")` is a lane, whose requests
carry `stream_id="name"` and which receives the events the server echoes with
it. The core's `LaneRouter` decides where each event goes and what a response
came to; this driver reads the socket.

There is no background reader: a lane that wants an event and finds none queued
reads the socket itself, one message at a time, and queues what belongs to
other lanes; the others wait meanwhile and take over the reading when it stops.
So lanes may be read from concurrently (tasks, or threads with the blocking
session), an idle session costs nothing, and a session used from one task
never switches tasks. Once the connection closes the session is over: a lane's
reader then gets `EOFError` (a normal close) or what ended it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from typing import Any

from oxide_proto import APITimeoutError, WebSocketConnectionClosedError
from oxide_proto.sessions._event_socket import parse_event_payload
from oxide_proto.sessions._responses_lanes import (
    Lane,
    LaneRouter,
    ResponsesWebSocketBufferError,
    ResponsesWebSocketLimits,
    lane_command,
)
from oxide_proto.sessions._responses_socket import ResponsesServerEvent
from oxide_proto.types.responses import Response

from ._responses_ws import AsyncResponsesConnection

__all__ = ["AsyncResponsesWebSocketLane", "AsyncResponsesWebSocketSession"]

# The connections a session owns: two sessions reading one socket would take
# each other's events.
_owned: weakref.WeakSet[object] = weakref.WeakSet()


class AsyncResponsesWebSocketLane:
    """One `stream_id` of a session: `send` its requests, `recv` its events.

    `close()` detaches the lane (its later events go to the default lane) and
    leaves the connection open. One reader per lane; different lanes may be read
    at the same time.
    """

    def __init__(
        self, session: AsyncResponsesWebSocketSession, state: Lane[ResponsesServerEvent]
    ) -> None:
        self._session = session
        self._state = state

    @property
    def stream_id(self) -> str | None:
        return self._state.stream_id

    async def send(self, event: Mapping[str, Any] | Any) -> None:
        """Sends a client event (a dict or event model); a `response.create` gets this
        lane's `stream_id`. A second `response.create` before the running one was
        read to its end is a `RuntimeError`."""
        await self._session._send(self._state, event)

    async def recv(self, *, timeout: float | None = None) -> ResponsesServerEvent:
        """This lane's next event; `TimeoutError` after `timeout` seconds (no event is lost)."""
        return await self._session._next(self._state, timeout)

    async def get_final_response(self, *, timeout: float | None = None) -> Response:
        """Reads this lane's response to its end and returns it, failed and incomplete
        ones included; raises `ResponsesWebSocketError` for an `error` event."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._session._lock:
                state = self._state
                if state.failure is not None:
                    raise state.failure
                if state.turn.error is not None:
                    raise state.turn.error
                if state.turn.final is not None:
                    return state.turn.final
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            await self.recv(timeout=remaining)

    def close(self) -> None:
        self._session._detach(self._state)


class AsyncResponsesWebSocketSession:
    """Routes one connection's events to lanes; enter it (`async with`) before use.

    Closing the session closes the connection. `limits` bound what it holds
    (`ResponsesWebSocketLimits`); past one, the session ends with
    `ResponsesWebSocketBufferError` and the connection closes, or, with
    `isolate_lane_overflow=True`, only the lane holding the most fails. While the
    session is open, read the connection only through its lanes.
    """

    def __init__(
        self,
        connection: AsyncResponsesConnection,
        *,
        limits: ResponsesWebSocketLimits,
        isolate_lane_overflow: bool = False,
    ) -> None:
        if not isinstance(limits, ResponsesWebSocketLimits):
            raise TypeError(f"limits must be ResponsesWebSocketLimits, not {type(limits).__name__}")
        self.connection = connection
        self._router: LaneRouter[ResponsesServerEvent] = LaneRouter(
            limits, isolate_lane_overflow=isolate_lane_overflow
        )
        backend = connection._socket._transport.backend
        self._lock = backend.state_lock()
        self._new_waiter = backend.event
        self._waiters: list[Any] = []
        self._reading = False
        self._entered = False
        self._closed = False
        self.default = AsyncResponsesWebSocketLane(self, self._router.default)

    def lane(self, stream_id: str | None = None) -> AsyncResponsesWebSocketLane:
        """A new lane (`stream_id` None: a new default lane, once the old one is closed)."""
        with self._lock:
            lane = AsyncResponsesWebSocketLane(self, self._router.register(stream_id))
        if stream_id is None:
            self.default = lane
        return lane

    async def __aenter__(self) -> AsyncResponsesWebSocketSession:
        if self._entered or self._closed:
            raise RuntimeError("a Responses WebSocket session can be entered once")
        if self.connection in _owned:
            raise RuntimeError("this connection already has a Responses WebSocket session")
        _owned.add(self.connection)
        self._entered = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Ends the session and closes its connection (again: nothing).

        A session never entered owns no connection: closing it leaves the connection open.
        """
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._router.finish()
        self._wake()
        if not self._entered:
            return
        try:
            await self.connection.close()
        finally:
            _owned.discard(self.connection)

    def _check(self, state: Lane[ResponsesServerEvent]) -> None:
        if not self._entered:
            raise RuntimeError("enter the Responses WebSocket session (with/async with) first")
        if self._closed:
            raise RuntimeError("the Responses WebSocket session is closed")

    async def _send(self, state: Lane[ResponsesServerEvent], event: Any) -> None:
        payload, creates = lane_command(event, state.stream_id)
        with self._lock:
            self._check(state)
            self._router.prepare(state, creates)
        await self.connection.send(payload)

    def _detach(self, state: Lane[ResponsesServerEvent]) -> None:
        with self._lock:
            self._router.detach(state)
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.set()

    async def _next(
        self, state: Lane[ResponsesServerEvent], timeout: float | None
    ) -> ResponsesServerEvent:
        self._check(state)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            waiter = None
            with self._lock:
                event = self._router.pop(state)
                if event is not None:
                    return event
                if self._reading:
                    waiter = self._new_waiter()
                    self._waiters.append(waiter)
                else:
                    self._reading = True
            remaining = None if deadline is None else deadline - time.monotonic()
            if waiter is not None:
                # Another lane's reader has the socket: it wakes us after each message.
                if (remaining is not None and remaining <= 0) or not await waiter.wait(remaining):
                    with self._lock:
                        if waiter in self._waiters:
                            self._waiters.remove(waiter)
                    raise TimeoutError(f"no event for lane {state.stream_id!r} within {timeout} s")
                continue
            try:
                await self._read_one(remaining, timeout)
            finally:
                with self._lock:
                    self._reading = False
                self._wake()

    async def _read_one(self, remaining: float | None, timeout: float | None) -> None:
        """Receives one message and queues it on its lane."""
        if remaining is not None and remaining <= 0:
            raise TimeoutError(f"no event within {timeout} s")
        try:
            data = await self.connection._socket.receive(remaining)
        except APITimeoutError as exc:
            raise TimeoutError(f"no event within {timeout} s") from exc
        except WebSocketConnectionClosedError as exc:
            with self._lock:
                self._router.finish(None if exc.code == 1000 else exc)
            return
        except Exception as exc:
            with self._lock:
                self._router.finish(exc)
            raise
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        try:
            payload = parse_event_payload(data)
            event = self.connection._decode(payload)
            with self._lock:
                self._router.dispatch(event, payload, size)
        except Exception as exc:
            with self._lock:
                self._router.finish(exc)
            if isinstance(exc, ResponsesWebSocketBufferError):
                # Over the session's budget: the socket's later events could not be held.
                await self.connection.close()
            raise
