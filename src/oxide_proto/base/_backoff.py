"""How long to wait before trying again: one backoff formula and one answer shape.

Every policy that waits before another attempt (request retries, WebSocket
reconnects, a bulk job's pause after a 429) waits `initial * 2**attempt` seconds,
capped at `maximum`, less up to 25 % at random so that clients that failed
together do not all come back together. The formula is pure: the caller draws
the random number. A policy answers with a `Delay`: the seconds to wait and
what set them (the backoff, or a header with which the server asked for a wait).
"""

from __future__ import annotations

from collections.abc import Iterator

from ._record import frozen

__all__ = ["Delay", "backoff_delay"]

_JITTER = 0.25  # the largest part of a backoff that a random draw takes off


def backoff_delay(attempt: int, *, initial: float, maximum: float, draw: float = 0.0) -> float:
    """Seconds to wait before retry number `attempt + 1` (`attempt` counts those made).

    `min(initial * 2**attempt, maximum)`, less `draw` times 25 %: `draw` is a
    random number from [0, 1] (clamped to it), 0 for no jitter. Never negative;
    past a thousand attempts the wait stays `maximum` rather than overflow.
    """
    base = min(initial * 2.0 ** min(attempt, 1000), maximum)
    draw = min(max(draw, 0.0), 1.0)
    return max(base * (1.0 - _JITTER * draw), 0.0)


@frozen
class Delay:
    """Wait `seconds` before the next attempt; `source` says what set the wait:
    `"backoff"`, or the header the server asked with (`"retry-after-ms"`,
    `"retry-after"`)."""

    seconds: float
    source: str = "backoff"

    def __iter__(self) -> Iterator[float | str]:
        """`seconds, source = delay`: the `(seconds, source)` tuple that
        `RetryPolicy.delay()` used to return. Deprecated: read the fields."""
        import warnings  # loaded only for code that still unpacks

        warnings.warn(
            "unpacking a Delay is deprecated: read its .seconds and .source",
            DeprecationWarning,
            stacklevel=2,
        )
        yield self.seconds
        yield self.source
