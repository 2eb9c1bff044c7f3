"""Retries as the official SDK does them, seen from the server's request log.

Each attempt is a request the server recorded; `x-stainless-retry-count` counts
them up. A stream is retried, as a whole request, only while no event has
reached the caller: once one has, a break is the caller's error to see.
"""

from __future__ import annotations

import logging

import pytest

from oxide_io import (
    APIConnectionError,
    BadRequestError,
    InternalServerError,
    MalformedEventError,
    RateLimitError,
)
from oxide_io.testing import CutStream, Fail, Malformed, Truncate
from tests.io.conftest import MakeClient, Setup
from tests.servers import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]


def retry_counts(setup: Setup) -> list[str]:
    return [r.headers["x-stainless-retry-count"] for r in setup.server.requests]


async def test_rate_limited_then_success(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Fail(429, retry_after=0.05))
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert retry_counts(mock) == ["0", "1"]
    first, second = mock.server.requests
    assert first.json == second.json


async def test_a_retry_sends_arguments_given_as_iterators_again(
    mock: Setup, make_client: MakeClient
) -> None:
    # Request arrays are typed `Iterable`: a generator is read once, for the first attempt.
    client = make_client(mock)
    mock.server.enqueue(Fail(500))
    messages = (dict(message) for message in MESSAGES)
    await client.chat.completions.create(model="gpt-4o", messages=messages)
    first, second = mock.server.requests
    assert first.json == second.json
    assert first.json["messages"] == MESSAGES
    assert retry_counts(mock) == ["0", "1"]


async def test_retry_after_ms(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Fail(429, retry_after_ms=20, times=2))
    await client.models.list()
    assert retry_counts(mock) == ["0", "1", "2"]


async def test_server_errors_twice_then_success(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Fail(500, times=2))  # no retry-after: exponential backoff
    model = await client.models.retrieve("gpt-4o")
    assert model.id == "gpt-4o"
    assert retry_counts(mock) == ["0", "1", "2"]


async def test_retries_run_out(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=1)
    mock.server.enqueue(Fail(503, retry_after_ms=10, times=5))
    with pytest.raises(InternalServerError) as caught:
        await client.models.list()
    assert caught.value.status_code == 503
    assert retry_counts(mock) == ["0", "1"]


async def test_should_retry_header_wins(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Fail(500, should_retry=False))
    with pytest.raises(InternalServerError):
        await client.models.list()
    assert retry_counts(mock) == ["0"]

    mock.server.clear()
    mock.server.enqueue(Fail(400, should_retry=True, retry_after_ms=10))
    await client.models.list()
    assert retry_counts(mock) == ["0", "1"]


async def test_client_errors_are_not_retried(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Fail(400))
    with pytest.raises(BadRequestError):
        await client.models.list()
    assert retry_counts(mock) == ["0"]


async def test_max_retries_zero(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=0)
    mock.server.enqueue(Fail(429, retry_after_ms=10))
    with pytest.raises(RateLimitError):
        await client.models.list()
    assert retry_counts(mock) == ["0"]
    # A per-client override through with_options.
    mock.server.clear()
    mock.server.enqueue(Fail(429, retry_after_ms=10))
    await client.with_options(max_retries=1).models.list()
    assert retry_counts(mock) == ["0", "1"]


async def test_connection_refused(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=1)
    with caplog.at_level(logging.INFO, logger="oxide"), pytest.raises(APIConnectionError) as caught:
        await client.models.list()
    assert caught.value.request is not None
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 1


async def test_stream_retried_before_the_first_event(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    any_transport.server.enqueue(CutStream(after_events=0))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert retry_counts(any_transport) == ["0", "1"]


async def test_stream_not_retried_after_an_event(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    any_transport.server.enqueue(CutStream(after_events=2))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(APIConnectionError):
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 2
    assert retry_counts(any_transport) == ["0"]
    # The broken connection is gone; the next call works.
    await client.models.list()


async def test_truncated_stream(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    # Cut before the first event: retried like a dropped connection.
    any_transport.server.enqueue(Truncate(after_events=0))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert retry_counts(any_transport) == ["0", "1"]
    # Every event but the terminator: the caller learns the answer is incomplete.
    any_transport.server.clear()
    any_transport.server.enqueue(Truncate())
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError, match="truncated"):
        async for _ in stream:
            pass
    assert retry_counts(any_transport) == ["0"]


async def test_malformed_event(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Malformed(after_events=1))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(MalformedEventError) as caught:
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 1
    assert caught.value.data == Malformed().data
    assert len(mock.server.requests) == 1
    await client.models.list()
