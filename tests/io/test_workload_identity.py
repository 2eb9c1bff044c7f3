"""Workload identity against a token server and the MockServer, both on 127.0.0.1.

The token server answers each exchange with the next scripted answer and records
the request; the API server (MockServer) accepts only the token it issues. Each
test runs on the blocking client, asyncio and trio.
"""

from __future__ import annotations

import json
import pathlib
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import oxide_io
from oxide_io import Client
from oxide_io._workload_providers import (
    azure_managed_identity_token_provider,
    gcp_id_token_provider,
    k8s_service_account_token_provider,
)
from oxide_io.testing import MockServer
from oxide_proto import AuthenticationError, OpenAIError
from oxide_proto.api._workload_identity import (
    PLACEHOLDER_API_KEY,
    TOKEN_EXCHANGE_GRANT_TYPE,
    OAuthError,
    SubjectTokenProviderError,
)
from tests.io.conftest import MakeClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

GOOD = "tok-accepted-by-the-api"


class TokenServer:
    """Answers POSTs (and GETs) with scripted (status, JSON or text) answers, in order;
    the last answer repeats. Records (method, path, headers, body) of each request.

    With `tls`, it serves HTTPS with that context (which may ask for a client
    certificate) and records the subjectAltName of each request's client
    certificate in `peers`. `more_headers` go out with every answer."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.answers: list[tuple[int, object]] = [(200, {"access_token": GOOD, "expires_in": 3600})]
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.peers: list[Any] = []
        self.more_headers: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.command, self.path, headers, body))
                if tls is not None:
                    peer = self.connection.getpeercert()  # type: ignore[attr-defined]
                    server.peers.append(peer.get("subjectAltName"))
                status, payload = (
                    server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                )
                data = (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                )
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in server.more_headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_POST = _answer
            do_GET = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/oauth/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def exchanges(self) -> list[dict[str, Any]]:
        return [json.loads(body) for method, _, _, body in self.requests if method == "POST"]


@pytest.fixture(scope="module")
def api() -> Iterator[MockServer]:
    with MockServer(api_key=GOOD) as server:
        yield server


@pytest.fixture
def tokens() -> Iterator[TokenServer]:
    server = TokenServer()
    yield server
    server.close()


@pytest.fixture
def token_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "token"
    path.write_text("subject-jwt-1\n")
    return path


def identity(tokens: TokenServer, token_file: pathlib.Path, **more: Any) -> dict[str, Any]:
    return {
        "identity_provider_id": "idp-123",
        "service_account_id": "sa-456",
        "provider": k8s_service_account_token_provider(token_file),
        "token_exchange_url": tokens.url,
        **more,
    }


async def test_token_is_exchanged_once_and_sent_as_bearer(
    api: MockServer, tokens: TokenServer, token_file: pathlib.Path, make_client: MakeClient
) -> None:
    api.clear()
    client = make_client(
        base_url=api.base_url, api_key=None, workload_identity=identity(tokens, token_file)
    )
    assert client.api_key == PLACEHOLDER_API_KEY
    for _ in range(3):
        await client.models.list()
    assert tokens.exchanges() == [
        {
            "grant_type": TOKEN_EXCHANGE_GRANT_TYPE,
            "subject_token": "subject-jwt-1",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "identity_provider_id": "idp-123",
            "service_account_id": "sa-456",
        }
    ]
    _, path, headers, _ = tokens.requests[0]
    assert path == "/oauth/token"
    assert headers["content-type"] == "application/json"
    assert "authorization" not in headers, "the exchange carries no API credential"
    assert [r.headers["authorization"] for r in api.requests] == [f"Bearer {GOOD}"] * 3
    # A derived client shares the token.
    await client.with_options(timeout=30).models.list()
    assert len(tokens.exchanges()) == 1


async def test_token_due_for_refresh_is_exchanged_again(
    api: MockServer, tokens: TokenServer, token_file: pathlib.Path, make_client: MakeClient
) -> None:
    # Lifetime 0: due at once, so every request exchanges the (re-read) subject token.
    tokens.answers = [(200, {"access_token": GOOD, "expires_in": 0})]
    client = make_client(
        base_url=api.base_url, api_key=None, workload_identity=identity(tokens, token_file)
    )
    await client.models.list()
    token_file.write_text("subject-jwt-2")
    await client.models.list()
    assert [e["subject_token"] for e in tokens.exchanges()] == ["subject-jwt-1", "subject-jwt-2"]


async def test_refused_token_is_exchanged_again_once(
    api: MockServer, tokens: TokenServer, token_file: pathlib.Path, make_client: MakeClient
) -> None:
    api.clear()
    tokens.answers = [
        (200, {"access_token": "tok-revoked", "expires_in": 3600}),
        (200, {"access_token": GOOD, "expires_in": 3600}),
    ]
    client = make_client(
        base_url=api.base_url,
        api_key=None,
        max_retries=0,
        workload_identity=identity(tokens, token_file),
    )
    await client.models.list()
    assert [r.headers["authorization"] for r in api.requests] == [
        "Bearer tok-revoked",
        f"Bearer {GOOD}",
    ]
    # A token refused again is not retried forever: one new exchange, then the 401.
    tokens.answers = [(200, {"access_token": "tok-never", "expires_in": 3600})]
    other = make_client(
        base_url=api.base_url,
        api_key=None,
        max_retries=0,
        workload_identity=identity(tokens, token_file),
    )
    with pytest.raises(AuthenticationError) as caught:
        await other.models.list()
    assert not isinstance(caught.value, OAuthError)
    assert len(tokens.exchanges()) == 4


async def test_refused_exchange_raises_oauth_error(
    api: MockServer, tokens: TokenServer, token_file: pathlib.Path, make_client: MakeClient
) -> None:
    tokens.answers = [
        (400, {"error": "invalid_grant", "error_description": "The subject token expired."})
    ]
    client = make_client(
        base_url=api.base_url, api_key=None, workload_identity=identity(tokens, token_file)
    )
    with pytest.raises(OAuthError) as caught:
        await client.models.list()
    assert caught.value.error == "invalid_grant"
    assert caught.value.response.status_code == 400
    assert str(caught.value).endswith("The subject token expired.")
    tokens.answers = [(200, {"access_token": GOOD})]
    with pytest.raises(OpenAIError, match="expires_in"):
        await client.models.list()
    tokens.answers = [(503, "overloaded")]
    with pytest.raises(OpenAIError, match="503"):
        await client.models.list()


async def test_provider_failure_is_a_subject_token_provider_error(
    api: MockServer, tokens: TokenServer, tmp_path: pathlib.Path, make_client: MakeClient
) -> None:
    client = make_client(
        base_url=api.base_url,
        api_key=None,
        workload_identity=identity(tokens, tmp_path / "missing"),
    )
    with pytest.raises(SubjectTokenProviderError, match="missing"):
        await client.models.list()
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    client = make_client(
        base_url=api.base_url, api_key=None, workload_identity=identity(tokens, empty)
    )
    with pytest.raises(SubjectTokenProviderError, match="empty"):
        await client.models.list()
    custom = {"token_type": "jwt", "get_token": lambda: ""}
    client = make_client(
        base_url=api.base_url,
        api_key=None,
        workload_identity=identity(tokens, empty, provider=custom),
    )
    with pytest.raises(SubjectTokenProviderError, match="no subject token"):
        await client.models.list()
    assert tokens.requests == []


def test_options_are_checked_when_the_client_is_built(
    tokens: TokenServer, token_file: pathlib.Path
) -> None:
    good = identity(tokens, token_file)
    with pytest.raises(OpenAIError, match="together"):
        Client(api_key="sk-x", workload_identity=good)
    bad: list[tuple[dict[str, Any], str]] = [
        ({**good, "service_account_id": ""}, "service_account_id"),
        ({**good, "provider": {"token_type": "saml", "get_token": str}}, "saml"),
        ({**good, "provider": {"token_type": "jwt"}}, "get_token"),
        ({**good, "refresh_buffer_seconds": -1}, "refresh_buffer_seconds"),
        ({**good, "type": "x509"}, "X.509"),
    ]
    for option, message in bad:
        with pytest.raises(OpenAIError, match=message):
            Client(workload_identity=option)


def test_metadata_providers_ask_their_service(tokens: TokenServer) -> None:
    base = tokens.url.rsplit("/", 2)[0]
    tokens.answers = [(200, {"access_token": "azure-jwt"})]
    azure = azure_managed_identity_token_provider(
        "https://management.azure.com/", client_id="cid", endpoint=f"{base}/azure"
    )
    assert azure["token_type"] == "jwt" and azure["get_token"]() == "azure-jwt"
    method, path, headers, _ = tokens.requests[-1]
    assert method == "GET" and headers["metadata"] == "true"
    assert path == (
        "/azure?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&client_id=cid"
    )
    tokens.answers = [(200, "gcp-id-token\n")]
    gcp = gcp_id_token_provider("https://api.example/v1", endpoint=f"{base}/gcp")
    assert gcp["token_type"] == "id" and gcp["get_token"]() == "gcp-id-token"
    _, path, headers, _ = tokens.requests[-1]
    assert headers["metadata-flavor"] == "Google"
    assert path == "/gcp?audience=https%3A%2F%2Fapi.example%2Fv1"
    tokens.answers = [(500, {"error": "boom"})]
    for provider in (azure, gcp):
        with pytest.raises(SubjectTokenProviderError, match="HTTP 500"):
            provider["get_token"]()
    with pytest.raises(TypeError, match="httpx"):
        gcp_id_token_provider(http_client=object())


def test_compat_auth_has_every_official_name() -> None:
    import openai.auth

    import oxide_io.compat.auth as ours

    assert sorted(set(openai.auth.__all__) - set(dir(ours))) == []
    assert oxide_io.compat.OAuthError is OAuthError
    assert issubclass(OAuthError, oxide_io.AuthenticationError)
