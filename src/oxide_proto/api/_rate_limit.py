"""How fast a bulk job may send: concurrency and request/token budgets that follow the server.

A bulk runner asks `RatePolicy.try_start(now, tokens)` before each request and
reports each outcome with `finish(...)`; the policy answers `Start` (send now) or
`Wait` (for so many seconds, or until a request in flight finishes). It is pure:
the caller passes the clock reading `now` (monotonic seconds) and sleeps itself.

Three limits combine, and the tightest one decides:

- **The caller's caps** (`requests_per_minute`, `tokens_per_minute`): refilling
  buckets holding `burst_seconds` worth of budget, so any window of a minute
  sees at most the cap plus that burst (10 % with the default 6 s).
- **The server's budget**, read from the API's `x-ratelimit-limit-*`,
  `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` headers (for requests and
  for tokens). The level is what the server had left when it answered last,
  less what may have reached it since; it refills at the rate those headers
  imply, `(limit - remaining) / reset`, never above `limit`. Answers come back
  in another order than the server admitted them, so every answer that may be
  the last one counts, and the lowest level they give holds. Precise when the
  server reports its budget, as the OpenAI API does.
- **Concurrency**, by AIMD with slow start, as TCP Reno does for its window:
  it starts at `initial_concurrency`, grows by one per success (doubling per
  round trip) until the first sign of trouble, then by one per round trip; a
  429 or a 5xx halves it, at most once per round trip (only an outcome of a
  request sent after the last cut counts, so one burst of rejections is one
  signal). Additive increase and multiplicative decrease converge on the
  server's capacity from any start and share it fairly among clients; it is
  what keeps a server that reports nothing (a proxy, Azure, a self-hosted
  model) and an overloaded one (5xx) from being hammered.

A 429 also pauses every start until the server's `retry-after`, else the reset
of the budget its headers show as spent, else the shared exponential backoff
(`base._backoff`: 0.5 s doubling to 8 s, here without jitter); a `retry-after`
on a 5xx pauses as well.
"""

from __future__ import annotations

import math
import re
from collections import deque

from ..base._backoff import backoff_delay
from ..base._headers import Headers
from ..base._record import field, frozen
from ..http._retry import parse_retry_after

__all__ = [
    "RateLimits",
    "RatePolicy",
    "Start",
    "Wait",
    "parse_reset_duration",
]

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_MIN_BACKOFF = 0.5
_MAX_BACKOFF = 8.0
_MIN_WAIT = 0.001  # a sleep shorter than this is mostly the sleep's own cost
_MAX_PAUSE = 120.0  # a longer retry-after is capped: the job re-asks then rather than hangs


def parse_reset_duration(value: str) -> float | None:
    """Seconds in an `x-ratelimit-reset-*` value: "1s", "6m0s", "1h2m3.5s", "20ms"
    or a bare number of seconds; None when the value is none of these."""
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    total = 0.0
    position = 0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    return total if position == len(text) else None


def _positive_int(instance: object, name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


def _positive_or_none(instance: object, name: str, value: float | None) -> None:
    if value is not None and not (isinstance(value, (int, float)) and value > 0):
        raise ValueError(f"{name} must be a positive number or None, not {value!r}")


@frozen(kw_only=True)
class RateLimits:
    """The caller's limits: at most `max_concurrency` requests in flight (starting
    at `initial_concurrency`), `requests_per_minute` and `tokens_per_minute` when
    given. `burst_seconds` is how much of a per-minute cap may go out at once.
    `share` is the part of the server's budgets this policy may use, when
    several processes share one key (each reads the same headers): 1/n for n."""

    max_concurrency: int = field(default=64, validator=_positive_int)
    initial_concurrency: int = field(default=4, validator=_positive_int)
    requests_per_minute: float | None = field(default=None, validator=_positive_or_none)
    tokens_per_minute: float | None = field(default=None, validator=_positive_or_none)
    burst_seconds: float = field(default=6.0, validator=_positive_or_none)
    share: float = field(default=1.0, validator=_positive_or_none)


@frozen
class Start:
    """Send the request now; report its outcome to `finish` with this `ticket`."""

    ticket: int


@frozen
class Wait:
    """Do not send yet: try again after `seconds`, or, when `seconds` is None,
    once a request in flight has finished (the concurrency limit is reached)."""

    seconds: float | None


class _Bucket:
    """A budget that refills at `rate` per second up to `capacity`."""

    __slots__ = ("capacity", "level", "rate", "stamp")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.level = capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` can be taken (an amount over the capacity needs a
        full bucket, and leaves it in debt)."""
        self.refill(now)
        needed = min(amount, self.capacity) - self.level
        if needed <= 1e-9:  # rounding in the refill must not leave a wait of 1e-17 s
            return 0.0
        return math.inf if self.rate <= 0 else needed / self.rate


class _ServerBudget:
    """The server's remaining budget of one kind (requests or tokens), from its headers.

    Answers do not come back in the order the server admitted their requests: a
    request sent later may overtake an earlier one, and the answers of one burst
    may arrive at one instant in any order. What the budget holds is known from
    the answer the server produced last, but which answer that was is only
    partly known: an answer that came back before a request was sent was
    produced before that request's answer. So each answer that may still be the
    last one keeps its own estimate (what it said was left, less everything in
    flight when it came back and everything sent since, plus the refill since),
    and the budget is the lowest of them, which is never above the truth.
    """

    __slots__ = ("capacity", "estimates", "kind", "latest_sent", "rate", "share", "stamp")

    def __init__(self, kind: str, share: float) -> None:
        self.kind = kind
        self.share = share
        self.capacity = 0.0
        self.rate = 0.0
        self.stamp = -math.inf
        self.latest_sent = -math.inf  # when the last-sent request that was answered went
        # [answered at, level] of the answers that may be the last one the server
        # produced, oldest first. Only an estimate lower than every newer one is
        # kept (a newer one is dropped later, so a higher older one is never the
        # lowest): the levels rise from first to last and the first is the budget.
        self.estimates: deque[list[float]] = deque()

    @property
    def known(self) -> bool:
        return bool(self.estimates)

    def update(self, headers: Headers, sent: float, in_flight: float, now: float) -> bool:
        """Reads this kind's headers from the answer to a request sent at `sent`,
        with `in_flight` of this budget still out; False when they are missing or
        unreadable."""
        try:
            limit = float(headers[f"x-ratelimit-limit-{self.kind}"])
            remaining = float(headers[f"x-ratelimit-remaining-{self.kind}"])
        except (KeyError, ValueError):
            return False
        if not (math.isfinite(limit) and math.isfinite(remaining)) or limit <= 0:
            return False
        reset = parse_reset_duration(headers.get(f"x-ratelimit-reset-{self.kind}", ""))
        remaining = min(max(remaining, 0.0), limit)
        limit, remaining = limit * self.share, remaining * self.share
        self.refill(now)
        if sent >= self.latest_sent or not self.estimates:
            # The limit and its refill rate come from the answer to the request
            # sent last: an older one may predate a change of limit.
            if reset is not None and reset > 0 and remaining < limit:
                self.rate = (limit - remaining) / reset
            elif not (self.estimates and self.capacity == limit):
                self.rate = limit / 60.0  # the API's limits are per minute
            if limit < self.capacity:
                for estimate in self.estimates:
                    estimate[1] = min(estimate[1], limit)
            self.capacity = limit
            self.latest_sent = sent
        estimates = self.estimates
        # An answer that came back before the last-sent answered request went
        # was produced before that request's answer: it is not the last one.
        while estimates and estimates[0][0] < self.latest_sent:
            estimates.popleft()
        level = min(remaining, self.capacity) - in_flight
        while estimates and estimates[-1][1] >= level:
            estimates.pop()
        estimates.append([now, level])
        return True

    def refill(self, now: float) -> None:
        if now > self.stamp:
            added = (now - self.stamp) * self.rate if self.estimates else 0.0
            for estimate in self.estimates:
                estimate[1] = min(self.capacity, estimate[1] + added)
            self.stamp = now

    def spent_in(self, headers: Headers | None) -> float | None:
        """The reset time when `headers` show this budget spent, else None."""
        if headers is None:
            return None
        value = headers.get(f"x-ratelimit-remaining-{self.kind}")
        try:
            if value is None or float(value) >= 1.0:
                return None
        except ValueError:
            return None
        return parse_reset_duration(headers.get(f"x-ratelimit-reset-{self.kind}", "")) or 0.0

    def empty(self, now: float) -> None:
        self.refill(now)
        for estimate in self.estimates:
            estimate[1] = min(estimate[1], 0.0)

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` can be taken (as `_Bucket.wait_for`)."""
        if not self.estimates:
            return 0.0
        self.refill(now)
        needed = min(amount, self.capacity) - self.estimates[0][1]
        if needed <= 1e-9:
            return 0.0
        return math.inf if self.rate <= 0 else needed / self.rate

    def take(self, amount: float) -> None:
        for estimate in self.estimates:
            estimate[1] -= amount


class RatePolicy:
    """Decides when a bulk job's next request may go (see the module docstring).

    Not thread-safe: a threaded caller holds a lock around every call.
    """

    def __init__(self, limits: RateLimits | None = None, *, now: float) -> None:
        self.limits = limits = limits or RateLimits()
        self.concurrency = float(min(limits.initial_concurrency, limits.max_concurrency))
        self._threshold = float(limits.max_concurrency)  # slow start until a cut
        self._caps: list[tuple[_Bucket, bool]] = []  # (bucket, counts tokens)
        for per_minute, tokens in (
            (limits.requests_per_minute, False),
            (limits.tokens_per_minute, True),
        ):
            if per_minute is not None:
                rate = per_minute / 60.0
                self._caps.append(
                    (_Bucket(max(rate * limits.burst_seconds, 1.0), rate, now), tokens)
                )
        self._server_requests = _ServerBudget("requests", limits.share)
        self._server_tokens = _ServerBudget("tokens", limits.share)
        self._next_ticket = 0
        self._in_flight: dict[int, tuple[float, float]] = {}  # ticket -> (sent at, tokens)
        self._tokens_in_flight = 0.0
        self._cut_after = -1  # only outcomes of tickets after this one may cut concurrency
        self._paused_until = -math.inf
        self._backoffs = 0  # 429s in a row without a retry-after or reset to follow
        self.rejected = 0  # 429s seen
        self.failed = 0  # 5xx and connection failures seen

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def try_start(self, now: float, tokens: float = 0.0) -> Start | Wait:
        """Whether a request of about `tokens` tokens may be sent at `now`."""
        if len(self._in_flight) >= max(1, int(self.concurrency)):
            return Wait(None)
        wait = self._paused_until - now
        for bucket, counts_tokens in self._caps:
            wait = max(wait, bucket.wait_for(tokens if counts_tokens else 1.0, now))
        wait = max(wait, self._server_requests.wait_for(1.0, now))
        if tokens > 0:
            wait = max(wait, self._server_tokens.wait_for(tokens, now))
        if wait > 0:
            if math.isinf(wait):
                return Wait(None) if self._in_flight else Wait(_MAX_BACKOFF)
            return Wait(max(wait, _MIN_WAIT))
        for bucket, counts_tokens in self._caps:
            bucket.level -= tokens if counts_tokens else 1.0
        self._server_requests.take(1.0)
        self._server_tokens.take(tokens)
        ticket = self._next_ticket
        self._next_ticket += 1
        self._in_flight[ticket] = (now, tokens)
        self._tokens_in_flight += tokens
        return Start(ticket)

    def finish(
        self,
        ticket: int,
        now: float,
        *,
        status: int | None,
        headers: Headers | None = None,
        wall_clock: float | None = None,
    ) -> None:
        """Reports the outcome of the request sent with `ticket`: its HTTP `status`
        and `headers`, or `status=None` when it got no response (connection
        failure, timeout). `wall_clock` (UNIX time) reads a `retry-after` date.
        A cancelled request is reported with `cancel` instead."""
        entry = self._forget(ticket)
        if entry is None:
            raise ValueError(f"ticket {ticket} is not in flight")
        if headers is not None:
            # The server may have admitted every request still in flight after
            # this one, whenever it was sent.
            sent = entry[0]
            self._server_requests.update(headers, sent, len(self._in_flight), now)
            self._server_tokens.update(headers, sent, self._tokens_in_flight, now)
        if status == 429 or status is None or status >= 500:
            self._trouble(ticket, now, status, headers, wall_clock)
        else:
            self._backoffs = 0
            if self.concurrency < self._threshold:
                self.concurrency += 1.0  # slow start: doubles per round trip
            else:
                self.concurrency += 1.0 / self.concurrency  # one per round trip
            self.concurrency = min(self.concurrency, float(self.limits.max_concurrency))

    def cancel(self, ticket: int) -> None:
        """Forgets a request that was cancelled before its outcome was known."""
        self._forget(ticket)

    def _forget(self, ticket: int) -> tuple[float, float] | None:
        entry = self._in_flight.pop(ticket, None)
        if entry is not None:
            # (Zeroed when nothing is in flight: a sum of fractions drifts.)
            self._tokens_in_flight = self._tokens_in_flight - entry[1] if self._in_flight else 0.0
        return entry

    def _trouble(
        self,
        ticket: int,
        now: float,
        status: int | None,
        headers: Headers | None,
        wall_clock: float | None,
    ) -> None:
        if status == 429:
            self.rejected += 1
        else:
            self.failed += 1
        blind = not (self._server_requests.known or self._server_tokens.known)
        if ticket > self._cut_after:
            # Halve once per round trip: what was already in flight when the
            # window was cut says nothing new.
            self._cut_after = self._next_ticket - 1
            self._threshold = max(1.0, self.concurrency / 2.0)
            # A 429 from a server that reports no budget: probe with one request
            # after the pause, then slow-start back to half the old window
            # (TCP Tahoe's answer to a timeout), as the pause ends for every
            # waiting request at once.
            self.concurrency = 1.0 if status == 429 and blind else self._threshold
        pause = None
        if headers is not None:
            retry_after = parse_retry_after(headers, now=wall_clock if wall_clock else 0.0)
            if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
                pause = retry_after
        if status == 429:
            for budget in (self._server_requests, self._server_tokens):
                # Rejected for lack of this budget: whatever the estimate says,
                # none is left, and a server that resets its budget in fixed
                # windows gives it back only at the reset.
                reset = budget.spent_in(headers)
                if reset is not None:
                    budget.empty(now)
                    pause = max(pause or 0.0, reset) if reset > 0 else pause
            if pause is None and not blind:
                return  # the budgets know when to send again
            if pause is None:
                pause = backoff_delay(self._backoffs, initial=_MIN_BACKOFF, maximum=_MAX_BACKOFF)
                self._backoffs += 1
        if pause is not None:
            self._paused_until = max(self._paused_until, now + min(pause, _MAX_PAUSE))
