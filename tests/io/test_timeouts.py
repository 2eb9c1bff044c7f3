"""Timeouts end a stalled call with `APITimeoutError`, promptly and without leaking the socket.

A server that stops sending (a stalled stream, a head that never comes) must
never hang the caller: the read timeout, a per-request override or the overall
`Timeout(total=...)` deadline ends the call. Each test has a hard pytest timeout
far above the client's, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

from typing import Any

import pytest

from oxide_io import APITimeoutError, Timeout
from oxide_io.testing import Delay, SlowFirstToken, Stall
from tests.io.conftest import MakeClient, Setup
from tests.io.leaks import client_sockets

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(20)]

MESSAGES = [{"role": "user", "content": "Hello there"}]


async def test_stalled_stream(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport, timeout=0.3)
    any_transport.server.enqueue(Stall(after_events=1))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(APITimeoutError):
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 1
    assert len(any_transport.server.requests) == 1  # an event was delivered: no retry
    # The stalled exchange is gone; HTTP/1.1 gives its connection up.
    if any_transport.http_version == "HTTP/1.1":
        assert client_sockets(any_transport.port) == 0
    await client.models.list()


async def test_delayed_head(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport, timeout=0.3, max_retries=1)
    any_transport.server.enqueue(Delay(3, times=2))
    with pytest.raises(APITimeoutError) as caught:
        await client.models.list()
    assert "timed out" in str(caught.value).lower()
    assert len(any_transport.server.requests) == 2  # a timeout is retried


async def test_per_request_timeout(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=0)  # the default timeout: 600 s
    mock.server.enqueue(Delay(3))
    with pytest.raises(APITimeoutError):
        await client.models.list(timeout=0.3)
    mock.server.enqueue(SlowFirstToken(3))
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, timeout=Timeout(0.3)
    )
    with pytest.raises(APITimeoutError):
        async for _ in stream:
            pass
    # A generous per-request timeout lets a slow answer through.
    short = client.with_options(timeout=0.1)
    mock.server.enqueue(Delay(0.3))
    assert (await short.models.list(timeout=5)).data


async def test_total_deadline_on_a_trickling_stream(mock: Setup, make_client: MakeClient) -> None:
    # The read timeout alone would wait 10 s for each event; the total deadline
    # bounds the whole call.
    client = make_client(mock, timeout=Timeout(10, total=0.5), max_retries=0)
    mock.server.enqueue(Stall(after_events=2, seconds=5))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(APITimeoutError):
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 2


async def test_total_deadline_covers_retries(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, timeout=Timeout(10, total=0.5), max_retries=5)
    mock.server.enqueue(Delay(3, times=None))
    with pytest.raises(APITimeoutError):
        await client.models.list()
    assert len(mock.server.requests) == 1


async def test_a_read_outlives_the_timer_an_earlier_shorter_read_set(
    any_transport: Setup, make_client: MakeClient
) -> None:
    # On asyncio one timer serves every read of a connection: the first call's
    # short timeout sets it to fire early, while the second call's read, with
    # a longer timeout, is still waiting for a delayed head. That read must
    # wait on to its own deadline, and get its answer.
    client = make_client(any_transport, max_retries=0)
    assert (await client.models.list(timeout=0.2)).data
    any_transport.server.enqueue(Delay(0.6))
    assert (await client.models.list(timeout=5)).data
    # And a short read after long ones still times out.
    any_transport.server.enqueue(Delay(3))
    with pytest.raises(APITimeoutError):
        await client.models.list(timeout=0.3)
    assert len(any_transport.server.requests) == 3


@pytest.mark.parametrize("runtime", ["asyncio"], indirect=True)
async def test_reads_with_a_timeout_share_one_timer(mock: Setup, make_client: MakeClient) -> None:
    # Counting, not timing: sequential calls with the default read timeout set
    # no new loop timer each, only the connection's first read does.
    import asyncio

    client = make_client(mock, max_retries=0)
    await client.models.list()  # connects; its read sets the connection's timer
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def counting_call_at(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        armed.append(when)
        return call_at(when, *args, **kwargs)

    loop.call_at = counting_call_at  # type: ignore[method-assign,assignment]
    try:
        for _ in range(20):
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert armed == []
        # A shorter timeout than the one the timer was set for sets it again, once.
        await client.models.list(timeout=30)
        assert len(armed) == 1
    finally:
        del loop.call_at
