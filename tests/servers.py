"""Real third-party servers for the io tests, each started once per session on 127.0.0.1.

Every server runs as a subprocess of this interpreter (``sys.executable -m …``,
so the virtualenv's packages are used) on a free port, is polled until it
answers, and on teardown is terminated and waited for — hypercorn can take a
few seconds to exit, and its port must not be reused before.

Fixtures (session-scoped; registered through ``tests/conftest.py``):

- `certs`: a trustme CA and a server certificate for 127.0.0.1 and localhost,
  written to a temporary directory (`Certs`).
- `llmock_url`: llmock's own server (uvicorn), HTTP/1.1 only.
- `llmock_h2c_url`: llmock's ASGI app under hypercorn, plain: HTTP/1.1 and h2c.
- `llmock_tls_url`: the same under TLS; ALPN offers h2 and http/1.1.
- `ws_echo_url` / `wss_echo_url`: a `websockets` echo server, plain and TLS
  (see `tests/ws_echo.py` for the ``close CODE REASON`` command).

The llmock URLs are roots such as ``http://127.0.0.1:PORT``: the API is under
``/v1`` and the control API under ``/_llmock``. The llmock servers are shared by
the whole session, so a test that scripts faults or reads the journal starts
with `llmock_reset(url)`. The same servers can be started outside pytest with
the context managers `run_llmock`, `run_llmock_hypercorn` and `run_ws_echo`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

__all__ = [
    "Certs",
    "certs",
    "free_port",
    "llmock_h2c_url",
    "llmock_requests",
    "llmock_reset",
    "llmock_scenario",
    "llmock_tls_url",
    "llmock_url",
    "llmock_verdict",
    "make_certs",
    "run_llmock",
    "run_llmock_hypercorn",
    "run_ws_echo",
    "ws_echo_url",
    "wss_echo_url",
]

ROOT = pathlib.Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


# -- certificates -------------------------------------------------------------


@dataclass(frozen=True)
class Certs:
    """A test CA and a server certificate for 127.0.0.1 and localhost, as files.

    `ca_pem` is the CA certificate (what a client trusts); `cert_pem` the server's
    certificate chain and `key_pem` its private key (hypercorn's ``--certfile`` /
    ``--keyfile``). `ssl_context` is a client context trusting the CA, without
    ALPN: do not set ALPN on it (an HTTP/2 setting can break a later WebSocket
    handshake that shares the context); ask `client_context(alpn=…)` for a fresh one.
    """

    ca: trustme.CA
    directory: pathlib.Path
    ca_pem: str
    cert_pem: str
    key_pem: str
    ssl_context: ssl.SSLContext

    def client_context(self, alpn: list[str] | None = None) -> ssl.SSLContext:
        """A new client context trusting the CA, with `alpn` protocols if given."""
        context = ssl.create_default_context(cafile=self.ca_pem)
        if alpn:
            context.set_alpn_protocols(alpn)
        return context

    def server_context(self) -> ssl.SSLContext:
        """A new server context with the certificate loaded (for an in-process server)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_pem, self.key_pem)
        return context


def make_certs(directory: str | os.PathLike[str]) -> Certs:
    """Create a CA and a server certificate for 127.0.0.1 and localhost in `directory`."""
    path = pathlib.Path(directory)
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca_pem, cert_pem, key_pem = path / "ca.pem", path / "server.pem", path / "server.key"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert_pem.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(key_pem))
    context = ssl.create_default_context(cafile=str(ca_pem))
    return Certs(ca, path, str(ca_pem), str(cert_pem), str(key_pem), context)


# -- processes ----------------------------------------------------------------


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_http(port: int, context: ssl.SSLContext | None) -> bool:
    conn: http.client.HTTPConnection
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _process(args: list[str], ready: Any, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args`, wait until `ready()` is true, and stop the process on exit."""
    with tempfile.TemporaryFile() as log:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLMOCK_")}
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not ready():
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-3000:]
                    state = f"exited with {process.returncode}" if process.poll() else "timed out"
                    raise RuntimeError(f"{name} did not start ({state}): {args}\n{output}")
                time.sleep(0.1)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def run_llmock() -> Iterator[str]:
    """llmock's own server (``llmock serve``), HTTP/1.1; yields ``http://127.0.0.1:PORT``."""
    port = free_port()
    args = [sys.executable, "-m", "llmock.cli", "serve", "-h", "127.0.0.1", "-p", str(port)]
    args += ["--log-level", "warning"]
    with _process(args, lambda: _answers_http(port, None), "llmock"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def run_llmock_hypercorn(certs: Certs | None = None) -> Iterator[str]:
    """llmock's app under hypercorn: HTTP/1.1 and h2c, or with `certs` TLS with ALPN h2."""
    port = free_port()
    args = [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}"]
    args += ["--log-level", "warning", "--graceful-timeout", "1"]
    if certs is not None:
        args += ["--certfile", certs.cert_pem, "--keyfile", certs.key_pem]
    args.append("llmock.main:app")
    context = certs.client_context() if certs is not None else None
    scheme = "https" if certs is not None else "http"
    with _process(args, lambda: _answers_http(port, context), "llmock under hypercorn"):
        yield f"{scheme}://127.0.0.1:{port}"


@contextlib.contextmanager
def run_ws_echo(certs: Certs | None = None) -> Iterator[str]:
    """The `websockets` echo server; yields ``ws://127.0.0.1:PORT`` (``wss://`` with `certs`)."""
    port = free_port()
    args = [sys.executable, "-m", "tests.ws_echo", "--port", str(port)]
    if certs is not None:
        args += ["--certfile", certs.cert_pem, "--keyfile", certs.key_pem]
    with _process(args, lambda: _accepts(port), "websockets echo server"):
        yield f"{'wss' if certs is not None else 'ws'}://127.0.0.1:{port}"


# -- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def llmock_url() -> Iterator[str]:
    with run_llmock() as url:
        yield url


@pytest.fixture(scope="session")
def llmock_h2c_url() -> Iterator[str]:
    with run_llmock_hypercorn() as url:
        yield url


@pytest.fixture(scope="session")
def llmock_tls_url(certs: Certs) -> Iterator[str]:
    with run_llmock_hypercorn(certs) as url:
        yield url


@pytest.fixture(scope="session")
def ws_echo_url() -> Iterator[str]:
    with run_ws_echo() as url:
        yield url


@pytest.fixture(scope="session")
def wss_echo_url(certs: Certs) -> Iterator[str]:
    with run_ws_echo(certs) as url:
        yield url


# -- llmock's control API -----------------------------------------------------


def _call(
    url: str,
    method: str,
    path: str,
    body: object = None,
    context: ssl.SSLContext | None = None,
) -> Any:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname or "", port, timeout=10, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", port, timeout=10)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if data is not None else {}
        conn.request(method, path, data, headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"llmock {method} {path}: {response.status} {payload!r}")
        return json.loads(payload) if payload else None
    finally:
        conn.close()


def llmock_scenario(
    url: str, *behaviors: Mapping[str, Any], context: ssl.SSLContext | None = None
) -> Any:
    """Queue behaviours for the next requests: ``POST /_llmock/scenario {"behaviors": [...]}``.

    Returns llmock's answer, ``{"queued": N, "pending": M}``. Each behaviour is a
    JSON object with a ``type`` and that type's fields; every type also takes
    ``times`` (how many requests it applies to; 1 by default, null for all until
    reset) and ``match`` (``{"provider", "path", "model", "stream", "tools"}``, any
    subset; ``path`` and ``model`` accept shell wildcards such as ``"/v1/chat/*"``).
    A request takes at most one behaviour per type; a ``fail`` ends it and leaves
    the rest queued.

    - ``{"type": "fail", "status": 429, "retry_after": 1.5, "message": …, "code": …}``:
      an error in the provider's shape. ``retry_after`` (seconds) is sent as
      ``retry-after`` (rounded up) and ``retry-after-ms``; 429, 503, 504 and 529
      get a one-second ``retry-after`` when none is given.
    - ``{"type": "delay", "seconds": 0.5}``: hold the whole response.
    - ``{"type": "slow_first_token", "seconds": 0.5}``: wait before the first
      streamed chunk (matches streaming requests only, by default).
    - ``{"type": "stream_fault", "kind": K, "after_chunks": 1, "stall_seconds": 30}``
      on streaming requests, K one of ``disconnect`` (drop the connection — under
      HTTP/2 this stalls the stream instead), ``truncate`` (end cleanly with no
      finish reason nor ``[DONE]``), ``stall`` (pause ``stall_seconds``, then go on)
      and ``malformed`` (a chunk that is not JSON).
    - ``{"type": "reply", "text": …, "tool_calls": [{"name": …, "arguments": {…}}],
      "finish_reason": …}``: what the model says.
    - ``{"type": "tool_fault", "kind": "malformed_arguments" | "unknown_tool"}``:
      a broken tool call (requests offering tools only, by default).
    """
    return _call(url, "POST", "/_llmock/scenario", {"behaviors": list(behaviors)}, context)


def llmock_requests(url: str, context: ssl.SSLContext | None = None) -> list[dict[str, Any]]:
    """The journal, oldest first: ``GET /_llmock/requests`` → ``{"count", "requests"}``.

    Each record: ``seq``, ``provider`` (e.g. "openai"), ``method``, ``path``,
    ``status``, ``model``, ``stream``, ``fault`` (e.g. "scenario:429", or
    "stream:disconnect@3": the kind and the chunk it hit; null when none),
    ``retry_after``, ``completed`` (false for a broken or truncated stream),
    ``chunks_sent``, ``sdk_retry_count`` (from ``x-stainless-retry-count``),
    ``stall_waited``, ``fingerprint`` (the same for retries of one call: method,
    path and body), ``body`` (the JSON sent),
    ``started_at`` / ``ended_at`` / ``duration`` (server monotonic seconds).
    llmock waits up to 2 s for requests still in flight before answering.
    """
    return list(_call(url, "GET", "/_llmock/requests", None, context)["requests"])


def llmock_verdict(url: str, context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """How the client coped: ``GET /_llmock/verdict``.

    ``{"passed", "calls", "attempts", "faults_injected", "errors", "warnings",
    "findings": [{"severity": "error"|"warning", "code", "title", "advice", "call",
    "requests": [seq…], "path"}]}``. Codes include ``retry_after_ignored`` (retried
    sooner than ``Retry-After`` asked), ``retried_non_retryable`` (retried a
    400/401/403/404/422), ``retry_storm``, ``truncated_stream_accepted``,
    ``malformed_chunk_ignored``, ``no_backoff``, ``gave_up`` and ``no_read_timeout``.
    """
    return dict(_call(url, "GET", "/_llmock/verdict", None, context))


def llmock_reset(url: str, context: ssl.SSLContext | None = None) -> None:
    """Forget the journal and every queued behaviour: ``POST /_llmock/reset``."""
    _call(url, "POST", "/_llmock/reset", None, context)
