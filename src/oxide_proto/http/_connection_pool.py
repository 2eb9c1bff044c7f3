"""The connection pool as a state machine: which connection each request gets, without sockets.

`ConnectionPool` holds the pool's whole state (which connections exist, which are
idle, how many streams each carries, which are being opened, who is waiting) and
is told what happens to them; every call returns what the adapter must do now:
close these connections, wake these waiting requests. The adapter only owns the
sockets, the waiting and the clock (each call takes `now`).

A request calls `checkout(origin, now)` and gets a `Checkout`:

- `reuse`: send on connection `connection_id` (it counts one more stream now);
- `open`: open a connection and report `opened(checkout.connection_id, ...)` (its
  id is decided here) or `open_failed(...)`;
- `wait`: wait until the checkout shows up in some later `PoolActions.wake`, then
  look at its `action` again (`reuse` or `open`, or `cancelled` after `clear()`);
  a request that gives up calls `cancel(checkout)`.

When a request is done with a connection it calls `released(id, reusable=..., now)`.

The choices are `PoolPolicy`'s (see `oxide_proto.http._pool`), kept incrementally so
that a checkout or a release costs the same with 1 or 1000 pooled connections:

- HTTP/2 first: a connection to the origin with a free stream, the least loaded
  (there is one per origin, more only once one is saturated: RFC 9113 §9.1.1).
- Then the idle HTTP/1.1 connection that went idle last (per-origin stack).
- Idle connections are closed `keepalive_expiry` seconds after they went idle,
  and beyond `max_keepalive_connections`, oldest first (one ordered set of idle
  connections, oldest at its head).
- At `max_connections`, the oldest idle connection is closed to make room; with
  none, the request waits.
- A connection that is not reusable, carries `max_streams` streams, or belongs to
  another origin is never handed out.

Waiting requests are served first come, first served per origin: a released
connection goes to the oldest request waiting for its origin; a freed slot goes to
the origin that has waited longest for one. While a connection that may speak
HTTP/2 is being opened to an origin, requests to it wait for that connection
instead of each opening their own; once it is known to speak HTTP/1.1, new
connections to the origin are opened without waiting.

`fresh=True` asks for a connection opened after the checkout (a retry after a
kept-alive connection turned out dead): it shares such a connection with other
retries rather than each opening its own. It does not queue behind the requests
already waiting, nor wait for a connection opened before it whose peer's SETTINGS
have not arrived: it could not use that connection.

HTTP/2 peers push back, and the pool follows what they say:

- Until a new HTTP/2 connection's peer has sent its SETTINGS (`opened(...,
  max_streams=None)`), it carries as many streams as the origin's last HTTP/2
  connection was last said to take (its SETTINGS, or what its refusals taught),
  or only its opener's when nothing was learned yet; the requests to its origin
  beyond that wait for the limit (`update` or `released` with `max_streams`)
  rather than open connections of their own. Whatever ends that wait (the limit,
  a GOAWAY, the connection closed idle by any call) serves them again.
- A peer that allows 0 streams (SETTINGS_MAX_CONCURRENT_STREAMS = 0, which RFC
  9113 §5.1.2 says to treat as any exhausted limit) gets no new stream on that
  connection: the requests open another connection within `max_connections`
  (whose opener's stream goes out before that peer's SETTINGS, as any does),
  or wait for a SETTINGS raising the limit, read by the streams still running on
  it. Once idle, such a connection is closed: nothing reads an idle connection,
  so a SETTINGS raising its limit would go unseen while it held a slot.
- `update(id, ...)` reports news read from a connection in use: the peer's stream
  limit (SETTINGS, or a stream it refused), or that it takes no new streams
  (GOAWAY, an error). A connection that takes no new streams is never handed out
  again; it is closed once its streams in flight are released.
- A request the peer refused without processing it (REFUSED_STREAM, or a stream
  above a GOAWAY's last stream id: RFC 9113 §8.7) checks out again with
  `requeue=True`: it goes ahead of the requests that have not been sent yet, in
  the order of its requeue, and shares the next free stream or connection like
  any other request. `requeue_refused` says whether a failed request qualifies.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Literal

from ..base._errors import RemoteProtocolError
from ..base._types import Request
from ._pool import ConnectionInfo, Origin, PoolLimits

__all__ = [
    "ConnectionPool",
    "Checkout",
    "CheckoutAction",
    "PoolActions",
    "MAX_REFUSALS",
    "requeue_refused",
]

CheckoutAction = Literal["reuse", "open", "wait", "cancelled"]

# How many times one request may be refused and requeued before the refusal is
# treated as an ordinary error. A peer that closes connections after N requests
# (nginx's `keepalive_requests`) refuses the streams a connection carried beyond
# N, so a burst of C concurrent requests sees up to about C / N refusals each; a
# peer that refuses every stream must still end in an error.
MAX_REFUSALS = 20


def requeue_refused(error: BaseException, request: Request, refusals: int) -> bool:
    """Whether a request that failed before its answer goes back to the pool's queue.

    Only when the peer guarantees it did not process it (`retry_safe`: REFUSED_STREAM,
    above a GOAWAY's last stream id, a connection that no longer takes streams), its
    body can be sent again, and it has been refused fewer than `MAX_REFUSALS` times
    (`refusals` so far). Such a requeue is not a retry: it costs no `max_retries`.
    """
    return (
        isinstance(error, RemoteProtocolError)
        and error.retry_safe
        and refusals < MAX_REFUSALS
        and request.replayable
    )


class Checkout:
    """One request's claim on the pool. `action` and `connection_id` change only when
    a waiting checkout is served (it then appears in `PoolActions.wake`)."""

    __slots__ = ("action", "connection_id", "id", "may_multiplex", "newer_than", "origin")

    def __init__(self, id: int, origin: Origin, newer_than: int, may_multiplex: bool) -> None:
        self.id = id
        self.origin = origin
        self.action: CheckoutAction = "wait"
        # The connection to use (`reuse`) or to open (`open`: the id it gets).
        self.connection_id = 0
        # Only connections opened after the first `newer_than` may serve it (`fresh`).
        self.newer_than = newer_than
        self.may_multiplex = may_multiplex

    def __repr__(self) -> str:
        return f"<Checkout {self.id} {self.action} {self.connection_id or ''}>"


class PoolActions:
    """What the adapter must do after a call: close the `close` connections (none of
    them carries a stream) and wake the `wake` checkouts (now `reuse` or `open`, or
    `cancelled`)."""

    __slots__ = ("close", "wake")

    def __init__(self, close: tuple[int, ...] = (), wake: tuple[Checkout, ...] = ()) -> None:
        self.close = close
        self.wake = wake

    def __bool__(self) -> bool:
        return bool(self.close or self.wake)

    def __repr__(self) -> str:
        return f"<PoolActions close={list(self.close)} wake={list(self.wake)}>"


_NOTHING = PoolActions()


class _Conn:
    __slots__ = (
        "http2",
        "id",
        "idle_since",
        "max_streams",
        "order",
        "pending",
        "reusable",
        "site",
        "streams",
    )

    def __init__(self, id: int, order: int, site: _Site, http2: bool, max_streams: int) -> None:
        self.id = id
        # The how-many-th connection reported opened.
        self.order = order
        self.site = site
        self.http2 = http2
        self.max_streams = max_streams
        # Checked out and not yet released (the opener's request counts one).
        self.streams = 1
        self.reusable = True
        self.idle_since: float | None = None
        # HTTP/2 whose peer's stream limit is not known yet (its id stays in the
        # origin's `opening_h2`: requests wait for it as for a connection being opened).
        self.pending = False


class _Site:
    """Everything the pool keeps about one origin."""

    __slots__ = (
        "blocked",
        "http11",
        "idle",
        "limit",
        "multiplexed",
        "opening_h2",
        "origin",
        "queue",
        "requeued",
        "waiting",
    )

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        # Idle HTTP/1.1 connections, in the order they went idle (last = most recent).
        self.idle: OrderedDict[int, _Conn] = OrderedDict()
        # Reusable HTTP/2 connections (with or without a free stream).
        self.multiplexed: dict[int, _Conn] = {}
        # Waiting checkouts, oldest first; cancelled ones are skipped when reached.
        self.queue: deque[Checkout] = deque()
        # Waiting requeued checkouts (refused by the peer), served before `queue`.
        self.requeued: deque[Checkout] = deque()
        # Checkouts waiting in either queue.
        self.waiting = 0
        # Ids of connections being opened that may turn out HTTP/2 (and of HTTP/2
        # connections whose peer's stream limit is not known yet), oldest first.
        self.opening_h2: list[int] = []
        # The last connection opened to this origin spoke HTTP/1.1.
        self.http11 = False
        # The stream limit last learned from an HTTP/2 connection to this origin
        # (its SETTINGS, or what its refusals taught): what a new connection is
        # assumed to take until its own SETTINGS arrive. None: nothing learned yet.
        self.limit: int | None = None
        # In the pool's queue of origins waiting for a free slot.
        self.blocked = False


class ConnectionPool:
    """The pool's state and policy. Not thread-safe: the adapter serializes calls."""

    def __init__(self, limits: PoolLimits | None = None) -> None:
        self.limits = limits or PoolLimits()
        self._next_id = 1
        # How many connections were reported opened: their order, for `fresh`.
        self._opened = 0
        self._conns: dict[int, _Conn] = {}
        # Connection id -> (origin, may multiplex), for connections being opened.
        self._opening: dict[int, tuple[_Site, bool]] = {}
        # Every idle connection in the order it went idle: the head is the oldest.
        self._idle: OrderedDict[int, _Conn] = OrderedDict()
        self._sites: dict[Origin, _Site] = {}
        # Origins with a request waiting for a free slot, longest waiting first.
        self._blocked: deque[_Site] = deque()
        # Origins whose requests waited for a connection of unknown stream limit
        # that has since been settled or closed (see `_settle`): served again
        # before the call returns.
        self._settled: list[_Site] = []
        # What the current call asks the adapter to do.
        self._close: list[int] = []
        self._wake: list[Checkout] = []

    # -- introspection (not on the request path) ---------------------------------------

    @property
    def connection_count(self) -> int:
        """Open connections plus the ones being opened."""
        return len(self._conns) + len(self._opening)

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    @property
    def waiting_count(self) -> int:
        return sum(site.waiting for site in self._sites.values())

    def snapshot(self) -> tuple[ConnectionInfo, ...]:
        """Every open connection as `ConnectionInfo`, for logs and tests (O(connections))."""
        return tuple(
            ConnectionInfo(
                id=c.id,
                origin=c.site.origin,
                http_version="HTTP/2" if c.http2 else "HTTP/1.1",
                open_streams=c.streams,
                max_streams=c.max_streams,
                is_reusable=c.reusable,
                idle_since=c.idle_since,
            )
            for c in self._conns.values()
        )

    # -- the calls ---------------------------------------------------------------------

    def checkout(
        self,
        origin: Origin,
        now: float,
        *,
        fresh: bool = False,
        may_multiplex: bool = False,
        requeue: bool = False,
    ) -> tuple[Checkout, PoolActions]:
        """A request to `origin` wants a connection.

        `may_multiplex` says a new connection to `origin` may speak HTTP/2 (h2 offered
        through ALPN, or h2c): other requests then wait for it instead of opening
        their own. `fresh` asks for a connection opened after this call.
        `requeue` is for a request the peer refused without processing it (see
        `requeue_refused`): it goes ahead of the requests waiting to be sent.
        """
        site = self._sites.get(origin)
        if site is None:
            site = self._sites[origin] = _Site(origin)
        checkout = Checkout(self._next_id, origin, self._opened if fresh else 0, may_multiplex)
        self._next_id += 1
        if self._idle:
            self._expire(now)
            if self._settled:
                self._serve_settled(now)
        # Behind those already waiting for this origin, to serve them in order (a
        # requeued request only behind the requeued ones).
        # A fresh one is a request already under way whose connection failed: the
        # ones waiting may be waiting for a connection it may not use.
        if requeue:
            ahead = site.requeued
            while ahead and ahead[0].action != "wait":
                ahead.popleft()  # cancelled: nothing holds the queue up
            outcome = "wait" if ahead and not fresh else self._serve(site, checkout, now)
        else:
            outcome = "wait" if site.waiting and not fresh else self._serve(site, checkout, now)
        if outcome != "ok":
            (site.requeued if requeue else site.queue).append(checkout)
            site.waiting += 1
            if outcome == "room":
                self._block(site)
        if self._settled:
            self._serve_settled(now)
        return checkout, self._actions()

    def opened(
        self, connection_id: int, now: float, *, http2: bool = False, max_streams: int | None = 1
    ) -> PoolActions:
        """The connection a checkout was told to open is up. `max_streams` is the
        peer's SETTINGS_MAX_CONCURRENT_STREAMS for HTTP/2 (ignored for HTTP/1.1), or
        None while the peer's SETTINGS have not arrived: the connection then carries
        only the opener's stream until `update` or `released` gives the limit.
        It carries the opener's request: release it like a reused one."""
        site, may_multiplex = self._opening.pop(connection_id)
        pending = http2 and max_streams is None and may_multiplex
        if may_multiplex and not pending:
            site.opening_h2.remove(connection_id)
        site.http11 = not http2
        self._opened += 1
        if not http2:
            limit = 1
        elif max_streams is None:
            # Until its SETTINGS arrive, as many streams as the origin's last
            # connection took (at least the opener's); the opener's alone when
            # nothing was learned.
            limit = site.limit or 1
        else:
            site.limit = max_streams
            limit = max_streams or 1  # the opener's stream is on it already
        conn = _Conn(connection_id, self._opened, site, http2, limit)
        conn.pending = pending
        self._conns[connection_id] = conn
        if http2:
            site.multiplexed[connection_id] = conn
        if site.waiting:
            self._serve_site(site, now)
        return self._serve_freed(now)

    def open_failed(self, connection_id: int, now: float) -> PoolActions:
        """Opening the connection failed: its slot is free again (the next waiter
        for the origin tries in its turn)."""
        site, may_multiplex = self._opening.pop(connection_id)
        if may_multiplex:
            site.opening_h2.remove(connection_id)
        if site.waiting:
            self._serve_site(site, now)
        return self._serve_freed(now)

    def released(
        self,
        connection_id: int,
        now: float,
        *,
        reusable: bool = True,
        max_streams: int | None = None,
    ) -> PoolActions:
        """A request is done with its stream on `connection_id` (or gave it up before
        using it). `reusable=False` when the connection must not carry another
        request (response not read to the end, peer closed or sent GOAWAY, found
        dead); `max_streams` updates an HTTP/2 peer's stream limit.

        A connection the pool already closed (see `clear`) is ignored."""
        conn = self._conns.get(connection_id)
        if conn is None:
            return _NOTHING
        if conn.streams <= 0:
            raise ValueError(f"connection {connection_id} has no stream to release")
        conn.streams -= 1
        site = conn.site
        if max_streams is not None and conn.http2:
            conn.max_streams = site.limit = max_streams
            if conn.pending:
                self._settle(conn)
        if not reusable and conn.reusable:
            self._retire(conn)
        if not conn.reusable or (conn.streams == 0 and conn.max_streams == 0):
            # A connection whose peer takes no stream is not kept idle: nothing
            # reads an idle connection, so a SETTINGS raising the limit would go
            # unseen while it held a slot.
            if conn.streams == 0:
                self._drop(conn)
        elif conn.streams == 0:
            conn.idle_since = now
            self._idle[connection_id] = conn
            if not conn.http2:
                site.idle[connection_id] = conn
        if self._idle:
            self._expire(now)
        if site.waiting:
            self._serve_site(site, now)
        cap = self.limits.max_keepalive_connections
        if cap is not None:
            while len(self._idle) > cap:
                self._drop(next(iter(self._idle.values())))
        return self._serve_freed(now)

    def update(
        self,
        connection_id: int,
        now: float,
        *,
        reusable: bool = True,
        max_streams: int | None = None,
    ) -> PoolActions:
        """News about a connection in use, read while its streams run: `max_streams`
        is the HTTP/2 peer's stream limit as it now stands (its SETTINGS arrived or
        changed, or it refused a stream); `reusable=False` when it takes no new
        streams (GOAWAY, a protocol error, closed): it finishes the streams in
        flight and is closed when the last is released.

        A connection the pool already closed is ignored."""
        conn = self._conns.get(connection_id)
        if conn is None:
            return _NOTHING
        site = conn.site
        if max_streams is not None and conn.http2:
            conn.max_streams = site.limit = max_streams
            if conn.pending:
                self._settle(conn)
        if not reusable and conn.reusable:
            self._retire(conn)
            if conn.streams == 0:
                self._drop(conn)
        elif conn.streams == 0 and conn.max_streams == 0:
            self._drop(conn)  # takes no stream, and would sit unread (see `released`)
        if site.waiting:
            self._serve_site(site, now)
        return self._serve_freed(now)

    def cancel(self, checkout: Checkout, now: float) -> PoolActions:
        """A waiting request gave up (timeout, cancellation). A checkout already
        served is left alone: the adapter uses it, or gives it back (`released` for
        `reuse`, `open_failed` for `open`)."""
        if checkout.action != "wait":
            return _NOTHING
        checkout.action = "cancelled"
        site = self._sites[checkout.origin]
        site.waiting -= 1
        # Dropped from the queue when it reaches the head; the ones behind it may
        # have been held up by it.
        if site.waiting:
            self._serve_site(site, now)
        if self._settled:
            self._serve_settled(now)
        return self._actions()

    def expire(self, now: float) -> PoolActions:
        """Closes the idle connections past their keep-alive expiry (checkouts and
        releases do this too; call it from a periodic sweep to close them sooner)."""
        if self._idle:
            self._expire(now)
            if self._settled:
                self._serve_settled(now)
        return self._actions()

    def clear(self) -> PoolActions:
        """Forgets every connection (close them all, busy ones included) and cancels
        every waiting checkout (they are in `wake`, as `cancelled`)."""
        close = tuple(self._conns)
        wake: list[Checkout] = []
        for site in self._sites.values():
            for queue in (site.requeued, site.queue):
                for checkout in queue:
                    if checkout.action == "wait":
                        checkout.action = "cancelled"
                        wake.append(checkout)
        self._conns.clear()
        self._idle.clear()
        self._sites.clear()
        self._blocked.clear()
        # Connections being opened still report `opened` / `open_failed`.
        for site, _ in self._opening.values():
            self._sites.setdefault(site.origin, site)
            site.queue.clear()
            site.requeued.clear()
            # Only the connections being opened stay (not opened ones of unknown limit).
            site.opening_h2[:] = [i for i in site.opening_h2 if i in self._opening]
            site.waiting = 0
            site.idle.clear()
            site.multiplexed.clear()
            site.blocked = False
        return PoolActions(close, tuple(wake))

    def reset(self) -> None:
        """Forgets every connection (open, idle or being opened) and every waiting
        checkout, asking to close none of them.

        For a process forked from the one that opened them: their sockets and the
        requests using them belong to the parent, which keeps closing them; the
        child starts empty. Ids keep counting, so a late `released()` for a
        connection of before the reset is ignored rather than taken for a new one.
        """
        self._conns.clear()
        self._opening.clear()
        self._idle.clear()
        self._sites.clear()
        self._blocked.clear()
        self._settled.clear()
        self._close.clear()
        self._wake.clear()

    # -- inside --------------------------------------------------------------------------

    def _actions(self) -> PoolActions:
        if not self._close and not self._wake:
            return _NOTHING
        actions = PoolActions(tuple(self._close), tuple(self._wake))
        self._close.clear()
        self._wake.clear()
        return actions

    def _serve(self, site: _Site, checkout: Checkout, now: float) -> str:
        """Serves `checkout` now if it can: "ok", or why not ("wait" for a connection
        being opened that may multiplex, "room" for a free slot)."""
        newer_than = checkout.newer_than
        # HTTP/2 with a free stream, least loaded.
        best: _Conn | None = None
        for conn in site.multiplexed.values():
            if (
                conn.streams < conn.max_streams
                and conn.order > newer_than
                and (best is None or conn.streams < best.streams)
            ):
                best = conn
        if best is None:
            idle = site.idle
            expiry = self.limits.keepalive_expiry
            while idle:
                conn = next(reversed(idle.values()))
                if conn.order <= newer_than:
                    break
                if expiry is not None and now - conn.idle_since >= expiry:  # type: ignore[operator]
                    self._drop(conn)
                    continue
                best = conn
                break
        if best is not None:
            if best.streams == 0:
                del self._idle[best.id]
                if not best.http2:
                    del site.idle[best.id]
                best.idle_since = None
            best.streams += 1
            checkout.action = "reuse"
            checkout.connection_id = best.id
            return "ok"
        # Wait for a connection being opened (any is fresh enough), or opened and
        # waiting for its peer's SETTINGS, unless it is older than a fresh checkout.
        opening_h2 = site.opening_h2
        if opening_h2 and (not newer_than or self._any_newer(opening_h2, newer_than)):
            return "wait"
        if not self._make_room():
            return "room"
        connection_id = self._next_id
        self._next_id += 1
        may_multiplex = checkout.may_multiplex and not site.http11
        self._opening[connection_id] = (site, may_multiplex)
        if may_multiplex:
            opening_h2.append(connection_id)
        checkout.action = "open"
        checkout.connection_id = connection_id
        return "ok"

    def _any_newer(self, ids: list[int], newer_than: int) -> bool:
        """Whether one of `ids` (of `opening_h2`) is still being opened, or was
        opened after the first `newer_than` connections."""
        conns = self._conns
        return any(i not in conns or conns[i].order > newer_than for i in ids)

    def _make_room(self) -> bool:
        room = self.limits.max_connections
        if room is None or len(self._conns) + len(self._opening) < room:
            return True
        if room > 0 and self._idle:
            self._drop(next(iter(self._idle.values())))
            return True
        return False

    def _serve_site(self, site: _Site, now: float) -> str:
        """Serves the origin's waiting checkouts in order (requeued ones first), while it can."""
        for queue in (site.requeued, site.queue):
            while queue:
                checkout = queue[0]
                if checkout.action != "wait":
                    queue.popleft()
                    continue
                outcome = self._serve(site, checkout, now)
                if outcome != "ok":
                    if outcome == "room":
                        self._block(site)
                    return outcome
                queue.popleft()
                site.waiting -= 1
                self._wake.append(checkout)
        return "ok"

    def _block(self, site: _Site) -> None:
        if not site.blocked:
            site.blocked = True
            self._blocked.append(site)

    def _serve_blocked(self, now: float) -> None:
        """Gives free slots to the origins that have waited longest for one."""
        blocked = self._blocked
        while blocked:
            site = blocked[0]
            if site.waiting and self._serve_site(site, now) == "room":
                return
            blocked.popleft()
            site.blocked = False

    def _expire(self, now: float) -> None:
        expiry = self.limits.keepalive_expiry
        if expiry is None:
            return
        idle = self._idle
        while idle:
            conn = next(iter(idle.values()))
            if now - conn.idle_since < expiry:  # type: ignore[operator]
                return
            self._drop(conn)

    def _settle(self, conn: _Conn) -> None:
        """The peer's stream limit is known (or the connection takes no new streams,
        or is closed): requests stop waiting for it.

        Its origin's waiters are served again before the call returns: the
        connection may be settled while another origin is served (an idle one
        expired or closed to make room or stay within the keep-alive cap), after
        its own origin was served, and nothing else would wake them."""
        conn.pending = False
        site = conn.site
        site.opening_h2.remove(conn.id)
        if site.waiting:
            self._settled.append(site)

    def _serve_freed(self, now: float) -> PoolActions:
        """After a change that may free room or settle a connection: serves the origins
        waiting for a free slot, then those whose awaited connection settled or closed,
        and returns what to do."""
        if self._blocked:
            self._serve_blocked(now)
        if self._settled:
            self._serve_settled(now)
        return self._actions()

    def _serve_settled(self, now: float) -> None:
        """Serves the origins `_settle` left waiting, then the ones waiting for a
        slot (serving may close idle connections and settle more)."""
        settled = self._settled
        while settled:
            site = settled.pop(0)
            if site.waiting:
                self._serve_site(site, now)
            if self._blocked:
                self._serve_blocked(now)

    def _retire(self, conn: _Conn) -> None:
        """`conn` takes no new streams (it still counts the ones in flight)."""
        conn.reusable = False
        conn.site.multiplexed.pop(conn.id, None)
        if conn.pending:
            self._settle(conn)

    def _drop(self, conn: _Conn) -> None:
        """Forgets `conn` and asks the adapter to close it."""
        connection_id = conn.id
        if conn.pending:
            self._settle(conn)
        del self._conns[connection_id]
        if conn.streams == 0:
            self._idle.pop(connection_id, None)
        site = conn.site
        site.idle.pop(connection_id, None)
        site.multiplexed.pop(connection_id, None)
        self._close.append(connection_id)
