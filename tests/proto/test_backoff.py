"""The one backoff formula every retrying policy waits by, and the `Delay` they answer with."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    Delay,
    Headers,
    RatePolicy,
    ReconnectPolicy,
    ResponseInfo,
    RetryPolicy,
    Wait,
    backoff_delay,
)


def test_pinned_values() -> None:
    def waits(draw: float) -> list[float]:
        return [backoff_delay(n, initial=0.5, maximum=8.0, draw=draw) for n in range(7)]

    assert waits(0.0) == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert waits(1.0) == [0.375, 0.75, 1.5, 3.0, 6.0, 6.0, 6.0]
    assert waits(0.5) == [0.4375, 0.875, 1.75, 3.5, 7.0, 7.0, 7.0]
    assert backoff_delay(3, initial=0.1, maximum=0.5, draw=0.2) == 0.475
    assert backoff_delay(10**9, initial=0.5, maximum=8.0) == 8.0  # no overflow
    # A draw outside [0, 1] is clamped: never past the cap, never below 0.
    assert backoff_delay(9, initial=0.5, maximum=8.0, draw=-3.0) == 8.0
    assert backoff_delay(9, initial=0.5, maximum=8.0, draw=7.0) == 6.0


@settings(max_examples=300, deadline=None)
@given(
    attempt=st.integers(0, 2000),
    initial=st.floats(0.0, 10.0),
    maximum=st.floats(0.0, 60.0),
    draw=st.floats(0.0, 1.0),
)
def test_bounds(attempt: int, initial: float, maximum: float, draw: float) -> None:
    wait = backoff_delay(attempt, initial=initial, maximum=maximum, draw=draw)
    ceiling = min(initial * 2.0 ** min(attempt, 1000), maximum)
    assert 0.0 <= wait <= ceiling <= maximum
    assert wait >= 0.75 * ceiling
    assert wait == backoff_delay(attempt, initial=initial, maximum=maximum, draw=draw)


@settings(max_examples=200, deadline=None)
@given(attempt=st.integers(0, 40), draw=st.floats(0.0, 1.0))
def test_every_policy_waits_by_it(attempt: int, draw: float) -> None:
    expected = backoff_delay(attempt, initial=0.5, maximum=8.0, draw=draw)
    retry = RetryPolicy(max_retries=50)
    assert retry.backoff(attempt, lambda: draw) == expected
    no_hint = ResponseInfo(status_code=500, headers=Headers())
    assert retry.delay(attempt, no_hint, now=0.0, random=lambda: draw) == Delay(expected)
    assert retry.delay(attempt, None, now=0.0, random=lambda: draw) == Delay(expected)
    reconnect = ReconnectPolicy(max_retries=50, initial_delay=0.5, max_delay=8.0)
    assert reconnect.delay(attempt, lambda: draw) == Delay(expected)


def test_the_rate_policy_pauses_by_it_without_jitter() -> None:
    # 429s from a server that reports no budget: each pause is the next backoff.
    policy = RatePolicy(now=0.0)
    now, pauses = 0.0, []
    for _ in range(7):
        start = policy.try_start(now)
        assert not isinstance(start, Wait)
        policy.finish(start.ticket, now, status=429)
        wait = policy.try_start(now)
        assert isinstance(wait, Wait) and wait.seconds is not None
        pauses.append(wait.seconds)
        now += wait.seconds
    assert pauses == [backoff_delay(n, initial=0.5, maximum=8.0) for n in range(7)]


def test_a_server_hint_names_its_header() -> None:
    policy = RetryPolicy()
    for name, value, seconds in (("retry-after-ms", "1500", 1.5), ("retry-after", "3", 3.0)):
        info = ResponseInfo(status_code=429, headers=Headers({name: value}))
        assert policy.delay(0, info, now=0.0, random=lambda: 0.0) == Delay(seconds, name)


def test_unpacking_a_delay_still_works_but_is_deprecated() -> None:
    delay = RetryPolicy().delay(1, None, now=0.0, random=lambda: 0.0)
    with pytest.warns(DeprecationWarning, match=r"\.seconds and \.source"):
        seconds, source = delay
    assert (seconds, source) == (1.0, "backoff")
