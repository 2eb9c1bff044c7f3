"""Fixtures for the client tests: one test body, three runtimes, four transports.

`runtime` runs each `@pytest.mark.anyio` test three ways: with the blocking
`Client` (through `tests.io.blocking`, the calls simply block), with
`AsyncClient` on asyncio and with `AsyncClient` on trio. `mock` is the embedded
server over plain HTTP/1.1; `any_transport` is the same server over HTTP/1.1,
h2c, HTTP/1.1 over TLS and HTTP/2 over TLS (ALPN), each with the client options
that select it. Servers start once per session; each test starts from a clean
request log and an empty script.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs
import pytest
import trustme

from oxide_io import AsyncClient, Client
from oxide_io.testing import MockServer
from tests.io.blocking import wrap
from tests.io.recording_server import RecordingServer, run_recording_server

KEY = "sk-test-0123456789abcdefSECRET"
RUNTIMES = ("sync", "asyncio", "trio")


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def anyio_backend(runtime: str) -> str:
    # The blocking client runs its (blocking) calls inside an asyncio test body.
    return "trio" if runtime == "trio" else "asyncio"


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_LOG",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_path(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_tls_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def plain_server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY) as server:
        yield server


@pytest.fixture(scope="session")
def tls_server(server_tls_context: ssl.SSLContext) -> Iterator[MockServer]:
    with MockServer(api_key=KEY, tls=server_tls_context) as server:
        yield server


@attrs.frozen
class Setup:
    """A server and the client options that reach it over one transport."""

    server: MockServer
    options: dict[str, Any]
    http_version: str

    @property
    def port(self) -> int:
        return self.server.port


def _setup(name: str, plain: MockServer, tls: MockServer, ca_path: str) -> Setup:
    if name == "h1":
        return Setup(plain, {"base_url": plain.base_url}, "HTTP/1.1")
    if name == "h2c":
        return Setup(plain, {"base_url": plain.base_url, "h2c": True}, "HTTP/2")
    if name == "h1-tls":
        options = {"base_url": tls.base_url, "http2": False, "verify": ca_path}
        return Setup(tls, options, "HTTP/1.1")
    return Setup(tls, {"base_url": tls.base_url, "verify": ca_path}, "HTTP/2")


@pytest.fixture
def mock(plain_server: MockServer) -> Iterator[Setup]:
    plain_server.clear()
    yield Setup(plain_server, {"base_url": plain_server.base_url}, "HTTP/1.1")
    plain_server.clear()


@pytest.fixture(params=["h1", "h2c", "h1-tls", "h2-tls"])
def any_transport(
    request: pytest.FixtureRequest, plain_server: MockServer, ca_path: str
) -> Iterator[Setup]:
    tls = request.getfixturevalue("tls_server") if "tls" in request.param else plain_server
    setup = _setup(request.param, plain_server, tls, ca_path)
    setup.server.clear()
    yield setup
    setup.server.clear()


@pytest.fixture
def h2_setups(plain_server: MockServer, ca_path: str, request: pytest.FixtureRequest) -> Any:
    """The HTTP/2 transports only (h2c and TLS+ALPN), by name."""
    return lambda name: _setup(name, plain_server, request.getfixturevalue("tls_server"), ca_path)


MakeClient = Callable[..., Any]


@pytest.fixture
async def make_client(runtime: str, anyio_backend: str) -> AsyncIterator[MakeClient]:
    """`make_client(setup, **options)`: a client for the test's runtime, closed afterwards."""
    made: list[Any] = []

    def make(setup: Setup | None = None, **options: Any) -> Any:
        options = {"api_key": KEY, **(setup.options if setup else {}), **options}
        client = wrap(Client(**options)) if runtime == "sync" else AsyncClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(scope="module")
def _recording() -> Iterator[RecordingServer]:
    yield from run_recording_server()


@pytest.fixture
def recording(_recording: RecordingServer) -> Iterator[RecordingServer]:
    """The recording server (one per test module), emptied before and after each test."""
    _recording.clear()
    yield _recording
    _recording.clear()
