"""A client WebSocket session (RFC 6455) over wsproto, sans-I/O.

One object per connection, from the HTTP/1.1 Upgrade to the last Close frame. The
driver moves bytes and keeps the clock; this session decides everything else:
it validates the server's 101, reassembles fragmented messages under a size limit,
answers pings, completes the close handshake, and runs a keepalive (ping when the
peer has been quiet, give up when it stays quiet). wsproto does the framing; every
wsproto or h11 exception is translated where it crosses into this module.

The handshake key and the frame masks come from wsproto, which draws them from the
operating system's random source; RFC 6455 §5.3 requires masks to be unpredictable,
so they are deliberately not derived from a caller-supplied `random`.

Typical driver loop: after construction and after every call, write out what
`data_to_send()` returns; feed what the socket reads to `receive_data(data, now)`
(b"" at EOF); call `next_event()` until it returns NEED_DATA; arm a timer for
`next_timer()` and call `handle_timer(now)` when it fires. Between reads (an agent
running a tool while nobody reads), a NAT or load balancer may drop the idle
connection without a word: before a send, `check_alive(now)` says whether the
server must first prove it is still there.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping

import h11
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws
from wsproto.connection import ConnectionState
from wsproto.utilities import LocalProtocolError as WSLocalProtocolError
from wsproto.utilities import RemoteProtocolError as WSRemoteProtocolError

from ..base._errors import (
    InvalidHeaderError,
    LimitExceededError,
    LocalProtocolError,
    RemoteProtocolError,
    WebSocketConnectionClosedError,
    WebSocketHandshakeError,
)
from ..base._headers import SECRET_HEADERS, Headers
from ..base._types import URL
from ..http._events import NEED_DATA, NeedData
from ._websocket_events import (
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    BinaryMessage,
    Closed,
    Opened,
    TextMessage,
    WebSocketEvent,
    WebSocketState,
)

__all__ = ["WebSocketSession", "DEFAULT_MAX_MESSAGE_SIZE"]

# A refusal's body is kept for the error (the API explains 401/403/404 there), but
# only this much of it: a hostile server must not make a refusal cost unbounded memory.
_MAX_REFUSAL_BODY = 64 * 1024
_MAX_REFUSAL_TEXT_IN_MESSAGE = 2000

# RFC 6455 §5.5: control frame payloads (ping, close) are at most 125 bytes, so a
# close reason is at most 123 bytes after the 2-byte code.
_MAX_CONTROL_PAYLOAD = 125
_MAX_CLOSE_REASON = 123

# RFC 6455 §1.3: a WebSocket close code. 1006 is what we report for a connection that
# ended without a Close frame (§7.1.5); it may never be sent (§7.4.1).
_ABNORMAL_CLOSURE = 1006
_INVALID_PAYLOAD = 1007
_MESSAGE_TOO_BIG = 1009
_INTERNAL_ERROR = 1011

# The handshake writes these itself (RFC 6455 §4.1); a caller's copy would duplicate
# or contradict them. Subprotocols go through the `subprotocols` argument.
_HANDSHAKE_HEADERS = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "content-length",
        "transfer-encoding",
    }
)

# RFC 9110 §5.1 / §5.5: a token for names; for values, visible characters with
# inner spaces or tabs only, which rules out CR/LF/NUL (header injection).
_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+\Z")
_FIELD_VALUE = re.compile(r"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?\Z")


def _sendable_close_code(code: int) -> bool:
    # RFC 6455 §7.4.1-2: 1004-1006 and 1015 are reserved and never sent; 1000-2999 are
    # for the protocol (only the registered ones), 3000-4999 for libraries and apps.
    return code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _encode_headers(
    headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]],
) -> list[tuple[bytes, bytes]]:
    pairs: Iterable[tuple[str, str]]
    if isinstance(headers, Headers):
        pairs = headers.multi_items()
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    encoded = []
    for name, value in pairs:
        lowered = name.lower()
        shown = "<redacted>" if lowered in SECRET_HEADERS else repr(value)
        if not _TOKEN.match(name):
            raise InvalidHeaderError(f"invalid header name {name!r}")
        if lowered in _HANDSHAKE_HEADERS:
            raise LocalProtocolError(
                f"header {name!r} is set by the WebSocket handshake itself and may not be given"
            )
        value = value.strip(" \t")
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidHeaderError(
                f"header {name!r} has a value outside latin-1: {shown}"
            ) from None
        if not _FIELD_VALUE.match(value):
            raise InvalidHeaderError(
                f"header {name!r} has a value with control characters or line breaks: {shown}"
            )
        encoded.append((name.encode("ascii"), raw))
    return encoded


class WebSocketSession:
    """The client side of one WebSocket connection.

    Construction queues the HTTP/1.1 Upgrade request (with `headers`, for example
    `Authorization: Bearer …` and `OpenAI-Beta`): send `data_to_send()` first.
    `next_event()` then yields `Opened` once the server's 101 is validated, then
    `TextMessage` / `BinaryMessage`, and finally `Closed`; it raises
    `WebSocketHandshakeError` when the server refuses the upgrade,
    `LimitExceededError` when a message is larger than `max_message_size` (the
    session then starts a close with code 1009), and `RemoteProtocolError` when the
    peer breaks RFC 6455 (the session then closes with the matching code).

    Keepalive: when nothing was received for `keepalive_interval` seconds,
    `handle_timer` sends a ping; when nothing (not even the pong) arrives within
    `keepalive_timeout` after it, the connection is declared dead. Any received byte
    counts as a sign of life, so a pong stuck behind a long message does not kill a
    healthy connection. `keepalive_interval=None` turns the pings off.
    """

    __slots__ = (
        "_close_code",
        "_close_deadline",
        "_close_reason",
        "_closed",
        "_discarding",
        "_keepalive_interval",
        "_keepalive_timeout",
        "_last_heard",
        "_max_message_size",
        "_out",
        "_parts",
        "_parts_size",
        "_ping_count",
        "_ping_sent_at",
        "_queue",
        "_refusal_body",
        "_refusal_headers",
        "_refusal_status",
        "_state",
        "_ws",
        "url",
    )

    def __init__(
        self,
        url: URL,
        *,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] = (),
        subprotocols: Iterable[str] = (),
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        now: float,
    ) -> None:
        if url.scheme not in ("ws", "wss"):
            raise LocalProtocolError(f"a WebSocket URL must be ws:// or wss://, not {url}")
        if max_message_size <= 0:
            raise LocalProtocolError(f"max_message_size must be positive, not {max_message_size}")
        if keepalive_interval is not None and keepalive_interval <= 0:
            raise LocalProtocolError(
                f"keepalive_interval must be positive or None, not {keepalive_interval}"
            )
        if keepalive_timeout <= 0:
            raise LocalProtocolError(f"keepalive_timeout must be positive, not {keepalive_timeout}")
        protocols = list(subprotocols)
        for protocol in protocols:
            if not _TOKEN.match(protocol):
                raise LocalProtocolError(f"invalid WebSocket subprotocol {protocol!r}")
        extra_headers = _encode_headers(headers)

        self.url = url
        self._max_message_size = max_message_size
        self._keepalive_interval = keepalive_interval
        self._keepalive_timeout = keepalive_timeout
        self._state = WebSocketState.CONNECTING
        self._queue: collections.deque[WebSocketEvent | Exception] = collections.deque()
        self._closed: Closed | None = None
        self._close_code: int | None = None
        self._close_reason = ""
        self._close_deadline: float | None = None
        self._last_heard = now
        self._ping_sent_at: float | None = None
        self._ping_count = 0
        self._parts: list[str | bytes] = []
        self._parts_size = 0
        self._discarding = False
        self._refusal_status: int | None = None
        self._refusal_headers: Headers | None = None
        self._refusal_body = bytearray()

        self._ws = WSConnection(ConnectionType.CLIENT)
        request = ws.Request(
            host=url.authority,
            target=url.target,
            extra_headers=extra_headers,
            subprotocols=protocols,
        )
        try:
            self._out = bytearray(self._ws.send(request))
        except (WSLocalProtocolError, h11.LocalProtocolError, UnicodeError) as exc:
            raise LocalProtocolError(f"cannot build the WebSocket upgrade request: {exc}") from exc

    # -- state ---------------------------------------------------------------------

    @property
    def state(self) -> WebSocketState:
        return self._state

    @property
    def closed(self) -> Closed | None:
        """How the connection ended, once it has (messages before it may still wait).

        The same `Closed` that `next_event()` returns after the messages received
        before the end, which stay queued until read.
        """
        return self._closed

    def __repr__(self) -> str:
        return f"<WebSocketSession {self.url} {self._state.value}>"

    # -- input ---------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feeds bytes read from the connection; b"" means the peer closed it (EOF).

        Pass `now` so the keepalive knows the peer was just heard from. Afterwards,
        call `next_event()` until NEED_DATA and send what `data_to_send()` returns
        (pongs and Close replies are produced here). Bytes after the end of the
        connection are ignored.
        """
        state = self._state
        if state is WebSocketState.CLOSED:
            return
        if data and now is not None:
            self._last_heard = now
            self._ping_sent_at = None
        if state is WebSocketState.CONNECTING:
            self._receive_handshake(data)
        elif data:
            self._ws.receive_data(data)
            self._drain()
        else:
            self._finish(Closed(_ABNORMAL_CLOSURE, "connection lost without a Close frame"))

    def next_event(self) -> WebSocketEvent | NeedData:
        """The next event, or NEED_DATA when more bytes must be received first.

        Raises the errors listed on the class, each once, in the order the bytes
        caused them. Once closed, every call returns the same `Closed` event.
        """
        if self._queue:
            item = self._queue.popleft()
            if isinstance(item, Exception):
                raise item
            return item
        if self._closed is not None:
            return self._closed
        return NEED_DATA

    def take_messages(self) -> tuple[list[TextMessage | BinaryMessage], Closed | None]:
        """The messages received and not yet read, and the `Closed` event if it came.

        For a connection that ended: lets a reopened one deliver what the old one
        received before its end. An error about a message (one too big) is
        dropped with that message.
        """
        messages: list[TextMessage | BinaryMessage] = []
        while True:
            try:
                event = self.next_event()
            except Exception:
                continue
            if isinstance(event, (TextMessage, BinaryMessage)):
                messages.append(event)
            else:
                return messages, event if isinstance(event, Closed) else None

    def _receive_handshake(self, data: bytes) -> None:
        failure: WSRemoteProtocolError | UnicodeDecodeError | None = None
        try:
            self._ws.receive_data(data or None)
        except (WSRemoteProtocolError, UnicodeDecodeError) as exc:
            # wsproto decodes the 101's Connection, Sec-WebSocket-Protocol and
            # -Extensions values as ASCII without catching the error itself.
            failure = exc
        self._drain()
        if self._state is not WebSocketState.CONNECTING:
            return
        if self._refusal_status is not None and (failure is not None or not data):
            # A refusal whose body was cut short is still a refusal: report its status.
            self._refuse()
        elif failure is not None or not data:
            # wsproto raises one error for both an unparsable HTTP response (h11's error
            # is then the context) and a 101 that fails RFC 6455 §4.2.2's checks.
            http_error = failure.__context__ if failure is not None else None
            cause: BaseException | None = failure
            status = None
            if not data:
                message = "connection closed before the WebSocket handshake"
            elif isinstance(http_error, h11.RemoteProtocolError):
                # h11's wording depends on how much of the bad line had arrived, so it
                # stays in the cause and the message is the same however reads split.
                message = "invalid HTTP response to the WebSocket upgrade"
                cause = http_error
            else:
                message = f"invalid WebSocket handshake response: {failure}"
                status = 101
            error = WebSocketHandshakeError(message, status_code=status)
            error.__cause__ = cause
            self._fail_handshake(error)

    def _drain(self) -> None:
        # Exact-type dispatch: wsproto's event classes are final, and this loop runs
        # once per frame.
        conn = self._ws
        for event in conn.events():
            if isinstance(event, ws.Message):
                self._on_data(event.data, event.message_finished)
            elif isinstance(event, ws.Ping):
                # RFC 6455 §5.5.2: answer with a pong carrying the same payload, unless
                # a Close was already sent (then nothing more may follow it).
                if conn.state is ConnectionState.OPEN:
                    self._out += conn.send(event.response())
            elif isinstance(event, ws.Pong):
                self._ping_sent_at = None
            elif isinstance(event, ws.CloseConnection):
                self._on_close(event)
            elif isinstance(event, ws.AcceptConnection):
                self._state = WebSocketState.OPEN
                self._queue.append(Opened(event.subprotocol, Headers.from_raw(event.extra_headers)))
            elif isinstance(event, ws.RejectConnection):
                self._refusal_status = event.status_code
                self._refusal_headers = Headers.from_raw(event.headers)
                if not event.has_body:
                    self._refuse()
            elif isinstance(event, ws.RejectData):
                room = _MAX_REFUSAL_BODY - len(self._refusal_body)
                self._refusal_body += event.data[:room]
                if event.body_finished or room <= len(event.data):
                    self._refuse()
            if self._state is WebSocketState.CLOSED:
                return

    def _on_data(self, data: str | bytes, finished: bool) -> None:
        if self._discarding:
            # The rest of a message already refused for its size (RFC 6455 §7.4.1,
            # 1009): skipped as it arrives so it never occupies memory.
            self._discarding = not finished
            return
        if isinstance(data, str) and not data.isascii():
            size = self._parts_size + len(data.encode("utf-8"))
        else:
            size = self._parts_size + len(data)
        if size > self._max_message_size:
            self._parts.clear()
            self._parts_size = 0
            self._discarding = not finished
            self._queue.append(
                LimitExceededError(
                    f"WebSocket message larger than max_message_size "
                    f"({self._max_message_size} bytes)",
                    limit=self._max_message_size,
                    limit_name="max_message_size",
                )
            )
            if self._state is WebSocketState.OPEN:
                # `_last_heard` is the time of this very receive when the driver gave it.
                self._start_close(_MESSAGE_TOO_BIG, "message too big", self._last_heard)
            return
        if not finished:
            self._parts.append(data)
            self._parts_size = size
            return
        parts = self._parts
        if isinstance(data, str):
            if parts:
                parts.append(data)
                data = "".join(parts)  # type: ignore[arg-type]
            self._queue.append(TextMessage(data))
        else:
            if parts:
                parts.append(data)
                data = b"".join(parts)  # type: ignore[arg-type]
            self._queue.append(BinaryMessage(bytes(data)))
        if parts:
            parts.clear()
            self._parts_size = 0

    def _on_close(self, event: ws.CloseConnection) -> None:
        conn = self._ws
        if conn.state is ConnectionState.REMOTE_CLOSING:
            # RFC 6455 §5.5.1: the peer started the close; echo its code to finish it.
            self._out += conn.send(event.response())
            self._finish(Closed(event.code, event.reason or ""))
        elif conn.state is ConnectionState.CLOSED:
            self._finish(Closed(event.code, event.reason or ""))
        else:
            # wsproto reports a frame it cannot parse as a CloseConnection carrying the
            # code to fail with (1002, 1007), leaving its state unchanged; its parser
            # stops there, so the connection is failed (RFC 6455 §7.1.7).
            if event.code == _INVALID_PAYLOAD:
                # The codec's text gives a position inside whatever piece wsproto was
                # decoding, which depends on how the reads split the bytes.
                detail = "text that is not valid UTF-8"
            else:
                detail = event.reason or "invalid frame"
            self._queue.append(RemoteProtocolError(f"WebSocket protocol error: {detail}"))
            if conn.state is ConnectionState.OPEN:
                self._out += conn.send(ws.CloseConnection(code=event.code, reason=""))
            self._finish(Closed(_ABNORMAL_CLOSURE, f"protocol error: {detail}"))

    def _refuse(self) -> None:
        status = self._refusal_status
        text = bytes(self._refusal_body).decode("utf-8", errors="replace").strip()
        message = f"WebSocket upgrade to {self.url} refused with HTTP status {status}"
        if text:
            shown = text[:_MAX_REFUSAL_TEXT_IN_MESSAGE]
            message += f": {shown}" + ("…" if len(text) > len(shown) else "")
        error = WebSocketHandshakeError(
            message, status_code=status, headers=self._refusal_headers, body=text or None
        )
        self._fail_handshake(error)

    def _fail_handshake(self, error: WebSocketHandshakeError) -> None:
        self._queue.append(error)
        self._finish(Closed(_ABNORMAL_CLOSURE, "WebSocket handshake failed"))

    def _finish(self, closed: Closed) -> None:
        self._state = WebSocketState.CLOSED
        self._closed = closed
        self._close_deadline = None
        self._parts.clear()
        self._queue.append(closed)

    # -- output --------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """The bytes to write to the connection now (empty when there are none)."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data

    def send_text(self, data: str) -> None:
        """Queues a text message; send `data_to_send()` afterwards."""
        self._ensure_sending_allowed()
        self._out += self._ws.send(ws.TextMessage(data=data))

    def send_binary(self, data: bytes) -> None:
        """Queues a binary message; send `data_to_send()` afterwards."""
        self._ensure_sending_allowed()
        self._out += self._ws.send(ws.BytesMessage(data=data))

    def ping(self, payload: bytes = b"") -> None:
        """Queues a ping (at most 125 bytes of payload, RFC 6455 §5.5)."""
        self._ensure_sending_allowed()
        if len(payload) > _MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError(
                f"a ping payload is at most {_MAX_CONTROL_PAYLOAD} bytes, not {len(payload)}"
            )
        self._out += self._ws.send(ws.Ping(payload=payload))

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """Starts the close handshake; send `data_to_send()` afterwards.

        Messages the server sent before it saw the Close still arrive; `Closed`
        follows its reply. With `now`, `next_timer()` bounds the wait for that reply
        by `keepalive_timeout`. Closing a session that is already closing or closed
        does nothing; closing one still connecting abandons it (`Closed` 1006).
        """
        if not _sendable_close_code(code):
            raise LocalProtocolError(f"{code} is not a close code an endpoint may send")
        if len(reason.encode("utf-8")) > _MAX_CLOSE_REASON:
            raise LocalProtocolError(
                f"a close reason is at most {_MAX_CLOSE_REASON} bytes of UTF-8"
            )
        if self._state is WebSocketState.OPEN:
            self._start_close(code, reason, now)
        elif self._state is WebSocketState.CONNECTING:
            self._finish(Closed(_ABNORMAL_CLOSURE, "closed before the WebSocket handshake"))

    def _start_close(self, code: int, reason: str, now: float | None) -> None:
        self._out += self._ws.send(ws.CloseConnection(code=code, reason=reason))
        self._state = WebSocketState.CLOSING
        self._close_code, self._close_reason = code, reason
        if now is not None:
            self._close_deadline = now + self._keepalive_timeout

    def _ensure_sending_allowed(self) -> None:
        if self._state is WebSocketState.OPEN:
            return
        if self._state is WebSocketState.CONNECTING:
            raise LocalProtocolError("the WebSocket is not open yet: wait for the Opened event")
        if self._closed is not None:
            code, reason = self._closed.code, self._closed.reason
        else:
            code = self._close_code if self._close_code is not None else _ABNORMAL_CLOSURE
            reason = self._close_reason
        detail = f"code {code}" + (f", {reason}" if reason else "")
        raise WebSocketConnectionClosedError(
            f"the WebSocket is {self._state.value.lower()} ({detail})", code=code, reason=reason
        )

    # -- keepalive -----------------------------------------------------------------

    def next_timer(self) -> float | None:
        """When `handle_timer` must next be called (a `now` value), or None for never."""
        state = self._state
        if state is WebSocketState.OPEN:
            if self._keepalive_interval is None:
                return None
            if self._ping_sent_at is not None:
                return self._ping_sent_at + self._keepalive_timeout
            return self._last_heard + self._keepalive_interval
        if state is WebSocketState.CLOSING:
            return self._close_deadline
        return None

    def read_wait(
        self, now: float, deadline: float | None = None, *, give_up: float | None = None
    ) -> tuple[float | None, bool]:
        """How long the next read may wait (None: forever), and whether the timer ends it.

        The wait ends at `next_timer()` or at `deadline` (a `now` value; None for
        never), whichever comes first. When the timer comes first (the second
        value is True), a read that times out means: call `handle_timer(now)`;
        a wait of 0 means the timer is due already: call it without reading.
        `give_up` is the deprecated name of `deadline`.
        """
        if give_up is not None:
            import warnings  # loaded only for a caller of the old name

            warnings.warn(
                "read_wait(give_up=...) is deprecated: pass deadline=",
                DeprecationWarning,
                stacklevel=2,
            )
            if deadline is None:
                deadline = give_up
        timer = self.next_timer()
        if timer is not None and (deadline is None or timer < deadline):
            return max(timer - now, 0.0), True
        return None if deadline is None else deadline - now, False

    def handle_timer(self, now: float) -> None:
        """Runs the keepalive at `now`; send `data_to_send()` and read `next_event()` after.

        Sends a ping once the peer was quiet for `keepalive_interval`. When it stays
        quiet for `keepalive_timeout` after that ping, the connection is dead: a Close
        frame (1011, "keepalive ping timeout") is queued for a peer that may yet read
        it, and `Closed(1006, ...)` follows, because no Close frame was received
        (RFC 6455 §7.1.5) and 1006 is the code that says so and that reconnect logic
        treats as a dropped network. The same 1006 ends a close handshake whose
        reply did not come in time.
        """
        state = self._state
        if state is WebSocketState.OPEN:
            if self._keepalive_interval is None:
                return
            if self._ping_sent_at is not None:
                if now >= self._ping_sent_at + self._keepalive_timeout:
                    self._out += self._ws.send(
                        ws.CloseConnection(code=_INTERNAL_ERROR, reason="keepalive ping timeout")
                    )
                    self._finish(Closed(_ABNORMAL_CLOSURE, "keepalive ping timeout"))
            elif now >= self._last_heard + self._keepalive_interval:
                self._send_keepalive_ping(now)
        elif (
            state is WebSocketState.CLOSING
            and self._close_deadline is not None
            and now >= self._close_deadline
        ):
            self._finish(Closed(_ABNORMAL_CLOSURE, "close handshake timed out"))

    def check_alive(self, now: float) -> float | None:
        """Before a send after a quiet spell: must the server first show it is there?

        Feed whatever arrived while nobody was reading to `receive_data` first (a
        ping to answer, a Close frame, an EOF: then `state` is no longer OPEN and
        nothing must be sent). Returns None when the message may go out at once:
        the server was heard from within `keepalive_interval`, or pings are off
        (`keepalive_interval=None`), or the session is not open. Otherwise a ping
        is queued (send `data_to_send()`) unless one is already waiting for its
        pong, and the result is the time (a `now` value) by which the server must
        answer: read and feed bytes until `awaiting_pong` is False, and if that
        time comes first, call `handle_timer(now)`, which declares the connection
        dead (`Closed(1006)`, as a dropped network: reconnect logic may reopen it).
        Data messages that arrive meanwhile stay queued for `next_event()`.
        """
        if self._state is not WebSocketState.OPEN or self._keepalive_interval is None:
            return None
        sent = self._ping_sent_at
        if sent is None:
            if now < self._last_heard + self._keepalive_interval:
                return None
            self._send_keepalive_ping(now)
            sent = now
        return sent + self._keepalive_timeout

    @property
    def awaiting_pong(self) -> bool:
        """True while a keepalive ping is out and nothing has been heard since it left."""
        return self._ping_sent_at is not None and self._state is WebSocketState.OPEN

    def _send_keepalive_ping(self, now: float) -> None:
        self._ping_count += 1
        payload = (self._ping_count & 0xFFFFFFFF).to_bytes(4, "big")
        self._out += self._ws.send(ws.Ping(payload=payload))
        self._ping_sent_at = now
