"""The Responses tool runner with the browser and computer toolsets inside, in the three runtimes.

The mock server plays the model (`ComputerCall`, `ToolCalls` of `browser_*`
tools, `Reply`); the drivers are the simulated screen and browser of the
toolsets' own tests, so a test can tell from the driver logs and the requests
which actions ran, in which order, and what the model was sent back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import anyio
import pytest

from oxide_io._async._tool_runner import AsyncRegisteredFunction, AsyncResponsesToolRunner
from oxide_io._sync._tool_runner import SyncRegisteredFunction, SyncResponsesToolRunner
from oxide_io.browser import AsyncBrowserToolset, BrowserToolset
from oxide_io.computer import AsyncComputerToolset, ComputerToolset
from oxide_io.testing import ComputerCall, OutputItems, Reply, ToolCall, ToolCalls
from oxide_proto.helpers._tool_runs import ToolDiagnostic, ToolRunnerError
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient, Setup
from tests.io.test_browser import AsyncBrowser, Browser, Pages, _payload
from tests.io.test_computer import AsyncDesktop, Desktop, Screen

pytestmark = pytest.mark.anyio

PARAMS = {"model": "computer-use-preview", "input": "Order one item"}
CLICK = {"type": "click", "button": "left", "x": 40, "y": 80}
LOOKUP = {
    "type": "function",
    "name": "lookup",
    "description": "Looks an order up.",
    "parameters": {
        "type": "object",
        "properties": {"order": {"type": "string"}},
        "required": ["order"],
        "additionalProperties": False,
    },
}


def _policy(runtime: str, answer: Callable[..., object]) -> Any:
    if runtime == "sync":
        return answer

    async def policy(*args: Any) -> object:
        await anyio.sleep(0)
        return answer(*args)

    return policy


def _noting(log: list[str], entry: str, answer: bool) -> bool:
    log.append(entry)
    return answer


def _computer(runtime: str, screen: Screen) -> Any:
    if runtime == "sync":
        return ComputerToolset(Desktop(screen))
    return AsyncComputerToolset(AsyncDesktop(screen))


def _browser(runtime: str, pages: Pages, confirm: Callable[[Any], object]) -> Any:
    def url_policy(context: Any, url: str) -> bool:
        return url.startswith("https://shop.example/")

    if runtime == "sync":
        return BrowserToolset(Browser(pages), confirm=cast(Any, confirm), url_policy=url_policy)
    return AsyncBrowserToolset(
        AsyncBrowser(pages),
        confirm=_policy(runtime, confirm),
        url_policy=_policy(runtime, url_policy),
    )


def _runner(runtime: str, **options: Any) -> Any:
    if runtime == "sync":
        return SyncResponsesToolRunner(**options)
    return AsyncResponsesToolRunner(**options)


def _lookup(runtime: str, log: list[str]) -> Any:
    def body(arguments: dict[str, Any]) -> str:
        log.append(f"lookup {arguments['order']}")
        return "order 7: shipped"

    if runtime == "sync":
        return SyncRegisteredFunction(LOOKUP, body)

    async def execute(arguments: dict[str, Any]) -> str:
        await anyio.sleep(0)
        return body(arguments)

    return AsyncRegisteredFunction(LOOKUP, execute)


async def _run(runtime: str, runner: Any, client: Any, params: Any, **options: Any) -> Any:
    if runtime == "sync":
        return runner.run(unwrap(client), params, **options)
    return await runner.run(client, params, **options)


def _items(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in body["input"] if item.get("type") == kind]


async def test_computer_calls_run_on_the_toolset_until_the_answer(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    server = mock.server
    server.enqueue(
        ComputerCall([CLICK, {"type": "type", "text": "hi"}], call_id="call_a"),
        ToolCalls([ToolCall("lookup", {"order": "7"}, id="call_b")]),
        Reply("Done: order 7 has shipped."),
    )
    screen = Screen()
    log: list[str] = []
    runner = _runner(
        runtime, computer=_computer(runtime, screen), functions=[_lookup(runtime, log)]
    )
    seen: list[ToolDiagnostic] = []
    response = await _run(runtime, runner, make_client(mock), PARAMS, on_diagnostic=seen.append)
    assert response.output_text == "Done: order 7 has shipped."
    assert screen.log == ["click", "type", "screenshot"]
    assert log == ["lookup 7"]
    bodies = [request.json for request in server.requests]
    assert len(bodies) == 3
    # Every request offers the function and the computer tool.
    for body in bodies:
        assert [tool["type"] for tool in body["tools"]] == ["function", "computer"]
    # The call and its screenshot are replayed in the second and third requests.
    for body in bodies[1:]:
        (call,) = _items(body, "computer_call")
        (output,) = _items(body, "computer_call_output")
        assert call["call_id"] == output["call_id"] == "call_a"
        assert output["output"]["image_url"].startswith("data:image/png;base64,")
    assert _items(bodies[2], "function_call_output")[0]["output"] == "order 7: shipped"
    # The toolset's diagnostics reach the runner's observer, between the runner's own.
    apis = [entry["api"] for entry in seen]
    assert "computer" in apis and "responses" in apis


async def test_a_declared_computer_tool_replaces_the_default_one(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(ComputerCall([CLICK], call_id="call_a"), Reply("Clicked."))
    declared = {"type": "computer_use_preview", "display_width": 800, "display_height": 600}
    declared["environment"] = "browser"
    runner = _runner(runtime, computer=_computer(runtime, Screen()))
    params = {**PARAMS, "tools": [declared]}
    response = await _run(runtime, runner, make_client(mock), params)
    assert response.output_text == "Clicked."
    for request in mock.server.requests:
        assert request.json["tools"] == [declared]


async def test_pending_safety_checks_need_approval(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    check = {"id": "sc_1", "code": "malicious_instructions", "message": "Careful."}
    mock.server.enqueue(
        ComputerCall([CLICK], pending_safety_checks=[check], call_id="call_a", times=2),
        Reply("Clicked."),
    )
    screen = Screen()
    runner = _runner(runtime, computer=_computer(runtime, screen))
    client = make_client(mock)
    # Without approve_safety_checks the call does not run, and the run says so.
    with pytest.raises(ToolRunnerError) as raised:
        await _run(runtime, runner, client, PARAMS)
    assert raised.value.attempted_call_ids == ("call_a",)
    assert raised.value.completed_call_ids == ()
    assert screen.log == []
    # Approved, it runs, and the output acknowledges the checks.
    approved: list[str] = []
    response = await _run(
        runtime,
        runner,
        client,
        PARAMS,
        approve_safety_checks=_policy(runtime, lambda call: _noting(approved, call.call_id, True)),
    )
    assert response.output_text == "Clicked."
    assert approved == ["call_a"]
    assert screen.log == ["click", "screenshot"]
    (output,) = _items(mock.server.requests[-1].json, "computer_call_output")
    assert output["acknowledged_safety_checks"] == [check]


async def test_before_action_refusal_stops_before_the_action(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        ComputerCall([{"type": "move", "x": 1, "y": 2}, CLICK], call_id="call_a"),
        Reply("never sent"),
    )
    screen = Screen()
    runner = _runner(runtime, computer=_computer(runtime, screen))
    asked: list[str] = []
    with pytest.raises(ToolRunnerError) as raised:
        await _run(
            runtime,
            runner,
            make_client(mock),
            PARAMS,
            before_action=_policy(
                runtime, lambda action: _noting(asked, action.type, action.type != "click")
            ),
        )
    assert asked == ["move", "click"]
    assert screen.log == ["move"]
    assert raised.value.attempted_call_ids == ("call_a",)
    assert raised.value.completed_call_ids == ()
    assert len(mock.server.requests) == 1


async def test_browser_tools_run_on_the_toolset(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    server = mock.server
    server.enqueue(
        ToolCalls(
            [
                ToolCall("browser_click", {"target": "terms", "tab_id": "t1"}, id="call_ok"),
                # A target the page lacks: the model reads the error, the run goes on.
                ToolCall("browser_click", {"target": "nowhere", "tab_id": "t1"}, id="call_bad"),
            ]
        ),
        Reply("Accepted the terms."),
    )
    pages = Pages()
    confirmed: list[str] = []
    browser = _browser(runtime, pages, lambda context: _noting(confirmed, context["call_id"], True))
    runner = _runner(runtime, browser=browser)
    response = await _run(runtime, runner, make_client(mock), PARAMS)
    assert response.output_text == "Accepted the terms."
    assert pages.checked is True
    assert pages.log == ["click", "click"]
    assert confirmed == ["call_ok", "call_bad"]
    first, second = (request.json for request in server.requests)
    offered = {tool["name"] for tool in first["tools"]}
    assert {"browser_click", "browser_list_tabs"} <= offered
    outputs = {item["call_id"]: item for item in _items(second, "function_call_output")}
    assert set(outputs) == {"call_ok", "call_bad"}
    assert _payload(outputs["call_ok"])["ok"] is True
    assert _payload(outputs["call_bad"])["ok"] is False


async def test_a_computer_call_without_a_computer_stops_before_running_anything(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        OutputItems(
            [
                {
                    "type": "function_call",
                    "call_id": "call_f",
                    "name": "lookup",
                    "arguments": '{"order": "7"}',
                    "status": "completed",
                },
                {
                    "type": "computer_call",
                    "call_id": "call_c",
                    "status": "completed",
                    "actions": [CLICK],
                    "pending_safety_checks": [],
                },
            ]
        )
    )
    log: list[str] = []
    runner = _runner(runtime, functions=[_lookup(runtime, log)])
    with pytest.raises(ToolRunnerError, match="no computer is registered") as raised:
        await _run(runtime, runner, make_client(mock), PARAMS)
    assert log == []
    assert raised.value.attempted_call_ids == ()


async def test_a_malformed_computer_call_runs_nothing(
    runtime: str, make_client: MakeClient, mock: Setup
) -> None:
    mock.server.enqueue(
        OutputItems(
            [
                {
                    "type": "computer_call",
                    "call_id": "call_c",
                    "status": "completed",
                    "actions": [CLICK],
                    "pending_safety_checks": [],
                },
                {
                    "type": "computer_call",
                    "call_id": "call_d",
                    "status": "completed",
                    "actions": [{"type": "click", "button": "middle-ish", "x": 1, "y": 1}],
                    "pending_safety_checks": [],
                },
            ]
        )
    )
    screen = Screen()
    runner = _runner(runtime, computer=_computer(runtime, screen))
    with pytest.raises(ToolRunnerError, match="computer call cannot run"):
        await _run(runtime, runner, make_client(mock), PARAMS)
    assert screen.log == []


def test_toolsets_are_checked_when_the_runner_is_made() -> None:
    pages = Pages()
    browser = BrowserToolset(
        Browser(pages), confirm=lambda context: True, url_policy=lambda context, url: False
    )
    with pytest.raises(ValueError, match="AsyncBrowserToolset"):
        AsyncResponsesToolRunner(browser=browser)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SyncComputerToolset"):
        SyncResponsesToolRunner(computer=AsyncComputerToolset(AsyncDesktop(Screen())))  # type: ignore[arg-type]
    shadow = dict(LOOKUP, name="browser_click")
    with pytest.raises(ValueError, match="browser tools"):
        SyncResponsesToolRunner(
            browser=browser, functions=[SyncRegisteredFunction(shadow, lambda arguments: "x")]
        )
    # A computer tool in params needs a registered computer toolset.
    runner = SyncResponsesToolRunner()
    with pytest.raises(ValueError, match="computer"):
        # The parameters are checked before the client is used.
        runner.run(cast(Any, None), {**PARAMS, "tools": [{"type": "computer"}]})
