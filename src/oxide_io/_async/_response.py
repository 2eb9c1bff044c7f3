"""A response whose head has arrived and whose body is read on demand.

The body is pulled from the connection event by event, so a slow reader applies
backpressure and a large body is never held whole unless `aread()` asks for it.
When the body ends the connection goes back to the pool; closing early cancels
the stream (HTTP/2) or discards the connection (HTTP/1.1).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from oxide_proto import BodyData, BodyEnd, Headers, Request, ResponseHead, ResponseInfo

from ._connection import AsyncConnection

if TYPE_CHECKING:
    import datetime

__all__ = ["AsyncResponse"]


class AsyncResponse:
    """Status, headers and a body stream. Always close it (or read it to the end)."""

    def __init__(
        self,
        request: Request,
        head: ResponseHead,
        connection: AsyncConnection,
        stream_id: int,
        *,
        read_timeout: float | None,
        deadline: float | None,
        on_close: Callable[[AsyncConnection], Awaitable[None]],
        started: float | None = None,
    ) -> None:
        self.request = request
        self.status_code = head.status_code
        self.headers: Headers = head.headers
        self.http_version = head.http_version
        self.info = ResponseInfo(
            status_code=head.status_code,
            headers=head.headers,
            http_version=head.http_version,
            request=request,
        )
        self._connection: AsyncConnection | None = connection
        self._stream_id = stream_id
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._on_close = on_close
        self.trailers: Headers | None = None
        # Retries of the request before this response (set by the client's send loop).
        self.retries_taken = 0
        # When the request was sent and when the body ended or was abandoned (monotonic).
        self._started = time.monotonic() if started is None else started
        self._ended: float | None = None

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")

    @property
    def is_closed(self) -> bool:
        return self._connection is None

    @property
    def elapsed(self) -> datetime.timedelta:
        """From sending the request to the end of the body (to now while it is being read)."""
        import datetime  # loaded when asked for, not with every response module

        end = time.monotonic() if self._ended is None else self._ended
        return datetime.timedelta(seconds=end - self._started)

    def _timeout(self) -> float | None:
        if self._deadline is None:
            return self._read_timeout
        left = max(self._deadline - time.monotonic(), 0.0)
        return left if self._read_timeout is None else min(left, self._read_timeout)

    async def receive(self) -> bytes:
        """The next piece of the (content-decoded) body; b"" once it has ended."""
        connection = self._connection
        if connection is None:
            return b""
        try:
            while True:
                event = await connection.next_event(self._stream_id, self._timeout())
                if isinstance(event, BodyData):
                    if event.data:
                        return event.data
                elif isinstance(event, BodyEnd):
                    self.trailers = event.trailers
                    await self._finish(connection)
                    return b""
        except BaseException:
            await self._abandon(connection)
            raise

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk as it arrives."""
        while chunk := await self.receive():
            yield chunk

    async def aread(self) -> bytes:
        """The whole body."""
        # `receive()` in a loop, without its call per piece: most bodies come as one
        # piece and its end.
        connection = self._connection
        if connection is None:
            return b""
        parts: list[bytes] = []
        try:
            while True:
                event = await connection.next_event(self._stream_id, self._timeout())
                if isinstance(event, BodyData):
                    if event.data:
                        parts.append(event.data)
                elif isinstance(event, BodyEnd):
                    self.trailers = event.trailers
                    await self._finish(connection)
                    return parts[0] if len(parts) == 1 else b"".join(parts)
        except BaseException:
            await self._abandon(connection)
            raise

    async def aclose(self) -> None:
        """Stops reading; the rest of the body is discarded with its stream."""
        connection = self._connection
        if connection is not None:
            await self._abandon(connection)

    async def _finish(self, connection: AsyncConnection) -> None:
        self._connection = None
        self._ended = time.monotonic()
        connection.release(self._stream_id)
        await self._on_close(connection)

    async def _abandon(self, connection: AsyncConnection) -> None:
        if self._connection is None:
            return
        self._connection = None
        self._ended = time.monotonic()
        try:
            await connection.cancel(self._stream_id)
            connection.release(self._stream_id)
        finally:
            await self._on_close(connection)

    def __del__(self) -> None:
        # A response dropped without being read to the end or closed still gives its
        # stream back (see `AsyncConnection.dropped`). `_connection` is None once the
        # body ended or the response was closed, and absent if `__init__` failed.
        connection = getattr(self, "_connection", None)
        if connection is not None:
            connection.dropped(self._stream_id)

    def __repr__(self) -> str:
        return f"<AsyncResponse [{self.status_code}] {self.http_version}>"
