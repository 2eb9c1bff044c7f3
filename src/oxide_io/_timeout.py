"""Timeouts: connect, read, write, pool and an overall deadline per request.

The defaults are the official SDK's: 600 s for everything, 5 s to connect. `total`
is oxide's addition: a deadline for the whole request including retries and, for a
stream, the time until the last event, so a server that trickles bytes cannot keep
a call alive forever.
"""

from __future__ import annotations

import enum

from oxide_proto._record import frozen

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "to_timeout"]


class _Unset(enum.Enum):
    UNSET = "UNSET"


@frozen
class Timeout:
    """`Timeout(600, connect=5)`: one value for all phases, with named overrides.

    `None` means no limit for that phase.
    """

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None

    def __init__(
        self,
        timeout: float | None = 600.0,
        *,
        connect: float | _Unset | None = _Unset.UNSET,
        read: float | _Unset | None = _Unset.UNSET,
        write: float | _Unset | None = _Unset.UNSET,
        pool: float | _Unset | None = _Unset.UNSET,
        total: float | None = None,
    ) -> None:
        def pick(value: float | _Unset | None) -> float | None:
            # An explicit None means "no limit for this phase", as in httpx.
            return timeout if value is _Unset.UNSET else value

        # Frozen: the fields are set once, here, past the generated __setattr__.
        set_field = object.__setattr__
        set_field(self, "connect", pick(connect))
        set_field(self, "read", pick(read))
        set_field(self, "write", pick(write))
        set_field(self, "pool", pick(pool))
        set_field(self, "total", total)


DEFAULT_TIMEOUT = Timeout(600.0, connect=5.0)


def to_timeout(value: float | Timeout | None) -> Timeout:
    """The official SDK accepts a number, a Timeout or None (no limits) everywhere."""
    if isinstance(value, Timeout):
        return value
    if value is None:
        return Timeout(None)
    return Timeout(float(value))
