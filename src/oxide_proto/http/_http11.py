"""HTTP/1.1 exchanges over one connection, on h11.

h11 does the parsing and framing (RFC 9112); this module adapts it to the
`HTTPConnection` interface: one request at a time, stream ids counting keep-alive
cycles, response bodies content-decoded, and every h11 exception turned into ours
where it crosses into this code. Three h11 internals make it cheaper; each is
checked once at import and replaced by h11's public API when it is missing or
behaves otherwise (see `_probe_h11`).
"""

from __future__ import annotations

import functools
import re
from typing import Final

import h11

try:
    from h11._headers import Headers as H11Headers
except ImportError:  # an h11 that moved its internals: its public API only
    H11Headers = None  # type: ignore[assignment, misc]

from ..base._errors import LimitExceededError, LocalProtocolError, RemoteProtocolError
from ..base._headers import CheckedHeaders, Headers
from ..base._types import Request
from ._content import DEFAULT_MAX_DECODED_SIZE, ContentDecoder
from ._events import NEED_DATA, BodyData, BodyEnd, NeedData, ResponseHead

__all__ = ["HTTP11Connection", "DEFAULT_MAX_HEAD_SIZE"]

DEFAULT_MAX_HEAD_SIZE = 64 * 1024

_NO_TRAILERS: Final = BodyEnd()
_VERSIONS: Final = {b"1.1": "HTTP/1.1", b"1.0": "HTTP/1.0"}
# Methods whose requests carry a body, so an empty one is sent as `Content-Length: 0`
# (some servers answer 411 Length Required otherwise).
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_ENDED_STATES: Final = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)
_UNUSABLE_STATES: Final = (h11.MUST_CLOSE, h11.CLOSED, h11.ERROR, h11.SWITCHED_PROTOCOL)
# Fields that change how h11 frames or handles the exchange (RFC 9112 §6, §9.6; RFC
# 9110 §7.2, §7.8, §10.1.1): a request carrying any of them is handed to h11 whole.
_H11_FIELDS: Final = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade"}
)


# Three h11 internals save most of this module's cost; tested with h11 0.16. Each is
# checked once, here, against h11's public API on a probe exchange, and one that is
# missing or answers otherwise is replaced by that public API (slower, the same
# results):
# - the request head (`_send_head`) is written as one string and given to h11 as a
#   pre-parsed `Request` through `Connection._process_event`; else `Connection.send`
#   validates and writes it;
# - response fields are read from `Headers._full_items`; else by indexing `Headers`;
# - what h11 has not parsed yet is measured by `len(Connection._receive_buffer)`;
#   else by `Connection.trailing_data`, a copy of it.
_PROBE_REQUEST: Final = b"POST /p HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\nx"
_PROBE_RESPONSE: Final = b"HTTP/1.1 200 OK\r\nX-A: 1\r\ncontent-length: 0\r\n\r\nzz"


def _probe_h11() -> tuple[bool, bool, bool]:
    """Which internals behave as this module expects: (head, fields, buffer)."""
    public = h11.Connection(h11.CLIENT)
    try:
        wire = public.send(
            h11.Request(
                method="POST", target="/p", headers=[("host", "x"), ("content-length", "1")]
            )
        )
        wire = (wire or b"") + (public.send(h11.Data(data=b"x")) or b"")
        wire += public.send(h11.EndOfMessage()) or b""
        public.receive_data(_PROBE_RESPONSE)
        response = public.next_event()
        if not isinstance(response, h11.Response):
            return False, False, False  # not the h11 this module was written for
    except Exception:
        return False, False, False
    head = False
    try:
        # The fast head writes what h11 would: the same bytes, the same states.
        if H11Headers is not None and wire == _PROBE_REQUEST:
            fast = h11.Connection(h11.CLIENT)
            pairs = [(b"host", b"host", b"x"), (b"content-length", b"content-length", b"1")]
            event = h11.Request(
                method=b"POST", target=b"/p", headers=H11Headers(pairs), _parsed=True
            )
            fast._process_event(h11.CLIENT, event)
            fast._process_event(h11.CLIENT, h11.EndOfMessage())
            fast.receive_data(_PROBE_RESPONSE)
            answered = isinstance(fast.next_event(), h11.Response)
            states = (fast.our_state, fast.their_state)
            head = answered and states == (public.our_state, public.their_state)
    except Exception:
        pass
    try:
        triples = response.headers._full_items
        fields = [(name, value) for _, name, value in triples] == list(response.headers)
    except Exception:
        fields = False
    try:
        left = public._receive_buffer
        buffer = len(left) == len(public.trailing_data[0]) == 2
    except Exception:
        buffer = False
    return head, fields, buffer


# Module globals (not constants) so a test can force the public API.
_FAST_HEAD, _FIELD_TRIPLES, _RECEIVE_BUFFER = _probe_h11()
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Field values (joined by tabs) hold visible characters, obs-text, spaces and tabs
# only, and h11 refuses blanks at either end of a value (an empty value is unusual
# too): one search finds any of these in the joined values.
_BAD_VALUES: Final = re.compile(r"[^\t\x20-\x7e\x80-\xff]|^[ \t]|[ \t]$|\t[\t ]| \t")


@functools.lru_cache(maxsize=512)
def _token(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None


def _headers(fields: H11Headers) -> Headers:
    # h11 keeps each field as (name as received, name lower-cased, value), validated;
    # its public view is the (name lower-cased, value) pairs, one by one.
    if _FIELD_TRIPLES:
        items = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for _, name, value in fields._full_items
        ]
    else:
        items = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in fields]
    return Headers._from_lowered(tuple(items))


class HTTP11Connection:
    """A client HTTP/1.1 connection implementing `HTTPConnection`.

    One stream at a time: ids count up with each keep-alive cycle. `max_head_size`
    bounds a response's status line plus headers; `max_decoded_size` bounds its
    decoded body. `receive_data()` takes an optional `now` only to match HTTP/2.
    """

    http_version = "HTTP/1.1"
    # One stream, no SETTINGS: nothing for the pool to hear about while it runs.
    capacity_changed = False
    awaiting_settings = False

    def __init__(
        self,
        *,
        decode_content: bool = True,
        max_decoded_size: int = DEFAULT_MAX_DECODED_SIZE,
        max_head_size: int = DEFAULT_MAX_HEAD_SIZE,
    ) -> None:
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head_size)
        self._decode_content = decode_content
        self._max_decoded_size = max_decoded_size
        self._max_head_size = max_head_size
        self._out: list[bytes] = []
        self._stream_id = 0
        self._active = False  # a stream was started and not yet released
        self._ended = False  # BodyEnd was handed out
        self._pending_end: BodyEnd | None = None
        self._decoder: ContentDecoder | None = None
        self._error: RemoteProtocolError | None = None
        self._eof = False
        # h11 answered NEED_DATA and nothing was fed since: it would answer the same.
        self._drained = False
        self._fed = 0  # bytes given to h11 ...
        self._consumed = 0  # ... and how many of them its events have used up
        self._closed = False  # unusable: cancelled, failed, or poisoned while idle

    # -- requests -----------------------------------------------------------------

    def start_request(self, request: Request) -> int:
        """Queues the request head (and a bytes body); returns the stream id.

        Write `data_to_send()` next; for an iterable body, `send_body()` each chunk
        and `end_request()`.
        """
        if self._active:
            raise LocalProtocolError(
                "HTTP/1.1 carries one request at a time: release() the previous stream first"
            )
        if not self.is_reusable:
            raise RemoteProtocolError(
                "connection can no longer carry requests (closed or not keep-alive)",
                retry_safe=True,
            )
        body = request.body
        framing = self._framing(request)
        out, conn = self._out, self._h11
        try:
            if self._send_head(request, framing):
                if body is None or isinstance(body, bytes):
                    # The Content-Length written is the body's own: its bytes go out as
                    # they are, and a Data event leaves h11's state (SEND_BODY) as it is.
                    if body:
                        out.append(body)
                    conn._process_event(h11.CLIENT, h11.EndOfMessage())
            else:
                self._send_head_via_h11(request, framing)
                if body is None or isinstance(body, bytes):
                    # A Content-Length the caller gave is checked against the body.
                    if body:
                        out.append(conn.send(h11.Data(data=body)) or b"")
                    out.append(conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError as exc:
            self._closed = True
            raise LocalProtocolError(f"cannot send request: {exc}") from exc
        self._stream_id += 1
        # Nothing buffered (a reused connection had nothing left over): h11 would
        # answer NEED_DATA, so the first read need not ask it.
        self._drained = not self._leftover()
        self._active = True
        self._ended = False
        self._pending_end = None
        self._decoder = None
        return self._stream_id

    @staticmethod
    def _framing(request: Request) -> tuple[str, str] | None:
        """The Content-Length or Transfer-Encoding field to add, if the request has none."""
        headers, body = request.headers, request.body
        if "content-length" in headers or "transfer-encoding" in headers:
            return None
        if isinstance(body, bytes):
            return ("content-length", str(len(body)))
        if body is None:
            return ("content-length", "0") if request.method in _BODY_METHODS else None
        if request.content_length is not None:
            return ("content-length", str(request.content_length))
        return ("transfer-encoding", "chunked")

    def _send_head(self, request: Request, framing: tuple[str, str] | None) -> bool:
        """Writes the request head as one string and tells h11 it was sent.

        h11 would validate every field again and serialize them one by one, which
        costs more than the rest of the exchange; `build_request` has validated them
        already. Returns False, having sent nothing, when the request carries a field
        h11 must see whole or anything unusual, so h11 can send it (and refuse it).
        """
        headers = request.headers
        if not _FAST_HEAD or not _H11_FIELDS.isdisjoint(headers):
            return False
        fields = headers.multi_items()
        authority = request.url.authority
        if not authority.isascii():
            return False
        if type(headers) is CheckedHeaders:
            # Checked when the request was built: only what this module adds is left.
            if _BAD_VALUES.search(authority):
                return False
        else:
            values = [authority, *[value for _, value in fields]]
            if framing is not None:
                values.append(framing[1])
            if _BAD_VALUES.search("\t".join(values)) or not all(
                map(_token, [name for name, _ in fields])
            ):
                return False
        lines = [f"{name}: {value}\r\n" for name, value in fields]
        if framing is not None:
            lines.append(f"{framing[0]}: {framing[1]}\r\n")
        method, target = request.method, request.url.target
        head = f"{method} {target} HTTP/1.1\r\nhost: {authority}\r\n{''.join(lines)}\r\n"
        # h11 keeps, from the request, the method and the fields that decide framing
        # and keep-alive: given those, its state is what sending the head would make it.
        state_fields = [(b"host", b"host", authority.encode("ascii"))]
        if framing is not None:
            name = framing[0].encode("ascii")
            state_fields.append((name, name, framing[1].encode("ascii")))
        # Raises for a method or target h11 refuses, before anything is queued.
        event = h11.Request(
            method=method.encode("ascii"),
            target=target.encode("ascii"),
            headers=H11Headers(state_fields),
            _parsed=True,  # validates method and target only
        )
        self._h11._process_event(h11.CLIENT, event)
        self._out.append(head.encode("latin-1"))
        return True

    def _send_head_via_h11(self, request: Request, framing: tuple[str, str] | None) -> None:
        headers = request.headers
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.multi_items()]
        if "host" not in headers:
            raw.insert(0, (b"host", request.url.authority.encode("ascii")))
        if framing is not None:
            raw.append((framing[0].encode("ascii"), framing[1].encode("ascii")))
        event = h11.Request(method=request.method, target=request.url.target, headers=raw)
        self._out.append(self._h11.send(event) or b"")

    def send_body(self, stream_id: int, data: bytes) -> int:
        """Queues all of `data` (chunk-framed when the length is unknown); returns len(data).

        Once the response is complete the rest of the body is dropped: the server
        no longer reads it, and the connection will not be reused.
        """
        self._check_stream(stream_id)
        if data and self.expects_body(stream_id):
            try:
                self._out.append(self._h11.send(h11.Data(data=data)) or b"")
            except h11.LocalProtocolError as exc:
                self._closed = True
                raise LocalProtocolError(f"cannot send request body: {exc}") from exc
        return len(data)

    def end_request(self, stream_id: int) -> None:
        """Ends a streamed request body (the last chunk marker when chunked)."""
        self._check_stream(stream_id)
        if self.expects_body(stream_id):
            try:
                self._out.append(self._h11.send(h11.EndOfMessage()) or b"")
            except h11.LocalProtocolError as exc:
                self._closed = True
                raise LocalProtocolError(f"cannot end request body: {exc}") from exc

    def expects_body(self, stream_id: int) -> bool:
        """False once the response is complete (or the exchange failed)."""
        self._check_stream(stream_id)
        conn = self._h11
        return (
            conn.our_state is h11.SEND_BODY
            and conn.their_state not in _ENDED_STATES
            and self._error is None
            and not self._closed
        )

    def data_to_send(self) -> bytes:
        """The bytes to write now."""
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    # -- responses ----------------------------------------------------------------

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feeds bytes read from the socket; `b""` is EOF. Never raises for peer errors."""
        if self._eof:
            if data:
                raise LocalProtocolError("receive_data() after EOF was fed")
            return
        if not data:
            self._eof = True
        elif not self._active:
            # Bytes while no request is in flight (often a 408 before the server closes
            # an idle connection) would be read as the next request's response.
            self._closed = True
            return
        self._fed += len(data)
        self._drained = False
        self._h11.receive_data(data)

    def next_event(self, stream_id: int) -> ResponseHead | BodyData | BodyEnd | NeedData:
        """The next response event, or NEED_DATA. See `HTTPConnection.next_event`.

        All the body data the fed bytes hold comes out as one `BodyData`, however many
        chunks it was framed in.
        """
        self._check_stream(stream_id)
        if self._error is not None:
            raise self._error
        if self._pending_end is not None:
            end, self._pending_end = self._pending_end, None
            return end
        if self._ended:
            raise LocalProtocolError("the response already ended: release() the stream")
        if self._decoder is not None and self._decoder.limit_reached:
            self._decode(b"", final=True)  # raises: the limit error comes next, whatever follows
        if self._drained:
            return NEED_DATA
        conn = self._h11
        # Body data gathered in this call. Whatever stops the gathering (an error, the
        # end of the body) comes from the next call, after the data.
        pieces: list[bytes] = []
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                error = self._fail(self._remote_error(exc))
                if pieces:
                    error.__cause__ = exc
                    return BodyData(b"".join(pieces))
                raise error from exc
            if event is h11.NEED_DATA:
                self._drained = True
                return BodyData(b"".join(pieces)) if pieces else NEED_DATA
            kind = type(event)
            # h11 bounds only what is still incomplete, so a head that arrives in one
            # read would pass where the same head in pieces fails. Measuring what each
            # event consumed, apart from body data, makes the limit independent of how
            # the bytes were split.
            if _RECEIVE_BUFFER:
                consumed = self._fed - len(conn._receive_buffer)
            else:
                consumed = self._fed - len(conn.trailing_data[0])
            framing = consumed - self._consumed
            self._consumed = consumed
            if kind is h11.Data:
                framing -= len(event.data)  # type: ignore[union-attr]
            if framing > self._max_head_size:
                error = self._fail(self._head_too_large())
                if pieces:
                    return BodyData(b"".join(pieces))
                raise error
            if kind is h11.Data:
                # h11 hands out bytearray slices of its buffer; events carry bytes (the
                # join makes them bytes).
                data = event.data  # type: ignore[union-attr]
                decoder = self._decoder
                if decoder is not None:
                    try:
                        data = self._decode(data, final=False)
                    except RemoteProtocolError:
                        if pieces:
                            return BodyData(b"".join(pieces))  # the error is kept for next
                        raise
                if data:
                    pieces.append(data)
                if decoder is not None and decoder.limit_reached and pieces:
                    return BodyData(b"".join(pieces))  # the limit error comes next
            elif kind is h11.Response:
                return self._response_head(event)  # type: ignore[arg-type]
            elif kind is h11.EndOfMessage:
                self._ended = True
                trailers = event.headers  # type: ignore[union-attr]
                end = BodyEnd(trailers=_headers(trailers)) if trailers else _NO_TRAILERS
                if self._decoder is not None:
                    try:
                        tail = self._decode(b"", final=True)
                    except RemoteProtocolError:
                        if pieces:
                            return BodyData(b"".join(pieces))
                        raise
                    if tail:
                        pieces.append(tail)
                if pieces:
                    self._pending_end = end
                    return BodyData(b"".join(pieces))
                return end
            elif kind is h11.InformationalResponse:
                continue  # 1xx (100 Continue, 103 Early Hints) precede the real answer
            else:
                if event is h11.PAUSED:
                    error = self._fail(
                        RemoteProtocolError("server switched protocols unexpectedly")
                    )
                else:  # ConnectionClosed
                    error = self._fail(
                        RemoteProtocolError("server closed the connection before responding")
                    )
                if pieces:
                    return BodyData(b"".join(pieces))
                raise error

    def _response_head(self, event: h11.Response) -> ResponseHead:
        headers = _headers(event.headers)
        if self._decode_content:
            encoding = headers.get("content-encoding")
            if encoding is not None:
                decoder = ContentDecoder(encoding, max_decoded_size=self._max_decoded_size)
                if not decoder.is_passthrough:
                    self._decoder = decoder
        return ResponseHead(
            status_code=event.status_code,
            headers=headers,
            http_version=_VERSIONS.get(event.http_version, "HTTP/1.1"),  # type: ignore[arg-type]
            reason=event.reason.decode("latin-1"),
        )

    def _decode(self, data: bytes, *, final: bool) -> bytes:
        assert self._decoder is not None
        try:
            return self._decoder.flush() if final else self._decoder.decode(data)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise

    def _remote_error(self, exc: h11.RemoteProtocolError) -> RemoteProtocolError:
        if exc.error_status_hint == 431 or self._invalid_head_too_large():
            return self._head_too_large()
        if self._eof:
            return RemoteProtocolError(
                f"server closed the connection before the response completed: {exc}"
            )
        return RemoteProtocolError(f"invalid HTTP/1.1 response: {exc}")

    def _invalid_head_too_large(self) -> bool:
        # h11 takes a head (or chunk header, or trailers) out of its buffer before
        # rejecting it. One over the limit fails for its size when it arrives in pieces
        # (h11 gives up before it is complete), so it must fail for its size when whole.
        rejected = self._fed - self._unparsed() - self._consumed
        return rejected > self._max_head_size

    def _head_too_large(self) -> LimitExceededError:
        return LimitExceededError(
            f"response head, chunk header or trailers exceed max_head_size"
            f" ({self._max_head_size} bytes)",
            limit=self._max_head_size,
            limit_name="max_head_size",
        )

    def _fail(self, error: RemoteProtocolError) -> RemoteProtocolError:
        self._error = error
        self._closed = True
        return error

    # -- lifecycle ----------------------------------------------------------------

    def cancel(self, stream_id: int) -> None:
        """Abandons the exchange: the connection cannot be reused and should be closed."""
        self._check_stream(stream_id)
        self._closed = True

    def release(self, stream_id: int) -> None:
        """Ends the stream; starts the next keep-alive cycle if both sides finished cleanly."""
        if not self._active or stream_id != self._stream_id:
            return
        self._active = False
        conn = self._h11
        if (
            self._ended
            and self._error is None
            and not self._closed
            and conn.our_state is h11.DONE
            and conn.their_state is h11.DONE
            and not self._leftover()
        ):
            conn.start_next_cycle()
        else:
            # Bytes after the end of the response (a duplicated answer, a proxy's
            # garbage) would be read as the next request's response: a connection
            # whose stream was not read exactly to its end is never reused.
            self._closed = True

    def _leftover(self) -> bool:
        """True when bytes past the end of the current response were fed."""
        return self._unparsed() > 0

    def _unparsed(self) -> int:
        """How many of the fed bytes h11 holds unparsed."""
        if _RECEIVE_BUFFER:
            return len(self._h11._receive_buffer)
        return len(self._h11.trailing_data[0])

    def _check_stream(self, stream_id: int) -> None:
        if not self._active or stream_id != self._stream_id:
            raise LocalProtocolError(f"stream {stream_id} is not open on this connection")

    @property
    def is_reusable(self) -> bool:
        """No error, no EOF, neither side asked to close after this exchange, and no
        byte was fed that does not belong to the response in flight."""
        conn = self._h11
        return (
            not self._closed
            and not self._eof
            and conn.our_state not in _UNUSABLE_STATES
            and conn.their_state not in _UNUSABLE_STATES
            and (self._active or not self._leftover())
        )

    @property
    def open_streams(self) -> int:
        return 1 if self._active else 0

    @property
    def max_streams(self) -> int:
        return 1

    @property
    def is_closed(self) -> bool:
        """True once nothing more can be sent or received; buffered events can still be read."""
        return self._closed or self._eof

    def next_timer(self) -> float | None:
        """HTTP/1.1 has no keepalive timer."""
        return None

    def handle_timer(self, now: float) -> None:
        """Nothing to do on HTTP/1.1."""

    # A read that timed out leaves the response unread, so the connection is not
    # reused at all: there is nothing to prove.
    needs_alive_check = False
    proving = False

    def timed_out(self, now: float) -> None:
        """Nothing to do on HTTP/1.1 (see `needs_alive_check`)."""

    def check_alive(self, now: float, timeout: float | None) -> float | None:
        """Always None on HTTP/1.1: go ahead."""
        return None
