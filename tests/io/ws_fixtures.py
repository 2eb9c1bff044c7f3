"""Fixtures for the WebSocket tests: the API server (plain and TLS) and entry points per runtime.

`ws_api` is the plain server, `wss_api` the TLS one (trustme certificates from
`tests/servers.py`); each test starts with an empty script and record. `ws`
gives the test's runtime's view: `ws.client(server, **options)`,
`ws.connect_responses(client, ...)`, `ws.responses_session(client, ...)` and
`ws.connect_realtime(client, ...)` (the public `client.responses.connect()`,
`client.responses.session()` and `client.realtime.connect()`), the blocking ones
wrapped as in `tests/io/blocking.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest

from oxide_io import AsyncClient, Client
from tests.io.blocking import unwrap, wrap
from tests.servers import Certs
from tests.ws_api_server import WsApiServer, run_ws_api

KEY = "sk-test-0123456789abcdefSECRET"


@pytest.fixture(scope="session")
def _ws_api_plain() -> Iterator[WsApiServer]:
    with run_ws_api() as server:
        yield server


@pytest.fixture(scope="session")
def _ws_api_tls(certs: Certs) -> Iterator[WsApiServer]:
    with run_ws_api(certs.server_context()) as server:
        yield server


@pytest.fixture
def ws_api(_ws_api_plain: WsApiServer) -> Iterator[WsApiServer]:
    _ws_api_plain.clear()
    yield _ws_api_plain
    _ws_api_plain.clear()


@pytest.fixture
def wss_api(_ws_api_tls: WsApiServer) -> Iterator[WsApiServer]:
    _ws_api_tls.clear()
    yield _ws_api_tls
    _ws_api_tls.clear()


@attrs.define
class Runtime:
    name: str
    certs: Certs
    made: list[Any] = attrs.Factory(list)

    def client(self, server: WsApiServer, **options: Any) -> Any:
        options = {"api_key": KEY, "base_url": server.base_url, **options}
        if server.tls:
            options.setdefault("verify", self.certs.ca_pem)
        client = wrap(Client(**options)) if self.name == "sync" else AsyncClient(**options)
        self.made.append(client)
        return client

    # Through the public API: `client.responses.connect()`, `client.responses.session()`
    # and `client.realtime.connect()`.
    def connect_responses(self, client: Any, **options: Any) -> Any:
        if self.name == "sync":
            return wrap(unwrap(client).responses.connect(**options))
        return client.responses.connect(**options)

    def responses_session(self, client: Any, **options: Any) -> Any:
        if self.name == "sync":
            return wrap(unwrap(client).responses.session(**options))
        return client.responses.session(**options)

    def connect_realtime(self, client: Any, **options: Any) -> Any:
        if self.name == "sync":
            return wrap(unwrap(client).realtime.connect(**options))
        return client.realtime.connect(**options)


@pytest.fixture
async def ws(runtime: str, anyio_backend: str, certs: Certs) -> AsyncIterator[Runtime]:
    made = Runtime(runtime, certs)
    yield made
    for client in made.made:
        await client.aclose()
