"""The connection-pool policy: which connection a request gets, and what gets closed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    ConnectionInfo,
    PoolLimits,
    PoolPolicy,
    assign_connection,
    expired_connections,
    release_connection,
)

A = ("https", "api.openai.com", 443)
B = ("http", "127.0.0.1", 8080)
NOW = 1000.0


def conn(id: int, origin: tuple[str, str, int] = A, **kwargs: Any) -> ConnectionInfo:
    return ConnectionInfo(id=id, origin=origin, **kwargs)


def h1_idle(id: int, since: float, origin: tuple[str, str, int] = A) -> ConnectionInfo:
    return conn(id, origin, idle_since=since)


def h1_busy(id: int, origin: tuple[str, str, int] = A) -> ConnectionInfo:
    return conn(id, origin, open_streams=1)


def h2(id: int, streams: int, max_streams: int = 100, **kwargs: Any) -> ConnectionInfo:
    return conn(id, http_version="HTTP/2", open_streams=streams, max_streams=max_streams, **kwargs)


def test_empty_pool_opens() -> None:
    decision = assign_connection(A, [], now=NOW)
    assert decision.action == "open"
    assert decision.close == ()


def test_http2_with_free_streams_preferred() -> None:
    pool = [
        h1_idle(1, NOW - 1),
        h2(2, streams=5),
        h2(3, streams=2),
        h2(4, streams=1, max_streams=1),
    ]
    decision = assign_connection(A, pool, now=NOW)
    assert (decision.action, decision.connection_id) == ("reuse", 3)


def test_most_recently_idle_http11_reused() -> None:
    pool = [h1_idle(1, NOW - 3), h1_idle(2, NOW - 1), h1_idle(3, NOW - 2), h1_busy(4)]
    decision = assign_connection(A, pool, now=NOW)
    assert (decision.action, decision.connection_id) == ("reuse", 2)
    assert decision.close == ()


def test_expired_and_broken_idle_connections_closed() -> None:
    pool = [
        h1_idle(1, NOW - 10),  # past the 5 s expiry
        conn(2, idle_since=NOW - 1, is_reusable=False),
        conn(3, open_streams=1, is_reusable=False),  # busy: finishes its response first
        h1_idle(4, NOW - 1),
    ]
    decision = assign_connection(A, pool, now=NOW)
    assert (decision.action, decision.connection_id) == ("reuse", 4)
    assert sorted(decision.close) == [1, 2]
    assert expired_connections(pool, now=NOW) == (1, 2)


def test_not_reusable_never_handed_out() -> None:
    pool = [conn(1, idle_since=NOW, is_reusable=False), h2(2, 0, is_reusable=False)]
    decision = assign_connection(A, pool, now=NOW)
    assert decision.action == "open"
    assert sorted(decision.close) == [1, 2]


def test_other_origin_never_used() -> None:
    decision = assign_connection(A, [h1_idle(1, NOW, origin=B), h2(2, 0, origin=B)], now=NOW)
    assert decision.action == "open"


def test_full_pool_evicts_idle_connection_to_other_origin() -> None:
    limits = PoolLimits(max_connections=3)
    pool = [h1_busy(1), h1_idle(2, NOW - 1, origin=B), h1_idle(3, NOW - 2, origin=B)]
    decision = assign_connection(A, pool, limits=limits, now=NOW)
    assert decision.action == "open"
    assert decision.close == (3,)


def test_full_pool_of_busy_connections_waits() -> None:
    limits = PoolLimits(max_connections=2)
    pool = [h1_busy(1), h2(2, streams=10, max_streams=10)]
    decision = assign_connection(A, pool, limits=limits, now=NOW)
    assert decision.action == "wait"
    assert decision.connection_id is None


def test_keepalive_cap_closes_oldest_idle() -> None:
    limits = PoolLimits(max_keepalive_connections=1)
    pool = [h1_idle(1, NOW - 3), h1_idle(2, NOW - 2, origin=B), h1_idle(3, NOW - 1, origin=B)]
    decision = assign_connection(A, pool, limits=limits, now=NOW)
    assert (decision.action, decision.connection_id) == ("reuse", 1)
    assert decision.close == (2,)


def test_release() -> None:
    pool = [h1_idle(1, NOW)]
    assert release_connection(1, pool, now=NOW).keep
    broken = release_connection(1, [conn(1, idle_since=NOW, is_reusable=False)], now=NOW)
    assert (broken.keep, broken.close) == (False, (1,))
    no_keepalive = release_connection(1, pool, limits=PoolLimits(keepalive_expiry=0), now=NOW)
    assert not no_keepalive.keep
    capped = release_connection(
        3,
        [h1_idle(1, NOW - 2), h1_idle(2, NOW - 1), h1_idle(3, NOW)],
        limits=PoolLimits(max_keepalive_connections=2),
        now=NOW,
    )
    assert capped.keep and capped.close == (1,)
    none_kept = release_connection(1, pool, limits=PoolLimits(max_keepalive_connections=0), now=NOW)
    assert not none_kept.keep
    streams_left = release_connection(2, [h2(2, streams=3)], now=NOW)
    assert streams_left.keep
    with pytest.raises(KeyError):
        release_connection(9, pool, now=NOW)


def test_connections_being_opened_count_against_the_limit() -> None:
    limits = PoolLimits(max_connections=2)
    assert assign_connection(A, [h1_busy(1)], limits=limits, now=NOW).action == "open"
    waiting = assign_connection(A, [h1_busy(1)], limits=limits, now=NOW, opening=1)
    assert waiting.action == "wait"


def test_fresh_only_never_reuses() -> None:
    pool = [h1_idle(1, NOW - 1), h2(2, streams=0, idle_since=NOW)]
    decision = assign_connection(A, pool, now=NOW, fresh_only=True)
    assert decision.opens and decision.reuse is None
    full = assign_connection(
        A, pool, limits=PoolLimits(max_connections=2), now=NOW, fresh_only=True
    )
    assert full.opens and full.close == (1,)


def test_policy_object() -> None:
    policy = PoolPolicy(PoolLimits(max_keepalive_connections=1))
    decision = policy.decide(A, [h1_idle(1, NOW)], now=NOW)
    assert decision.reuse == 1 and not decision.opens
    assert policy.keep_on_release(h1_idle(1, NOW), [h1_busy(1)], now=NOW)
    assert not policy.keep_on_release(conn(1, idle_since=NOW, is_reusable=False), [], now=NOW)
    assert policy.expired([h1_idle(1, NOW - 6), h1_idle(2, NOW)], now=NOW) == (1,)
    assert not policy.release(2, [h1_idle(1, NOW - 1), h1_idle(2, NOW - 2)], now=NOW).keep


def test_limits_validated() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        PoolLimits(max_connections=-1)
    defaults = PoolLimits()
    assert (defaults.max_connections, defaults.max_keepalive_connections) == (1000, 100)
    assert defaults.keepalive_expiry == 5.0


# --- properties ----------------------------------------------------------------

origins = st.sampled_from([A, B, ("https", "example.com", 443)])


@st.composite
def snapshots(draw: st.DrawFn) -> list[ConnectionInfo]:
    count = draw(st.integers(0, 12))
    pool = []
    for index in range(count):
        version = draw(st.sampled_from(["HTTP/1.1", "HTTP/2"]))
        max_streams = 1 if version == "HTTP/1.1" else draw(st.integers(0, 5))
        streams = draw(st.integers(0, max(max_streams, 1)))
        idle_since = draw(st.floats(NOW - 20, NOW)) if streams == 0 else None
        pool.append(
            ConnectionInfo(
                id=index,
                origin=draw(origins),
                http_version=version,
                open_streams=streams,
                max_streams=max_streams,
                is_reusable=draw(st.booleans()),
                idle_since=idle_since,
            )
        )
    return pool


limit_sets = st.builds(
    PoolLimits,
    max_connections=st.one_of(st.none(), st.integers(0, 12)),
    max_keepalive_connections=st.one_of(st.none(), st.integers(0, 6)),
    keepalive_expiry=st.one_of(st.none(), st.floats(0, 10)),
)


@given(origins, snapshots(), limit_sets, st.integers(0, 3), st.booleans())
@settings(max_examples=300, deadline=None)
def test_assign_properties(
    origin: tuple[str, str, int],
    pool: list[ConnectionInfo],
    limits: PoolLimits,
    opening: int,
    fresh_only: bool,
) -> None:
    decision = assign_connection(
        origin, pool, limits=limits, now=NOW, opening=opening, fresh_only=fresh_only
    )
    by_id = {c.id: c for c in pool}
    closed = set(decision.close)
    assert len(closed) == len(decision.close)
    for id in closed:
        assert by_id[id].is_idle, "a busy connection was closed"
    kept = [c for c in pool if c.id not in closed]
    idle_kept = [c for c in kept if c.is_idle and c.id != decision.connection_id]
    if limits.max_keepalive_connections is not None:
        assert len(idle_kept) <= limits.max_keepalive_connections
    for c in kept:
        if c.is_idle:
            assert c.is_reusable
            assert not c.is_expired(NOW, limits.keepalive_expiry)

    if decision.action == "reuse":
        assert not fresh_only
        chosen = by_id[decision.connection_id]  # type: ignore[index]
        assert chosen.origin == origin
        assert chosen.is_reusable
        assert chosen.open_streams < chosen.max_streams
        assert chosen.id not in closed
        assert not chosen.is_expired(NOW, limits.keepalive_expiry)
    else:
        assert decision.connection_id is None
        if decision.action == "open" and limits.max_connections is not None:
            assert len(kept) + opening + 1 <= limits.max_connections
        if decision.action == "wait":
            assert limits.max_connections is not None
            assert fresh_only or not any(
                c.origin == origin and c.has_capacity for c in kept if c.http_version == "HTTP/2"
            )


@given(snapshots(), limit_sets, st.data())
@settings(max_examples=200, deadline=None)
def test_release_properties(
    pool: list[ConnectionInfo], limits: PoolLimits, data: st.DataObject
) -> None:
    if not pool:
        return
    target = data.draw(st.sampled_from(pool))
    decision = release_connection(target.id, pool, limits=limits, now=NOW)
    by_id = {c.id: c for c in pool}
    assert all(by_id[id].is_idle for id in decision.close)
    assert decision.keep is (target.id not in decision.close)
    if not target.is_reusable and target.is_idle:
        assert not decision.keep
    if not target.is_idle:
        assert decision.keep


def test_waits_for_a_connection_that_may_multiplex() -> None:
    # RFC 9113 §9.1.1: one HTTP/2 connection per origin, so concurrent first
    # requests wait for the one being opened instead of each opening their own.
    waiting = assign_connection(A, [], now=NOW, opening=1, opening_multiplexed=1)
    assert waiting.action == "wait"
    # Once it is open and speaks HTTP/2, it is shared.
    assert assign_connection(A, [h2(1, streams=1)], now=NOW).action == "reuse"
    # A free connection is still used at once, and a fresh-only request opens.
    assert assign_connection(A, [h1_idle(2, NOW - 1)], now=NOW, opening_multiplexed=1).action == (
        "reuse"
    )
    fresh = assign_connection(A, [], now=NOW, opening=1, opening_multiplexed=1, fresh_only=True)
    assert fresh.action == "open"
