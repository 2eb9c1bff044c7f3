"""Timeouts end a stalled call with `APITimeoutError`, promptly and without leaking the socket.

A server that stops sending (a stalled stream, a head that never comes) must
never hang the caller: the read timeout, a per-request override or the overall
`Timeout(total=...)` deadline ends the call. Each test has a hard pytest timeout
far above the client's, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

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
