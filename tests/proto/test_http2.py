"""HTTP2Connection against h2's server side, bytes pumped between them in the test.

The response-decoding scenarios record what h2's server sent, then replay those bytes
to fresh clients fed whole, byte by byte and split at Hypothesis points: every stream
must see identical events and errors (HTTP/2 events follow frames, not reads).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest
from hyperframe.frame import DataFrame, Frame, GoAwayFrame, HeadersFrame
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    NEED_DATA,
    URL,
    BodyData,
    BodyEnd,
    Headers,
    HTTP2Connection,
    HTTP11Connection,
    LimitExceededError,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    ResponseHead,
)
from oxide_proto.http._http2_stream import NO_TRAILERS
from tests.io.fault_server import header_frames
from tests.splits import fixed_feeds, split_at, split_points

API = URL("https", "api.openai.com", 443, "/v1/responses")
ErrorCodes = h2.errors.ErrorCodes


def request(
    method: str = "GET",
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/v1/responses",
) -> Request:
    url = URL(API.scheme, API.host, API.port, path)
    return Request(method, url, Headers(headers or {}), body)


class Server:
    """h2's server side. `pump` moves bytes both ways until both sides are quiet."""

    def __init__(self, *, auto_ack: bool = True) -> None:
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.auto_ack = auto_ack
        self.events: list[h2.events.Event] = []
        self.sent = b""  # everything this server wrote, for replaying

    def pump(self, client: HTTP2Connection) -> list[h2.events.Event]:
        new: list[h2.events.Event] = []
        for _ in range(1000):
            out = client.data_to_send()
            if out:
                for event in self.conn.receive_data(out):
                    new.append(event)
                    if self.auto_ack and isinstance(event, h2.events.DataReceived):
                        self.conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
            back = self.conn.data_to_send()
            if back:
                self.sent += back
                client.receive_data(back)
            if not out and not back:
                self.events += new
                return new
        raise AssertionError("pump never settled")

    def respond(
        self,
        stream_id: int,
        body: bytes = b"",
        *,
        status: int = 200,
        headers: list[tuple[bytes, bytes]] | None = None,
        trailers: list[tuple[bytes, bytes]] | None = None,
        end: bool = True,
    ) -> None:
        self.conn.send_headers(stream_id, [(b":status", str(status).encode()), *(headers or [])])
        if body:
            self.conn.send_data(stream_id, body, end_stream=end and not trailers)
        if trailers:
            self.conn.send_headers(stream_id, trailers, end_stream=end)
        elif end and not body:
            self.conn.end_stream(stream_id)


def connect(**kw: object) -> tuple[HTTP2Connection, Server]:
    client = HTTP2Connection(now=0.0, **kw)  # type: ignore[arg-type]
    server = Server()
    server.pump(client)
    return client, server


def pull(
    client: HTTP2Connection, stream_id: int, events: list[object] | None = None
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
    """Adjacent body pieces as one: how much data one event carries depends on the reads."""
    out: list[object] = []
    for event in events:
        if isinstance(event, BodyData) and out and isinstance(out[-1], BodyData):
            out[-1] = BodyData(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def body_of(events: list[object]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyData))


def received(server: Server, kind: type) -> list[object]:
    return [e for e in server.events if isinstance(e, kind)]


# -- requests -------------------------------------------------------------------------


def test_get_encodes_pseudo_headers_and_drops_hop_by_hop() -> None:
    client, server = connect()
    assert client.http_version == "HTTP/2"
    stream_id = client.start_request(
        request(
            headers={
                "Host": "proxy.example",
                "Connection": "keep-alive",
                "TE": "gzip",
                "Upgrade": "h2c",
                "X-Custom": "Value",
                "Accept-Encoding": "gzip",
            }
        )
    )
    (got,) = [e for e in server.pump(client) if isinstance(e, h2.events.RequestReceived)]
    assert got.stream_id == stream_id
    assert list(got.headers) == [
        (b":method", b"GET"),
        (b":authority", b"proxy.example"),
        (b":scheme", b"https"),
        (b":path", b"/v1/responses"),
        (b"x-custom", b"Value"),
        (b"accept-encoding", b"gzip"),
    ]
    assert got.stream_ended is not None  # no body: END_STREAM on HEADERS
    server.respond(stream_id, b'{"id": "resp_1"}', headers=[(b"content-type", b"application/json")])
    server.pump(client)
    events = pull(client, stream_id)
    assert events == [
        ResponseHead(200, Headers([("content-type", "application/json")]), "HTTP/2"),
        BodyData(b'{"id": "resp_1"}'),
        BodyEnd(),
    ]
    client.release(stream_id)
    assert client.is_reusable and client.open_streams == 0 and not client.is_closed


def test_credentials_are_never_indexed_and_values_trimmed() -> None:
    client, server = connect()
    fields = {"Authorization": "Bearer sk-1", "api-key": "k", "X-Plain": " padded\t"}
    for _ in range(2):  # the second request reuses what the first put in the tables
        stream_id = client.start_request(request(headers=fields))
        (got,) = [e for e in server.pump(client) if isinstance(e, h2.events.RequestReceived)]
        assert got.stream_id == stream_id
        by_name = {field[0]: field for field in got.headers}
        assert isinstance(by_name[b"authorization"], hpack.NeverIndexedHeaderTuple)
        assert isinstance(by_name[b"api-key"], hpack.NeverIndexedHeaderTuple)
        assert not isinstance(by_name[b"x-plain"], hpack.NeverIndexedHeaderTuple)
        assert by_name[b"x-plain"][1] == b"padded"


@pytest.mark.parametrize(
    "req",
    [
        request(headers={"x-a": "line\r\nbreak"}),
        request(headers={"x-a": "\x00"}),
        request(headers={"x-a": "\u0100"}),
        request(headers={":path": "/other"}),
        request(headers={"bad name": "v"}),
        request("G T"),
        request(path=""),
        request(path="/a b"),
        request(path="/caf\xe9"),
    ],
)
def test_request_http2_cannot_carry_is_a_local_error(req: Request) -> None:
    client, server = connect()
    for _ in range(2):  # refused again: what was refused is not remembered as good
        with pytest.raises(LocalProtocolError, match="invalid HTTP/2 request"):
            client.start_request(req)
    assert client.open_streams == 0
    assert not [e for e in server.pump(client) if isinstance(e, h2.events.RequestReceived)]
    stream_id = client.start_request(request())  # the connection is still usable
    assert [e for e in server.pump(client) if isinstance(e, h2.events.RequestReceived)]
    assert stream_id == 1


def test_post_bytes_body_larger_than_the_window() -> None:
    client, server = connect()
    body = bytes(range(256)) * 800  # 200 KiB, over the 64 KiB default window
    stream_id = client.start_request(request("POST", body))
    server.pump(client)
    request_head = received(server, h2.events.RequestReceived)[0]
    assert (b"content-length", str(len(body)).encode()) in list(request_head.headers)  # type: ignore[attr-defined]
    data = received(server, h2.events.DataReceived)
    assert b"".join(e.data for e in data) == body  # type: ignore[attr-defined]
    assert received(server, h2.events.StreamEnded)[0].stream_id == stream_id  # type: ignore[attr-defined]


def test_streamed_upload_respects_flow_control() -> None:
    client = HTTP2Connection(now=0.0)
    server = Server(auto_ack=False)
    server.pump(client)
    stream_id = client.start_request(request("POST", iter([b""])))
    assert client.expects_body(stream_id)
    chunk = b"u" * 100_000
    taken = client.send_body(stream_id, chunk)
    assert taken == 65535  # the server's initial window
    assert client.send_body(stream_id, chunk[taken:]) == 0  # window shut: feed input first
    server.pump(client)
    for event in received(server, h2.events.DataReceived):
        server.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)  # type: ignore[attr-defined]
    server.pump(client)
    rest = client.send_body(stream_id, chunk[taken:])
    assert 0 < rest <= len(chunk) - taken
    client.end_request(stream_id)
    server.pump(client)
    assert sum(len(e.data) for e in received(server, h2.events.DataReceived)) == taken + rest  # type: ignore[attr-defined]
    assert received(server, h2.events.StreamEnded)


def test_send_body_after_bytes_body_is_a_local_error() -> None:
    client, _ = connect()
    stream_id = client.start_request(request("POST", b"x" * 100_000))
    with pytest.raises(LocalProtocolError):
        client.send_body(stream_id, b"more")


# -- many streams and flow control ------------------------------------------------


def test_interleaved_streams_keep_their_own_events() -> None:
    client, server = connect()
    ids = [client.start_request(request(path=f"/v1/files/{n}")) for n in range(3)]
    server.pump(client)
    a, b, c = ids
    server.respond(c, b"third", end=False)
    server.respond(a, b"first-1", end=False)
    server.conn.send_data(c, b"-more", end_stream=True)
    server.respond(b, b"second")
    server.conn.send_data(a, b"-2", end_stream=True)
    server.pump(client)
    assert client.open_streams == 3
    # Pull b first: a's and c's events wait for their turn.
    assert body_of(pull(client, b)) == b"second"
    assert body_of(pull(client, c)) == b"third-more"
    assert body_of(pull(client, a)) == b"first-1-2"
    for stream_id in ids:
        client.release(stream_id)
    assert client.open_streams == 0


def _window(server: Server, stream_id: int) -> int:
    return server.conn.local_flow_control_window(stream_id)


def test_slow_reader_applies_backpressure() -> None:
    client, server = connect(initial_window_size=4096)
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, end=False)
    sent = 0
    while _window(server, stream_id) > 0:
        size = min(1000, _window(server, stream_id))
        server.conn.send_data(stream_id, b"d" * size)
        sent += size
    assert sent == 4096
    server.pump(client)
    # Received but not pulled: no credit goes back, the server stays blocked.
    assert _window(server, stream_id) == 0
    server.pump(client)
    assert _window(server, stream_id) == 0
    assert isinstance(client.next_event(stream_id), ResponseHead)
    server.pump(client)
    assert _window(server, stream_id) == 0  # the head carries no credit
    assert client.next_event(stream_id) == BodyData(b"d" * 4096)  # every frame received
    server.pump(client)
    assert _window(server, stream_id) == 4096  # pulling handed the credit back


def test_body_data_received_together_is_one_event() -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, end=False)
    for piece in (b"data: one\n\n", b"data: two\n\n"):
        server.conn.send_data(stream_id, piece)
    server.pump(client)
    assert isinstance(client.next_event(stream_id), ResponseHead)
    assert client.next_event(stream_id) == BodyData(b"data: one\n\ndata: two\n\n")
    assert client.next_event(stream_id) is NEED_DATA
    server.conn.send_data(stream_id, b"three", end_stream=True)
    server.pump(client)
    assert pull(client, stream_id) == [BodyData(b"three"), BodyEnd()]


def test_cancel_returns_connection_window_to_other_streams() -> None:
    client, server = connect(initial_window_size=65535, connection_window_size=65535)
    slow, other = client.start_request(request()), client.start_request(request())
    server.pump(client)
    server.respond(slow, end=False)
    for _ in range(4):
        server.conn.send_data(slow, b"s" * 16383)
    server.conn.send_data(slow, b"s" * 3)
    server.respond(other, end=False)
    assert server.conn.local_flow_control_window(other) == 0  # connection window used up
    server.pump(client)
    client.cancel(slow)
    server.pump(client)
    reset = received(server, h2.events.StreamReset)
    assert [(e.stream_id, e.error_code) for e in reset] == [(slow, ErrorCodes.CANCEL)]  # type: ignore[attr-defined]
    assert server.conn.local_flow_control_window(other) > 0
    with pytest.raises(LocalProtocolError):
        client.next_event(slow)
    client.release(slow)
    assert client.is_reusable


def test_data_after_cancel_is_credited_at_once() -> None:
    client, server = connect(connection_window_size=65535)
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, end=False)
    client.cancel(stream_id)
    client.release(stream_id)
    for _ in range(4):  # in flight before the server saw the reset
        server.conn.send_data(stream_id, b"x" * 16383)
    late = server.conn.data_to_send()
    client.receive_data(late)
    server.pump(client)
    assert server.conn.outbound_flow_control_window > 32768


# -- settings, GOAWAY, resets ------------------------------------------------------


def test_max_streams_follows_settings_and_local_cap() -> None:
    client, server = connect(max_concurrent_streams=5)
    assert client.max_streams == 5
    server.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2})
    server.pump(client)
    assert client.max_streams == 2


def test_one_stream_until_the_peers_settings_arrive() -> None:
    client = HTTP2Connection(now=0.0)
    assert client.awaiting_settings and client.max_streams == 1
    assert not client.capacity_changed
    server = Server()
    server.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 10})
    server.pump(client)
    assert not client.awaiting_settings and client.max_streams == 10
    assert client.capacity_changed
    # Other settings changing leaves the limit, and the flag, alone.
    client.capacity_changed = False
    server.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
    server.pump(client)
    assert not client.capacity_changed and client.max_streams == 10


def test_a_refused_stream_lowers_max_streams_to_what_the_peer_was_processing() -> None:
    client, server = connect()
    assert client.max_streams == 100
    client.capacity_changed = False
    done, three, _five, seven, nine = (client.start_request(request()) for _ in range(5))
    server.pump(client)
    server.respond(done, b"ok")
    # An error that is not a refusal says nothing about the peer's limit.
    server.conn.reset_stream(three, ErrorCodes.INTERNAL_ERROR)
    server.pump(client)
    assert client.max_streams == 100 and not client.capacity_changed
    server.conn.reset_stream(seven, ErrorCodes.REFUSED_STREAM)
    server.conn.reset_stream(nine, ErrorCodes.REFUSED_STREAM)
    server.pump(client)
    # `done` finished, `three` failed, seven and nine were refused: five runs.
    assert client.max_streams == 1 and client.capacity_changed
    assert client.is_reusable
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event(seven)
    assert info.value.retry_safe
    # New SETTINGS from the peer replace what its refusals taught.
    client.capacity_changed = False
    server.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 8})
    server.pump(client)
    assert client.max_streams == 8 and client.capacity_changed


def test_a_stream_over_the_peers_limit_is_not_sent_and_may_wait() -> None:
    client, server = connect()
    server.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
    server.pump(client)
    first = client.start_request(request())
    with pytest.raises(RemoteProtocolError, match="limit of 1 concurrent streams") as info:
        client.start_request(request(headers={"x-refused": "1"}))
    assert info.value.retry_safe
    assert client.open_streams == 1 and client.is_reusable
    assert len(received(server, h2.events.RequestReceived)) == 0
    server.pump(client)
    assert len(received(server, h2.events.RequestReceived)) == 1
    # The refused request's fields went nowhere: the next request carries its own only.
    server.respond(first)
    server.pump(client)
    pull(client, first)
    client.release(first)
    second = client.start_request(request(headers={"x-next": "2"}))
    (got,) = [e for e in server.pump(client) if isinstance(e, h2.events.RequestReceived)]
    assert got.stream_id == second
    assert [name for name, _ in got.headers if not name.startswith(b":")] == [b"x-next"]


def test_goaway_protocol_error_and_eof_flag_a_capacity_change() -> None:
    for news in (_goaway(0), b"\x00\x00\x02\x00\x01\x00\x00\x00\x00ab", b""):
        client, _ = connect()
        client.capacity_changed = False
        client.receive_data(news)
        assert client.capacity_changed and not client.is_reusable


def _goaway(last_stream_id: int, code: int = 0) -> bytes:
    frame = GoAwayFrame(stream_id=0, last_stream_id=last_stream_id, error_code=code)
    return frame.serialize()


def test_goaway_lets_lower_streams_finish_and_fails_higher_ones_retry_safe() -> None:
    client, server = connect()
    one, three, five = (client.start_request(request()) for _ in range(3))
    server.pump(client)
    server.respond(one, b"partial", end=False)
    client.receive_data(server.conn.data_to_send())
    client.receive_data(_goaway(three))
    assert not client.is_reusable and not client.is_closed
    with pytest.raises(RemoteProtocolError) as info:
        client.start_request(request())
    assert info.value.retry_safe
    # Frames after the GOAWAY still count for streams at or below last_stream_id.
    server.conn.send_data(one, b"-rest", end_stream=True)
    server.respond(three, b"three")
    client.receive_data(server.conn.data_to_send())
    assert body_of(pull(client, one)) == b"partial-rest"
    assert body_of(pull(client, three)) == b"three"
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event(five)
    assert info.value.retry_safe
    for stream_id in (one, three, five):
        client.release(stream_id)
    assert client.is_closed


def test_goaway_with_error_then_eof_fails_unfinished_streams() -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    client.receive_data(_goaway(stream_id, ErrorCodes.INTERNAL_ERROR))
    client.receive_data(b"")
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event(stream_id)
    assert not info.value.retry_safe
    assert client.is_closed


@pytest.mark.parametrize(
    ("code", "retry_safe"),
    [(ErrorCodes.REFUSED_STREAM, True), (ErrorCodes.INTERNAL_ERROR, False)],
)
def test_server_reset_fails_only_that_stream(code: ErrorCodes, retry_safe: bool) -> None:
    client, server = connect()
    doomed, fine = client.start_request(request()), client.start_request(request())
    server.pump(client)
    server.conn.reset_stream(doomed, code)
    server.respond(fine, b"ok")
    server.pump(client)
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event(doomed)
    assert info.value.retry_safe is retry_safe
    assert code.name in str(info.value)
    assert body_of(pull(client, fine)) == b"ok"
    client.release(doomed)
    assert client.is_reusable


def test_early_response_then_reset_no_error_stops_the_upload() -> None:
    client, server = connect()
    stream_id = client.start_request(request("POST", iter([b""])))
    client.send_body(stream_id, b"first part")
    server.pump(client)
    server.respond(stream_id, b"too large", status=413)
    server.conn.reset_stream(stream_id, ErrorCodes.NO_ERROR)
    server.pump(client)
    events = pull(client, stream_id)
    assert events[0].status_code == 413  # type: ignore[attr-defined]
    assert body_of(events) == b"too large"
    assert not client.expects_body(stream_id)
    assert client.send_body(stream_id, b"dropped") == 7
    client.end_request(stream_id)
    assert client.data_to_send() == b""
    client.release(stream_id)
    assert client.is_reusable


def test_trailers_end_the_body() -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, b"payload", trailers=[(b"x-usage", b"42")])
    server.pump(client)
    assert pull(client, stream_id)[-2:] == [
        BodyData(b"payload"),
        BodyEnd(Headers([("x-usage", "42")])),
    ]


def test_informational_responses_are_skipped() -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    server.conn.send_headers(stream_id, [(b":status", b"103"), (b"link", b"</a>")])
    server.respond(stream_id, b"x")
    server.pump(client)
    events = pull(client, stream_id)
    assert [type(e) for e in events] == [ResponseHead, BodyData, BodyEnd]
    assert events[0].status_code == 200  # type: ignore[attr-defined]


# -- PING and keepalive -----------------------------------------------------------


def test_server_ping_is_acknowledged() -> None:
    client, server = connect()
    server.conn.ping(b"pingpong")
    new = server.pump(client)
    assert [e.ping_data for e in new if isinstance(e, h2.events.PingAckReceived)] == [b"pingpong"]


def test_keepalive_ping_and_timeout() -> None:
    client = HTTP2Connection(now=100.0, keepalive_interval=10.0, keepalive_timeout=5.0)
    server = Server()
    assert client.next_timer() == 110.0
    client.handle_timer(105.0)
    preface = client.data_to_send()
    assert b"PING" not in preface and preface.startswith(b"PRI * HTTP/2.0")
    server.conn.receive_data(preface)
    server.pump(client)  # input without `now`: noted at the next handle_timer
    client.handle_timer(106.0)
    assert client.next_timer() == 116.0
    client.handle_timer(116.0)
    assert client.next_timer() == 121.0  # a PING is out, answer due by then
    pings = [e for e in server.pump(client) if isinstance(e, h2.events.PingReceived)]
    assert len(pings) == 1  # the server's ack came back during the pump
    client.handle_timer(117.0)
    assert client.next_timer() == 127.0

    # Unanswered: the connection is declared dead after keepalive_timeout.
    stream_id = client.start_request(request())
    client.receive_data(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00", now=130.0)  # empty SETTINGS
    assert client.next_timer() == 140.0
    client.handle_timer(140.0)
    assert client.next_timer() == 145.0
    client.handle_timer(144.9)
    assert client.is_reusable
    client.handle_timer(145.0)
    assert not client.is_reusable and client.is_closed
    with pytest.raises(RemoteProtocolError, match="keepalive"):
        client.next_event(stream_id)
    assert client.next_timer() is None


def test_no_keepalive_means_no_timer() -> None:
    client, _ = connect()
    assert client.next_timer() is None
    client.handle_timer(1e9)
    assert client.is_reusable


def _pings(data: bytes) -> list[bytes]:
    """The payloads of the PING frames (not ACKs) in `data`."""
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    events = server.receive_data(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + data)
    return [e.ping_data for e in events if isinstance(e, h2.events.PingReceived)]


def _ack(payload: bytes) -> bytes:
    return b"\x00\x00\x08\x06\x01\x00\x00\x00\x00" + payload  # PING with ACK


@pytest.mark.parametrize("keepalive", [None, 30.0], ids=["no-keepalive", "keepalive"])
def test_a_read_timeout_asks_for_a_ping_before_the_next_request(keepalive: float | None) -> None:
    client, server = connect(keepalive_interval=keepalive, keepalive_timeout=20.0)
    assert not client.needs_alive_check
    assert client.check_alive(1.0, 5.0) is None  # nothing timed out: go ahead
    stream_id = client.start_request(request())
    server.pump(client)
    client.timed_out(2.0)  # the answer did not come within the read timeout
    client.cancel(stream_id)
    client.release(stream_id)
    assert client.needs_alive_check and client.is_reusable
    assert not client.proving
    client.data_to_send()
    due = client.check_alive(3.0, 5.0)
    assert due == 8.0  # the connect timeout, not the keepalive's 20 s
    assert client.proving and client.next_timer() == 8.0
    (payload,) = _pings(client.data_to_send())
    # Asked again before the ACK: the same PING, no second one.
    assert client.check_alive(4.0, 5.0) == 8.0
    assert _pings(client.data_to_send()) == []
    client.handle_timer(7.9)
    assert client.proving and client.is_reusable
    # Another PING's ACK proves nothing.
    client.receive_data(_ack(b"\xff" * 8), now=7.95)
    assert client.proving
    client.receive_data(_ack(payload), now=7.99)
    assert not client.proving and not client.needs_alive_check and client.is_reusable
    assert client.check_alive(8.0, 5.0) is None
    assert client.next_timer() == (None if keepalive is None else 7.99 + keepalive)


@pytest.mark.parametrize("keepalive", [None, 30.0], ids=["no-keepalive", "keepalive"])
def test_no_ack_in_time_makes_the_connection_dead(keepalive: float | None) -> None:
    client, _ = connect(keepalive_interval=keepalive, keepalive_timeout=20.0)
    client.timed_out(2.0)
    assert client.check_alive(3.0, None) == 23.0  # no connect timeout: the keepalive's
    client.handle_timer(23.0)
    assert not client.is_reusable and client.is_closed
    assert not client.proving and not client.needs_alive_check
    assert client.next_timer() is None
    stream_id = 1
    with pytest.raises(LocalProtocolError):
        client.next_event(stream_id)
    dead, _ = connect()
    dead.timed_out(1.0)
    dead.check_alive(1.0, 2.0)
    dead.start_request(request())
    dead.handle_timer(3.0)
    with pytest.raises(RemoteProtocolError, match="PING after a read timeout unanswered"):
        dead.next_event(1)


def test_a_keepalive_ping_in_flight_serves_as_the_proof_sooner() -> None:
    client, _ = connect(keepalive_interval=10.0, keepalive_timeout=20.0)
    client.handle_timer(0.0)  # the handshake's input (fed without a time) counts from here
    client.handle_timer(10.0)
    (payload,) = _pings(client.data_to_send())
    assert client.next_timer() == 30.0
    client.timed_out(11.0)
    # The keepalive PING is out already: its ACK is the proof, due sooner now.
    assert client.check_alive(12.0, 3.0) == 15.0
    assert _pings(client.data_to_send()) == []
    client.receive_data(_ack(payload), now=13.0)
    assert not client.needs_alive_check


def test_a_closed_connection_needs_no_proof() -> None:
    client, _ = connect()
    client.receive_data(b"")
    client.timed_out(1.0)
    assert not client.needs_alive_check
    assert client.check_alive(1.0, 1.0) is None
    assert not client.is_reusable


def test_http11_never_asks_for_a_proof() -> None:
    client = HTTP11Connection()
    client.timed_out(1.0)
    assert not client.needs_alive_check and not client.proving
    assert client.check_alive(1.0, 1.0) is None


# -- content decoding, limits, errors ----------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_compressed_responses_are_decoded(encoding: str, encode: Callable[[bytes], bytes]) -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    text = b'{"output": "' + b"tokens " * 5000 + b'"}'
    server.respond(stream_id, encode(text), headers=[(b"content-encoding", encoding.encode())])
    server.pump(client)
    assert body_of(pull(client, stream_id)) == text


def test_gzip_bomb_resets_only_its_stream() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(comp.compress(bytes(1 << 20)) for _ in range(32)) + comp.flush()
    client, server = connect(max_decoded_size=1 << 20)
    stream_id = client.start_request(request())
    server.pump(client)
    server.conn.send_headers(stream_id, [(b":status", b"200"), (b"content-encoding", b"gzip")])
    for start in range(0, len(bomb), 16384):
        server.conn.send_data(stream_id, bomb[start : start + 16384])
    server.pump(client)  # the server would go on: the stream is still open
    with pytest.raises(LimitExceededError):
        pull(client, stream_id)
    server.pump(client)
    assert [e.error_code for e in received(server, h2.events.StreamReset)] == [ErrorCodes.CANCEL]  # type: ignore[attr-defined]
    client.release(stream_id)
    assert client.is_reusable


def test_protocol_error_breaks_the_connection_and_chains_h2s() -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    client.receive_data(b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")  # zero increment
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event(stream_id)
    assert isinstance(info.value.__cause__, h2.exceptions.ProtocolError)
    assert client.is_closed and not client.is_reusable
    assert b"\x07" in client.data_to_send()[3:4]  # a GOAWAY frame goes out


def test_eof_mid_body_is_an_error() -> None:
    client, server = connect()
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, b"half", end=False)
    server.pump(client)
    client.receive_data(b"")
    events: list[object] = []
    with pytest.raises(RemoteProtocolError) as info:
        pull(client, stream_id, events)
    assert body_of(events) == b"half"
    assert not info.value.retry_safe
    assert client.is_closed


def test_misuse_is_a_local_error() -> None:
    client, _ = connect()
    with pytest.raises(LocalProtocolError):
        client.next_event(1)
    with pytest.raises(LocalProtocolError):
        client.send_body(7, b"")


# -- the same bytes, however they are split ----------------------------------------


def _peer_saying(limit: int) -> tuple[HTTP2Connection, Server, list[int]]:
    """A peer that says it takes `limit` streams, with five requests sent to it."""
    client, server = HTTP2Connection(now=0.0), Server()
    server.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: limit})
    server.pump(client)
    streams = [client.start_request(request()) for _ in range(5)]
    server.pump(client)
    client.capacity_changed = False
    return client, server, streams


def _pushback() -> bytes:
    """It refuses two of the five while three run, answers one, then goes away."""
    _, server, streams = _peer_saying(5)
    server.conn.reset_stream(streams[3], ErrorCodes.REFUSED_STREAM)
    server.conn.reset_stream(streams[4], ErrorCodes.REFUSED_STREAM)
    server.respond(streams[0], b"ok")
    return server.conn.data_to_send() + _goaway(streams[2])


def _capacity_after(chunks: list[bytes]) -> tuple[int, bool, bool]:
    client, _, _ = _peer_saying(5)
    for chunk in chunks:
        if chunk:  # b"" would mean EOF
            client.receive_data(chunk)
    return client.max_streams, client.is_reusable, client.capacity_changed


PUSHBACK = _pushback()


def test_pushback_is_the_same_however_the_bytes_are_split() -> None:
    # Two of five refused while three ran: 3 streams (though 5 were advertised).
    expected = (3, False, True)
    assert _capacity_after([PUSHBACK]) == expected
    for _, chunks in fixed_feeds(PUSHBACK):
        assert _capacity_after(chunks) == expected


@settings(max_examples=40, deadline=None)
@given(points=split_points())
def test_pushback_at_split_points(points: list[int]) -> None:
    assert _capacity_after(split_at(PUSHBACK, points)) == (3, False, True)


Scenario = Callable[[HTTP2Connection, Server], bool]


def _interleaved(client: HTTP2Connection, server: Server) -> bool:
    one, three = client.start_request(request()), client.start_request(request())
    server.pump(client)
    server.conn.send_headers(three, [(b":status", b"200"), (b"content-encoding", b"gzip")])
    server.respond(one, b"one-a", end=False, headers=[(b"x-request-id", b"req_1")])
    server.conn.send_data(three, gzip.compress(b"compressed " * 300), end_stream=True)
    server.conn.ping(b"12345678")
    server.conn.send_data(one, b"one-b", pad_length=10)
    server.conn.send_headers(one, [(b"x-trailer", b"t")], end_stream=True)
    return False


def _goaway_scenario(client: HTTP2Connection, server: Server) -> bool:
    one, _ = client.start_request(request()), client.start_request(request())
    server.pump(client)
    server.respond(one, b"before", end=False)
    server.sent += server.conn.data_to_send() + _goaway(one)
    server.conn.send_data(one, b"after", end_stream=True)
    return False


def _reset_and_garbage(client: HTTP2Connection, server: Server) -> bool:
    one, three = client.start_request(request()), client.start_request(request())
    server.pump(client)
    server.respond(one, b"fine")
    server.conn.reset_stream(three, ErrorCodes.REFUSED_STREAM)
    server.sent += server.conn.data_to_send() + b"\x00\x00\x02\x00\x01\x00\x00\x00\x00ab"
    return False


def _eof_mid_body(client: HTTP2Connection, server: Server) -> bool:
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, b"cut short", end=False)
    return True


def _huge_head(client: HTTP2Connection, server: Server) -> bool:
    stream_id = client.start_request(request())
    server.pump(client)
    fields = [(":status", "200"), ("x-big", "a" * (64 * 1024 + 1))]
    server.sent += server.conn.data_to_send() + header_frames(stream_id, fields, 16384)
    return False


SCENARIOS: dict[str, Scenario] = {
    "huge-head": _huge_head,
    "interleaved": _interleaved,
    "goaway": _goaway_scenario,
    "reset-and-garbage": _reset_and_garbage,
    "eof-mid-body": _eof_mid_body,
}


def _record(scenario: Scenario) -> tuple[bytes, bool]:
    client = HTTP2Connection(now=0.0)
    server = Server()
    eof = scenario(client, server)
    server.sent += server.conn.data_to_send()
    return server.sent, eof


def _replay(scenario: Scenario, chunks: list[bytes], eof: bool) -> dict[int, list[object]]:
    """Per stream, the events and error a fresh client gives for these server bytes."""
    client = HTTP2Connection(now=0.0)
    scenario(client, Server())  # the same requests, so the same stream ids
    client.data_to_send()
    streams = sorted(client._streams)
    seen: dict[int, list[object]] = {s: [] for s in streams}
    failed: set[int] = set()
    for chunk in [*(c for c in chunks if c), *([b""] if eof else [])]:
        client.receive_data(chunk)
        for stream_id in streams:
            if stream_id in failed or (seen[stream_id] and seen[stream_id][-1] == BodyEnd()):
                continue
            try:
                pull(client, stream_id, seen[stream_id])
            except RemoteProtocolError as exc:
                seen[stream_id].append((type(exc).__name__, str(exc), exc.retry_safe))
                failed.add(stream_id)
    return {stream_id: joined(events) for stream_id, events in seen.items()}


RECORDED = {name: _record(scenario) for name, scenario in SCENARIOS.items()}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replay_whole_and_bytewise(name: str) -> None:
    data, eof = RECORDED[name]
    results = [_replay(SCENARIOS[name], chunks, eof) for _, chunks in fixed_feeds(data)]
    assert results[0] == results[1]
    assert all(events for events in results[0].values())


def test_replayed_events_are_the_expected_ones() -> None:
    whole = {name: _replay(SCENARIOS[name], [data], eof) for name, (data, eof) in RECORDED.items()}
    one, three = whole["interleaved"][1], whole["interleaved"][3]
    assert body_of(one) == b"one-aone-b" and one[-1] == BodyEnd(Headers([("x-trailer", "t")]))
    assert body_of(three) == b"compressed " * 300
    assert body_of(whole["goaway"][1]) == b"beforeafter"
    assert whole["goaway"][3][-1][-1] is True  # type: ignore[index]
    assert whole["reset-and-garbage"][3][-1][-1] is True  # type: ignore[index]
    assert body_of(whole["reset-and-garbage"][1]) == b"fine"
    assert whole["eof-mid-body"][1][-1][0] == "RemoteProtocolError"  # type: ignore[index]
    # A head over the header list limit fails as a limit, naming it.
    assert whole["huge-head"][1] == [
        (
            "LimitExceededError",
            "response head exceeds max_header_list_size (65536 bytes)",
            False,
        )
    ]


@settings(max_examples=60, deadline=None)
@given(points=split_points())
def test_replay_at_split_points(points: list[int]) -> None:
    for name, (data, eof) in RECORDED.items():
        reference = _replay(SCENARIOS[name], [data], eof)
        assert _replay(SCENARIOS[name], split_at(data, points), eof) == reference


def _proved_by(chunks: list[bytes]) -> bool:
    client, _ = connect()
    client.timed_out(1.0)
    client.check_alive(1.0, 5.0)
    (payload,) = _pings(client.data_to_send())
    noise = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"srv-ping"  # the server's own PING
    data = noise + _ack(payload)
    for chunk in split_ack(data, chunks):
        client.receive_data(chunk, now=2.0)
    return not client.proving and client.is_reusable


def split_ack(data: bytes, cuts: list[bytes]) -> list[bytes]:
    """`data` cut as `cuts` (the pieces of a split of the same length) say."""
    out, start = [], 0
    for piece in cuts:
        out.append(data[start : start + len(piece)])
        start += len(piece)
    return [piece for piece in out if piece]


_ACK_LENGTH = 2 * (9 + 8)


def test_the_proof_is_the_same_however_the_ack_is_split() -> None:
    for _, chunks in fixed_feeds(bytes(_ACK_LENGTH)):
        assert _proved_by(chunks)


@settings(max_examples=50, deadline=None)
@given(points=split_points())
def test_the_proof_at_split_points(points: list[int]) -> None:
    assert _proved_by(split_at(bytes(_ACK_LENGTH), points))


# -- counting open streams ----------------------------------------------------------


def _walks(monkeypatch: pytest.MonkeyPatch, client: HTTP2Connection) -> list[int]:
    """Counts `client`'s walks over every stream h2 holds (h2's exact open-stream count)."""
    walks: list[int] = []
    walk = h2.connection.H2Connection._open_streams

    def counted(self: h2.connection.H2Connection, remainder: int) -> int:
        if self is client._h2:
            walks.append(len(self.streams))
        return walk(self, remainder)

    monkeypatch.setattr(h2.connection.H2Connection, "_open_streams", counted)
    return walks


def test_h2_walks_its_streams_to_count_them_and_drops_the_closed_ones() -> None:
    # What the connection's own count stands in for and leans on: if h2 changes
    # how it counts open streams or where it forgets closed ones, this fails first.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(
        1,
        [(":method", "GET"), (":path", "/"), (":scheme", "https"), (":authority", "a")],
        end_stream=True,
    )
    conn.send_headers(
        3,
        [(":method", "GET"), (":path", "/"), (":scheme", "https"), (":authority", "a")],
        end_stream=True,
    )
    conn.reset_stream(1)
    assert isinstance(conn.streams, dict) and sorted(conn.streams) == [1, 3]
    assert conn.streams[1].closed and not conn.streams[1].open and conn.streams[3].open
    assert conn.open_outbound_streams == 1
    assert sorted(conn.streams) == [3]  # the walk dropped the closed stream
    assert conn._closed_streams[1] is not None
    assert isinstance(vars(h2.connection.H2Connection)["open_outbound_streams"], property)


def test_opening_a_stream_does_not_walk_every_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    client, server = connect()
    walks = _walks(monkeypatch, client)
    ids = [client.start_request(request(path=f"/v1/files/{n}")) for n in range(100)]
    server.pump(client)
    # h2 alone walks every stream it holds at each new stream: 0 + 1 + ... + 99.
    assert sum(walks) <= 100
    for stream_id in ids:
        server.respond(stream_id, b"ok")
    server.pump(client)
    for stream_id in ids:
        assert body_of(pull(client, stream_id)) == b"ok"
        client.release(stream_id)
    for round_ in range(20):
        batch = [client.start_request(request(path=f"/v1/r/{round_}/{n}")) for n in range(10)]
        server.pump(client)
        for stream_id in batch:
            server.respond(stream_id, b"ok")
        server.pump(client)
        for stream_id in batch:
            pull(client, stream_id)
            client.release(stream_id)
        # The closed streams are dropped at the next new stream, as h2's walk would:
        # h2 keeps only how each closed.
        assert len(client._h2.streams) <= 10
        assert len(client._h2._closed_streams) >= 10 * round_
    assert sum(walks) <= 1000  # h2 alone: 100 x 99 / 2 + 200 x about 100


def test_the_count_matches_h2s_walk_whatever_closed_the_streams() -> None:
    client, server = connect()
    ids = [client.start_request(request("POST", iter([b""]))) for _ in range(6)]
    server.pump(client)
    a, b, c, d, e, f = ids
    server.conn.reset_stream(a, ErrorCodes.CANCEL)  # reset by the server
    server.respond(b, b"early")  # answered before the upload ended: half-closed
    server.respond(c, b"done")
    client.end_request(c)  # then closed by this side's end
    client.end_request(d)  # half-closed the other way
    server.pump(client)
    client.release(e)  # cancelled by this side: a reset
    conn = client._h2
    quick = conn.open_outbound_streams
    exact = vars(h2.connection.H2Connection)["open_outbound_streams"].fget(conn)
    assert quick == exact
    assert quick == len([s for s in conn.streams.values() if s.open]) == 3  # b, d, f
    assert {b, d, f} == {sid for sid, s in conn.streams.items() if s.open}


def _closed_every_way() -> tuple[HTTP2Connection, bytes, set[int]]:
    """A client whose six streams the server's next bytes close by RST_STREAM,
    END_STREAM on DATA, on trailers and on a lone HEADERS, or leave open (an
    answer before the upload ended, and no answer yet): the client, those bytes,
    and the streams open once they are read."""
    client, server = connect()
    ids = [client.start_request(request("POST", iter([b""]))) for _ in range(5)]
    ids.append(client.start_request(request()))
    server.pump(client)
    a, b, c, d, e, f = ids
    client.end_request(c)
    client.end_request(d)
    server.pump(client)
    server.conn.reset_stream(a, ErrorCodes.CANCEL)
    server.respond(b, b"early")  # the upload goes on: b stays open
    server.respond(c, b"", trailers=[(b"x-t", b"1")])
    server.respond(d, b"done")
    server.respond(f)  # HEADERS with END_STREAM
    return client, server.conn.data_to_send(), {b, e}


def _count_is_exact(chunks: list[bytes]) -> None:
    client, _, still_open = _closed_every_way()
    for chunk in chunks:
        if chunk:  # b"" would be the end of input
            client.receive_data(chunk)
    conn = client._h2
    # The connection's own count saw every close as it came (no walk to correct it).
    assert conn._outbound == still_open
    assert conn.open_outbound_streams == 2
    assert {sid for sid, s in conn.streams.items() if s.open} == still_open


def test_the_count_sees_each_close_a_read_brings_whole_and_bytewise() -> None:
    _, data, _ = _closed_every_way()
    for _, chunks in fixed_feeds(data):
        _count_is_exact(chunks)


@settings(max_examples=30, deadline=None)
@given(points=split_points())
def test_the_count_sees_each_close_a_read_brings_at_split_points(points: list[int]) -> None:
    _, data, _ = _closed_every_way()
    _count_is_exact(split_at(data, points))


def test_the_peers_limit_still_refuses_a_stream_over_it() -> None:
    client, server = connect()
    server.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 3})
    server.pump(client)
    ids = [client.start_request(request()) for _ in range(3)]
    with pytest.raises(RemoteProtocolError, match="limit of 3 concurrent streams"):
        client.start_request(request())
    server.pump(client)
    server.respond(ids[0])
    server.pump(client)
    pull(client, ids[0])
    client.release(ids[0])
    client.start_request(request())  # a stream closed: room for one


# -- news: which streams a read concerns ------------------------------------------------


def test_news_names_the_streams_that_received_something_once() -> None:
    client, server = connect()
    ids = [client.start_request(request()) for _ in range(3)]
    server.pump(client)
    assert client.take_news() == []
    one, three, five = ids
    server.respond(five, b"five")
    server.respond(one, b"one", end=False)
    client.receive_data(server.conn.data_to_send())
    news = client.take_news()
    assert news is not None and set(news) == {one, five}
    assert client.take_news() == []  # taken: nothing new since
    server.conn.reset_stream(three, ErrorCodes.INTERNAL_ERROR)
    client.receive_data(server.conn.data_to_send())
    assert client.take_news() == [three]


def test_news_of_a_failure_eof_or_goaway_is_every_stream() -> None:
    for ending in (_goaway(0), b"\x00\x00\x02\x00\x01\x00\x00\x00\x00ab", b""):
        client, server = connect()
        client.start_request(request())
        server.pump(client)
        client.take_news()
        client.receive_data(ending)
        assert client.take_news() is None
        assert client.take_news() == []


def test_news_nobody_takes_is_bounded() -> None:
    client, server = connect()
    for _ in range(60):
        ids = [client.start_request(request()) for _ in range(50)]
        server.pump(client)
        for stream_id in ids:
            server.respond(stream_id, b"x")
        server.pump(client)
        for stream_id in ids:
            pull(client, stream_id)
            client.release(stream_id)
        assert len(client._news) <= 4096
    # Beyond the bound the connection says "any stream": still never a stream missed.
    assert client.take_news() is None


def _news_complete(scenario: Scenario, chunks: list[bytes], eof: bool) -> None:
    """After each chunk, every stream that now has an event to give (or an error) was
    named by `take_news()`, or every stream was: a waiting task is never left asleep."""
    client = HTTP2Connection(now=0.0)
    scenario(client, Server())
    client.data_to_send()
    client.take_news()
    streams = sorted(client._streams)
    done: set[int] = set()
    for chunk in [*(c for c in chunks if c), *([b""] if eof else [])]:
        client.receive_data(chunk)
        news = client.take_news()
        for stream_id in streams:
            if stream_id in done:
                continue
            try:
                events = pull(client, stream_id)
            except RemoteProtocolError:
                events = ["error"]
                done.add(stream_id)
            if events:
                assert news is None or stream_id in news, (stream_id, news, events)
            if events and isinstance(events[-1], BodyEnd):
                done.add(stream_id)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_news_misses_no_stream_whole_and_bytewise(name: str) -> None:
    data, eof = RECORDED[name]
    for _, chunks in fixed_feeds(data):
        _news_complete(SCENARIOS[name], chunks, eof)


@settings(max_examples=30, deadline=None)
@given(points=split_points())
def test_news_misses_no_stream_at_split_points(points: list[int]) -> None:
    for name, (data, eof) in RECORDED.items():
        _news_complete(SCENARIOS[name], split_at(data, points), eof)


def test_received_frames_are_not_described_for_a_log_nobody_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # h2 describes every frame it receives for its trace log (the test's server
    # side does); hyperframe's description is never built for the frames this
    # connection receives.
    described: dict[str, list[str]] = {"client": [], "server": []}
    receiving = ["server"]
    full = Frame.__repr__

    def counted(frame: Frame) -> str:
        described[receiving[-1]].append(type(frame).__name__)
        return full(frame)

    monkeypatch.setattr(Frame, "__repr__", counted)
    client, server = connect()
    feed = client.receive_data

    def receive(data: bytes, now: float | None = None) -> None:
        receiving.append("client")
        try:
            feed(data, now)
        finally:
            receiving.pop()

    monkeypatch.setattr(client, "receive_data", receive)
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, b"hello", trailers=[(b"x-t", b"1")])
    server.conn.ping(b"12345678")
    server.pump(client)
    assert body_of(pull(client, stream_id)) == b"hello"
    assert described["client"] == []
    assert "HeadersFrame" in described["server"]


def test_a_received_frame_is_described_by_its_kind_alone() -> None:
    # The description h2 asks for each received frame (for its trace log) names
    # the frame's kind; the frame stays hyperframe's.
    client, server = connect()
    seen: list[tuple[str, bool]] = []
    receive = client._h2._receive_frame

    def described(frame: Frame) -> list[h2.events.Event]:
        events = receive(frame)
        seen.append((repr(frame), isinstance(frame, (HeadersFrame, DataFrame))))
        return events

    client._h2._receive_frame = described  # type: ignore[method-assign]
    stream_id = client.start_request(request())
    server.pump(client)
    server.respond(stream_id, b"hello")
    server.pump(client)
    assert seen == [("<HeadersFrame>", True), ("<DataFrame>", True)]


# -- received fields: what h2's inbound validation refused, refused ---------------------

_FIELD_NAMES = [b":status", b":path", b":custom", b"content-type", b"X-Upper", b"", b"te"]
_FIELD_NAMES += [b"connection", b"x-ok", b"na:me", b"sp ace", b"\x7fx", b"\xe9t\xe9"]
_FIELD_VALUES = [b"200", b"204", b"trailers", b"gzip", b"", b" lead", b"trail\t", b"a\nb"]
_FIELD_VALUES += [b"a\x00b", b"a\rb", b"ok", b"\x80\xff", b"in side"]
_fields = st.lists(
    st.tuples(st.sampled_from(_FIELD_NAMES), st.sampled_from(_FIELD_VALUES)), max_size=5
)


def _server_bytes(
    head: list[tuple[bytes, bytes]], trailers: list[tuple[bytes, bytes]] | None
) -> bytes | None:
    """What a server that checks nothing sends for `head` (and `trailers`) on stream 1."""
    config = h2.config.H2Configuration(
        client_side=False,
        header_encoding=None,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )
    server = h2.connection.H2Connection(config=config)
    server.initiate_connection()
    scratch = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    scratch.initiate_connection()
    scratch.send_headers(
        1,
        [(b":method", b"GET"), (b":path", b"/"), (b":scheme", b"https"), (b":authority", b"x")],
        end_stream=True,
    )
    server.receive_data(scratch.data_to_send())
    try:
        server.send_headers(1, head, end_stream=trailers is None)
        if trailers is not None:
            server.send_headers(1, trailers, end_stream=True)
    except (h2.exceptions.ProtocolError, IndexError):  # h2 cannot send an empty block
        return None
    return server.data_to_send()


def _h2_outcome(data: bytes) -> object:
    config = h2.config.H2Configuration(
        client_side=True, header_encoding=None, normalize_inbound_headers=False
    )
    reference = h2.connection.H2Connection(config=config)
    reference.initiate_connection()
    reference.send_headers(
        1,
        [(b":method", b"GET"), (b":path", b"/"), (b":scheme", b"https"), (b":authority", b"x")],
        end_stream=True,
    )
    try:
        events = reference.receive_data(data)
    except h2.exceptions.ProtocolError:
        return "refused"
    return [
        [(n, v) for n, v in e.headers if n[:1] != b":"]
        for e in events
        if isinstance(e, (h2.events.ResponseReceived, h2.events.TrailersReceived))
    ]


def _oxide_outcome(data: bytes) -> object:
    client = HTTP2Connection(now=0.0)
    stream_id = client.start_request(request())
    client.receive_data(data)
    try:
        events = pull(client, stream_id)
    except RemoteProtocolError:
        return "refused"
    heads = []
    for event in events:
        if isinstance(event, ResponseHead):
            heads.append(
                [(n.encode("latin-1"), v.encode("latin-1")) for n, v in event.headers.multi_items()]
            )
        elif isinstance(event, BodyEnd) and event is not NO_TRAILERS:
            heads.append(
                [
                    (n.encode("latin-1"), v.encode("latin-1"))
                    for n, v in event.trailers.multi_items()
                ]
            )
    return heads


@settings(max_examples=300, deadline=None)
@given(_fields, st.booleans(), st.none() | _fields)
def test_received_fields_are_refused_where_h2_refused_them(
    head: list[tuple[bytes, bytes]], status_first: bool, trailers: list[tuple[bytes, bytes]] | None
) -> None:
    if status_first:
        head = [(b":status", b"200"), *head]
    data = _server_bytes(head, trailers)
    if data is None:
        return  # not even a server that checks nothing sends that
    expected, got = _h2_outcome(data), _oxide_outcome(data)
    if expected == "refused" or got != "refused":
        assert got == expected
    else:
        # Beyond h2's checks, a :status must be three digits (the stream fails).
        status = next(v for n, v in head if n == b":status")
        assert not (len(status) == 3 and status.isdigit())


@pytest.mark.parametrize(
    ("head", "trailers"),
    [
        ([(b":status", b"200"), (b"X-Upper", b"1")], None),
        ([(b":status", b"200"), (b"x", b"a\nb")], None),
        ([(b":status", b"200"), (b"x", b" padded")], None),
        ([(b":status", b"200"), (b"connection", b"close")], None),
        ([(b":status", b"200"), (b"te", b"gzip")], None),
        ([(b"x", b"1"), (b":status", b"200")], None),
        ([(b":status", b"200"), (b":status", b"200")], None),
        ([(b":status", b"200"), (b":path", b"/")], None),
        ([(b"x", b"1")], None),
        ([(b":status", b"200")], [(b":status", b"200")]),
        ([(b":status", b"200"), (b"na:me", b"1")], None),
    ],
)
def test_a_forbidden_received_field_fails_the_connection(
    head: list[tuple[bytes, bytes]], trailers: list[tuple[bytes, bytes]] | None
) -> None:
    data = _server_bytes(head, trailers)
    assert data is not None
    assert _h2_outcome(data) == "refused"
    assert _oxide_outcome(data) == "refused"
