"""The blocking byte stream: sockets and ssl, with the same methods as the async one.

Timeouts are deadlines per call, waited for with `poll` on a non-blocking socket.
A KeyboardInterrupt raised while blocked in the wait propagates; the driver's
cleanup then closes the socket.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import ssl

    from oxide_proto import Tunnel

from ._errors import ConnectError, ReadError, TransportTimeout, WriteError, first_task_error

__all__ = ["SyncBackend", "SyncEvent", "SyncLock", "SyncSocket", "SyncTaskGroup", "SyncWaiter"]

_READ_SIZE = 65536


class SyncSocket:
    """One connected socket (plain or TLS), shared by the threads of one client.

    The socket stays in non-blocking mode and every wait is a `poll` with its own
    deadline: a socket timeout is one setting per socket, so a thread setting it
    for a send would change the read another thread is blocked in. On TLS, one
    `SSLSocket` must not be read and written by two threads at once (OpenSSL's
    SSL objects are not thread-safe), yet HTTP/2 sends requests while another
    thread waits for a response on the same connection: each non-blocking TLS
    read or write runs under a lock, the waits between them do not.
    """

    __slots__ = ("_sock", "_tls_lock", "_want_read", "_want_write", "alpn", "is_closed")

    def __init__(self, sock: socket.socket, alpn: str | None, *, tls: bool = False) -> None:
        sock.setblocking(False)
        self._sock = sock
        self.alpn = alpn
        self.is_closed = False
        if tls:
            import ssl  # loaded already: the socket was wrapped with it

            self._tls_lock: threading.Lock | None = threading.Lock()
            self._want_read: tuple[type[Exception], ...] = (
                BlockingIOError,
                ssl.SSLWantReadError,
            )
            self._want_write: tuple[type[Exception], ...] = (ssl.SSLWantWriteError,)
        else:
            self._tls_lock = None
            self._want_read = (BlockingIOError,)
            self._want_write = ()

    def send(self, data: bytes, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        sock, lock = self._sock, self._tls_lock
        view = memoryview(data)
        sent, total = 0, len(data)
        while sent < total:
            try:
                if lock is None:
                    sent += sock.send(view[sent:])
                else:
                    with lock:
                        sent += sock.send(view[sent:])
                continue
            except self._want_read:
                writing = lock is None  # TLS may need to read (renegotiation) to write
            except self._want_write:
                writing = True
            except OSError as exc:
                raise WriteError(str(exc) or type(exc).__name__) from exc
            if not self._wait(writing, deadline):
                raise TransportTimeout("write")

    def receive(self, timeout: float | None) -> bytes:
        """The next bytes from the peer; b"" when it closed the connection."""
        deadline = None if timeout is None else time.monotonic() + timeout
        sock, lock = self._sock, self._tls_lock
        if lock is None and not self._wait(False, deadline):
            # Plain: wait first, as a blocking recv with a timeout would.
            raise TransportTimeout("read")
        while True:
            try:
                if lock is None:
                    return sock.recv(_READ_SIZE)
                with lock:
                    # TLS: decrypted bytes may wait inside the SSL object already.
                    return sock.recv(_READ_SIZE)
            except self._want_read:
                writing = False
            except self._want_write:
                writing = True
            except OSError as exc:
                raise ReadError(str(exc) or type(exc).__name__) from exc
            if not self._wait(writing, deadline):
                raise TransportTimeout("read")

    def _wait(self, writing: bool, deadline: float | None) -> bool:
        """Waits until the socket is writable (or readable); False at the deadline."""
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            return _ready(self._sock, writing, left)
        except (OSError, ValueError) as exc:  # closed under us by another thread
            error = WriteError if writing else ReadError
            raise error(str(exc) or "the connection was closed") from exc

    def is_readable(self) -> bool:
        """True when the peer sent data or closed: for an idle pooled connection, it is gone."""
        try:
            return _ready(self._sock, False, 0.0)
        except (OSError, ValueError):
            return True

    def forget(self) -> None:
        """Lets go of a socket inherited through `os.fork()`, leaving the parent's
        connection as it was.

        Closing this process's descriptor is all the kernel sees (the parent still
        holds its own), and closing an `SSLSocket` sends no TLS close_notify.
        """
        self.close()

    def close(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        with suppress(OSError):
            self._sock.close()


if hasattr(select, "poll"):

    def _ready(sock: socket.socket, writing: bool, timeout: float | None) -> bool:
        # poll, unlike select, works for descriptors above FD_SETSIZE (1024).
        poller = select.poll()
        poller.register(sock, select.POLLOUT if writing else select.POLLIN)
        return bool(poller.poll(None if timeout is None else timeout * 1000.0))

else:  # Windows

    def _ready(sock: socket.socket, writing: bool, timeout: float | None) -> bool:
        if writing:
            return bool(select.select([], [sock], [sock], timeout)[1])
        return bool(select.select([sock], [], [sock], timeout)[0])


class _NoLock:
    """Stands in for a lock where only one thread can be inside."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


class SyncLock:
    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class SyncWaiter(Protocol):
    """One thread's wait until another thread wakes it (see the async twin)."""

    def wake(self) -> None: ...

    def wait(self, timeout: float | None) -> None:
        """Returns when woken, or after `timeout` seconds (None: no limit)."""
        ...


class _LockWaiter:
    """A thread's waiter: a lock taken at birth, which `wake` lets go of."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wake(self) -> None:
        with suppress(RuntimeError):  # woken before: the lock is free already
            self._lock.release()

    def wait(self, timeout: float | None) -> None:
        self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0))


class SyncEvent:
    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float | None) -> bool:
        return self._event.wait(timeout)


def _open_tunnel(sock: socket.socket, tunnel: Tunnel, deadline: float | None) -> None:
    def wait() -> None:
        # One deadline for the whole handshake, not one timeout per read.
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)

    while True:
        data = tunnel.data_to_send()
        if data:
            wait()
            sock.sendall(data)
        wait()
        if tunnel.receive_data(sock.recv(_READ_SIZE)):
            break
    if tunnel.leftover:
        raise ConnectError(f"proxy {tunnel.proxy.url} sent data before the tunnel was used")


class SyncTaskGroup:
    """Threads that run side by side and are all joined before the `with` block ends.

    The blocking twin of the async task group. A thread cannot be cancelled, so
    an exception in the block (Ctrl-C while joining) marks the group cancelled,
    which each thread checks between steps, and joins them again; a second
    Ctrl-C leaves them (they are daemon threads). The first error a thread
    raised is raised from the block.
    """

    __slots__ = ("_cancelled", "_errors", "_threads")

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._cancelled = threading.Event()
        self._errors: list[BaseException] = []

    def __enter__(self) -> SyncTaskGroup:
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        try:
            if error is not None:
                self._cancelled.set()
            for thread in self._threads:
                while thread.is_alive():
                    thread.join(0.1)
        except BaseException:
            self._cancelled.set()
            for thread in self._threads:
                thread.join(5.0)
            raise
        if error is None and self._errors:
            raise first_task_error(self._errors)

    def start_soon(self, function: Callable[[], None], name: str) -> None:
        def run() -> None:
            try:
                function()
            except BaseException as exc:
                self._errors.append(exc)
                self._cancelled.set()

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class SyncBackend:
    """Opens blocking sockets and sleeps with time.sleep."""

    def runtime(self) -> str | None:
        """None: no event loop (the platform headers say the client is blocking)."""
        return None

    def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float | None,
        tunnel: Tunnel | None = None,
    ) -> SyncSocket:
        """Connects to `host:port`; with `tunnel`, that is the proxy, asked to open a
        tunnel to `tunnel.host:tunnel.port`, in which TLS (if any) then starts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise TransportTimeout("connect") from None
        except OSError as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        try:
            # Small request heads and SSE lines must not wait for Nagle's timer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tunnel is not None:
                _open_tunnel(sock, tunnel, deadline)
                host = tunnel.host
            if ssl_context is None:
                return SyncSocket(sock, None)
            # The wrapper takes the descriptor over (`sock` closes nothing after
            # this), and a handshake it ran itself would close it only on OSError:
            # so the handshake runs here, where a KeyboardInterrupt closes it too.
            sock = ssl_context.wrap_socket(
                sock, server_hostname=host, do_handshake_on_connect=False
            )
            sock.do_handshake()
            return SyncSocket(sock, sock.selected_alpn_protocol(), tls=True)
        except TimeoutError:
            sock.close()
            raise TransportTimeout("connect") from None
        except OSError as exc:  # ssl.SSLError included
            sock.close()
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            sock.close()
            raise

    def resolve(self, host: str, port: int, timeout: float | None) -> str:
        """The first address `host` resolves to (for a proxy that wants an address)."""
        try:
            return str(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])
        except OSError as exc:
            raise ConnectError(f"cannot resolve {host!r}: {exc}") from exc

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def lock(self, *, shared: bool = True, one_loop: bool = False) -> SyncLock | _NoLock:
        """A lock for a resource several threads use; a free no-op one when `shared` is False.

        `one_loop` means nothing here (the async backend's locks may use it).
        """
        return SyncLock() if shared else _NO_LOCK

    def event(self) -> SyncEvent:
        return SyncEvent()

    def waiter_factory(self) -> Callable[[], SyncWaiter]:
        """Makes waiters for threads (see `SyncWaiter`)."""
        return _LockWaiter

    def state_lock(self) -> threading.Lock:
        """Guards the core objects, which threads of one blocking client share."""
        return threading.Lock()

    def task_group(self) -> SyncTaskGroup:
        return SyncTaskGroup()

    def run_blocking(self, function: Callable[[], None]) -> None:
        function()

    @contextmanager
    def shielded(self) -> Iterator[None]:
        yield
