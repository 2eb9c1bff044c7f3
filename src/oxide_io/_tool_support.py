"""What both tool-runner drivers share: the clock, the hooks' calling rules, admission.

The decisions of a tool run are the core's (`oxide_proto.helpers._tool_runs`);
this module is the little I/O around them that is the same in the blocking and
the async driver:

- `emit_tool_diagnostic`: builds a diagnostic with the monotonic clock and hands
  it to the observer. An observer is told, never asked: whatever it raises or
  returns (a coroutine is closed unawaited) cannot change the run.
- `ToolLifecycle`: one run at a time per runner, and `close()` stops new runs
  (`CloseStatus` says whether one was still going).
- `invoke`: calls an executor, passing the run's `cancelled` callable when the
  executor declares a `cancelled` parameter, so long actions can stop early.
- `ToolRunnerCancelledError`, `DecisionsToolRunnerCancelledError`: asyncio task
  cancellation, re-raised with the ids of the calls that may already have had
  effects (still a `CancelledError`, so cancellation keeps working).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Iterable
from typing import Literal, TypedDict

from oxide_proto.helpers._tool_runs import (
    DiagnosticApi,
    DiagnosticReason,
    DiagnosticStage,
    ToolDiagnosticObserver,
    tool_diagnostic,
)

__all__ = [
    "CloseStatus",
    "DecisionsToolRunnerCancelledError",
    "ToolLifecycle",
    "ToolMisuseError",
    "close_awaitable",
    "ToolRunnerCancelledError",
    "emit_tool_diagnostic",
    "invoke",
    "refuse_awaitable",
]


def emit_tool_diagnostic(
    observer: ToolDiagnosticObserver | None,
    api: DiagnosticApi,
    stage: DiagnosticStage,
    reason: DiagnosticReason,
    started: float,
    *,
    call_id: str | None = None,
    member: str | None = None,
    usage: object = None,
) -> None:
    """Reports a stage that began at `started` (`time.monotonic()`) to `observer`, if any."""
    if observer is None:
        return
    record = tool_diagnostic(
        api,
        stage,
        reason,
        started=started,
        now=time.monotonic(),
        call_id=call_id,
        member=member,
        usage=usage,
    )
    try:
        result: object = observer(record)
    except Exception:
        # A failing observer must not turn a finished action into a failed run.
        return
    if inspect.iscoroutine(result):
        result.close()


class CloseStatus(TypedDict):
    """What `close()` found: no run going (`closed`), or one still finishing (`draining`)."""

    status: Literal["closed", "draining"]


class ToolLifecycle:
    """Admits one run at a time and none after `close()`."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._active = False
        self._closed = False

    def enter(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is closed")
            if self._active:
                raise RuntimeError(f"{self._name} is already running (one run at a time)")
            self._active = True

    def exit(self) -> None:
        with self._lock:
            self._active = False

    def close(self) -> CloseStatus:
        with self._lock:
            self._closed = True
            return {"status": "draining" if self._active else "closed"}


def _takes_cancelled(handler: Callable[..., object]) -> bool:
    try:
        parameter = inspect.signature(handler).parameters.get("cancelled")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )


def invoke(
    handler: Callable[..., object], *args: object, cancelled: Callable[[], bool] | None
) -> object:
    """`handler(*args)`, with `cancelled=` too when the handler declares that parameter."""
    if _takes_cancelled(handler) and not _filled(handler, len(args)):
        return handler(*args, cancelled=cancelled)
    return handler(*args)


def _filled(handler: Callable[..., object], given: int) -> bool:
    # True when the positional arguments already fill the `cancelled` parameter.
    names = list(inspect.signature(handler).parameters)
    return "cancelled" in names and names.index("cancelled") < given


# What a blocking runner says when given an async callback (kept here: the generated
# twin of the async driver would rename the class names inside its strings).
AWAITABLE_FUNCTION = (
    "a function returned an awaitable: register async functions with "
    "AsyncRegisteredFunction and run them with AsyncResponsesToolRunner"
)
AWAITABLE_HOOK = "a hook returned an awaitable: use AsyncResponsesToolRunner"
AWAITABLE_CALLBACK = "a callback returned an awaitable: use AsyncDecisionsToolRunner"


class ToolMisuseError(TypeError):
    """A blocking runner got an awaitable where it needs a value (an async callback)."""


def close_awaitable(value: object) -> None:
    """Closes a coroutine that will never be awaited, so it does not warn."""
    if inspect.iscoroutine(value):
        value.close()


def refuse_awaitable(value: object, message: str) -> None:
    """Raises `ToolMisuseError(message)` for an awaitable, closing a coroutine first."""
    if inspect.isawaitable(value):
        close_awaitable(value)
        raise ToolMisuseError(message)


class ToolRunnerCancelledError(asyncio.CancelledError):
    """The task running a Responses tool run was cancelled; the ids say what may have run."""

    def __init__(
        self, attempted_call_ids: Iterable[str], completed_call_ids: Iterable[str]
    ) -> None:
        super().__init__("the tool run was cancelled")
        self.attempted_call_ids: tuple[str, ...] = tuple(attempted_call_ids)
        self.completed_call_ids: tuple[str, ...] = tuple(completed_call_ids)


class DecisionsToolRunnerCancelledError(asyncio.CancelledError):
    """The task running a Decisions tool run was cancelled; the ids say what may have run."""

    def __init__(self, attempted: Iterable[str], completed: Iterable[str]) -> None:
        super().__init__("the decision run was cancelled")
        self.reason: Literal["cancelled"] = "cancelled"
        self.attempted_candidate_ids: tuple[str, ...] = tuple(attempted)
        self.completed_candidate_ids: tuple[str, ...] = tuple(completed)
