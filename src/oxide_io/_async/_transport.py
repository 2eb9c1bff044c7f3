"""The connection pool and the sending of one request, carrying out the core's pool policy.

The policy (`oxide_proto.PoolPolicy`) decides, synchronously and from a snapshot,
whether a request reuses a connection, opens one or waits, and which connections
must close; this module opens and closes the sockets it names and wakes waiters
when a connection frees up. Connections are HTTP/2 when TLS ALPN picks h2 (or
with prior knowledge on plain http when asked), HTTP/1.1 otherwise.
"""

from __future__ import annotations

import time

from oxide_proto import (
    LimitExceededError,
    PoolLimits,
    PoolPolicy,
    RemoteProtocolError,
    Request,
    ResponseHead,
)

from .._backends._anyio import AsyncBackend, AsyncEvent
from .._backends._errors import ReadError, TransportTimeout, WriteError
from .._logging import logger
from .._timeout import Timeout
from .._tls import VerifyTypes, ssl_context
from ._connection import AsyncConnection
from ._response import AsyncResponse

__all__ = ["AsyncTransport"]

# A stream can sit silent for minutes while a reasoning model thinks: PINGs keep
# NAT and load-balancer state alive and find a dead peer in seconds, not at the
# read timeout.
H2_KEEPALIVE_INTERVAL = 30.0
H2_KEEPALIVE_TIMEOUT = 20.0


def _remaining(timeout: float | None, deadline: float | None) -> float | None:
    if deadline is None:
        return timeout
    left = max(deadline - time.monotonic(), 0.0)
    return left if timeout is None else min(timeout, left)


class AsyncTransport:
    """Pooled connections per origin; `send()` returns once the response head arrived."""

    def __init__(
        self,
        *,
        verify: VerifyTypes = True,
        http2: bool = True,
        h2c: bool = False,
        limits: PoolLimits | None = None,
    ) -> None:
        self.backend = AsyncBackend()
        self._verify = verify
        self._http2 = http2
        self._h2c = h2c
        self._policy = PoolPolicy(limits or PoolLimits())
        self._connections: list[AsyncConnection] = []
        self._opening = 0
        # Connections being opened, per origin, that may turn out to be HTTP/2.
        self._opening_multiplexed: dict[tuple[str, str, int], int] = {}
        self._waiters: list[AsyncEvent] = []
        self._state = self.backend.state_lock()
        self._closed = False

    @property
    def connections(self) -> list[AsyncConnection]:
        """The open connections (for introspection and tests)."""
        return list(self._connections)

    async def send(
        self, request: Request, limits: Timeout, deadline: float | None
    ) -> AsyncResponse:
        for fresh_only in (False, True):
            started = time.monotonic()
            connection = await self._acquire(request, limits, deadline, fresh_only=fresh_only)
            reused = connection.requests_started > 0
            stream_id = 0
            try:
                stream_id = connection.begin(request)
                await connection.send_request(
                    stream_id, request, _remaining(limits.write, deadline)
                )
                while True:
                    event = await connection.next_event(
                        stream_id, _remaining(limits.read, deadline)
                    )
                    if isinstance(event, ResponseHead):
                        break
            except (ReadError, WriteError, RemoteProtocolError) as exc:
                await self._discard(connection, stream_id)
                # A keep-alive connection the server closed while it sat idle fails
                # before any answer: try once more on a new connection.
                if reused and not fresh_only and request.replayable and _before_answer(exc):
                    logger.debug("Reused connection failed (%s); retrying on a new one", exc)
                    continue
                raise
            except BaseException:
                await self._discard(connection, stream_id)
                raise
            return AsyncResponse(
                request,
                event,
                connection,
                stream_id,
                read_timeout=limits.read,
                deadline=deadline,
                on_close=self._release,
                started=started,
            )
        raise AssertionError("unreachable")

    async def _discard(self, connection: AsyncConnection, stream_id: int) -> None:
        async with self.backend.shielded():
            if stream_id:
                await connection.cancel(stream_id)
                connection.release(stream_id)
            else:
                connection.reserved = max(connection.reserved - 1, 0)
            await self._release(connection)

    async def _acquire(
        self, request: Request, limits: Timeout, deadline: float | None, *, fresh_only: bool
    ) -> AsyncConnection:
        if self._closed:
            raise RuntimeError("Cannot send a request: the client has been closed.")
        origin = request.url.origin
        pool_deadline = None if limits.pool is None else time.monotonic() + limits.pool
        while True:
            now = time.monotonic()
            multiplexed = False
            with self._state:
                decision = self._policy.decide(
                    origin,
                    [c.info() for c in self._connections],
                    opening=self._opening,
                    now=now,
                    fresh_only=fresh_only,
                    opening_multiplexed=self._opening_multiplexed.get(origin, 0),
                )
                chosen = self._by_id(decision.reuse)
                to_close = [c for c in self._connections if c.id in decision.close]
                for c in to_close:
                    self._connections.remove(c)
                if chosen is not None:
                    chosen.reserved += 1
                elif decision.opens:
                    self._opening += 1
                    multiplexed = self._may_multiplex(origin)
                    if multiplexed:
                        self._opening_multiplexed[origin] = (
                            self._opening_multiplexed.get(origin, 0) + 1
                        )
                else:
                    waiter = self.backend.event()
                    self._waiters.append(waiter)
            for c in to_close:
                await c.aclose()
            if chosen is not None:
                if chosen.http_version == "HTTP/1.1" and chosen.socket.is_readable():
                    # The server closed it (or wrote out of turn) while it was idle.
                    with self._state:
                        chosen.reserved -= 1
                        chosen.broken = True
                    continue
                return chosen
            if decision.opens:
                try:
                    connection = await self._connect(origin, _remaining(limits.connect, deadline))
                    with self._state:
                        connection.reserved += 1
                        self._connections.append(connection)
                finally:
                    with self._state:
                        self._opening -= 1
                        if multiplexed:
                            self._opening_multiplexed[origin] -= 1
                        waiters: list[AsyncEvent] = []
                        if multiplexed:
                            # Requests waiting for this connection decide again.
                            waiters, self._waiters = self._waiters, []
                    for waiter in waiters:
                        waiter.set()
                return connection
            timeout = _remaining(
                None if pool_deadline is None else max(pool_deadline - now, 0.0), deadline
            )
            if not await waiter.wait(timeout):
                with self._state:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                raise TransportTimeout("pool")

    def _may_multiplex(self, origin: tuple[str, str, int]) -> bool:
        """Whether a new connection to `origin` may speak HTTP/2 (ALPN h2, or h2c)."""
        return self._http2 if origin[0] in ("https", "wss") else self._h2c

    def _by_id(self, connection_id: int | None) -> AsyncConnection | None:
        if connection_id is None:
            return None
        for c in self._connections:
            if c.id == connection_id:
                return c
        return None

    async def _connect(
        self, origin: tuple[str, str, int], timeout: float | None
    ) -> AsyncConnection:
        scheme, host, port = origin
        tls = scheme in ("https", "wss")
        context = ssl_context(self._verify, "http" if self._http2 else "http1") if tls else None
        socket = await self.backend.connect(host, port, ssl_context=context, timeout=timeout)
        use_h2 = socket.alpn == "h2" if tls else self._h2c
        # Each protocol stack (h11, h2) is loaded on the first connection that
        # speaks it, not when oxide_io is imported.
        if use_h2:
            from oxide_proto import HTTP2Connection
        else:
            from oxide_proto import HTTP11Connection
        proto = (
            HTTP2Connection(
                now=time.monotonic(),
                keepalive_interval=H2_KEEPALIVE_INTERVAL,
                keepalive_timeout=H2_KEEPALIVE_TIMEOUT,
            )
            if use_h2
            else HTTP11Connection()
        )
        connection = AsyncConnection(socket, proto, origin, self.backend)
        logger.debug("Connected to %s://%s:%d over %s", scheme, host, port, proto.http_version)
        if use_h2:
            try:
                await connection.flush(timeout)
            except BaseException:
                await connection.aclose()
                raise
        return connection

    async def _release(self, connection: AsyncConnection) -> None:
        """A request finished with `connection`: keep it for reuse or close it."""
        with self._state:
            keep = self._policy.keep_on_release(
                connection.info(), [c.info() for c in self._connections], now=time.monotonic()
            )
            if not keep and connection in self._connections:
                self._connections.remove(connection)
            waiters, self._waiters = self._waiters, []
        if not keep:
            await connection.aclose()
        for waiter in waiters:
            waiter.set()

    async def aclose(self) -> None:
        """Closes every connection; requests in flight fail with a connection error."""
        with self._state:
            connections, self._connections = self._connections, []
            waiters, self._waiters = self._waiters, []
            self._closed = True
        for connection in connections:
            await connection.aclose()
        for waiter in waiters:
            waiter.set()


def _before_answer(exc: BaseException) -> bool:
    """True for failures of a connection that died, as opposed to an over-limit answer.

    Everything in `send` happens before the response head arrived, so the server
    cannot have started answering.
    """
    return isinstance(exc, (ReadError, WriteError)) or (
        isinstance(exc, RemoteProtocolError) and not isinstance(exc, LimitExceededError)
    )
