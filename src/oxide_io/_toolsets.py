"""What the computer and browser toolsets share on the I/O side: admission, callbacks, diagnostics.

- `Admission`: a toolset runs one call at a time and refuses new ones once closed
  (`close()` says whether a call is still draining). A lock, so a blocking toolset
  shared between threads refuses a second caller instead of interleaving drivers.
- `invoke(handler, *args, cancelled=...)`: calls a driver method or a policy
  callback, passing `cancelled` only to a callable that declares it, so a driver
  can bound its own waits without every driver having to accept it.
- `check_flavor`: a driver whose methods are coroutines given to the blocking
  toolset (or plain functions given to the async one) is refused when the toolset
  is made, not half way through a run.
- `emit(...)`: content-free diagnostics (which stage, why, how long) for a
  caller's observer; an observer that raises never changes the run.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeAlias, TypedDict

# One diagnostic record for the toolsets and the tool runners, so an observer given
# to a runner also takes what a toolset running inside it reports.
from oxide_proto.helpers._tool_runs import ToolDiagnostic, ToolDiagnosticObserver

__all__ = [
    "Admission",
    "CloseStatus",
    "Reason",
    "ToolDiagnostic",
    "ToolDiagnosticObserver",
    "check_flavor",
    "emit",
    "invoke",
    "refuse_awaitable",
]


class CloseStatus(TypedDict):
    """`"closed"`, or `"draining"` while a call admitted before `close()` still runs."""

    status: Literal["closed", "draining"]


Stage: TypeAlias = Literal["arguments", "approval", "action"]
Reason: TypeAlias = Literal[
    "completed", "refused", "cancelled", "invalid_input", "driver_failed", "policy_failed"
]


class Admission:
    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False

    def enter(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is closed")
            if self._busy:
                raise RuntimeError(f"{self._name} is already running a call")
            self._busy = True

    def exit(self) -> None:
        with self._lock:
            self._busy = False

    def close(self) -> CloseStatus:
        with self._lock:
            self._closed = True
            return {"status": "draining" if self._busy else "closed"}


def invoke(handler: Callable[..., Any], *args: object, cancelled: Callable[[], bool] | None) -> Any:
    try:
        parameters = inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return handler(*args)
    wanted = parameters.get("cancelled")
    if wanted is not None and wanted.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        return handler(*args, cancelled=cancelled)
    return handler(*args)


def _returns_awaitable(method: Callable[..., object]) -> bool | None:
    """True for a coroutine function, False for a plain one, None when it cannot be told."""
    target = inspect.unwrap(method)
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)  # noqa: B004  (a callable object's method)
    if (
        not inspect.isroutine(target)
        and call is not None
        and inspect.iscoroutinefunction(inspect.unwrap(call))
    ):
        return True
    try:
        annotation = inspect.signature(target).return_annotation
    except (TypeError, ValueError):
        return None
    if annotation is inspect.Signature.empty or annotation in (Any, object, "Any", "object"):
        return None
    text = str(annotation)
    return any(name in text for name in ("Awaitable[", "Coroutine[", "Future["))


def check_flavor(method: Callable[..., object], what: str, *, asynchronous: bool, use: str) -> None:
    found = _returns_awaitable(method)
    if found is not None and found != asynchronous:
        kind = "a coroutine function" if found else "a plain function"
        raise ValueError(f"the driver's {what}() is {kind}: use {use}")


def refuse_awaitable(value: object, what: str) -> None:
    """Refuses an awaitable where a value was due: a coroutine method given to a blocking
    toolset (use its Async twin), or an awaitable returned by an awaited one."""
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()
        raise RuntimeError(
            f"{what} returned an awaitable: a blocking toolset needs plain methods and"
            " callbacks, an Async toolset coroutines that return the value"
        )


def emit(
    observer: ToolDiagnosticObserver | None,
    api: Literal["browser", "computer"],
    stage: Stage,
    reason: Reason,
    started: float,
    *,
    call_id: str | None = None,
    member: str | None = None,
) -> None:
    if observer is None:
        return
    diagnostic: ToolDiagnostic = {
        "api": api,
        "stage": stage,
        "reason": reason,
        "call_id": call_id,
        "member": member,
        "duration_ms": max(0.0, (time.monotonic() - started) * 1000),
        "usage": None,
    }
    try:
        result: object = observer(diagnostic)
        if inspect.iscoroutine(result):
            result.close()
    except Exception:  # an observer's failure is its own; the run goes on
        pass


def now() -> float:
    return time.monotonic()
