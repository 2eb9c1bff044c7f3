"""The one interface the I/O adapters drive, whatever the HTTP version.

An adapter creates an `HTTP11Connection` or an `HTTP2Connection` (after ALPN says
which), writes `data_to_send()` to the socket, feeds what the socket reads to
`receive_data()`, and pulls `next_event(stream_id)` until `BodyEnd`. It never parses
and never decides protocol questions: the connection object does both, and the pool
reads its state properties to decide whether to reuse it.
"""

from __future__ import annotations

from typing import Protocol

from ..base._types import Request
from ._events import BodyData, BodyEnd, NeedData, ResponseHead

__all__ = ["HTTPConnection"]


class HTTPConnection(Protocol):
    """A client HTTP connection: requests in, bytes out; bytes in, response events out.

    Every method that can produce bytes (all but `next_event` reads and the properties)
    may leave something in `data_to_send()`: after each call, write what it returns.
    """

    http_version: str
    """`"HTTP/1.1"` or `"HTTP/2"`."""

    capacity_changed: bool
    """Set by `receive_data()` when `is_reusable` or `max_streams` may have changed
    (HTTP/2: the peer's SETTINGS, a refused stream, GOAWAY, an error or EOF). The
    adapter clears it after telling the pool (`ConnectionPool.update`); HTTP/1.1
    never sets it."""

    @property
    def awaiting_settings(self) -> bool:
        """HTTP/2: True until the peer's SETTINGS arrived (its stream limit is not
        known yet: report `max_streams=None` to the pool). Always False on HTTP/1.1."""
        ...

    def start_request(self, request: Request) -> int:
        """Begins `request` and returns its stream id, unique while the stream is open.

        Encodes the head (Host or `:authority`, `:scheme`, `:path` from `request.url`;
        `request.headers` as given, lower-cased and without hop-by-hop fields on
        HTTP/2). When `request.body` is bytes or None the body and the end of the
        request are queued too; when it is an iterable, call `send_body()` for each
        chunk and then `end_request()`. Write `data_to_send()` afterwards.
        Raises `RemoteProtocolError(retry_safe=True)` when the connection can no
        longer take requests (closed by the peer, GOAWAY): retry on another one.
        """
        ...

    def send_body(self, stream_id: int, data: bytes) -> int:
        """Queues up to `len(data)` bytes of request body; returns how many were taken.

        HTTP/2 takes what the flow-control window allows: 0 means read from the
        socket, feed `receive_data()`, and offer the rest again. HTTP/1.1 takes all
        (chunked when the request has no `content_length`). Once the response is
        complete or the peer has reset the stream, the rest of the body is not
        wanted: it is accepted and dropped (see `expects_body`).
        """
        ...

    def end_request(self, stream_id: int) -> None:
        """Marks the end of a streamed request body; write `data_to_send()` next."""
        ...

    def expects_body(self, stream_id: int) -> bool:
        """False once the peer answered completely or refused the rest of the body."""
        ...

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feeds bytes read from the socket; `b""` means the peer closed (EOF).

        `now` (the caller's clock) lets HTTP/2 keepalive count this as activity;
        without it, activity is noted at the next `handle_timer()`.

        Never raises for what the peer sent: errors surface from `next_event()`.
        Write `data_to_send()` afterwards (acks, WINDOW_UPDATEs, RST_STREAMs).
        """
        ...

    def next_event(self, stream_id: int) -> ResponseHead | BodyData | BodyEnd | NeedData:
        """The next event of that stream, or `NEED_DATA` (read more, feed it, ask again).

        1xx responses are skipped. `BodyData` is content-decoded unless the
        connection was built with `decode_content=False`. Raises
        `RemoteProtocolError` for protocol violations, a reset stream, or EOF
        before the body ended; `retry_safe=True` when the peer guarantees it did not
        process the request (HTTP/2 GOAWAY below this stream, REFUSED_STREAM).
        On HTTP/2, pulling body data hands flow-control credit back to the peer, so
        write `data_to_send()` after pulling.
        """
        ...

    def take_news(self) -> list[int] | None:
        """The streams that received something (an event or an error) since the last
        call, or None when that may be any of them (the connection failed, ended, or
        is going away; always on HTTP/1.1). An id may repeat.

        A driver whose tasks wait for different streams of one connection, while one
        of them reads for all, wakes just these after each read.
        """
        ...

    def data_to_send(self) -> bytes:
        """The bytes to write now (requests, SETTINGS/PING acks, WINDOW_UPDATEs, resets)."""
        ...

    def cancel(self, stream_id: int) -> None:
        """Abandons a stream (the user cancelled, or stopped reading a stream).

        HTTP/2 sends RST_STREAM(CANCEL) and the connection stays usable; on HTTP/1.1
        the connection can no longer be reused and should be closed. Then write
        `data_to_send()` and call `release()`.
        """
        ...

    def release(self, stream_id: int) -> None:
        """The caller is done with the stream; a stream not yet finished is cancelled.

        HTTP/1.1 starts the next keep-alive cycle when both sides completed
        cleanly; HTTP/2 forgets the stream.
        """
        ...

    @property
    def is_reusable(self) -> bool:
        """No protocol error, not closed, no GOAWAY, keep-alive allowed."""
        ...

    @property
    def open_streams(self) -> int:
        """Streams started and not yet released."""
        ...

    @property
    def max_streams(self) -> int:
        """1 on HTTP/1.1; on HTTP/2 the peer's concurrency limit capped by ours."""
        ...

    @property
    def is_closed(self) -> bool:
        """Nothing more can happen on this connection: the adapter closes the socket."""
        ...

    def next_timer(self) -> float | None:
        """When to call `handle_timer()` next, on the caller's clock; None: never."""
        ...

    def handle_timer(self, now: float) -> None:
        """Sends a keepalive PING when the connection has been quiet, or marks it
        broken when a PING went unanswered too long. Write `data_to_send()` after."""
        ...

    def timed_out(self, now: float) -> None:
        """The adapter gave up waiting for input on the connection (a read timeout)."""
        ...

    @property
    def needs_alive_check(self) -> bool:
        """True when the connection must prove it is alive (`check_alive`) before it
        carries another request: HTTP/2 after a read timed out on it."""
        ...

    def check_alive(self, now: float, timeout: float | None) -> float | None:
        """None to go ahead; else a PING is queued and the result is when its ACK is
        due: read and feed until `proving` is False, running `handle_timer` at
        `next_timer()` (no ACK in time breaks the connection: `is_reusable` says)."""
        ...

    @property
    def proving(self) -> bool:
        """True while the PING of `check_alive` waits for its ACK."""
        ...
