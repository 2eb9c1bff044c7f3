"""The embedded server answers structured-output and forced-tool requests with fitting JSON.

Checked the way user code sees it: the client's own parse helpers turn the mock's
JSON back into the requested classes (chat and Responses, whole and streamed, in
blocking code, asyncio and trio), and a forced tool call's arguments parse into
the tool's class. The value builder is checked on schema features directly.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal, TypedDict

import attrs
import pytest

from oxide_io.testing import Reply, default_reply
from oxide_io.testing._structured import schema_instance
from oxide_proto import (
    function_tool,
    responses_function_tool,
    text_format_for,
    to_strict_json_schema,
)
from tests.io.conftest import MakeClient, Setup

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Plan a trip"}]


@dataclasses.dataclass
class Stop:
    city: str
    nights: int


@dataclasses.dataclass
class Trip:
    title: str
    mode: Literal["train", "plane"]
    budget: float
    stops: list[Stop]
    note: str | None
    booked: bool


@attrs.frozen
class Weather:
    """Look up the weather."""

    city: str
    days: list[int]


class Verdict(TypedDict):
    verdict: Literal["yes", "no"]
    reasons: list[str]


TRIP = Trip("text", "train", 1.5, [Stop("text", 1)], "text", True)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Trip, TRIP),
        (Weather, Weather("text", [1])),
        (Verdict, {"verdict": "yes", "reasons": ["text"]}),
    ],
    ids=["dataclass", "attrs", "TypedDict"],
)
async def test_chat_parse_round_trips(
    mock: Setup, make_client: MakeClient, kind: type, expected: object
) -> None:
    client = make_client(mock)
    completion = await client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, response_format=kind
    )
    assert completion.choices[0].message.parsed == expected
    assert completion.choices[0].finish_reason == "stop"


@pytest.mark.anyio
async def test_chat_stream_parses_the_streamed_json(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    deltas: list[str] = []
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, response_format=Trip
    ) as stream:
        async for event in stream:
            if event.type == "content.delta":
                deltas.append(event.delta)
        final = await stream.get_final_completion()
    assert len(deltas) > 1  # sent in pieces, as the API streams
    assert final.choices[0].message.parsed == TRIP
    assert json.loads("".join(deltas)) == dataclasses.asdict(TRIP)


@pytest.mark.anyio
async def test_responses_parse_and_stream(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    response = await client.responses.parse(model=MODEL, input="Plan a trip", text_format=Trip)
    assert response.output_parsed == TRIP
    async with client.responses.stream(model=MODEL, input="Plan", text_format=Trip) as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_response()
    assert final.output_parsed == TRIP


@pytest.mark.anyio
async def test_chat_forced_tool_call_parses(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    tools = [function_tool(Weather), function_tool(Stop)]
    required = await client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, tools=tools, tool_choice="required"
    )
    (call,) = required.choices[0].message.tool_calls
    assert call.function.parsed_arguments == Weather("text", [1])
    assert required.choices[0].finish_reason == "tool_calls"
    named = {"type": "function", "function": {"name": "Stop"}}
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=tools, tool_choice=named
    ) as stream:
        final = await stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert (call.function.name, call.function.parsed_arguments) == ("Stop", Stop("text", 1))
    # "auto" leaves the choice to the model, which answers in text.
    auto = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, tools=tools, tool_choice="auto"
    )
    assert auto.choices[0].message.tool_calls is None
    assert auto.choices[0].message.content == default_reply({"messages": MESSAGES})


@pytest.mark.anyio
async def test_responses_forced_tool_call_parses(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    tools = [responses_function_tool(Stop), responses_function_tool(Weather)]
    response = await client.responses.parse(
        model=MODEL,
        input="Weather?",
        tools=tools,
        tool_choice={"type": "function", "name": "Weather"},
    )
    (item,) = response.output
    assert item.type == "function_call" and item.name == "Weather"
    assert item.parsed_arguments == Weather("text", [1])


@pytest.mark.anyio
async def test_json_object_and_a_chosen_reply(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    fmt = {"type": "json_object"}
    completion = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, response_format=fmt
    )
    assert isinstance(json.loads(completion.choices[0].message.content), dict)
    # What a test chose wins over the schema: a scripted reply, then reply_text.
    mock.server.enqueue(Reply("not json"))
    scripted = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, response_format=fmt
    )
    assert scripted.choices[0].message.content == "not json"
    mock.server.reply_text = "fixed"
    try:
        chosen = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, response_format=fmt
        )
    finally:
        mock.server.reply_text = default_reply
    assert chosen.choices[0].message.content == "fixed"


# -- the value builder ------------------------------------------------------------


@dataclasses.dataclass
class Node:
    name: str
    children: list[Node]
    parent: Node | None


def test_recursive_schemas_end() -> None:
    value = schema_instance(to_strict_json_schema(Node))
    depth, node = 0, value
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert 0 < depth < 10
    assert schema_instance({"$ref": "#"}) is None  # no finite instance at all


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "minimum": 5}, 5),
        ({"type": "integer", "maximum": -3}, -3),
        ({"type": "integer", "exclusiveMinimum": 7}, 8),
        ({"type": "number", "maximum": 1}, 1),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string", "format": "uuid"}, "00000000-0000-4000-8000-000000000000"),
        ({"const": "v1"}, "v1"),
        ({"enum": [3, 4]}, 3),
        ({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, True),
        ({"type": ["null", "integer"]}, 1),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [1, 1]),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A"}, "b": {"type": "string"}},
                "required": ["a"],
                "$defs": {"A": {"type": "object", "properties": {"x": {"type": "boolean"}}}},
            },
            {"a": {"x": True}},
        ),
    ],
)
def test_schema_features(schema: dict[str, Any], expected: object) -> None:
    assert schema_instance(schema) == expected


@dataclasses.dataclass
class StopView:
    """Another class for a `Stop`'s JSON: what `parse_as` reads the output as."""

    city: str
    nights: int


@pytest.mark.anyio
async def test_responses_parse_as_reads_the_output_as_another_type(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    response = await client.responses.parse(
        model=MODEL, input="Plan", text_format=Stop, parse_as=StopView
    )
    assert response.output_parsed == StopView("text", 1)
    # `text_format` alone sets the schema the request asks for.
    assert mock.server.requests[-1].json["text"]["format"]["name"] == "Stop"
    unparsed = await client.responses.parse(
        model=MODEL, input="Plan", text_format=Stop, parse_as=None
    )
    assert unparsed.output_parsed is None
    assert json.loads(unparsed.output_text) == {"city": "text", "nights": 1}
    sent = len(mock.server.requests)
    to_text = {"type": "configuration_update", "text": {"format": {"type": "text"}}}
    with pytest.raises(TypeError, match="plain text"):
        await client.responses.parse(
            model=MODEL, input=[to_text], text_format=Stop, parse_as=StopView
        )
    to_trip = {"type": "configuration_update", "text": {"format": text_format_for(Trip)}}
    with pytest.raises(TypeError, match="pass parse_as"):
        await client.responses.parse(model=MODEL, input=[to_trip], text_format=Stop)
    # Given in `extra_body`, the input is read the same way.
    with pytest.raises(TypeError, match="pass parse_as"):
        await client.responses.parse(
            model=MODEL, input="Plan", text_format=Stop, extra_body={"input": [to_trip]}
        )
    assert len(mock.server.requests) == sent, "refused before anything is sent"
    # The same schema as the request's needs no parse_as.
    same = {"type": "configuration_update", "text": {"format": text_format_for(Stop)}}
    kept = await client.responses.parse(model=MODEL, input=[same], text_format=Stop)
    assert kept.output_parsed == Stop("text", 1)
