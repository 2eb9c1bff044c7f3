"""Simulated servers with scripted rate limits, and a virtual-time bulk job against them.

No sockets and no clock: `simulate` drives a `RatePolicy` the way the bulk
runner does (start while it says Start, sleep what Wait says, requeue what was
rejected) against a `SimServer` that admits or rejects each request when it
arrives, half a latency after it was sent, and answers with the API's
`x-ratelimit-*` headers. Time only moves from one event to the next.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable

import attrs

from oxide_io.testing._rate_limit import format_reset
from oxide_proto import Headers, RateLimits, RatePolicy, Start


@attrs.define
class SimServer:
    """A rate limit of `requests` and `tokens` per `window` seconds.

    `kind` "bucket" refills continuously (as the API does); "fixed" resets the
    whole budget at each window boundary. `headers` False sends no
    x-ratelimit-* headers (a proxy that hides them); `retry_after` adds one to
    each 429. `errors` is a set of arrival numbers answered with a 503.
    `schedule` changes the limits at a time: [(t, requests, tokens)].
    """

    requests: int
    tokens: int
    window: float
    kind: str = "bucket"
    headers: bool = True
    retry_after: bool = False
    errors: frozenset[int] = frozenset()
    schedule: list[tuple[float, int, int]] = attrs.field(factory=list)
    level_requests: float = attrs.field(init=False, default=0.0)
    level_tokens: float = attrs.field(init=False, default=0.0)
    stamp: float = attrs.field(init=False, default=0.0)
    arrivals: list[tuple[float, bool]] = attrs.field(init=False, factory=list)  # (t, admitted)

    def __attrs_post_init__(self) -> None:
        self.level_requests, self.level_tokens = float(self.requests), float(self.tokens)

    def _refill(self, t: float) -> None:
        while self.schedule and self.schedule[0][0] <= t:
            _, self.requests, self.tokens = self.schedule.pop(0)
            self.level_requests = min(self.level_requests, self.requests)
            self.level_tokens = min(self.level_tokens, self.tokens)
        if self.kind == "bucket":
            elapsed = t - self.stamp
            self.level_requests = min(
                self.requests, self.level_requests + elapsed * self.requests / self.window
            )
            self.level_tokens = min(
                self.tokens, self.level_tokens + elapsed * self.tokens / self.window
            )
        elif math.floor(t / self.window) != math.floor(self.stamp / self.window):
            self.level_requests, self.level_tokens = float(self.requests), float(self.tokens)
        self.stamp = t

    def _reset(self, level: float, limit: int, t: float) -> float:
        if self.kind == "bucket":
            return (limit - level) * self.window / limit
        return (math.floor(t / self.window) + 1) * self.window - t

    def admit(self, t: float, cost: int) -> tuple[int, Headers]:
        self._refill(t)
        number = len(self.arrivals)
        status = 200
        if number in self.errors:
            status = 503
        elif self.level_requests < 1 or self.level_tokens < min(cost, self.tokens):
            status = 429
        else:
            self.level_requests -= 1
            self.level_tokens -= cost
        self.arrivals.append((t, status == 200))
        fields: dict[str, str] = {}
        if self.headers and status != 503:
            for kind, limit, level in (
                ("requests", self.requests, self.level_requests),
                ("tokens", self.tokens, self.level_tokens),
            ):
                fields[f"x-ratelimit-limit-{kind}"] = str(limit)
                fields[f"x-ratelimit-remaining-{kind}"] = str(max(0, math.floor(level)))
                fields[f"x-ratelimit-reset-{kind}"] = format_reset(self._reset(level, limit, t))
        if status == 429 and self.retry_after:
            waits = [(1 - self.level_requests) * self.window / self.requests]
            if self.kind == "fixed":
                waits = [self._reset(0, self.requests, t)]
            fields["retry-after-ms"] = str(math.ceil(max(waits) * 1000))
        return status, Headers(fields)

    def most_sent_in_a_window(self) -> int:
        """The most requests (admitted or not) that arrived in any `window` seconds."""
        times = [t for t, _ in self.arrivals]
        best, low = 0, 0
        for high, t in enumerate(times):
            while times[low] <= t - self.window:
                low += 1
            best = max(best, high - low + 1)
        return best


@attrs.frozen
class Outcome:
    finished: dict[int, int]  # item -> times it was answered 200
    elapsed: float
    rejected: int
    steps: int


def simulate(
    server: SimServer,
    limits: RateLimits,
    *,
    items: int,
    latency: Callable[[int], float],
    tokens: Callable[[int], int] = lambda item: 10,
    clients: int = 1,
    max_steps: int = 200_000,
) -> Outcome:
    """Sends `items` requests through `clients` policies (item i through policy i
    modulo `clients`, as processes sharing one key) to `server`; every rejected
    or failed one is sent again. Returns when all were answered 200 (or after
    `max_steps` events, which the caller then sees in `finished`)."""
    policies = [RatePolicy(limits, now=0.0) for _ in range(clients)]
    now = 0.0
    todo: list[deque[int]] = [deque(range(k, items, clients)) for k in range(clients)]
    # (t, order, kind, item, ticket, client)
    events: list[tuple[float, int, str, int, int, int]] = []
    order = 0
    finished: dict[int, int] = {}
    waking = [False] * clients
    steps = 0
    rejected = 0
    answers: dict[tuple[int, int], tuple[int, Headers]] = {}
    while (any(todo) or events) and steps < max_steps:
        steps += 1
        for k, policy in enumerate(policies):
            while todo[k]:
                decision = policy.try_start(now, tokens(todo[k][0]))
                if not isinstance(decision, Start):
                    if decision.seconds is not None and not waking[k]:
                        waking[k] = True
                        heapq.heappush(events, (now + decision.seconds, order, "wake", -1, -1, k))
                        order += 1
                    break
                item = todo[k].popleft()
                half = latency(item) / 2
                ticket = decision.ticket
                heapq.heappush(events, (now + half, order, "arrive", item, ticket, k))
                heapq.heappush(events, (now + 2 * half, order + 1, "answer", item, ticket, k))
                order += 2
        if not events:
            break
        now, _, kind, item, ticket, k = heapq.heappop(events)
        if kind == "wake":
            waking[k] = False
        elif kind == "arrive":
            answers[(k, ticket)] = server.admit(now, tokens(item))
        else:
            status, headers = answers.pop((k, ticket))
            policies[k].finish(ticket, now, status=status, headers=headers)
            if status == 200:
                finished[item] = finished.get(item, 0) + 1
            else:
                rejected += status == 429
                todo[k].append(item)
    return Outcome(finished, now, rejected, steps)
