"""A fault-injecting TCP proxy on 127.0.0.1, in front of any server and any protocol.

It relays bytes both ways between a client and an upstream port and, when a
`Fault` is armed, breaks the next answer that flows back to the client (upstream
to client) `after` bytes into it: a TCP reset (RST) or a close (FIN), a stall,
a slow drip of single bytes, a delay before the first byte, garbage bytes
inserted, or the rest of the chunk sent twice. It knows nothing of HTTP, TLS or
WebSocket, so the same faults reach HTTP/1.1, h2c, TLS and WebSocket clients:
over TLS, garbage and duplicated bytes break the record layer instead of the
framing. A `refuse` fault resets the next connection as soon as it is accepted.

A fault is armed once and fires once (`arm`), on whichever connection carries
the next answer bytes; `fired` lists those that fired. `open_connections` counts
the client connections the proxy still holds: after a client is closed it must
fall to zero (`wait_closed`), or the client leaked a connection.

Runs an asyncio loop on a thread of its own (one thread, whatever the number of
connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

import attrs

__all__ = ["KINDS", "Fault", "FaultProxy", "fault_proxy"]

KINDS = ("rst", "fin", "stall", "drip", "delay", "garbage", "duplicate", "refuse")
_READ = 65536
_DRIP_BYTES = 256  # a drip sends this many single bytes, then the rest at once


@attrs.frozen
class Fault:
    """What to do to the next answer: `kind` (one of `KINDS`) once `after` bytes passed.

    `seconds` is the stall or delay, or the wait between dripped bytes; `data`
    the garbage inserted.
    """

    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    after: int = 0
    seconds: float = 0.0
    data: bytes = b"\x00\xff garbage \r\n\r\n"


def _linger_zero(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.fired: list[Fault] = []
        self.accepted = 0
        self._armed: Fault | None = None
        self._lock = threading.Lock()
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fault-proxy")
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def open_connections(self) -> int:
        """Client connections accepted and not yet closed by either side."""
        return len(self._open)

    def arm(self, fault: Fault | None) -> None:
        """Break the next answer (or, for `refuse`, the next connection) with `fault`."""
        with self._lock:
            self._armed = fault

    def armed(self) -> Fault | None:
        with self._lock:
            return self._armed

    def _take(self, refuse: bool) -> Fault | None:
        with self._lock:
            fault = self._armed
            if fault is None or (fault.kind == "refuse") != refuse:
                return None
            self._armed = None
            self.fired.append(fault)
            return fault

    def abort_all(self) -> None:
        """Reset every open connection (ends a call that would otherwise never return)."""

        def abort() -> None:
            for writer in list(self._open):
                _linger_zero(writer)
                writer.transport.abort()

        self._loop.call_soon_threadsafe(abort)

    def wait_closed(self, timeout: float = 5.0) -> int:
        """Wait until no client connection is open; returns how many still are."""
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if not self._open:
                return 0
            deadline.wait(0.02)
        return len(self._open)

    # -- the loop thread -----------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._listen())
        self._ready.set()
        self._loop.run_forever()
        for task in list(self._tasks):
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._open.add(writer)
        self.accepted += 1
        upstream: asyncio.StreamWriter | None = None
        try:
            if self._take(refuse=True) is not None:
                _linger_zero(writer)
                return
            up_reader, upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            to_server = asyncio.ensure_future(self._relay(reader, upstream))
            to_client = asyncio.ensure_future(self._answers(up_reader, writer, upstream))
            # Either direction ending ends the connection: a proxy that half-closes
            # would hide a client that never reads its connection's end.
            await asyncio.wait({to_server, to_client}, return_when=asyncio.FIRST_COMPLETED)
            for pending in (to_server, to_client):
                pending.cancel()
            await asyncio.gather(to_server, to_client, return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for end in (writer, upstream):
                if end is not None:
                    end.close()
            self._open.discard(writer)
            self._tasks.discard(task)

    @staticmethod
    async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while (data := await reader.read(_READ)) and not writer.is_closing():
                writer.write(data)
                await writer.drain()

    async def _answers(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: asyncio.StreamWriter,
    ) -> None:
        fault: Fault | None = None
        passed = 0
        with contextlib.suppress(OSError):
            while (data := await reader.read(_READ)) and not writer.is_closing():
                if fault is None:
                    fault = self._take(refuse=False)
                    passed = 0
                    if fault is not None and fault.kind == "delay":
                        await asyncio.sleep(fault.seconds)
                        fault = None  # delivered whole after the wait
                if fault is None or passed + len(data) <= fault.after:
                    passed += len(data)
                    writer.write(data)
                    await writer.drain()
                    continue
                cut = fault.after - passed
                head, tail = data[:cut], data[cut:]
                writer.write(head)
                await writer.drain()
                if not await self._apply(fault, tail, writer):
                    return
                fault = None

    @staticmethod
    async def _apply(fault: Fault, tail: bytes, writer: asyncio.StreamWriter) -> bool:
        """Break the answer at `tail`; False when the connection ends here."""
        if fault.kind == "rst":
            _linger_zero(writer)
            writer.transport.abort()
            return False
        if fault.kind == "fin":
            return False
        if fault.kind == "stall":
            await asyncio.sleep(fault.seconds)
            return False
        if fault.kind == "drip":
            for index in range(min(len(tail), _DRIP_BYTES)):
                writer.write(tail[index : index + 1])
                await writer.drain()
                await asyncio.sleep(fault.seconds)
            writer.write(tail[_DRIP_BYTES:])
        elif fault.kind == "garbage":
            writer.write(fault.data + tail)
        elif fault.kind == "duplicate":
            writer.write(tail + tail)
        await writer.drain()
        return True

    def close(self) -> None:
        def stop() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._open):
                writer.transport.abort()
            self._loop.stop()

        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(stop)
            self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def fault_proxy(upstream_port: int) -> Iterator[FaultProxy]:
    with FaultProxy(upstream_port) as proxy:
        yield proxy
