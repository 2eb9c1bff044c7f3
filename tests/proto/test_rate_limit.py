"""The bulk rate policy against simulated servers whose limits the tests script.

Virtual time only (see rate_sim.py): the assertions are about what the server
saw (how many requests it had to reject, how long the job took in simulated
seconds, against the limit's ideal), never about a real clock.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_io.testing._rate_limit import format_reset
from oxide_proto import Headers, RateLimits, RatePolicy, Start, Wait, parse_reset_duration
from tests.proto.rate_sim import SimServer, simulate


def _ideal(items: int, limit: int, window: float) -> float:
    """Simulated seconds a perfect client needs: the first `limit` at once, then the rate."""
    return max(0, items - limit) * window / limit


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("20ms", 0.02),
        ("0s", 0.0),
        ("0.5", 0.5),
        (".5s", 0.5),
        ("", None),
        ("soon", None),
        ("1s2", None),
        ("-1", None),
        ("inf", None),
        ("1x", None),
    ],
)
def test_parse_reset_duration(text: str, seconds: float | None) -> None:
    assert parse_reset_duration(text) == seconds


@given(st.floats(min_value=0, max_value=7200, allow_nan=False))
def test_reset_durations_round_trip(seconds: float) -> None:
    parsed = parse_reset_duration(format_reset(seconds))
    assert parsed is not None
    assert abs(parsed - seconds) <= max(0.001, seconds * 0.001)


@pytest.mark.parametrize("retry_after", [False, True])
def test_bucket_server_with_headers_is_never_overrun_and_is_used_fully(retry_after: bool) -> None:
    server = SimServer(requests=50, tokens=10**6, window=1.0, retry_after=retry_after)
    outcome = simulate(server, RateLimits(), items=500, latency=lambda item: 0.05)
    assert outcome.finished == dict.fromkeys(range(500), 1)
    assert outcome.rejected == 0
    assert outcome.elapsed <= _ideal(500, 50, 1.0) * 1.05 + 0.2


def test_fixed_window_server_sees_few_rejections() -> None:
    # A fixed window gives its whole budget back at once, which the refill the
    # headers imply anticipates a little: the margin stated in docs/bulk.md.
    server = SimServer(requests=50, tokens=10**6, window=1.0, kind="fixed")
    outcome = simulate(server, RateLimits(), items=500, latency=lambda item: 0.05)
    assert outcome.finished == dict.fromkeys(range(500), 1)
    assert outcome.rejected <= 0.1 * 500
    assert outcome.elapsed <= _ideal(500, 50, 1.0) * 1.1 + 1.0


def test_token_budget_paces_large_requests() -> None:
    server = SimServer(requests=10_000, tokens=2_000, window=1.0)
    outcome = simulate(
        server, RateLimits(), items=300, latency=lambda item: 0.05, tokens=lambda item: 20
    )
    assert outcome.finished == dict.fromkeys(range(300), 1)
    assert outcome.rejected == 0
    assert outcome.elapsed <= _ideal(300 * 20, 2_000, 1.0) * 1.05 + 0.2


def test_request_cap_bounds_every_minute() -> None:
    server = SimServer(requests=10_000, tokens=10**7, window=60.0)
    limits = RateLimits(requests_per_minute=600)
    outcome = simulate(server, limits, items=1_500, latency=lambda item: 0.05)
    assert len(outcome.finished) == 1_500
    # The cap plus the burst it allows (6 s worth: 10 %).
    assert server.most_sent_in_a_window() <= 600 * 1.1 + 1
    assert outcome.elapsed >= (1_500 - 60) / 10 * 0.99


def test_token_cap_paces_by_estimate() -> None:
    server = SimServer(requests=10_000, tokens=10**7, window=60.0)
    limits = RateLimits(tokens_per_minute=6_000)
    outcome = simulate(
        server, limits, items=200, latency=lambda item: 0.05, tokens=lambda item: 100
    )
    assert len(outcome.finished) == 200
    assert outcome.elapsed >= (200 * 100 - 600) / 100 * 0.99  # 6 000 a minute is 100 a second


def test_limit_lowered_mid_job_is_followed() -> None:
    server = SimServer(requests=100, tokens=10**6, window=1.0, schedule=[(3.0, 20, 10**6)])
    outcome = simulate(server, RateLimits(), items=600, latency=lambda item: 0.05)
    assert outcome.finished == dict.fromkeys(range(600), 1)
    assert outcome.rejected <= 25  # at most about one window's worth while learning
    # 3 s at 100/s (plus the first 100), then 20/s.
    assert outcome.elapsed <= 3 + (600 - 400) / 20 * 1.1 + 1


def test_server_errors_halve_concurrency_and_everything_finishes() -> None:
    server = SimServer(requests=1_000, tokens=10**6, window=1.0, errors=frozenset(range(20, 40)))
    outcome = simulate(server, RateLimits(), items=200, latency=lambda item: 0.05)
    assert outcome.finished == dict.fromkeys(range(200), 1)


@pytest.mark.parametrize("kind", ["bucket", "fixed"])
def test_server_without_headers_still_finishes(kind: str) -> None:
    # No budget to read: AIMD and retry-after alone; slower and with rejections
    # (see docs/bulk.md), but every item is answered exactly once.
    server = SimServer(requests=50, tokens=10**6, window=1.0, kind=kind, headers=False)
    server.retry_after = True
    outcome = simulate(server, RateLimits(), items=300, latency=lambda item: 0.05)
    assert outcome.finished == dict.fromkeys(range(300), 1)
    assert outcome.elapsed <= _ideal(300, 50, 1.0) * 1.5 + 1


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(min_value=2, max_value=200),
    window=st.sampled_from([0.5, 1.0, 5.0, 60.0]),
    latency=st.floats(min_value=0.005, max_value=2.0),
    # Latencies that differ by a rounding error (down to one ulp) bring a burst's
    # answers back at one instant in another order than sent.
    spread=st.one_of(
        st.just(0.0),
        st.floats(min_value=0.01, max_value=1.0),
        st.floats(min_value=2**-52, max_value=0.01),
    ),
    concurrency=st.integers(min_value=1, max_value=128),
)
def test_any_bucket_limit_is_respected_and_reached(
    limit: int, window: float, latency: float, spread: float, concurrency: int
) -> None:
    items = limit * 4
    server = SimServer(requests=limit, tokens=10**9, window=window)
    limits = RateLimits(max_concurrency=concurrency, initial_concurrency=min(4, concurrency))
    outcome = simulate(
        server, limits, items=items, latency=lambda item: latency * (1 + spread * (item % 3))
    )
    assert outcome.finished == dict.fromkeys(range(items), 1)
    # The first requests go out before any header arrived: at most the initial window.
    assert outcome.rejected <= limits.initial_concurrency
    # Converges: no slower than the limit (or the concurrency) allows, within 10 %.
    slowest = latency * (1 + 2 * spread)
    by_concurrency = items * slowest / concurrency
    # (Plus one window: the first requests, sent before any header came, may
    # have overrun a small limit and paused the job until its reset.)
    ideal = max(_ideal(items, limit, window), by_concurrency)
    # Slow start doubles the concurrency once per round trip from its initial
    # value, so reaching what the limit needs in flight takes log2(need / initial)
    # round trips (plus two: the first answer, and the last requests' own trip).
    need = min(concurrency, limit / window * slowest)
    ramp = math.ceil(math.log2(max(need / limits.initial_concurrency, 1.0))) + 2
    assert outcome.elapsed <= ideal * 1.1 + max(4, ramp) * slowest + window


def test_answers_reordered_by_a_rounding_error() -> None:
    server = SimServer(requests=75, tokens=10**9, window=0.5)
    limits = RateLimits(max_concurrency=35, initial_concurrency=4)
    tiny = 2.220446049250313e-16
    outcome = simulate(
        server, limits, items=300, latency=lambda item: 0.005 * (1 + tiny * (item % 3))
    )
    assert outcome.finished == dict.fromkeys(range(300), 1)
    assert outcome.rejected <= limits.initial_concurrency


@pytest.mark.parametrize("clients", [2, 4])
def test_clients_sharing_a_key_keep_to_it_with_their_share(clients: int) -> None:
    server = SimServer(requests=60, tokens=10**6, window=1.0)
    limits = RateLimits(share=1 / clients, initial_concurrency=1)
    outcome = simulate(server, limits, items=600, latency=lambda item: 0.05, clients=clients)
    assert outcome.finished == dict.fromkeys(range(600), 1)
    # Each sees the budget the others spend only in the next headers: a few
    # percent are rejected (and retried), the margin stated in docs/bulk.md.
    assert outcome.rejected <= 0.08 * 600
    assert outcome.elapsed <= _ideal(600, 60, 1.0) * 1.1 + 1


def test_clients_sharing_a_key_without_a_share_overrun_it() -> None:
    # What `share` is for: four policies each taking the whole budget.
    server = SimServer(requests=60, tokens=10**6, window=1.0)
    outcome = simulate(server, RateLimits(), items=600, latency=lambda item: 0.05, clients=4)
    assert outcome.rejected > 0.08 * 600


def test_policy_waits_for_a_slot_at_its_concurrency() -> None:
    policy = RatePolicy(RateLimits(max_concurrency=2, initial_concurrency=2), now=0.0)
    first, second = policy.try_start(0.0), policy.try_start(0.0)
    assert isinstance(first, Start) and isinstance(second, Start)
    assert policy.try_start(0.0) == Wait(None)
    policy.finish(first.ticket, 0.1, status=200)
    assert isinstance(policy.try_start(0.1), Start)
    policy.cancel(second.ticket)
    assert policy.in_flight == 1
    with pytest.raises(ValueError, match="not in flight"):
        policy.finish(second.ticket, 0.2, status=200)


def test_429_pauses_for_retry_after() -> None:
    policy = RatePolicy(now=0.0)
    start = policy.try_start(0.0)
    assert isinstance(start, Start)
    policy.finish(start.ticket, 1.0, status=429, headers=Headers({"retry-after": "2"}))
    wait = policy.try_start(1.5)
    assert isinstance(wait, Wait) and wait.seconds is not None
    assert math.isclose(wait.seconds, 1.5)
    assert isinstance(policy.try_start(3.0), Start)
    assert policy.rejected == 1


def test_429_without_retry_after_waits_for_the_spent_budget() -> None:
    policy = RatePolicy(now=0.0)
    start = policy.try_start(0.0)
    assert isinstance(start, Start)
    headers = Headers(
        {
            "x-ratelimit-limit-requests": "10",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "6s",
        }
    )
    policy.finish(start.ticket, 0.0, status=429, headers=headers)
    wait = policy.try_start(0.0)
    assert isinstance(wait, Wait) and wait.seconds == pytest.approx(6.0)


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        RateLimits(max_concurrency=0)
    with pytest.raises(ValueError, match="requests_per_minute"):
        RateLimits(requests_per_minute=-1)
