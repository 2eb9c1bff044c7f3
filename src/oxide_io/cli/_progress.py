"""Progress bars for uploads and downloads, drawn by rich when it is installed.

`progress(label)` yields the callback the client's file uploads take,
`report(done, total)` (total None when unknown); the bar goes to stderr, so
standard output stays the command's answer. Without rich, or when disabled,
the callback does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["Report", "progress"]

Report = Callable[[int, "int | None"], None]


def _ignore(done: int, total: int | None) -> None:
    pass


@contextlib.contextmanager
def progress(label: str, *, enabled: bool) -> Iterator[Report]:
    if not enabled:
        yield _ignore
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:
        yield _ignore
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield report
