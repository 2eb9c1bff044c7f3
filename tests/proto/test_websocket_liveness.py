"""WebSocketSession.check_alive: the liveness check before a send after a quiet spell.

The server side is wsproto, bytes pumped in-process. Whatever the server sends
while the client is idle (pongs, pings, messages, Close frames, EOF) is fed whole,
byte by byte and split at Hypothesis-chosen points, and must give the same
decisions and the same queued events.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from wsproto import events as ws

from oxide_proto import NEED_DATA, Closed, TextMessage, WebSocketSession, WebSocketState
from tests.proto.test_websocket import opened_pair, server_sees
from tests.splits import bytewise, split_at, split_points, whole

INTERVAL, TIMEOUT = 20.0, 5.0


def drain(session: WebSocketSession, chunks: list[bytes], now: float) -> None:
    for chunk in chunks:
        if chunk:
            session.receive_data(chunk, now)


def events(session: WebSocketSession) -> list[object]:
    seen: list[object] = []
    while True:
        event = session.next_event()
        if event is NEED_DATA:
            return seen
        seen.append(event)
        if isinstance(event, Closed):
            return seen


def test_recent_traffic_needs_no_ping() -> None:
    session, _ = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    assert session.check_alive(19.9) is None
    assert session.data_to_send() == b""
    assert not session.awaiting_pong


def test_a_quiet_server_is_pinged_before_the_send() -> None:
    session, server = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    assert session.check_alive(20.0) == 25.0
    assert session.awaiting_pong
    (ping,) = server_sees(server, session)
    assert isinstance(ping, ws.Ping)
    # Asked again while the ping is out: the same deadline, no second ping.
    assert session.check_alive(21.0) == 25.0
    assert session.data_to_send() == b""


def test_a_missing_pong_means_an_abnormal_close() -> None:
    session, server = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    deadline = session.check_alive(30.0)
    assert deadline == 35.0
    server_sees(server, session)
    session.handle_timer(34.9)
    assert session.state is WebSocketState.OPEN
    session.handle_timer(deadline)
    assert session.state is WebSocketState.CLOSED
    assert session.closed == Closed(1006, "keepalive ping timeout")
    assert events(session) == [Closed(1006, "keepalive ping timeout")]
    assert server_sees(server, session) == [ws.CloseConnection(1011, "keepalive ping timeout")]
    assert session.check_alive(40.0) is None


def test_keepalive_off_never_checks() -> None:
    session, _ = opened_pair(keepalive_interval=None)
    assert session.check_alive(1e9) is None
    assert session.data_to_send() == b""


def test_not_open_never_checks() -> None:
    session, _ = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    session.close(now=1.0)
    session.data_to_send()
    assert session.check_alive(100.0) is None
    assert session.data_to_send() == b""


# -- what arrives while idle, fed whole / byte by byte / split -------------------------

Feed = Callable[[bytes], list[bytes]]
FEEDS: list[Feed] = [whole, bytewise]


def check_pong_and_message(feed: Feed) -> None:
    session, server = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    assert session.check_alive(40.0) == 45.0
    (ping,) = server_sees(server, session)
    assert isinstance(ping, ws.Ping)
    reply = server.send(ping.response()) + server.send(ws.TextMessage("late event"))
    drain(session, feed(reply), 41.0)
    assert not session.awaiting_pong
    assert session.check_alive(41.0) is None
    # The message stays queued for the next read.
    assert events(session) == [TextMessage("late event")]


def check_idle_close(feed: Feed) -> None:
    # A server going away while the client was idle: an event, then a Close frame.
    session, server = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    data = (
        server.send(ws.Ping(b"hb"))
        + server.send(ws.TextMessage('{"type":"session.updated"}'))
        + server.send(ws.CloseConnection(1001, "going away"))
    )
    drain(session, feed(data), 30.0)
    assert session.state is WebSocketState.CLOSED
    assert session.closed == Closed(1001, "going away")
    assert session.check_alive(60.0) is None
    assert server_sees(server, session) == [ws.Pong(b"hb"), ws.CloseConnection(1001, "going away")]
    assert events(session) == [
        TextMessage('{"type":"session.updated"}'),
        Closed(1001, "going away"),
    ]


def check_server_ping_counts_as_life(feed: Feed) -> None:
    session, server = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    drain(session, feed(server.send(ws.Ping(b"lb"))), 15.0)
    assert server_sees(server, session) == [ws.Pong(b"lb")]
    assert session.check_alive(34.0) is None
    assert session.check_alive(35.0) == 40.0


CHECKS = [check_pong_and_message, check_idle_close, check_server_ping_counts_as_life]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("feed", FEEDS, ids=["whole", "bytewise"])
def test_idle_input(check: Callable[[Feed], None], feed: Feed) -> None:
    check(feed)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(points=split_points())
def test_idle_input_split(check: Callable[[Feed], None], points: list[int]) -> None:
    check(lambda data: split_at(data, points))


def test_eof_while_idle_is_an_abnormal_close() -> None:
    session, _ = opened_pair(keepalive_interval=INTERVAL, keepalive_timeout=TIMEOUT)
    session.receive_data(b"", 10.0)
    assert session.closed == Closed(1006, "connection lost without a Close frame")
    assert session.check_alive(100.0) is None
