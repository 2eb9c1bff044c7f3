"""Eager execution of the Responses tool runner against the mock server, in the three runtimes.

With `stream=True, eager=True` a call runs as soon as its item is done in the
stream, before the response completes; the tests log the stream's events and
the calls in one list, so the order shows when each call ran.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from oxide_io._async._tool_runner import AsyncRegisteredFunction, AsyncResponsesToolRunner
from oxide_io._sync._tool_runner import SyncRegisteredFunction, SyncResponsesToolRunner
from oxide_io.testing import OutputItems, Reply, ToolCall, ToolCalls
from oxide_proto.helpers._tool_runs import ToolRunnerError
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient, Setup

pytestmark = pytest.mark.anyio

ADD = {
    "type": "function",
    "name": "add",
    "description": "Adds two integers.",
    "parameters": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
}
SUB = {**ADD, "name": "sub", "description": "Subtracts."}
PARAMS = {"model": "gpt-4o-mini", "input": "2 + 3 and 5 - 1?"}


def _function(runtime: str, tool: dict[str, Any], log: list[str]) -> Any:
    def body(arguments: dict[str, Any]) -> str:
        log.append(f"run {tool['name']}")
        sign = 1 if tool["name"] == "add" else -1
        return str(arguments["a"] + sign * arguments["b"])

    if runtime == "sync":
        return SyncRegisteredFunction(tool, body)

    async def execute(arguments: dict[str, Any]) -> str:
        await anyio.sleep(0)
        return body(arguments)

    return AsyncRegisteredFunction(tool, execute)


def _runner(runtime: str, log: list[str], **options: Any) -> Any:
    functions = [_function(runtime, ADD, log), _function(runtime, SUB, log)]
    kind = SyncResponsesToolRunner if runtime == "sync" else AsyncResponsesToolRunner
    return kind(functions=functions, **options)


def _hook(runtime: str, answer: Any) -> Any:
    if runtime == "sync":
        return answer

    async def hook(value: Any) -> Any:
        await anyio.sleep(0)
        return answer(value)

    return hook


async def _turns(runtime: str, runner: Any, client: Any, **options: Any) -> list[Any]:
    turns: list[Any] = []
    if runtime == "sync":
        for turn in runner.iterate(unwrap(client), PARAMS, **options):
            turns.append(turn)
    else:
        async for turn in runner.iterate(client, PARAMS, **options):
            turns.append(turn)
    return turns


def _script(mock: Setup) -> None:
    mock.server.enqueue(
        ToolCalls(
            [
                ToolCall("add", {"a": 2, "b": 3}, id="call_add"),
                ToolCall("sub", {"a": 5, "b": 1}, id="call_sub"),
            ]
        ),
        Reply("5 and 4."),
    )


def _events(runtime: str, log: list[str]) -> Any:
    return _hook(runtime, lambda event: log.append(event.type))


async def test_calls_run_as_their_items_are_done(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    _script(mock)
    log: list[str] = []
    turns = await _turns(
        runtime,
        _runner(runtime, log),
        make_client(mock),
        stream=True,
        eager=True,
        on_event=_events(runtime, log),
    )
    assert [(turn.final, turn.tools_executed) for turn in turns] == [(False, True), (True, False)]
    assert turns[0].completed_call_ids == ("call_add", "call_sub")
    assert turns[1].response.output_text == "5 and 4."
    first_done = log.index("response.output_item.done")
    # Each call ran right after its item was done, before the response completed.
    assert log[first_done + 1] == "run add"
    assert log.index("run sub") < log.index("response.completed")
    assert log.count("run add") == log.count("run sub") == 1
    outputs = [
        item["output"]
        for item in mock.server.requests[1].json["input"]
        if item.get("type") == "function_call_output"
    ]
    assert outputs == ["5", "4"]


async def test_early_execution_selects_what_runs_early(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    _script(mock)
    log: list[str] = []
    runner = _runner(runtime, log, early_execution={"functions": ["add"]})
    turns = await _turns(
        runtime,
        runner,
        make_client(mock),
        stream=True,
        eager=True,
        on_event=_events(runtime, log),
    )
    # add ran early; sub, not selected, ran after the response completed.
    assert log.index("run add") < log.index("response.completed") < log.index("run sub")
    assert turns[0].tools_executed is True
    assert turns[0].completed_call_ids == ("call_add",)
    assert turns[1].completed_call_ids == ("call_add", "call_sub")


async def test_before_early_call_can_defer(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    _script(mock)
    log: list[str] = []
    asked: list[str] = []

    def decide(item: Any) -> str:
        asked.append(item.call_id)
        return "defer"

    await _turns(
        runtime,
        _runner(runtime, log),
        make_client(mock),
        stream=True,
        eager=True,
        on_event=_events(runtime, log),
        before_early_call=_hook(runtime, decide),
    )
    # Once deferred, nothing later in the response is asked about or run early.
    assert asked == ["call_add"]
    assert log.index("response.completed") < log.index("run add") < log.index("run sub")
    bad = _hook(runtime, lambda item: "later")
    _script(mock)
    with pytest.raises(ToolRunnerError, match="'execute' or 'defer'"):
        await _turns(
            runtime,
            _runner(runtime, []),
            make_client(mock),
            stream=True,
            eager=True,
            before_early_call=bad,
        )


async def test_a_bad_call_found_early_stops_the_run(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        OutputItems(
            [
                {
                    "type": "function_call",
                    "call_id": "call_add",
                    "name": "add",
                    "arguments": '{"a": 2, "b": 3}',
                    "status": "completed",
                },
                {
                    "type": "function_call",
                    "call_id": "call_x",
                    "name": "unknown",
                    "arguments": "{}",
                    "status": "completed",
                },
            ]
        )
    )
    log: list[str] = []
    with pytest.raises(ToolRunnerError, match="not a registered function") as raised:
        await _turns(runtime, _runner(runtime, log), make_client(mock), stream=True, eager=True)
    # The first call ran before the second arrived: the error says so.
    assert log == ["run add"]
    assert raised.value.completed_call_ids == ("call_add",)


def test_eager_options_are_checked() -> None:
    log: list[str] = []
    with pytest.raises(ValueError, match="registered function"):
        _runner("sync", log, early_execution={"functions": ["mul"]})
    with pytest.raises(ValueError, match="only functions and computer"):
        _runner("sync", log, early_execution={"tools": []})
    with pytest.raises(ValueError, match="computer"):
        _runner("sync", log, early_execution={"computer": True})
    runner = _runner("sync", log)
    with pytest.raises(ValueError, match="stream=True"):
        runner.run(Any, PARAMS, eager=True)
