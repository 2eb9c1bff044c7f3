"""The connection pool's I/O and the sending of one request.

The pool's state and decisions live in the core (`oxide_proto.ConnectionPool`):
which connection a request reuses, when it opens one or waits, which connections
close and which waiting requests to wake. This module carries them out: it opens
and closes the sockets, waits on events, and reports back what happened (a
connection opened or failed to, a request released its stream, a connection was
found dead). Connections are HTTP/2 when TLS ALPN picks h2 (or with prior
knowledge on plain http when asked), HTTP/1.1 otherwise.

HTTP/2 peers behind reverse proxies push back: a stream limit (SETTINGS), a stream
refused over it (REFUSED_STREAM), a GOAWAY after so many requests. What a
connection reads about that goes to the pool at once (`ConnectionPool.update`), and
a request the peer refused without processing it goes back to the pool's queue
(`requeue_refused` decides, `checkout(requeue=True)`), ahead of the requests not
sent yet, to share the next free stream rather than open a connection of its own.

Through an HTTP proxy (`oxide_proto.ProxyConfig` picks it per URL), a TLS origin
is reached through a CONNECT tunnel, inside which TLS (and ALPN, so HTTP/2) starts
as it would directly; a plain-http origin gets HTTP/1.1 requests in absolute form
on a connection to the proxy. Through a SOCKS5 proxy every origin is reached
through a SOCKS tunnel, as if directly. The pool groups connections by origin and
proxy, so a proxied and a direct connection to the same origin are never mixed.
WebSockets open their socket here too (`connect_websocket`): the same proxy
choice, trust and client certificate as HTTP, a tunnel for `ws://` as well as
`wss://`, and TLS that offers only http/1.1.

A process forked from one that used a transport (a pre-forking server's workers, a
fork-started multiprocessing pool) starts with an empty pool: the connections, and
the TLS and HTTP/2 state on them, stay the parent's. The child lets go of its copies
without a byte sent on them (no TLS close_notify, no GOAWAY) and gets fresh locks,
as another thread of the parent may have held one at the fork.
"""

from __future__ import annotations

import os
import time
import weakref
from typing import TYPE_CHECKING, Any

from oxide_proto import (
    Checkout,
    ConnectionPool,
    HTTPConnection,
    LimitExceededError,
    PoolActions,
    PoolLimits,
    RemoteProtocolError,
    Request,
    ResponseHead,
    requeue_refused,
)

from .._backends._anyio import AsyncBackend, AsyncEvent
from .._backends._errors import ReadError, TransportTimeout, WriteError
from .._logging import logger
from .._proxies import proxies_from
from .._timeout import Timeout
from .._tls import check_cert, ssl_context, verify_from_env
from ._connection import AsyncConnection
from ._response import AsyncResponse

if TYPE_CHECKING:
    from oxide_proto import URL, Proxy, Tunnel

    from .._backends._anyio import AsyncSocket
    from .._proxies import ProxyTypes
    from .._tls import CertTypes, Purpose, VerifyTypes

    # The pool's key for a connection: the origin, plus the proxy it goes through.
    PoolKey = tuple[str, str, int] | tuple[str, str, int, Proxy]

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
    """Pooled connections per origin; `send()` returns once the response head arrived.

    `proxy` is a proxy URL for every request, or a mapping of URL patterns to proxy
    URLs (None: direct), or a ready `oxide_proto.ProxyConfig`. Without it and with
    `trust_env` (the default), HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY are
    read here, once; `trust_env` also lets SSL_CERT_FILE / SSL_CERT_DIR replace the
    default CA bundle when `verify` is True. `cert` is a client certificate for
    servers that ask for one: a PEM file with certificate and key, or
    `(certfile, keyfile)`, or `(certfile, keyfile, password)`; it is loaded here, so
    a missing or unreadable one raises `ClientCertificateError` at once.
    """

    def __init__(
        self,
        *,
        verify: VerifyTypes = True,
        http2: bool = True,
        h2c: bool = False,
        limits: PoolLimits | None = None,
        proxy: ProxyTypes | None = None,
        trust_env: bool = True,
        cert: CertTypes | None = None,
    ) -> None:
        self.backend = AsyncBackend()
        # What the transport was built from: `with_proxy()` and pickling rebuild it.
        self._settings = (verify, http2, h2c, limits, proxy, trust_env, cert)
        self._cert = check_cert(cert)
        # None when nothing goes through a proxy: the common case costs one test.
        self._proxies = proxies_from(proxy, os.environ if trust_env else None)
        self._verify = verify_from_env(verify, os.environ if trust_env else None)
        self._http2 = http2
        self._h2c = h2c
        self._pool = ConnectionPool(limits or PoolLimits())
        self._connections: dict[int, AsyncConnection] = {}
        # The event each waiting checkout sleeps on, by checkout id.
        self._waiters: dict[int, AsyncEvent] = {}
        # Connections with a response dropped unread (appended from the garbage
        # collector, drained under the state lock at the next checkout).
        self._dropped: list[AsyncConnection] = []
        self._state = self.backend.state_lock()
        self._closed = False
        _TRANSPORTS.add(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # A transport pickles as its settings: the copy starts with an empty pool
        # (sockets, TLS sessions and locks belong to this process).
        # The environment (proxies, SSL_CERT_FILE) is read again where it is unpickled.
        return (_new_transport, self._settings)

    def with_proxy(self, proxy: ProxyTypes) -> AsyncTransport:
        """A new transport (its own pool) with this one's settings and `proxy`."""
        verify, http2, h2c, limits, _, trust_env, cert = self._settings
        return type(self)(
            verify=verify,
            http2=http2,
            h2c=h2c,
            limits=limits,
            proxy=proxy,
            trust_env=trust_env,
            cert=cert,
        )

    @property
    def connections(self) -> list[AsyncConnection]:
        """The open connections (for introspection and tests)."""
        return list(self._connections.values())

    async def send(
        self, request: Request, limits: Timeout, deadline: float | None
    ) -> AsyncResponse:
        key: PoolKey = request.url.origin
        wire = request
        if self._proxies is not None:
            proxy = self._proxies.proxy_for(request.url)
            if proxy is not None:
                key = (*key, proxy)
                if request.url.scheme == "http" and not proxy.is_socks:
                    from oxide_proto import absolute_form

                    wire = absolute_form(request, proxy)
        fresh = requeue = False
        refusals = 0
        while True:
            started = time.monotonic()
            connection = await self._acquire(key, limits, deadline, fresh=fresh, requeue=requeue)
            reused = connection.requests_started > 0
            stream_id = 0
            try:
                stream_id = connection.begin(wire)
                await connection.send_request(stream_id, wire, _remaining(limits.write, deadline))
                while True:
                    event = await connection.next_event(
                        stream_id, _remaining(limits.read, deadline)
                    )
                    if isinstance(event, ResponseHead):
                        break
            except (ReadError, WriteError, RemoteProtocolError) as exc:
                await self._discard(connection, stream_id)
                # Refused unprocessed (REFUSED_STREAM, above GOAWAY's last stream):
                # back to the queue, to share the next free stream.
                if requeue_refused(exc, request, refusals):
                    refusals += 1
                    requeue = True
                    logger.debug("Request refused unprocessed (%s); requeued", exc)
                    continue
                # A keep-alive connection the server closed while it sat idle fails
                # before any answer: try once more on a new connection.
                if reused and not fresh and request.replayable and _before_answer(exc):
                    logger.debug("Reused connection failed (%s); retrying on a new one", exc)
                    fresh = True
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

    async def _discard(self, connection: AsyncConnection, stream_id: int) -> None:
        async with self.backend.shielded():
            if stream_id:
                await connection.cancel(stream_id)
                connection.release(stream_id)
            await self._release(connection)

    async def _acquire(
        self,
        origin: PoolKey,
        limits: Timeout,
        deadline: float | None,
        *,
        fresh: bool,
        requeue: bool = False,
    ) -> AsyncConnection:
        pool_deadline = None if limits.pool is None else time.monotonic() + limits.pool
        while True:
            waiter: AsyncEvent | None = None
            with self._state:
                if self._closed:
                    raise RuntimeError("Cannot send a request: the client has been closed.")
                reaped = self._reap() if self._dropped else None
                checkout, actions = self._pool.checkout(
                    origin,
                    time.monotonic(),
                    fresh=fresh,
                    may_multiplex=self._may_multiplex(origin),
                    requeue=requeue,
                )
                if checkout.action == "wait":
                    waiter = self._waiters[checkout.id] = self.backend.event()
            try:
                if reaped:
                    await self._carry_out(reaped)
                if actions:
                    await self._carry_out(actions)
                if waiter is not None:
                    await self._wait(checkout, waiter, pool_deadline, deadline)
            except BaseException:
                await self._give_back(checkout)
                raise
            if checkout.action == "open":
                return await self._open(checkout, origin, _remaining(limits.connect, deadline))
            connection = self._connections.get(checkout.connection_id)
            if connection is None:  # `aclose()` came first
                raise RuntimeError("Cannot send a request: the client has been closed.")
            # The pool cannot see sockets: one it offers may have died since (the
            # server closed an idle HTTP/1.1 connection, or wrote out of turn; an
            # HTTP/2 peer sent GOAWAY). Give it back as dead and ask again, ahead
            # of the requests that came after this one.
            requeue = True
            reusable = connection.is_reusable
            if reusable:
                proto = connection.proto
                if proto.http_version == "HTTP/1.1":
                    reusable = not connection.socket.is_readable()
                elif not proto.awaiting_settings and proto.open_streams >= proto.max_streams:
                    # The peer lowered its stream limit since the pool last heard:
                    # give the stream back with the new limit and ask again. (Before
                    # its SETTINGS, the pool goes by the origin's last known limit.)
                    with self._state:
                        actions = self._pool.released(
                            connection.id, time.monotonic(), max_streams=_limit(proto)
                        )
                    await self._carry_out(actions)
                    continue
                elif proto.needs_alive_check:
                    # A read timed out on it: the peer answers a PING first, or the
                    # connection is given back as dead.
                    try:
                        reusable = await connection.check_alive(
                            _remaining(limits.connect, deadline)
                        )
                    except BaseException:
                        await self._give_back(checkout)  # still suspect: the next proves it
                        raise
            if reusable:
                return connection
            with self._state:
                actions = self._pool.released(connection.id, time.monotonic(), reusable=False)
            await self._carry_out(actions)

    async def _wait(
        self,
        checkout: Checkout,
        waiter: AsyncEvent,
        pool_deadline: float | None,
        deadline: float | None,
    ) -> None:
        """Sleeps until the pool serves `checkout`; raises at the pool timeout."""
        timeout = _remaining(
            None if pool_deadline is None else max(pool_deadline - time.monotonic(), 0.0),
            deadline,
        )
        await waiter.wait(timeout)
        # Served, or timed out: one served just after the timeout is still used.
        with self._state:
            self._waiters.pop(checkout.id, None)
            action = checkout.action
            actions = self._pool.cancel(checkout, time.monotonic())
        if actions:
            await self._carry_out(actions)
        if action == "wait":
            raise TransportTimeout("pool")
        if action == "cancelled":  # by `aclose()`
            raise RuntimeError("Cannot send a request: the client has been closed.")

    async def _give_back(self, checkout: Checkout) -> None:
        """Returns what a checkout holds when its request fails before using it."""
        with self._state:
            self._waiters.pop(checkout.id, None)
            now = time.monotonic()
            if checkout.action == "reuse":
                actions = self._pool.released(checkout.connection_id, now)
            elif checkout.action == "open":
                actions = self._pool.open_failed(checkout.connection_id, now)
            else:
                actions = self._pool.cancel(checkout, now)
        if actions:
            async with self.backend.shielded():
                await self._carry_out(actions)

    async def _open(
        self, checkout: Checkout, origin: PoolKey, timeout: float | None
    ) -> AsyncConnection:
        connection_id = checkout.connection_id
        try:
            connection = await self._connect(origin, timeout, connection_id)
        except BaseException:
            await self._give_back(checkout)
            raise
        proto = connection.proto
        with self._state:
            closed = self._closed
            if closed:
                actions = self._pool.open_failed(connection_id, time.monotonic())
            else:
                self._connections[connection_id] = connection
                actions = self._pool.opened(
                    connection_id,
                    time.monotonic(),
                    http2=proto.http_version == "HTTP/2",
                    max_streams=_limit(proto),
                )
        if actions:
            await self._carry_out(actions)
        if closed:
            await connection.aclose()
            raise RuntimeError("Cannot send a request: the client has been closed.")
        return connection

    def _may_multiplex(self, origin: PoolKey) -> bool:
        """Whether a new connection to `origin` may speak HTTP/2 (ALPN h2, or h2c;
        plain http through an HTTP proxy is HTTP/1.1)."""
        if origin[0] in ("https", "wss"):
            return self._http2
        return self._h2c and (len(origin) == 3 or origin[3].is_socks)

    def _reap(self) -> PoolActions | None:
        """Gives the pool back the streams of responses dropped unread (the caller
        holds the state lock)."""
        close: list[int] = []
        wake: list[Checkout] = []
        while self._dropped:
            connection = self._dropped.pop()
            if connection.id not in self._connections:
                continue  # closed already: nothing to give back
            for _ in range(connection.reap()):
                actions = self._pool.released(
                    connection.id, time.monotonic(), reusable=connection.is_reusable
                )
                close += actions.close
                wake += actions.wake
        return PoolActions(tuple(close), tuple(wake)) if close or wake else None

    async def _carry_out(self, actions: PoolActions) -> None:
        """Closes the connections the pool let go and wakes the checkouts it served."""
        if actions.close:
            with self._state:
                closing = [self._connections.pop(i, None) for i in actions.close]
            for connection in closing:
                if connection is not None:
                    await connection.aclose()
        for checkout in actions.wake:
            waiter = self._waiters.get(checkout.id)
            if waiter is not None:
                waiter.set()

    async def _connect(
        self, origin: PoolKey, timeout: float | None, connection_id: int
    ) -> AsyncConnection:
        scheme, host, port = origin[:3]
        proxy = origin[3] if len(origin) == 4 else None
        tls = scheme in ("https", "wss")
        purpose: Purpose = "http" if self._http2 else "http1"
        socket = await self._open_socket(scheme, host, port, proxy, purpose, timeout)
        use_h2 = socket.alpn == "h2" if tls else self._h2c and (proxy is None or proxy.is_socks)
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
        connection = AsyncConnection(
            socket,
            proto,
            (scheme, host, port),
            self.backend,
            id=connection_id,
            on_drop=self._dropped.append,
            on_change=self._changed,
        )
        logger.debug("Connected to %s://%s:%d over %s", scheme, host, port, proto.http_version)
        if use_h2:
            try:
                await connection.flush(timeout)
            except BaseException:
                await connection.aclose()
                raise
        return connection

    async def connect_websocket(self, url: URL, timeout: float | None) -> AsyncSocket:
        """A socket to `url`'s server for a WebSocket, TLS (offering http/1.1 only)
        for wss: direct, or through the proxy this transport picks for `url`."""
        proxy = None if self._proxies is None else self._proxies.proxy_for(url)
        return await self._open_socket(url.scheme, url.host, url.port, proxy, "websocket", timeout)

    async def _open_socket(
        self,
        scheme: str,
        host: str,
        port: int,
        proxy: Proxy | None,
        purpose: Purpose,
        timeout: float | None,
    ) -> AsyncSocket:
        """Connects to `host:port`, directly or through `proxy`, with TLS for https and wss."""
        tls = scheme in ("https", "wss")
        context = ssl_context(self._verify, purpose, self._cert) if tls else None
        if proxy is None:
            return await self.backend.connect(host, port, ssl_context=context, timeout=timeout)
        logger.debug("Connecting to %s://%s:%d through %s", scheme, host, port, proxy.url)
        tunnel: Tunnel | None = None
        if proxy.is_socks:
            from oxide_proto import SocksTunnel

            address = None
            if proxy.scheme == "socks5":
                # socks5:// resolves names here; socks5h:// lets the proxy do it.
                started = time.monotonic()
                address = await self.backend.resolve(host, port, timeout)
                timeout = _remaining(timeout, None if timeout is None else started + timeout)
            tunnel = SocksTunnel(proxy, host, port, address=address)
        elif tls or purpose == "websocket":
            from oxide_proto import ProxyTunnel

            tunnel = ProxyTunnel(proxy, host, port)
        # else plain http through an HTTP proxy: requests in absolute form, no tunnel.
        return await self.backend.connect(
            proxy.host, proxy.port, ssl_context=context, timeout=timeout, tunnel=tunnel
        )

    async def _release(self, connection: AsyncConnection) -> None:
        """A request finished with `connection`: the pool keeps it for reuse, hands it
        to a waiting request, or closes it."""
        with self._state:
            actions = self._pool.released(
                connection.id,
                time.monotonic(),
                reusable=connection.is_reusable,
                max_streams=_limit(connection.proto),
            )
        if actions:
            await self._carry_out(actions)

    async def _changed(self, connection: AsyncConnection) -> None:
        """A connection read news the pool must hear now (the peer's stream limit,
        a refused stream, GOAWAY): waiting requests may move."""
        with self._state:
            actions = self._pool.update(
                connection.id,
                time.monotonic(),
                reusable=connection.is_reusable,
                max_streams=_limit(connection.proto),
            )
        if actions:
            async with self.backend.shielded():
                await self._carry_out(actions)

    def _after_fork_in_child(self) -> None:
        """Empties the pool in a forked child (single-threaded: takes no lock)."""
        inherited = list(self._connections.values())
        self._connections = {}
        self._waiters = {}
        self._dropped.clear()
        # Another thread of the parent may have held it at the fork: it would
        # never be released here.
        self._state = self.backend.state_lock()
        self._pool.reset()
        for connection in inherited:
            connection.socket.forget()

    async def aclose(self) -> None:
        """Closes every connection; requests in flight fail with a connection error."""
        with self._state:
            self._closed = True
            actions = self._pool.clear()
            connections = list(self._connections.values())
            self._connections.clear()
        for connection in connections:
            await connection.aclose()
        await self._carry_out(actions)


def _new_transport(
    verify: VerifyTypes,
    http2: bool,
    h2c: bool,
    limits: PoolLimits | None,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    cert: CertTypes | None = None,
) -> AsyncTransport:
    return AsyncTransport(
        verify=verify,
        http2=http2,
        h2c=h2c,
        limits=limits,
        proxy=proxy,
        trust_env=trust_env,
        cert=cert,
    )


# Every live transport, weakly: the registry must not keep a client alive.
_TRANSPORTS: weakref.WeakSet[AsyncTransport] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for transport in list(_TRANSPORTS):
        transport._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _limit(proto: HTTPConnection) -> int | None:
    """The stream limit to tell the pool: None while an HTTP/2 peer's is unknown."""
    return None if proto.awaiting_settings else proto.max_streams


def _before_answer(exc: BaseException) -> bool:
    """True for failures of a connection that died, as opposed to an over-limit answer.

    Everything in `send` happens before the response head arrived, so the server
    cannot have started answering.
    """
    return isinstance(exc, (ReadError, WriteError)) or (
        isinstance(exc, RemoteProtocolError) and not isinstance(exc, LimitExceededError)
    )
