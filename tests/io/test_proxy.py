"""Requests through an HTTP proxy, and the trust settings a corporate network needs.

A forward proxy of the tests' own (`tests.io.forward_proxy`) sits in front of the
mock servers: https origins go through CONNECT tunnels (TLS, and HTTP/2 by ALPN,
inside them), plain-http ones as absolute-form requests. Every test runs with the
blocking client and with the async one on asyncio and trio.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oxide_io import APIConnectionError, APIStatusError
from oxide_io.testing import MockServer
from oxide_proto import ProxyAuthenticationError, ProxyError
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import MakeClient
from tests.io.forward_proxy import ForwardProxy

pytestmark = pytest.mark.anyio

PROXY_VARS = [
    f"{name}{suffix}" for name in ("http", "https", "all", "no") for suffix in ("_proxy", "_PROXY")
] + ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"]


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def _proxy_server() -> Iterator[ForwardProxy]:
    with ForwardProxy().running() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def _auth_proxy_server() -> Iterator[ForwardProxy]:
    with ForwardProxy(auth=("alice", "s3cr:et@")).running() as proxy:
        yield proxy


@pytest.fixture
def proxy(_proxy_server: ForwardProxy) -> ForwardProxy:
    _proxy_server.reset()
    return _proxy_server


@pytest.fixture
def auth_proxy(_auth_proxy_server: ForwardProxy) -> ForwardProxy:
    _auth_proxy_server.reset()
    return _auth_proxy_server


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


async def test_https_through_a_tunnel_speaks_h2(
    make_client: MakeClient, proxy: ForwardProxy, tls: dict[str, Any], tls_server: MockServer
) -> None:
    client = make_client(**tls, proxy=proxy.url)
    for _ in range(3):
        assert "hi" in await _chat(client)
    # One tunnel, multiplexed: HTTP/2 was chosen by ALPN inside it.
    assert proxy.tunnels == 1
    assert proxy.targets == [f"127.0.0.1:{tls_server.port}"]
    assert [r.http_version for r in tls_server.requests] == ["2", "2", "2"]


async def test_https_http1_through_a_tunnel_keeps_it_alive(
    make_client: MakeClient, proxy: ForwardProxy, tls: dict[str, Any], tls_server: MockServer
) -> None:
    client = make_client(**tls, http2=False, proxy=proxy.url)
    for _ in range(2):
        await _chat(client)
    assert proxy.tunnels == 1
    assert [r.http_version for r in tls_server.requests] == ["1.1", "1.1"]


async def test_streaming_through_a_tunnel(
    make_client: MakeClient, proxy: ForwardProxy, tls: dict[str, Any]
) -> None:
    client = make_client(**tls, proxy=proxy.url)
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = ""
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
    assert "hi" in text and proxy.tunnels == 1


async def test_plain_http_goes_in_absolute_form(
    make_client: MakeClient, proxy: ForwardProxy, plain: dict[str, Any], plain_server: MockServer
) -> None:
    client = make_client(**plain, proxy=proxy.url, h2c=True)  # h2c does not apply
    for _ in range(2):
        await _chat(client)
    assert proxy.tunnels == 0 and proxy.forwarded == 2
    assert proxy.targets == [f"http://127.0.0.1:{plain_server.port}/v1/chat/completions"] * 2
    assert [r.http_version for r in plain_server.requests] == ["1.1", "1.1"]
    assert "proxy-authorization" not in plain_server.requests[-1].headers


async def test_proxy_credentials(
    make_client: MakeClient,
    auth_proxy: ForwardProxy,
    tls: dict[str, Any],
    plain: dict[str, Any],
    tls_server: MockServer,
) -> None:
    url = auth_proxy.url_with("alice", "s3cr%3Aet%40")
    await _chat(make_client(**tls, proxy=url))
    await _chat(make_client(**plain, proxy=url))
    assert (auth_proxy.tunnels, auth_proxy.forwarded, auth_proxy.refused) == (1, 1, 0)
    assert "proxy-authorization" not in tls_server.requests[-1].headers


@pytest.mark.parametrize("password", [None, "wrong-pw"])
async def test_407_on_connect_is_a_typed_error(
    make_client: MakeClient, auth_proxy: ForwardProxy, tls: dict[str, Any], password: str | None
) -> None:
    url = auth_proxy.url if password is None else auth_proxy.url_with("alice", password)
    client = make_client(**tls, proxy=url, max_retries=0)
    with pytest.raises(ProxyAuthenticationError) as info:
        await _chat(client)
    error = info.value
    assert isinstance(error, ProxyError) and isinstance(error, APIConnectionError)
    assert error.status_code == 407 and error.request is not None
    assert f"127.0.0.1:{auth_proxy.port}" in str(error)
    assert "wrong-pw" not in str(error) and "wrong-pw" not in repr(error.proxy_url)
    assert auth_proxy.refused == 1 and auth_proxy.tunnels == 0


async def test_407_is_retried_like_a_connection_error(
    make_client: MakeClient, auth_proxy: ForwardProxy, tls: dict[str, Any]
) -> None:
    client = make_client(**tls, proxy=auth_proxy.url, max_retries=1)
    with pytest.raises(ProxyAuthenticationError):
        await _chat(client)
    assert auth_proxy.refused == 2


async def test_407_on_plain_http_is_the_proxy_answer(
    make_client: MakeClient, auth_proxy: ForwardProxy, plain: dict[str, Any]
) -> None:
    client = make_client(**plain, proxy=auth_proxy.url, max_retries=0)
    with pytest.raises(APIStatusError) as info:
        await _chat(client)
    assert info.value.status_code == 407


async def test_environment_proxy_and_trust_env(
    make_client: MakeClient,
    proxy: ForwardProxy,
    tls: dict[str, Any],
    plain: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # the lowercase one wins
    monkeypatch.setenv("https_proxy", proxy.url)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    await _chat(make_client(**tls))
    await _chat(make_client(**plain))
    assert (proxy.tunnels, proxy.forwarded) == (1, 1)
    await _chat(make_client(**tls, trust_env=False))
    await _chat(make_client(**plain, trust_env=False))
    assert (proxy.tunnels, proxy.forwarded) == (1, 1)


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.0/8", "*"])
async def test_no_proxy_bypasses(
    make_client: MakeClient,
    proxy: ForwardProxy,
    tls: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str,
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    await _chat(make_client(**tls))
    assert proxy.tunnels == 0


async def test_per_origin_mapping_and_with_options(
    make_client: MakeClient,
    proxy: ForwardProxy,
    tls: dict[str, Any],
    plain: dict[str, Any],
    plain_server: MockServer,
) -> None:
    # Only the plain server's origin goes through the proxy.
    mapping = {f"http://127.0.0.1:{plain_server.port}": proxy.url, "all://": None}
    await _chat(make_client(**tls, proxy=mapping))
    await _chat(make_client(**plain, proxy=mapping))
    assert (proxy.tunnels, proxy.forwarded) == (0, 1)
    direct = make_client(**tls)
    proxied = direct.with_options(proxy=proxy.url)
    await _chat(direct)
    await _chat(proxied)
    await _chat(direct)
    assert proxy.tunnels == 1
    await proxied.close()  # its own pool


async def test_proxy_that_is_down_is_a_connection_error(
    make_client: MakeClient, tls: dict[str, Any]
) -> None:
    client = make_client(**tls, proxy="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(APIConnectionError):
        await _chat(client)


def test_bad_proxy_option_is_refused() -> None:
    from oxide_io import Client

    with pytest.raises(ValueError, match="only http://") as info:
        Client(api_key="k", proxy="socks4://u:topsecret@127.0.0.1:1080")
    assert "topsecret" not in str(info.value)


# -- proxy.py: a proxy no one here wrote ---------------------------------------------


@pytest.fixture(scope="module")
def proxy_py(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """proxy.py on 127.0.0.1 with Basic auth; its URL without the credentials."""
    pytest.importorskip("proxy")
    directory = tmp_path_factory.mktemp("proxy_py")
    port_file = directory / "port"
    command = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0"]
    command += ["--port-file", str(port_file), "--num-workers", "1", "--num-acceptors", "1"]
    command += ["--basic-auth", "bob:pw-1", "--log-level", "WARNING"]
    process = subprocess.Popen(
        command,
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):  # up to 15 s
            if port_file.exists() and port_file.read_text().strip():
                break
            if process.poll() is not None:
                pytest.fail("proxy.py exited at start")
            time.sleep(0.1)
        else:
            pytest.fail("proxy.py did not start")
        yield f"127.0.0.1:{port_file.read_text().strip()}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def test_through_proxy_py(
    make_client: MakeClient,
    proxy_py: str,
    tls: dict[str, Any],
    plain: dict[str, Any],
    tls_server: MockServer,
) -> None:
    url = f"http://bob:pw-1@{proxy_py}"
    client = make_client(**tls, proxy=url)
    for _ in range(2):
        assert "hi" in await _chat(client)
    assert [r.http_version for r in tls_server.requests] == ["2", "2"]
    assert "hi" in await _chat(make_client(**plain, proxy=url))
    with pytest.raises(ProxyAuthenticationError):
        await _chat(make_client(**tls, proxy=f"http://{proxy_py}", max_retries=0))


# -- trust ------------------------------------------------------------------------


async def test_ssl_cert_file_replaces_the_default_bundle(
    make_client: MakeClient, tls_server: MockServer, ca_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    await _chat(make_client(base_url=tls_server.base_url))
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await _chat(make_client(base_url=tls_server.base_url, trust_env=False, max_retries=0))


async def test_ssl_cert_dir(
    make_client: MakeClient,
    tls_server: MockServer,
    ca_path: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An OpenSSL hashed directory: the CA under `<subject hash>.0`.
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", ca_path],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    ).stdout.strip()
    if not digest:
        pytest.skip("no openssl command to name the hashed CA file")
    (tmp_path / f"{digest}.0").write_bytes(Path(ca_path).read_bytes())
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    await _chat(make_client(base_url=tls_server.base_url))


async def test_verify_system_uses_the_os_store(
    make_client: MakeClient, tls_server: MockServer
) -> None:
    pytest.importorskip("truststore")
    # The test CA is not in the OS store: the OS store is what refuses it.
    client = make_client(base_url=tls_server.base_url, verify="system", max_retries=0)
    with pytest.raises(APIConnectionError, match=r"(?i)certificate"):
        await _chat(client)


async def test_verify_system_without_truststore(
    make_client: MakeClient, tls_server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oxide_io import _tls

    monkeypatch.setitem(sys.modules, "truststore", None)
    monkeypatch.setattr(_tls, "_cache", {})
    client = make_client(base_url=tls_server.base_url, verify="system", max_retries=0)
    with pytest.raises(ImportError, match=r"oxide-client\[truststore\]"):
        await _chat(client)


# -- WebSockets ---------------------------------------------------------------------


def _ws_session(client: Any, runtime: str) -> Any:
    if runtime == "sync":
        return wrap(unwrap(client).responses.session())
    return client.responses.session()


async def _ws_reply(client: Any, runtime: str) -> str:
    async with _ws_session(client, runtime) as session:
        response = await session.send(model="gpt-4o-mini", input="hi")
    return str(response.output_text)


@pytest.mark.parametrize("scheme", ["wss", "ws"])
async def test_websocket_through_a_tunnel(
    make_client: MakeClient,
    runtime: str,
    proxy: ForwardProxy,
    tls: dict[str, Any],
    plain: dict[str, Any],
    tls_server: MockServer,
    plain_server: MockServer,
    scheme: str,
) -> None:
    options, server = (tls, tls_server) if scheme == "wss" else (plain, plain_server)
    client = make_client(**options, proxy=proxy.url)
    assert await _ws_reply(client, runtime)
    # ws:// too goes through CONNECT: an Upgrade in absolute form is not something
    # proxies relay.
    assert (proxy.tunnels, proxy.forwarded) == (1, 0)
    assert proxy.targets == [f"127.0.0.1:{server.port}"]
    assert [r.http_version for r in server.requests] == ["websocket"]


async def test_websocket_follows_the_environment(
    make_client: MakeClient,
    runtime: str,
    proxy: ForwardProxy,
    tls: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert await _ws_reply(make_client(**tls), runtime)
    assert proxy.tunnels == 1
    assert await _ws_reply(make_client(**tls, trust_env=False), runtime)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert await _ws_reply(make_client(**tls), runtime)
    assert proxy.tunnels == 1


async def test_websocket_407_is_typed(
    make_client: MakeClient, runtime: str, auth_proxy: ForwardProxy, tls: dict[str, Any]
) -> None:
    client = make_client(**tls, proxy=auth_proxy.url_with("alice", "wrong-pw"), max_retries=0)
    with pytest.raises(ProxyAuthenticationError) as info:
        await _ws_reply(client, runtime)
    assert info.value.status_code == 407 and "wrong-pw" not in str(info.value)
    good = make_client(**tls, proxy=auth_proxy.url_with("alice", "s3cr%3Aet%40"))
    assert await _ws_reply(good, runtime)
    assert auth_proxy.tunnels == 1


async def test_websocket_through_proxy_py(
    make_client: MakeClient,
    runtime: str,
    proxy_py: str,
    tls: dict[str, Any],
    plain: dict[str, Any],
) -> None:
    for options in (tls, plain):
        client = make_client(**options, proxy=f"http://bob:pw-1@{proxy_py}")
        assert await _ws_reply(client, runtime)
