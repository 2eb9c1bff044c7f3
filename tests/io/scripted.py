"""A raw HTTP/1.1 server on 127.0.0.1 that writes whatever bytes a script returns.

For faults a real server would not produce on purpose: bytes after a complete
response, a body that is not what its Content-Type says, redirects of every
kind. `script(request)` gets each parsed request (`Seen`) and returns the bytes
to write, as one write or as several (a list), or None to close the connection;
an answer whose head says `connection: close` is followed by the close. A list
may hold `Pause(seconds)` between writes, and `RESET` to end the connection
with a TCP reset (RST) instead of a close (FIN) at that point.
Connections are kept alive as long as the script answers; every request is
recorded in `seen`, with the number of the connection it came on.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TypeVar

import attrs

__all__ = ["RESET", "Pause", "Seen", "ScriptedServer", "response", "scripted_server", "serving"]


@attrs.frozen
class Seen:
    """One request as it arrived."""

    connection: int
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased; a repeated name keeps the last value
    body: bytes


@attrs.frozen
class Pause:
    """A wait between two writes of an answer."""

    seconds: float


class _Reset:
    def __repr__(self) -> str:
        return "RESET"


RESET = _Reset()
Script = Callable[[Seen], "bytes | list[bytes | Pause | _Reset] | None"]


def reset(sock: socket.socket) -> None:
    """Close `sock` with a TCP reset: no lingering, so the kernel sends RST, not FIN."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def response(
    status: int,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> bytes:
    """The bytes of a complete response with a Content-Length."""
    fields = {"content-type": content_type, "content-length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode("latin-1") + b"\r\n" + body


class ScriptedServer:
    def __init__(
        self, script: Script, tls: ssl.SSLContext | None = None, *, record: bool = True
    ) -> None:
        self.script = script
        self._record = record  # a long run keeps no log of what it was sent
        self.seen: list[Seen] = []
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections = 0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._answers = 0
        self._open: set[socket.socket] = set()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def origin(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def connections(self) -> int:
        return self._connections

    def serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
            thread = threading.Thread(target=self._handle, args=(conn, number), daemon=True)
            if number % 64 == 0:
                self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _handle(self, raw: socket.socket, number: int) -> None:
        raw.settimeout(10)
        try:
            conn = self._tls.wrap_socket(raw, server_side=True) if self._tls else raw
        except (OSError, ssl.SSLError):
            raw.close()
            return
        with self._lock:
            self._open.add(conn)  # wrapping detaches `raw`: the wrapper is the socket
        try:
            self.serve_connection(conn, number)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def serve_connection(self, conn: socket.socket, number: int) -> None:
        """Answer HTTP/1.1 requests on `conn` until the script or the peer closes it."""
        buffer = b""
        while not self._stop.is_set():
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            body, buffer = self._body(conn, buffer, length, chunked)
            seen = Seen(number, method, target, headers, body)
            if self._record:
                with self._lock:
                    self.seen.append(seen)
            answer = self.script(seen)
            if answer is None:
                return
            pieces = answer if isinstance(answer, list) else [answer]
            for piece in pieces:
                if isinstance(piece, Pause):
                    self._stop.wait(piece.seconds)
                elif isinstance(piece, _Reset):
                    reset(conn)
                    return
                else:
                    conn.sendall(piece)
            with self._answered:
                self._answers += 1
                self._answered.notify_all()
            first = pieces[0]
            if isinstance(first, bytes) and b"\r\nconnection: close\r\n" in first.lower():
                return  # the body ends with the connection

    def wait_answered(self, count: int, timeout: float = 5.0) -> bool:
        """Waits until `count` answers were written in full; False after `timeout`."""
        with self._answered:
            return self._answered.wait_for(lambda: self._answers >= count, timeout)

    @staticmethod
    def _body(
        conn: socket.socket, buffer: bytes, length: int, chunked: bool
    ) -> tuple[bytes, bytes]:
        if not chunked:
            while len(buffer) < length:
                data = conn.recv(65536)
                if not data:
                    raise ValueError("closed mid-body")
                buffer += data
            return buffer[:length], buffer[length:]
        body = b""
        while True:
            while b"\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    raise ValueError("closed mid-body")
                buffer += data
            size_line, _, buffer = buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buffer) < size + 2:
                data = conn.recv(65536)
                if not data:
                    raise ValueError("closed mid-body")
                buffer += data
            if size == 0:
                # No trailers are sent by the client: the last chunk ends with CRLF.
                return body, buffer[2:]
            body += buffer[:size]
            buffer = buffer[size + 2 :]

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for raw in self._open:
                # Wakes the handler blocked in recv() on a connection the client keeps.
                with suppress(OSError):
                    raw.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)


Served = TypeVar("Served", bound=ScriptedServer)


@contextmanager
def serving(server: Served) -> Iterator[Served]:
    """`server` accepting on a thread of its own until the block ends."""
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(5)


def scripted_server(
    script: Script, tls: ssl.SSLContext | None = None
) -> AbstractContextManager[ScriptedServer]:
    return serving(ScriptedServer(script, tls))
