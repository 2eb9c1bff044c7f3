"""X.509 workload identity and `with_options(workload_identity=...)`, against local servers.

The token endpoint is an HTTPS server on 127.0.0.1 that asks for a client
certificate (issued, like its own, by a throwaway trustme authority) and records
the subject of the one it got; the API is a MockServer over TLS that accepts only
the token the endpoint issues. The client holds the certificate in the
SSLContext it is given as `verify=`, as the official SDK's X.509 examples put it
in their httpx client. Each test runs on the blocking client, asyncio and trio.
"""

from __future__ import annotations

import pathlib
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

import oxide_io
from oxide_io import Client
from oxide_io._workload_providers import k8s_service_account_token_provider
from oxide_io.compat.auth import x509_workload_identity
from oxide_io.testing import MockServer
from oxide_proto import OpenAIError
from oxide_proto.api._workload_identity import (
    MTLS_API_BASE_URL,
    PLACEHOLDER_API_KEY,
    X509_SUBJECT_TOKEN_TYPE,
    OAuthError,
)
from tests.io.conftest import MakeClient
from tests.io.test_workload_identity import GOOD, TokenServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

CLIENT_NAME = "workload-7.example"


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED  # no certificate, no connection
    return context


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def with_cert(ca: trustme.CA) -> ssl.SSLContext:
    """What the official examples build from OPENAI_MTLS_*: trust plus the client's chain.

    With the ALPN it offers set, so that oxide uses the context as it is (a context
    it derives for ALPN could not carry the private key: see `oxide_io._tls`)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    ca.issue_cert(CLIENT_NAME).configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture
def without_cert(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="module")
def api(ca: trustme.CA) -> Iterator[MockServer]:
    with MockServer(api_key=GOOD, tls=_server_context(ca)) as server:
        yield server


@pytest.fixture
def tokens(ca: trustme.CA) -> Iterator[TokenServer]:
    server = TokenServer(tls=_server_context(ca))
    yield server
    server.close()


def x509(tokens: TokenServer, **more: Any) -> dict[str, Any]:
    identity = x509_workload_identity(identity_provider_id="idp-x", service_account_id="sa-x")
    return {**identity, "token_exchange_url": tokens.url, **more}


async def test_exchange_presents_the_client_certificate(
    api: MockServer, tokens: TokenServer, with_cert: ssl.SSLContext, make_client: MakeClient
) -> None:
    api.clear()
    identity = x509(tokens)
    client = make_client(
        base_url=api.base_url, api_key=None, verify=with_cert, workload_identity=identity
    )
    assert client.api_key == PLACEHOLDER_API_KEY
    assert client.workload_identity == identity
    for _ in range(2):
        await client.models.list()
    assert tokens.exchanges() == [
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token_type": X509_SUBJECT_TOKEN_TYPE,
            "identity_provider_id": "idp-x",
            "service_account_id": "sa-x",
        }
    ]
    assert tokens.peers == [(("DNS", CLIENT_NAME),)]
    _, _, headers, _ = tokens.requests[0]
    assert "authorization" not in headers, "the certificate is the only credential"
    assert [r.headers["authorization"] for r in api.requests] == [f"Bearer {GOOD}"] * 2


async def test_without_a_certificate_there_is_no_exchange(
    api: MockServer, tokens: TokenServer, without_cert: ssl.SSLContext, make_client: MakeClient
) -> None:
    client = make_client(
        base_url=api.base_url,
        api_key=None,
        verify=without_cert,
        max_retries=0,
        workload_identity=x509(tokens),
    )
    with pytest.raises(oxide_io.APIConnectionError):
        await client.models.list()
    assert tokens.requests == []


async def test_refusal_is_final_and_keeps_only_its_code(
    api: MockServer, tokens: TokenServer, with_cert: ssl.SSLContext, make_client: MakeClient
) -> None:
    tokens.answers = [(401, {"error": "invalid_client", "error_description": "CN unknown"})]
    client = make_client(
        base_url=api.base_url, api_key=None, verify=with_cert, workload_identity=x509(tokens)
    )
    with pytest.raises(OAuthError) as caught:
        await client.models.list()
    assert caught.value.error == "invalid_client"
    assert caught.value.body == {"error": "invalid_client"}
    assert len(tokens.exchanges()) == 1, "a refusal is not retried"


async def test_passing_failure_is_retried(
    api: MockServer, tokens: TokenServer, with_cert: ssl.SSLContext, make_client: MakeClient
) -> None:
    tokens.answers = [
        (503, {"error": "unavailable"}),
        (200, {"access_token": GOOD, "expires_in": 3600, "token_type": "Bearer"}),
    ]
    client = make_client(
        base_url=api.base_url, api_key=None, verify=with_cert, workload_identity=x509(tokens)
    )
    await client.models.list()
    assert len(tokens.exchanges()) == 2


async def test_retries_stop_at_max_retries(
    api: MockServer, tokens: TokenServer, with_cert: ssl.SSLContext, make_client: MakeClient
) -> None:
    tokens.answers = [(503, {"error": "unavailable"})]
    client = make_client(
        base_url=api.base_url,
        api_key=None,
        verify=with_cert,
        max_retries=1,
        workload_identity=x509(tokens),
    )
    with pytest.raises(OpenAIError, match="status 503"):
        await client.models.list()
    assert len(tokens.exchanges()) == 2  # the first try and one retry


async def test_answer_that_is_no_bearer_token_is_refused(
    api: MockServer, tokens: TokenServer, with_cert: ssl.SSLContext, make_client: MakeClient
) -> None:
    tokens.answers = [(200, {"access_token": GOOD, "expires_in": 3600, "token_type": "N_A"})]
    client = make_client(
        base_url=api.base_url, api_key=None, verify=with_cert, workload_identity=x509(tokens)
    )
    api.clear()
    with pytest.raises(OpenAIError, match="not a Bearer token"):
        await client.models.list()
    assert api.requests == []


async def test_no_redirect_is_followed(
    tokens: TokenServer,
    ca: trustme.CA,
    with_cert: ssl.SSLContext,
    make_client: MakeClient,
) -> None:
    # The "API" answers every request with a redirect to another path of its own.
    moving = TokenServer(tls=_server_context(ca))
    try:
        moving.answers = [(307, {})]
        moving.more_headers = {"location": moving.url.replace("/oauth/token", "/v1/elsewhere")}
        base_url = moving.url.replace("/oauth/token", "/v1")
        identified = make_client(
            base_url=base_url,
            api_key=None,
            verify=with_cert,
            max_retries=0,
            workload_identity=x509(tokens),
        )
        with pytest.raises(oxide_io.APIStatusError, match="follows no redirects"):
            await identified.models.list()
        assert [path for _, path, _, _ in moving.requests] == ["/v1/models"]
        # A client with a key follows it (until its own limit).
        keyed = make_client(base_url=base_url, api_key="sk-k", verify=with_cert, max_retries=0)
        with pytest.raises(oxide_io.APIStatusError, match="redirects"):
            await keyed.models.list()
        assert [path for _, path, _, _ in moving.requests][1:3] == ["/v1/models", "/v1/elsewhere"]
    finally:
        moving.close()


def test_x509_client_opens_no_websocket(tokens: TokenServer, with_cert: ssl.SSLContext) -> None:
    with Client(
        workload_identity=x509(tokens), base_url="https://127.0.0.1:9/v1", verify=with_cert
    ) as client:
        for connect in (client.responses.connect, client.realtime.connect):
            # As in the official SDK, the manager is made and takes events; entering
            # it is refused, before any token exchange.
            manager = connect()
            manager.send({"type": "response.create"})
            with pytest.raises(OpenAIError, match="not supported by WebSocket"):
                manager.enter()
    assert tokens.requests == []


def test_x509_client_talks_to_the_mtls_host_over_https(
    tokens: TokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    identity = x509(tokens)
    with Client(workload_identity=identity) as client:
        assert client.base_url.rstrip("/") == MTLS_API_BASE_URL
    for url in ("http://127.0.0.1:9/v1", "https://user:pw@127.0.0.1/v1"):
        with pytest.raises(OpenAIError, match=r"X\.509"):
            Client(workload_identity=identity, base_url=url)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://eu.example/v1")
    with Client(workload_identity=identity) as client:
        assert client.base_url.rstrip("/") == "https://eu.example/v1"
    with pytest.raises(OpenAIError, match=r"X\.509"):
        Client(workload_identity=identity).with_options(base_url="http://127.0.0.1/v1")


# -- with_options(workload_identity=...) -----------------------------------------


@pytest.fixture
def open_api(ca: trustme.CA) -> Iterator[MockServer]:
    with MockServer() as server:  # takes any key: the test reads what was sent
        yield server


async def test_with_options_switches_between_key_and_identity(
    open_api: MockServer, tokens: TokenServer, tmp_path: pathlib.Path, make_client: MakeClient
) -> None:
    plain = TokenServer()
    try:
        plain.answers = [(200, {"access_token": "tok-from-identity", "expires_in": 3600})]
        token_file = tmp_path / "token"
        token_file.write_text("subject-jwt")
        identity = {
            "identity_provider_id": "idp-1",
            "service_account_id": "sa-1",
            "provider": k8s_service_account_token_provider(token_file),
            "token_exchange_url": plain.url,
        }
        keyed = make_client(base_url=open_api.base_url, api_key="sk-plain")
        federated = keyed.with_options(workload_identity=identity)
        assert federated.workload_identity == identity and keyed.workload_identity is None
        await federated.models.list()
        await keyed.models.list()
        keyed_again = federated.with_options(api_key="sk-other")
        assert keyed_again.workload_identity is None
        await keyed_again.models.list()
        sent = [r.headers["authorization"] for r in open_api.requests]
        assert sent == ["Bearer tok-from-identity", "Bearer sk-plain", "Bearer sk-other"]
        assert len(plain.exchanges()) == 1
        with pytest.raises(OpenAIError, match="together"):
            keyed.with_options(api_key="sk-x", workload_identity=identity)
        with pytest.raises(OpenAIError, match="identity_provider_id"):
            keyed.with_options(workload_identity={**identity, "identity_provider_id": ""})
    finally:
        plain.close()


def test_with_options_moves_a_default_base_url_with_the_kind_of_identity(
    tokens: TokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    subject = {
        "identity_provider_id": "i",
        "service_account_id": "s",
        "provider": {"token_type": "jwt", "get_token": lambda: "t"},
    }
    with Client(api_key="sk-a") as keyed:
        assert keyed.base_url.rstrip("/") == "https://api.openai.com/v1"
        on_mtls = keyed.with_options(workload_identity=x509(tokens))
        assert on_mtls.base_url.rstrip("/") == MTLS_API_BASE_URL
        assert on_mtls.with_options(workload_identity=subject).base_url.rstrip("/") == (
            "https://api.openai.com/v1"
        )
        assert on_mtls.with_options(api_key="sk-b").base_url.rstrip("/") == (
            "https://api.openai.com/v1"
        )
        # A base URL of one's own stays (and must be https for X.509).
        custom = keyed.with_options(base_url="https://proxy.example/v1")
        moved = custom.with_options(workload_identity=x509(tokens))
        assert moved.base_url.rstrip("/") == "https://proxy.example/v1"
        with pytest.raises(OpenAIError, match="HTTPS"):
            keyed.with_options(base_url="http://proxy.example/v1").with_options(
                workload_identity=x509(tokens)
            )
