"""Requests and WebSockets through SOCKS5 proxies.

pproxy (a SOCKS5 server someone else wrote, with a username and password) carries
HTTP/1.1, h2c, HTTP/2 over TLS and WebSockets; the tests' own small server
(`tests.io.socks_server`) shows what a client asked it for (a name for
socks5h://, an address for socks5://) and refuses with chosen reply codes. Every
test runs with the blocking client and with the async one on asyncio and trio.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from oxide_io.testing import MockServer
from oxide_proto import ProxyAuthenticationError, ProxyError
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import MakeClient
from tests.io.socks_server import SocksServer
from tests.io.test_proxy import PROXY_VARS
from tests.servers import _accepts, _process, free_port

pytestmark = pytest.mark.anyio

pytest.importorskip("socksio")

# pproxy picks uvloop when it is installed, and then finds no event loop at start
# on recent Pythons: it is run on a plain asyncio loop of its own.
_PPROXY = (
    "import asyncio, sys; sys.modules['uvloop'] = None; "
    "asyncio.set_event_loop(asyncio.new_event_loop()); "
    "from pproxy.server import main; sys.argv[0] = 'pproxy'; main()"
)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def pproxy() -> Iterator[str]:
    """pproxy's SOCKS5 server with a username and password; its `host:port`."""
    pytest.importorskip("pproxy")
    port = free_port()
    listen = f"socks5://127.0.0.1:{port}#bob:pw-1"
    args = [sys.executable, "-c", _PPROXY, "-l", listen]
    with _process(args, lambda: _accepts(port), "pproxy"):
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def _socks_server() -> Iterator[SocksServer]:
    with SocksServer().running() as server:
        yield server


@pytest.fixture
def socks(_socks_server: SocksServer) -> SocksServer:
    _socks_server.reset()
    return _socks_server


@pytest.fixture(scope="module")
def _auth_socks_server() -> Iterator[SocksServer]:
    with SocksServer(auth=("alice", "s3cr:et@")).running() as server:
        yield server


@pytest.fixture
def auth_socks(_auth_socks_server: SocksServer) -> SocksServer:
    _auth_socks_server.reset()
    return _auth_socks_server


@pytest.fixture
def tls(tls_server: MockServer, ca_path: str) -> dict[str, Any]:
    tls_server.clear()
    return {"base_url": tls_server.base_url, "verify": ca_path}


@pytest.fixture
def plain(plain_server: MockServer) -> dict[str, Any]:
    plain_server.clear()
    return {"base_url": plain_server.base_url}


async def _chat(client: Any) -> str:
    completion = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    return str(completion.choices[0].message.content)


async def _ws_reply(client: Any, runtime: str) -> str:
    session = (
        wrap(unwrap(client).responses.session())
        if runtime == "sync"
        else client.responses.session()
    )
    async with session as opened:
        response = await opened.send(model="gpt-4o-mini", input="hi")
    return str(response.output_text)


# -- pproxy -------------------------------------------------------------------------


async def test_h2_over_tls_through_pproxy(
    make_client: MakeClient, pproxy: str, tls: dict[str, Any], tls_server: MockServer
) -> None:
    client = make_client(**tls, proxy=f"socks5h://bob:pw-1@{pproxy}")
    for _ in range(2):
        assert "hi" in await _chat(client)
    assert [r.http_version for r in tls_server.requests] == ["2", "2"]


@pytest.mark.parametrize("h2c", [False, True])
async def test_plain_http_through_pproxy(
    make_client: MakeClient,
    pproxy: str,
    plain: dict[str, Any],
    plain_server: MockServer,
    h2c: bool,
) -> None:
    # Through SOCKS the origin is reached as if directly: origin-form requests,
    # and h2c when asked (an HTTP proxy would get HTTP/1.1 in absolute form).
    client = make_client(**plain, proxy=f"socks5://bob:pw-1@{pproxy}", h2c=h2c)
    assert "hi" in await _chat(client)
    (request,) = plain_server.requests
    assert request.http_version == ("2" if h2c else "1.1")
    assert request.path == "/v1/chat/completions"


@pytest.mark.parametrize("scheme", ["wss", "ws"])
async def test_websocket_through_pproxy(
    make_client: MakeClient,
    runtime: str,
    pproxy: str,
    tls: dict[str, Any],
    plain: dict[str, Any],
    tls_server: MockServer,
    plain_server: MockServer,
    scheme: str,
) -> None:
    options, server = (tls, tls_server) if scheme == "wss" else (plain, plain_server)
    client = make_client(**options, proxy=f"socks5h://bob:pw-1@{pproxy}")
    assert await _ws_reply(client, runtime)
    assert [r.http_version for r in server.requests] == ["websocket"]


@pytest.fixture
def fresh_pproxy() -> Iterator[str]:
    """pproxy as `pproxy`, started for one test: once an address logged in, pproxy
    lets it in without a password for a while."""
    pytest.importorskip("pproxy")
    port = free_port()
    args = [sys.executable, "-c", _PPROXY, "-l", f"socks5://127.0.0.1:{port}#bob:pw-1"]
    with _process(args, lambda: _accepts(port), "pproxy"):
        yield f"127.0.0.1:{port}"


async def test_wrong_password_is_typed(
    make_client: MakeClient, runtime: str, fresh_pproxy: str, tls: dict[str, Any]
) -> None:
    client = make_client(**tls, proxy=f"socks5h://bob:guess@{fresh_pproxy}", max_retries=0)
    with pytest.raises(ProxyAuthenticationError) as info:
        await _chat(client)
    assert info.value.request is not None and "guess" not in str(info.value)
    with pytest.raises(ProxyAuthenticationError):
        await _ws_reply(client, runtime)


# -- the tests' own server --------------------------------------------------------------


async def test_socks5_resolves_here_socks5h_at_the_proxy(
    make_client: MakeClient, socks: SocksServer, tls_server: MockServer, ca_path: str
) -> None:
    base_url = f"https://localhost:{tls_server.port}/v1"
    for scheme in ("socks5h", "socks5"):
        client = make_client(base_url=base_url, verify=ca_path, proxy=socks.url(scheme))
        assert "hi" in await _chat(client)
    assert socks.targets == [f"localhost:{tls_server.port}", f"127.0.0.1:{tls_server.port}"]
    assert socks.tunnels == 2


async def test_environment_and_no_proxy(
    make_client: MakeClient,
    runtime: str,
    socks: SocksServer,
    tls: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", socks.url())
    assert "hi" in await _chat(make_client(**tls))
    assert await _ws_reply(make_client(**tls), runtime)
    assert socks.tunnels == 2
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert "hi" in await _chat(make_client(**tls))
    assert await _ws_reply(make_client(**tls), runtime)
    assert socks.tunnels == 2


@pytest.mark.parametrize("code", [2, 5])
async def test_refusal_carries_the_reply_code(
    make_client: MakeClient, runtime: str, socks: SocksServer, tls: dict[str, Any], code: int
) -> None:
    socks.refuse_with = code
    client = make_client(**tls, proxy=socks.url(), max_retries=0)
    with pytest.raises(ProxyError) as info:
        await _chat(client)
    assert info.value.reply_code == code and f"SOCKS5 reply {code}" in str(info.value)
    with pytest.raises(ProxyError) as ws_info:
        await _ws_reply(client, runtime)
    assert ws_info.value.reply_code == code


async def test_login_refused_and_accepted(
    make_client: MakeClient, runtime: str, auth_socks: SocksServer, tls: dict[str, Any]
) -> None:
    refused = make_client(**tls, proxy=auth_socks.url(credentials="alice:nope"), max_retries=0)
    with pytest.raises(ProxyAuthenticationError, match="refused"):
        await _chat(refused)
    with pytest.raises(ProxyAuthenticationError, match="no credentials"):
        await _ws_reply(make_client(**tls, proxy=auth_socks.url(), max_retries=0), runtime)
    assert auth_socks.refused == 2
    accepted = make_client(**tls, proxy=auth_socks.url(credentials="alice:s3cr%3Aet%40"))
    assert "hi" in await _chat(accepted)
    assert await _ws_reply(accepted, runtime)
    assert auth_socks.tunnels == 2


def test_without_socksio_the_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from oxide_io import Client

    monkeypatch.setitem(sys.modules, "socksio", None)
    with pytest.raises(ImportError, match=r"oxide-client\[socks\]"):
        Client(api_key="k", proxy="socks5://127.0.0.1:1080")
    monkeypatch.setenv("HTTPS_PROXY", "socks5h://127.0.0.1:1080")
    with pytest.raises(ImportError, match=r"oxide-client\[socks\]"):
        Client(api_key="k")
