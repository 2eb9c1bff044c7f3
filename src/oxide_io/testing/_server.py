"""`MockServer`: an OpenAI-like HTTP server on a background thread, for demos and tests.

One listening socket, served by an asyncio loop in a daemon thread. Each
connection is HTTP/2 when it opens with the HTTP/2 client preface (h2c with
prior knowledge, or TLS after ALPN chose h2) and HTTP/1.1 otherwise. Stopping
the server closes every connection and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from types import TracebackType

from ._app import MockApp, RecordedRequest
from ._behaviours import Behaviour, Plan
from ._generation import ReplyText, default_reply
from ._http1 import serve_http1
from ._http2 import serve_http2
from ._rate_limit import RateLimit, RateLimiter
from ._wire import Answer, error_answer

__all__ = ["MockServer"]

logger = logging.getLogger("oxide_io.testing")

# RFC 9113, section 3.4: every HTTP/2 connection opens with these bytes.
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_STOP_TIMEOUT = 10.0
# Connections waiting to be accepted (see `start`).
_BACKLOG = 1024


class MockServer:
    """An OpenAI-like API server on 127.0.0.1, running on a background thread.

    It answers `POST /v1/chat/completions`, `POST /v1/responses` (both plain and
    streamed; background responses are kept to retrieve or resume), `GET /v1/models`,
    `GET /v1/models/{model}`, `POST /v1/embeddings`, files and the Batch API
    (batches move on a state each time they are retrieved, see `batch_expiry`
    and `batch_failure`),
    `GET /v1/fine_tuning/jobs`, `POST /v1/images/generations` (plain and streamed
    with partial images), `POST /v1/responses/input_tokens`, `POST /v1/decisions`
    (each choice question answered with the choice its last input message names),
    the files, uploads, vector store, audio and agent environment file endpoints of
    `_files_api`, with the API's wire formats, over HTTP/1.1 and HTTP/2, with or
    without TLS, the Responses WebSocket
    (`GET /v1/responses` upgraded, over HTTP/1.1; lanes by `stream_id`), the Realtime
    WebSocket (`GET /v1/realtime`) and a Live session's WebSocket
    (`GET /v1/live/sessions`: transcripts of the audio it hears, and the reply).
    Replies are deterministic; tests script failures with
    `enqueue`.

        >>> from oxide_io.testing import MockServer, Fail
        >>> with MockServer(api_key="sk-test") as server:
        ...     server.enqueue(Fail(429, retry_after=0))   # the next request gets a 429
        ...     client = Client(base_url=server.base_url, api_key="sk-test")
        ...     ...
        ...     assert server.requests[-1].json["model"] == "gpt-4o-mini"

    Arguments:
        api_key: when set, requests must carry ``Authorization: Bearer <api_key>``
            or get a 401; when `None`, any key (or none) is accepted.
        http2: serve HTTP/2 besides HTTP/1.1 (h2c with prior knowledge, and h2
            by ALPN under TLS).
        tls: a server-side `ssl.SSLContext` with its certificate loaded; the
            server then speaks HTTPS. Its ALPN protocols are set by the server.
        host, port: where to listen; port 0 picks a free port (see `port`).
        rate_limit: a `RateLimit` to enforce, with the API's `x-ratelimit-*`
            headers on every answer and 429s past it (see `RateLimit`).
        reply_text: what the model says — a string, or a function of the
            request's JSON body; by default a sentence quoting the last user
            message, or, when the request asks for JSON (`response_format` /
            `text.format` of type `json_schema` or `json_object`), JSON that
            fits its schema. Can be changed later through the attribute.

    A request whose `tool_choice` is ``"required"`` or names one of its
    function tools is answered with a call of that function (the first one
    for ``"required"``), with arguments that fit its `parameters` schema.

    Use it as a context manager, or call `start()` and `stop()`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        http2: bool = True,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        reply_text: ReplyText = default_reply,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.host = host
        self.http2 = http2
        self.tls = tls
        self._requested_port = port
        self._port: int | None = None
        self._app = MockApp(api_key=api_key, reply_text=reply_text)
        self.rate_limit = rate_limit
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # -- what a test reads and sets ------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("the mock server is not running: call start() or use `with`")
        return self._port

    @property
    def url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:54321``."""
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL, e.g. ``http://127.0.0.1:54321/v1``: give it to a client."""
        return f"{self.url}/v1"

    @property
    def api_key(self) -> str | None:
        return self._app.api_key

    @property
    def reply_text(self) -> ReplyText:
        """What the mock model says: a string, or a function of the request's JSON body."""
        return self._app.reply_text

    @reply_text.setter
    def reply_text(self, value: ReplyText) -> None:
        self._app.reply_text = value

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate limit enforced (see `RateLimit`); setting one starts it afresh."""
        limiter = self._app.limiter
        return None if limiter is None else limiter.limit

    @rate_limit.setter
    def rate_limit(self, value: RateLimit | None) -> None:
        self._app.limiter = None if value is None else RateLimiter(value)

    @property
    def batch_expiry(self) -> int | None:
        """When set to n, batches created from now on end `expired` after their first
        n lines (the others are in the error file, code `batch_expired`)."""
        return self._app.batches.expiry

    @batch_expiry.setter
    def batch_expiry(self, value: int | None) -> None:
        self._app.batches.expiry = value

    @property
    def batch_failure(self) -> str | None:
        """When set to an error code (such as "token_limit_exceeded"), batches
        created from now on end `failed` when validated, with that code in their
        `errors`, and answer no line."""
        return self._app.batches.failure

    @batch_failure.setter
    def batch_failure(self, value: str | None) -> None:
        self._app.batches.failure = value

    @property
    def limiter(self) -> RateLimiter | None:
        """The rate limit's state: `admitted`, `rejected`, `arrivals`, `most_in_window()`."""
        return self._app.limiter

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> list[Behaviour]:
        """Behaviours queued with `enqueue` that no request has used up yet."""
        return self._app.script.pending()

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Script how the next matching request(s) are answered.

            >>> server.enqueue(Fail(503, retry_after_ms=10, times=2), Delay(0.1))
            >>> server.enqueue(ToolCalls([ToolCall("get_weather", {"city": "Paris"})]))
            >>> server.enqueue(CutStream(after_events=3, path="/v1/chat/completions"))

        Each behaviour applies to `times` requests (default 1; `None` for all)
        whose path matches its `path` pattern (default: any).
        """
        self._app.script.add(behaviours)

    def clear(self) -> None:
        """Forget the received requests and every queued behaviour."""
        self._app.script.clear()
        with self._lock:
            self._requests.clear()

    # -- life cycle ----------------------------------------------------------

    def start(self) -> MockServer:
        """Listen and serve on a background thread; returns once the server accepts."""
        if self._thread is not None:
            raise RuntimeError("the mock server is already running")
        if self.tls is not None:
            self.tls.set_alpn_protocols(["h2", "http/1.1"] if self.http2 else ["http/1.1"])
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # A burst of connections (a client opening hundreds at once) waits in the
        # accept queue instead of overflowing it: an overflowed SYN is retried
        # only after a second. The kernel caps it at its own limit (somaxconn).
        sock = socket.create_server(
            (self.host, self._requested_port), family=family, backlog=_BACKLOG
        )
        self._port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run,
            args=(sock, ready, failure),
            name=f"oxide-mock-server:{self._port}",
            daemon=True,
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            self._port = None
            raise RuntimeError("the mock server failed to start") from failure[0]
        return self

    def stop(self) -> None:
        """Close the listening socket and every connection, and join the thread.

        Streams still running (a stall, a slow reply) are broken off. Calling
        it again, or on a server that is not running, does nothing.
        """
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("the mock server thread did not stop")
        self._thread = self._loop = self._stopping = None
        self._port = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "stopped"
        return f"<MockServer {where}>"

    # -- the background thread -----------------------------------------------

    def _run(
        self, sock: socket.socket, ready: threading.Event, failure: list[BaseException]
    ) -> None:
        # A selector loop on every platform: accepting happens in a reader
        # callback (see `_accept`), which the Windows proactor loop lacks.
        loop = asyncio.SelectorEventLoop()
        try:
            loop.run_until_complete(self._main(sock, ready))
        except BaseException as exc:
            if not ready.is_set():
                failure.append(exc)
            else:
                logger.exception("the mock server stopped on an error")
        finally:
            sock.close()
            ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        sock.setblocking(False)
        accepted: set[socket.socket] = set()
        loop.add_reader(sock.fileno(), self._accept, sock, accepted)
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            loop.remove_reader(sock.fileno())
            sock.close()
            tasks = list(self._connections)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # A connection whose task was cancelled before it ran still has
            # its socket here.
            for conn in accepted:
                conn.close()

    def _accept(self, sock: socket.socket, accepted: set[socket.socket]) -> None:
        # Accepting in a plain callback rather than awaiting loop.sock_accept:
        # a socket accepted just as the acceptor is cancelled would be lost,
        # never closed. Here each one is handed to its task at once.
        while True:
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: try again later
                logger.warning("the mock server could not accept a connection: %s", exc)
                return
            conn.setblocking(False)
            # Small writes (a head, then a body; one event at a time) must go
            # out at once, not wait on Nagle for the peer's delayed ACK. asyncio
            # sets this only when the socket reports IPPROTO_TCP, which an
            # accepted one does not.
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            accepted.add(conn)
            task = asyncio.ensure_future(self._on_connection(conn, accepted))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _on_connection(self, conn: socket.socket, accepted: set[socket.socket]) -> None:
        accepted.discard(conn)  # from here on, the `finally` below closes it
        loop = asyncio.get_running_loop()
        writer: asyncio.StreamWriter | None = None
        try:
            reader = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(reader)
            transport, _ = await loop.connect_accepted_socket(
                lambda: protocol,
                conn,
                ssl=self.tls,
                ssl_handshake_timeout=10.0 if self.tls is not None else None,
            )
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            initial = await _sniff(reader)
            if self.http2 and initial == _PREFACE:
                await serve_http2(reader, writer, initial, self._respond)
            elif initial:
                await serve_http1(reader, writer, initial, self._respond)
        except (asyncio.CancelledError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # stopped, or the client went away
        except Exception:
            logger.exception("a mock server connection failed")
        finally:
            if writer is None:
                conn.close()
            else:
                writer.close()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _respond(self, request: RecordedRequest) -> tuple[Answer, Plan]:
        with self._lock:
            self._requests.append(request)
        try:
            return self._app.handle(request)
        except Exception:
            logger.exception("the mock server failed to answer %s %s", request.method, request.path)
            return error_answer(500, "The mock server failed to answer this request."), Plan()


async def _sniff(reader: asyncio.StreamReader) -> bytes:
    """Read just enough to tell the HTTP/2 preface from an HTTP/1.1 request line."""
    data = b""
    while len(data) < len(_PREFACE) and _PREFACE.startswith(data):
        chunk = await reader.read(len(_PREFACE) - len(data))
        if not chunk:
            break
        data += chunk
    return data
