"""The Responses tool runner's context budget against the mock server, in the three runtimes.

A function returns a large output; once the input of the next request would pass
`max_input_bytes`, the runner asks `compact` which completed calls to leave out
of that request, and the tests read what each request really sent.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from oxide_io._async._tool_runner import AsyncRegisteredFunction, AsyncResponsesToolRunner
from oxide_io._sync._tool_runner import SyncRegisteredFunction, SyncResponsesToolRunner
from oxide_io.testing import Reply, ToolCall, ToolCalls
from oxide_proto.helpers._tool_runs import ToolRunnerError
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient, Setup

pytestmark = pytest.mark.anyio

FETCH = {
    "type": "function",
    "name": "fetch",
    "description": "Fetches a page.",
    "parameters": {
        "type": "object",
        "properties": {"page": {"type": "integer"}},
        "required": ["page"],
        "additionalProperties": False,
    },
}
PARAMS = {"model": "gpt-4o-mini", "input": "Read pages 1 and 2."}
PAGE = 2000


def _runner(runtime: str) -> Any:
    def body(arguments: dict[str, Any]) -> str:
        return str(arguments["page"]) * PAGE

    if runtime == "sync":
        return SyncResponsesToolRunner(functions=[SyncRegisteredFunction(FETCH, body)])

    async def execute(arguments: dict[str, Any]) -> str:
        await anyio.sleep(0)
        return body(arguments)

    return AsyncResponsesToolRunner(functions=[AsyncRegisteredFunction(FETCH, execute)])


def _compact(runtime: str, answer: Any, seen: list[Any]) -> Any:
    def compact(snapshot: Any) -> Any:
        seen.append(snapshot)
        return answer(snapshot)

    if runtime == "sync":
        return compact

    async def acompact(snapshot: Any) -> Any:
        await anyio.sleep(0)
        return compact(snapshot)

    return acompact


async def _run(runtime: str, runner: Any, client: Any, **options: Any) -> Any:
    if runtime == "sync":
        return runner.run(unwrap(client), PARAMS, **options)
    return await runner.run(client, PARAMS, **options)


def _script(mock: Setup) -> None:
    mock.server.enqueue(
        ToolCalls([ToolCall("fetch", {"page": 1}, id="call_1")]),
        ToolCalls([ToolCall("fetch", {"page": 2}, id="call_2")]),
        Reply("Both pages read."),
    )


async def test_compact_leaves_completed_calls_out_of_the_request(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    _script(mock)
    seen: list[Any] = []
    budget = {
        "max_input_bytes": 3000,
        "max_input_images": 0,
        "compact": _compact(
            runtime, lambda snapshot: {"drop_call_ids": ["call_1"], "summary": "page 1: ones"}, seen
        ),
    }
    response = await _run(runtime, _runner(runtime), make_client(mock), context_budget=budget)
    assert response.output_text == "Both pages read."
    bodies = [request.json for request in mock.server.requests]
    assert len(bodies) == 3
    # Only the third request was over the budget.
    (snapshot,) = seen
    assert snapshot["eligible_call_ids"] == ["call_1", "call_2"]
    assert snapshot["input_bytes"] > 3000
    assert snapshot["input_images"] == 0
    assert [item.get("call_id") for item in snapshot["history"][1:]] == [
        "call_1",
        "call_1",
        "call_2",
        "call_2",
    ]
    sent = bodies[2]["input"]
    assert len(json.dumps(sent, ensure_ascii=False, separators=(",", ":")).encode()) <= 3000
    assert all(item.get("call_id") != "call_1" for item in sent)
    assert [item.get("call_id") for item in sent if "call_id" in item] == ["call_2", "call_2"]
    assert sent[0]["content"].endswith("page 1: ones")
    assert '"call_id":"call_1"' in sent[1]["content"]
    assert sent[2] == {"role": "user", "content": PARAMS["input"]}
    # The server cuts nothing: the budget decided what was sent.
    assert all(body["truncation"] == "disabled" for body in bodies)


async def test_over_budget_without_compact_stops_before_the_request(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    _script(mock)
    budget = {"max_input_bytes": 3000, "max_input_images": 0}
    with pytest.raises(ToolRunnerError, match="exceeds the context_budget") as raised:
        await _run(runtime, _runner(runtime), make_client(mock), context_budget=budget)
    assert len(mock.server.requests) == 2
    assert raised.value.completed_call_ids == ("call_1", "call_2")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"drop_call_ids": ["call_9"]}, "eligible_call_ids"),
        ({"drop_call_ids": ["call_1", "call_1"]}, "eligible_call_ids"),
        ({"drop_call_ids": []}, "still exceeds"),
        ({"drop": ["call_1"]}, "compact must return"),
        ({"drop_call_ids": ["call_1"], "summary": 3}, "compact must return"),
    ],
)
async def test_a_bad_compact_decision_stops_the_run(
    runtime: str, make_client: MakeClient, mock: Setup, answer: Any, message: str
) -> None:
    _script(mock)
    budget = {
        "max_input_bytes": 3000,
        "max_input_images": 0,
        "compact": _compact(runtime, lambda snapshot: answer, []),
    }
    with pytest.raises(ToolRunnerError, match=message):
        await _run(runtime, _runner(runtime), make_client(mock), context_budget=budget)
    assert len(mock.server.requests) == 2
