"""A fault server: the mock API's answers, broken on request, over HTTP/1.1 and HTTP/2.

Each request names the fault it wants in an `x-fault` header (``name`` or
``name:argument``); without one it gets the mock server's normal answer
(`oxide_io.testing._app.MockApp`, whose replies quote the last user message, so a
caller can check that an answer is the one to its own request). The faults:

| fault | what the server does |
|---|---|
| ``status:CODE`` | answers CODE with the API's error body (``retry-after: 0``) |
| ``redirect:CODE`` | answers CODE to the same path (``?hop=1``), which is then answered |
| ``redirect-loop`` | answers 307 to itself, forever |
| ``bomb`` | a gzip body that decodes to 64 MiB + 1 byte |
| ``huge-head`` | a header field of 64 KiB + 1 byte |
| ``not-json`` | a 200 whose body is HTML |
| ``truncate`` | announces the whole body, sends half and closes |
| ``stall:SECONDS`` | sends the head, then nothing for SECONDS, then closes |
| ``drip:SECONDS`` | sends the body a few bytes at a time, SECONDS apart |
| ``delay:SECONDS`` | waits SECONDS before the head |
| ``rst:N`` / ``fin:N`` | sends N bytes of the answer, then a TCP reset / a close |
| ``after`` | HTTP/1.1: the answer and a complete second answer to another call, in one write |
| ``goaway`` | HTTP/2: head and half the body, then GOAWAY below this stream, and a close |
| ``goaway-graceful`` | HTTP/2: GOAWAY naming this stream, the whole answer, then a close |
| ``rst-stream:CODE`` | HTTP/2: head and half the body, then RST_STREAM with CODE |
| ``refused`` | HTTP/2: RST_STREAM REFUSED_STREAM before any answer (safe to retry) |
| ``flow-stall:SECONDS`` | HTTP/2: never opens the window for the request body, for SECONDS |

An HTTP/2-only fault sent over HTTP/1.1 is answered normally. HTTP/1.1 is the
scripted server's (`tests.io.scripted`); HTTP/2 (h2c with prior knowledge, or
TLS with ALPN h2) is served here with the h2 package, one thread a connection,
streams answered one after the other.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import ssl
import threading
import time
from contextlib import AbstractContextManager, suppress

import attrs
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

from oxide_io.testing._app import MockApp, RecordedRequest
from oxide_io.testing._wire import Answer
from tests.io.scripted import RESET, Pause, ScriptedServer, Seen, reset, serving

__all__ = ["FAULTS", "H2_ONLY", "FaultServer", "fault_server", "header_frames"]

MIB = 1024 * 1024
FAULTS = (
    "status",
    "redirect",
    "redirect-loop",
    "bomb",
    "huge-head",
    "not-json",
    "truncate",
    "stall",
    "drip",
    "delay",
    "rst",
    "fin",
    "after",
    "goaway",
    "goaway-graceful",
    "rst-stream",
    "refused",
    "flow-stall",
)
H2_ONLY = frozenset({"goaway", "goaway-graceful", "rst-stream", "refused", "flow-stall"})
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b'{"id": "' + b"a" * (64 * MIB + 1), compresslevel=1)


# -- what to send: a fault turned into steps --------------------------------------------


@attrs.frozen
class Head:
    status: int
    headers: tuple[tuple[str, str], ...]
    length: int | None  # the Content-Length announced on HTTP/1.1; None: the data's


@attrs.frozen
class Data:
    data: bytes


@attrs.frozen
class End:
    """The end of the answer's body (HTTP/2: END_STREAM)."""


@attrs.frozen
class Close:
    rst: bool  # a TCP reset rather than a close


@attrs.frozen
class Raw:
    """HTTP/1.1 only: bytes written as they are, after the answer."""

    data: bytes


@attrs.frozen
class GoAway:
    below: bool  # name the stream before this one as the last processed


@attrs.frozen
class RstStream:
    code: int


Step = Head | Data | End | Pause | Close | Raw | GoAway | RstStream


def _answer(request: RecordedRequest) -> Answer:
    answer, _plan = MockApp(api_key=None).handle(request)
    return answer


def _body(answer: Answer) -> list[bytes]:
    return list(answer.events) if answer.events is not None else [answer.body]


def _fault(headers: dict[str, str]) -> tuple[str, str]:
    name, _, argument = headers.get("x-fault", "").partition(":")
    return name, argument


def steps(request: RecordedRequest, http2: bool) -> list[Step]:
    """What to send for `request`, given the fault it asks for."""
    name, argument = _fault(dict(request.headers))
    if name in H2_ONLY and not http2:
        name = ""
    if name == "redirect" and request.query.get("hop"):
        name = ""
    answer = _answer(request)
    headers = tuple(answer.headers)
    pieces = _body(answer)
    total = sum(len(piece) for piece in pieces)
    whole: list[Step] = [Head(answer.status, headers, None), *map(Data, pieces), End()]
    if name == "status":
        status = int(argument or 500)
        error = {"error": {"message": f"fault {status}", "type": "server_error"}}
        body = json.dumps(error).encode()
        extra = (("content-type", "application/json"), ("retry-after", "0"))
        return [Head(status, extra, None), Data(body), End()]
    if name in ("redirect", "redirect-loop"):
        location = f"{request.path}?hop=1" if name == "redirect" else f"{request.path}?loop=1"
        status = int(argument or 307) if name == "redirect" else 307
        return [Head(status, (("location", location),), None), End()]
    if name == "bomb":
        extra = (("content-type", "application/json"), ("content-encoding", "gzip"))
        return [Head(200, extra, None), Data(_bomb()), End()]
    if name == "huge-head":
        big = ("x-big", "a" * (64 * 1024 + 1))
        return [Head(answer.status, (*headers, big), None), *map(Data, pieces), End()]
    if name == "not-json":
        html = Data(b"<html>portal</html>")
        return [Head(200, (("content-type", "text/html"),), None), html, End()]
    if name == "truncate":
        data = b"".join(pieces)
        return [Head(answer.status, headers, total), Data(data[: total // 2]), Close(rst=False)]
    if name == "stall":
        return [Head(answer.status, headers, total), Pause(float(argument or 5)), Close(False)]
    if name == "drip":
        wait = float(argument or 0.001)
        data = b"".join(pieces)
        dripped: list[Step] = [Head(answer.status, headers, total)]
        for start in range(0, len(data), 16):
            dripped += [Data(data[start : start + 16]), Pause(wait)]
        return [*dripped, End()]
    if name == "delay":
        return [Pause(float(argument or 0.05)), *whole]
    if name in ("rst", "fin"):
        # Counted over the body: the head always goes whole.
        data = b"".join(pieces)
        cut = min(int(argument or 0), max(total - 1, 0))
        return [Head(answer.status, headers, total), Data(data[:cut]), Close(rst=name == "rst")]
    if name == "after":
        other = RecordedRequest.parse(
            request.method,
            request.path,
            [(k, v) for k, v in request.headers.items() if k != "x-fault"],
            _other_nonce(request.body),
            request.http_version,
        )
        stray = _answer(other)
        body = b"".join(_body(stray))
        return [*whole, Raw(_h1(stray.status, tuple(stray.headers), body) + body)]
    if name in ("goaway", "rst-stream"):
        data = b"".join(pieces)
        half: list[Step] = [Head(answer.status, headers, None), Data(data[: total // 2])]
        if name == "goaway":
            return [*half, GoAway(below=True), Close(rst=False)]
        return [*half, RstStream(int(argument or h2.errors.ErrorCodes.INTERNAL_ERROR))]
    if name == "goaway-graceful":
        return [GoAway(below=False), *whole, Close(rst=False)]
    if name == "refused":
        return [RstStream(h2.errors.ErrorCodes.REFUSED_STREAM)]
    return whole


def _other_nonce(body: bytes) -> bytes:
    """The same request body, asking about another nonce."""
    return body.replace(b"nonce-", b"nonce-STRAY-")


def _h1(
    status: int, headers: tuple[tuple[str, str], ...], body: bytes, length: int | None = None
) -> bytes:
    """The head of an HTTP/1.1 answer with `body` (or `length` announced)."""
    fields = [(k, v) for k, v in headers if k.lower() != "content-length"]
    fields.append(("content-length", str(len(body) if length is None else length)))
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
    return head.encode("latin-1") + b"\r\n"


def _http1_pieces(plan: list[Step]) -> list[bytes | Pause | object]:
    """The scripted server's pieces for `plan` over HTTP/1.1."""
    data = b"".join(step.data for step in plan if isinstance(step, Data))
    out: list[bytes | Pause | object] = []
    for step in plan:
        if isinstance(step, Head):
            out.append(_h1(step.status, step.headers, data, step.length))
        elif isinstance(step, Data | Raw):
            out.append(step.data)
        elif isinstance(step, Pause):
            out.append(step)
        elif isinstance(step, Close):
            out.append(RESET if step.rst else b"")
            if not step.rst:
                return [*_joined(out), _CLOSE]
    return _joined(out)


def _joined(pieces: list[bytes | Pause | object]) -> list[bytes | Pause | object]:
    """Adjacent byte pieces as one write.

    A second answer written apart from the first could reach the client after its
    next request left: no HTTP/1.1 client can then tell it from the answer to that
    request. Written together, it is there when the connection is checked for reuse.
    """
    out: list[bytes | Pause | object] = []
    for piece in pieces:
        if isinstance(piece, bytes) and out and isinstance(out[-1], bytes):
            out[-1] = out[-1] + piece
        else:
            out.append(piece)
    return out


_CLOSE = object()  # a marker only for this module's HTTP/1.1 script: close the connection


# -- the server ------------------------------------------------------------------------


def _seen_request(seen: Seen) -> RecordedRequest:
    return RecordedRequest.parse(
        seen.method, seen.target, list(seen.headers.items()), seen.body, "1.1"
    )


class FaultServer(ScriptedServer):
    """The fault server; `tls` (a server context) adds ALPN h2 and http/1.1 to it."""

    def __init__(self, tls: ssl.SSLContext | None = None, *, record: bool = False) -> None:
        if tls is not None:
            tls.set_alpn_protocols(["h2", "http/1.1"])
        super().__init__(self._script, tls, record=record)  # type: ignore[arg-type]
        _bomb()  # made now, not while a client waits for its answer

    def _script(self, seen: Seen) -> list[bytes | Pause | object] | None:
        pieces = _http1_pieces(steps(_seen_request(seen), http2=False))
        if pieces and pieces[-1] is _CLOSE:
            head = pieces[0]
            assert isinstance(head, bytes)
            # The scripted server closes after an answer whose head says so.
            pieces[0] = head.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1)
            pieces.pop()
        return pieces

    def serve_connection(self, conn: socket.socket, number: int) -> None:
        if isinstance(conn, ssl.SSLSocket):
            http2 = conn.selected_alpn_protocol() == "h2"
        else:
            http2 = conn.recv(len(_PREFACE), socket.MSG_PEEK) == _PREFACE
        if not http2:
            super().serve_connection(conn, number)
            return
        _H2Connection(conn, self._stop).serve()


class _Stream:
    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = dict(headers)
        self.body = bytearray()
        self.withheld = 0  # request body bytes received and not acknowledged
        self.stall_until: float | None = None
        self.reset = False


class _H2Connection:
    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self.streams: dict[int, _Stream] = {}
        self.ready: list[int] = []
        self.closed = False
        sock.settimeout(0.05)

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.settimeout(5)  # reads poll with short timeouts; a write may wait
            self.sock.sendall(data)

    def pump(self, wait: float = 0.05) -> None:
        """Read what arrived (waiting up to `wait` seconds) and handle it."""
        self.sock.settimeout(max(wait, 0.0005))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        if not data:
            self.closed = True
            return
        for event in self.conn.receive_data(data):
            self.handle(event)
        self.flush()

    def handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            stream = _Stream([(str(k), str(v)) for k, v in event.headers or []])
            name, argument = _fault(stream.headers)
            if name == "flow-stall":
                stream.stall_until = time.monotonic() + float(argument or 5)
            self.streams[event.stream_id] = stream
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams[event.stream_id]
            stream.body += event.data or b""
            size = event.flow_controlled_length or 0
            if stream.stall_until is not None:
                stream.withheld += size
            else:
                self.conn.acknowledge_received_data(size, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.ready.append(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            stream = self.streams.get(event.stream_id) or _Stream([])
            stream.reset = True
            self._release(event.stream_id, stream)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closed = True

    def _release(self, stream_id: int, stream: _Stream) -> None:
        # Bytes of a stalled body count against the connection's window too: give
        # them back, so the connection's other streams are not stalled for ever.
        if stream.withheld:
            with suppress(h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                self.conn.acknowledge_received_data(stream.withheld, stream_id)
            stream.withheld = 0
        stream.stall_until = None

    def serve(self) -> None:
        self.conn.initiate_connection()
        self.flush()
        try:
            while not self.closed and not self.stop.is_set():
                self.pump()
                now = time.monotonic()
                for stream_id, stream in list(self.streams.items()):
                    if stream.stall_until is not None and now >= stream.stall_until:
                        self._release(stream_id, stream)
                        with suppress(h2.exceptions.StreamClosedError):
                            self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
                        self.flush()
                while self.ready and not self.closed:
                    self.answer(self.ready.pop(0))
        except (OSError, h2.exceptions.ProtocolError):
            return

    def answer(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id)
        if stream.reset:
            return
        headers = [(k, v) for k, v in stream.headers.items() if not k.startswith(":")]
        request = RecordedRequest.parse(
            stream.headers.get(":method", "GET"),
            stream.headers.get(":path", "/"),
            headers,
            bytes(stream.body),
            "2",
        )
        try:
            for step in steps(request, http2=True):
                if stream.reset or self.closed:
                    return
                self.step(stream_id, stream, step)
        except h2.exceptions.StreamClosedError:
            return

    def step(self, stream_id: int, stream: _Stream, step: Step) -> None:
        if isinstance(step, Head) and max(len(v) for _, v in step.headers) > 16384:
            self.send_huge_head(stream_id, step)
            stream.reset = True  # h2 does not know the stream answered: nothing follows
        elif isinstance(step, Head):
            fields = [(":status", str(step.status)), *step.headers]
            self.conn.send_headers(stream_id, fields)
        elif isinstance(step, Data):
            self.send_data(stream_id, stream, step.data)
        elif isinstance(step, Pause):
            deadline = time.monotonic() + step.seconds
            while (left := deadline - time.monotonic()) > 0 and not stream.reset:
                if self.closed:
                    return
                self.pump(min(left, 0.05))
            return
        elif isinstance(step, Close):
            if step.rst:
                reset(self.sock)
            else:
                # Half-close, then read until the client closes: closing with its
                # frames unread would make the kernel answer with a reset instead.
                self.sock.shutdown(socket.SHUT_WR)
                deadline = time.monotonic() + 2
                while not self.closed and time.monotonic() < deadline:
                    self.pump()
            self.closed = True
            return
        elif isinstance(step, GoAway):
            # Written by hand: after h2's own GOAWAY it refuses to finish any stream.
            last = max(stream_id - 2 if step.below else stream_id, 0)
            self.flush()
            frame = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + last.to_bytes(4, "big") + bytes(4)
            self.sock.sendall(frame)
        elif isinstance(step, RstStream):
            self.conn.reset_stream(stream_id, step.code)
            stream.reset = True
        elif isinstance(step, End):
            self.conn.end_stream(stream_id)
        self.flush()

    def send_huge_head(self, stream_id: int, head: Head) -> None:
        self.flush()
        fields = [(":status", str(head.status)), *head.headers]
        self.sock.settimeout(5)
        self.sock.sendall(header_frames(stream_id, fields, self.conn.max_outbound_frame_size))

    def send_data(self, stream_id: int, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        while view and not stream.reset and not self.closed:
            size = min(
                len(view),
                self.conn.local_flow_control_window(stream_id),
                self.conn.max_outbound_frame_size,
            )
            if size <= 0:
                self.pump()
                continue
            self.conn.send_data(stream_id, view[:size].tobytes())
            view = view[size:]
            self.flush()


def header_frames(stream_id: int, fields: list[tuple[str, str]], max_frame: int) -> bytes:
    """HEADERS and CONTINUATION frames written by hand, for a head too big to encode.

    h2's HPACK encoder takes seconds for 64 KiB (Huffman coding in Python);
    literal fields without indexing (RFC 7541 section 6.2.2) leave the HPACK
    state of both ends as it was, so the connection's encoder is not needed.
    """
    block = b"".join(_hpack_literal(name, value) for name, value in fields)
    chunks = [block[i : i + max_frame] for i in range(0, len(block), max_frame)]
    frames = bytearray()
    for index, chunk in enumerate(chunks):
        kind = 0x1 if index == 0 else 0x9  # HEADERS, then CONTINUATION
        flags = 0x4 if index == len(chunks) - 1 else 0  # END_HEADERS on the last
        frames += len(chunk).to_bytes(3, "big") + bytes([kind, flags])
        frames += stream_id.to_bytes(4, "big") + chunk
    return bytes(frames)


def _hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def _hpack_literal(name: str, value: str) -> bytes:
    """A literal header field without indexing, new name, no Huffman coding."""
    raw_name, raw_value = name.encode(), value.encode()
    return (
        b"\x00"
        + _hpack_int(len(raw_name), 7)
        + raw_name
        + _hpack_int(len(raw_value), 7)
        + raw_value
    )


def fault_server(tls: ssl.SSLContext | None = None) -> AbstractContextManager[FaultServer]:
    """A running fault server (plain, or TLS with `tls`), closed when the block ends."""
    return serving(FaultServer(tls))
