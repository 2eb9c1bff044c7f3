"""Every endpoint end to end, plain and streamed, in three runtimes over four transports.

The embedded server answers with the API's wire formats; the client must hand
back typed models carrying the request id, and a raw response must report the
HTTP version that was actually negotiated.
"""

from __future__ import annotations

import base64
import struct

import pytest

from oxide_io import NotFoundError
from oxide_io.testing import MODELS, ToolCall, ToolCalls, embedding
from oxide_proto.types import (
    ChatCompletion,
    ChatCompletionChunk,
    CreateEmbeddingResponse,
    Model,
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseTextDeltaEvent,
)
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]
REPLY = 'You said: "Hello there". This reply comes from the oxide mock server.'


def _output_text(response: Response) -> str:
    return "".join(
        part.text
        for item in response.output
        if item.type == "message"
        for part in item.content
        if part.type == "output_text"
    )


async def test_chat_completion(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert isinstance(completion, ChatCompletion)
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-4o"
    assert completion._request_id is not None
    assert completion._request_id.startswith("req_")
    request = any_transport.server.requests[-1]
    assert request.json == {"model": "gpt-4o", "messages": MESSAGES}
    assert request.http_version == any_transport.http_version.removeprefix("HTTP/")


async def test_raw_response_reports_the_negotiated_version(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.http_version == any_transport.http_version
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.request_id == raw.headers["x-request-id"]
    completion = raw.parse()
    assert isinstance(completion, ChatCompletion)
    assert completion._request_id == raw.request_id


async def test_chat_stream(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert stream.request_id is not None
    chunks = [chunk async for chunk in stream]
    assert chunks
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert any_transport.server.requests[-1].json["stream"] is True


async def test_chat_stream_raw(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    )
    assert raw.http_version == any_transport.http_version
    assert raw.headers["content-type"].startswith("text/event-stream")
    stream = raw.parse()
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_chat_n_choices(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=2)
    assert [choice.index for choice in completion.choices] == [0, 1]
    assert all(choice.message.content == REPLY for choice in completion.choices)

    stream = await client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, n=2, stream=True
    )
    texts = {0: "", 1: ""}
    async for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {0: REPLY, 1: REPLY}


async def test_chat_tool_calls(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    call = ToolCall("get_weather", {"city": "Paris"}, id="call_1")
    mock.server.enqueue(ToolCalls([call], times=2))
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (made,) = choice.message.tool_calls
    assert (made.id, made.function.name, made.function.arguments) == (
        "call_1",
        "get_weather",
        '{"city":"Paris"}',
    )

    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    names, arguments, finish = [], "", None
    async for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or ():
                if delta.function.name:
                    names.append(delta.function.name)
                arguments += delta.function.arguments or ""
            finish = choice.finish_reason or finish
    assert names == ["get_weather"]
    assert arguments == '{"city":"Paris"}'
    assert finish == "tool_calls"


async def test_responses_create(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    response = await client.responses.create(model="gpt-4o", input="Hello there")
    assert isinstance(response, Response)
    assert response.status == "completed"
    assert _output_text(response) == REPLY
    assert response._request_id is not None


async def test_responses_stream(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    stream = await client.responses.create(model="gpt-4o", input="Hello there", stream=True)
    events = [event async for event in stream]
    assert isinstance(events[0], ResponseCreatedEvent)
    assert isinstance(events[-1], ResponseCompletedEvent)
    deltas = [e.delta for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert "".join(deltas) == REPLY
    assert _output_text(events[-1].response) == REPLY


async def test_models_list(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    page = await client.models.list()
    assert [model.id for model in page.data] == list(MODELS)
    listed = [model async for model in page] if hasattr(page, "__aiter__") else list(page)
    assert [model.id for model in listed] == list(MODELS)
    assert all(isinstance(model, Model) for model in listed)


async def test_models_retrieve_and_not_found(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    model = await client.models.retrieve("gpt-4o-mini")
    assert isinstance(model, Model)
    assert (model.id, model.owned_by) == ("gpt-4o-mini", "openai")
    assert model._request_id is not None

    with pytest.raises(NotFoundError) as caught:
        await client.models.retrieve("no-such-model")
    error = caught.value
    assert error.status_code == 404
    assert error.code == "model_not_found"
    assert error.request_id is not None
    assert error.request_id == error.headers["x-request-id"]
    assert error.message.startswith("Error code: 404")
    assert "The model 'no-such-model' does not exist" in error.message
    assert error.body["code"] == "model_not_found"
    assert len(mock.server.requests) == 2  # a 404 is never retried


async def test_embeddings_float_and_base64(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    result = await client.embeddings.create(
        model="text-embedding-3-small", input=["one", "two"], encoding_format="float"
    )
    assert isinstance(result, CreateEmbeddingResponse)
    assert [item.embedding for item in result.data] == [embedding("one"), embedding("two")]
    assert [item.index for item in result.data] == [0, 1]

    result = await client.embeddings.create(
        model="text-embedding-3-small", input="one", encoding_format="base64"
    )
    packed = base64.b64decode(result.data[0].embedding)
    assert list(struct.unpack(f"<{len(packed) // 4}f", packed)) == embedding("one")
    assert any_transport.server.requests[-1].json["encoding_format"] == "base64"

    # Unasked, the vectors travel as base64 and come back as floats.
    result = await client.embeddings.create(model="text-embedding-3-small", input="one")
    assert result.data[0].embedding == embedding("one")
    assert any_transport.server.requests[-1].json["encoding_format"] == "base64"
