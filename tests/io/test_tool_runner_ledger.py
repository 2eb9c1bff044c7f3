"""The Responses tool runner's checkpoint ledger against the mock server, in the three runtimes.

The ledger's `save` keeps every checkpoint in a list (as a durable store would
keep the latest); the tests read the phases and what each says was done, and
resume a new run from a saved boundary.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from oxide_io._async._tool_runner import (
    AsyncRegisteredFunction,
    AsyncResponsesToolLedger,
    AsyncResponsesToolRunner,
)
from oxide_io._sync._tool_runner import (
    SyncRegisteredFunction,
    SyncResponsesToolLedger,
    SyncResponsesToolRunner,
)
from oxide_io.testing import Reply, ToolCall, ToolCalls
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
PARAMS = {"model": "gpt-4o-mini", "input": "What is 2 + 3?"}


def _runner(runtime: str, log: list[str]) -> Any:
    def body(arguments: dict[str, Any]) -> str:
        log.append("add")
        return str(arguments["a"] + arguments["b"])

    if runtime == "sync":
        return SyncResponsesToolRunner(functions=[SyncRegisteredFunction(ADD, body)])

    async def execute(arguments: dict[str, Any]) -> str:
        await anyio.sleep(0)
        return body(arguments)

    return AsyncResponsesToolRunner(functions=[AsyncRegisteredFunction(ADD, execute)])


def _ledger(runtime: str, saved: list[Any], resume_from: Any = None, fail: bool = False) -> Any:
    def save(checkpoint: Any) -> None:
        if fail:
            raise OSError("the store is full")
        # A durable store keeps text: the checkpoint must be JSON.
        saved.append(json.loads(json.dumps(checkpoint)))

    if runtime == "sync":
        return SyncResponsesToolLedger("run-1", save, resume_from)

    async def asave(checkpoint: Any) -> None:
        await anyio.sleep(0)
        save(checkpoint)

    return AsyncResponsesToolLedger("run-1", asave, resume_from)


async def _run(runtime: str, runner: Any, client: Any, **options: Any) -> Any:
    if runtime == "sync":
        return runner.run(unwrap(client), PARAMS, **options)
    return await runner.run(client, PARAMS, **options)


async def test_checkpoints_record_each_effect_and_a_boundary_resumes(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        ToolCalls([ToolCall("add", {"a": 2, "b": 3}, id="call_1")]), Reply("It is 5.")
    )
    saved: list[Any] = []
    log: list[str] = []
    client = make_client(mock)
    response = await _run(runtime, _runner(runtime, log), client, ledger=_ledger(runtime, saved))
    assert response.output_text == "It is 5."
    assert [(c["phase"], c["consumed_requests"]) for c in saved] == [
        ("boundary", 1),  # before the first request
        ("pending", 1),  # its response, the call not yet run
        ("pending", 1),  # before the call
        ("pending", 1),  # after it: its output is not sent yet
        ("boundary", 1),  # the call and its output in the history
        ("boundary", 2),  # before the second request
        ("final", 2),
    ]
    assert [c["revision"] for c in saved] == list(range(1, 8))
    assert [c["attempted_call_ids"] for c in saved[2:4]] == [[], ["call_1"]]
    assert saved[3]["returned_outputs"] == [
        {"type": "function_call_output", "call_id": "call_1", "output": "5"}
    ]
    assert saved[1]["pending_items"][0]["call_id"] == "call_1"
    assert saved[-1]["final_response"]["output"][0]["content"][0]["text"] == "It is 5."
    assert all(c["run_id"] == "run-1" and c["tools"] == [ADD] for c in saved)

    # Resumed from the boundary after the call, the run sends only the second request.
    boundary = saved[4]
    mock.server.clear()
    mock.server.enqueue(Reply("Still 5."))
    resumed: list[Any] = []
    response = await _run(
        runtime, _runner(runtime, log), client, ledger=_ledger(runtime, resumed, boundary)
    )
    assert response.output_text == "Still 5."
    assert log == ["add"]  # the call is not run again
    (request,) = mock.server.requests
    assert request.json["input"] == boundary["history"]
    assert [c["revision"] for c in resumed] == [6, 7]
    assert resumed[-1]["attempted_call_ids"] == ["call_1"]


async def test_only_a_matching_boundary_resumes(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        ToolCalls([ToolCall("add", {"a": 2, "b": 3}, id="call_1")]), Reply("It is 5.")
    )
    saved: list[Any] = []
    client = make_client(mock)
    await _run(runtime, _runner(runtime, []), client, ledger=_ledger(runtime, saved))
    requests = len(mock.server.requests)
    for checkpoint in (
        saved[3],  # pending: the call's effect is for the caller to reconcile
        saved[-1],  # final
        {**saved[4], "run_id": "run-2"},
        {**saved[4], "max_steps": 3},
        {**saved[4], "tools": []},
        {**saved[4], "attempted_call_ids": ["call_1", "call_9"]},
        {key: value for key, value in saved[4].items() if key != "history"},
    ):
        with pytest.raises(ValueError, match="resume"):
            await _run(
                runtime, _runner(runtime, []), client, ledger=_ledger(runtime, [], checkpoint)
            )
    assert len(mock.server.requests) == requests


async def test_a_failed_save_stops_the_run_before_the_request(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(Reply("never"))
    with pytest.raises(ToolRunnerError) as raised:
        await _run(
            runtime,
            _runner(runtime, []),
            make_client(mock),
            ledger=_ledger(runtime, [], fail=True),
        )
    assert isinstance(raised.value.__cause__, OSError)
    assert mock.server.requests == []
