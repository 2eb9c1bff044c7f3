"""HTTP/2 exchanges, many streams over one connection, on h2.

h2 does framing, HPACK and the stream state machines (RFC 9113); this module adapts it
to the `HTTPConnection` interface: events buffered per stream, flow-control credit
returned only when the application pulls body data, bodies that wait for window,
GOAWAY that lets streams at or below its last stream id finish, and keepalive PINGs
driven by the caller's clock. Every h2 exception becomes ours where it crosses in.

How many streams the peer takes is its SETTINGS_MAX_CONCURRENT_STREAMS, known once
its SETTINGS arrive: until then `max_streams` is 1 (the stream that opened the
connection) and `awaiting_settings` is True. A peer that refuses a stream
(REFUSED_STREAM) takes no more streams than it was processing then, whatever it
advertised, until it sends new SETTINGS. `capacity_changed` flags each change the
connection pool needs to hear about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from hpack.exceptions import OversizedHeaderListError
from hyperframe.frame import FRAMES, ExtensionFrame, Frame

from ..base._errors import LimitExceededError, LocalProtocolError, RemoteProtocolError
from ..base._headers import Headers
from ..base._types import Request
from ._content import DEFAULT_MAX_DECODED_SIZE, ContentDecoder
from ._events import NEED_DATA, BodyData, BodyEnd, NeedData, ResponseHead
from ._http2_flow import send_within_window
from ._http2_frames import FrameSplitter, FrameTooLarge, GoAway
from ._http2_hpack import CachingEncoder, LeanDecoder
from ._http2_keepalive import Keepalive
from ._http2_stream import (
    NO_TRAILERS,
    FieldCache,
    H2Stream,
    check_received_fields,
    request_headers,
)

__all__ = [
    "HTTP2Connection",
    "DEFAULT_INITIAL_WINDOW_SIZE",
    "DEFAULT_CONNECTION_WINDOW_SIZE",
]

DEFAULT_INITIAL_WINDOW_SIZE = 1024 * 1024
DEFAULT_CONNECTION_WINDOW_SIZE = 16 * 1024 * 1024
_DEFAULT_WINDOW: Final = 65535  # RFC 9113 §6.9.2
_LAST_STREAM_ID: Final = 2**31 - 1
_PSEUDO_FIELDS: Final = 4  # :method, :authority, :scheme, :path lead `request_headers`
_MAX_NEWS: Final = 4096  # stream ids `take_news` keeps before it says "any"
_MEMORY_REPR: Final = re.compile(r"<memory at 0x[0-9a-fA-F]+>")

_TRAILERS: Final = h2.events.TrailersReceived
# The events that carry a header block h2 received (push is off: no PUSH_PROMISE).
_HEADS: Final = frozenset(
    {h2.events.ResponseReceived, h2.events.InformationalResponseReceived, _TRAILERS}
)
# The events of a received frame that closes its stream (END_STREAM, RST_STREAM).
_CLOSING: Final = frozenset({h2.events.StreamEnded, h2.events.StreamReset})
_CANCEL: Final = h2.errors.ErrorCodes.CANCEL
_NO_ERROR: Final = h2.errors.ErrorCodes.NO_ERROR
_REFUSED: Final = h2.errors.ErrorCodes.REFUSED_STREAM


def _error_name(code: int) -> str:
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return f"error code {code:#x}"


def _quiet(kind: type[Frame]) -> type[Frame]:
    """`kind` with a repr that costs nothing: h2 makes the repr of every frame it
    receives for its trace log, which a connection without a logger throws away.
    A third of a frame's handling went into hyperframe's repr.

    The repr is the frame class's name, returned by a bound method of the string
    itself: Python calls a `__repr__` that is not a descriptor without the
    instance, and this one runs no Python code (a function would cost a frame per
    received frame)."""
    name = f"<{kind.__name__}>"
    return type(kind.__name__, (kind,), {"__repr__": name.__str__, "__slots__": ()})


# Each frame class hyperframe makes, and its quiet twin.
_QUIET: Final = {kind: _quiet(kind) for kind in (*FRAMES.values(), ExtensionFrame)}


class _H2Connection(h2.connection.H2Connection):
    # h2 remembers how each closed stream closed (to ignore late frames after a
    # reset) for the last 65,536 streams by default: about 7.5 MiB on a
    # connection that carries that many requests, as a bulk job's does. 4,096
    # streams (under half a MiB) still spans many times the concurrent streams
    # a server allows; a late frame on a stream older than that is answered
    # with a stream reset, never a connection error.
    MAX_CLOSED_STREAMS = 4096

    # What acts on the events of each frame (`HTTP2Connection._on_events`).
    on_events: Callable[[list[h2.events.Event]], None]

    def __init__(self, config: h2.config.H2Configuration) -> None:
        super().__init__(config=config)
        # The streams this side opened that were not seen closed: a superset of the
        # open ones. h2 counts open streams by walking every stream it holds, at
        # each new stream: a connection carrying a hundred streams walked them all
        # a hundred times a round.
        self._outbound: set[int] = set()
        # The streams this side opened that were seen closed and h2 still holds.
        self._closed: list[int] = []
        # Each received frame takes the quiet twin of its class (`_quiet`), which h2
        # dispatches as the original: the type is the key of h2's dispatch table.
        table = self._frame_dispatch_table
        self._twins = {kind: twin for kind, twin in _QUIET.items() if kind in table}
        for kind, twin in self._twins.items():
            table[twin] = table[kind]

    @property
    def open_outbound_streams(self) -> int:
        if self._closed:
            # h2 asks at each new stream; its walk would then keep only how each
            # closed stream closed, and so does this.
            streams, closed_by = self.streams, self._closed_streams
            for stream_id in self._closed:
                stream = streams.pop(stream_id, None)
                if stream is not None:
                    closed_by[stream_id] = stream.closed_by
            self._closed.clear()
        count = len(self._outbound)
        # A count under the peer's limit lets the stream open, as the exact one
        # would (it is no larger). At the limit, and if h2 came to hold many
        # streams this count does not know of, h2's own walk answers (and drops
        # the closed streams it holds).
        if (
            count < self.remote_settings.max_concurrent_streams
            and len(self.streams) <= 2 * count + 64
        ):
            return count
        exact: int = super().open_outbound_streams
        streams = self.streams
        self._outbound = {sid for sid in self._outbound if sid in streams and streams[sid].open}
        return exact

    def _seen(self, stream_id: int) -> None:
        # After anything that may close `stream_id`: once h2 says closed, it is no
        # longer counted, and h2 lets it go at the next new stream.
        if stream_id in self._outbound:
            stream = self.streams.get(stream_id)
            if stream is None or stream.closed:
                self._outbound.discard(stream_id)
                if stream is not None:
                    self._closed.append(stream_id)

    def send_headers(self, stream_id: int, *args: Any, **kwargs: Any) -> None:
        new = stream_id not in self.streams
        try:
            super().send_headers(stream_id, *args, **kwargs)
        finally:
            # Counted once h2 made it, even if h2 failed after making it.
            if new and stream_id in self.streams:
                self._outbound.add(stream_id)
            self._seen(stream_id)

    def send_data(self, stream_id: int, *args: Any, **kwargs: Any) -> None:
        try:
            super().send_data(stream_id, *args, **kwargs)
        finally:
            self._seen(stream_id)

    def end_stream(self, stream_id: int) -> None:
        try:
            super().end_stream(stream_id)
        finally:
            self._seen(stream_id)

    def reset_stream(self, stream_id: int, error_code: Any = 0) -> None:
        try:
            super().reset_stream(stream_id, error_code)
        finally:
            self._seen(stream_id)

    def _receive_frame(self, frame: Any) -> list[h2.events.Event]:
        # h2 reads a run of frames in one `receive_data` call; the events of each
        # are acted on here, before the next frame is read, as if the frames had
        # come one per call: a frame that then fails the connection leaves the
        # events before it acted on, and a stream reset on one frame's events
        # is reset when the next frame arrives.
        quiet = self._twins.get(frame.__class__)
        if quiet is not None:
            frame.__class__ = quiet
        try:
            events: list[h2.events.Event] = super()._receive_frame(frame)
        except BaseException:
            self._seen(frame.stream_id)
            raise
        if events:
            for event in events:
                kind = type(event)
                if kind in _HEADS:
                    # h2's checks come first, as if its inbound validation ran: a
                    # field that fails here fails the connection the same way.
                    check_received_fields(event.headers, kind is _TRAILERS)  # type: ignore[attr-defined]
                elif kind in _CLOSING:
                    # A received frame closes no stream but its own, and only with
                    # one of these events: the others (two of a response's three
                    # frames) need no look at the stream. A close missed here would
                    # only leave the count high, which h2's walk corrects at the
                    # limit (`open_outbound_streams`).
                    self._seen(event.stream_id)  # type: ignore[attr-defined]
            self.on_events(events)
        return events


class HTTP2Connection:
    """A client HTTP/2 connection implementing `HTTPConnection`.

    The connection preface and SETTINGS are queued at construction: write
    `data_to_send()` first. `now` starts the keepalive clock; with
    `keepalive_interval` set, a PING goes out after that long without input and the
    connection is declared dead if it stays unanswered for `keepalive_timeout`.
    `initial_window_size` is each stream's receive window, `connection_window_size`
    the whole connection's; `max_concurrent_streams` caps `max_streams`.
    """

    http_version = "HTTP/2"

    def __init__(
        self,
        *,
        decode_content: bool = True,
        max_decoded_size: int = DEFAULT_MAX_DECODED_SIZE,
        now: float,
        keepalive_interval: float | None = None,
        keepalive_timeout: float = 20.0,
        max_concurrent_streams: int = 100,
        initial_window_size: int = DEFAULT_INITIAL_WINDOW_SIZE,
        connection_window_size: int = DEFAULT_CONNECTION_WINDOW_SIZE,
        max_header_list_size: int = 64 * 1024,
    ) -> None:
        # Outbound fields come from `request_headers`, which does what h2's outbound
        # normalization and validation would (lower-case names, no connection-specific
        # fields, pseudo-fields first, credentials never indexed) on fields
        # `build_request` validated: doing it again costs as much as HPACK itself.
        # Inbound normalization only joins `cookie` fields, which a response does not
        # carry. Inbound fields are checked, the server is not trusted, by
        # `check_received_fields` (what h2's inbound validation does, in one pass).
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            normalize_inbound_headers=False,
            validate_inbound_headers=False,
        )
        conn = _H2Connection(config=config)
        conn.encoder = self._encoder = CachingEncoder()
        conn.decoder = LeanDecoder()
        codes = h2.settings.SettingCodes
        conn.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.INITIAL_WINDOW_SIZE: initial_window_size,
                codes.MAX_HEADER_LIST_SIZE: max_header_list_size,
                codes.MAX_CONCURRENT_STREAMS: max_concurrent_streams,
            },
        )
        conn.decoder.max_header_list_size = max_header_list_size
        conn.on_events = self._on_events
        conn.initiate_connection()
        if connection_window_size > _DEFAULT_WINDOW:
            conn.increment_flow_control_window(connection_window_size - _DEFAULT_WINDOW)
        self._h2 = conn
        self._frames = FrameSplitter(conn.max_inbound_frame_size)
        self._decode_content = decode_content
        self._max_decoded_size = max_decoded_size
        self._max_concurrent = max_concurrent_streams
        self._streams: dict[int, H2Stream] = {}
        self._sending: dict[int, H2Stream] = {}  # bytes bodies waiting for window
        self._goaway: GoAway | None = None
        self._broken: RemoteProtocolError | None = None
        self._eof = False
        self._keepalive = Keepalive(keepalive_interval, keepalive_timeout, now)
        self._settings_received = False
        # `max_streams`, kept up to date where what it depends on changes (the
        # peer's SETTINGS, a refusal): the pool asks for it at every checkout and
        # release.
        self._max_streams = 1
        # The streams the peer was processing when it last refused one (no limit: None).
        self._refused_cap: int | None = None
        self.capacity_changed = False
        # The streams that received something since `take_news()` last said, and
        # whether every stream may have (a failure, EOF or GOAWAY touches them all).
        self._news: list[int] = []
        self._news_all = False
        # A client sends the same fields request after request: each is checked and
        # encoded once per connection.
        self._fields = FieldCache()
        self._dispatch: dict[type[Any], Callable[[Any], None]] = {
            h2.events.ResponseReceived: self._on_response,
            h2.events.DataReceived: self._on_data,
            h2.events.TrailersReceived: self._on_trailers,
            h2.events.StreamEnded: self._on_stream_ended,
            h2.events.StreamReset: self._on_stream_reset,
            h2.events.PingAckReceived: self._on_ping_ack,
            h2.events.ConnectionTerminated: self._on_connection_terminated,
            h2.events.RemoteSettingsChanged: self._on_settings,
        }

    # -- requests -----------------------------------------------------------------

    def start_request(self, request: Request) -> int:
        """Opens a stream and queues its HEADERS (and a bytes body, as window allows).

        Write `data_to_send()` next; for an iterable body, `send_body()` each chunk
        and `end_request()`.
        """
        if not self.is_reusable:
            raise RemoteProtocolError(
                "connection can no longer carry new streams (closed, failed or GOAWAY)",
                retry_safe=True,
            )
        body = request.body
        headers = request_headers(request, self._fields)
        end_stream = body is None or body == b""
        conn = self._h2
        encoder = self._encoder
        try:
            stream_id = conn.get_next_available_stream_id()
            # h2 reads only the pseudo-fields (the method, the authority) and passes
            # every field, one by one, through its own copying on the way to the
            # encoder: the others go to the encoder directly, after them.
            encoder.following = headers[_PSEUDO_FIELDS:]
            conn.send_headers(stream_id, headers[:_PSEUDO_FIELDS], end_stream=end_stream)
        except h2.exceptions.TooManyStreamsError as exc:
            # The peer lowered its limit after the stream was promised: nothing was
            # sent, so the request can wait for a free stream like a refused one.
            raise RemoteProtocolError(
                f"the server's limit of {self.max_streams} concurrent streams is reached",
                retry_safe=True,
            ) from exc
        except h2.exceptions.ProtocolError as exc:
            raise LocalProtocolError(f"cannot start HTTP/2 request: {exc}") from exc
        finally:
            encoder.following = None  # unused when h2 refused before encoding
        stream = H2Stream()
        stream.request_ended = end_stream
        self._streams[stream_id] = stream
        if isinstance(body, bytes) and body:
            stream.out_body = body
            self._sending[stream_id] = stream
            self._flush_body(stream_id, stream)
        return stream_id

    def send_body(self, stream_id: int, data: bytes) -> int:
        """Queues as much of `data` as the flow-control windows allow; returns the count.

        0 means the window is shut: feed `receive_data()` and offer the rest again.
        Once the server has answered completely or reset the stream, `data` is
        accepted and dropped.
        """
        stream = self._stream(stream_id)
        if stream.out_body is not None:
            raise LocalProtocolError("this request's body was given as bytes: it is sent already")
        if not self.expects_body(stream_id):
            return len(data)
        return send_within_window(self._h2, stream_id, data)

    def end_request(self, stream_id: int) -> None:
        """Sends END_STREAM after a streamed body (nothing if the stream is already done)."""
        stream = self._stream(stream_id)
        if stream.out_body is not None:
            raise LocalProtocolError("this request's body was given as bytes: it ends by itself")
        if self.expects_body(stream_id):
            stream.request_ended = True
            try:
                self._h2.end_stream(stream_id)
            except h2.exceptions.ProtocolError as exc:
                raise LocalProtocolError(f"cannot end HTTP/2 request: {exc}") from exc

    def expects_body(self, stream_id: int) -> bool:
        """False once the server answered completely, reset the stream, or the stream failed."""
        stream = self._stream(stream_id)
        return not (stream.request_ended or stream.finished or self._broken)

    def _flush_body(self, stream_id: int, stream: H2Stream) -> None:
        body = stream.out_body
        assert body is not None
        if stream.reset or stream.error is not None or self._broken:
            del self._sending[stream_id]  # nobody wants the rest
            return
        offset = send_within_window(self._h2, stream_id, body, stream.out_offset, end_stream=True)
        stream.out_offset = offset
        if offset == len(body):
            stream.request_ended = True
            del self._sending[stream_id]

    def data_to_send(self) -> bytes:
        """The bytes to write now."""
        # Asked after every event pulled, mostly with nothing queued: h2 would
        # copy its empty buffer and make a new one.
        if not self._h2._data_to_send:
            return b""
        return self._h2.data_to_send()

    def take_news(self) -> list[int] | None:
        """The streams that received an event or an error since the last call; None
        when every stream may have (the connection failed, ended or got GOAWAY).

        See `HTTPConnection.take_news`: the driver wakes the tasks waiting for
        these streams, not every task waiting on the connection.
        """
        if self._news_all:
            self._news_all = False
            self._news.clear()
            return None
        news = self._news
        if news:
            self._news = []
        return news

    # -- responses ----------------------------------------------------------------

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feeds bytes read from the socket (`b""`: EOF); never raises for peer errors.

        `now` marks input for the keepalive clock; without it the next
        `handle_timer()` counts as the moment of input. Write `data_to_send()` next.
        """
        self._keepalive.on_input(now)
        if self._eof or self._broken:
            return
        if not data:
            self._eof = True
            self.capacity_changed = True
            self._news_all = True
            for stream in self._streams.values():
                stream.fail(
                    RemoteProtocolError("server closed the connection before the response ended")
                )
            return
        conn = self._h2
        for frame in self._frames.feed(data):
            if isinstance(frame, GoAway):
                self._on_goaway(frame)
                continue
            if isinstance(frame, FrameTooLarge):
                conn.close_connection(error_code=h2.errors.ErrorCodes.FRAME_SIZE_ERROR)
                limit = self._frames.max_frame_size
                self._break(
                    RemoteProtocolError(
                        f"HTTP/2 protocol error from the server: a frame of {frame.length}"
                        f" bytes, over the {limit}-byte limit (FRAME_SIZE_ERROR)"
                    )
                )
                return
            try:
                # A run of whole frames: their events are acted on frame by frame
                # (`_on_events`, from `_H2Connection._receive_frame`).
                conn.receive_data(frame)
            except h2.exceptions.ProtocolError as exc:
                # hpack quotes the offending buffer as "<memory at 0x...>": noise to a reader.
                detail = _MEMORY_REPR.sub("<frame data>", str(exc))
                error = RemoteProtocolError(f"HTTP/2 protocol error from the server: {detail}")
                if isinstance(exc.__cause__, OversizedHeaderListError):
                    # A head over the limit is a limit, as over HTTP/1.1, not a mistake.
                    limit = conn.decoder.max_header_list_size
                    error = LimitExceededError(
                        f"response head exceeds max_header_list_size ({limit} bytes)",
                        limit=limit,
                        limit_name="max_header_list_size",
                    )
                error.__cause__ = exc
                self._break(error)
                return
        if self._sending:
            for stream_id, stream in list(self._sending.items()):
                self._flush_body(stream_id, stream)
        if len(self._news) > _MAX_NEWS:
            # Nobody asks (`take_news`): "any stream" says as much in constant memory.
            self._news.clear()
            self._news_all = True

    def _on_events(self, events: list[h2.events.Event]) -> None:
        dispatch = self._dispatch
        for event in events:
            handler = dispatch.get(type(event))
            if handler is not None:
                handler(event)

    def _on_response(self, event: h2.events.ResponseReceived) -> None:
        stream = self._streams.get(event.stream_id)
        self._news.append(event.stream_id)
        if stream is None or stream.error is not None:
            # A stream that already failed (e.g. refused by GOAWAY) stays failed,
            # whatever the server sends for it afterwards: what the caller sees must
            # not depend on whether it pulled the error before these bytes arrived.
            return
        status = b""
        fields = []
        for name, value in event.headers:
            if name[:1] != b":":
                fields.append((name.decode("latin-1"), value.decode("latin-1")))
            elif name == b":status":
                status = value
        if len(status) != 3 or not status.isdigit():
            self._reset(event.stream_id, stream, h2.errors.ErrorCodes.PROTOCOL_ERROR)
            stream.fail(RemoteProtocolError(f"invalid HTTP/2 :status {status!r}"))
            return
        # h2's inbound validation refuses upper-case names (RFC 9113 §8.2.1).
        headers = Headers._from_lowered(tuple(fields))
        if self._decode_content:
            encoding = headers.get("content-encoding")
            if encoding is not None:
                decoder = ContentDecoder(encoding, max_decoded_size=self._max_decoded_size)
                if not decoder.is_passthrough:
                    stream.decoder = decoder
        stream.events.append(ResponseHead(int(status), headers, "HTTP/2"))

    def _on_data(self, event: h2.events.DataReceived) -> None:
        stream = self._streams.get(event.stream_id)
        size = event.flow_controlled_length
        self._news.append(event.stream_id)
        if stream is None or stream.error is not None or stream.reset or stream.cancelled:
            self._ack(event.stream_id, size)  # nobody will pull it: credit back now
            return
        stream.unacked += size
        stream.events.append((event.data, size))

    def _on_trailers(self, event: h2.events.TrailersReceived) -> None:
        stream = self._streams.get(event.stream_id)
        self._news.append(event.stream_id)
        if stream is not None and stream.error is None:
            stream.trailers = Headers.from_raw(
                (name, value) for name, value in event.headers if name[:1] != b":"
            )

    def _on_stream_ended(self, event: h2.events.StreamEnded) -> None:
        stream = self._streams.get(event.stream_id)
        self._news.append(event.stream_id)
        if stream is not None and stream.error is None and not stream.reset:
            stream.remote_ended = True
            trailers = stream.trailers
            stream.events.append(BodyEnd(trailers) if trailers is not None else NO_TRAILERS)

    def _on_stream_reset(self, event: h2.events.StreamReset) -> None:
        stream = self._streams.get(event.stream_id)
        self._news.append(event.stream_id)
        if stream is None:
            return
        # After a complete response, RST_STREAM(NO_ERROR) only asks us to stop sending
        # the request body (RFC 9113 §8.1).
        stream.request_ended = True
        if stream.remote_ended:
            stream.reset = True
            return
        code = event.error_code
        if event.remote_reset:
            message = f"server reset stream {event.stream_id} ({_error_name(code)})"
        else:
            message = f"HTTP/2 protocol error on stream {event.stream_id} ({_error_name(code)})"
        refused = code == _REFUSED
        stream.fail(RemoteProtocolError(message, retry_safe=refused))
        stream.reset = True
        if refused and event.remote_reset:
            self._on_refused()

    def _on_refused(self) -> None:
        # The peer took as many streams as it is processing now and no more: the
        # ones neither refused, failed, nor over in both directions.
        processing = sum(1 for s in self._streams.values() if s.error is None and not s.closed)
        cap = max(processing, 1)
        if self._refused_cap is None or cap < self._refused_cap:
            self._refused_cap = cap
            self._max_streams = self._stream_limit()
            self.capacity_changed = True

    def _on_settings(self, event: h2.events.RemoteSettingsChanged) -> None:
        codes = h2.settings.SettingCodes
        if not self._settings_received or codes.MAX_CONCURRENT_STREAMS in event.changed_settings:
            self._settings_received = True
            # The peer said anew how many streams it takes: that replaces what its
            # refusals taught.
            self._refused_cap = None
            self.capacity_changed = True
        self._max_streams = self._stream_limit()

    def _on_ping_ack(self, event: h2.events.PingAckReceived) -> None:
        self._keepalive.on_ping_ack(event.ping_data)

    def _on_connection_terminated(self, event: h2.events.ConnectionTerminated) -> None:
        # Only a malformed GOAWAY reaches h2; FrameSplitter takes out the rest.
        self._on_goaway(GoAway(event.last_stream_id or 0, int(event.error_code or 0), b""))

    def _on_goaway(self, goaway: GoAway) -> None:
        # Streams above last_stream_id were not and will not be processed (RFC 9113
        # §6.8), so retrying them anywhere is safe; the others may still complete.
        last = goaway.last_stream_id
        if self._goaway is not None:
            last = min(last, self._goaway.last_stream_id)
        self._goaway = GoAway(last, goaway.error_code, goaway.debug_data)
        self.capacity_changed = True
        self._news_all = True
        reason = _error_name(goaway.error_code)
        for stream_id, stream in self._streams.items():
            if stream_id > last:
                stream.fail(
                    RemoteProtocolError(
                        f"server is going away ({reason}) without processing stream {stream_id}",
                        retry_safe=True,
                    )
                )

    def next_event(self, stream_id: int) -> ResponseHead | BodyData | BodyEnd | NeedData:
        """The stream's next event, or NEED_DATA. See `HTTPConnection.next_event`.

        The body data received so far comes out as one `BodyData`, however many DATA
        frames carried it. Pulling body data returns its flow-control credit: write
        `data_to_send()`.
        """
        stream = self._stream(stream_id)
        if stream.decoder is not None and stream.decoder.limit_reached:
            self._decode(stream_id, stream, None)  # raises: the limit error comes next
        events = stream.events
        pieces: list[bytes] = []
        credit = 0  # flow-controlled bytes pulled and not yet handed back
        while events and isinstance(events[0], tuple):
            data, size = events.popleft()  # type: ignore[misc]
            credit += size
            decoder = stream.decoder
            if decoder is not None:
                # Credit first: a decoding error drops the stream and its credit.
                self._credit(stream_id, stream, credit)
                credit = 0
                try:
                    data = self._decode(stream_id, stream, data)
                except RemoteProtocolError:
                    if pieces:
                        return BodyData(b"".join(pieces))  # the error comes next
                    raise
            if data:
                pieces.append(data)
            if decoder is not None and decoder.limit_reached and pieces:
                break  # the limit error comes next
        if credit:
            self._credit(stream_id, stream, credit)
        if pieces:
            return BodyData(b"".join(pieces))
        if events:
            event = events.popleft()
            if type(event) is BodyEnd:
                stream.delivered_end = True
                if stream.decoder is not None:
                    tail = self._decode(stream_id, stream, None)
                    stream.decoder = None
                    if tail:
                        events.appendleft(event)
                        return BodyData(tail)
            return event  # type: ignore[return-value]
        if stream.error is not None:
            raise stream.error
        if stream.delivered_end or stream.cancelled:
            raise LocalProtocolError(f"stream {stream_id} already ended or was cancelled")
        return NEED_DATA

    def _decode(self, stream_id: int, stream: H2Stream, data: bytes | None) -> bytes:
        assert stream.decoder is not None
        try:
            return stream.decoder.decode(data) if data is not None else stream.decoder.flush()
        except RemoteProtocolError as exc:
            # The body is useless now; stop the server sending more of it.
            stream.error = exc
            self._drop_events(stream_id, stream)
            self._reset(stream_id, stream, _CANCEL)
            raise

    def _credit(self, stream_id: int, stream: H2Stream, size: int) -> None:
        if size:
            stream.unacked -= size
            self._ack(stream_id, size)

    def _ack(self, stream_id: int, size: int) -> None:
        if self._broken is None and not self._eof:
            # If h2 refuses, the connection is closing: there is no one left to
            # credit. (A plain `try`: `contextlib.suppress` costs three calls and an
            # object, once a response.)
            try:  # noqa: SIM105
                self._h2.acknowledge_received_data(size, stream_id)
            except h2.exceptions.ProtocolError:
                pass

    # -- lifecycle ----------------------------------------------------------------

    def cancel(self, stream_id: int) -> None:
        """Sends RST_STREAM(CANCEL) unless the stream is done; the connection stays usable."""
        stream = self._stream(stream_id)
        stream.cancelled = True
        self._drop_events(stream_id, stream)
        if not stream.closed:
            self._reset(stream_id, stream, _CANCEL)

    def release(self, stream_id: int) -> None:
        """Forgets the stream, cancelling it first if its response did not end."""
        if stream_id not in self._streams:
            return
        self.cancel(stream_id)
        del self._streams[stream_id]

    def _drop_events(self, stream_id: int, stream: H2Stream) -> None:
        stream.events.clear()
        self._sending.pop(stream_id, None)
        if stream.unacked:
            # Unpulled data still holds connection window: hand it back.
            self._ack(stream_id, stream.unacked)
            stream.unacked = 0

    def _reset(self, stream_id: int, stream: H2Stream, code: h2.errors.ErrorCodes) -> None:
        stream.reset = stream.request_ended = True
        if self._broken is None and not self._eof:
            # If h2 refuses, the stream is already closed on its side: nothing to reset.
            try:  # noqa: SIM105 (see `_ack`)
                self._h2.reset_stream(stream_id, code)
            except h2.exceptions.ProtocolError:
                pass

    def _break(self, error: RemoteProtocolError) -> None:
        self._broken = error
        self.capacity_changed = True
        self._news_all = True
        for stream in self._streams.values():
            stream.fail(error)
        self._sending.clear()

    def _stream(self, stream_id: int) -> H2Stream:
        try:
            return self._streams[stream_id]
        except KeyError:
            raise LocalProtocolError(f"stream {stream_id} is not open on this connection") from None

    @property
    def is_reusable(self) -> bool:
        """No error, no EOF, no GOAWAY, and stream ids left."""
        return (
            self._broken is None
            and not self._eof
            and self._goaway is None
            and self._h2.highest_outbound_stream_id < _LAST_STREAM_ID - 2
        )

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    @property
    def max_streams(self) -> int:
        """The streams the peer takes at once: its SETTINGS_MAX_CONCURRENT_STREAMS
        (1 until its SETTINGS arrive), lowered to what it was processing when it last
        refused a stream, capped by ours."""
        return self._max_streams

    def _stream_limit(self) -> int:
        """`max_streams` worked out (h2 changes the peer's settings only with an event)."""
        if not self._settings_received:
            return 1
        limit = min(self._h2.remote_settings.max_concurrent_streams, self._max_concurrent)
        cap = self._refused_cap
        return limit if cap is None or cap >= limit else cap

    @property
    def awaiting_settings(self) -> bool:
        """True until the peer's first SETTINGS frame arrived (`max_streams` is 1)."""
        return not self._settings_received

    @property
    def is_closed(self) -> bool:
        """Failed, EOF, or GOAWAY with every stream released; buffered events stay readable."""
        return (
            self._broken is not None
            or self._eof
            or (self._goaway is not None and not self._streams)
        )

    # -- keepalive ----------------------------------------------------------------

    def next_timer(self) -> float | None:
        """When `handle_timer()` is due (caller's clock), or None without keepalive."""
        if self._broken is not None or self._eof:
            return None
        return self._keepalive.next_timer()

    def handle_timer(self, now: float) -> None:
        """Sends a keepalive PING or declares an unanswered one fatal; then write data_to_send()."""
        if self._broken is not None or self._eof:
            return
        keepalive = self._keepalive
        action = keepalive.check(now)
        if action is True:
            if keepalive.suspect:
                message = "PING after a read timeout unanswered in time: the connection is dead"
            else:
                message = (
                    f"keepalive PING unanswered for {keepalive.timeout} s: the connection is dead"
                )
            self._break(RemoteProtocolError(message))
        elif action:
            self._h2.ping(action)

    # -- proving the connection alive after a read timeout -----------------------------

    def timed_out(self, now: float) -> None:
        """The caller gave up waiting for input on this connection (a read timeout).

        The peer may be gone without a word: from now on `needs_alive_check` is True
        until a PING is answered, and the connection is proved (`check_alive`)
        before it carries another request.
        """
        if self._broken is None and not self._eof:
            self._keepalive.suspect = True

    @property
    def needs_alive_check(self) -> bool:
        """True when a read timed out on the connection and no PING was answered since."""
        return self._keepalive.suspect and self._broken is None and not self._eof

    def check_alive(self, now: float, timeout: float | None) -> float | None:
        """Before another request on the connection: must the peer first answer a PING?

        None: go ahead (no read timed out on it since the last answered PING, or it
        is closed: `is_reusable` says). Otherwise a PING is queued, unless one is in
        flight already (write `data_to_send()`), and the result is when its ACK is
        due: at most `timeout` seconds from `now` (the connect timeout; None: the
        keepalive timeout). Read and feed until `proving` is False, running
        `handle_timer` at `next_timer()`, which is that time at the latest: an ACK
        clears the suspicion, no ACK in time breaks the connection.
        """
        if not self.needs_alive_check:
            return None
        payload, due = self._keepalive.prove(now, timeout)
        if payload is not None:
            self._h2.ping(payload)
        return due

    @property
    def proving(self) -> bool:
        """True while the PING of `check_alive` waits for its ACK on a live connection."""
        return self.needs_alive_check and self._keepalive.awaiting_ack
