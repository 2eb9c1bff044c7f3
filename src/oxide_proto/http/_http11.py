"""HTTP/1.1 exchanges over one connection, on h11.

h11 does the parsing and framing (RFC 9112); this module adapts it to the
`HTTPConnection` interface: one request at a time, stream ids counting keep-alive
cycles, response bodies content-decoded, and every h11 exception turned into ours
where it crosses into this code. Three h11 internals make it cheaper; each is
checked once at import and replaced by h11's public API when it is missing or
behaves otherwise (see `_probe_h11`).

The plain exchange: a request with a known-length body (or none) whose response
is `HTTP/1.1`, 2xx-5xx, framed by one Content-Length, with nothing unusual in its
head, is the exchange nearly every API call makes, and h11's per-event machinery
costs more than the rest of the call's HTTP/1.1 work. Such an exchange runs
without h11 (`_Plain`): the head is written and the response parsed by strict
patterns that accept a subset of what h11 accepts. At the first sign of anything
else (another status line, framing, an obs-fold, a control byte, a head over the
limit, EOF before the head ends) the exchange is replayed into h11 with every
byte received so far and h11 carries on, errors and all: what the plain path
takes it parses as h11 would, and what it refuses h11 judges.
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


# A waiting request keeps its framing field; requests of one size share one.
@functools.lru_cache(maxsize=256)
def _length_field(length: int) -> tuple[str, str]:
    return ("content-length", str(length))


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

# The plain exchange (see the module docstring). Off, every exchange goes through h11.
_PLAIN_EXCHANGE = True
# A response to these methods has no body whatever its head says (RFC 9110 §9.3.2,
# §9.3.6): h11 frames it.
_PLAIN_SKIP_METHODS: Final = frozenset({"HEAD", "CONNECT"})
_TARGET: Final = re.compile(r"[\x21-\x7e]+")  # h11's request-target (RFC 9112 §3.2)
# h11 ends a head at the first empty line, CRLF or bare LF: the plain path takes
# CRLF only and hands the rest to h11.
_HEAD_END: Final = re.compile(rb"\n\r?\n")
# Subsets of h11's grammar (RFC 9112 §4, §5; RFC 9110 §5.5): a status line of
# HTTP/1.1 with a final status whose response may have a body (not 1xx, 204, 304;
# RFC 9110 §6.4.1), and fields of a token name and visible characters or obs-text
# with inner blanks, trimmed of blanks at either end as h11 trims them.
_PLAIN_STATUS: Final = re.compile(
    rb"HTTP/1\.1 ((?!204|304)[2-5][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?\r\n"
)
_PLAIN_FIELD: Final = (
    rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*"
    rb"((?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?)[ \t]*\r\n"
)
_PLAIN_FIELDS: Final = re.compile(rb"(?:%s)*\r\n" % _PLAIN_FIELD)
_PLAIN_FIELD_RE: Final = re.compile(_PLAIN_FIELD)
# Longer Content-Length values go to h11, which refuses those over 20 digits.
_PLAIN_LENGTH_DIGITS: Final = 18


@functools.lru_cache(maxsize=512)
def _token(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None


class _Plain:
    """A plain exchange in flight: what h11 needs to take it over, and the response so far."""

    __slots__ = (
        "authority",
        "body",
        "extra",
        "framing",
        "head",
        "left",
        "method",
        "pending",
        "target",
    )

    def __init__(
        self,
        method: str,
        target: str,
        authority: str,
        framing: tuple[str, str] | None,
        body: bytes | None,
    ) -> None:
        self.method = method
        self.target = target
        self.authority = authority
        self.framing = framing
        self.body = body
        self.head = b""  # bytes received before the head was parsed
        self.left = -1  # body bytes still to come; -1 until the head is parsed
        self.pending: list[bytes] = []  # body bytes received, not yet handed out
        self.extra = False  # bytes past the end of the response were received


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


def _tell_h11_sent(
    conn: h11.Connection,
    method: str,
    target: str,
    authority: str,
    framing: tuple[str, str] | None,
) -> None:
    """Moves h11's state as sending this request's head would (needs `_FAST_HEAD`).

    h11 keeps, from a request, the method and the fields that decide framing and
    keep-alive: given those, its state is what sending the whole head makes it.
    Raises h11's LocalProtocolError for a method or target it refuses.
    """
    fields = [(b"host", b"host", authority.encode("ascii"))]
    if framing is not None:
        name = framing[0].encode("ascii")
        fields.append((name, name, framing[1].encode("ascii")))
    event = h11.Request(
        method=method.encode("ascii"),
        target=target.encode("ascii"),
        headers=H11Headers(fields),
        _parsed=True,  # validates method and target only
    )
    conn._process_event(h11.CLIENT, event)


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
        self._plain: _Plain | None = None  # the exchange runs without h11 (so far)
        # Some exchange went through h11. Until one does, h11 is idle with nothing
        # fed, and `is_reusable` need not ask it.
        self._h11_used = False

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
        self._plain = self._start_plain(request, framing) if _PLAIN_EXCHANGE else None
        if self._plain is None:
            self._h11_used = True
        out, conn = self._out, self._h11
        try:
            if self._plain is not None:
                pass  # queued, and h11 left idle
            elif self._send_head(request, framing):
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
        self._drained = self._plain is None and not self._leftover()
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
            return _length_field(len(body))
        if body is None:
            return ("content-length", "0") if request.method in _BODY_METHODS else None
        if request.content_length is not None:
            return _length_field(request.content_length)
        return ("transfer-encoding", "chunked")

    def _send_head(self, request: Request, framing: tuple[str, str] | None) -> bool:
        """Writes the request head as one string and tells h11 it was sent.

        h11 would validate every field again and serialize them one by one, which
        costs more than the rest of the exchange; `build_request` has validated them
        already. Returns False, having sent nothing, when the request carries a field
        h11 must see whole or anything unusual, so h11 can send it (and refuse it).
        """
        if not _FAST_HEAD:
            return False
        head = self._head_text(request, framing)
        if head is None:
            return False
        # Raises for a method or target h11 refuses, before anything is queued.
        _tell_h11_sent(
            self._h11, request.method, request.url.target, request.url.authority, framing
        )
        self._out.append(head.encode("latin-1"))
        return True

    @staticmethod
    def _head_text(request: Request, framing: tuple[str, str] | None) -> str | None:
        """The request head, or None when a field needs h11 or h11 would refuse one."""
        headers = request.headers
        if not _H11_FIELDS.isdisjoint(headers):
            return None
        fields = headers.multi_items()
        authority = request.url.authority
        if not authority.isascii():
            return None
        if type(headers) is CheckedHeaders:
            # Checked when the request was built: only what this module adds is left.
            if _BAD_VALUES.search(authority):
                return None
        else:
            values = [authority, *[value for _, value in fields]]
            if framing is not None:
                values.append(framing[1])
            if _BAD_VALUES.search("\t".join(values)) or not all(
                map(_token, [name for name, _ in fields])
            ):
                return None
        lines = [f"{name}: {value}\r\n" for name, value in fields]
        if framing is not None:
            lines.append(f"{framing[0]}: {framing[1]}\r\n")
        method, target = request.method, request.url.target
        return f"{method} {target} HTTP/1.1\r\nhost: {authority}\r\n{''.join(lines)}\r\n"

    def _start_plain(self, request: Request, framing: tuple[str, str] | None) -> _Plain | None:
        """Queues `request` as a plain exchange (h11 stays idle), or returns None."""
        method, body = request.method, request.body
        if method in _PLAIN_SKIP_METHODS or not (body is None or isinstance(body, bytes)):
            return None
        target = request.url.target
        # The method and target h11 would refuse go to h11, to be refused there.
        if not _token(method) or not target.isascii() or _TARGET.fullmatch(target) is None:
            return None
        head = self._head_text(request, framing)
        if head is None:
            return None
        self._out.append(head.encode("latin-1"))
        if body:
            self._out.append(body)
        return _Plain(method, target, request.url.authority, framing, body)

    def _plain_to_h11(self) -> None:
        """Hands the plain exchange to h11: the request as sent, then every byte received."""
        plain, self._plain = self._plain, None
        assert plain is not None
        self._h11_used = True
        conn = self._h11
        if not self._plain_sent_fast(plain):
            fields = [("host", plain.authority)]
            if plain.framing is not None:
                fields.append(plain.framing)
            # The bytes were written already: h11's copy of them only moves its state.
            conn.send(h11.Request(method=plain.method, target=plain.target, headers=fields))
            if plain.body:
                conn.send(h11.Data(data=plain.body))
            conn.send(h11.EndOfMessage())
        if plain.head:
            self._fed += len(plain.head)
            conn.receive_data(plain.head)
        if self._eof:
            conn.receive_data(b"")
        self._drained = False

    def _plain_sent_fast(self, plain: _Plain) -> bool:
        """Tells h11 the plain request was sent, as `_send_head` does; False without
        the h11 internals it needs (the caller then uses h11's public API).

        h11's `send` would serialize the head again only to move its state: a
        streamed response (chunked) comes this way on every call.
        """
        if not _FAST_HEAD:
            return False
        _tell_h11_sent(self._h11, plain.method, plain.target, plain.authority, plain.framing)
        self._h11._process_event(h11.CLIENT, h11.EndOfMessage())
        return True

    def _plain_event(self) -> ResponseHead | BodyData | BodyEnd | NeedData | None:
        """The plain exchange's next event; None when it was handed to h11."""
        plain = self._plain
        assert plain is not None
        if plain.left < 0:
            head = self._plain_head(plain)
            if head is None:
                self._plain_to_h11()
            return head
        pending = plain.pending
        data = b""
        if pending:
            data = pending[0] if len(pending) == 1 else b"".join(pending)
            pending.clear()
        left = plain.left
        if len(data) > left:
            plain.extra = True  # the release will not reuse the connection
            data = data[:left]
        left -= len(data)
        plain.left = left
        decoder = self._decoder
        if decoder is not None:
            if data:
                data = self._decode(data, final=False)
            if decoder.limit_reached:
                if data:
                    return BodyData(data)  # the limit error comes next
                self._decode(b"", final=True)  # raises
            if left == 0:
                data += self._decode(b"", final=True)
        if left == 0:
            self._ended = True
            if data:
                self._pending_end = _NO_TRAILERS
                return BodyData(data)
            return _NO_TRAILERS
        if data:
            return BodyData(data)
        if self._eof:
            raise self._fail(
                RemoteProtocolError(
                    "server closed the connection before the response completed:"
                    f" {left} of its Content-Length body bytes missing"
                )
            )
        return NEED_DATA

    def _plain_head(self, plain: _Plain) -> ResponseHead | NeedData | None:
        """The response head, NEED_DATA, or None for a head the plain path leaves to h11."""
        buf = plain.head
        if not buf:
            return None if self._eof else NEED_DATA
        if not b"HTTP/1.1 ".startswith(buf[:9]):
            return None  # not a plain head; h11 may refuse it before it is complete
        found = _HEAD_END.search(buf)
        if found is None:
            if self._eof or len(buf) > self._max_head_size:
                return None
            return NEED_DATA
        start, end = found.span()
        if end - start != 3 or buf[start - 1 : start] != b"\r" or end > self._max_head_size:
            return None
        status = _PLAIN_STATUS.match(buf)
        if status is None:
            return None
        fields_at = status.end()
        if _PLAIN_FIELDS.fullmatch(buf, fields_at, end) is None:
            return None
        items = []
        length = -1
        for raw_name, raw_value in _PLAIN_FIELD_RE.findall(buf, fields_at, end):
            name = raw_name.lower().decode("ascii")
            if name == "content-length":
                # One length, digits only; h11 judges lists, repeats and the rest.
                if length >= 0 or not raw_value.isdigit() or len(raw_value) > _PLAIN_LENGTH_DIGITS:
                    return None
                length = int(raw_value)
            elif name == "transfer-encoding":
                return None
            elif name == "connection" and b"close" in raw_value.lower():
                return None  # h11 keeps track of the connection's end
            items.append((name, raw_value.decode("latin-1")))
        if length < 0:
            return None  # read until EOF (RFC 9112 §6.3): h11 frames it
        rest = buf[end:]
        plain.head = b""
        if rest:
            plain.pending.append(rest)
        plain.left = length
        headers = Headers._from_lowered(tuple(items))
        self._use_decoder(headers)
        reason = status.group(2)
        return ResponseHead(
            status_code=int(status.group(1)),
            headers=headers,
            http_version="HTTP/1.1",
            reason=reason.decode("latin-1") if reason else "",
        )

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
        plain = self._plain
        if plain is not None:
            if data:
                if plain.left < 0:
                    plain.head += data
                else:
                    plain.pending.append(data)
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
        if self._plain is not None:
            plain_event = self._plain_event()
            if plain_event is not None:
                return plain_event
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
        self._use_decoder(headers)
        return ResponseHead(
            status_code=event.status_code,
            headers=headers,
            http_version=_VERSIONS.get(event.http_version, "HTTP/1.1"),  # type: ignore[arg-type]
            reason=event.reason.decode("latin-1"),
        )

    def _use_decoder(self, headers: Headers) -> None:
        """Decodes the body by its Content-Encoding, when asked to and it has one."""
        if self._decode_content:
            encoding = headers.get("content-encoding")
            if encoding is not None:
                decoder = ContentDecoder(encoding, max_decoded_size=self._max_decoded_size)
                if not decoder.is_passthrough:
                    self._decoder = decoder

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
        plain, self._plain = self._plain, None
        if plain is not None:
            # h11 stayed idle: the connection is reused when the response was read to
            # its end and nothing came after it.
            if not self._ended or self._error is not None or plain.extra:
                self._closed = True
            return
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
        if not self._h11_used:
            # Plain exchanges only: h11 is idle and was fed nothing, and a plain
            # exchange that went wrong closed the connection.
            return not self._closed and not self._eof
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

    def take_news(self) -> list[int] | None:
        """Always None on HTTP/1.1: its one stream is the one any input is for."""
        return None
