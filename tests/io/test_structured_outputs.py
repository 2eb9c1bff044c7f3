"""`chat.completions.parse()` and `responses.parse()` in blocking code, asyncio and trio.

The embedded server replies with scripted JSON (`reply_text`); the reply is
parsed into an attrs class, a dataclass, a TypedDict or a pydantic model, and the
request carried that type's strict schema. A reply cut by the token limit or
the content filter raises, a refusal is surfaced and not parsed, content of the
wrong shape names the field, and typed tools get typed arguments.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any, Literal

import attrs
import pydantic
import pytest
from typing_extensions import TypedDict

from oxide_io.testing import Reply, ToolCall, ToolCalls
from oxide_proto import (
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    OutputValidationError,
    ParsedChatCompletion,
    ParsedResponse,
    function_tool,
    responses_function_tool,
    to_strict_json_schema,
)
from tests.io.canned import canned_server
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Plan a trip"}]
MODEL = "gpt-4o-mini"
PLAN = {"city": "Lyon", "days": 3, "stops": [{"name": "Fourvière", "hours": 1.5}]}


@attrs.define
class AttrsStop:
    name: str
    hours: float


@attrs.define
class AttrsPlan:
    city: str
    days: int
    stops: list[AttrsStop]


@dataclasses.dataclass
class DataStop:
    name: str
    hours: float


@dataclasses.dataclass
class DataPlan:
    city: str
    days: int
    stops: list[DataStop]


class DictStop(TypedDict):
    name: str
    hours: float


class DictPlan(TypedDict):
    city: str
    days: int
    stops: list[DictStop]


class PydanticStop(pydantic.BaseModel):
    name: str
    hours: float


class PydanticPlan(pydantic.BaseModel):
    city: str
    days: int
    stops: list[PydanticStop]


EXPECTED: dict[type, object] = {
    AttrsPlan: AttrsPlan("Lyon", 3, [AttrsStop("Fourvière", 1.5)]),
    DataPlan: DataPlan("Lyon", 3, [DataStop("Fourvière", 1.5)]),
    DictPlan: PLAN,
    PydanticPlan: PydanticPlan(
        city="Lyon", days=3, stops=[PydanticStop(name="Fourvière", hours=1.5)]
    ),
}
KINDS = pytest.mark.parametrize("kind", list(EXPECTED), ids=lambda t: t.__name__)


@pytest.fixture
def replying(mock: Setup) -> Iterator[Setup]:
    """`mock`, replying with the plan as JSON (the default reply is restored afterwards)."""
    saved = mock.server.reply_text
    mock.server.reply_text = json.dumps(PLAN, ensure_ascii=False)
    yield mock
    mock.server.reply_text = saved


@KINDS
async def test_chat_parse_into_each_kind_of_class(
    replying: Setup, make_client: MakeClient, kind: type
) -> None:
    client = make_client(replying)
    completion = await client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, response_format=kind
    )
    assert isinstance(completion, ParsedChatCompletion)
    message = completion.choices[0].message
    assert message.parsed == EXPECTED[kind]
    assert json.loads(message.content) == PLAN
    request = replying.server.requests[-1]
    assert request.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "schema": to_strict_json_schema(kind),
            "name": kind.__name__,
            "strict": True,
        },
    }
    assert request.headers["x-stainless-helper-method"] == "chat.completions.parse"


@KINDS
async def test_responses_parse_into_each_kind_of_class(
    replying: Setup, make_client: MakeClient, kind: type
) -> None:
    client = make_client(replying)
    response = await client.responses.parse(
        model=MODEL, input="Plan a trip", text_format=kind, text={"verbosity": "low"}
    )
    assert isinstance(response, ParsedResponse)
    assert response.output_parsed == EXPECTED[kind]
    assert json.loads(response.output_text) == PLAN
    sent = replying.server.requests[-1].json["text"]
    assert sent["verbosity"] == "low"
    assert sent["format"]["schema"] == to_strict_json_schema(kind)
    with pytest.raises(TypeError):
        await client.responses.parse(
            model=MODEL, input="x", text_format=kind, text={"format": {"type": "text"}}
        )


@KINDS
async def test_stream_and_parse_give_equal_results(
    replying: Setup, make_client: MakeClient, kind: type
) -> None:
    client = make_client(replying)
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, response_format=kind
    ) as stream:
        streamed = await stream.get_final_completion()
    parsed = await client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, response_format=kind
    )
    assert streamed.choices[0].message.parsed == parsed.choices[0].message.parsed
    assert streamed.choices[0].to_dict() == parsed.choices[0].to_dict()
    async with client.responses.stream(model=MODEL, input="x", text_format=kind) as rstream:
        rstreamed = await rstream.get_final_response()
    assert rstreamed.output_parsed == EXPECTED[kind]


@pytest.mark.parametrize(
    ("reason", "error"),
    [("length", LengthFinishReasonError), ("content_filter", ContentFilterFinishReasonError)],
)
async def test_cut_short_replies_raise(
    mock: Setup, make_client: MakeClient, reason: str, error: type[Exception]
) -> None:
    client = make_client(mock)
    mock.server.enqueue(Reply('{"city": "Ly', finish_reason=reason))
    with pytest.raises(error) as caught:
        await client.chat.completions.parse(
            model=MODEL, messages=MESSAGES, response_format=DataPlan
        )
    assert caught.value.completion.choices[0].finish_reason == reason  # type: ignore[attr-defined]


async def test_content_of_the_wrong_shape_names_the_field(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    mock.server.enqueue(Reply(json.dumps({**PLAN, "stops": [{"name": "x", "hours": "long"}]})))
    with pytest.raises(OutputValidationError) as caught:
        await client.chat.completions.parse(
            model=MODEL, messages=MESSAGES, response_format=DataPlan
        )
    assert caught.value.path == "DataPlan.stops[0].hours"


async def test_a_refusal_is_surfaced_not_parsed(make_client: MakeClient) -> None:
    refused: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": "I can't help with that.",
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    with canned_server() as canned:
        canned.body = json.dumps(refused).encode()
        client = make_client(None, base_url=canned.base_url)
        completion = await client.chat.completions.parse(
            model=MODEL, messages=MESSAGES, response_format=DataPlan
        )
    message = completion.choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.parsed is None


@dataclasses.dataclass
class Lookup:
    city: str
    unit: Literal["c", "f"]


async def test_typed_tools_get_typed_arguments(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(ToolCalls([ToolCall("Lookup", {"city": "Oslo", "unit": "c"})]))
    completion = await client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, tools=[function_tool(Lookup)]
    )
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == Lookup("Oslo", "c")
    assert completion.choices[0].message.parsed is None
    assert mock.server.requests[-1].json["tools"][0]["function"]["strict"] is True

    mock.server.enqueue(ToolCalls([ToolCall("Lookup", {"city": "Oslo", "unit": "f"})]))
    response = await client.responses.parse(
        model=MODEL, input="x", tools=[responses_function_tool(Lookup)]
    )
    assert response.output[0].parsed_arguments == Lookup("Oslo", "f")


async def test_responses_take_chat_shaped_typed_tools(mock: Setup, make_client: MakeClient) -> None:
    # A tool made for Chat Completions goes out in the Responses shape and still
    # parses its calls, in parse() and stream() alike.
    client = make_client(mock)
    mock.server.enqueue(ToolCalls([ToolCall("Lookup", {"city": "Oslo", "unit": "f"})]))
    response = await client.responses.parse(
        model=MODEL, input="x", tools=[function_tool(Lookup), {"type": "web_search"}]
    )
    assert response.output[0].parsed_arguments == Lookup("Oslo", "f")
    assert mock.server.requests[-1].json["tools"] == [
        {
            "type": "function",
            "name": "Lookup",
            "description": None,
            "parameters": to_strict_json_schema(Lookup),
            "strict": True,
        },
        {"type": "web_search"},
    ]
    mock.server.enqueue(ToolCalls([ToolCall("Lookup", {"city": "Rome", "unit": "c"})]))
    async with client.responses.stream(
        model=MODEL, input="x", tools=[function_tool(Lookup, description="Find it")]
    ) as stream:
        final = await stream.get_final_response()
    assert final.output[0].parsed_arguments == Lookup("Rome", "c")
    assert mock.server.requests[-1].json["tools"][0]["description"] == "Find it"
    assert "function" not in mock.server.requests[-1].json["tools"][0]
    plain = {"type": "function", "function": {"name": "f", "parameters": {}}}
    with pytest.raises(TypeError, match="function_tool"):
        await client.responses.parse(model=MODEL, input="x", tools=[plain])


async def test_with_raw_response_parse_gives_the_parsed_result(
    replying: Setup, make_client: MakeClient
) -> None:
    client = make_client(replying)
    raw = await client.chat.completions.with_raw_response.parse(
        model=MODEL, messages=MESSAGES, response_format=DataPlan
    )
    assert raw.status_code == 200
    completion = raw.parse()
    assert completion.choices[0].message.parsed == EXPECTED[DataPlan]
    raw = await client.responses.with_raw_response.parse(
        model=MODEL, input="x", text_format=DataPlan
    )
    assert raw.status_code == 200
    assert raw.parse().output_parsed == EXPECTED[DataPlan]
