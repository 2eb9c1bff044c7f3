"""The tool runners against the mock server, in the three runtimes.

`ResponsesToolRunner` (blocking) and `AsyncResponsesToolRunner` (asyncio, trio)
send the registered functions as tools, run the calls the mock model makes
(scripted with `ToolCalls`), send the outputs back and return the answer;
`DecisionsToolRunner` and its async twin choose among actions through the mock
server's `POST /v1/decisions` (which picks the choice named in the last input).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pytest

from oxide_io._async._tool_runner import (
    AsyncDecisionsToolRunner,
    AsyncRegisteredFunction,
    AsyncResponsesToolRunner,
)
from oxide_io._sync._tool_runner import (
    SyncDecisionsToolRunner,
    SyncRegisteredFunction,
    SyncResponsesToolRunner,
)
from oxide_io.testing import Fail, OutputItems, ToolCall, ToolCalls
from oxide_proto import responses_function_tool
from oxide_proto.helpers._tool_runs import DecisionsToolRunnerError, ToolRunnerError
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
PARAMS = {"model": "gpt-4o-mini", "input": "What is 2 + 3?"}


def _outputs_seen(body: Mapping[str, Any]) -> str:
    # The mock model's answer quotes the function outputs it was sent.
    outputs = [
        item["output"]
        for item in body.get("input") or ()
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]
    return "outputs: " + json.dumps(outputs)


def _note(log: list[Any], entry: Any, result: str) -> str:
    log.append(entry)
    return result


def function(runtime: str, tool: Any, body: Callable[..., Any], **options: Any) -> Any:
    if runtime == "sync":
        return SyncRegisteredFunction(tool, body, **options)

    if "cancelled" in inspect.signature(body).parameters:

        async def execute_cancellable(arguments: Any, cancelled: Callable[[], bool]) -> Any:
            return body(arguments, cancelled=cancelled)

        return AsyncRegisteredFunction(tool, cast(Any, execute_cancellable), **options)

    async def execute(arguments: Any) -> Any:
        return body(arguments)

    return AsyncRegisteredFunction(tool, execute, **options)


def runner(runtime: str, functions: list[Any]) -> Any:
    if runtime == "sync":
        return SyncResponsesToolRunner(functions=functions)
    return AsyncResponsesToolRunner(functions=functions)


async def run(runtime: str, tool_runner: Any, client: Any, params: Any, **options: Any) -> Any:
    if runtime == "sync":
        return tool_runner.run(unwrap(client), params, **options)
    return await tool_runner.run(client, params, **options)


@pytest.fixture
def answers_outputs(mock: Setup) -> Iterator[Setup]:
    mock.server.reply_text = _outputs_seen
    yield mock
    from oxide_io.testing._generation import default_reply

    mock.server.reply_text = default_reply


@pytest.mark.parametrize("stream", [False, True])
async def test_functions_run_until_the_model_answers(
    runtime: str, make_client: MakeClient, answers_outputs: Setup, stream: bool
) -> None:
    server = answers_outputs.server
    server.enqueue(
        ToolCalls([ToolCall("add", {"a": 2, "b": 3}, id="call_1")]),
        ToolCalls(
            [
                ToolCall("add", {"a": 5, "b": 10}, id="call_2"),
                ToolCall("add", {"a": 1, "b": 1}, id="call_3"),
            ]
        ),
    )
    calls: list[dict[str, Any]] = []

    def add(arguments: dict[str, Any]) -> str:
        calls.append(arguments)
        return str(arguments["a"] + arguments["b"])

    diagnostics: list[dict[str, Any]] = []
    events: list[Any] = []
    options: dict[str, Any] = {"on_diagnostic": diagnostics.append}
    if stream:
        options.update(stream=True, on_event=events.append)
    response = await run(
        runtime,
        runner(runtime, [function(runtime, ADD, add)]),
        make_client(answers_outputs),
        PARAMS,
        **options,
    )
    assert response.output_text == 'outputs: ["5", "15", "2"]'
    assert calls == [{"a": 2, "b": 3}, {"a": 5, "b": 10}, {"a": 1, "b": 1}]
    bodies = [request.json for request in server.requests]
    assert len(bodies) == 3
    assert all(body["tools"] == [ADD] for body in bodies)
    assert all("reasoning.encrypted_content" in body["include"] for body in bodies)
    assert all(body.get("stream", False) is stream for body in bodies)
    # Each request replays the history: the calls, then their outputs, in order.
    last = bodies[2]["input"]
    assert [item.get("type", "message") for item in last] == [
        "message",
        "function_call",
        "function_call_output",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    assert [item.get("call_id") for item in last[1:]] == [
        "call_1",
        "call_1",
        "call_2",
        "call_3",
        "call_2",
        "call_3",
    ]
    stages = [(d["stage"], d["reason"], d["call_id"]) for d in diagnostics]
    assert stages == [
        ("request", "completed", None),
        ("action", "completed", "call_1"),
        ("request", "completed", None),
        ("action", "completed", "call_2"),
        ("action", "completed", "call_3"),
        ("request", "completed", None),
    ]
    assert all(d["usage"] is not None for d in diagnostics if d["stage"] == "request")
    if stream:
        kinds = [event.type for event in events]
        assert kinds.count("response.completed") == 3
        assert "response.function_call_arguments.done" in kinds
    else:
        assert events == []


async def test_max_steps_stops_a_model_that_keeps_calling(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(ToolCalls([ToolCall("add", {"a": 1, "b": 2})], times=None))
    ran: list[str] = []
    tool_runner = runner(runtime, [function(runtime, ADD, lambda a: _note(ran, "x", "3"))])
    with pytest.raises(ToolRunnerError, match="max_steps") as caught:
        await run(runtime, tool_runner, make_client(mock), PARAMS, max_steps=3)
    # Two requests' calls ran; the third request's call is refused, not run.
    assert len(mock.server.requests) == 3
    assert ran == ["x", "x"]
    assert len(caught.value.attempted_call_ids) == 2
    assert caught.value.completed_call_ids == caught.value.attempted_call_ids


async def test_a_failing_function_stops_the_run_with_what_was_attempted(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        ToolCalls(
            [
                ToolCall("add", {"a": 1, "b": 2}, id="call_ok"),
                ToolCall("add", {"a": 0, "b": 0}, id="call_bad"),
            ]
        )
    )

    def add(arguments: dict[str, Any]) -> str:
        if arguments["a"] == 0:
            raise LookupError("no zeroes")
        return "3"

    diagnostics: list[dict[str, Any]] = []
    with pytest.raises(ToolRunnerError) as caught:
        await run(
            runtime,
            runner(runtime, [function(runtime, ADD, add)]),
            make_client(mock),
            PARAMS,
            on_diagnostic=diagnostics.append,
        )
    assert caught.value.attempted_call_ids == ("call_ok", "call_bad")
    assert caught.value.completed_call_ids == ("call_ok",)
    assert isinstance(caught.value.__cause__, LookupError)
    assert ("action", "driver_failed", "call_bad") in [
        (d["stage"], d["reason"], d["call_id"]) for d in diagnostics
    ]
    assert len(mock.server.requests) == 1


async def test_an_invalid_output_or_arguments_is_a_typed_error(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(ToolCalls([ToolCall("add", {"a": 1, "b": 2}, id="call_1")]))
    with pytest.raises(ToolRunnerError, match="invalid output") as caught:
        await run(
            runtime,
            runner(runtime, [function(runtime, ADD, lambda a: 42)]),
            make_client(mock),
            PARAMS,
        )
    assert caught.value.attempted_call_ids == ("call_1",)
    assert caught.value.completed_call_ids == ()
    mock.server.enqueue(ToolCalls([ToolCall("add", "[1, 2]", id="call_2")]))
    ran: list[object] = []
    with pytest.raises(ToolRunnerError, match="arguments of 'add'") as caught:
        await run(
            runtime,
            runner(runtime, [function(runtime, ADD, ran.append)]),
            make_client(mock),
            PARAMS,
        )
    assert ran == []
    assert caught.value.attempted_call_ids == ()


async def test_an_api_error_stops_the_run(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(ToolCalls([ToolCall("add", {"a": 1, "b": 2}, id="call_1")]))

    def add(arguments: dict[str, Any]) -> str:
        # The request that sends this output back is the one that fails.
        mock.server.enqueue(Fail(400, message="bad input"))
        return "3"

    diagnostics: list[dict[str, Any]] = []
    with pytest.raises(ToolRunnerError) as caught:
        await run(
            runtime,
            runner(runtime, [function(runtime, ADD, add)]),
            make_client(mock, max_retries=0),
            PARAMS,
            on_diagnostic=diagnostics.append,
        )
    assert type(caught.value.__cause__).__name__ == "BadRequestError"
    assert caught.value.completed_call_ids == ("call_1",)
    assert diagnostics[-1]["stage"] == "request" and diagnostics[-1]["reason"] == "api_failed"


async def test_iterate_yields_turns_that_take_supplied_outputs_and_user_text(
    runtime: str, make_client: MakeClient, answers_outputs: Setup
) -> None:
    server = answers_outputs.server
    server.enqueue(ToolCalls([ToolCall("add", {"a": 2, "b": 3}, id="call_1")]))
    ran: list[Any] = []
    tool_runner = runner(
        runtime,
        [function(runtime, ADD, lambda a: _note(ran, a, "5"), allow_output_override=True)],
    )
    client = make_client(answers_outputs)
    turns: list[Any] = []
    if runtime == "sync":
        iterator = tool_runner.iterate(unwrap(client), PARAMS)
        for turn in iterator:
            turns.append(turn)
            if not turn.final:
                turn.supply_outputs(
                    [{"type": "function_call_output", "call_id": "call_1", "output": "five"}]
                )
                turn.append_user_text("Answer in words.")
                with pytest.raises(ValueError, match="not a call of this turn"):
                    turn.supply_outputs(
                        [{"type": "function_call_output", "call_id": "nope", "output": "x"}]
                    )
    else:
        async for turn in tool_runner.iterate(client, PARAMS):
            turns.append(turn)
            if not turn.final:
                turn.supply_outputs(
                    [{"type": "function_call_output", "call_id": "call_1", "output": "five"}]
                )
                turn.append_user_text("Answer in words.")
                with pytest.raises(ValueError, match="not a call of this turn"):
                    turn.supply_outputs(
                        [{"type": "function_call_output", "call_id": "nope", "output": "x"}]
                    )
    assert [(turn.step, turn.final) for turn in turns] == [(1, False), (2, True)]
    assert ran == []  # the supplied output replaced the run
    assert turns[1].response.output_text == 'outputs: ["five"]'
    assert turns[1].completed_call_ids == ("call_1",)
    last_input = server.requests[-1].json["input"]
    assert last_input[-1] == {"role": "user", "content": "Answer in words."}
    # A turn that has passed takes nothing more.
    with pytest.raises(ValueError):
        turns[0].append_user_text("late")


@dataclass
class Sum:
    a: int
    b: int


async def test_a_typed_tool_gets_its_arguments_parsed(
    runtime: str, make_client: MakeClient, answers_outputs: Setup
) -> None:
    tool = responses_function_tool(Sum, name="add")
    answers_outputs.server.enqueue(ToolCalls([ToolCall("add", {"a": 20, "b": 22})]))
    seen: list[Any] = []

    def add(value: Sum) -> str:
        seen.append(value)
        return str(value.a + value.b)

    registered: Any
    if runtime == "sync":
        registered = SyncRegisteredFunction.from_tool(tool, execute=add)
    else:

        async def execute(value: Sum) -> str:
            return add(value)

        registered = AsyncRegisteredFunction.from_tool(tool, execute=execute)
    response = await run(
        runtime, runner(runtime, [registered]), make_client(answers_outputs), PARAMS
    )
    assert seen == [Sum(20, 22)]
    assert response.output_text == 'outputs: ["42"]'


async def test_bad_params_are_refused_before_any_request(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    tool_runner = runner(runtime, [function(runtime, ADD, lambda a: "3")])
    client = make_client(mock)
    for params, message in [
        ({**PARAMS, "stream": True}, "run\\(stream=True\\)"),
        ({**PARAMS, "previous_response_id": "resp_1"}, "previous_response_id"),
        ({**PARAMS, "tool_choice": "required"}, "never lets the run finish"),
        ({**PARAMS, "tools": [{"type": "computer"}]}, "computer=ComputerToolset"),
    ]:
        with pytest.raises(ValueError, match=message):
            await run(runtime, tool_runner, client, params)
    with pytest.raises(ValueError, match="max_steps"):
        await run(runtime, tool_runner, client, PARAMS, max_steps=0)
    assert mock.server.requests == []
    assert tool_runner.close() == {"status": "closed"}
    with pytest.raises(RuntimeError, match="closed"):
        await run(runtime, tool_runner, client, PARAMS)


# -- Decisions --------------------------------------------------------------------


def decisions_runner(runtime: str, state: dict[str, Any], *, verify: bool | None) -> Any:
    # The observation names the action the mock server will choose ("increment"
    # while the counter is below its target, then "done").
    def observe() -> str:
        if state.get("refuse"):
            return "[refuse] next: increment"
        return "next: increment" if state["count"] < state["target"] else "next: done"

    def candidates(observation: Any) -> list[Any]:
        state["observations"].append(observation)
        return [
            {"id": "increment", "description": "Add one to the counter.", "execute": increment},
            {"id": "done", "description": "The counter is at its target.", "done": True},
        ]

    def increment() -> None:
        state["count"] += 1

    def check(observation: Any) -> bool:
        return bool(state["count"] == state["target"])

    if runtime == "sync":
        return SyncDecisionsToolRunner(
            observe=observe, candidates=candidates, verify=check if verify else None
        )

    async def a_observe() -> str:
        return observe()

    async def a_candidates(observation: Any) -> list[Any]:
        listed = candidates(observation)

        async def a_increment() -> None:
            increment()

        listed[0]["execute"] = a_increment
        return listed

    async def a_check(observation: Any) -> bool:
        return check(observation)

    return AsyncDecisionsToolRunner(
        observe=a_observe, candidates=a_candidates, verify=a_check if verify else None
    )


async def run_decisions(
    runtime: str, tool_runner: Any, client: Any, params: Any, **options: Any
) -> Any:
    if runtime == "sync":
        return tool_runner.run(unwrap(client), params, **options)
    return await tool_runner.run(client, params, **options)


@pytest.mark.parametrize("verify", [True, False])
async def test_decisions_run_actions_until_done(
    runtime: str, make_client: MakeClient, mock: Setup, verify: bool
) -> None:
    state: dict[str, Any] = {"count": 0, "target": 2, "observations": []}
    diagnostics: list[dict[str, Any]] = []
    result = await run_decisions(
        runtime,
        decisions_runner(runtime, state, verify=verify),
        make_client(mock),
        {"model": "gpt-4o-mini", "input": "Bring the counter to 2."},
        on_diagnostic=diagnostics.append,
    )
    assert state["count"] == 2
    assert result["status"] == ("verified" if verify else "unverified")
    assert result["attempted_candidate_ids"] == ["increment", "increment"]
    assert result["completed_candidate_ids"] == ["increment", "increment"]
    assert [decision.answers[0].choice for decision in result["decisions"]] == [
        "increment",
        "increment",
        "done",
    ]
    bodies = [request.json for request in mock.server.requests]
    assert all(request.path == "/v1/decisions" for request in mock.server.requests)
    assert bodies[0]["input"] == [
        {"role": "user", "content": "Bring the counter to 2."},
        {"role": "user", "content": "next: increment"},
    ]
    question = bodies[0]["questions"][0]
    assert question["type"] == "choice" and question["name"] == "next_action"
    assert [choice["value"] for choice in question["choices"]] == ["increment", "done"]
    stages = [(d["stage"], d["reason"]) for d in diagnostics]
    assert stages.count(("action", "completed")) == 2
    assert (("verification", "completed") in stages) is verify


async def test_decisions_refusal_and_step_limit(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    client = make_client(mock)
    state: dict[str, Any] = {"count": 0, "target": 10, "observations": []}
    with pytest.raises(DecisionsToolRunnerError) as caught:
        await run_decisions(
            runtime,
            decisions_runner(runtime, state, verify=True),
            client,
            {"model": "gpt-4o-mini", "input": "Count to 10."},
            max_steps=3,
        )
    assert caught.value.reason == "step_limit"
    assert caught.value.completed_candidate_ids == ("increment", "increment")
    state["refuse"] = True
    refused = await run_decisions(
        runtime,
        decisions_runner(runtime, state, verify=True),
        client,
        {"model": "gpt-4o-mini", "input": "Count to 10."},
    )
    assert refused["status"] == "refused"
    assert len(refused["decisions"]) == 1
    assert refused["attempted_candidate_ids"] == []
    assert state["count"] == 2
    with pytest.raises(DecisionsToolRunnerError) as bad:
        await run_decisions(
            runtime, decisions_runner(runtime, state, verify=True), client, {"model": "m"}
        )
    assert bad.value.reason == "invalid_params"


async def test_a_callers_idempotency_key_is_renewed_for_each_later_request(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    # With one key for the whole run, the server would answer every request with
    # the first one's response.
    mock.server.enqueue(ToolCalls([ToolCall("add", {"a": 1, "b": 2})], times=2))
    client = make_client(mock, default_headers={"Idempotency-Key": "fixed"})
    await run(runtime, runner(runtime, [function(runtime, ADD, lambda a: "3")]), client, PARAMS)
    keys = [request.headers.get("idempotency-key") for request in mock.server.requests]
    assert len(keys) == 3
    assert keys[0] == "fixed"
    assert len(set(keys)) == 3 and all(key for key in keys)
    mock.server.clear()
    mock.server.enqueue(ToolCalls([ToolCall("add", {"a": 1, "b": 2})]))
    await run(
        runtime, runner(runtime, [function(runtime, ADD, lambda a: "3")]), make_client(mock), PARAMS
    )
    assert [request.headers.get("idempotency-key") for request in mock.server.requests] == [
        None,
        None,
    ]


async def test_cancelled_stops_between_calls(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        ToolCalls(
            [
                ToolCall("add", {"a": 1, "b": 2}, id="call_1"),
                ToolCall("add", {"a": 3, "b": 4}, id="call_2"),
            ]
        )
    )
    stop: list[bool] = []
    seen: list[Any] = []

    def add(arguments: dict[str, Any], cancelled: Callable[[], bool]) -> str:
        # The function is given the run's `cancelled`, and asks it to stop the run.
        seen.append(cancelled())
        stop.append(True)
        return "3"

    diagnostics: list[dict[str, Any]] = []
    with pytest.raises(ToolRunnerError, match="cancelled") as caught:
        await run(
            runtime,
            runner(runtime, [function(runtime, ADD, add)]),
            make_client(mock),
            PARAMS,
            cancelled=lambda: bool(stop),
            on_diagnostic=diagnostics.append,
        )
    assert seen == [False]
    assert caught.value.attempted_call_ids == ("call_1",)
    assert caught.value.completed_call_ids == ("call_1",)
    assert len(mock.server.requests) == 1


def test_a_cancelled_asyncio_task_keeps_the_ids_of_what_ran(plain_server: Any) -> None:
    from oxide_io import AsyncClient
    from oxide_io._tool_support import ToolRunnerCancelledError
    from tests.io.conftest import KEY

    plain_server.clear()
    plain_server.enqueue(
        ToolCalls(
            [
                ToolCall("add", {"a": 1, "b": 2}, id="call_1"),
                ToolCall("add", {"a": 0, "b": 0}, id="call_2"),
            ]
        )
    )

    async def main() -> ToolRunnerCancelledError:
        waiting = asyncio.Event()

        async def add(arguments: dict[str, Any]) -> str:
            if arguments["a"] == 0:
                waiting.set()
                await asyncio.sleep(60)
            return "3"

        async with AsyncClient(base_url=plain_server.base_url, api_key=KEY) as client:
            tool_runner = AsyncResponsesToolRunner(functions=[AsyncRegisteredFunction(ADD, add)])
            task = asyncio.create_task(tool_runner.run(client, PARAMS))
            await asyncio.wait_for(waiting.wait(), 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as caught:
                await task
            # The runner is free again once the cancelled run has ended.
            assert tool_runner.close() == {"status": "closed"}
        assert isinstance(caught.value, ToolRunnerCancelledError)
        return caught.value

    cancelled = asyncio.run(main())
    assert cancelled.attempted_call_ids == ("call_1", "call_2")
    assert cancelled.completed_call_ids == ("call_1",)
    plain_server.clear()


@pytest.mark.parametrize("stream", [False, True])
async def test_mcp_approvals_go_through_approve_mcp(
    runtime: str, make_client: MakeClient, mock: Setup, stream: bool
) -> None:
    mcp = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example/sse"}
    request = {
        "type": "mcp_approval_request",
        "id": "mcpr_1",
        "server_label": "docs",
        "name": "search",
        "arguments": '{"q": "oxide"}',
    }
    used = {
        "type": "mcp_call",
        "id": "mcp_1",
        "server_label": "docs",
        "name": "search",
        "arguments": '{"q": "oxide"}',
        "output": "3 pages",
        "approval_request_id": "mcpr_1",
        "status": "completed",
    }
    mock.server.enqueue(OutputItems([request]), OutputItems([used]))
    asked: list[Any] = []

    def decide(item: Any) -> bool:
        asked.append((item.type, item.id, item.name))
        return True

    approve_mcp: Any = decide
    if runtime != "sync":

        async def approve(item: Any) -> bool:
            return decide(item)

        approve_mcp = approve
    diagnostics: list[dict[str, Any]] = []
    response = await run(
        runtime,
        runner(runtime, []),
        make_client(mock),
        {**PARAMS, "tools": [mcp]},
        stream=stream,
        approve_mcp=approve_mcp,
        on_diagnostic=diagnostics.append,
    )
    assert asked == [("mcp_approval_request", "mcpr_1", "search")]
    assert [item.type for item in response.output] == ["mcp_call"]
    second = mock.server.requests[1].json
    assert second["tools"] == [mcp]
    assert second["input"][1:] == [
        request,
        {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True},
    ]
    assert ("approval", "completed", "mcpr_1") in [
        (d["stage"], d["reason"], d["call_id"]) for d in diagnostics
    ]
    # Without a callback the run cannot decide, and stops before answering.
    mock.server.enqueue(OutputItems([{**request, "id": "mcpr_2"}]))
    with pytest.raises(ToolRunnerError, match="approve_mcp") as caught:
        await run(runtime, runner(runtime, []), make_client(mock), {**PARAMS, "tools": [mcp]})
    assert caught.value.attempted_call_ids == ("mcpr_2",)
    assert caught.value.completed_call_ids == ()


async def test_a_server_tool_result_is_replayed_and_can_end_the_run(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    searched = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "oxide"},
    }
    mock.server.enqueue(
        OutputItems(
            [
                searched,
                {
                    "type": "function_call",
                    "id": "fc_1",
                    "call_id": "call_1",
                    "name": "add",
                    "arguments": '{"a": 1, "b": 1}',
                    "status": "completed",
                },
            ]
        ),
        OutputItems([{**searched, "id": "ws_2"}]),
    )
    response = await run(
        runtime,
        runner(runtime, [function(runtime, ADD, lambda a: "2")]),
        make_client(mock),
        {**PARAMS, "tools": [{"type": "web_search"}]},
    )
    assert [item.id for item in response.output] == ["ws_2"]
    second = mock.server.requests[1].json
    assert second["tools"] == [ADD, {"type": "web_search"}]
    assert second["input"][1] == searched
    assert second["input"][3] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "2",
    }
    mock.server.enqueue(OutputItems([{**searched, "id": "ws_3", "status": "failed"}]))
    with pytest.raises(ToolRunnerError, match="did not complete"):
        await run(
            runtime,
            runner(runtime, []),
            make_client(mock),
            {**PARAMS, "tools": [{"type": "web_search"}]},
        )


async def test_the_mock_server_answers_decisions_from_the_last_input(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    client = make_client(mock)
    questions: list[Any] = [
        {
            "type": "choice",
            "name": "pick",
            "choices": [{"value": "red"}, {"value": "blue"}, {"value": True}],
        },
        {"type": "predicate", "name": "is_sky"},
        {"type": "score", "name": "size", "min": 0, "max": 10},
    ]
    decision = await client.decisions.create(
        model="gpt-4o-mini", input="The sky is blue.", questions=questions
    )
    pick, predicate, score = decision.answers
    assert (pick.type, pick.name, pick.choice) == ("choice", "pick", "blue")
    assert [p.probability for p in pick.probabilities] == [0.05, 0.9, 0.05]
    assert (predicate.type, predicate.probability) == ("predicate", 0.75)
    assert (score.type, score.score) == ("score", 5.0)
    assert decision.usage.total_tokens == decision.usage.input_tokens + decision.usage.output_tokens
    refused = await client.decisions.create(
        model="gpt-4o-mini", input="[refuse] anything", questions=questions[:1]
    )
    assert [(a.type, a.name) for a in refused.answers] == [("refusal", "pick")]
    from oxide_io import BadRequestError

    with pytest.raises(BadRequestError, match="questions"):
        await client.decisions.create(model="gpt-4o-mini", input="x", questions=[])


async def test_a_failing_observer_changes_nothing(
    runtime: str, make_client: MakeClient, answers_outputs: Setup
) -> None:
    answers_outputs.server.enqueue(ToolCalls([ToolCall("add", {"a": 2, "b": 3})]))
    told: list[str] = []

    def observer(record: dict[str, Any]) -> None:
        told.append(record["stage"])
        raise RuntimeError("observer bug")

    response = await run(
        runtime,
        runner(runtime, [function(runtime, ADD, lambda a: "5")]),
        make_client(answers_outputs),
        PARAMS,
        on_diagnostic=observer,
    )
    assert response.output_text == 'outputs: ["5"]'
    assert told == ["request", "action", "request"]


def test_the_blocking_runner_refuses_coroutine_functions(plain_server: Any) -> None:
    from oxide_io import Client
    from tests.io.conftest import KEY

    plain_server.clear()
    plain_server.enqueue(ToolCalls([ToolCall("add", {"a": 2, "b": 3}, id="call_1")]))

    async def add(arguments: dict[str, Any]) -> str:
        return "5"

    with Client(base_url=plain_server.base_url, api_key=KEY) as client:
        tool_runner = SyncResponsesToolRunner(
            functions=[SyncRegisteredFunction(ADD, cast(Any, add))]
        )
        with pytest.raises(ToolRunnerError, match="AsyncResponsesToolRunner") as caught:
            tool_runner.run(client, PARAMS)
    assert caught.value.attempted_call_ids == ("call_1",)
    assert caught.value.completed_call_ids == ()
    plain_server.clear()


async def test_the_official_options_oxide_lacks_take_only_their_defaults(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    tool_runner = runner(runtime, [function(runtime, ADD, lambda a: "5")])
    client = make_client(mock)
    response = await run(
        runtime,
        tool_runner,
        client,
        PARAMS,
        eager=False,
        max_concurrent_calls=2,
        ledger=None,
        context_budget=None,
        before_early_call=None,
    )
    assert response.status == "completed"
    with pytest.raises(ValueError, match="not a runner ledger"):
        await run(runtime, tool_runner, client, PARAMS, ledger=object())
    with pytest.raises(ValueError, match="max_concurrent_calls"):
        await run(runtime, tool_runner, client, PARAMS, max_concurrent_calls=0)
    assert len(mock.server.requests) == 1
    kind = SyncResponsesToolRunner if runtime == "sync" else AsyncResponsesToolRunner
    assert kind(browser=None, computer=None, early_execution=None)
    assert kind(early_execution={"functions": []})
    with pytest.raises(ValueError, match="BrowserToolset"):
        kind(browser=object())  # type: ignore[arg-type]
