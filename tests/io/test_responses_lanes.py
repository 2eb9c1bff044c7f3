"""Lanes of responses over one Responses WebSocket, in blocking code, asyncio and trio.

The mock server answers each `response.create` over `GET /v1/responses`
(upgraded) and echoes its `stream_id` on every event of the reply, as the API
does; the session routes the events to the lanes that asked.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from oxide_io import AsyncClient, Client
from oxide_io._async._responses_lanes import AsyncResponsesWebSocketSession
from oxide_io._sync._responses_lanes import SyncResponsesWebSocketSession
from oxide_io.testing import MockServer
from oxide_proto.sessions._responses_lanes import (
    ResponsesWebSocketBufferError,
    ResponsesWebSocketError,
    ResponsesWebSocketLimits,
)
from oxide_proto.types.responses import Response
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import KEY, Setup

pytestmark = pytest.mark.anyio

ROOMY = ResponsesWebSocketLimits(
    max_lanes=4,
    max_events_per_lane=64,
    max_events=256,
    max_bytes_per_lane=1 << 20,
    max_bytes=1 << 21,
)


class Lanes:
    """The session for the test's runtime, seen through the async API."""

    def __init__(self, runtime: str, server: MockServer) -> None:
        self.runtime = runtime
        self.server = server
        self.clients: list[Any] = []

    async def session(self, limits: ResponsesWebSocketLimits = ROOMY, **options: Any) -> Any:
        if self.runtime == "sync":
            client = Client(api_key=KEY, base_url=self.server.base_url)
            self.clients.append(client)
            connection = client.responses.connect().enter()
            return wrap(SyncResponsesWebSocketSession(connection, limits=limits, **options))
        async_client = AsyncClient(api_key=KEY, base_url=self.server.base_url)
        self.clients.append(async_client)
        async_connection = await async_client.responses.connect().enter()
        return AsyncResponsesWebSocketSession(async_connection, limits=limits, **options)

    async def close(self) -> None:
        for client in self.clients:
            if isinstance(client, Client):
                client.close()
            else:
                await client.aclose()


@pytest.fixture
async def lanes(runtime: str, anyio_backend: str, mock: Setup) -> Any:
    made = Lanes(runtime, mock.server)
    yield made
    await made.close()


def lane(session: Any, stream_id: str | None) -> Any:
    # `lane()` and `close()` are plain calls on both sessions.
    return wrap(unwrap(session).lane(stream_id))


def create(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "response.create", "model": "gpt-test", "input": text, **more}


async def test_two_lanes_get_their_own_responses_whatever_the_reading_order(lanes: Lanes) -> None:
    async with await lanes.session() as session:
        a, b = lane(session, "a"), lane(session, "b")
        await a.send(create("first question"))
        await b.send(create("second question"))
        # b's events come after a's on the socket: reading b queues a's.
        answer_b = await b.get_final_response(timeout=10)
        answer_a = await a.get_final_response(timeout=10)
        assert isinstance(answer_a, Response) and answer_a.status == "completed"
        assert "first question" in answer_a.output_text
        assert "second question" in answer_b.output_text
        # The lane reads its response again; a follow-up continues it.
        assert await a.get_final_response() is answer_a
        await a.send(create("and then?", previous_response_id=answer_a.id))
        events: list[Any] = []
        while not events or events[-1].type != "response.completed":
            events.append(await a.recv(timeout=10))
        assert {event.stream_id for event in events} == {"a"}
        assert events[0].type == "response.created"
        assert "and then?" in events[-1].response.output_text


async def test_a_second_create_before_the_first_is_read_is_refused(lanes: Lanes) -> None:
    async with await lanes.session() as session:
        a = lane(session, "a")
        await a.send(create("one"))
        with pytest.raises(RuntimeError, match="still running"):
            await a.send(create("two"))
        await a.get_final_response(timeout=10)
        await a.send(create("two"))
        assert "two" in (await a.get_final_response(timeout=10)).output_text
        with pytest.raises(ValueError, match="stream_id 'b'"):
            await a.send(create("three", stream_id="b"))


async def test_a_timeout_loses_no_event(lanes: Lanes) -> None:
    async with await lanes.session() as session:
        a = lane(session, "a")
        with pytest.raises(TimeoutError):
            await a.recv(timeout=0.05)
        await a.send(create("late"))
        first = await a.recv(timeout=10)
        assert first.type == "response.created"
        assert "late" in (await a.get_final_response(timeout=10)).output_text


async def test_an_error_event_fails_that_lane_only(lanes: Lanes) -> None:
    async with await lanes.session() as session:
        a, b = lane(session, "a"), lane(session, "b")
        await a.send({"type": "response.create", "input": "no model"})  # the server refuses it
        await b.send(create("fine"))
        with pytest.raises(ResponsesWebSocketError) as caught:
            await a.get_final_response(timeout=10)
        assert getattr(caught.value.event, "type", None) == "error"
        assert "fine" in (await b.get_final_response(timeout=10)).output_text
        # The lane goes on with its next request.
        await a.send(create("again"))
        assert "again" in (await a.get_final_response(timeout=10)).output_text


async def test_events_of_an_unknown_stream_go_to_the_default_lane(lanes: Lanes) -> None:
    async with await lanes.session() as session:
        await session.default.send(create("unclaimed"))
        await wrap(unwrap(session).connection).send(create("stray", stream_id="stray"))
        seen: list[Any] = []
        while sum(event.type == "response.completed" for event in seen) < 2:
            seen.append(await session.default.recv(timeout=10))
        assert {getattr(event, "stream_id", None) for event in seen} == {None, "stray"}
        # The stray response did not become the default lane's outcome.
        final = await session.default.get_final_response(timeout=10)
        assert "unclaimed" in final.output_text


async def test_over_budget_ends_the_session(lanes: Lanes) -> None:
    tight = ResponsesWebSocketLimits(
        max_lanes=3,
        max_events_per_lane=2,
        max_events=8,
        max_bytes_per_lane=1 << 20,
        max_bytes=1 << 20,
    )
    async with await lanes.session(tight) as session:
        a, b = lane(session, "a"), lane(session, "b")
        await a.send(create("many events"))
        with pytest.raises(ResponsesWebSocketBufferError):
            await b.recv(timeout=10)  # reading for b queues a's events past two
        # a's reader gets the events held before the session ended, then the error.
        with pytest.raises(ResponsesWebSocketBufferError):
            for _ in range(3):
                await a.recv(timeout=10)
        with pytest.raises(RuntimeError):
            await a.send(create("more"))
        with pytest.raises(RuntimeError, match="over"):
            lane(session, "c")


async def test_isolated_overflow_fails_one_lane_and_spares_the_others(lanes: Lanes) -> None:
    tight = ResponsesWebSocketLimits(
        max_lanes=3,
        max_events_per_lane=2,
        max_events=64,
        max_bytes_per_lane=1 << 20,
        max_bytes=1 << 20,
    )
    async with await lanes.session(tight, isolate_lane_overflow=True) as session:
        a, b = lane(session, "a"), lane(session, "b")
        await a.send(create("flood"))
        await b.send(create("calm"))
        # Reading b's response queues a's events past its budget: a fails, b goes on.
        assert "calm" in (await b.get_final_response(timeout=10)).output_text
        with pytest.raises(ResponsesWebSocketBufferError, match="'a'"):
            await a.recv(timeout=10)


async def test_closed_lane_and_session(lanes: Lanes) -> None:
    session = await lanes.session()
    a = lane(session, "a")
    with pytest.raises(RuntimeError, match="enter"):
        await a.recv(timeout=1)
    async with session:
        unwrap(a).close()
        with pytest.raises(EOFError):
            await a.recv(timeout=1)
        with pytest.raises(ValueError, match="already open"):
            lane(session, "a")
        # A closed lane keeps its place: the default lane, a, b and c are four.
        lane(session, "b"), lane(session, "c")
        with pytest.raises(ResponsesWebSocketBufferError, match="max_lanes"):
            lane(session, "d")
        with pytest.raises(ValueError, match="stream_id"):
            lane(session, "no spaces")
    with pytest.raises(RuntimeError, match="closed"):
        await session.default.send(create("after"))
    with pytest.raises(RuntimeError, match="entered once"):
        async with session:
            pass


def test_lanes_read_from_threads_each_get_their_responses(mock: Setup) -> None:
    with Client(api_key=KEY, base_url=mock.server.base_url) as client:
        connection = client.responses.connect().enter()
        with SyncResponsesWebSocketSession(connection, limits=ROOMY) as session:
            names = ["a", "b", "c"]
            results: dict[str, str] = {}
            lanes = {name: session.lane(name) for name in names}

            def ask(name: str) -> None:
                lanes[name].send(create(f"question {name}"))
                results[name] = lanes[name].get_final_response(timeout=10).output_text

            threads = [threading.Thread(target=ask, args=(name,)) for name in names]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=20)
            assert {name: f"question {name}" in text for name, text in results.items()} == {
                name: True for name in names
            }


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_lanes_read_from_tasks_each_get_their_responses(
    anyio_backend: str, mock: Setup
) -> None:
    async with AsyncClient(api_key=KEY, base_url=mock.server.base_url) as client:
        connection = await client.responses.connect().enter()
        async with AsyncResponsesWebSocketSession(connection, limits=ROOMY) as session:
            results: dict[str, str] = {}

            async def ask(name: str) -> None:
                handle = session.lane(name)
                await handle.send(create(f"question {name}"))
                results[name] = (await handle.get_final_response(timeout=10)).output_text

            async with anyio.create_task_group() as group:
                for name in ("a", "b", "c"):
                    group.start_soon(ask, name)
            assert sorted(results) == ["a", "b", "c"]
            assert all(f"question {name}" in text for name, text in results.items())
