"""Scripted faults from llmock, a third-party OpenAI mock, plain and under hypercorn.

llmock runs as its own server (uvicorn, HTTP/1.1) and under hypercorn (h2c, and
TLS with ALPN h2). Each fault must end in the documented typed error or a
successful retry, never a hang; where llmock can judge the client (its
`/_llmock/verdict`), the verdict must pass. Under HTTP/2, llmock's `disconnect`
stalls the stream instead of closing it: the read timeout must end it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from oxide_io import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InternalServerError,
    NotFoundError,
)
from tests.io.conftest import MakeClient
from tests.servers import Certs, llmock_requests, llmock_reset, llmock_scenario, llmock_verdict

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]


@attrs.frozen
class Llmock:
    url: str
    options: dict[str, Any]
    http_version: str
    context: ssl.SSLContext | None = None

    def scenario(self, *behaviours: dict[str, Any]) -> None:
        llmock_scenario(self.url, *behaviours, context=self.context)

    def requests(self) -> list[dict[str, Any]]:
        return llmock_requests(self.url, self.context)

    def verdict(self) -> dict[str, Any]:
        return llmock_verdict(self.url, self.context)


@pytest.fixture(params=["uvicorn-h1", "hypercorn-h2c", "hypercorn-tls-h2"])
def llmock(request: pytest.FixtureRequest) -> Iterator[Llmock]:
    if request.param == "uvicorn-h1":
        url = request.getfixturevalue("llmock_url")
        server = Llmock(url, {"base_url": f"{url}/v1"}, "HTTP/1.1")
    elif request.param == "hypercorn-h2c":
        url = request.getfixturevalue("llmock_h2c_url")
        server = Llmock(url, {"base_url": f"{url}/v1", "h2c": True}, "HTTP/2")
    else:
        url = request.getfixturevalue("llmock_tls_url")
        certs: Certs = request.getfixturevalue("certs")
        options = {"base_url": f"{url}/v1", "verify": certs.ca_pem}
        server = Llmock(url, options, "HTTP/2", certs.client_context())
    llmock_reset(server.url, server.context)
    yield server
    llmock_reset(server.url, server.context)


def assert_verdict_passes(llmock: Llmock) -> None:
    verdict = llmock.verdict()
    assert verdict["passed"], verdict["findings"]
    assert not verdict["warnings"], verdict["findings"]


async def test_plain_and_streamed(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options)
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.http_version == llmock.http_version
    completion = raw.parse()
    assert completion.choices[0].message.content
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)
    events = [
        e async for e in await client.responses.create(model="gpt-4o", input="hi", stream=True)
    ]
    assert events[-1].type == "response.completed"
    assert [m.id async for m in await client.models.list()]
    result = await client.embeddings.create(model="text-embedding-3-small", input="hi")
    assert all(isinstance(x, float) for x in result.data[0].embedding)
    with pytest.raises(NotFoundError) as caught:
        await client.models.retrieve("no-such-model")
    assert caught.value.status_code == 404
    assert_verdict_passes(llmock)


async def test_rate_limited_with_retry_after(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options)
    llmock.scenario({"type": "fail", "status": 429, "retry_after": 0.3})
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content
    attempts = llmock.requests()
    assert [a["status"] for a in attempts] == [429, 200]
    assert [a["sdk_retry_count"] for a in attempts] == [0, 1]
    assert attempts[1]["started_at"] - attempts[0]["ended_at"] >= 0.3 * 0.95
    assert_verdict_passes(llmock)


async def test_server_errors_then_success(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options)
    llmock.scenario({"type": "fail", "status": 503, "retry_after": 0.05, "times": 2})
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert [a["status"] for a in llmock.requests()] == [503, 503, 200]
    assert_verdict_passes(llmock)

    llmock_reset(llmock.url, llmock.context)
    llmock.scenario({"type": "fail", "status": 500, "retry_after": 0.05, "times": 3})
    with pytest.raises(InternalServerError):
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(llmock.requests()) == 3  # the first attempt and two retries
    assert_verdict_passes(llmock)


async def test_delay_beyond_the_timeout(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options, timeout=0.5, max_retries=0)
    llmock.scenario({"type": "delay", "seconds": 3})
    with pytest.raises(APITimeoutError):
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    # Within the timeout, a delay is just a slow answer.
    llmock.scenario({"type": "delay", "seconds": 0.1})
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


async def test_slow_first_token(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options, timeout=2)
    llmock.scenario({"type": "slow_first_token", "seconds": 0.3})
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert [chunk async for chunk in stream]
    assert len(llmock.requests()) == 1

    client = make_client(None, **llmock.options, timeout=0.3, max_retries=0)
    llmock.scenario({"type": "slow_first_token", "seconds": 3})
    with pytest.raises(APITimeoutError):
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            pass


async def test_disconnect_before_the_first_chunk_is_retried(
    llmock: Llmock, make_client: MakeClient
) -> None:
    # Over HTTP/2 the "disconnect" stalls: the read timeout ends it, then the retry.
    client = make_client(None, **llmock.options, timeout=1)
    llmock.scenario({"type": "stream_fault", "kind": "disconnect", "after_chunks": 0})
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)
    attempts = llmock.requests()
    assert len(attempts) == 2
    assert attempts[1]["completed"]


async def test_disconnect_after_chunks(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options, timeout=1)
    llmock.scenario({"type": "stream_fault", "kind": "disconnect", "after_chunks": 2})
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    received = []
    expected = APITimeoutError if llmock.http_version == "HTTP/2" else APIConnectionError
    with pytest.raises(expected):
        async for chunk in stream:
            received.append(chunk)
    assert len(received) >= 1
    assert len(llmock.requests()) == 1  # events were delivered: not retried
    await client.models.list()


async def test_truncate(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options)
    llmock.scenario({"type": "stream_fault", "kind": "truncate", "after_chunks": 0})
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert [chunk async for chunk in stream]
    assert len(llmock.requests()) == 2
    assert_verdict_passes(llmock)

    # Cut after some text: raised, not accepted. (llmock's verdict only sees that
    # no retry came, so it cannot tell this from a client that kept half an answer.)
    llmock.scenario({"type": "stream_fault", "kind": "truncate", "after_chunks": 2})
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError, match="truncated"):
        async for _ in stream:
            pass


async def test_malformed_chunk(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options)
    llmock.scenario({"type": "stream_fault", "kind": "malformed", "after_chunks": 1})
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(APIError) as caught:
        async for _ in stream:
            pass
    assert type(caught.value).__name__ == "MalformedEventError"
    await client.models.list()


async def test_stall(llmock: Llmock, make_client: MakeClient) -> None:
    client = make_client(None, **llmock.options, timeout=0.5)
    llmock.scenario(
        {"type": "stream_fault", "kind": "stall", "after_chunks": 1, "stall_seconds": 5}
    )
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(APITimeoutError):
        async for _ in stream:
            pass
    await client.models.list()
