"""A bulk job's progress on the terminal (stderr), drawn by rich when it is installed.

Done / failed / in flight / rate / ETA on one live line; without rich, or when
stderr is not a terminal and nobody asked for it, nothing is drawn. The runner
calls the display like any progress callback, and closes it at the end.
"""

from __future__ import annotations

from typing import Any

from ._bulk_files import BulkProgress

__all__ = ["BulkDisplay"]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def describe(progress: BulkProgress) -> str:
    """The status line: "1200/5000 done, 3 failed, 32 in flight, 41.5/s, ETA 1:32"."""
    return (
        f"{progress.done}/{progress.total} done, {progress.failed} failed, "
        f"{progress.in_flight} in flight, {progress.rate:.1f}/s, ETA {_duration(progress.eta)}"
    )


class BulkDisplay:
    """A live progress bar; `BulkDisplay.open()` returns None when rich is missing."""

    def __init__(self, live: Any, task: Any) -> None:
        self._live = live
        self._task = task

    @classmethod
    def open(cls, label: str = "bulk") -> BulkDisplay | None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn
        except ImportError:
            return None
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            console=Console(stderr=True),
            transient=False,
        )
        bar.start()
        task = bar.add_task(label, total=None, status="starting")
        return cls(bar, task)

    def __call__(self, progress: BulkProgress) -> None:
        self._live.update(
            self._task, completed=progress.done, total=progress.total, status=describe(progress)
        )

    def close(self) -> None:
        self._live.stop()
