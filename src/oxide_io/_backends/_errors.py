"""Transport failures, raised by both backends before the client maps them to API errors.

They stay internal: the client turns them into `APIConnectionError` or
`APITimeoutError` at the point where the request is known (`raise ... from exc`).
"""

from __future__ import annotations

__all__ = ["TransportError", "ConnectError", "ReadError", "WriteError", "TransportTimeout"]


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
