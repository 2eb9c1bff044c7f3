"""A WebSocket left idle between calls, in blocking code, asyncio and trio, against a real server.

An agent reads a response, runs a tool while nothing reads, then sends again.
Meanwhile the server may close the connection (a Close frame, a dropped TCP
connection) or stop answering altogether (`GoSilent`: a NAT that forgot the
connection). The next send must find out first: reopen when reconnecting is on
(`on_reconnecting`, as in the official SDK, or a `ReconnectPolicy`), raise the
close at once when it is off, and never wait for a whole read timeout. The read
timeout here is long, so a send that did not check would fail with
`APITimeoutError`, not with the close.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from oxide_io import APITimeoutError, ReconnectingEvent, ReconnectingOverrides
from oxide_proto import ReconnectPolicy, WebSocketConnectionClosedError
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.io.ws_fixtures import wss_api as wss_api
from tests.ws_api_server import CloseMid, CloseWhenIdle, GoSilent, Text, WsApiServer

pytestmark = pytest.mark.anyio

FAST = {"initial_delay": 0.01, "max_delay": 0.05}
# Long enough that a send which waited for it would fail the test by its error type.
READ_TIMEOUT = 30.0


def creates(server: WsApiServer) -> list[dict[str, Any]]:
    return [event for event in server.received if event.get("type") == "response.create"]


class Recorder:
    """An `on_reconnecting` callback that records its events and answers as told."""

    def __init__(self, answer: ReconnectingOverrides | None = None) -> None:
        self.events: list[ReconnectingEvent] = []
        self.answer = answer

    def __call__(self, event: ReconnectingEvent) -> ReconnectingOverrides | None:
        self.events.append(event)
        return self.answer


async def run_a_tool(server: WsApiServer, closes: int = 1) -> None:
    """Nothing reads until the server has closed its side `closes` times in all."""
    with anyio.fail_after(10):
        while server.idle_closes < closes:
            await anyio.sleep(0.02)
    await anyio.sleep(0.1)  # the Close frame (or the reset) crosses the loopback


@pytest.mark.parametrize("code", [1001, 1011, 1012, 1013, None], ids=str)
@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
async def test_idle_close_reopens_before_the_next_send(
    ws: Runtime, ws_api: WsApiServer, wss_api: WsApiServer, tls: bool, code: int | None
) -> None:
    server = wss_api if tls else ws_api
    server.script(CloseWhenIdle(code=code, text="first"), Text("second"))
    client = ws.client(server)
    recorder = Recorder()
    async with ws.responses_session(
        client, on_reconnecting=recorder, timeout=READ_TIMEOUT, **FAST
    ) as session:
        first = await session.send(model="gpt-test", input="one")
        assert first.output[0].content[0].text == "first"
        await run_a_tool(server)
        second = await session.send(model="gpt-test", input="two")
        assert second.output[0].content[0].text == "second"
        assert session.connection.reconnects == 1
    assert server.connections == 2
    assert [event["input"] for event in creates(server)] == ["one", "two"]
    (event,) = recorder.events
    assert event.attempt == 1
    assert event.max_attempts == 5
    assert event.close_code == (1006 if code is None else code)
    assert 0 < event.delay <= 0.01
    assert client_sockets(server.port) == 0


@pytest.mark.parametrize("code", [1001, 1012, None], ids=str)
async def test_idle_close_without_reconnecting_raises_at_once(
    ws: Runtime, ws_api: WsApiServer, code: int | None
) -> None:
    ws_api.script(CloseWhenIdle(code=code))
    client = ws.client(ws_api)
    async with ws.connect_responses(client, timeout=READ_TIMEOUT) as conn:
        await conn.response.create(model="gpt-test", input="one")
        while (await conn.recv()).type != "response.completed":
            pass
        await run_a_tool(ws_api)
        # The send itself fails: the close is not left for a reader to find.
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await conn.response.create(model="gpt-test", input="two")
        assert caught.value.code == (1006 if code is None else code)
        # Still closed, still the same answer: nothing is written to a dead socket.
        with pytest.raises(WebSocketConnectionClosedError):
            await conn.response.create(model="gpt-test", input="three")
    assert ws_api.connections == 1
    assert len(creates(ws_api)) == 1
    assert client_sockets(ws_api.port) == 0


async def test_reconnect_false_wins_over_on_reconnecting(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(CloseWhenIdle(code=1012))
    client = ws.client(ws_api)
    recorder = Recorder()
    async with ws.responses_session(
        client, on_reconnecting=recorder, reconnect=False, timeout=READ_TIMEOUT
    ) as session:
        await session.send(model="gpt-test", input="one")
        await run_a_tool(ws_api)
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await session.send(model="gpt-test", input="two")
        assert caught.value.code == 1012
    assert recorder.events == []


async def test_a_quiet_but_healthy_connection_is_kept(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    async with ws.responses_session(
        client, keepalive_interval=0.05, keepalive_timeout=5.0, timeout=READ_TIMEOUT
    ) as session:
        for step in range(3):
            await session.send(model="gpt-test", input=f"step {step}")
            await anyio.sleep(0.15)  # longer than keepalive_interval: a ping before the send
    assert ws_api.connections == 1
    assert len(creates(ws_api)) == 3


@pytest.mark.parametrize("reconnecting", [False, True], ids=["off", "on_reconnecting"])
async def test_a_silent_server_is_found_dead_before_the_send(
    ws: Runtime, ws_api: WsApiServer, reconnecting: bool
) -> None:
    ws_api.script(GoSilent(seconds=5.0), Text("over a new connection"))
    client = ws.client(ws_api)
    recorder = Recorder()
    options: dict[str, Any] = {"on_reconnecting": recorder, **FAST} if reconnecting else {}
    async with ws.connect_responses(
        client, keepalive_interval=0.1, keepalive_timeout=0.3, timeout=READ_TIMEOUT, **options
    ) as conn:
        await conn.response.create(model="gpt-test", input="one")
        while (await conn.recv()).type != "response.completed":
            pass
        await anyio.sleep(0.2)  # the tool runs; nothing reads
        if reconnecting:
            await conn.response.create(model="gpt-test", input="two")
            events = [await conn.recv()]
            while events[-1].type != "response.completed":
                events.append(await conn.recv())
            assert events[-1].response.output[0].content[0].text == "over a new connection"
            assert [event.close_code for event in recorder.events] == [1006]
        else:
            # The send itself finds the connection dead (no pong), before writing.
            with pytest.raises(WebSocketConnectionClosedError) as caught:
                await conn.response.create(model="gpt-test", input="two")
            assert caught.value.code == 1006
    assert ws_api.connections == (2 if reconnecting else 1)
    assert client_sockets(ws_api.port) == 0


async def test_messages_that_arrived_while_idle_are_delivered_first(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    notice = {"type": "rate_limits.updated", "rate_limits": []}
    ws_api.script(CloseWhenIdle(code=1001, event=notice), Text("fresh"))
    client = ws.client(ws_api)
    async with ws.connect_responses(
        client, on_reconnecting=Recorder(), timeout=READ_TIMEOUT, **FAST
    ) as conn:
        await conn.response.create(model="gpt-test", input="one")
        while (await conn.recv()).type != "response.completed":
            pass
        await run_a_tool(ws_api)
        await conn.response.create(model="gpt-test", input="two")
        kinds = [(await conn.recv()).type]
        while kinds[-1] != "response.completed":
            kinds.append((await conn.recv()).type)
    assert kinds[:2] == ["rate_limits.updated", "response.created"]
    assert ws_api.connections == 2


async def test_on_reconnecting_replaces_query_and_headers(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(CloseWhenIdle(code=1012), Text("resumed"))
    client = ws.client(ws_api)
    recorder = Recorder({"extra_query": {"resume": "yes"}, "extra_headers": {"x-token": "new"}})
    async with ws.responses_session(
        client,
        on_reconnecting=recorder,
        extra_query={"lane": "a"},
        extra_headers={"x-token": "old"},
        **FAST,
    ) as session:
        await session.send(model="gpt-test", input="one")
        await run_a_tool(ws_api)
        response = await session.send(model="gpt-test", input="two")
        assert response.output[0].content[0].text == "resumed"
    (event,) = recorder.events
    assert event.extra_query == {"lane": "a"}
    assert event.extra_headers == {"x-token": "old"}
    assert ws_api.paths == ["/v1/responses?lane=a", "/v1/responses?resume=yes"]
    assert [handshake["x-token"] for handshake in ws_api.handshakes] == ["old", "new"]


async def test_on_reconnecting_abort_raises_the_close(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(CloseWhenIdle(code=1013))
    client = ws.client(ws_api)
    recorder = Recorder({"abort": True})
    async with ws.responses_session(client, on_reconnecting=recorder, **FAST) as session:
        await session.send(model="gpt-test", input="one")
        await run_a_tool(ws_api)
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await session.send(model="gpt-test", input="two")
        assert caught.value.code == 1013
    assert len(recorder.events) == 1
    assert ws_api.connections == 1


async def test_on_reconnecting_that_raises_ends_reconnecting(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(CloseWhenIdle(code=1001))
    client = ws.client(ws_api)

    def broken(event: ReconnectingEvent) -> None:
        raise LookupError("no token to reconnect with")

    async with ws.responses_session(client, on_reconnecting=broken, **FAST) as session:
        await session.send(model="gpt-test", input="one")
        await run_a_tool(ws_api)
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await session.send(model="gpt-test", input="two")
        assert caught.value.code == 1001
        assert isinstance(caught.value.__cause__, LookupError)
    assert ws_api.connections == 1


async def test_close_in_flight_raises_to_the_reader_and_is_never_replayed(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(CloseMid(1011), Text("after"))
    client = ws.client(ws_api)
    recorder = Recorder()
    async with ws.responses_session(client, on_reconnecting=recorder, **FAST) as session:
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await session.send(model="gpt-test", input="in flight")
        assert caught.value.code == 1011
        assert recorder.events == []  # nothing reopens until something is sent
        response = await session.send(model="gpt-test", input="next")
        assert response.output[0].content[0].text == "after"
    assert [event.close_code for event in recorder.events] == [1011]
    assert [event["input"] for event in creates(ws_api)] == ["in flight", "next"]


async def test_reconnect_policy_still_works_and_counts_attempts_afresh(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(CloseWhenIdle(code=1001), CloseWhenIdle(code=1001), Text("third"))
    client = ws.client(ws_api)
    recorder = Recorder()
    policy = ReconnectPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
    async with ws.responses_session(client, reconnect=policy, on_reconnecting=recorder) as session:
        for text in ("one", "two"):
            await session.send(model="gpt-test", input=text)
            await run_a_tool(ws_api, closes=len(creates(ws_api)))
        response = await session.send(model="gpt-test", input="three")
        assert response.output[0].content[0].text == "third"
        assert session.connection.reconnects == 2
    # Each reopened connection answered: the next drop starts again at attempt 1.
    assert [(event.attempt, event.max_attempts) for event in recorder.events] == [(1, 2), (1, 2)]


async def test_realtime_reconnects_after_the_server_closed(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    recorder = Recorder()
    async with ws.connect_realtime(
        client, model="gpt-realtime", on_reconnecting=recorder, **FAST
    ) as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.send({"type": "test.close", "code": 1012})
        await anyio.sleep(0.2)
        await conn.session.update(session={"type": "realtime", "instructions": "again"})
        # A new connection is a new session: created first, then the update's answer.
        assert (await conn.recv()).type == "session.created"
        assert (await conn.recv()).type == "session.updated"
    assert [event.close_code for event in recorder.events] == [1012]
    assert ws_api.connections == 2


async def test_timeout_is_still_a_timeout(ws: Runtime, ws_api: WsApiServer) -> None:
    # The liveness check never turns a slow answer into a close.
    from tests.ws_api_server import Stall

    ws_api.script(Stall())
    client = ws.client(ws_api)
    async with ws.responses_session(client, timeout=0.3, keepalive_interval=0.05) as session:
        with pytest.raises(APITimeoutError):
            await session.send(model="gpt-test", input="x")
