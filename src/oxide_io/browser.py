"""A browser you own, offered to the model as function tools: `BrowserToolset` and its async twin.

    from oxide_io.browser import BrowserToolset

    browser = BrowserToolset(driver, confirm=ask_user, url_policy=allow_intranet)
    response = client.responses.create(model="gpt-5.5", input=..., tools=browser.tools)
    for call in response.output:
        if call.type == "function_call" and call.name.startswith("browser_"):
            outputs.append(browser.execute(call))

The driver is your object: `state()` reports the tabs, and each member it
supports (`navigate`, `read_page`, `click`, `type`, `screenshot`, ...) is a
method taking the checked arguments. The toolset defines the tools, checks the
model's arguments and the driver's results, asks `confirm` before anything that
changes the page and `url_policy` before loading a URL, and answers with the
`function_call_output` to send back. These are the official SDK's
`openai.lib.browser` helpers, with the same names and arguments.

The async toolset (asyncio or trio) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxide_proto.helpers._browser import BROWSER_MEMBERS as BROWSER_MEMBERS
from oxide_proto.helpers._browser import DEFAULT_BROWSER_MEMBERS as DEFAULT_BROWSER_MEMBERS
from oxide_proto.helpers._browser import BrowserCallOutput as BrowserCallOutput
from oxide_proto.helpers._browser import BrowserCancelledError as BrowserCancelledError
from oxide_proto.helpers._browser import BrowserConfirmContext as BrowserConfirmContext
from oxide_proto.helpers._browser import BrowserDialogDismissed as BrowserDialogDismissed
from oxide_proto.helpers._browser import BrowserDownload as BrowserDownload
from oxide_proto.helpers._browser import BrowserError as BrowserError
from oxide_proto.helpers._browser import BrowserFileInput as BrowserFileInput
from oxide_proto.helpers._browser import BrowserFileOutcome as BrowserFileOutcome
from oxide_proto.helpers._browser import BrowserNavigationRefused as BrowserNavigationRefused
from oxide_proto.helpers._browser import BrowserObservationV1 as BrowserObservationV1
from oxide_proto.helpers._browser import BrowserPoint as BrowserPoint
from oxide_proto.helpers._browser import BrowserReadConfirmContext as BrowserReadConfirmContext
from oxide_proto.helpers._browser import BrowserReadElement as BrowserReadElement
from oxide_proto.helpers._browser import BrowserReadOption as BrowserReadOption
from oxide_proto.helpers._browser import BrowserReadScope as BrowserReadScope
from oxide_proto.helpers._browser import BrowserReadV1 as BrowserReadV1
from oxide_proto.helpers._browser import BrowserScopedReadV1 as BrowserScopedReadV1
from oxide_proto.helpers._browser import BrowserState as BrowserState
from oxide_proto.helpers._browser import BrowserStateChange as BrowserStateChange
from oxide_proto.helpers._browser import BrowserTab as BrowserTab
from oxide_proto.helpers._browser import BrowserTabChange as BrowserTabChange
from oxide_proto.helpers._browser import ClickAtInput as ClickAtInput
from oxide_proto.helpers._browser import ClickInput as ClickInput
from oxide_proto.helpers._browser import DragPathInput as DragPathInput
from oxide_proto.helpers._browser import FindInput as FindInput
from oxide_proto.helpers._browser import HoldKeysInput as HoldKeysInput
from oxide_proto.helpers._browser import HoverAtInput as HoverAtInput
from oxide_proto.helpers._browser import KeyInput as KeyInput
from oxide_proto.helpers._browser import NavigateInput as NavigateInput
from oxide_proto.helpers._browser import NewTabInput as NewTabInput
from oxide_proto.helpers._browser import ReadDiagnosticsInput as ReadDiagnosticsInput
from oxide_proto.helpers._browser import ReadPageInput as ReadPageInput
from oxide_proto.helpers._browser import ReadPageScopedInput as ReadPageScopedInput
from oxide_proto.helpers._browser import RunScriptInput as RunScriptInput
from oxide_proto.helpers._browser import ScrollInput as ScrollInput
from oxide_proto.helpers._browser import SelectOptionInput as SelectOptionInput
from oxide_proto.helpers._browser import SetCheckedInput as SetCheckedInput
from oxide_proto.helpers._browser import TabInput as TabInput
from oxide_proto.helpers._browser import TypeInput as TypeInput
from oxide_proto.helpers._browser import WaitForInput as WaitForInput
from oxide_proto.helpers._browser import ZoomInput as ZoomInput

from ._sync._browser import SyncBrowserClickDriver as BrowserClickDriver
from ._sync._browser import SyncBrowserDriver as BrowserDriver
from ._sync._browser import SyncBrowserNavigationDriver as BrowserNavigationDriver
from ._sync._browser import SyncBrowserReadDriver as BrowserReadDriver
from ._sync._browser import SyncBrowserScreenshotDriver as BrowserScreenshotDriver
from ._sync._browser import SyncBrowserToolset as BrowserToolset

if TYPE_CHECKING:
    from ._async._browser import AsyncBrowserClickDriver as AsyncBrowserClickDriver
    from ._async._browser import AsyncBrowserDriver as AsyncBrowserDriver
    from ._async._browser import AsyncBrowserNavigationDriver as AsyncBrowserNavigationDriver
    from ._async._browser import AsyncBrowserReadDriver as AsyncBrowserReadDriver
    from ._async._browser import AsyncBrowserScreenshotDriver as AsyncBrowserScreenshotDriver
    from ._async._browser import AsyncBrowserToolset as AsyncBrowserToolset

_ASYNC = frozenset(
    {
        "AsyncBrowserClickDriver",
        "AsyncBrowserDriver",
        "AsyncBrowserNavigationDriver",
        "AsyncBrowserReadDriver",
        "AsyncBrowserScreenshotDriver",
        "AsyncBrowserToolset",
    }
)

__all__ = [
    "BROWSER_MEMBERS",
    "DEFAULT_BROWSER_MEMBERS",
    "AsyncBrowserClickDriver",
    "AsyncBrowserDriver",
    "AsyncBrowserNavigationDriver",
    "AsyncBrowserReadDriver",
    "AsyncBrowserScreenshotDriver",
    "AsyncBrowserToolset",
    "BrowserCallOutput",
    "BrowserCancelledError",
    "BrowserClickDriver",
    "BrowserConfirmContext",
    "BrowserDialogDismissed",
    "BrowserDownload",
    "BrowserDriver",
    "BrowserError",
    "BrowserFileInput",
    "BrowserFileOutcome",
    "BrowserNavigationDriver",
    "BrowserNavigationRefused",
    "BrowserObservationV1",
    "BrowserPoint",
    "BrowserReadConfirmContext",
    "BrowserReadDriver",
    "BrowserReadElement",
    "BrowserReadOption",
    "BrowserReadScope",
    "BrowserReadV1",
    "BrowserScopedReadV1",
    "BrowserScreenshotDriver",
    "BrowserState",
    "BrowserStateChange",
    "BrowserTab",
    "BrowserTabChange",
    "BrowserToolset",
    "ClickAtInput",
    "ClickInput",
    "DragPathInput",
    "FindInput",
    "HoldKeysInput",
    "HoverAtInput",
    "KeyInput",
    "NavigateInput",
    "NewTabInput",
    "ReadDiagnosticsInput",
    "ReadPageInput",
    "ReadPageScopedInput",
    "RunScriptInput",
    "ScrollInput",
    "SelectOptionInput",
    "SetCheckedInput",
    "TabInput",
    "TypeInput",
    "WaitForInput",
    "ZoomInput",
]


def __getattr__(name: str) -> Any:
    if name in _ASYNC:
        from ._async import _browser

        value = getattr(_browser, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
