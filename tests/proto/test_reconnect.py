"""The reconnect policy: which close codes reopen a WebSocket, and the backoff before each try."""

from __future__ import annotations

import pytest

from oxide_proto import RECONNECT_CLOSE_CODES, Delay, ReconnectPolicy


@pytest.mark.parametrize("code", sorted(RECONNECT_CLOSE_CODES))
def test_abnormal_closes_reconnect(code: int) -> None:
    assert ReconnectPolicy().should_reconnect(code)


@pytest.mark.parametrize("code", [1000, 1002, 1003, 1007, 1008, 1009, 1010, 3000, 4000, 4999])
def test_normal_and_refusing_closes_do_not(code: int) -> None:
    assert not ReconnectPolicy().should_reconnect(code)


def test_zero_retries_never_reconnects() -> None:
    policy = ReconnectPolicy(max_retries=0)
    assert not policy.should_reconnect(1006)
    assert policy.exhausted(0)


def test_backoff_doubles_up_to_the_maximum_with_jitter() -> None:
    policy = ReconnectPolicy(max_retries=6, initial_delay=0.5, max_delay=4.0)
    delays = [policy.delay(n, lambda: 0.0) for n in range(6)]
    assert [delay.seconds for delay in delays] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert {delay.source for delay in delays} == {"backoff"}
    assert [policy.exhausted(n) for n in (5, 6, 7)] == [False, True, True]
    # Up to a quarter less, never more.
    assert policy.delay(1, lambda: 1.0) == Delay(0.75)


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        ReconnectPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="delays"):
        ReconnectPolicy(initial_delay=-0.1)


@pytest.mark.parametrize("code", [*range(1000, 1016), 3000, 4000, 4999])
def test_close_codes_worth_reopening_are_the_official_sdks(code: int) -> None:
    from openai.types.websocket_reconnection import is_recoverable_close

    assert ReconnectPolicy().should_reconnect(code) is is_recoverable_close(code)
