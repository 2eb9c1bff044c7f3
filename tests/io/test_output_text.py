"""`Response.output_text` on what the client returns, in blocking code, asyncio and trio.

`responses.create` and the final response of `responses.stream()` against the
embedded server; `responses.retrieve` against a canned stored response with
several messages, a refusal, a reasoning item and an `output_text` key of the
server's own (which, as in the official SDK, does not replace the computed value).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai._models import construct_type
from openai.types.responses import Response as SDKResponse

from oxide_io.testing import Reply
from oxide_proto import ParsedResponse
from oxide_proto.types import Response, ResponseCompletedEvent
from tests.io.canned import canned_server
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MODEL = "gpt-4o"
TEXT = "Hello from the mock server, in one message."


async def test_create(mock: Setup, make_client: MakeClient) -> None:
    mock.server.enqueue(Reply(TEXT))
    client = make_client(mock)
    response = await client.responses.create(model=MODEL, input="hi")
    assert isinstance(response, Response)
    assert response.output_text == TEXT
    assert "output_text" not in response.to_dict()


async def test_create_streamed_completed_event(mock: Setup, make_client: MakeClient) -> None:
    mock.server.enqueue(Reply(TEXT))
    client = make_client(mock)
    stream = await client.responses.create(model=MODEL, input="hi", stream=True)
    events = [event async for event in stream]
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    assert completed.response.output_text == TEXT


async def test_stream_final_response(mock: Setup, make_client: MakeClient) -> None:
    mock.server.enqueue(Reply(TEXT, times=2))
    client = make_client(mock)
    async with client.responses.stream(model=MODEL, input="hi") as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_response()
    assert isinstance(final, ParsedResponse)
    assert final.output_text == TEXT
    parsed = await client.responses.parse(model=MODEL, input="hi")
    assert parsed.output_text == TEXT


def _part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


STORED = {
    "id": "resp_stored",
    "object": "response",
    "created_at": 1700000000,
    "model": MODEL,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "temperature": 1.0,
    "top_p": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [_part("First, "), {"type": "refusal", "refusal": "not this"}],
        },
        {
            "type": "message",
            "id": "msg_2",
            "role": "assistant",
            "status": "completed",
            "content": [_part("then "), _part("second.")],
        },
    ],
    "output_text": "a value the server put there",
}


async def test_retrieve(make_client: MakeClient) -> None:
    with canned_server() as canned:
        canned.body = json.dumps(STORED).encode()
        client = make_client(None, base_url=canned.base_url)
        response = await client.responses.retrieve("resp_stored")
    assert canned.requests == [("GET", "/v1/responses/resp_stored")]
    assert isinstance(response, Response)
    sdk = construct_type(type_=SDKResponse, value=STORED)
    assert response.output_text == sdk.output_text == "First, then second."
    assert response.model_extra == sdk.model_extra == {"output_text": STORED["output_text"]}
    assert response.to_dict() == STORED
