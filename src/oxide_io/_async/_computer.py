"""The computer-use loop on a caller-owned driver: `AsyncComputerToolset`.

The model asks for actions in `computer_call` items; this toolset runs each one
on the driver (`driver.click(action)`, `driver.type(action)`, ...), takes one
screenshot after the batch and sends it back as the call's output, until the
model answers with a final message (`run`). `execute(call)` runs a single call,
for applications that keep their own loop. What to send and what to run is
decided by the core's `ComputerRun` / `computer_actions`; this module only calls
the client, the driver and the caller's policy callbacks, in order:

- a call with pending safety checks runs only if `approve_safety_checks(call)`
  returns exactly True (without it, such a call stops the run);
- `before_action(action)`, when given, must return exactly True before each
  action, the final screenshot included;
- `cancelled()` is checked between every request, callback and driver call
  (drivers that take a `cancelled` keyword receive it to bound their own waits).

The toolset opens no browser and owns no machine: the driver does, and the caller
cleans it up. A toolset runs one call at a time; `close()` refuses new ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from oxide_proto.helpers._computer import (
    COMPUTER_MEMBERS,
    ComputerAction,
    ComputerCallOutput,
    ComputerRun,
    ComputerScreenshot,
    ComputerUseError,
    computer_actions,
    computer_call_output,
    owned_computer_call,
)
from oxide_proto.types.responses import (
    ClickParam,
    DoubleClickAction,
    DragParam,
    KeyPressAction,
    MoveParam,
    Response,
    ResponseComputerToolCall,
    ScrollParam,
    TypeParam,
    WaitParam,
)

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
from ._clients import AsyncClient

__all__ = ["AsyncComputerDriver", "AsyncComputerToolset"]


class AsyncComputerDriver(Protocol):
    """The machine or browser the model acts on: one method per action type.

    Each method receives the action (coordinates are in the screenshot's pixels)
    and must raise if it cannot perform it; `screenshot()` returns
    `{"type": "computer_screenshot", "image_url": "data:image/png;base64,..."}`
    (or a `file_id`). Permissions, bounds and cleanup are the driver's.
    """

    async def click(self, action: ClickParam) -> None: ...
    async def double_click(self, action: DoubleClickAction) -> None: ...
    async def drag(self, action: DragParam) -> None: ...
    async def keypress(self, action: KeyPressAction) -> None: ...
    async def move(self, action: MoveParam) -> None: ...
    async def scroll(self, action: ScrollParam) -> None: ...
    async def type(self, action: TypeParam) -> None: ...
    async def wait(self, action: WaitParam) -> None: ...
    async def screenshot(self) -> ComputerScreenshot: ...


def _handlers(driver: object) -> dict[str, Callable[..., Any]]:
    handlers: dict[str, Callable[..., Any]] = {}
    for member in COMPUTER_MEMBERS:
        handler = getattr(driver, member, None)
        if not callable(handler):
            raise ValueError(f"the computer driver has no callable {member}() method")
        # unasync: check_flavor(handler, member, asynchronous=False, use="AsyncComputerToolset")
        check_flavor(handler, member, asynchronous=True, use="ComputerToolset")
        handlers[member] = handler
    return handlers


def _stop_if_cancelled(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise ComputerUseError("Computer run was cancelled")


class AsyncComputerToolset:
    """Runs the model's computer actions on `driver` (see the module docstring)."""

    def __init__(self, driver: AsyncComputerDriver) -> None:
        self.driver = driver
        self._handlers = _handlers(driver)
        self._admission = Admission("ComputerToolset")

    def close(self) -> CloseStatus:
        """Refuses further calls; the driver stays the caller's to close."""
        return self._admission.close()

    async def run(
        self,
        client: AsyncClient,
        params: Mapping[str, Any],
        *,
        max_steps: int = 20,
        approve_safety_checks: Callable[[ResponseComputerToolCall], Awaitable[bool]] | None = None,
        before_action: Callable[[ComputerAction], Awaitable[bool]] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_diagnostic: ToolDiagnosticObserver | None = None,
    ) -> Response:
        """Creates responses with `params` until the model answers; returns that response.

        `params` are `responses.create` keyword arguments with one computer tool
        (`tools` defaults to `[{"type": "computer"}]`) and the whole input; each step
        replays the previous items and the screenshots. `max_steps` bounds the number
        of responses. Raises `ComputerUseError` (with `.response`) when the run stops
        early: refused approval, cancellation, a response it cannot continue.
        """
        self._admission.enter()
        try:
            loop = ComputerRun(params, max_steps)
            response: Response | None = None
            while True:
                self._check(cancelled, response)
                request = loop.request(client.default_headers, f"oxide-{uuid.uuid4()}")
                response = await client.responses.create(**request)
                self._check(cancelled, response)
                calls = loop.calls(response)
                if not calls:
                    return response
                outputs: list[ComputerCallOutput] = []
                for call in calls:
                    try:
                        outputs.append(
                            await self._dispatch(
                                owned_computer_call(call),
                                approve_safety_checks,
                                before_action,
                                cancelled,
                                on_diagnostic,
                            )
                        )
                    except ComputerUseError as exc:
                        exc.response = response
                        raise
                loop.answer(outputs)
        finally:
            self._admission.exit()

    async def execute(
        self,
        call: ResponseComputerToolCall,
        *,
        approve_safety_checks: Callable[[ResponseComputerToolCall], Awaitable[bool]] | None = None,
        before_action: Callable[[ComputerAction], Awaitable[bool]] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_diagnostic: ToolDiagnosticObserver | None = None,
    ) -> ComputerCallOutput:
        """Runs one completed `computer_call` and returns its `computer_call_output` item."""
        self._admission.enter()
        try:
            return await self._dispatch(
                owned_computer_call(call),
                approve_safety_checks,
                before_action,
                cancelled,
                on_diagnostic,
            )
        finally:
            self._admission.exit()

    @staticmethod
    def _check(cancelled: Callable[[], bool] | None, response: Response | None) -> None:
        if cancelled is not None and cancelled():
            raise ComputerUseError("Computer run was cancelled", response)

    async def _approve(
        self,
        policy: Callable[..., Any] | None,
        argument: object,
        cancelled: Callable[[], bool] | None,
        on_diagnostic: ToolDiagnosticObserver | None,
        call_id: str,
        member: str | None,
        refusal: str,
    ) -> None:
        started = now()
        try:
            approved = (
                await invoke(policy, argument, cancelled=cancelled) if policy is not None else False
            )
            refuse_awaitable(approved, "an approval callback")
            _stop_if_cancelled(cancelled)
        except Exception:
            if cancelled is not None and cancelled():
                emit(
                    on_diagnostic,
                    "computer",
                    "approval",
                    "cancelled",
                    started,
                    call_id=call_id,
                    member=member,
                )
                raise ComputerUseError("Computer run was cancelled") from None
            emit(
                on_diagnostic,
                "computer",
                "approval",
                "policy_failed",
                started,
                call_id=call_id,
                member=member,
            )
            raise
        if approved is not True:
            emit(
                on_diagnostic,
                "computer",
                "approval",
                "refused",
                started,
                call_id=call_id,
                member=member,
            )
            raise ComputerUseError(refusal)
        emit(
            on_diagnostic,
            "computer",
            "approval",
            "completed",
            started,
            call_id=call_id,
            member=member,
        )

    async def _act(
        self,
        member: str,
        args: tuple[object, ...],
        cancelled: Callable[[], bool] | None,
        on_diagnostic: ToolDiagnosticObserver | None,
        call_id: str,
    ) -> object:
        started = now()
        try:
            result = await invoke(self._handlers[member], *args, cancelled=cancelled)
            refuse_awaitable(result, f"driver.{member}()")
            _stop_if_cancelled(cancelled)
        except Exception:
            stopped = cancelled is not None and cancelled()
            reason: Reason = "cancelled" if stopped else "driver_failed"
            emit(
                on_diagnostic, "computer", "action", reason, started, call_id=call_id, member=member
            )
            if stopped:
                raise ComputerUseError("Computer run was cancelled") from None
            raise
        emit(
            on_diagnostic,
            "computer",
            "action",
            "completed",
            started,
            call_id=call_id,
            member=member,
        )
        return result

    async def _dispatch(
        self,
        call: ResponseComputerToolCall,
        approve_safety_checks: Callable[[ResponseComputerToolCall], Awaitable[bool]] | None,
        before_action: Callable[[ComputerAction], Awaitable[bool]] | None,
        cancelled: Callable[[], bool] | None,
        on_diagnostic: ToolDiagnosticObserver | None,
    ) -> ComputerCallOutput:
        actions = computer_actions(call)
        _stop_if_cancelled(cancelled)
        if call.pending_safety_checks:
            await self._approve(
                approve_safety_checks,
                owned_computer_call(call),
                cancelled,
                on_diagnostic,
                call.call_id,
                None,
                "Computer safety checks need explicit approval (approve_safety_checks)",
            )
        for action in actions:
            _stop_if_cancelled(cancelled)
            if before_action is not None:
                await self._approve(
                    before_action,
                    type(action).from_dict(action.to_dict()),
                    cancelled,
                    on_diagnostic,
                    call.call_id,
                    action.type,
                    f"Computer action {action.type!r} was not approved",
                )
            if action.type != "screenshot":
                # Screenshots in the batch are skipped: one, after the batch, is the output.
                await self._act(action.type, (action,), cancelled, on_diagnostic, call.call_id)
        screenshot = await self._act("screenshot", (), cancelled, on_diagnostic, call.call_id)
        output = computer_call_output(call, screenshot)
        _stop_if_cancelled(cancelled)
        return output
