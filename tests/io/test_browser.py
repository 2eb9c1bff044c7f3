"""BrowserToolset against the mock server, in all three runtimes, with a simulated browser.

`Pages` is a small browser: tabs showing pages of a fixed site, a form with a
text field and a checkbox, and a numbered log of what changed (the observation
the toolset checks between reports). The mock server plays the model: it
answers with `browser_*` function calls, the toolset runs them, and the next
request carries the outputs, which the tests read back from the server's log.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, cast

import anyio
import pytest

from oxide_io.browser import (
    AsyncBrowserToolset,
    BrowserCancelledError,
    BrowserError,
    BrowserState,
    BrowserToolset,
)
from oxide_io.testing import Reply, ToolCall, ToolCalls
from tests.io.conftest import MakeClient, Setup

pytestmark = pytest.mark.anyio

MODEL = "gpt-test"
SITE = {
    "https://shop.example/": "Shop. Sign in to continue.",
    "https://shop.example/form": "Order form",
}


class Pages:
    """Tabs, a form and a change log: what the driver methods act on."""

    def __init__(self) -> None:
        self.tabs: list[dict[str, Any]] = [
            {"id": "t1", "title": "Shop", "url": "https://shop.example/", "active": True}
        ]
        self.changes: list[dict[str, Any]] = []
        self.field = ""
        self.checked = False
        self.log: list[str] = []
        self.broken_state = False

    def _change(self, kind: str, tab_id: str) -> None:
        self.changes.append({"type": kind, "sequence": len(self.changes) + 1, "tab_id": tab_id})

    def _tab(self, tab_id: str | None) -> dict[str, Any]:
        for tab in self.tabs:
            if tab["id"] == tab_id or (tab_id is None and tab["active"]):
                return tab
        raise BrowserError(f"No tab {tab_id}.")

    def state(self) -> BrowserState:
        if self.broken_state:
            return cast(BrowserState, {"tabs": [{"id": "t1"}]})
        report = {
            "tabs": [dict(tab) for tab in self.tabs],
            "observation": {
                "version": 1,
                "sequence": len(self.changes),
                "dropped_changes": 0,
                "title_truncated": False,
                "changes": [dict(change) for change in self.changes],
            },
        }
        return cast(BrowserState, report)

    def navigate(self, action: dict[str, Any]) -> None:
        self.log.append("navigate")
        tab = self._tab(action["tab_id"])
        if action["url"] not in SITE:
            raise BrowserError("That page does not exist.")
        tab["url"] = action["url"]
        self._change("navigation", tab["id"])

    def read_page(self, action: dict[str, Any]) -> dict[str, Any]:
        self.log.append("read_page")
        tab = self._tab(action["tab_id"])
        elements = [
            {"ref": "name", "role": "textbox", "label": "Name", "value": self.field},
            {"ref": "terms", "role": "checkbox", "label": "Accept", "checked": self.checked},
        ]
        return {"version": 1, "text": SITE[tab["url"]], "elements": elements, "omitted": []}

    def get_page_text(self, action: dict[str, Any]) -> str:
        self.log.append("get_page_text")
        return SITE[self._tab(action["tab_id"])["url"]]

    def type(self, action: dict[str, Any]) -> None:
        self.log.append("type")
        if action["target"] not in (None, "name"):
            raise RuntimeError("no such field")
        self.field += action["text"]

    def click(self, action: dict[str, Any]) -> None:
        self.log.append("click")
        if action["target"] != "terms":
            raise BrowserError(f"No element {action['target']}.")
        self.checked = not self.checked

    def screenshot(self, action: dict[str, Any]) -> dict[str, Any]:
        self.log.append("screenshot")
        picture = base64.b64encode(json.dumps([self.field, self.checked]).encode()).decode()
        return {"type": "input_image", "image_url": f"data:image/png;base64,{picture}"}

    def new_tab(self, action: dict[str, Any]) -> None:
        self.log.append("new_tab")
        for tab in self.tabs:
            tab["active"] = False
        tab_id = f"t{len(self.tabs) + 1}"
        self.tabs.append(
            {"id": tab_id, "title": "New", "url": action["url"] or "about:blank", "active": True}
        )
        self._change("tab_opened", tab_id)


class Browser:
    """A blocking driver over `Pages`."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def state(self) -> BrowserState:
        return self.pages.state()

    def navigate(self, action: dict[str, Any]) -> None:
        self.pages.navigate(action)

    def read_page(self, action: dict[str, Any]) -> dict[str, Any]:
        return self.pages.read_page(action)

    def get_page_text(self, action: dict[str, Any]) -> str:
        return self.pages.get_page_text(action)

    def type(self, action: dict[str, Any]) -> None:
        self.pages.type(action)

    def click(self, action: dict[str, Any], *, cancelled: Callable[[], bool] | None = None) -> None:
        assert cancelled is None or callable(cancelled)
        self.pages.click(action)

    def screenshot(self, action: dict[str, Any]) -> dict[str, Any]:
        return self.pages.screenshot(action)

    def new_tab(self, action: dict[str, Any]) -> None:
        self.pages.new_tab(action)


class AsyncBrowser:
    """The same driver with coroutine methods that yield to the event loop."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    async def state(self) -> BrowserState:
        await anyio.sleep(0)
        return self.pages.state()

    async def navigate(self, action: dict[str, Any]) -> None:
        await anyio.sleep(0)
        self.pages.navigate(action)

    async def read_page(self, action: dict[str, Any]) -> dict[str, Any]:
        await anyio.sleep(0)
        return self.pages.read_page(action)

    async def get_page_text(self, action: dict[str, Any]) -> str:
        await anyio.sleep(0)
        return self.pages.get_page_text(action)

    async def type(self, action: dict[str, Any]) -> None:
        await anyio.sleep(0)
        self.pages.type(action)

    async def click(
        self, action: dict[str, Any], *, cancelled: Callable[[], bool] | None = None
    ) -> None:
        await anyio.sleep(0)
        self.pages.click(action)

    async def screenshot(self, action: dict[str, Any]) -> dict[str, Any]:
        await anyio.sleep(0)
        return self.pages.screenshot(action)

    async def new_tab(self, action: dict[str, Any]) -> None:
        await anyio.sleep(0)
        self.pages.new_tab(action)


class Tools:
    """The runtime's toolset over `pages`, called the same way in every runtime."""

    def __init__(
        self,
        runtime: str,
        pages: Pages,
        *,
        confirm: Callable[[Any], object] | None = lambda context: True,
        url_policy: Callable[[Any, str], object] | None = None,
        **options: Any,
    ) -> None:
        self.sync = runtime == "sync"
        if url_policy is None:

            def url_policy(context: Any, url: str) -> bool:
                return url.startswith("https://shop.example/")

        if self.sync:
            self.toolset: Any = BrowserToolset(
                Browser(pages),
                confirm=cast(Any, confirm),
                url_policy=cast(Any, url_policy),
                **options,
            )
        else:
            self.toolset = AsyncBrowserToolset(
                AsyncBrowser(pages),
                confirm=_coroutine(confirm),
                url_policy=_coroutine(url_policy),
                **options,
            )

    async def execute(self, call: Any, **options: Any) -> Any:
        if self.sync:
            return self.toolset.execute(call, **options)
        return await self.toolset.execute(call, **options)


def _coroutine(policy: Callable[..., object] | None) -> Any:
    if policy is None:
        return None

    async def wrapped(*args: Any) -> object:
        await anyio.sleep(0)
        return policy(*args)

    return wrapped


async def _model_calls(client: Any, tools: Tools) -> list[dict[str, Any]]:
    """Lets the mock model make its scripted calls, runs them and sends the outputs back."""
    response = await client.responses.create(
        model=MODEL, input="Order one item", tools=tools.toolset.tools
    )
    outputs = [await tools.execute(item) for item in response.output]
    history = [{"role": "user", "content": "Order one item"}]
    history += [item.to_dict() for item in response.output]
    await client.responses.create(model=MODEL, input=history + outputs, tools=tools.toolset.tools)
    return outputs


def _payload(output: dict[str, Any]) -> dict[str, Any]:
    return json.loads(output["output"][0]["text"])  # type: ignore[no-any-return]


def _call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name, arguments, id=f"call_{name}")


async def test_the_model_browses_and_the_outputs_go_back(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    pages = Pages()
    tools = Tools(runtime, pages)
    mock.server.enqueue(
        ToolCalls(
            [
                _call("browser_navigate", url="https://shop.example/form", tab_id=None),
                _call("browser_type", text="Ada", target="name", tab_id=None),
                _call("browser_click", target="terms", tab_id="t1"),
                _call("browser_read_page", tab_id=None, filter="all"),
                _call("browser_screenshot", tab_id=None),
                _call("browser_list_tabs"),
            ]
        ),
        Reply("Ordered."),
    )
    client = make_client(mock)
    outputs = await _model_calls(client, tools)
    assert pages.log == ["navigate", "type", "click", "read_page", "screenshot"]
    navigate, typed, clicked, read, shot, listed = (_payload(output) for output in outputs)
    assert navigate["ok"] and navigate["result"] is None
    tab = {"id": "t1", "title": "Shop", "url": "https://shop.example", "active": True}
    assert navigate["state"]["tabs"] == [tab]
    assert navigate["state"]["observation"]["changes"] == [
        {"type": "navigation", "sequence": 1, "tab_id": "t1"}
    ]
    assert typed["ok"] and clicked["ok"]
    assert read["result"]["elements"] == [
        {"ref": "name", "role": "textbox", "label": "Name", "value": "Ada"},
        {"ref": "terms", "role": "checkbox", "label": "Accept", "checked": True},
    ]
    assert read["result"]["text"] == "Order form"
    image = outputs[4]["output"][1]
    assert json.loads(base64.b64decode(image["image_url"].split(",")[1])) == ["Ada", True]
    assert shot == {"ok": True, "state": navigate["state"]}
    assert listed == {"ok": True, "state": navigate["state"], "result": None}
    # The second request carries every output, in order, after the calls.
    sent = mock.server.requests[1].json["input"]
    assert [item["type"] for item in sent[7:]] == ["function_call_output"] * 6
    assert [item["call_id"] for item in sent[7:]] == [
        "call_browser_navigate",
        "call_browser_type",
        "call_browser_click",
        "call_browser_read_page",
        "call_browser_screenshot",
        "call_browser_list_tabs",
    ]
    tools_sent = mock.server.requests[0].json["tools"]
    assert [tool["name"] for tool in tools_sent] == [
        "browser_navigate",
        "browser_read_page",
        "browser_get_page_text",
        "browser_click",
        "browser_type",
        "browser_screenshot",
        "browser_new_tab",
        "browser_list_tabs",
    ]


async def test_policies_decide_and_refusals_reach_the_model(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    pages = Pages()
    contexts: list[Any] = []

    def confirm(context: Any) -> object:
        contexts.append(context)
        return context["member"] != "click" and "yes"  # truthy, not True: still a refusal

    tools = Tools(runtime, pages, confirm=confirm)
    mock.server.enqueue(
        ToolCalls(
            [
                _call("browser_navigate", url="https://elsewhere.example/", tab_id=None),
                _call("browser_click", target="terms", tab_id=None),
                _call("browser_get_page_text", tab_id=None),
            ]
        ),
        Reply("ok"),
    )
    outputs = [_payload(output) for output in await _model_calls(make_client(mock), tools)]
    assert outputs[0]["ok"] is False
    assert outputs[0]["error"] == "Browser navigation was not approved."
    assert outputs[1]["error"].startswith("Browser action was not approved.")
    # Reads need no approval.
    assert outputs[2] == {
        "ok": True,
        "state": outputs[2]["state"],
        "result": "Shop. Sign in to continue.",
    }
    assert pages.log == ["get_page_text"]
    assert [context["member"] for context in contexts] == ["click"]
    assert contexts[0]["arguments"] == {"target": "terms", "tab_id": None}
    assert contexts[0]["call_id"] == "call_browser_click"
    assert contexts[0]["state"]["tabs"][0]["url"] == "https://shop.example"


async def test_confirm_reads_asks_before_reading(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    pages = Pages()
    asked: list[Any] = []

    def confirm(context: Any) -> bool:
        asked.append(context)
        return bool(context["member"] != "get_page_text")

    tools = Tools(runtime, pages, confirm=confirm, confirm_reads=["get_page_text", "read_page"])
    mock.server.enqueue(
        ToolCalls(
            [
                _call("browser_get_page_text", tab_id=None),
                _call("browser_read_page", tab_id=None, filter="interactive"),
            ]
        ),
        Reply("ok"),
    )
    refused, read = await _model_calls(make_client(mock), tools)
    assert _payload(refused) == {"ok": False, "error": "Browser read was not approved."}
    assert _payload(read)["ok"] is True
    assert pages.log == ["read_page"]
    assert asked[0] == {
        "member": "get_page_text",
        "arguments": {"tab_id": None},
        "state": None,
        "call_id": "call_browser_get_page_text",
        "phase": "before_read",
    }


async def test_driver_errors_and_bad_arguments_are_outputs(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    pages = Pages()
    diagnostics: list[Any] = []
    tools = Tools(runtime, pages)
    mock.server.enqueue(
        ToolCalls(
            [
                _call("browser_click", target="nowhere", tab_id=None),
                _call("browser_type", text="x", target="missing", tab_id=None),
                ToolCall("browser_click", '{"target": 3, "tab_id": null}', id="c_bad"),
                ToolCall("browser_click", "not json", id="c_json"),
                _call("get_weather", city="Paris"),
            ]
        ),
        Reply("ok"),
    )
    response = await make_client(mock).responses.create(
        model=MODEL, input="go", tools=tools.toolset.tools
    )
    outputs = [
        _payload(await tools.execute(item, on_diagnostic=diagnostics.append))
        for item in response.output
    ]
    assert [output.get("error") for output in outputs] == [
        "No element nowhere.",  # a BrowserError's text goes to the model
        "Browser action failed.",  # any other exception does not
        "Browser argument target has an invalid value.",
        "Browser arguments must be valid JSON.",
        "Browser tool is unavailable or incomplete.",
    ]
    assert "state" not in outputs[4]
    assert [(d["stage"], d["reason"]) for d in diagnostics] == [
        ("approval", "completed"),
        ("action", "driver_failed"),
        ("approval", "completed"),
        ("action", "driver_failed"),
        ("arguments", "invalid_input"),
        ("arguments", "invalid_input"),
        ("arguments", "invalid_input"),
    ]


async def test_what_the_toolset_refuses_to_run(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    pages = Pages()
    tools = Tools(runtime, pages, members=["get_page_text", "list_tabs"], confirm=None)
    mock.server.enqueue(
        ToolCalls([_call("browser_click", target="terms", tab_id=None)]),
        ToolCalls([_call("browser_get_page_text", tab_id=None)], times=2),
    )
    client = make_client(mock)
    response = await client.responses.create(model=MODEL, input="go", tools=tools.toolset.tools)
    with pytest.raises(BrowserError, match="browser_click is disabled"):
        await tools.execute(response.output[0])
    # A driver whose state report is broken stops the call: the model sees nothing made up.
    pages.broken_state = True
    response = await client.responses.create(model=MODEL, input="go", tools=tools.toolset.tools)
    with pytest.raises(RuntimeError, match="state report"):
        await tools.execute(response.output[0])
    pages.broken_state = False
    with pytest.raises(BrowserCancelledError):
        await tools.execute(response.output[0], cancelled=lambda: True)
    response = await client.responses.create(model=MODEL, input="go", tools=tools.toolset.tools)
    assert tools.toolset.close() == {"status": "closed"}
    with pytest.raises(RuntimeError, match="closed"):
        await tools.execute(response.output[0])
    assert pages.log == []


def test_construction_checks_drivers_and_policies() -> None:
    pages = Pages()
    with pytest.raises(ValueError, match="confirm"):
        BrowserToolset(Browser(pages), url_policy=lambda context, url: True)
    with pytest.raises(ValueError, match="url_policy"):
        BrowserToolset(Browser(pages), confirm=lambda context: True)
    with pytest.raises(ValueError, match="does not implement run_script"):
        BrowserToolset(Browser(pages), additional_members=["run_script"], confirm=lambda c: True)
    with pytest.raises(ValueError, match="AsyncBrowserToolset"):
        BrowserToolset(AsyncBrowser(pages), members=["get_page_text"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="use BrowserToolset"):
        AsyncBrowserToolset(Browser(pages), members=["get_page_text"])  # type: ignore[arg-type]
    reader = BrowserToolset(Browser(pages), members=["get_page_text", "screenshot"])
    assert [tool["name"] for tool in reader.tools] == [
        "browser_get_page_text",
        "browser_screenshot",
    ]
