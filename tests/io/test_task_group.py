"""The backends' task groups raise what a task raised, as itself, on every runtime.

`run` and `arun` keep their workers in these groups, so what a caller's
`except` sees is decided here: the first error a task raised (not an exception
group, which `except OSError` would not catch), with the other tasks' errors
named in its notes.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import anyio
import pytest

from oxide_io._backends._anyio import AsyncTaskGroup
from oxide_io._backends._sync import SyncTaskGroup

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

pytestmark = pytest.mark.anyio


async def _in_group(runtime: str, tasks: list[Any]) -> None:
    """Runs `tasks` (functions that raise, or wait until the group is cancelled)
    in the runtime's task group."""
    if runtime == "sync":
        with SyncTaskGroup() as threads:
            for number, task in enumerate(tasks):

                def work(task: Any = task) -> None:
                    task(threads)

                threads.start_soon(work, name=f"t{number}")
        return
    async with AsyncTaskGroup() as group:
        for number, task in enumerate(tasks):

            async def run(task: Any = task) -> None:
                task(group)
                while not group.cancelled():
                    await anyio.sleep(0.01)

            group.start_soon(run, name=f"t{number}")


def _fail(error: BaseException) -> Any:
    def task(group: Any) -> None:
        raise error

    return task


def _wait(group: Any) -> None:
    if isinstance(group, SyncTaskGroup):
        for _ in range(1000):  # at most 10 s
            if group.cancelled():
                return
            threading.Event().wait(0.01)


async def test_one_error_is_raised_as_itself(runtime: str) -> None:
    error = OSError(28, "No space left on device")
    with pytest.raises(OSError) as caught:
        await _in_group(runtime, [_wait, _fail(error), _wait])
    assert caught.value is error and not getattr(error, "__notes__", None)


async def test_errors_of_several_tasks_are_one_error_with_notes(runtime: str) -> None:
    errors = [ValueError("first"), KeyError("second")]
    # Both raise before either can be cancelled.
    with pytest.raises((ValueError, KeyError)) as caught:
        await _in_group(runtime, [_fail(errors[0]), _fail(errors[1])])
    other = errors[1] if caught.value is errors[0] else errors[0]
    assert caught.value in errors
    assert getattr(caught.value, "__notes__", []) == [
        f"another task raised {type(other).__name__}: {other}"
    ]


async def test_a_group_of_a_tasks_own_is_not_unwrapped(runtime: str) -> None:
    inner = ExceptionGroup("the task's own", [ValueError("a"), ValueError("b")])
    with pytest.raises(ExceptionGroup) as caught:
        await _in_group(runtime, [_fail(inner), _wait])
    # (trio hands on a copy of it.)
    assert caught.value.message == "the task's own"
    assert [str(error) for error in caught.value.exceptions] == ["a", "b"]
