"""Computer use on your own machine or browser: `ComputerToolset` and `AsyncComputerToolset`.

    from oxide_io import Client
    from oxide_io.computer import ComputerToolset

    response = ComputerToolset(driver).run(
        Client(), {"model": "gpt-5.5", "input": "Open the settings page"}
    )
    print(response.output_text)

The model answers the Responses computer tool with `computer_call` items (click,
type, scroll, ...). The toolset runs them on `driver`, an object with one method
per action type (`ComputerDriver`), sends the screenshot taken after each batch
back as the call's output and repeats until the model gives a final answer.
Safety checks stop the run unless `approve_safety_checks` approves them, and
`before_action` can confirm each action first. These are the official SDK's
`openai.lib.computer` helpers, with the same names and arguments.

The async toolset (asyncio or trio) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxide_proto.helpers._computer import ComputerAction as ComputerAction
from oxide_proto.helpers._computer import ComputerCallOutput as ComputerCallOutput
from oxide_proto.helpers._computer import ComputerScreenshot as Screenshot
from oxide_proto.helpers._computer import ComputerUseError as ComputerUseError

from ._sync._computer import SyncComputerDriver as ComputerDriver
from ._sync._computer import SyncComputerToolset as ComputerToolset
from ._toolsets import CloseStatus as CloseStatus
from ._toolsets import ToolDiagnostic as ToolDiagnostic
from ._toolsets import ToolDiagnosticObserver as ToolDiagnosticObserver

if TYPE_CHECKING:
    from ._async._computer import AsyncComputerDriver as AsyncComputerDriver
    from ._async._computer import AsyncComputerToolset as AsyncComputerToolset

# The official name of an action as the toolset hands it to a driver or callback.
ComputerActionInput = ComputerAction

__all__ = [
    "AsyncComputerDriver",
    "AsyncComputerToolset",
    "CloseStatus",
    "ComputerAction",
    "ComputerActionInput",
    "ComputerCallOutput",
    "ComputerDriver",
    "ComputerToolset",
    "ComputerUseError",
    "Screenshot",
    "ToolDiagnostic",
    "ToolDiagnosticObserver",
]


def __getattr__(name: str) -> Any:
    if name in ("AsyncComputerDriver", "AsyncComputerToolset"):
        from ._async import _computer

        value = getattr(_computer, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
