"""An HTTP/1.1 connection is reused only when its response was read exactly to its end.

A server (or a proxy in front of it) that writes bytes after a complete response (a
duplicated answer, stray garbage) would have them read as the next request's
response: the next call gets another call's answer. Every case here is fed whole,
byte by byte, split at every single point and at Hypothesis points; the driver's
way is kept: events are pulled after each read, the stream is released as soon as
`BodyEnd` comes, and what the server wrote after that is fed while idle.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings

from oxide_proto import (
    NEED_DATA,
    URL,
    BodyData,
    BodyEnd,
    Headers,
    HTTP11Connection,
    RemoteProtocolError,
    Request,
)
from tests.splits import fixed_feeds, split_at, split_points

API = URL("https", "api.openai.com", 443, "/v1/models")


def _response(body: bytes, status: int = 200) -> bytes:
    """A complete response as a fresh h11 server writes it to a GET."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    server.next_event()
    server.next_event()
    head = h11.Response(status_code=status, headers=[("content-length", str(len(body)))])
    return (
        (server.send(head) or b"")
        + (server.send(h11.Data(data=body)) or b"")
        + (server.send(h11.EndOfMessage()) or b"")
    )


FIRST = _response(b'{"answer": "first"}')
# What servers and proxies have been seen to append after a complete response.
TRAILING = {
    "duplicate": FIRST,
    "other_answer": _response(b'{"answer": "stale"}', 404),
    "garbage": b"garbage after the response",
    "one_byte": b"x",
    "blank_line": b"\r\n",
    "partial_head": b"HTTP/1.1 200 OK\r\n",
}


def _run(chunks: list[bytes]) -> tuple[HTTP11Connection, bytes]:
    """Feeds `chunks` as a driver would; returns the connection and the body read."""
    conn = HTTP11Connection()
    stream_id = conn.start_request(Request("GET", API, Headers({}), None))
    conn.data_to_send()
    body = b""
    released = False
    for chunk in (c for c in chunks if c):
        conn.receive_data(chunk)
        while not released:
            event = conn.next_event(stream_id)
            if isinstance(event, BodyEnd):
                conn.release(stream_id)
                released = True
            elif isinstance(event, BodyData):
                body += event.data
            elif event is NEED_DATA:
                break
    assert released
    return conn, body


def _assert_not_reused(chunks: list[bytes]) -> None:
    conn, body = _run(chunks)
    assert body == b'{"answer": "first"}'
    assert not conn.is_reusable
    with pytest.raises(RemoteProtocolError):
        conn.start_request(Request("GET", API, Headers({}), None))


@pytest.mark.parametrize("name", sorted(TRAILING))
def test_trailing_bytes_whole_and_bytewise(name: str, h11_path: str) -> None:
    data = FIRST + TRAILING[name]
    for _, chunks in fixed_feeds(data):
        _assert_not_reused(chunks)


@pytest.mark.parametrize("name", sorted(TRAILING))
def test_trailing_bytes_split_at_every_point(name: str, h11_path: str) -> None:
    data = FIRST + TRAILING[name]
    for point in range(len(data) + 1):
        _assert_not_reused([data[:point], data[point:]])


@settings(max_examples=200)
@given(points=split_points())
def test_trailing_bytes_at_random_splits(points: list[int]) -> None:
    for extra in TRAILING.values():
        _assert_not_reused(split_at(FIRST + extra, points))


def test_trailing_bytes_in_the_same_read_keep_the_connection_busy_until_released(
    h11_path: str,
) -> None:
    # While the stream is open, bytes past the body are not judged yet; the release
    # is where the decision is made.
    conn = HTTP11Connection()
    stream_id = conn.start_request(Request("GET", API, Headers({}), None))
    conn.data_to_send()
    conn.receive_data(FIRST + b"junk")
    while not isinstance(conn.next_event(stream_id), BodyEnd):
        pass
    conn.release(stream_id)
    assert not conn.is_reusable
    assert conn.is_closed


def test_exact_response_is_reused(h11_path: str) -> None:
    # The control: nothing after the response, at every split, keeps the connection.
    for point in range(len(FIRST) + 1):
        conn, body = _run([FIRST[:point], FIRST[point:]])
        assert body == b'{"answer": "first"}'
        assert conn.is_reusable
        conn.start_request(Request("GET", API, Headers({}), None))


def test_response_not_read_to_its_end_is_not_reused() -> None:
    conn = HTTP11Connection()
    stream_id = conn.start_request(Request("GET", API, Headers({}), None))
    conn.data_to_send()
    conn.receive_data(FIRST[:-3])
    conn.next_event(stream_id)  # the head
    conn.release(stream_id)
    assert not conn.is_reusable
