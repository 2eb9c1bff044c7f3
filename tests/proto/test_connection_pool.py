"""The stateful connection pool: checkouts, releases, waiters, expiry and limits.

Unit tests for each rule, a Hypothesis state machine that drives the pool the way
an adapter would (checking every answer against a model of what it may hand
out), and a count of the pool's own work per checkout and release at 1 to 500
pooled connections (lines executed, never time).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

import oxide_proto
from oxide_proto import Checkout, ConnectionPool, PoolActions, PoolLimits

A = ("https", "api.openai.com", 443)
B = ("http", "127.0.0.1", 8080)
C = ("https", "example.com", 443)
NOW = 1000.0


def opened(
    pool: ConnectionPool, origin: tuple[str, str, int] = A, now: float = NOW, **kwargs: Any
) -> int:
    """Opens a new connection to `origin` (a fresh checkout) and reports it opened."""
    checkout, actions = pool.checkout(origin, now, fresh=True)
    assert checkout.action == "open", checkout
    assert not actions
    pool.opened(checkout.connection_id, now, **kwargs)
    return checkout.connection_id


def idle(pool: ConnectionPool, origin: tuple[str, str, int] = A, now: float = NOW) -> int:
    """A new HTTP/1.1 connection to `origin`, released idle at `now`."""
    connection_id = opened(pool, origin, now)
    assert not pool.released(connection_id, now)
    return connection_id


def test_empty_pool_opens_and_then_reuses() -> None:
    pool = ConnectionPool()
    checkout, actions = pool.checkout(A, NOW)
    assert (checkout.action, actions.close, actions.wake) == ("open", (), ())
    assert pool.connection_count == 1
    pool.opened(checkout.connection_id, NOW)
    pool.released(checkout.connection_id, NOW)
    again, _ = pool.checkout(A, NOW + 1)
    assert (again.action, again.connection_id) == ("reuse", checkout.connection_id)


def test_most_recently_idle_http11_first_and_busy_never_shared() -> None:
    pool = ConnectionPool()
    first, second = opened(pool), opened(pool)
    pool.released(first, NOW)
    pool.released(second, NOW + 1)
    got = [pool.checkout(A, NOW + 2)[0] for _ in range(3)]
    assert [c.action for c in got] == ["reuse", "reuse", "open"]
    assert [c.connection_id for c in got[:2]] == [second, first]


def test_http2_least_loaded_with_free_streams_first() -> None:
    pool = ConnectionPool()
    h1 = idle(pool)
    busy = opened(pool, http2=True, max_streams=3)
    for _ in range(2):
        assert pool.checkout(A, NOW)[0].connection_id == busy
    light = opened(pool, http2=True, max_streams=3)
    assert pool.released(busy, NOW) == pool.released(light, NOW)
    # busy carries 2, light 0: light until it carries as many, then the least
    # loaded in turn; once both are full, the idle HTTP/1.1 connection.
    got = [pool.checkout(A, NOW)[0].connection_id for _ in range(5)]
    assert got == [light, light, busy, light, h1]


def test_other_origin_never_used() -> None:
    pool = ConnectionPool()
    idle(pool, B)
    opened(pool, B, http2=True, max_streams=100)
    assert pool.checkout(A, NOW)[0].action == "open"


def test_proxied_and_direct_connections_never_mixed() -> None:
    pool = ConnectionPool()
    proxy = oxide_proto.parse_proxy_url("http://proxy.local:3128")
    other = oxide_proto.parse_proxy_url("http://u:pw@proxy.local:3128")
    idle(pool, A)
    direct = opened(pool, A, http2=True, max_streams=100)
    via, _ = pool.checkout((*A, proxy), NOW)
    assert via.action == "open"
    pool.opened(via.connection_id, NOW, http2=True, max_streams=100)
    assert pool.checkout((*A, proxy), NOW)[0].connection_id == via.connection_id
    # Other credentials are another proxy: their own connection.
    assert pool.checkout((*A, other), NOW)[0].action == "open"
    assert pool.checkout(A, NOW)[0].connection_id == direct


def test_not_reusable_connection_closed_on_release_and_never_handed_out() -> None:
    pool = ConnectionPool()
    h2 = opened(pool, http2=True, max_streams=10)
    second, _ = pool.checkout(A, NOW)
    assert second.connection_id == h2
    # GOAWAY: the stream ending reports it; the other stream still runs.
    assert not pool.released(h2, NOW, reusable=False)
    assert pool.checkout(A, NOW)[0].action == "open"
    assert pool.released(h2, NOW).close == (h2,)


def test_expired_idle_connections_closed_by_the_next_call() -> None:
    pool = ConnectionPool()  # 5 s expiry
    old, other = idle(pool, A, NOW), idle(pool, B, NOW + 1)
    checkout, actions = pool.checkout(A, NOW + 5.5)
    assert actions.close == (old,)
    assert checkout.action == "open"
    # A release closes them too, oldest first.
    assert pool.released(opened(pool, C, NOW + 5.5), NOW + 6).close == (other,)
    assert pool.expire(NOW + 11.5).close != ()
    assert pool.idle_count == 0


def test_keepalive_cap_closes_the_oldest_idle() -> None:
    pool = ConnectionPool(PoolLimits(max_keepalive_connections=2))
    ids = [opened(pool, origin) for origin in (A, B, C)]
    assert not pool.released(ids[0], NOW)
    assert not pool.released(ids[1], NOW + 1)
    assert pool.released(ids[2], NOW + 2).close == (ids[0],)
    none_kept = ConnectionPool(PoolLimits(max_keepalive_connections=0))
    only = opened(none_kept)
    assert none_kept.released(only, NOW).close == (only,)


def test_full_pool_evicts_the_oldest_idle_connection() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=3))
    opened(pool, A)
    older, newer = idle(pool, B, NOW - 2), idle(pool, B, NOW - 1)
    checkout, actions = pool.checkout(A, NOW)
    assert checkout.action == "open" and actions.close == (older,)
    assert pool.connection_count == 3
    assert pool.snapshot()[1].id == newer


def test_full_pool_waits_then_serves_waiters_first_come_first_served() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=2))
    first, second = opened(pool), opened(pool)
    waiting = [pool.checkout(A, NOW)[0] for _ in range(3)]
    assert [c.action for c in waiting] == ["wait"] * 3
    assert pool.waiting_count == 3
    woken = pool.released(second, NOW + 1).wake
    assert woken == (waiting[0],)
    assert (waiting[0].action, waiting[0].connection_id) == ("reuse", second)
    # A new request queues behind the ones already waiting.
    late, _ = pool.checkout(A, NOW + 1)
    assert late.action == "wait"
    assert pool.released(first, NOW + 2).wake == (waiting[1],)
    assert pool.released(first, NOW + 3).wake == (waiting[2],)
    assert pool.released(second, NOW + 3).wake == (late,)
    assert pool.waiting_count == 0


def test_a_freed_slot_goes_to_the_origin_that_waited_longest() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=1))
    a = opened(pool, A)
    b_waiter, _ = pool.checkout(B, NOW)
    c_waiter, _ = pool.checkout(C, NOW)
    # A's connection goes idle: no one waits for A, so it is closed to let B open.
    actions = pool.released(a, NOW + 1)
    assert actions.close == (a,) and actions.wake == (b_waiter,)
    assert b_waiter.action == "open"
    pool.open_failed(b_waiter.connection_id, NOW + 2)
    assert c_waiter.action == "open"


def test_waiter_gives_up() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=1))
    only = opened(pool)
    gave_up, _ = pool.checkout(A, NOW)
    patient, _ = pool.checkout(A, NOW)
    assert not pool.cancel(gave_up, NOW + 1)
    assert gave_up.action == "cancelled"
    assert pool.released(only, NOW + 2).wake == (patient,)
    # Cancelling a served checkout changes nothing: the adapter gives it back.
    assert not pool.cancel(patient, NOW + 3)
    assert patient.action == "reuse"


def test_requests_wait_for_a_connection_that_may_multiplex() -> None:
    pool = ConnectionPool()
    opener, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert opener.action == "open"
    waiters = [pool.checkout(A, NOW, may_multiplex=True)[0] for _ in range(4)]
    assert {c.action for c in waiters} == {"wait"}
    # HTTP/2 with 3 streams: the opener's and two more; the third waiter opens the
    # next connection and the last one waits for it.
    actions = pool.opened(opener.connection_id, NOW, http2=True, max_streams=3)
    assert actions.wake == tuple(waiters[:3])
    assert [c.action for c in waiters] == ["reuse", "reuse", "open", "wait"]
    assert waiters[0].connection_id == opener.connection_id
    pool.opened(waiters[2].connection_id, NOW, http2=True, max_streams=3)
    assert waiters[3].connection_id == waiters[2].connection_id


def test_an_origin_found_to_speak_http11_opens_without_waiting() -> None:
    pool = ConnectionPool()
    opener, _ = pool.checkout(A, NOW, may_multiplex=True)
    waiters = [pool.checkout(A, NOW, may_multiplex=True)[0] for _ in range(3)]
    actions = pool.opened(opener.connection_id, NOW, http2=False)
    assert actions.wake == tuple(waiters)
    assert [c.action for c in waiters] == ["open"] * 3
    assert pool.checkout(A, NOW, may_multiplex=True)[0].action == "open"


def test_a_failed_open_passes_the_turn_to_the_next_waiter() -> None:
    pool = ConnectionPool()
    opener, _ = pool.checkout(A, NOW, may_multiplex=True)
    waiter, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert pool.open_failed(opener.connection_id, NOW).wake == (waiter,)
    assert waiter.action == "open"
    assert pool.connection_count == 1


def test_fresh_checkouts_share_a_connection_opened_after_them() -> None:
    pool = ConnectionPool()
    stale = opened(pool, http2=True, max_streams=100)
    retries = [pool.checkout(A, NOW, fresh=True, may_multiplex=True)[0] for _ in range(3)]
    assert [c.action for c in retries] == ["open", "wait", "wait"]
    actions = pool.opened(retries[0].connection_id, NOW, http2=True, max_streams=100)
    assert actions.wake == tuple(retries[1:])
    assert {c.connection_id for c in retries} == {retries[0].connection_id} != {stale}
    # Without HTTP/2, a fresh checkout never gets an older connection.
    pool = ConnectionPool()
    older = idle(pool)
    fresh, _ = pool.checkout(A, NOW, fresh=True)
    assert fresh.action == "open" and fresh.connection_id != older


def test_clear_forgets_everything_and_cancels_waiters() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=2))
    busy, spare = opened(pool), idle(pool)
    pool.checkout(A, NOW)  # takes the idle one
    waiter, _ = pool.checkout(A, NOW)
    actions = pool.clear()
    assert sorted(actions.close) == sorted([busy, spare]) and actions.wake == (waiter,)
    assert waiter.action == "cancelled"
    assert pool.connection_count == 0
    # Late releases of connections it forgot are ignored.
    assert not pool.released(busy, NOW)


def test_reset_forgets_everything_without_closing_and_keeps_counting_ids() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=3))
    busy, spare = opened(pool), idle(pool)
    pool.checkout(A, NOW)  # takes the idle one
    being_opened, _ = pool.checkout(B, NOW)
    assert being_opened.action == "open"
    pool.reset()
    assert (pool.connection_count, pool.idle_count, pool.waiting_count) == (0, 0, 0)
    # The whole limit is free again (the connection being opened no longer counts)
    # and nothing was asked to close.
    fresh = [pool.checkout(A, NOW) for _ in range(3)]
    assert [c.action for c, _ in fresh] == ["open"] * 3
    assert not any(actions for _, actions in fresh)
    # Ids of before never come back: late reports about them are ignored.
    old = {busy, spare, being_opened.connection_id}
    assert not old & {c.connection_id for c, _ in fresh}
    assert not pool.released(busy, NOW) and not pool.released(spare, NOW)
    assert pool.connection_count == 3


def test_misuse_is_refused() -> None:
    pool = ConnectionPool()
    connection_id = idle(pool)
    with pytest.raises(ValueError, match="no stream to release"):
        pool.released(connection_id, NOW)
    with pytest.raises(KeyError):
        pool.opened(12345, NOW)


def test_snapshot_describes_connections_as_connection_info() -> None:
    pool = ConnectionPool()
    opened(pool, http2=True, max_streams=7)
    (info,) = pool.snapshot()
    assert isinstance(info, oxide_proto.ConnectionInfo)
    assert (info.http_version, info.open_streams, info.max_streams) == ("HTTP/2", 1, 7)


# -- HTTP/2 peers that push back: unknown limits, GOAWAY, refused requests --------------


def test_requests_wait_for_an_http2_peers_stream_limit() -> None:
    # The peer's SETTINGS have not arrived when the connection is up: it carries
    # its opener's stream only, and nobody opens a connection of their own.
    pool = ConnectionPool()
    opener, _ = pool.checkout(A, NOW, may_multiplex=True)
    waiters = [pool.checkout(A, NOW, may_multiplex=True)[0] for _ in range(4)]
    assert not pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
    assert {c.action for c in waiters} == {"wait"}
    assert pool.checkout(A, NOW, may_multiplex=True)[0].action == "wait"
    assert pool.connection_count == 1
    actions = pool.update(opener.connection_id, NOW, max_streams=3)
    assert actions.wake == tuple(waiters[:3])
    # Two more streams on it; the third waiter opens the next connection (the
    # first one is full), the others wait for that one.
    assert [c.action for c in waiters] == ["reuse", "reuse", "open", "wait"]
    assert pool.connection_count == 2


def test_a_limit_learned_at_release_settles_the_connection() -> None:
    pool = ConnectionPool()
    opener, _ = pool.checkout(A, NOW, may_multiplex=True)
    waiter, _ = pool.checkout(A, NOW, may_multiplex=True)
    pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
    # Released before any news (max_streams unknown still): the waiter takes the
    # stream freed, and the limit stays unknown.
    assert pool.released(opener.connection_id, NOW).wake == (waiter,)
    assert waiter.connection_id == opener.connection_id
    late, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert late.action == "wait"
    assert pool.released(opener.connection_id, NOW, max_streams=5).wake == (late,)


def test_goaway_stops_new_streams_and_closes_after_the_last_one() -> None:
    pool = ConnectionPool()
    h2 = opened(pool, http2=True, max_streams=10)
    second, _ = pool.checkout(A, NOW)
    assert second.connection_id == h2
    # GOAWAY read while both streams run: neither is cut off.
    assert not pool.update(h2, NOW, reusable=False)
    assert pool.connection_count == 1
    newcomer, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert newcomer.action == "open"
    assert not pool.released(h2, NOW)
    assert pool.released(h2, NOW).close == (h2,)
    # News about a connection the pool closed already is ignored.
    assert not pool.update(h2, NOW, reusable=False, max_streams=3)


def test_goaway_before_the_limit_is_known_releases_the_waiters() -> None:
    pool = ConnectionPool()
    opener, _ = pool.checkout(A, NOW, may_multiplex=True)
    waiter, _ = pool.checkout(A, NOW, may_multiplex=True)
    pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
    assert pool.update(opener.connection_id, NOW, reusable=False).wake == (waiter,)
    assert waiter.action == "open" and waiter.connection_id != opener.connection_id


def test_a_waiter_for_an_unsettled_connection_takes_its_released_stream() -> None:
    # Released before the peer's SETTINGS, the connection's stream goes to the
    # request waiting for it rather than the connection idling (and, with no idle
    # connections kept, being closed under the waiter).
    pool = ConnectionPool(PoolLimits(max_keepalive_connections=0))
    opener, _ = pool.checkout(B, NOW, may_multiplex=True)
    pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
    waiter, _ = pool.checkout(B, NOW, may_multiplex=True, requeue=True)
    assert waiter.action == "wait"
    actions = pool.released(opener.connection_id, NOW)
    assert actions.close == () and actions.wake == (waiter,)
    assert waiter.action == "reuse" and waiter.connection_id == opener.connection_id
    assert pool.waiting_count == 0


@pytest.mark.parametrize("requeue", [False, True])
def test_a_fresh_checkout_does_not_wait_for_an_older_unsettled_connection(requeue: bool) -> None:
    # A fresh request may not use the connection opened before it, so it does not
    # wait for that connection's SETTINGS, nor behind the requests that do: it
    # opens its own, and a later fresh one waits for that one (being opened).
    pool = ConnectionPool()
    opener, _ = pool.checkout(B, NOW, may_multiplex=True)
    pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
    queued, _ = pool.checkout(B, NOW, may_multiplex=True, requeue=requeue)
    assert queued.action == "wait"
    fresh, _ = pool.checkout(B, NOW, fresh=True, may_multiplex=True, requeue=requeue)
    assert fresh.action == "open" and fresh.connection_id != opener.connection_id
    behind, _ = pool.checkout(B, NOW, fresh=True)
    assert behind.action == "wait"
    # Its connection is up with room for both waiters, in their order.
    woken = pool.opened(fresh.connection_id, NOW, http2=True, max_streams=5).wake
    assert woken == (queued, behind)
    assert {queued.connection_id, behind.connection_id} == {fresh.connection_id}
    # The older connection's SETTINGS serve nobody now; it stays for later requests.
    assert not pool.update(opener.connection_id, NOW, max_streams=5)
    assert pool.checkout(B, NOW)[0].connection_id == opener.connection_id


def test_the_falsifying_sequence_of_the_state_machine_serves_every_waiter() -> None:
    # The adapter's calls that once left three requests waiting with nothing open,
    # being opened or in use (no idle connections kept).
    pool = ConnectionPool(PoolLimits(max_keepalive_connections=0))
    first, _ = pool.checkout(A, NOW, fresh=True, may_multiplex=True, requeue=True)
    pool.opened(first.connection_id, NOW, http2=False)
    pool.released(first.connection_id, NOW)
    plain, _ = pool.checkout(A, NOW)
    to_b, _ = pool.checkout(B, NOW, may_multiplex=True, requeue=True)
    pool.opened(plain.connection_id, NOW, http2=True, max_streams=None)
    pool.opened(to_b.connection_id, NOW, http2=True, max_streams=None)
    second, _ = pool.checkout(A, NOW, may_multiplex=True, requeue=True)
    pool.opened(second.connection_id, NOW + 6, http2=True, max_streams=1)
    waiters = [pool.checkout(B, NOW + 6, fresh=True, may_multiplex=True, requeue=True)[0]]
    pool.released(plain.connection_id, NOW + 6, reusable=False)
    waiters.append(pool.checkout(B, NOW + 6, fresh=True)[0])
    waiters.append(pool.checkout(B, NOW + 8, may_multiplex=True, requeue=True)[0])
    pool.checkout(A, NOW + 8, fresh=True, requeue=True)
    # The first fresh one opens its own (the older connection to B is no use to
    # it); the others wait for that one.
    assert [c.action for c in waiters] == ["open", "wait", "wait"]
    # The requeued one takes the older connection's released stream; the fresh
    # one waits for the connection being opened, and shares it.
    woken = pool.released(to_b.connection_id, NOW + 14)
    assert woken.wake == (waiters[2],) and waiters[2].connection_id == to_b.connection_id
    woken = pool.opened(waiters[0].connection_id, NOW + 14, http2=True, max_streams=3)
    assert woken.wake == (waiters[1],)
    assert waiters[1].connection_id == waiters[0].connection_id
    assert pool.waiting_count == 0


def test_an_unsettled_connection_that_expires_strands_no_fresh_request() -> None:
    # Closed idle by any call (a sweep, another origin's checkout), not only by a
    # call about its own origin; the fresh request had opened its own already.
    for close_it in ("expire", "checkout"):
        pool = ConnectionPool(PoolLimits(keepalive_expiry=5.0))
        opener, _ = pool.checkout(B, NOW, may_multiplex=True)
        pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
        fresh, _ = pool.checkout(B, NOW, fresh=True, may_multiplex=True)
        assert fresh.action == "open"
        assert not pool.released(opener.connection_id, NOW).wake
        if close_it == "expire":
            actions = pool.expire(NOW + 5)
        else:
            other, actions = pool.checkout(A, NOW + 5)
            assert other.action == "open"
        assert actions.close == (opener.connection_id,) and not actions.wake
        assert pool.waiting_count == 0


def test_a_fresh_request_waiting_for_a_slot_takes_the_older_idle_connections() -> None:
    # The only slot is held by the connection to B opened before the fresh request,
    # which it may not use: once that connection is idle, it is closed for the
    # request's own.
    pool = ConnectionPool(PoolLimits(max_connections=1))
    opener, _ = pool.checkout(B, NOW, may_multiplex=True)
    pool.opened(opener.connection_id, NOW, http2=True, max_streams=None)
    waiter, _ = pool.checkout(B, NOW, fresh=True, may_multiplex=True)
    assert waiter.action == "wait"
    actions = pool.released(opener.connection_id, NOW)
    assert actions.close == (opener.connection_id,)
    assert actions.wake == (waiter,) and waiter.action == "open"
    assert pool.waiting_count == 0


def test_refused_requests_go_first_in_the_order_they_come_back() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=1))
    h2 = opened(pool, http2=True, max_streams=3)
    held = [pool.checkout(A, NOW)[0] for _ in range(2)]
    assert {c.connection_id for c in held} == {h2}
    queued = [pool.checkout(A, NOW)[0] for _ in range(2)]
    assert {c.action for c in queued} == {"wait"}
    # Two of the three streams are refused: given back, asked for again.
    refused = []
    for _ in range(2):
        assert not pool.released(h2, NOW, max_streams=1)
        refused.append(pool.checkout(A, NOW, requeue=True)[0])
    assert {c.action for c in refused} == {"wait"} and pool.waiting_count == 4
    wakes = [pool.released(h2, NOW, max_streams=1).wake for _ in range(1)]
    wakes.append(pool.released(refused[0].connection_id, NOW).wake)
    wakes.append(pool.released(refused[1].connection_id, NOW).wake)
    wakes.append(pool.released(queued[0].connection_id, NOW).wake)
    assert wakes == [(refused[0],), (refused[1],), (queued[0],), (queued[1],)]


def test_a_requeued_request_is_served_at_once_when_it_can_be() -> None:
    pool = ConnectionPool(PoolLimits(max_connections=1))
    h2 = opened(pool, http2=True, max_streams=2)
    waiting_for_a_slot, _ = pool.checkout(B, NOW)
    assert waiting_for_a_slot.action == "wait"
    again, _ = pool.checkout(A, NOW, requeue=True)
    assert (again.action, again.connection_id) == ("reuse", h2)


def test_a_burst_refused_by_goaway_shares_one_new_connection() -> None:
    # 100 streams on one connection; the peer processes 10 and goes away. The 90
    # it refused come back: one new connection for all of them, whatever they do.
    pool = ConnectionPool()
    first = opened(pool, http2=True, max_streams=100)
    for _ in range(99):
        assert pool.checkout(A, NOW, may_multiplex=True)[0].connection_id == first
    assert not pool.update(first, NOW, reusable=False)
    opens = 0
    requeued = []
    for _ in range(90):
        pool.released(first, NOW, reusable=False)
        checkout, _ = pool.checkout(A, NOW, may_multiplex=True, requeue=True)
        opens += checkout.action == "open"
        requeued.append(checkout)
    assert opens == 1 and pool.connection_count == 2
    opener = requeued[0]
    # The first connection's limit holds for the new one until its SETTINGS come.
    woken = pool.opened(opener.connection_id, NOW, http2=True, max_streams=None).wake
    assert woken == tuple(requeued[1:])
    assert not pool.update(opener.connection_id, NOW, max_streams=100)
    assert {c.connection_id for c in requeued} == {opener.connection_id}
    for _ in range(10):
        pool.released(first, NOW)
    assert pool.connection_count == 1


def _burst_before_settings(pool: ConnectionPool, origin: tuple[str, str, int]) -> int:
    """Ten requests to `origin` with no connection free: how many streams the new
    connection is given before its peer's SETTINGS arrive."""
    checkouts = [pool.checkout(origin, NOW, may_multiplex=True)[0] for _ in range(10)]
    assert [c.action for c in checkouts].count("open") == 1
    opener = checkouts[0]
    woken = pool.opened(opener.connection_id, NOW, http2=True, max_streams=None).wake
    assert all(c.connection_id == opener.connection_id for c in woken)
    return 1 + len(woken)


def test_a_new_connection_takes_the_origins_last_limit_until_its_settings() -> None:
    # Nothing learned about the origin yet: the opener's stream alone.
    assert _burst_before_settings(ConnectionPool(), A) == 1
    pool = ConnectionPool()
    # A connection to A said 3 (SETTINGS), then went away idle.
    first = opened(pool, A, http2=True, max_streams=None)
    assert not pool.update(first, NOW, max_streams=3)
    assert pool.released(first, NOW, reusable=False).close == (first,)
    # The next connection to A is sent 3 streams before its SETTINGS, not 10 (the
    # peer would refuse 7) and not 1 (7 more would wait for the SETTINGS).
    assert _burst_before_settings(pool, A) == 3
    (second,) = [c.id for c in pool.snapshot() if c.origin == A]
    # Its SETTINGS say 5: two more of the waiting requests go, and, the connection
    # full, the next opens another.
    woken = pool.update(second, NOW, max_streams=5).wake
    assert [c.action for c in woken] == ["reuse", "reuse", "open"]
    # What refusals taught is learned too: 2 streams on it now, so 2 on the next
    # connection before its SETTINGS.
    assert not pool.update(second, NOW, max_streams=2)
    third = woken[-1].connection_id
    assert len(pool.opened(third, NOW, http2=True, max_streams=None).wake) == 1
    assert pool.waiting_count == 3


def test_a_peer_that_takes_no_stream_gets_none_and_is_not_kept_idle() -> None:
    # SETTINGS_MAX_CONCURRENT_STREAMS = 0 on a connection carrying its opener's
    # stream: it gets no other request; the next opens another connection, which
    # carries its own opener only until its SETTINGS (the origin said 0).
    pool = ConnectionPool()
    zero = opened(pool, A, http2=True, max_streams=None)
    assert not pool.update(zero, NOW, max_streams=0)
    assert [c.max_streams for c in pool.snapshot()] == [0]
    again, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert again.action == "open"
    behind, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert behind.action == "wait"
    assert not pool.opened(again.connection_id, NOW, http2=True, max_streams=None)
    # Its opener's stream done, the connection that takes nothing is closed: nothing
    # reads an idle connection, so a SETTINGS raising its limit would go unseen.
    assert pool.released(zero, NOW).close == (zero,)
    # The new connection's peer says 4: the waiting request goes.
    assert pool.update(again.connection_id, NOW, max_streams=4).wake == (behind,)
    assert behind.connection_id == again.connection_id


def test_a_settings_raising_a_zero_limit_serves_the_waiters() -> None:
    # No room for another connection: the request waits, and the peer raising its
    # limit on the connection in use (read by the stream running on it) serves it.
    pool = ConnectionPool(PoolLimits(max_connections=1))
    zero = opened(pool, A, http2=True, max_streams=0)
    assert [c.max_streams for c in pool.snapshot()] == [1]  # the opener's stream
    assert not pool.update(zero, NOW, max_streams=0)
    waiter, _ = pool.checkout(A, NOW, may_multiplex=True)
    assert waiter.action == "wait"
    assert pool.update(zero, NOW, max_streams=8).wake == (waiter,)
    assert (waiter.action, waiter.connection_id) == ("reuse", zero)


class _Refusal(oxide_proto.RemoteProtocolError):
    pass


def test_requeue_refused_only_unprocessed_replayable_requests_a_bounded_number_of_times() -> None:
    url = oxide_proto.URL("https", "api.openai.com", 443, "/v1/chat/completions")
    replayable = oxide_proto.Request("POST", url, oxide_proto.Headers(), b"{}")
    one_shot = oxide_proto.Request("POST", url, oxide_proto.Headers(), iter([b"{}"]))
    refused = oxide_proto.RemoteProtocolError("refused", retry_safe=True)
    maybe_processed = oxide_proto.RemoteProtocolError("reset", retry_safe=False)
    requeue = oxide_proto.requeue_refused
    assert requeue(refused, replayable, 0)
    assert requeue(_Refusal("refused", retry_safe=True), replayable, 0)
    assert requeue(refused, replayable, oxide_proto.MAX_REFUSALS - 1)
    assert not requeue(refused, replayable, oxide_proto.MAX_REFUSALS)
    assert not requeue(refused, one_shot, 0)
    assert not requeue(maybe_processed, replayable, 0)
    assert not requeue(OSError("reset"), replayable, 0)


# -- the pool driven at random, against a model -----------------------------------------

ORIGINS = [A, B, C]


class PoolMachine(RuleBasedStateMachine):
    """An adapter that does everything in any order: every answer is checked."""

    checkouts = Bundle("checkouts")

    @initialize(
        max_connections=st.one_of(st.none(), st.integers(0, 5)),
        max_keepalive=st.one_of(st.none(), st.integers(0, 4)),
        expiry=st.one_of(st.none(), st.sampled_from([0.0, 1.0, 5.0])),
    )
    def start(
        self, max_connections: int | None, max_keepalive: int | None, expiry: float | None
    ) -> None:
        self.limits = PoolLimits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive,
            keepalive_expiry=expiry,
        )
        self.pool = ConnectionPool(self.limits)
        self.now = NOW
        # The model: open connections (origin, http2, max streams, streams held,
        # reusable, idle since), connections being opened, waiting checkouts.
        self.conns: dict[int, dict[str, Any]] = {}
        self.opening: dict[int, tuple[Any, ...]] = {}
        self.waiting: dict[int, Checkout] = {}
        self.held: list[int] = []  # one entry per stream a request holds
        self.opened = 0  # connections reported opened, to check `fresh`
        # Waiting requeued checkouts: id -> the order they came back in.
        self.requeued: dict[int, int] = {}
        self.requeues = 0
        # The stream limit last learned from an HTTP/2 connection, per origin.
        self.learned: dict[Any, int] = {}

    # What the adapter does with an answer.
    def apply(self, actions: PoolActions) -> None:
        for connection_id in actions.close:
            conn = self.conns.pop(connection_id)
            assert conn["streams"] == 0, "closed a connection carrying a stream"
        for checkout in actions.wake:
            assert self.waiting.pop(checkout.id) is checkout
            turn = self.requeued.pop(checkout.id, None)
            # First come, first served, the requests that came back (refused by the
            # peer) before the others: no checkout to the origin that comes
            # earlier still waits.
            for other in self.waiting.values():
                if other.origin != checkout.origin:
                    continue
                other_turn = self.requeued.get(other.id)
                if turn is None:
                    assert other_turn is None and other.id > checkout.id, "served out of turn"
                else:
                    assert other_turn is None or other_turn > turn, "served out of turn"
            self.granted(checkout)

    def granted(self, checkout: Checkout) -> None:
        if checkout.action == "open":
            assert checkout.connection_id not in self.conns
            assert checkout.connection_id not in self.opening
            self.opening[checkout.connection_id] = checkout.origin
            return
        assert checkout.action == "reuse", checkout
        conn = self.conns[checkout.connection_id]
        assert conn["origin"] == checkout.origin, "handed out a foreign connection"
        assert conn["reusable"], "handed out a broken connection"
        assert conn["streams"] < conn["max_streams"], "handed out a busy/saturated connection"
        assert conn["order"] > checkout.newer_than, "not a fresh connection"
        expiry = self.limits.keepalive_expiry
        if conn["streams"] == 0 and expiry is not None:
            assert self.now - conn["idle_since"] < expiry, "handed out an expired connection"
        conn["streams"] += 1
        conn["idle_since"] = None
        self.held.append(checkout.connection_id)

    @rule(
        target=checkouts,
        origin=st.sampled_from(ORIGINS),
        fresh=st.booleans(),
        may_multiplex=st.booleans(),
        requeue=st.booleans(),
    )
    def checkout(
        self, origin: tuple[str, str, int], fresh: bool, may_multiplex: bool, requeue: bool
    ) -> Checkout:
        checkout, actions = self.pool.checkout(
            origin, self.now, fresh=fresh, may_multiplex=may_multiplex, requeue=requeue
        )
        self.apply(actions)
        if checkout.action == "wait":
            self.waiting[checkout.id] = checkout
            if requeue:
                self.requeues += 1
                self.requeued[checkout.id] = self.requeues
        else:
            self.granted(checkout)
        return checkout

    @precondition(lambda self: self.opening)
    @rule(
        data=st.data(),
        http2=st.booleans(),
        max_streams=st.one_of(st.none(), st.integers(0, 4)),
    )
    def open_done(self, data: st.DataObject, http2: bool, max_streams: int | None) -> None:
        connection_id = data.draw(st.sampled_from(sorted(self.opening)))
        origin = self.opening.pop(connection_id)
        self.opened += 1
        if not http2:
            limit = 1
        elif max_streams is None:
            # An HTTP/2 peer's limit not known yet: the origin's last one, else
            # the opener's stream only.
            limit = self.learned.get(origin) or 1
        else:
            self.learned[origin] = max_streams
            limit = max_streams or 1
        self.conns[connection_id] = {
            "order": self.opened,
            "origin": origin,
            "http2": http2,
            "max_streams": limit,
            "pending": http2 and max_streams is None,
            "streams": 1,
            "reusable": True,
            "idle_since": None,
        }
        self.held.append(connection_id)
        self.apply(self.pool.opened(connection_id, self.now, http2=http2, max_streams=max_streams))

    @precondition(lambda self: self.opening)
    @rule(data=st.data())
    def open_fails(self, data: st.DataObject) -> None:
        connection_id = data.draw(st.sampled_from(sorted(self.opening)))
        del self.opening[connection_id]
        self.apply(self.pool.open_failed(connection_id, self.now))

    @precondition(lambda self: self.held)
    @rule(data=st.data(), reusable=st.booleans())
    def release(self, data: st.DataObject, reusable: bool) -> None:
        connection_id = self.held.pop(data.draw(st.integers(0, len(self.held) - 1)))
        conn = self.conns[connection_id]
        conn["streams"] -= 1
        conn["reusable"] = conn["reusable"] and reusable
        if conn["streams"] == 0:
            conn["idle_since"] = self.now
        self.apply(self.pool.released(connection_id, self.now, reusable=reusable))

    @precondition(lambda self: self.conns)
    @rule(
        data=st.data(),
        reusable=st.booleans(),
        max_streams=st.one_of(st.none(), st.integers(0, 4)),
    )
    def news(self, data: st.DataObject, reusable: bool, max_streams: int | None) -> None:
        """A connection read the peer's limit, a refusal or a GOAWAY while in use."""
        connection_id = data.draw(st.sampled_from(sorted(self.conns)))
        conn = self.conns[connection_id]
        if max_streams is not None and conn["http2"]:
            conn["max_streams"] = self.learned[conn["origin"]] = max_streams
            conn["pending"] = False
        conn["reusable"] = conn["reusable"] and reusable
        actions = self.pool.update(
            connection_id, self.now, reusable=reusable, max_streams=max_streams
        )
        if conn["streams"] == 0 and (not conn["reusable"] or conn["max_streams"] == 0):
            assert connection_id in actions.close, "kept an idle connection that takes nothing"
        self.apply(actions)

    @rule(checkout=consumes(checkouts))
    def cancel(self, checkout: Checkout) -> None:
        if checkout.id in self.waiting:
            del self.waiting[checkout.id]
            self.requeued.pop(checkout.id, None)
            self.apply(self.pool.cancel(checkout, self.now))
            assert checkout.action == "cancelled"

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 3.0, 6.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def sweep(self) -> None:
        self.apply(self.pool.expire(self.now))

    @invariant()
    def within_limits(self) -> None:
        if not hasattr(self, "pool"):
            return
        total = len(self.conns) + len(self.opening)
        assert self.pool.connection_count == total
        if self.limits.max_connections is not None:
            assert total <= self.limits.max_connections
        idle = [c for c in self.conns.values() if c["streams"] == 0]
        assert all(c["reusable"] for c in idle), "kept a broken idle connection"
        assert all(c["max_streams"] for c in idle), "kept an idle connection that takes nothing"
        if self.limits.max_keepalive_connections is not None:
            assert len(idle) <= self.limits.max_keepalive_connections
        assert self.pool.waiting_count == len(self.waiting)
        assert all(c.action == "wait" for c in self.waiting.values())

    def teardown(self) -> None:
        """Every waiter is served once the requests in flight finish (or, with no
        room at all, only times out); expired idle connections are closed."""
        if not hasattr(self, "pool"):
            return
        for _ in range(1000):
            pending = [i for i, c in self.conns.items() if c["pending"]]
            if pending:
                self.conns[pending[0]].update(max_streams=2, pending=False)
                self.learned[self.conns[pending[0]]["origin"]] = 2
                self.apply(self.pool.update(pending[0], self.now, max_streams=2))
            elif self.opening:
                connection_id = min(self.opening)
                self.open_done_now(connection_id)
            elif self.held:
                self.release_now(self.held[0])
            else:
                break
        if self.limits.max_connections == 0:
            assert not self.conns and not self.opening
            for checkout in list(self.waiting.values()):
                del self.waiting[checkout.id]
                self.requeued.pop(checkout.id, None)
                self.apply(self.pool.cancel(checkout, self.now))
        assert not self.waiting, f"never served: {list(self.waiting.values())}"
        assert not self.held and not self.opening
        if self.limits.keepalive_expiry is not None:
            self.now += self.limits.keepalive_expiry
            self.apply(self.pool.expire(self.now))
            assert not self.conns, "an expired idle connection was kept"

    def open_done_now(self, connection_id: int) -> None:
        origin = self.opening.pop(connection_id)
        self.opened += 1
        self.learned[origin] = 2
        self.conns[connection_id] = {
            "order": self.opened,
            "origin": origin,
            "http2": True,
            "pending": False,
            "max_streams": 2,
            "streams": 1,
            "reusable": True,
            "idle_since": None,
        }
        self.held.append(connection_id)
        self.apply(self.pool.opened(connection_id, self.now, http2=True, max_streams=2))

    def release_now(self, connection_id: int) -> None:
        self.held.remove(connection_id)
        conn = self.conns[connection_id]
        conn["streams"] -= 1
        if conn["streams"] == 0:
            conn["idle_since"] = self.now
        self.apply(self.pool.released(connection_id, self.now))


TestPoolMachine = PoolMachine.TestCase
TestPoolMachine.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- the pool's work per request does not grow with the pool ---------------------------

POOL_FILE = oxide_proto.http._connection_pool.__file__


def lines_run(call: Callable[[], object]) -> int:
    """How many lines of the pool's module `call` executes (a count of work, not time)."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if frame.f_code.co_filename != POOL_FILE:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def cycle(pool: ConnectionPool, origin: tuple[str, str, int], now: float) -> None:
    """One request's pool work: a checkout served at once, then its release."""
    checkout, actions = pool.checkout(origin, now)
    assert checkout.action == "reuse" and not actions
    assert not pool.released(checkout.connection_id, now)


def busy_http11(n: int) -> ConnectionPool:
    # n requests in flight on n HTTP/1.1 connections, and one idle connection.
    pool = ConnectionPool()
    for _ in range(n):
        opened(pool)
    idle(pool)
    return pool


def idle_elsewhere(n: int) -> ConnectionPool:
    # n idle connections to other origins (none expired), and one to A.
    pool = ConnectionPool(PoolLimits(max_keepalive_connections=None))
    for port in range(n):
        idle(pool, ("http", "10.0.0.1", port))
    idle(pool)
    return pool


def http2_streams(n: int) -> ConnectionPool:
    # One HTTP/2 connection carrying n streams.
    pool = ConnectionPool()
    opened(pool, http2=True, max_streams=1000)
    for _ in range(n - 1):
        pool.checkout(A, NOW)
    return pool


@pytest.mark.parametrize("shape", [busy_http11, idle_elsewhere, http2_streams])
def test_work_per_request_is_independent_of_the_pool_size(
    shape: Callable[[int], ConnectionPool],
) -> None:
    work = {}
    for n in (1, 10, 100, 500):
        pool = shape(n)
        assert pool.connection_count >= (1 if shape is http2_streams else n)
        work[n] = [lines_run(partial(cycle, pool, A, NOW + 1)) for _ in range(3)]
    assert all(counts == work[1] for counts in work.values()), work
    assert work[1][0] > 0


def test_expiry_work_is_paid_once_per_connection() -> None:
    # Closing n expired connections costs about n times closing one, spread over the
    # calls that find them: never a rescan of the whole pool per request.
    total = {}
    for n in (1, 10, 100, 500):
        pool = idle_elsewhere(n)
        total[n] = lines_run(partial(pool.checkout, A, NOW + 10))
        total[n] += sum(lines_run(partial(opened, pool, B, NOW + 10)) for _ in range(3))
        assert pool.idle_count == 0
    per_connection = {n: (total[n] - total[1]) / (n - 1) for n in (10, 100, 500)}
    assert max(per_connection.values()) <= 1.2 * min(per_connection.values()), total
