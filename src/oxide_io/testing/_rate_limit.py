"""A rate limit the mock server enforces, with the API's `x-ratelimit-*` headers.

`MockServer(rate_limit=RateLimit(requests=60, tokens=10_000, window=1.0))`
admits at most `requests` requests and `tokens` tokens per `window` seconds
(the API's window is a minute; a test's is shorter). Every answer carries
`x-ratelimit-limit-*`, `x-ratelimit-remaining-*` and `x-ratelimit-reset-*`
for requests and tokens, as the API sends them; a request over the limit gets
the API's 429 (`rate_limit_exceeded`), with `retry-after-ms` unless
`retry_after=False`. A request's tokens are its prompt's estimate plus its
`max_tokens` (`oxide_proto.estimate_tokens`), as the API counts them up front.

`kind="bucket"` refills continuously (the API's way); `kind="fixed"` gives the
whole budget back at each window boundary. `server.limiter` counts what was
admitted and rejected, and keeps each arrival's time for a test to check.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

from oxide_proto import estimate_tokens

__all__ = ["RateLimit", "RateLimiter", "format_reset"]


def format_reset(seconds: float) -> str:
    """A reset time as the API writes it: "20ms", "1.5s", "6m0s"."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60.0)
    if minutes:
        return f"{int(minutes)}m{rest:.6g}s"
    return f"{rest:.6g}s"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be > 0; got {value}")


@attrs.frozen
class RateLimit:
    """At most `requests` requests and `tokens` tokens per `window` seconds (None: no
    limit of that kind). See the module docstring."""

    requests: int | None = attrs.field(default=None, validator=_positive)
    tokens: int | None = attrs.field(default=None, validator=_positive)
    window: float = attrs.field(default=60.0, validator=_positive)
    kind: Literal["bucket", "fixed"] = "bucket"
    retry_after: bool = True


class RateLimiter:
    """The state of one `RateLimit`: budgets left, and what arrived when."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = clock()
        self._levels = {
            "requests": float(limit.requests or 0),
            "tokens": float(limit.tokens or 0),
        }
        self.admitted = 0
        self.rejected = 0
        self.arrivals: list[float] = []  # every request's arrival, admitted or not

    def _limits(self) -> dict[str, int | None]:
        return {"requests": self.limit.requests, "tokens": self.limit.tokens}

    def _refill(self, now: float) -> None:
        window = self.limit.window
        for kind, cap in self._limits().items():
            if cap is None:
                continue
            if self.limit.kind == "bucket":
                gained = (now - self._stamp) * cap / window
                self._levels[kind] = min(float(cap), self._levels[kind] + gained)
            elif math.floor(now / window) != math.floor(self._stamp / window):
                self._levels[kind] = float(cap)
        self._stamp = now

    def _reset(self, kind: str, cap: int, now: float) -> float:
        if self.limit.kind == "bucket":
            return (cap - self._levels[kind]) * self.limit.window / cap
        return (math.floor(now / self.limit.window) + 1) * self.limit.window - now

    def admit(self, body: object) -> tuple[bool, list[tuple[str, str]]]:
        """Whether a request with this JSON body is admitted, and the headers to send."""
        cost = {
            "requests": 1.0,
            "tokens": float(estimate_tokens(body if isinstance(body, dict) else None)),
        }
        with self._lock:
            now = self._clock()
            self._refill(now)
            self.arrivals.append(now)
            limits = self._limits()
            short = [
                kind
                for kind, cap in limits.items()
                if cap is not None and self._levels[kind] < min(cost[kind], cap)
            ]
            if short:
                self.rejected += 1
            else:
                self.admitted += 1
                for kind in self._levels:
                    self._levels[kind] -= cost[kind]
            headers: list[tuple[str, str]] = []
            for kind, cap in limits.items():
                if cap is None:
                    continue
                level = self._levels[kind]
                headers += [
                    (f"x-ratelimit-limit-{kind}", str(cap)),
                    (f"x-ratelimit-remaining-{kind}", str(max(0, math.floor(level)))),
                    (f"x-ratelimit-reset-{kind}", format_reset(self._reset(kind, cap, now))),
                ]
            if short and self.limit.retry_after:
                waits = []
                for kind in short:
                    cap = limits[kind]
                    assert cap is not None
                    if self.limit.kind == "fixed":
                        waits.append(self._reset(kind, cap, now))
                    else:
                        needed = min(cost[kind], cap) - self._levels[kind]
                        waits.append(needed * self.limit.window / cap)
                headers.append(("retry-after-ms", str(max(1, math.ceil(max(waits) * 1000)))))
            return not short, headers

    def most_in_window(self) -> int:
        """The most requests (admitted or not) that arrived within any one window."""
        with self._lock:
            times = list(self.arrivals)
        best = low = 0
        for high, moment in enumerate(times):
            while times[low] <= moment - self.limit.window:
                low += 1
            best = max(best, high - low + 1)
        return best
