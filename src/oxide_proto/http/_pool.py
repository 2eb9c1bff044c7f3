"""Which connection a request should use: the connection pool's policy, without sockets.

Given a snapshot of every connection (`ConnectionInfo`), these functions say what
to do: reuse a connection, open a new one, or wait for one to be released, plus
the connections to close now. Each call looks at the whole snapshot, so it suits
one-off decisions; the drivers hold a `ConnectionPool` (`_connection_pool`), which
keeps the same policy incrementally. The choices follow what the official SDK's
HTTP stack does:

- HTTP/2 first: a connection to the same origin with a free stream is shared
  (RFC 9113 §9.1.1), the least loaded one first.
- Then the HTTP/1.1 connection that went idle most recently (last in, first out),
  so warm connections stay warm and the old ones age out.
- A connection that is not reusable (closed by the peer, GOAWAY received, broken)
  is never handed out; idle ones are closed, busy ones finish their streams first.
- An idle connection is closed after `keepalive_expiry` seconds, and idle ones
  past `max_keepalive_connections` are closed, oldest first.
- At `max_connections`, an idle connection to another origin is closed to make
  room; when there is none, the request waits.

Defaults are the official SDK's: 1000 connections, 100 kept alive, 5 s expiry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..base._record import field, frozen

if TYPE_CHECKING:
    from ._proxy import Proxy

__all__ = [
    "PoolLimits",
    "ConnectionInfo",
    "PoolAction",
    "PoolDecision",
    "PoolPolicy",
    "ReleaseDecision",
    "assign_connection",
    "release_connection",
    "expired_connections",
]

PoolAction = Literal["reuse", "open", "wait"]
# What connections are grouped by: `URL.origin`, or the origin plus the proxy it is
# reached through, so that a proxied and a direct connection are never mixed.
Origin = tuple[str, str, int] | tuple[str, str, int, "Proxy"]


def _optional_non_negative(instance: object, name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, (int, float)) or value < 0):
        raise ValueError(f"{name} must be None or non-negative, not {value!r}")


@frozen(kw_only=True)
class PoolLimits:
    """How many connections to hold. None means no limit (or, for the expiry, never)."""

    max_connections: int | None = field(default=1000, validator=_optional_non_negative)
    max_keepalive_connections: int | None = field(default=100, validator=_optional_non_negative)
    keepalive_expiry: float | None = field(default=5.0, validator=_optional_non_negative)


@frozen(kw_only=True)
class ConnectionInfo:
    """What the policy needs to know about one open (or opening) connection.

    `origin` is `URL.origin` (plus the proxy, when proxied). `max_streams` is 1
    for HTTP/1.1 and the peer's SETTINGS_MAX_CONCURRENT_STREAMS for HTTP/2; a
    connection still handshaking counts one open stream (the request that opened
    it), so it is not shared before its protocol is known. `idle_since` is the `now` at which
    `open_streams` last dropped to 0 (None while busy).
    """

    id: int
    origin: Origin
    http_version: str = "HTTP/1.1"
    open_streams: int = 0
    max_streams: int = 1
    is_reusable: bool = True
    idle_since: float | None = None

    @property
    def is_idle(self) -> bool:
        return self.open_streams == 0

    @property
    def has_capacity(self) -> bool:
        """Reusable and with a free stream: the only state in which it may be handed out."""
        return self.is_reusable and self.open_streams < self.max_streams

    def is_expired(self, now: float, keepalive_expiry: float | None) -> bool:
        if not self.is_idle or keepalive_expiry is None or self.idle_since is None:
            return False
        return now - self.idle_since >= keepalive_expiry


@frozen(kw_only=True)
class PoolDecision:
    """What to do for one request: `reuse` connection `connection_id`, `open` a new
    connection, or `wait` for a release and ask again. Close the `close` ids first
    (all idle, so no request is cut off); `reason` is for debug logs."""

    action: PoolAction
    connection_id: int | None = None
    close: tuple[int, ...] = ()
    reason: str = ""

    @property
    def reuse(self) -> int | None:
        """The connection to reuse, or None when the action is not `reuse`."""
        return self.connection_id if self.action == "reuse" else None

    @property
    def opens(self) -> bool:
        """True when the request opens a new connection."""
        return self.action == "open"


@frozen(kw_only=True)
class ReleaseDecision:
    """After a request is done with a connection: `keep` it idle or not; close the
    `close` ids (which include this connection when `keep` is False)."""

    keep: bool
    close: tuple[int, ...] = ()
    reason: str = ""


def _idle_age_key(conn: ConnectionInfo) -> float:
    return conn.idle_since if conn.idle_since is not None else -math.inf


def _split_dead(
    connections: Sequence[ConnectionInfo], expiry: float | None, now: float
) -> tuple[list[ConnectionInfo], list[ConnectionInfo]]:
    """(dead, live): idle connections that are broken or expired, and all the others."""
    dead: list[ConnectionInfo] = []
    live: list[ConnectionInfo] = []
    # The loop runs for every request: ConnectionInfo.is_idle / is_expired, inlined.
    for c in connections:
        if c.open_streams == 0 and (
            not c.is_reusable
            or (expiry is not None and c.idle_since is not None and now - c.idle_since >= expiry)
        ):
            dead.append(c)
        else:
            live.append(c)
    return dead, live


def _closing_split(
    dead: list[ConnectionInfo], live: list[ConnectionInfo], limits: PoolLimits, keep: int | None
) -> list[ConnectionInfo]:
    cap = limits.max_keepalive_connections
    if cap is None:
        return dead
    idle = [c for c in live if c.open_streams == 0 and c.id != keep]
    if len(idle) <= cap:
        return dead
    idle.sort(key=_idle_age_key)
    return dead + idle[: len(idle) - cap]


def _closing(
    connections: Sequence[ConnectionInfo], limits: PoolLimits, now: float, keep: int | None
) -> list[ConnectionInfo]:
    """Idle connections to close: broken or expired ones, then the oldest idle ones
    beyond the keep-alive cap. `keep` is a connection about to be used (not idle)."""
    dead, live = _split_dead(connections, limits.keepalive_expiry, now)
    return _closing_split(dead, live, limits, keep)


def expired_connections(
    connections: Sequence[ConnectionInfo], *, limits: PoolLimits | None = None, now: float
) -> tuple[int, ...]:
    """The idle connections to close now: broken, expired, or over the keep-alive cap.

    Call it from a periodic sweep, or before handing the pool's state to anything."""
    return tuple(c.id for c in _closing(connections, limits or PoolLimits(), now, None))


def _pick(origin: tuple[str, str, int], usable: list[ConnectionInfo]) -> ConnectionInfo | None:
    # An HTTP/2 connection with the fewest open streams, else the idle connection
    # used most recently (its peer is the least likely to have closed it).
    multiplexed: ConnectionInfo | None = None
    idle: ConnectionInfo | None = None
    for c in usable:
        if c.origin != origin or not c.is_reusable or c.open_streams >= c.max_streams:
            continue
        if c.http_version == "HTTP/2":
            if multiplexed is None or c.open_streams < multiplexed.open_streams:
                multiplexed = c
        elif c.open_streams == 0 and (idle is None or _idle_age_key(c) > _idle_age_key(idle)):
            idle = c
    return multiplexed if multiplexed is not None else idle


def assign_connection(
    origin: tuple[str, str, int],
    connections: Sequence[ConnectionInfo],
    *,
    limits: PoolLimits | None = None,
    now: float,
    opening: int = 0,
    fresh_only: bool = False,
    opening_multiplexed: int = 0,
) -> PoolDecision:
    """Decides which connection a request to `origin` uses, given every connection
    the pool holds. After `reuse`, the adapter counts a stream on that connection;
    after `open`, it adds the new connection (with one open stream) to the pool;
    after `wait`, it asks again when a connection is released or closed.

    `opening` is the number of connections being established and not yet in the
    snapshot; they count against `max_connections`. `fresh_only=True` never
    reuses (for a retry after a kept-alive connection turned out to be dead).
    `opening_multiplexed` counts those of them to `origin` that may turn out to be
    HTTP/2 (h2 offered through ALPN, or h2c): a request that finds no connection
    waits for them rather than opening another, since a client should hold one
    HTTP/2 connection per origin (RFC 9113 §9.1.1). The adapter asks again once
    they are established; if they speak HTTP/1.1 the request then opens its own.
    """
    limits = limits or PoolLimits()
    dead, fresh = _split_dead(connections, limits.keepalive_expiry, now)
    chosen = None if fresh_only else _pick(origin, fresh)
    if chosen is not None:
        close = tuple([c.id for c in _closing_split(dead, fresh, limits, chosen.id)])
        return PoolDecision(
            action="reuse",
            connection_id=chosen.id,
            close=close,
            reason=f"reusing {chosen.http_version} connection {chosen.id}",
        )
    close = tuple([c.id for c in _closing_split(dead, fresh, limits, None)])
    if opening_multiplexed and not fresh_only:
        return PoolDecision(
            action="wait",
            close=close,
            reason="a connection to this origin that may multiplex is being opened",
        )
    usable = [c for c in connections if c.id not in close]
    room = limits.max_connections
    live = len(usable) + opening
    if room is None or live < room:
        why = "a fresh connection was asked for" if fresh_only else "no free connection"
        return PoolDecision(action="open", close=close, reason=why)
    # Full: make room by closing the idle connections that have waited longest
    # (to other origins, unless a fresh connection was asked for).
    excess = live - room + 1
    idle = sorted((c for c in usable if c.is_idle), key=_idle_age_key)
    if room > 0 and len(idle) >= excess:
        evicted = tuple(c.id for c in idle[:excess])
        return PoolDecision(
            action="open",
            close=close + evicted,
            reason=f"at {room} connections; closing idle {list(evicted)} to make room",
        )
    return PoolDecision(action="wait", close=close, reason=f"all {room} connections busy")


def release_connection(
    connection_id: int,
    connections: Sequence[ConnectionInfo],
    *,
    limits: PoolLimits | None = None,
    now: float,
) -> ReleaseDecision:
    """Decides what happens when a request is done with `connection_id`.

    `connections` already shows that connection's new state (one stream fewer,
    `idle_since=now` when it became idle, `is_reusable=False` when the response was
    not read to the end or the peer asked to close). A connection still carrying
    other streams is kept; the answer may also close other idle connections."""
    limits = limits or PoolLimits()
    mine = next((c for c in connections if c.id == connection_id), None)
    if mine is None:
        raise KeyError(f"connection {connection_id} is not in the pool snapshot")
    close = tuple(c.id for c in _closing(connections, limits, now, None))
    if connection_id in close:
        if not mine.is_reusable:
            reason = "connection is not reusable"
        elif mine.is_expired(now, limits.keepalive_expiry):
            reason = "keep-alive expiry reached"
        else:
            reason = "over the keep-alive limit"
        return ReleaseDecision(keep=False, close=close, reason=reason)
    if not mine.is_idle:
        return ReleaseDecision(keep=True, close=close, reason="streams still open")
    return ReleaseDecision(keep=True, close=close, reason="kept alive")


@frozen
class PoolPolicy:
    """The functions above bound to one set of limits, for an adapter to hold."""

    limits: PoolLimits = field(factory=PoolLimits)

    def decide(
        self,
        origin: tuple[str, str, int],
        connections: Sequence[ConnectionInfo],
        *,
        now: float,
        opening: int = 0,
        fresh_only: bool = False,
        opening_multiplexed: int = 0,
    ) -> PoolDecision:
        """See `assign_connection`."""
        return assign_connection(
            origin,
            connections,
            limits=self.limits,
            now=now,
            opening=opening,
            fresh_only=fresh_only,
            opening_multiplexed=opening_multiplexed,
        )

    def release(
        self, connection_id: int, connections: Sequence[ConnectionInfo], *, now: float
    ) -> ReleaseDecision:
        """See `release_connection`."""
        return release_connection(connection_id, connections, limits=self.limits, now=now)

    def keep_on_release(
        self, connection: ConnectionInfo, connections: Sequence[ConnectionInfo], *, now: float
    ) -> bool:
        """Whether `connection` (in its state after the release) stays in the pool.

        `connections` may or may not already hold it; its entry there is replaced.
        """
        others = [c for c in connections if c.id != connection.id]
        return self.release(connection.id, [*others, connection], now=now).keep

    def expired(self, connections: Sequence[ConnectionInfo], *, now: float) -> tuple[int, ...]:
        """See `expired_connections`."""
        return expired_connections(connections, limits=self.limits, now=now)
