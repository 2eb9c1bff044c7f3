"""`.with_raw_response` and `.with_streaming_response` attributes, against the official SDK's.

The same server answers oxide's client (blocking, asyncio, trio) and the official
`OpenAI` client, over HTTP/1.1, h2c, HTTP/1.1 over TLS and HTTP/2 over TLS, with
the same script (a 429 then the answer): status, headers, HTTP version, the
request's method, URL and retry-count header, `retries_taken`, the body as
`content` / `text` / `json()`, `parse()` and `parse(to=...)` must agree. On
both oxide clients a raw response's `parse()` is a plain method, as the official
SDK's is; a streamed response's is awaited on the async client.
"""

from __future__ import annotations

import datetime
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from oxide_io.testing import Fail
from oxide_proto import StreamAlreadyConsumed
from oxide_proto.types.chat import ChatCompletion, ChatCompletionMessage
from oxide_proto.types.models import Model
from tests.io.blocking import unwrap
from tests.io.conftest import KEY, MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MESSAGES = [{"role": "user", "content": "Hello there"}]
REPLY = 'You said: "Hello there". This reply comes from the oxide mock server.'
# Fields of the answer that differ from one request to the next.
VARYING = ("id", "created")


@pytest.fixture
def official(any_transport: Setup) -> Iterator[Any]:
    """The official blocking client, over the same transport as oxide's."""
    openai = pytest.importorskip("openai")
    options = any_transport.options
    http2 = any_transport.http_version == "HTTP/2"
    kwargs: dict[str, Any] = {"http2": http2}
    if "verify" in options:
        kwargs["verify"] = ssl.create_default_context(cafile=options["verify"])
    elif http2:
        kwargs["http1"] = False  # h2c: HTTP/2 with prior knowledge
    http_client = openai.DefaultHttpxClient(**kwargs)
    client = openai.OpenAI(
        api_key=KEY, base_url=options["base_url"], http_client=http_client, max_retries=2
    )
    yield client
    client.close()


def without(data: dict[str, Any], keys: tuple[str, ...] = VARYING) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in keys}


async def test_raw_response_matches_the_official_one(
    any_transport: Setup, make_client: MakeClient, official: Any
) -> None:
    server = any_transport.server
    server.enqueue(Fail(429, retry_after=0.01))
    reference = official.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES
    )
    server.enqueue(Fail(429, retry_after=0.01))
    client = make_client(any_transport, max_retries=2)
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)

    assert raw.status_code == reference.status_code == 200
    assert raw.retries_taken == reference.retries_taken == 1
    assert raw.http_version == reference.http_version == any_transport.http_version
    assert raw.method == reference.method == "POST"
    assert str(raw.url) == str(reference.url)
    request, expected = raw.http_request, reference.http_request
    assert request.method == expected.method
    assert str(request.url) == str(expected.url)
    for name in ("x-stainless-retry-count", "authorization", "content-type", "accept"):
        assert request.headers[name] == expected.headers[name], name
    # The server's headers, by name; their values but the request id are the same.
    assert set(raw.headers) == set(reference.headers)
    for name in raw.headers:
        if name != "x-request-id":
            assert raw.headers[name] == reference.headers[name], name
    assert raw.headers.get("X-Request-ID") == raw.request_id
    assert raw.request_id is not None and raw.request_id.startswith("req_")
    assert raw.is_closed and reference.is_closed
    assert isinstance(raw.elapsed, datetime.timedelta)
    assert raw.elapsed >= datetime.timedelta(0)

    assert raw.content == raw.read()
    assert raw.text == raw.content.decode()
    assert without(raw.json()) == without(json.loads(reference.text))
    assert json.loads(raw.text) == raw.json()

    completion = raw.parse()
    assert isinstance(completion, ChatCompletion)
    assert raw.parse() is completion
    assert completion._request_id == raw.request_id
    assert completion.choices[0].message.content == REPLY
    assert reference.parse().choices[0].message.content == REPLY
    assert without(completion.to_dict()) == without(reference.parse().to_dict())

    # parse(to=...): another reading of the same body, cached per type.
    assert raw.parse(to=dict) == raw.json()
    assert without(raw.parse(to=dict)) == without(reference.parse(to=dict))
    assert raw.parse(to=str) == raw.text
    assert raw.parse(to=str) == raw.text
    as_model = raw.parse(to=ChatCompletion)
    assert as_model is not completion and as_model == completion
    assert raw.parse(to=ChatCompletion) is as_model
    assert as_model._request_id == raw.request_id


async def test_no_retry_counts_zero(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    raw = await client.models.with_raw_response.retrieve("gpt-4o")
    assert raw.retries_taken == 0
    assert raw.http_request.headers["x-stainless-retry-count"] == "0"
    assert raw.method == "GET" and str(raw.url) == f"{mock.server.base_url}/models/gpt-4o"
    assert raw.parse().id == "gpt-4o"
    assert isinstance(raw.parse(to=Model), Model)


async def test_retries_taken_counts_every_retry(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=3)
    mock.server.enqueue(Fail(500, times=2), Fail(429, retry_after=0.01))
    raw = await client.models.with_raw_response.retrieve("gpt-4o")
    assert raw.retries_taken == 3
    assert raw.http_request.headers["x-stainless-retry-count"] == "3"
    assert [r.headers["x-stainless-retry-count"] for r in mock.server.requests] == [
        "0",
        "1",
        "2",
        "3",
    ]


async def test_raw_event_stream_stays_open_until_read(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    )
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert not raw.is_closed
    # The body belongs to the event stream; it is not kept.
    with pytest.raises(StreamAlreadyConsumed):
        raw.read()
    with pytest.raises(TypeError, match="event stream"):
        raw.parse(to=dict)
    stream = raw.parse()
    texts = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(text for text in texts if text) == REPLY
    assert raw.is_closed


async def test_parse_to_scalars_and_models(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    created = await client.files.create(file=("n.txt", b" 42 "), purpose="assistants")
    raw = await client.files.with_raw_response.content(created.id)
    assert raw.parse(to=int) == 42
    assert raw.parse(to=float) == 42.0
    assert raw.parse(to=str) == " 42 "
    assert raw.parse(to=bytes) == b" 42 "
    assert raw.parse(to=bool) is False
    assert unwrap(raw.parse()).content == b" 42 "
    message = await client.files.create(
        file=("m.json", json.dumps({"role": "assistant", "content": "hi"}).encode()),
        purpose="assistants",
    )
    raw = await client.files.with_raw_response.content(message.id)
    parsed = raw.parse(to=ChatCompletionMessage)
    assert isinstance(parsed, ChatCompletionMessage) and parsed.content == "hi"
    assert raw.parse(to=dict[str, str]) == {"role": "assistant", "content": "hi"}


async def test_streaming_response_matches_the_official_one(
    any_transport: Setup, make_client: MakeClient, official: Any
) -> None:
    server = any_transport.server
    server.enqueue(Fail(500))
    with official.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES
    ) as reference:
        expected = {
            "retries_taken": reference.retries_taken,
            "status_code": reference.status_code,
            "http_version": reference.http_version,
            "method": reference.http_request.method,
            "url": str(reference.http_request.url),
            "retry_count": reference.http_request.headers["x-stainless-retry-count"],
            "parsed": without(reference.parse(to=dict)),
        }
    server.enqueue(Fail(500))
    client = make_client(any_transport, max_retries=2)
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES
    ) as response:
        assert not response.is_closed
        got = {
            "retries_taken": response.retries_taken,
            "status_code": response.status_code,
            "http_version": response.http_version,
            "method": response.http_request.method,
            "url": str(response.http_request.url),
            "retry_count": response.http_request.headers["x-stainless-retry-count"],
            "parsed": without(await response.parse(to=dict)),
        }
        assert response.is_closed
        completion = await response.parse()
        assert isinstance(completion, ChatCompletion)
        assert completion.choices[0].message.content == REPLY
        assert await response.parse(to=ChatCompletion) == completion
    assert got == expected
    assert expected["retries_taken"] == 1


async def test_streamed_event_stream_parses_to_its_stream_only(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    ) as response:
        with pytest.raises(TypeError, match="event stream"):
            await response.parse(to=dict)
        stream = await response.parse()
        texts = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(text for text in texts if text) == REPLY
