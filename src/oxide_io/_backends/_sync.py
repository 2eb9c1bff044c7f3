"""The blocking byte stream: sockets and ssl, with the same methods as the async one.

Timeouts are socket timeouts per phase. A KeyboardInterrupt raised while blocked
in `recv` propagates; the driver's cleanup then closes the socket.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

from ._errors import ConnectError, ReadError, TransportTimeout, WriteError

__all__ = ["SyncBackend", "SyncEvent", "SyncLock", "SyncSocket"]

_READ_SIZE = 65536


class SyncSocket:
    """One connected socket (plain or TLS)."""

    __slots__ = ("_sock", "alpn", "is_closed")

    def __init__(self, sock: socket.socket, alpn: str | None) -> None:
        self._sock = sock
        self.alpn = alpn
        self.is_closed = False

    def send(self, data: bytes, timeout: float | None) -> None:
        try:
            self._sock.settimeout(timeout)
            self._sock.sendall(data)
        except TimeoutError:
            raise TransportTimeout("write") from None
        except OSError as exc:
            raise WriteError(str(exc) or type(exc).__name__) from exc

    def receive(self, timeout: float | None) -> bytes:
        """The next bytes from the peer; b"" when it closed the connection."""
        try:
            self._sock.settimeout(timeout)
            return self._sock.recv(_READ_SIZE)
        except TimeoutError:
            raise TransportTimeout("read") from None
        except OSError as exc:
            raise ReadError(str(exc) or type(exc).__name__) from exc

    def is_readable(self) -> bool:
        """True when the peer sent data or closed: for an idle pooled connection, it is gone."""
        try:
            return bool(select.select([self._sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        with suppress(OSError):
            self._sock.close()


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


class SyncEvent:
    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float | None) -> bool:
        return self._event.wait(timeout)


class SyncBackend:
    """Opens blocking sockets and sleeps with time.sleep."""

    def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float | None,
    ) -> SyncSocket:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise TransportTimeout("connect") from None
        except OSError as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        try:
            # Small request heads and SSE lines must not wait for Nagle's timer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ssl_context is None:
                return SyncSocket(sock, None)
            tls = ssl_context.wrap_socket(sock, server_hostname=host)
            return SyncSocket(tls, tls.selected_alpn_protocol())
        except TimeoutError:
            sock.close()
            raise TransportTimeout("connect") from None
        except OSError as exc:  # ssl.SSLError included
            sock.close()
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            sock.close()
            raise

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def lock(self, *, shared: bool = True) -> SyncLock | _NoLock:
        """A lock for a resource several threads use; a free no-op one when `shared` is False."""
        return SyncLock() if shared else _NO_LOCK

    def event(self) -> SyncEvent:
        return SyncEvent()

    def state_lock(self) -> threading.Lock:
        """Guards the core objects, which threads of one blocking client share."""
        return threading.Lock()

    @contextmanager
    def shielded(self) -> Iterator[None]:
        yield
