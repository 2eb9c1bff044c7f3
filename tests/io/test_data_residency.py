"""`data_residency=`: the client talks to the region's host, by name, over TLS.

The regional hosts (`eu.api.openai.com`, `mtls-eu.api.openai.com`) and the X.509
token endpoint (`mtls.auth.openai.com`) are local servers here: the client goes
through a forward proxy whose `routes` send each named tunnel to the local server
standing in for it, and that server's certificate (from a throwaway trustme
authority) carries the name. So the proxy's CONNECT targets are the host names the
client chose, and TLS checks them. Each test runs on the blocking client, asyncio
and trio.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

import oxide_io
from oxide_io import AzureClient, Client
from oxide_io.compat.auth import x509_workload_identity
from oxide_io.testing import MockServer
from oxide_proto import OpenAIError
from oxide_proto.api._workload_identity import X509_TOKEN_EXCHANGE_URL
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import KEY, MakeClient
from tests.io.forward_proxy import ForwardProxy
from tests.io.test_workload_identity import GOOD, TokenServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

REGIONAL = "eu.api.openai.com"
MTLS_REGIONAL = "mtls-eu.api.openai.com"
MTLS_AUTH = "mtls.auth.openai.com"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, *, client_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(REGIONAL, MTLS_REGIONAL, MTLS_AUTH).configure_cert(context)
    if client_certificate:
        ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@pytest.fixture(scope="module")
def regional(ca: trustme.CA) -> Iterator[MockServer]:
    with MockServer(api_key=KEY, tls=_server_context(ca, client_certificate=False)) as server:
        yield server


@pytest.fixture(scope="module")
def mtls_regional(ca: trustme.CA) -> Iterator[MockServer]:
    with MockServer(api_key=GOOD, tls=_server_context(ca, client_certificate=True)) as server:
        yield server


@pytest.fixture
def tokens(ca: trustme.CA) -> Iterator[TokenServer]:
    server = TokenServer(tls=_server_context(ca, client_certificate=True))
    yield server
    server.close()


@pytest.fixture
def proxy(
    regional: MockServer, mtls_regional: MockServer, tokens: TokenServer
) -> Iterator[ForwardProxy]:
    token_port = tokens.httpd.server_address[1]
    routes = {
        f"{REGIONAL}:443": f"127.0.0.1:{regional.port}",
        f"{MTLS_REGIONAL}:443": f"127.0.0.1:{mtls_regional.port}",
        f"{MTLS_AUTH}:443": f"127.0.0.1:{token_port}",
    }
    with ForwardProxy(routes=routes).running() as server:
        yield server


@pytest.fixture
def trust(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def with_cert(ca: trustme.CA) -> ssl.SSLContext:
    # As in tests/io/test_workload_identity_x509.py: trust, the client's chain, ALPN set.
    context = ssl.create_default_context()
    ca.configure_trust(context)
    ca.issue_cert("workload-9.example").configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


async def test_requests_and_websockets_go_to_the_regions_host(
    make_client: MakeClient,
    runtime: str,
    proxy: ForwardProxy,
    regional: MockServer,
    trust: ssl.SSLContext,
) -> None:
    regional.clear()
    client = make_client(api_key=KEY, data_residency="eu", proxy=proxy.url, verify=trust)
    assert client.base_url.rstrip("/") == f"https://{REGIONAL}/v1"
    await client.models.list()
    assert proxy.targets == [f"{REGIONAL}:443"]
    assert [r.path for r in regional.requests] == ["/v1/models"]
    # The WebSocket URL comes from the regional base URL (wss://eu.api.openai.com/v1).
    async with _session(client, runtime) as live:
        response = await live.send(model="gpt-4o-mini", input="hi")
    assert response.output_text
    assert proxy.targets == [f"{REGIONAL}:443"] * 2
    assert regional.requests[-1].http_version == "websocket"


async def test_x509_goes_to_the_regions_mtls_host_and_exchanges_at_the_pinned_endpoint(
    make_client: MakeClient,
    proxy: ForwardProxy,
    mtls_regional: MockServer,
    tokens: TokenServer,
    with_cert: ssl.SSLContext,
) -> None:
    mtls_regional.clear()
    client = make_client(
        api_key=None,
        workload_identity=x509_workload_identity(
            identity_provider_id="idp-x", service_account_id="sa-x"
        ),
        data_residency="eu",
        proxy=proxy.url,
        verify=with_cert,
        organization="org-9",
        project="proj-9",
        default_headers={"X-Custom": "c", "Cookie": "session=s"},
    )
    assert client.base_url.rstrip("/") == f"https://{MTLS_REGIONAL}/v1"
    await client.models.list()
    # The exchange keeps its own endpoint whatever the region.
    assert proxy.targets == [f"{MTLS_AUTH}:443", f"{MTLS_REGIONAL}:443"]
    assert f"https://{MTLS_AUTH}/oauth/token" == X509_TOKEN_EXCHANGE_URL
    [(method, path, headers, _)] = tokens.requests
    assert (method, path) == ("POST", "/oauth/token")
    # The exchange carries none of the client's headers: no credential, no cookie,
    # no organization or project, no default header.
    for name in ("authorization", "cookie", "x-custom", "openai-organization", "openai-project"):
        assert name not in headers, name
    assert headers["content-type"] == "application/json"
    [api] = mtls_regional.requests
    assert api.headers["authorization"] == f"Bearer {GOOD}"
    assert (api.headers["x-custom"], api.headers["cookie"]) == ("c", "session=s")
    assert api.headers["openai-organization"] == "org-9"


async def test_x509_requests_carry_no_other_credential(
    make_client: MakeClient, tokens: TokenServer, with_cert: ssl.SSLContext
) -> None:
    identity = {
        **x509_workload_identity(identity_provider_id="i", service_account_id="s"),
        "token_exchange_url": tokens.url,
    }
    for name in ("api-key", "X-Api-Key", "x_api_key", "Proxy-Authorization"):
        with pytest.raises(OpenAIError, match="API-key or proxy credentials"):
            make_client(
                api_key=None,
                workload_identity=identity,
                base_url="https://127.0.0.1:9/v1",
                default_headers={name: "secret"},
            )
    client = make_client(
        api_key=None,
        workload_identity=identity,
        base_url="https://127.0.0.1:9/v1",
        verify=with_cert,
    )
    with pytest.raises(OpenAIError, match="API-key or proxy credentials"):
        await client.models.list(extra_headers={"Api_Key": "secret"})
    with pytest.raises(OpenAIError, match="API-key or proxy credentials"):
        client.with_options(default_headers={"x-api-key": "secret"})
    assert tokens.requests == [], "refused before any exchange"


async def test_x509_exchange_keeps_within_the_requests_timeout(
    make_client: MakeClient, with_cert: ssl.SSLContext
) -> None:
    # A token endpoint that takes the connection and never answers its TLS hello.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        identity = {
            **x509_workload_identity(identity_provider_id="i", service_account_id="s"),
            "token_exchange_url": f"https://127.0.0.1:{silent.getsockname()[1]}/oauth/token",
        }
        client = make_client(
            api_key=None,
            workload_identity=identity,
            base_url="https://127.0.0.1:9/v1",
            verify=with_cert,
            max_retries=0,
        )
        with pytest.raises(oxide_io.APITimeoutError):
            await client.models.list(timeout=0.2)


def test_exchange_limits_are_the_requests_capped_at_ten_seconds(
    with_cert: ssl.SSLContext,
) -> None:
    from oxide_io._timeout import Timeout
    from oxide_io._workload_providers import k8s_service_account_token_provider

    x509 = x509_workload_identity(identity_provider_id="i", service_account_id="s")
    with Client(workload_identity=x509, verify=with_cert) as client:
        auth = getattr(client._options.api_key_provider, "__self__")  # noqa: B009
        limits = auth._limits(Timeout(30.0, connect=2.0, read=None))
        assert (limits.connect, limits.read, limits.write, limits.pool) == (2.0, 10.0, 10.0, 10.0)
        assert auth._limits(None) == Timeout(10.0)
    subject = {
        "identity_provider_id": "i",
        "service_account_id": "s",
        "provider": k8s_service_account_token_provider("/nonexistent"),
    }
    with Client(workload_identity=subject) as client:
        auth = getattr(client._options.api_key_provider, "__self__")  # noqa: B009
        assert auth._limits(Timeout(1.0)) == Timeout(10.0), "a subject-token exchange: 10 s"


def test_with_options_and_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    x509 = x509_workload_identity(identity_provider_id="i", service_account_id="s")
    with Client(api_key="sk-a", data_residency="eu") as keyed:
        assert keyed.base_url.rstrip("/") == "https://eu.api.openai.com/v1"
        # A change of the kind of identity moves within the region.
        on_mtls = keyed.with_options(workload_identity=x509)
        assert on_mtls.base_url.rstrip("/") == "https://mtls-eu.api.openai.com/v1"
        assert on_mtls.with_options(api_key="sk-b").base_url.rstrip("/") == (
            "https://eu.api.openai.com/v1"
        )
        # A region given replaces the base URL and the WebSocket URL.
        sockets = keyed.with_options(websocket_base_url="wss://ws.example/v1")
        assert sockets.with_options(data_residency="jp").websocket_base_url is None
        assert keyed.with_options(data_residency="jp").base_url.rstrip("/") == (
            "https://jp.api.openai.com/v1"
        )
        with pytest.raises(OpenAIError, match="mTLS endpoint"):
            on_mtls.with_options(data_residency="jp")
        # A base URL given leaves the region: the identity's kind no longer moves it.
        own = keyed.with_options(base_url="https://proxy.example/v1")
        moved = own.with_options(workload_identity=x509)
        assert moved.base_url.rstrip("/") == "https://proxy.example/v1"
        with pytest.raises(ValueError, match="mutually exclusive"):
            keyed.with_options(data_residency="us", base_url="https://x.example/v1")
        with pytest.raises(ValueError, match="mutually exclusive"):
            keyed.with_options(data_residency="us", websocket_base_url="wss://x.example/v1")
        with pytest.raises(ValueError, match="mutually exclusive"):
            keyed.with_options(data_residency="us", base_url=None)
        with pytest.raises(ValueError, match="mutually exclusive"):
            keyed.copy(data_residency="us", base_url=None)
        # Without a region, `base_url=None` keeps the inherited one.
        assert keyed.with_options(base_url=None).base_url == keyed.base_url
    # The region wins over OPENAI_BASE_URL, as a base_url argument would.
    monkeypatch.setenv("OPENAI_BASE_URL", "https://env.example/v1")
    with Client(api_key="sk-a", data_residency="au") as client:
        assert client.base_url.rstrip("/") == "https://au.api.openai.com/v1"
    with Client(api_key="sk-a", base_url=None) as client:
        assert client.base_url.rstrip("/") == "https://env.example/v1"
    with Client(workload_identity=x509, data_residency="global") as client:
        assert client.base_url.rstrip("/") == "https://mtls.api.openai.com/v1"
    for wrong, error in (
        ({"api_key": "k", "data_residency": "mars"}, ValueError),
        ({"api_key": "k", "data_residency": "eu", "base_url": "https://x/v1"}, ValueError),
        # `base_url=None` beside a region counts as given, as in the official SDK.
        ({"api_key": "k", "data_residency": "eu", "base_url": None}, ValueError),
        ({"workload_identity": x509, "data_residency": "in"}, OpenAIError),
    ):
        with pytest.raises(error, match=r"data.residency"):
            Client(**wrong)
    azure = AzureClient(api_key="k", azure_endpoint="https://x.example", api_version="v")
    with pytest.raises(OpenAIError, match="only supported by OpenAI clients"):
        azure.with_options(data_residency="eu")


def _session(client: Any, runtime: str) -> Any:
    if runtime == "sync":
        return wrap(unwrap(client).responses.session())
    return client.responses.session()
