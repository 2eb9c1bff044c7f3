"""`openai.lib...` through the compat namespace: the helper modules libraries import.

Each served module has the official module's public names; the schema and tool
helpers give what the official ones give (compared with the installed official
SDK, the specification); the stream states accumulate the same completion; and
with `install()` the official import lines work unchanged.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pydantic
import pytest

import oxide_io
from oxide_io import compat
from oxide_proto.types.chat import ChatCompletionChunk

# The official SDK's private modules whose names libraries import (found in
# public code): these names are served, the modules' other internals are not.
PRIVATE_NAMES: dict[str, set[str]] = {
    "lib._pydantic": {"to_strict_json_schema"},
    "lib._parsing": {"type_to_response_format_param", "ResponseFormatT", "parse_chat_completion"},
    "lib._parsing._completions": {
        "type_to_response_format_param",
        "ResponseFormatT",
        "parse_chat_completion",
    },
    "lib._parsing._responses": {"type_to_text_format_param", "parse_response", "TextFormatT"},
    "lib._tools": {
        "pydantic_function_tool",
        "pydantic_responses_function_tool",
        "PydanticFunctionTool",
        "ResponsesPydanticFunctionTool",
    },
}


@pytest.mark.parametrize("module", sorted(PRIVATE_NAMES))
def test_private_lib_modules_serve_the_names_libraries_import(module: str) -> None:
    # The public modules are checked name by name in tests/compat/test_namespace.py.
    official = importlib.import_module(f"openai.{module}")
    ours = importlib.import_module(f"oxide_io.compat.{module}")
    assert PRIVATE_NAMES[module] <= set(dir(official))
    assert sorted(PRIVATE_NAMES[module] - set(dir(ours))) == []


def test_assistant_event_handlers_at_the_top() -> None:
    assert compat.AssistantEventHandler is oxide_io.AssistantEventHandler
    assert compat.AsyncAssistantEventHandler is oxide_io.AsyncAssistantEventHandler
    from oxide_io.compat.lib.streaming import AssistantEventHandler

    assert AssistantEventHandler is compat.AssistantEventHandler


class Step(pydantic.BaseModel):
    explanation: str
    output: str | None = None


class Plan(pydantic.BaseModel):
    """A plan in steps."""

    steps: list[Step]
    final_answer: str


def test_schemas_and_formats_match_the_official_helpers() -> None:
    from openai.lib._parsing._completions import type_to_response_format_param as official_format
    from openai.lib._parsing._responses import type_to_text_format_param as official_text
    from openai.lib._pydantic import to_strict_json_schema as official_schema
    from oxide_io.compat.lib._parsing._completions import type_to_response_format_param
    from oxide_io.compat.lib._parsing._responses import type_to_text_format_param
    from oxide_io.compat.lib._pydantic import to_strict_json_schema

    assert to_strict_json_schema(Plan) == official_schema(Plan)
    adapter = pydantic.TypeAdapter(Step)
    assert to_strict_json_schema(adapter) == official_schema(adapter)
    assert type_to_response_format_param(Plan) == official_format(Plan)
    assert type_to_text_format_param(Plan) == official_text(Plan)
    # What is not a type goes through as given.
    given = {"type": "json_object"}
    assert type_to_response_format_param(given) is given
    assert type_to_response_format_param(compat.NOT_GIVEN) is compat.NOT_GIVEN
    with pytest.raises(TypeError):
        type_to_response_format_param(42)


def test_pydantic_tools_have_the_official_shape() -> None:
    import openai
    from oxide_io.compat.lib._tools import PydanticFunctionTool, ResponsesPydanticFunctionTool

    tool = compat.pydantic_function_tool(Plan, name="make_plan")
    assert json.loads(json.dumps(tool)) == json.loads(
        json.dumps(openai.pydantic_function_tool(Plan, name="make_plan"))
    )
    assert isinstance(tool["function"], PydanticFunctionTool)
    assert tool["function"].model is Plan and tool["function"].cast() is tool["function"]
    responses_tool = compat.pydantic_responses_function_tool(Plan)
    assert dict(responses_tool) == dict(openai.pydantic_responses_function_tool(Plan))
    assert isinstance(responses_tool, ResponsesPydanticFunctionTool)
    assert responses_tool.model is Plan


def _chunks() -> list[dict[str, Any]]:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    arguments = '{"steps": [{"explanation": "add", "output": "2"}], "final_answer": "2"}'
    pieces = [arguments[:20], arguments[20:]]
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "lo"}}]},
    ]
    for index, piece in enumerate(pieces):
        call: dict[str, Any] = {"index": 0, "function": {"arguments": piece}}
        if index == 0:
            call.update(id="call_1", type="function")
            call["function"]["name"] = "make_plan"
        chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return chunks


@pytest.mark.parametrize("form", ["typed", "json"])
def test_chat_completion_stream_state_accumulates_as_the_official_one(form: str) -> None:
    import openai
    from openai.lib.streaming.chat import ChatCompletionStreamState as Official
    from openai.types.chat import ChatCompletionChunk as OfficialChunk
    from oxide_io.compat.lib.streaming.chat import ChatCompletionStreamState, ContentDeltaEvent

    ours: Any = ChatCompletionStreamState(
        input_tools=[compat.pydantic_function_tool(Plan, name="make_plan")]
    )
    theirs: Any = Official(input_tools=[openai.pydantic_function_tool(Plan, name="make_plan")])
    kinds: list[str] = []
    for chunk in _chunks():
        events = ours.handle_chunk(
            ChatCompletionChunk.from_dict(chunk) if form == "typed" else chunk
        )
        kinds += [event.type for event in events]
        theirs.handle_chunk(OfficialChunk.model_validate(chunk))
        if any(isinstance(event, ContentDeltaEvent) for event in events):
            assert ours.current_completion_snapshot.choices[0].message.content in ("Hel", "Hello")
    final, expected = ours.get_final_completion(), theirs.get_final_completion()
    assert final.choices[0].message.content == expected.choices[0].message.content == "Hello"
    call, expected_call = (
        final.choices[0].message.tool_calls[0],
        expected.choices[0].message.tool_calls[0],
    )
    assert call.function.parsed_arguments == expected_call.function.parsed_arguments
    assert isinstance(call.function.parsed_arguments, Plan)
    assert "content.delta" in kinds and "tool_calls.function.arguments.done" in kinds


def test_response_stream_state_parses_the_text() -> None:
    from oxide_io.compat.lib.streaming.responses import ResponseStreamState

    state: Any = ResponseStreamState(input_tools=compat.NOT_GIVEN, text_format=Step)
    response = {
        "id": "r1",
        "object": "response",
        "created_at": 1,
        "model": "m",
        "status": "in_progress",
        "output": [],
    }
    text = '{"explanation": "x", "output": null}'
    message = {"type": "message", "id": "m1", "role": "assistant", "status": "completed"}
    from oxide_proto import decode_response_stream_event as decode

    for event in [
        {"type": "response.created", "response": response, "sequence_number": 0},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**message, "content": []},
            "sequence_number": 1,
        },
        {
            "type": "response.content_part.added",
            "output_index": 0,
            "content_index": 0,
            "item_id": "m1",
            "part": {"type": "output_text", "text": "", "annotations": []},
            "sequence_number": 2,
        },
        {
            "type": "response.output_text.delta",
            "output_index": 0,
            "content_index": 0,
            "item_id": "m1",
            "delta": text,
            "logprobs": [],
            "sequence_number": 3,
        },
        {
            "type": "response.completed",
            "sequence_number": 4,
            "response": {
                **response,
                "status": "completed",
                "output": [
                    {
                        **message,
                        "content": [{"type": "output_text", "text": text, "annotations": []}],
                    }
                ],
            },
        },
    ]:
        state.handle_event(decode(event))
    assert state.get_final_response().output_parsed == Step(explanation="x", output=None)


def test_parse_helpers_take_the_official_keywords() -> None:
    from oxide_io.compat.lib._parsing import parse_chat_completion

    from oxide_proto.types.chat import ChatCompletion

    completion = ChatCompletion.from_dict(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": '{"explanation": "e", "output": "o"}',
                    },
                }
            ],
        }
    )
    parsed = parse_chat_completion(
        response_format=Step, input_tools=compat.NOT_GIVEN, chat_completion=completion
    )
    assert parsed.choices[0].message.parsed == Step(explanation="e", output="o")


PROGRAM = """
import oxide_io.compat
oxide_io.compat.install()
from openai import AssistantEventHandler
from openai.lib import ResponseFormatT, type_to_response_format_param
from openai.lib._pydantic import to_strict_json_schema
from openai.lib._parsing._completions import type_to_response_format_param as t2
from openai.lib.streaming import AsyncAssistantEventHandler
from openai.lib.streaming.chat import ChatCompletionStreamState, ContentDeltaEvent
from openai.lib.streaming.chat._events import ChunkEvent
from openai.lib.streaming.responses import ResponseStreamState, ResponseTextDeltaEvent
from openai.lib.responses_websocket import ResponsesWebSocketSession, ResponsesWebSocketLimits
from openai.lib.live import TranscriptGrouper, TranscriptSegment
from openai.lib.responses_tool_runner import ResponsesToolRunner, RegisteredFunction
from openai.lib.decisions_tool_runner import AsyncDecisionsToolRunner, DecisionsToolRunnerError
from openai.lib.tool_diagnostics import ToolDiagnostic, ToolDiagnosticObserver
import oxide_io
assert AssistantEventHandler is oxide_io.AssistantEventHandler
from openai.lib.computer import ComputerToolset, AsyncComputerDriver, ComputerUseError
from openai import AsyncComputerToolset
import oxide_io.computer
assert ComputerToolset is oxide_io.computer.ComputerToolset
assert AsyncComputerToolset is oxide_io.computer.AsyncComputerToolset
try:
    import openai.lib._uploads
except ModuleNotFoundError:
    print("ok")
"""


def test_the_official_import_lines_work_after_install() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
