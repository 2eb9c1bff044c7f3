"""Timeouts: connect, read, write, pool and an overall deadline per request.

The defaults are the official SDK's: 600 s for everything, 5 s to connect. `total`
is oxide's addition: a deadline for the whole request including retries and, for a
stream, the time until the last event, so a server that trickles bytes cannot keep
a call alive forever.
"""

from __future__ import annotations

import enum
from typing import Protocol

from oxide_proto.base import frozen

__all__ = ["DEFAULT_TIMEOUT", "PhaseTimeouts", "Timeout", "TimeoutTypes", "to_timeout"]


class PhaseTimeouts(Protocol):
    """Any object with the four phase limits, such as an `httpx.Timeout`."""

    @property
    def connect(self) -> float | None: ...
    @property
    def read(self) -> float | None: ...
    @property
    def write(self) -> float | None: ...
    @property
    def pool(self) -> float | None: ...


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


_PHASES = ("connect", "read", "write", "pool")


# What every `timeout=` argument takes.
TimeoutTypes = float | Timeout | PhaseTimeouts | None


def to_timeout(value: TimeoutTypes | object) -> Timeout:
    """The official SDK accepts a number, a Timeout or None (no limits) everywhere.

    An object with `connect`, `read`, `write` and `pool` attributes (an
    `httpx.Timeout`, which code written for the official SDK passes) is read
    phase by phase, without importing httpx. Anything else raises `TypeError`.
    """
    if isinstance(value, Timeout):
        return value
    if value is None:
        return Timeout(None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Timeout(_seconds("timeout", value))
    if all(hasattr(value, name) for name in _PHASES):
        phases = {name: getattr(value, name) for name in _PHASES}
        return Timeout(
            None,
            **{
                name: None if limit is None else _seconds(f"timeout.{name}", limit)
                for name, limit in phases.items()
            },
        )
    raise TypeError(
        "timeout must be a number of seconds, None, an oxide Timeout or an object with "
        f"connect/read/write/pool attributes (such as httpx.Timeout), not {type(value).__name__}"
    )


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    seconds = float(value)
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(f"{name} must be 0 or more seconds, not {value!r}")
    return seconds
