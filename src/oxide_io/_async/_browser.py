"""A caller-owned browser offered to the model as function tools: `AsyncBrowserToolset`.

`toolset.tools` are the function tools to pass to `responses.create`; when the
model calls one, `await toolset.execute(call)` runs it and returns the
`function_call_output` item to send back. The toolset checks the call and the
arguments (the core's `oxide_proto.helpers._browser`), asks the caller's
policies, then calls the driver method of the same name with the checked
arguments (`driver.click({"target": ..., "tab_id": ...})`), and reads the
driver's `state()` before and after, so every output tells the model which tabs
are open (as origins, never full URLs).

Policies, each answering exactly True to allow:

- `confirm(context)` for every member that changes the page (click, type,
  navigate, ...): a toolset offering such members must have one;
- `url_policy(context, url)` for `navigate` and `new_tab` with a URL;
- `confirm_reads=[...]` makes `confirm` decide on those reads too, before
  anything is read.

A refused or failed action is an output with `ok: false` and an error the model
can read, not an exception: the model can choose another way. Invalid driver
reports, cancellation (`cancelled()`) and a closed or busy toolset raise.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol

from oxide_proto.helpers._browser import (
    NAVIGATING,
    PREFIX,
    READ_ONLY,
    BrowserCallOutput,
    BrowserCancelledError,
    BrowserConfirmContext,
    BrowserError,
    BrowserObservationV1,
    BrowserReadConfirmContext,
    BrowserReadV1,
    BrowserSelection,
    BrowserState,
    ClickInput,
    NavigateInput,
    ReadPageInput,
    TabInput,
    browser_arguments,
    browser_output,
    browser_result,
    browser_state,
    browser_tools,
    check_policies,
    read_refused_output,
)
from oxide_proto.types.responses import ResponseFunctionToolCall

from .._toolsets import (
    Admission,
    CloseStatus,
    Reason,
    ToolDiagnosticObserver,
    check_flavor,
    emit,
    invoke,
    now,
    refuse_awaitable,
)

__all__ = [
    "AsyncBrowserClickDriver",
    "AsyncBrowserDriver",
    "AsyncBrowserNavigationDriver",
    "AsyncBrowserReadDriver",
    "AsyncBrowserScreenshotDriver",
    "AsyncBrowserToolset",
]


class AsyncBrowserDriver(Protocol):
    """The browser: `state()` reports its tabs; each member it supports is a method of that name.

    A member method takes the checked arguments (a dict) and returns None, a
    string, or what the member defines (a read report, an `input_image`, a file
    outcome). Raising `BrowserError` sends its message to the model; any other
    exception becomes "Browser action failed.".
    """

    async def state(self) -> BrowserState: ...


class AsyncBrowserReadDriver(AsyncBrowserDriver, Protocol):
    async def read_page(self, action: ReadPageInput) -> str | BrowserReadV1 | None: ...


class AsyncBrowserNavigationDriver(AsyncBrowserDriver, Protocol):
    async def navigate(self, action: NavigateInput) -> None: ...


class AsyncBrowserClickDriver(AsyncBrowserDriver, Protocol):
    async def click(self, action: ClickInput) -> None: ...


class AsyncBrowserScreenshotDriver(AsyncBrowserDriver, Protocol):
    async def screenshot(self, action: TabInput) -> dict[str, object]: ...


# Which methods a driver must have, and the toolset to use for the other kind.
# unasync: _ASYNCHRONOUS = False
_ASYNCHRONOUS = True
# unasync: _OTHER = "AsyncBrowserToolset"
_OTHER = "BrowserToolset"
# The diagnostic reason of a BrowserError (a refusal) and of any other failure, by stage.
_REFUSED: dict[str, Reason] = {
    "arguments": "invalid_input",
    "approval": "refused",
    "action": "driver_failed",
}
_FAILED: dict[str, Reason] = {
    "arguments": "invalid_input",
    "approval": "policy_failed",
    "action": "driver_failed",
}


def _stop_if_cancelled(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise BrowserCancelledError("Browser execution was cancelled")


class AsyncBrowserToolset:
    """Offers `driver` as browser function tools (see the module docstring)."""

    def __init__(
        self,
        driver: AsyncBrowserDriver,
        *,
        members: Sequence[str] | None = None,
        additional_members: Sequence[str] | None = None,
        confirm_reads: Sequence[str] | None = None,
        confirm: Callable[[BrowserConfirmContext], Awaitable[bool]]
        | Callable[[BrowserConfirmContext | BrowserReadConfirmContext], Awaitable[bool]]
        | None = None,
        url_policy: Callable[[BrowserConfirmContext, str], Awaitable[bool]] | None = None,
    ) -> None:
        selection = BrowserSelection(members, additional_members, confirm_reads)
        state = getattr(driver, "state", None)
        if not callable(state):
            raise ValueError("the browser driver needs a state() method")
        check_flavor(state, "state", asynchronous=_ASYNCHRONOUS, use=_OTHER)
        handlers: dict[str, Callable[..., Any]] = {}
        for member in selection.offered:
            method = getattr(driver, member, None)
            if member != "list_tabs" and callable(method):
                check_flavor(method, member, asynchronous=_ASYNCHRONOUS, use=_OTHER)
                handlers[member] = method
        enabled = selection.with_driver(frozenset(handlers))
        check_policies(
            enabled,
            selection.confirm_reads,
            has_confirm=confirm is not None,
            has_url_policy=url_policy is not None,
        )
        self.driver = driver
        self.confirm = confirm
        self.url_policy = url_policy
        self._selection = selection
        self._enabled = frozenset(enabled)
        self._handlers = handlers
        self._admission = Admission("BrowserToolset")

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The function tools to pass to `responses.create(tools=...)`."""
        return browser_tools(tuple(self._enabled))

    def close(self) -> CloseStatus:
        """Refuses further calls; finish the running one before closing the driver."""
        return self._admission.close()

    async def execute(
        self,
        call: ResponseFunctionToolCall,
        *,
        cancelled: Callable[[], bool] | None = None,
        on_diagnostic: ToolDiagnosticObserver | None = None,
    ) -> BrowserCallOutput:
        """Runs one `browser_*` function call; returns its `function_call_output` item."""
        self._admission.enter()
        try:
            return await self._execute(call, cancelled, on_diagnostic)
        finally:
            self._admission.exit()

    async def _state(
        self, cancelled: Callable[[], bool] | None, previous: BrowserObservationV1 | None = None
    ) -> BrowserState:
        try:
            report = await invoke(self.driver.state, cancelled=cancelled)
            refuse_awaitable(report, "driver.state()")
            _stop_if_cancelled(cancelled)
            return browser_state(report, previous)
        except BrowserCancelledError:
            raise
        except Exception as exc:
            _stop_if_cancelled(cancelled)
            raise RuntimeError(f"Browser state report failed: {exc}") from None

    async def _allowed(
        self, policy: Callable[..., Any] | None, *args: object, cancelled: Any
    ) -> bool:
        if policy is None:
            return False
        answer = await invoke(policy, *args, cancelled=cancelled)
        refuse_awaitable(answer, "a browser policy")
        return answer is True

    async def _execute(
        self,
        call: ResponseFunctionToolCall,
        cancelled: Callable[[], bool] | None,
        on_diagnostic: ToolDiagnosticObserver | None,
    ) -> BrowserCallOutput:
        if not isinstance(call, ResponseFunctionToolCall) or not isinstance(call.call_id, str):
            raise RuntimeError("BrowserToolset executes function calls with a string call_id")
        call_id, name, arguments = call.call_id, str(call.name), str(call.arguments)
        _stop_if_cancelled(cancelled)
        if self._selection.disabled(name, self._enabled):
            raise BrowserError(f"Browser tool {name} is disabled.")
        started = now()
        member = name[len(PREFIX) :]
        if (
            call.type != "function_call"
            or call.status not in (None, "completed")
            or not name.startswith(PREFIX)
            or member not in self._enabled
        ):
            emit(on_diagnostic, "browser", "arguments", "invalid_input", started, call_id=call_id)
            return browser_output(
                call_id, None, None, None, "Browser tool is unavailable or incomplete."
            )
        if member in self._selection.confirm_reads:
            started = now()
            try:
                context: BrowserReadConfirmContext = {
                    "member": member,
                    "arguments": browser_arguments(member, arguments),
                    "state": None,
                    "call_id": call_id,
                    "phase": "before_read",
                }
                approved = await self._allowed(self.confirm, context, cancelled=cancelled)
                _stop_if_cancelled(cancelled)
            except BrowserCancelledError:
                emit(
                    on_diagnostic,
                    "browser",
                    "approval",
                    "cancelled",
                    started,
                    call_id=call_id,
                    member=member,
                )
                raise
            except Exception:
                if cancelled is not None and cancelled():
                    emit(
                        on_diagnostic,
                        "browser",
                        "approval",
                        "cancelled",
                        started,
                        call_id=call_id,
                        member=member,
                    )
                    raise BrowserCancelledError("Browser execution was cancelled") from None
                emit(
                    on_diagnostic,
                    "browser",
                    "approval",
                    "policy_failed",
                    started,
                    call_id=call_id,
                    member=member,
                )
                return read_refused_output(call_id)
            reason: Literal["completed", "refused"] = "completed" if approved else "refused"
            emit(
                on_diagnostic,
                "browser",
                "approval",
                reason,
                started,
                call_id=call_id,
                member=member,
            )
            if not approved:
                return read_refused_output(call_id)
        state = await self._state(cancelled)
        error: str | None = None
        result: object = None
        stage: Literal["arguments", "approval", "action"] = "arguments"
        started = now()
        try:
            checked = browser_arguments(member, arguments)
            context_: BrowserConfirmContext = {
                "member": member,
                "arguments": checked,
                "state": state,
                "call_id": call_id,
            }
            stage = "approval"
            started = now()
            url = checked.get("url")
            if member in NAVIGATING and isinstance(url, str):
                allowed = await self._allowed(
                    self.url_policy, copy.deepcopy(context_), url, cancelled=cancelled
                )
                if not allowed:
                    raise BrowserError("Browser navigation was not approved.")
                _stop_if_cancelled(cancelled)
            if member not in READ_ONLY:
                allowed = await self._allowed(
                    self.confirm, copy.deepcopy(context_), cancelled=cancelled
                )
                if not allowed:
                    raise BrowserError(
                        "Browser action was not approved. Do not retry it unless the user asks."
                    )
                _stop_if_cancelled(cancelled)
                emit(
                    on_diagnostic,
                    "browser",
                    "approval",
                    "completed",
                    started,
                    call_id=call_id,
                    member=member,
                )
            stage = "action"
            started = now()
            if member != "list_tabs":
                _stop_if_cancelled(cancelled)
                result = await invoke(
                    self._handlers[member], copy.deepcopy(checked), cancelled=cancelled
                )
                refuse_awaitable(result, f"driver.{member}()")
        except BrowserCancelledError:
            emit(
                on_diagnostic,
                "browser",
                stage,
                "cancelled",
                started,
                call_id=call_id,
                member=member,
            )
            raise
        except BrowserError as exc:
            emit(
                on_diagnostic,
                "browser",
                stage,
                _REFUSED[stage],
                started,
                call_id=call_id,
                member=member,
            )
            error = str(exc)
        except Exception:
            emit(
                on_diagnostic,
                "browser",
                stage,
                _FAILED[stage],
                started,
                call_id=call_id,
                member=member,
            )
            error = "Browser action failed."
        else:
            try:
                result = browser_result(member, result)
            finally:
                _stop_if_cancelled(cancelled)
            emit(
                on_diagnostic,
                "browser",
                "action",
                "completed",
                started,
                call_id=call_id,
                member=member,
            )
        _stop_if_cancelled(cancelled)
        after = await self._state(cancelled, state.get("observation"))
        _stop_if_cancelled(cancelled)
        return browser_output(call_id, member, after, result, error)
