"""Transport failures, raised by both backends before the client maps them to API errors,
and the one error a task group raises for its tasks.

The transport failures stay internal: the client turns them into
`APIConnectionError` or `APITimeoutError` at the point where the request is
known (`raise ... from exc`).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "TransportError",
    "ConnectError",
    "ReadError",
    "WriteError",
    "TransportTimeout",
    "first_task_error",
]


class TransportError(Exception):
    """The socket failed: refused, reset, closed, TLS failure."""


class ConnectError(TransportError):
    pass


class ReadError(TransportError):
    pass


class WriteError(TransportError):
    pass


class TransportTimeout(TransportError):
    """A phase (connect, read, write, pool) exceeded its timeout."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"{phase} timed out")
        self.phase = phase


def first_task_error(
    errors: Sequence[BaseException], cancelled: type[BaseException] | None = None
) -> BaseException:
    """The error a task group raises when its tasks raised `errors`: the first one,
    as itself, so that `except OSError` around the group catches what a task
    raised (an exception group would slip past it). A cancellation (`cancelled`)
    gives way to a real error; the others are named in notes on the one raised."""
    real = [error for error in errors if cancelled is None or not isinstance(error, cancelled)]
    first = (real or list(errors))[0]
    notes = first.__dict__.setdefault("__notes__", [])  # what add_note does, 3.10 included
    for other in real:
        if other is not first:
            notes.append(f"another task raised {type(other).__name__}: {other}")
    return first
