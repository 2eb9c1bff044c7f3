"""`chat.completions.stream()` and `responses.stream()` in blocking code, asyncio and trio.

Against the embedded server: snapshots are the deltas joined, the final
completion equals the non-streamed reply for the same content, choices of
`n > 1` stay apart, tool-call arguments sent in many pieces reassemble and each
call's done event (typed arguments) comes before the next call starts,
malformed arguments are an error naming the call, and leaving a helper stream
early leaves no connection behind. A stored response is resumed from a canned
replay; over the Responses WebSocket, `session.stream()` gives the same helper.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from typing import Any

import pytest

from oxide_io.testing import CutStream, Reply, ToolCall, ToolCalls
from oxide_proto import (
    APIConnectionError,
    ChoiceDoneEvent,
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
    InvalidToolArgumentsError,
    LengthFinishReasonError,
    ParsedChatCompletion,
    ParsedResponse,
    function_tool,
    responses_function_tool,
)
from oxide_proto.types.responses import ResponseCompletedEvent
from tests.io.canned import canned_server
from tests.io.conftest import KEY, MakeClient, Setup
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.ws_api_server import Text, WsApiServer
from tests.ws_api_server import ToolCall as WsToolCall

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Tell me about the weather in Paris and in Rome"}]
MODEL = "gpt-4o-mini"


@dataclasses.dataclass
class Weather:
    """Look up the weather."""

    city: str
    days: list[int]


@dataclasses.dataclass
class Answer:
    verdict: str
    reasons: list[str]


STRICT = {
    "type": "function",
    "function": {"name": "lookup", "strict": True, "parameters": {"type": "object"}},
}
LONG_CITY = "Llanfairpwllgwyngyll " * 30


def _kept(setup: Setup) -> int:
    return 1 if setup.http_version == "HTTP/2" else 0


async def test_chat_snapshots_choices_and_final_equal_the_plain_reply(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    options: dict[str, Any] = {"n": 2, "stream_options": {"include_usage": True}}
    manager = client.chat.completions.stream(model=MODEL, messages=MESSAGES, **options)
    deltas: dict[int, str] = {0: "", 1: ""}
    kinds: list[str] = []
    async with manager as stream:
        async for event in stream:
            kinds.append(event.type)
            if isinstance(event, ContentDeltaEvent):
                deltas[event.choice_index] += event.delta
                assert event.snapshot == deltas[event.choice_index]
                snapshot = stream.current_completion_snapshot.choices[event.choice_index]
                assert snapshot.message.content == event.snapshot
            elif isinstance(event, ChunkEvent):
                assert event.snapshot is stream.current_completion_snapshot
        final = await stream.get_final_completion()
    assert kinds.count("content.done") == 2
    assert kinds.count("choice.done") == 2
    assert isinstance(final, ParsedChatCompletion)
    assert [c.message.content for c in final.choices] == [deltas[0], deltas[1]]
    assert deltas[0] == deltas[1] != ""
    request = any_transport.server.requests[-1]
    assert request.headers["x-stainless-helper-method"] == "chat.completions.stream"
    assert request.json["stream"] is True

    plain = await client.chat.completions.parse(model=MODEL, messages=MESSAGES, n=2)
    assert [c.to_dict() for c in final.choices] == [c.to_dict() for c in plain.choices]
    assert final.usage is not None and final.usage.to_dict() == plain.usage.to_dict()
    assert (final.model, final.object, final.system_fingerprint) == (
        plain.model,
        plain.object,
        plain.system_fingerprint,
    )


async def test_chat_structured_stream_parses_content(
    mock: Setup, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(mock)
    reply = json.dumps({"verdict": "yes", "reasons": ["sunny", "warm"]})
    monkeypatch.setattr(mock.server, "reply_text", reply)  # restored afterwards
    partial: list[object] = []
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, response_format=Answer
    ) as stream:
        async for event in stream:
            if isinstance(event, ContentDeltaEvent):
                partial.append(event.parsed)
            if isinstance(event, ContentDoneEvent):
                assert event.parsed == Answer("yes", ["sunny", "warm"])
        final = await stream.get_final_completion()
    assert final.choices[0].message.parsed == Answer("yes", ["sunny", "warm"])
    assert partial[-1] == {"verdict": "yes", "reasons": ["sunny", "warm"]}
    sent = mock.server.requests[-1].json["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Answer"


async def test_tool_arguments_reassemble_and_each_call_finishes_early(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    weather = {"city": LONG_CITY, "days": list(range(40))}
    lookup = {"query": 'a "quoted" thing', "n": 2.5}
    any_transport.server.enqueue(
        ToolCalls(
            [
                ToolCall("get_weather", weather, id="call_a"),
                ToolCall("lookup", lookup, id="call_b"),
            ]
        )
    )
    events: list[Any] = []
    tools = [function_tool(Weather, name="get_weather"), STRICT]
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=tools
    ) as stream:
        async for event in stream:
            events.append(event)
        final = await stream.get_final_completion()
    first_deltas = [e for e in events if isinstance(e, FunctionToolCallArgumentsDeltaEvent)]
    assert len([e for e in first_deltas if e.index == 0]) > 50
    done = [e for e in events if isinstance(e, FunctionToolCallArgumentsDoneEvent)]
    assert [(e.name, e.index, e.call_id) for e in done] == [
        ("get_weather", 0, "call_a"),
        ("lookup", 1, "call_b"),
    ]
    assert done[0].parsed_arguments == Weather(LONG_CITY, list(range(40)))
    assert done[1].parsed_arguments == lookup
    # The first call is done in the chunk that starts the second, before its arguments.
    second_piece = next(e for e in first_deltas if e.index == 1 and e.arguments_delta)
    assert events.index(done[0]) < events.index(second_piece)
    assert isinstance(events[-1], ChoiceDoneEvent)
    assert events[-1].finish_reason == "tool_calls"
    calls = final.choices[0].message.tool_calls
    assert [call.function.parsed_arguments for call in calls] == [
        Weather(LONG_CITY, list(range(40))),
        lookup,
    ]
    assert json.loads(calls[0].function.arguments) == weather


async def test_malformed_tool_arguments_name_the_call_and_release_the_connection(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    any_transport.server.enqueue(
        ToolCalls([ToolCall("lookup", '{"query": "unterminated', id="call_bad")])
    )
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=[STRICT]
    ) as stream:
        with pytest.raises(InvalidToolArgumentsError) as caught:
            async for _ in stream:
                pass
    error = caught.value
    assert (error.index, error.call_id, error.name) == (0, "call_bad", "lookup")
    assert "call_bad" in str(error) and "lookup" in str(error)
    assert client_sockets(any_transport.port) == _kept(any_transport)
    await client.models.list()


async def test_length_finish_of_a_structured_stream_raises(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    mock.server.enqueue(Reply('{"verdict": "y', finish_reason="length"))
    async with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, response_format=Answer
    ) as stream:
        with pytest.raises(LengthFinishReasonError):
            await stream.until_done()
    assert client_sockets(mock.port) == 0


@pytest.mark.parametrize("how", ["break", "close", "exception"])
async def test_leaving_a_helper_stream_early_leaks_nothing(
    any_transport: Setup, make_client: MakeClient, how: str
) -> None:
    client = make_client(any_transport)
    mock_reply = " ".join(["word"] * 2000)
    any_transport.server.enqueue(Reply(mock_reply))
    with pytest.raises(KeyError) if how == "exception" else _nothing():
        async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
            async for event in stream:
                if isinstance(event, ContentDeltaEvent) and event.snapshot:
                    if how == "close":
                        await stream.close()
                        continue
                    if how == "exception":
                        raise KeyError("stop")
                    break
    assert client_sockets(any_transport.port) == _kept(any_transport)
    # The connection still works, and the pool holds at most one.
    async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content
    assert client_sockets(any_transport.port) <= 1


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


async def test_a_cut_stream_is_a_connection_error(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=0)
    mock.server.enqueue(CutStream(after_events=3))
    async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        with pytest.raises(APIConnectionError):
            await stream.until_done()
    assert client_sockets(mock.port) == 0


# -- Responses -----------------------------------------------------------------------


async def test_responses_text_snapshots_and_final_response(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    text = ""
    async with client.responses.stream(model=MODEL, input="Hello there") as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                text += event.delta
                assert event.snapshot == text
            if event.type == "response.completed":
                assert isinstance(event, ResponseCompletedEvent)
                assert isinstance(event.response, ParsedResponse)
        final = await stream.get_final_response()
    assert final.output_text == text != ""
    plain = await client.responses.parse(model=MODEL, input="Hello there")
    assert final.output_text == plain.output_text
    assert [item.type for item in final.output] == [item.type for item in plain.output]
    assert client_sockets(any_transport.port) == 1  # one pooled connection served both


async def test_responses_function_calls_parsed_as_each_completes(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    weather = {"city": LONG_CITY, "days": [1, 2]}
    mock.server.enqueue(
        ToolCalls([ToolCall("get_weather", weather), ToolCall("lookup", {"q": "x"})])
    )
    tools = [
        responses_function_tool(Weather, name="get_weather"),
        {"type": "function", "name": "lookup", "strict": True, "parameters": {"type": "object"}},
    ]
    order: list[str] = []
    parsed: list[object] = []
    async with client.responses.stream(model=MODEL, input="go", tools=tools) as stream:
        async for event in stream:
            order.append(event.type)
            if event.type == "response.function_call_arguments.delta":
                assert event.snapshot.endswith(event.delta)
            if event.type == "response.function_call_arguments.done":
                parsed.append(event.parsed_arguments)
        final = await stream.get_final_response()
    assert parsed == [Weather(LONG_CITY, [1, 2]), {"q": "x"}]
    first_done = order.index("response.function_call_arguments.done")
    assert first_done < order.index("response.output_item.added", first_done)
    assert [item.parsed_arguments for item in final.output] == parsed


def _stored_stream(setup: Setup) -> bytes:
    """The bytes of a streamed response from the embedded server, for a canned replay."""
    request = urllib.request.Request(
        f"{setup.server.base_url}/responses",
        data=json.dumps({"model": MODEL, "input": "Hello there", "stream": True}).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return bytes(response.read())


async def test_resuming_a_stored_response_yields_the_events_after_starting_after(
    mock: Setup, make_client: MakeClient
) -> None:
    body = _stored_stream(mock)
    with canned_server() as canned:
        canned.content_type = "text/event-stream"
        canned.body = body
        client = make_client(None, base_url=canned.base_url)
        async with client.responses.stream(response_id="resp_1", starting_after=5) as stream:
            events = [event async for event in stream]
        final = await stream.get_final_response()
        assert canned.requests == [("GET", "/v1/responses/resp_1?stream=true")]
        assert events and all(event.sequence_number > 5 for event in events)
        assert events[0].type == "response.output_text.delta"
        # The snapshot counts the text sent before the resumption point too.
        assert events[0].snapshot.endswith(events[0].delta)
        assert len(events[0].snapshot) > len(events[0].delta)
        assert final.output_text.startswith("You said")
        with pytest.raises(TypeError):
            client.responses.stream(response_id="resp_1", model=MODEL, input="x")
        with pytest.raises(TypeError):
            client.responses.stream(starting_after=3, model=MODEL, input="x")


async def test_websocket_session_stream_gives_the_same_helper(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(
        Text(json.dumps({"verdict": "no", "reasons": ["rain"]}), deltas=4),
        WsToolCall(name="get_weather", arguments=json.dumps({"city": "Rome", "days": [3]})),
        WsToolCall(name="get_weather", arguments=json.dumps({"city": "Oslo", "days": [1]})),
    )
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        text = ""
        async with session.stream(model=MODEL, input="x", text_format=Answer) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    text += event.delta
                    assert event.snapshot == text
            final = await stream.get_final_response()
        assert final.output_parsed == Answer("no", ["rain"])
        sent = [e for e in ws_api.received if e.get("type") == "response.create"][-1]
        assert sent["text"]["format"]["name"] == "Answer"
        tools = [responses_function_tool(Weather, name="get_weather")]
        async with session.stream(model=MODEL, input="y", tools=tools) as stream:
            done = [
                event.parsed_arguments
                async for event in stream
                if event.type == "response.function_call_arguments.done"
            ]
        assert done == [Weather("Rome", [3])]
        # A Chat Completions tool goes out in the Responses shape, as over HTTP.
        chat_tools = [function_tool(Weather, name="get_weather")]
        async with session.stream(model=MODEL, input="z", tools=chat_tools) as stream:
            done = [
                event.parsed_arguments
                async for event in stream
                if event.type == "response.function_call_arguments.done"
            ]
        assert done == [Weather("Oslo", [1])]
        sent = [e for e in ws_api.received if e.get("type") == "response.create"][-1]
        assert sent["tools"][0]["name"] == "get_weather" and "function" not in sent["tools"][0]
    assert client_sockets(ws_api.port) == 0
