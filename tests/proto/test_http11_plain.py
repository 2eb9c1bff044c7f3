"""The plain HTTP/1.1 exchange (no h11 for a Content-Length response) against h11's path.

Every response is fed to two clients, one with the plain exchange and one with it
off (all of it through h11), whole, byte by byte and at Hypothesis split points:
the events (adjacent body pieces joined), the class of any error and whether the
connection is reusable afterwards must be the same. Responses are well-formed
ones of every framing and the same with bytes changed, cut or added, so that both
the plain parser and its hand-over to h11 are exercised.
"""

from __future__ import annotations

import gzip

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxide_proto import (
    NEED_DATA,
    URL,
    BodyData,
    BodyEnd,
    Headers,
    HTTP11Connection,
    RemoteProtocolError,
    Request,
    ResponseHead,
)
from oxide_proto.http import _http11
from tests.splits import fixed_feeds, split_at, split_points

API = URL("https", "api.openai.com", 443, "/v1/chat/completions")
BODY = b'{"id": "chatcmpl-1", "object": "chat.completion"}'


def _post() -> Request:
    return Request("POST", API, Headers([("content-type", "application/json")]), b"{}")


def _run(
    chunks: list[bytes], *, plain: bool, eof: bool, max_head: int = 1024
) -> tuple[list[object], bool, bool]:
    """(events or the error's class, whether the plain path kept it, reusable after)."""
    saved = _http11._PLAIN_EXCHANGE
    _http11._PLAIN_EXCHANGE = plain
    try:
        client = HTTP11Connection(max_head_size=max_head, max_decoded_size=4096)
        stream_id = client.start_request(_post())
    finally:
        _http11._PLAIN_EXCHANGE = saved
    client.data_to_send()
    events: list[object] = []
    try:
        for chunk in [*(c for c in chunks if c), *([b""] if eof else [])]:
            client.receive_data(chunk)
            while (event := client.next_event(stream_id)) is not NEED_DATA:
                if isinstance(event, BodyData) and events and isinstance(events[-1], BodyData):
                    event = BodyData(events.pop().data + event.data)  # type: ignore[attr-defined]
                events.append(event)
                if isinstance(event, BodyEnd):
                    break
            if events and isinstance(events[-1], BodyEnd):
                break
    except RemoteProtocolError as exc:
        events.append(type(exc).__name__)
        with pytest.raises(type(exc)):  # the failure is sticky
            client.next_event(stream_id)
    kept = client._plain is not None
    client.release(stream_id)
    return events, kept, client.is_reusable


def _same_both_ways(chunks: list[bytes], eof: bool, max_head: int = 1024) -> bool:
    """Asserts both paths agree; returns whether the plain path kept the exchange."""
    events, kept, reusable = _run(chunks, plain=True, eof=eof, max_head=max_head)
    reference, h11_kept, h11_reusable = _run(chunks, plain=False, eof=eof, max_head=max_head)
    assert not h11_kept
    assert events == reference
    assert reusable == h11_reusable
    return kept


def _response(
    status: int = 200,
    fields: list[tuple[bytes, bytes]] | None = None,
    body: bytes = BODY,
    *,
    length: bool = True,
) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in fields or []]
    if length:
        lines.append(b"Content-Length: %d\r\n" % len(body))
    return b"".join(lines) + b"\r\n" + body


# name -> (response bytes, EOF after them, does the plain path keep it)
CASES: dict[str, tuple[bytes, bool, bool]] = {
    "plain": (_response(fields=[(b"Content-Type", b"application/json")]), False, True),
    "keep-alive": (_response(fields=[(b"Connection", b"keep-alive")]), False, True),
    "error status": (_response(429, [(b"retry-after-ms", b"20")], b"{}"), False, True),
    "no reason": (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", False, True),
    "empty body": (_response(body=b""), False, True),
    "blank-padded value": (_response(fields=[(b"x-a", b" \t spaced  out \t")]), False, True),
    "empty value": (_response(fields=[(b"x-empty", b"")]), False, True),
    "obs-text value": (_response(fields=[(b"x-latin", b"caf\xe9")]), False, True),
    "gzip": (
        _response(fields=[(b"content-encoding", b"gzip")], body=gzip.compress(BODY * 50)),
        False,
        True,
    ),
    "bytes after the response": (_response() + b"HTTP/1.1 200 OK\r\n", False, True),
    "truncated body": (_response()[:-5], True, True),
    "EOF in the head": (_response()[:20], True, False),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        False,
        False,
    ),
    "connection close": (_response(fields=[(b"Connection", b"close")]), False, False),
    "no length (until EOF)": (_response(length=False), True, False),
    "HTTP/1.0": (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", False, False),
    "204": (b"HTTP/1.1 204 No Content\r\n\r\n", False, False),
    "304": (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", False, False),
    "informational first": (b"HTTP/1.1 100 Continue\r\n\r\n" + _response(), False, False),
    "bare LF": (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", False, False),
    "mixed line ends": (b"HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok", False, False),
    "obs-fold": (_response(fields=[(b"x-a", b"one\r\n two")]), False, False),
    "repeated length": (_response(fields=[(b"Content-Length", b"%d" % len(BODY))]), False, False),
    "length list": (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", False, False),
    "signed length": (b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", False, False),
    "huge length": (b"HTTP/1.1 200 OK\r\nContent-Length: 1%s\r\n\r\n" % (b"0" * 20), False, False),
    "control byte in a value": (_response(fields=[(b"x-a", b"a\x01b")]), False, False),
    "space before colon": (_response(fields=[(b"x-a ", b"v")]), False, False),
    "bad status": (b"HTTP/1.1 20x OK\r\nContent-Length: 0\r\n\r\n", False, False),
    "head over the limit": (_response(fields=[(b"x-fill", b"f" * 2000)]), False, False),
    "garbage": (b"\x00\x01 not http at all\r\n\r\n", False, False),
}


@pytest.mark.parametrize("name", CASES)
def test_both_paths_agree_fed_whole_and_byte_by_byte(name: str, h11_path: str) -> None:
    # Without h11's internals the hand-over goes through its public API: the same.
    data, eof, plain = CASES[name]
    for way, chunks in fixed_feeds(data):
        assert _same_both_ways(chunks, eof) is plain, way


@pytest.mark.parametrize("name", CASES)
@given(points=split_points())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_both_paths_agree_at_random_splits(name: str, points: list[int]) -> None:
    data, eof, plain = CASES[name]
    assert _same_both_ways(split_at(data, points), eof) is plain


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    """A response of a random shape, then maybe with bytes changed, cut or inserted."""
    data = draw(st.sampled_from([c[0] for c in CASES.values()]))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and at < len(data):
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif action == "cut":
            data = data[:at]
        else:
            piece = draw(st.sampled_from([b"\r\n", b"\n", b":", b" ", b"\t", b"\x00", b"0"]))
            data = data[:at] + piece + data[at:]
    return data


@given(data=mangled(), points=split_points(), eof=st.booleans(), max_head=st.integers(16, 600))
@settings(max_examples=300, deadline=None)
def test_both_paths_agree_on_mangled_responses(
    data: bytes, points: list[int], eof: bool, max_head: int
) -> None:
    _same_both_ways(split_at(data, points), eof, max_head)


def test_the_common_response_skips_h11_and_the_connection_is_reused() -> None:
    client = HTTP11Connection()
    for _ in range(3):
        stream_id = client.start_request(_post())
        client.data_to_send()
        client.receive_data(_response(fields=[(b"Content-Type", b"application/json")]))
        head = client.next_event(stream_id)
        assert isinstance(head, ResponseHead) and head.status_code == 200
        assert head.headers["content-type"] == "application/json"
        assert client.next_event(stream_id) == BodyData(BODY)
        assert client.next_event(stream_id) == BodyEnd()
        assert client._h11.our_state is h11.IDLE and client._h11.their_state is h11.IDLE
        client.release(stream_id)
        assert client.is_reusable


class _CountingH11(h11.Connection):
    """h11's connection, counting how often its state is asked for."""

    asked = 0

    @property
    def our_state(self) -> type[h11._util.Sentinel]:
        _CountingH11.asked += 1
        return super().our_state

    @property
    def their_state(self) -> type[h11._util.Sentinel]:
        _CountingH11.asked += 1
        return super().their_state


def test_plain_exchanges_alone_never_ask_h11_whether_the_connection_is_reusable() -> None:
    client = HTTP11Connection()
    client._h11 = _CountingH11(h11.CLIENT)
    _CountingH11.asked = 0
    for data in (_response(), _response()):
        assert client.is_reusable
        stream_id = client.start_request(_post())
        client.data_to_send()
        client.receive_data(data)
        while not isinstance(client.next_event(stream_id), BodyEnd):
            pass
        client.release(stream_id)
        assert client.is_reusable
    assert _CountingH11.asked == 0
    # Once an exchange went through h11 (a chunked body), h11's state is asked.
    stream_id = client.start_request(_post())
    client.data_to_send()
    client.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    while not isinstance(client.next_event(stream_id), BodyEnd):
        pass
    client.release(stream_id)
    assert client.is_reusable and _CountingH11.asked > 0
    # And a response that closes the connection leaves it unusable, whichever path.
    stream_id = client.start_request(_post())
    client.data_to_send()
    client.receive_data(_response(fields=[(b"Connection", b"close")]))
    while not isinstance(client.next_event(stream_id), BodyEnd):
        pass
    client.release(stream_id)
    assert not client.is_reusable


def test_a_handed_over_exchange_is_followed_by_plain_ones() -> None:
    client = HTTP11Connection()
    responses = [
        _response(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        _response(),
    ]
    bodies = []
    for data in responses:
        stream_id = client.start_request(_post())
        client.data_to_send()
        client.receive_data(data)
        events = []
        while not isinstance(event := client.next_event(stream_id), BodyEnd):
            events.append(event)
        bodies.append(b"".join(e.data for e in events if isinstance(e, BodyData)))
        client.release(stream_id)
        assert client.is_reusable
    assert bodies == [BODY, b"ok", BODY]


def test_a_body_cut_short_by_eof_is_a_remote_error_and_closes() -> None:
    client = HTTP11Connection()
    stream_id = client.start_request(_post())
    client.data_to_send()
    client.receive_data(_response()[:-5])
    assert isinstance(client.next_event(stream_id), ResponseHead)
    assert client.next_event(stream_id) == BodyData(BODY[:-5])
    assert client.next_event(stream_id) is NEED_DATA
    client.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="5 of its Content-Length body bytes"):
        client.next_event(stream_id)
    client.release(stream_id)
    assert not client.is_reusable
