"""HTTP11Connection against h11's server side, bytes pumped between them in the test.

Every response-decoding case is fed whole, byte by byte and split at Hypothesis
points; the events (adjacent body pieces joined, since HTTP/1.1 hands body data out
as it arrives) and any error must be identical.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from typing import Any

import h11
import pytest
from h11._headers import Headers as H11Headers
from h11._receivebuffer import ReceiveBuffer
from hypothesis import given, settings

from oxide_proto import (
    NEED_DATA,
    URL,
    BodyData,
    BodyEnd,
    Headers,
    HTTP11Connection,
    LimitExceededError,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    ResponseHead,
)
from oxide_proto.http import _http11
from tests.splits import fixed_feeds, split_at, split_points

API = URL("https", "api.openai.com", 443, "/v1/chat/completions")


def request(
    method: str = "GET",
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
) -> Request:
    return Request(method, API, Headers(headers or {}), body, content_length)


class Server:
    """h11's server side, fed what the client wrote."""

    def __init__(self) -> None:
        self.conn = h11.Connection(h11.SERVER)

    def receive(self, data: bytes) -> list[object]:
        self.conn.receive_data(data)
        events: list[object] = []
        while True:
            event = self.conn.next_event()
            if event in (h11.NEED_DATA, h11.PAUSED):
                return events
            events.append(event)

    def respond(
        self,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        chunks: list[bytes] | None = None,
        trailers: list[tuple[str, str]] | None = None,
        informational: list[int] = (),  # type: ignore[assignment]
    ) -> bytes:
        out = b""
        for code in informational:
            out += self.conn.send(h11.InformationalResponse(status_code=code, headers=[])) or b""
        heads = list(headers or [])
        if chunks is None and not any(k.lower() == "content-length" for k, _ in heads):
            heads.append(("content-length", str(len(body))))
        out += self.conn.send(h11.Response(status_code=status, headers=heads)) or b""
        for piece in chunks if chunks is not None else [body]:
            if piece:
                out += self.conn.send(h11.Data(data=piece)) or b""
        out += self.conn.send(h11.EndOfMessage(headers=trailers or [])) or b""
        return out


def exchange(req: Request) -> tuple[HTTP11Connection, int, Server, list[object]]:
    client = HTTP11Connection()
    stream_id = client.start_request(req)
    server = Server()
    return client, stream_id, server, server.receive(client.data_to_send())


def pull(
    client: HTTP11Connection, stream_id: int, events: list[object] | None = None
) -> list[object]:
    """Pulls until NEED_DATA or BodyEnd, appending to `events` (kept if an error comes)."""
    events = [] if events is None else events
    while True:
        event = client.next_event(stream_id)
        if event is NEED_DATA:
            return events
        events.append(event)
        if isinstance(event, BodyEnd):
            return events


def joined(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, BodyData) and out and isinstance(out[-1], BodyData):
            out[-1] = BodyData(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def feed(chunks: list[bytes], *, method: str = "GET", eof: bool = False, **kw: int) -> list[object]:
    """Events (and the error, if any) a fresh client gives for these response bytes."""
    client = HTTP11Connection(**kw)  # type: ignore[arg-type]
    stream_id = client.start_request(request(method))
    client.data_to_send()
    events: list[object] = []
    try:
        # b"" means EOF to a connection, so empty split pieces are not fed.
        for chunk in [*(c for c in chunks if c), *([b""] if eof else [])]:
            client.receive_data(chunk)
            pull(client, stream_id, events)
            if events and isinstance(events[-1], BodyEnd):
                break
    except RemoteProtocolError as exc:
        events.append((type(exc).__name__, exc.retry_safe))
        # The failure is sticky: asking again gives the same error.
        with pytest.raises(type(exc)):
            client.next_event(stream_id)
    return joined(events)


def _server_bytes(**respond: object) -> bytes:
    _, _, server, _ = exchange(request())
    return server.respond(**respond)  # type: ignore[arg-type]


def _head(**respond: object) -> bytes:
    client = HTTP11Connection()
    client.start_request(request("HEAD"))
    server = Server()
    server.receive(client.data_to_send())
    return server.respond(**respond)  # type: ignore[arg-type]


def _gzip_response(payload: bytes, encoding: str = "gzip") -> bytes:
    return _server_bytes(headers=[("content-encoding", encoding)], body=payload)


_GZIPPED = gzip.compress(b"chunk " * 400)

# name -> (response bytes, method, eof after the bytes, expected events)
CASES: dict[str, tuple[bytes, str, bool, list[object]]] = {
    "plain": (
        _server_bytes(headers=[("content-type", "application/json")], body=b'{"ok": true}'),
        "GET",
        False,
        [
            ResponseHead(
                200,
                Headers([("content-type", "application/json"), ("content-length", "12")]),
                "HTTP/1.1",
            ),
            BodyData(b'{"ok": true}'),
            BodyEnd(),
        ],
    ),
    "chunked-with-trailers": (
        _server_bytes(
            headers=[("transfer-encoding", "chunked")],
            chunks=[b"data: one\n\n", b"data: two\n\n"],
            trailers=[("x-checksum", "abc")],
        ),
        "GET",
        False,
        [
            ResponseHead(200, Headers([("transfer-encoding", "chunked")]), "HTTP/1.1"),
            BodyData(b"data: one\n\ndata: two\n\n"),
            BodyEnd(Headers([("x-checksum", "abc")])),
        ],
    ),
    "informational-skipped": (
        _server_bytes(informational=[100, 103], body=b"x"),
        "GET",
        False,
        [
            ResponseHead(200, Headers([("content-length", "1")]), "HTTP/1.1"),
            BodyData(b"x"),
            BodyEnd(),
        ],
    ),
    "gzip": (
        _gzip_response(gzip.compress(b"zipped " * 500)),
        "GET",
        False,
        ["head", BodyData(b"zipped " * 500), BodyEnd()],
    ),
    "deflate-zlib": (
        _gzip_response(zlib.compress(b"deflated " * 300), "deflate"),
        "GET",
        False,
        ["head", BodyData(b"deflated " * 300), BodyEnd()],
    ),
    "deflate-raw": (
        _gzip_response(zlib.compress(b"raw " * 300)[2:-4], "deflate"),
        "GET",
        False,
        ["head", BodyData(b"raw " * 300), BodyEnd()],
    ),
    "http10-until-eof": (
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
        "GET",
        True,
        [
            ResponseHead(200, Headers([("content-type", "text/plain")]), "HTTP/1.0", "OK"),
            BodyData(b"until the end"),
            BodyEnd(),
        ],
    ),
    "head-response": (
        _head(headers=[("content-length", "1234")]),
        "HEAD",
        False,
        [ResponseHead(200, Headers([("content-length", "1234")]), "HTTP/1.1"), BodyEnd()],
    ),
    "no-content": (
        b"HTTP/1.1 204 No Content\r\n\r\n",
        "GET",
        False,
        [ResponseHead(204, Headers(), "HTTP/1.1", "No Content"), BodyEnd()],
    ),
    "truncated-content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "GET",
        True,
        ["head", BodyData(b"abc"), ("RemoteProtocolError", False)],
    ),
    "truncated-chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
        "GET",
        True,
        ["head", BodyData(b"abc"), ("RemoteProtocolError", False)],
    ),
    "bad-chunk-after-data": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\nzz\r\n",
        "GET",
        False,
        ["head", BodyData(b"abcde"), ("RemoteProtocolError", False)],
    ),
    "gzip-in-chunks": (
        _server_bytes(
            headers=[("transfer-encoding", "chunked"), ("content-encoding", "gzip")],
            chunks=[_GZIPPED[i : i + 7] for i in range(0, len(_GZIPPED), 7)],
        ),
        "GET",
        False,
        ["head", BodyData(b"chunk " * 400), BodyEnd()],
    ),
    "eof-before-response": (b"", "GET", True, [("RemoteProtocolError", False)]),
    "eof-mid-head": (b"HTTP/1.1 200 OK\r\nConte", "GET", True, [("RemoteProtocolError", False)]),
    "malformed-status-line": (
        b"HTTP/1.1 OK 200\r\n\r\n",
        "GET",
        False,
        [("RemoteProtocolError", False)],
    ),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "GET", False, [("RemoteProtocolError", False)]),
    "corrupt-gzip": (
        _gzip_response(b"\x1f\x8b\x08\x00" + b"not really gzip" * 3),
        "GET",
        False,
        ["head", ("DecodingError", False)],
    ),
    "invalid-head-too-large": (
        b"HTTP/1.1 200 OK\r\nbad\x10name: " + b"v" * 70_000 + b"\r\n\r\n",
        "GET",
        False,
        [("LimitExceededError", False)],
    ),
    "head-too-large": (
        b"HTTP/1.1 200 OK\r\n" + b"x-filler: " + b"a" * 70_000 + b"\r\n\r\n",
        "GET",
        False,
        [("LimitExceededError", False)],
    ),
}


def _matches(events: list[object], expected: list[object]) -> bool:
    if len(events) != len(expected):
        return False
    return all(
        isinstance(got, ResponseHead) if want == "head" else got == want
        for got, want in zip(events, expected, strict=True)
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_response_whole_and_bytewise(name: str, h11_path: str) -> None:
    data, method, eof, expected = CASES[name]
    for how, chunks in fixed_feeds(data):
        events = feed(chunks, method=method, eof=eof)
        assert _matches(events, expected), (how, events)


@settings(max_examples=60, deadline=None)
@given(points=split_points())
def test_response_at_split_points(points: list[int]) -> None:
    for data, method, eof, expected in CASES.values():
        events = feed(split_at(data, points), method=method, eof=eof)
        assert _matches(events, expected), events


def test_get_then_keep_alive_cycle(h11_path: str) -> None:
    client, stream_id, server, received = exchange(request(headers={"accept": "application/json"}))
    head = received[0]
    assert isinstance(head, h11.Request)
    assert head.method == b"GET"
    assert head.target == b"/v1/chat/completions"
    assert (b"host", b"api.openai.com") in list(head.headers)
    assert isinstance(received[1], h11.EndOfMessage)
    assert client.open_streams == 1 and client.max_streams == 1
    client.receive_data(server.respond(body=b"first"))
    assert joined(pull(client, stream_id))[1:] == [BodyData(b"first"), BodyEnd()]
    client.release(stream_id)
    assert client.is_reusable and client.open_streams == 0 and not client.is_closed
    server.conn.start_next_cycle()

    second = client.start_request(request("POST", b'{"model": "gpt"}'))
    assert second != stream_id
    received = server.receive(client.data_to_send())
    assert isinstance(received[0], h11.Request)
    assert (b"content-length", b"16") in list(received[0].headers)
    assert received[1] == h11.Data(data=b'{"model": "gpt"}')
    client.receive_data(server.respond(status=201, body=b"ok"))
    events = pull(client, second)
    assert isinstance(events[0], ResponseHead) and events[0].status_code == 201
    client.release(second)
    assert client.is_reusable


def test_chunked_upload_via_send_body() -> None:
    client, stream_id, server, received = exchange(request("POST", iter([b"unused"])))
    head = received[0]
    assert isinstance(head, h11.Request)
    assert (b"transfer-encoding", b"chunked") in list(head.headers)
    assert client.expects_body(stream_id)
    assert client.send_body(stream_id, b"part one, ") == 10
    assert client.send_body(stream_id, b"part two") == 8
    client.end_request(stream_id)
    wire = client.data_to_send()
    assert b"a\r\npart one, \r\n" in wire and wire.endswith(b"0\r\n\r\n")
    got = server.receive(wire)
    assert b"".join(e.data for e in got if isinstance(e, h11.Data)) == b"part one, part two"
    assert isinstance(got[-1], h11.EndOfMessage)


def test_streamed_upload_with_known_length() -> None:
    client, stream_id, server, received = exchange(request("PUT", iter([b""]), content_length=6))
    assert (b"content-length", b"6") in list(received[0].headers)  # type: ignore[attr-defined]
    client.send_body(stream_id, b"abcdef")
    client.end_request(stream_id)
    assert server.receive(client.data_to_send())[0] == h11.Data(data=b"abcdef")


def test_body_longer_than_declared_is_a_local_error() -> None:
    client, stream_id, _, _ = exchange(request("PUT", iter([b""]), content_length=2))
    with pytest.raises(LocalProtocolError) as info:
        client.send_body(stream_id, b"too long")
    assert isinstance(info.value.__cause__, h11.LocalProtocolError)
    assert not client.is_reusable


def test_connection_close_is_not_reused() -> None:
    client, stream_id, server, _ = exchange(request())
    client.receive_data(server.respond(headers=[("connection", "close")], body=b"bye"))
    events = pull(client, stream_id)
    assert isinstance(events[-1], BodyEnd)
    assert not client.is_reusable
    client.release(stream_id)
    assert client.is_closed
    with pytest.raises(RemoteProtocolError) as info:
        client.start_request(request())
    assert info.value.retry_safe


def test_http10_peer_is_not_reused() -> None:
    client = HTTP11Connection()
    stream_id = client.start_request(request())
    client.receive_data(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    events = pull(client, stream_id)
    assert events[0].http_version == "HTTP/1.0"  # type: ignore[union-attr]
    assert events[-1] == BodyEnd()
    client.release(stream_id)
    assert not client.is_reusable


def test_early_response_while_uploading() -> None:
    # A server may answer (413, 401) before it has read the request body.
    client, stream_id, server, _ = exchange(request("POST", iter([b""])))
    client.send_body(stream_id, b"x" * 1000)
    server.receive(client.data_to_send())
    client.receive_data(
        server.respond(status=413, headers=[("connection", "close")], body=b"too large")
    )
    events = pull(client, stream_id)
    assert events[0].status_code == 413  # type: ignore[union-attr]
    assert events[-1] == BodyEnd()
    assert not client.expects_body(stream_id)
    assert client.send_body(stream_id, b"ignored") == 7
    client.end_request(stream_id)
    assert client.data_to_send() == b""
    client.release(stream_id)
    assert not client.is_reusable and client.is_closed


def test_early_response_on_keep_alive_still_closes() -> None:
    client, stream_id, server, _ = exchange(request("POST", iter([b""]), content_length=100))
    client.receive_data(server.respond(status=401, body=b"no key"))
    pull(client, stream_id)
    client.release(stream_id)
    assert not client.is_reusable  # the unsent body would be read as the next request


def test_cancel_makes_the_connection_unusable() -> None:
    client, stream_id, server, _ = exchange(request())
    client.receive_data(server.respond(body=b"x" * 100)[:40])
    client.cancel(stream_id)
    assert not client.is_reusable and client.is_closed
    client.release(stream_id)
    assert client.open_streams == 0


def test_bytes_while_idle_poison_the_connection(h11_path: str) -> None:
    client, stream_id, server, _ = exchange(request())
    client.receive_data(server.respond(body=b"ok"))
    pull(client, stream_id)
    client.release(stream_id)
    assert client.is_reusable
    client.receive_data(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert not client.is_reusable


def test_eof_while_idle_closes() -> None:
    client, stream_id, server, _ = exchange(request())
    client.receive_data(server.respond(body=b"ok"))
    pull(client, stream_id)
    client.release(stream_id)
    client.receive_data(b"")
    assert client.is_closed and not client.is_reusable


def test_remote_errors_chain_h11s(h11_path: str) -> None:
    client = HTTP11Connection()
    stream_id = client.start_request(request())
    client.receive_data(b"HTTP/1.1 2000 Nope\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event(stream_id)
    assert isinstance(info.value.__cause__, h11.RemoteProtocolError)
    assert client.is_closed


def test_head_size_limit_is_configurable(h11_path: str) -> None:
    client = HTTP11Connection(max_head_size=1024)
    stream_id = client.start_request(request())
    client.receive_data(b"HTTP/1.1 200 OK\r\nx-big: " + b"a" * 2000)
    with pytest.raises(LimitExceededError) as info:
        client.next_event(stream_id)
    assert info.value.limit == 1024


def test_gzip_bomb_over_http11() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(comp.compress(bytes(1 << 20)) for _ in range(32)) + comp.flush()
    client, stream_id, server, _ = exchange(request())
    client.receive_data(server.respond(headers=[("content-encoding", "gzip")], body=bomb))
    assert isinstance(client.next_event(stream_id), ResponseHead)
    client2 = HTTP11Connection(max_decoded_size=1 << 20)
    stream2 = client2.start_request(request())
    server2 = Server()
    server2.receive(client2.data_to_send())
    client2.receive_data(server2.respond(headers=[("content-encoding", "gzip")], body=bomb))
    with pytest.raises(LimitExceededError):
        while client2.next_event(stream2) is not NEED_DATA:
            pass
    assert not client2.is_reusable


def test_decode_content_off_passes_bytes_through() -> None:
    body = gzip.compress(b"raw please")
    client = HTTP11Connection(decode_content=False)
    stream_id = client.start_request(request())
    server = Server()
    server.receive(client.data_to_send())
    client.receive_data(server.respond(headers=[("content-encoding", "gzip")], body=body))
    assert joined(pull(client, stream_id))[1] == BodyData(body)


def test_misuse_is_a_local_error() -> None:
    client, stream_id, _, _ = exchange(request())
    with pytest.raises(LocalProtocolError):
        client.start_request(request())
    with pytest.raises(LocalProtocolError):
        client.next_event(stream_id + 1)
    assert client.next_timer() is None


def test_body_data_of_one_read_is_one_event(h11_path: str) -> None:
    # Several HTTP chunks, then a bad chunk header, in one read: the data comes out
    # as one event and the error after it.
    client = HTTP11Connection()
    stream_id = client.start_request(request())
    client.data_to_send()
    client.receive_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"
    )
    assert isinstance(client.next_event(stream_id), ResponseHead)
    assert client.next_event(stream_id) == BodyData(b"abcde")
    assert client.next_event(stream_id) is NEED_DATA
    client.receive_data(b"1\r\nf\r\n0\r\nx-t: 1\r\n\r\n")
    assert client.next_event(stream_id) == BodyData(b"f")
    assert client.next_event(stream_id) == BodyEnd(Headers([("x-t", "1")]))


@pytest.mark.parametrize(
    "req",
    [
        request("POST", b'{"a":1}', {"Authorization": "Bearer k", "X-Empty-Ok": "a b"}),
        request("GET", None, {"accept": "text/event-stream", "x-latin": "caf\xe9"}),
        request("PUT", iter([b"x"]), {"x-a": "1"}),
        request("PUT", iter([b"x"]), {"x-a": "1"}, content_length=1),
        request("DELETE"),
        # Fields h11 must see, or values it would refuse, take h11's own path.
        request("POST", b"abc", {"Connection": "close"}),
        request("POST", b"abc", {"Content-Length": "3"}),
        request("GET", None, {"Host": "example.com", "x-blank": ""}),
    ],
)
@pytest.mark.parametrize("plain", [True, False], ids=["plain", "no-plain"])
def test_request_head_is_what_h11_writes(
    req: Request, h11_path: str, plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over h11's public API only (an h11 whose internals moved) the bytes are the
    # same, and so they are when the plain exchange writes them.
    monkeypatch.setattr(_http11, "_PLAIN_EXCHANGE", plain)
    client = HTTP11Connection()
    client.start_request(req)
    wire = client.data_to_send()
    reference = h11.Connection(h11.CLIENT)
    fields = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.multi_items()]
    if "host" not in req.headers:
        fields.insert(0, (b"host", req.url.authority.encode("ascii")))
    body = req.body
    if "content-length" not in req.headers and "transfer-encoding" not in req.headers:
        if isinstance(body, bytes):
            fields.append((b"content-length", str(len(body)).encode()))
        elif body is None:
            if req.method in ("POST", "PUT", "PATCH"):
                fields.append((b"content-length", b"0"))
        elif req.content_length is not None:
            fields.append((b"content-length", str(req.content_length).encode()))
        else:
            fields.append((b"transfer-encoding", b"chunked"))
    expected = reference.send(h11.Request(method=req.method, target=req.url.target, headers=fields))
    if body is None or isinstance(body, bytes):
        expected = (expected or b"") + (reference.send(h11.Data(data=body)) or b"" if body else b"")
        expected += reference.send(h11.EndOfMessage()) or b""
    assert wire == expected
    if client._plain is not None:
        # h11 stays idle until a response the plain exchange leaves to it.
        assert plain and (client._h11.our_state, client._h11.their_state) == (h11.IDLE, h11.IDLE)
        return
    assert (client._h11.our_state, client._h11.their_state) == (
        reference.our_state,
        reference.their_state,
    )


@pytest.mark.parametrize(
    "headers",
    [{"x-a": "line\r\nbreak"}, {"x-a": " padded"}, {"bad name": "v"}, {"x-a": "\x00"}],
)
def test_request_head_h11_refuses_is_a_local_error(headers: dict[str, str]) -> None:
    client = HTTP11Connection()
    with pytest.raises(LocalProtocolError) as info:
        client.start_request(request("POST", b"x", headers))
    assert isinstance(info.value.__cause__, h11.LocalProtocolError)
    assert client.data_to_send() == b""
    assert not client.is_reusable


def test_the_pinned_h11_takes_every_fast_path() -> None:
    # constraints.txt pins the h11 the internals were written against; an upgrade
    # that loses one shows here rather than only as a slower client.
    assert _http11._probe_h11() == (True, True, True)


def test_probe_falls_back_when_pre_parsed_requests_are_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    init = h11.Request.__init__

    def without_parsed(self: h11.Request, *args: Any, _parsed: bool = False, **kw: Any) -> None:
        if _parsed:
            raise TypeError("__init__() got an unexpected keyword argument '_parsed'")
        init(self, *args, **kw)

    monkeypatch.setattr(h11.Request, "__init__", without_parsed)
    assert _http11._probe_h11() == (False, True, True)
    monkeypatch.undo()
    monkeypatch.setattr(_http11, "H11Headers", None)
    assert _http11._probe_h11() == (False, True, True)


def test_probe_falls_back_when_field_triples_disagree_with_the_public_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Shouting(H11Headers):
        def __getitem__(self, index: int) -> tuple[bytes, bytes]:  # type: ignore[override]
            name, value = super().__getitem__(index)
            return name.upper(), value

    next_event = h11.Connection.next_event

    def shouting(self: h11.Connection) -> Any:
        event = next_event(self)
        if isinstance(event, h11.Response):
            fields = Shouting(event.headers._full_items)
            return h11.Response(status_code=event.status_code, headers=fields, _parsed=True)
        return event

    monkeypatch.setattr(h11.Connection, "next_event", shouting)
    assert _http11._probe_h11() == (True, False, True)


def test_probe_falls_back_when_the_receive_buffer_measures_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = ReceiveBuffer.__len__
    monkeypatch.setattr(ReceiveBuffer, "__len__", lambda self: size(self) + 1)
    assert _http11._probe_h11() == (True, True, False)


def test_an_h11_unlike_the_one_written_for_takes_the_public_api_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The probe's response does not come out of h11 as a Response: nothing is assumed.
    monkeypatch.setattr(h11.Connection, "next_event", lambda self: h11.NEED_DATA)
    assert _http11._probe_h11() == (False, False, False)


def test_probe_keeps_the_fast_head_only_while_h11_writes_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    send = h11.Connection.send

    def title_case(self: h11.Connection, event: Any) -> bytes | None:
        data = send(self, event)
        return data.replace(b"host:", b"Host:") if data else data

    monkeypatch.setattr(h11.Connection, "send", title_case)
    assert _http11._probe_h11() == (False, True, True)
