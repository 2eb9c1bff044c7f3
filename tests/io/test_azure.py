"""The Azure clients against real local servers, in every runtime.

Every request's path, query and headers are read from the recording server's log:
deployment URLs, `api-version`, the `api-key` header or the Entra ID token as a
bearer, token providers called per attempt, the environment variables, the
errors for missing or conflicting arguments, `with_options()`, and the
Realtime/Responses WebSocket URLs and handshake headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from oxide_io import (
    AsyncAzureClient,
    AsyncAzureOpenAI,
    AzureClient,
    AzureOpenAI,
    OpenAIError,
)
from oxide_proto import MutuallyExclusiveAuthError
from tests.io.blocking import unwrap, wrap
from tests.io.recording_server import RecordingServer
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import ws_api as ws_api
from tests.ws_api_server import WsApiServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello"}]
VERSION = "2024-10-21"
AZURE_ENV = (
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
)


@pytest.fixture(autouse=True)
def _no_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)


MakeAzure = Any


@pytest.fixture
async def make_azure(runtime: str, anyio_backend: str) -> AsyncIterator[MakeAzure]:
    """`make_azure(**options)`: an Azure client for the test's runtime, closed afterwards."""
    made: list[Any] = []

    def make(**options: Any) -> Any:
        client = wrap(AzureClient(**options)) if runtime == "sync" else AsyncAzureClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


def _seen(server: RecordingServer) -> list[tuple[str, str, dict[str, str], str | None, str | None]]:
    return [
        (r.method, r.path, r.query, r.headers.get("api-key"), r.headers.get("authorization"))
        for r in server.requests
    ]


async def test_official_names() -> None:
    assert AzureOpenAI is AzureClient
    assert AsyncAzureOpenAI is AsyncAzureClient


async def test_endpoint_and_api_key(recording: RecordingServer, make_azure: MakeAzure) -> None:
    client = make_azure(azure_endpoint=recording.url + "/", api_version=VERSION, api_key="az-key")
    completion = await client.chat.completions.create(model="my-gpt", messages=MESSAGES)
    assert completion.choices[0].message.content == "hello"
    await client.embeddings.create(model="my/emb", input="x")
    await client.models.list()
    q = {"api-version": VERSION}
    assert _seen(recording) == [
        ("POST", "/openai/deployments/my-gpt/chat/completions", q, "az-key", None),
        ("POST", "/openai/deployments/my%2Femb/embeddings", q, "az-key", None),
        ("GET", "/openai/models", q, "az-key", None),
    ]
    assert client.base_url == recording.url + "/openai"
    assert client.api_version == VERSION


async def test_azure_deployment(recording: RecordingServer, make_azure: MakeAzure) -> None:
    client = make_azure(
        azure_endpoint=recording.url,
        azure_deployment="dep",
        api_version=VERSION,
        azure_ad_token="ad-token",
    )
    await client.chat.completions.create(model="ignored", messages=MESSAGES)
    await client.models.list()
    await client.files.list()
    q = {"api-version": VERSION}
    assert _seen(recording) == [
        ("POST", "/openai/deployments/dep/chat/completions", q, None, "Bearer ad-token"),
        ("GET", "/openai/models", q, None, "Bearer ad-token"),
        ("GET", "/openai/files", q, None, "Bearer ad-token"),
    ]


async def test_base_url_form(recording: RecordingServer, make_azure: MakeAzure) -> None:
    client = make_azure(
        base_url=recording.url + "/openai/deployments/fixed",
        api_version=VERSION,
        api_key="k",
        default_query={"extra": "1"},
    )
    await client.chat.completions.create(model="other", messages=MESSAGES)
    await client.models.list()
    q = {"extra": "1", "api-version": VERSION}
    assert _seen(recording) == [
        ("POST", "/openai/deployments/fixed/chat/completions", q, "k", None),
        ("GET", "/openai/deployments/fixed/models", q, "k", None),
    ]


async def test_token_provider_is_called_for_every_attempt(
    recording: RecordingServer, make_azure: MakeAzure, runtime: str
) -> None:
    tokens: list[str] = []

    def provider() -> str:
        tokens.append(f"tok-{len(tokens)}")
        return tokens[-1]

    async def async_provider() -> str:
        return provider()

    kinds = [provider] if runtime == "sync" else [provider, async_provider]
    for chosen in kinds:
        recording.clear()
        tokens.clear()
        client = make_azure(
            azure_endpoint=recording.url, api_version=VERSION, azure_ad_token_provider=chosen
        )
        assert tokens == []
        recording.answers.append((500, {"error": {"message": "try again"}}))
        await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.models.list()
        assert [r.headers["authorization"] for r in recording.requests] == [
            "Bearer tok-0",
            "Bearer tok-1",
            "Bearer tok-2",
        ]
        assert [r.headers["x-stainless-retry-count"] for r in recording.requests] == ["0", "1", "0"]
        assert all("api-key" not in r.headers for r in recording.requests)


async def test_bad_token_from_a_provider(recording: RecordingServer, make_azure: MakeAzure) -> None:
    client = make_azure(
        azure_endpoint=recording.url, api_version=VERSION, azure_ad_token_provider=lambda: ""
    )
    with pytest.raises(ValueError, match="azure_ad_token_provider must return a non-empty str"):
        await client.models.list()
    assert recording.requests == []


async def test_callable_api_key_goes_in_the_api_key_header(
    recording: RecordingServer, make_azure: MakeAzure
) -> None:
    keys = iter(["k1", "k2"])
    client = make_azure(
        azure_endpoint=recording.url, api_version=VERSION, api_key=lambda: next(keys)
    )
    await client.models.list()
    await client.models.list()
    assert [r.headers["api-key"] for r in recording.requests] == ["k1", "k2"]


async def test_call_headers_override_the_credential(
    recording: RecordingServer, make_azure: MakeAzure
) -> None:
    client = make_azure(azure_endpoint=recording.url, api_version=VERSION, api_key="k")
    await client.models.list(extra_headers={"api-key": "per-call"})
    await client.models.list(extra_headers={"api-key": None, "Authorization": "Bearer mine"})
    assert _seen(recording)[0][3] == "per-call"
    assert _seen(recording)[1][3:] == (None, "Bearer mine")


async def test_environment(
    recording: RecordingServer, make_azure: MakeAzure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", recording.url)
    monkeypatch.setenv("OPENAI_API_VERSION", "env-version")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    await make_azure().models.list()
    # A token in the environment wins over a key there.
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "env-token")
    await make_azure().models.list()
    # An explicit credential wins over the environment, whichever it is.
    await make_azure(api_key="arg-key").models.list()
    await make_azure(api_version="arg-version", azure_ad_token="arg-token").models.list()
    q = {"api-version": "env-version"}
    assert _seen(recording) == [
        ("GET", "/openai/models", q, "env-key", None),
        ("GET", "/openai/models", q, None, "Bearer env-token"),
        ("GET", "/openai/models", q, "arg-key", None),
        ("GET", "/openai/models", {"api-version": "arg-version"}, None, "Bearer arg-token"),
    ]


async def test_errors(runtime: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = AzureClient if runtime == "sync" else AsyncAzureClient
    endpoint = "https://example-resource.openai.azure.com"
    with pytest.raises(MutuallyExclusiveAuthError):
        cls(azure_endpoint=endpoint, api_version=VERSION, api_key="k", azure_ad_token="t")
    with pytest.raises(MutuallyExclusiveAuthError):
        cls(
            azure_endpoint=endpoint,
            api_version=VERSION,
            azure_ad_token="t",
            azure_ad_token_provider=lambda: "t",
        )
    with pytest.raises(OpenAIError, match="AZURE_OPENAI_API_KEY"):
        cls(azure_endpoint=endpoint, api_version=VERSION)
    with pytest.raises(ValueError, match="OPENAI_API_VERSION"):
        cls(azure_endpoint=endpoint, api_key="k")
    with pytest.raises(ValueError, match="AZURE_OPENAI_ENDPOINT"):
        cls(api_version=VERSION, api_key="k")
    with pytest.raises(ValueError, match="mutually exclusive"):
        cls(
            azure_endpoint=endpoint, base_url=endpoint + "/openai", api_version=VERSION, api_key="k"
        )
    # OPENAI_API_KEY is not an Azure credential.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    with pytest.raises(OpenAIError):
        cls(azure_endpoint=endpoint, api_version=VERSION)
    built = cls(azure_endpoint=endpoint, api_version=VERSION, _enforce_credentials=False)
    assert built.azure_endpoint == endpoint


async def test_with_options(recording: RecordingServer, make_azure: MakeAzure) -> None:
    client = make_azure(
        azure_endpoint=recording.url,
        azure_deployment="dep",
        api_version=VERSION,
        api_key="k",
    )
    # Switching to a token drops the key; the endpoint and deployment stay.
    token_client = client.with_options(azure_ad_token="t", api_version="v2")
    await token_client.chat.completions.create(model="x", messages=MESSAGES)
    await token_client.models.list()
    # No new credential keeps the current one.
    await client.copy(max_retries=0, default_query={"a": "1"}).models.list()
    # A new base URL drops the endpoint and deployment.
    moved = client.with_options(base_url=recording.url + "/elsewhere")
    await moved.models.list()
    await moved.chat.completions.create(model="mm", messages=MESSAGES)
    assert _seen(recording) == [
        (
            "POST",
            "/openai/deployments/dep/chat/completions",
            {"api-version": "v2"},
            None,
            "Bearer t",
        ),
        ("GET", "/openai/models", {"api-version": "v2"}, None, "Bearer t"),
        ("GET", "/openai/models", {"api-version": VERSION, "a": "1"}, "k", None),
        ("GET", "/elsewhere/models", {"api-version": VERSION}, "k", None),
        ("POST", "/elsewhere/deployments/mm/chat/completions", {"api-version": VERSION}, "k", None),
    ]
    with pytest.raises(MutuallyExclusiveAuthError):
        client.with_options(api_key="k2", azure_ad_token="t2")
    assert isinstance(unwrap(token_client), type(unwrap(client)))


def _ws_root(server: WsApiServer) -> str:
    return server.base_url.removesuffix("/v1")


async def test_realtime_url_and_auth(
    ws_api: WsApiServer, make_azure: MakeAzure, runtime: str
) -> None:
    def connect(client: Any, **options: Any) -> Any:
        if runtime == "sync":
            return wrap(unwrap(client).realtime.connect(**options))
        return client.realtime.connect(**options)

    client = make_azure(azure_endpoint=_ws_root(ws_api), api_version=VERSION, api_key="az-key")
    async with connect(client, model="rt-dep") as connection:
        event = await connection.recv()
        assert event.type == "session.created"
    tokens = iter(["tok-a", "tok-b"])
    with_token = make_azure(
        azure_endpoint=_ws_root(ws_api),
        azure_deployment="fixed",
        api_version=VERSION,
        azure_ad_token_provider=lambda: next(tokens),
    )
    async with connect(with_token, model="ignored", extra_query={"x": "1"}) as connection:
        assert (await connection.recv()).type == "session.created"
    first, second = ws_api.handshakes
    assert ws_api.paths[0] == f"/openai/realtime?api-version={VERSION}&deployment=rt-dep"
    assert first["api-key"] == "az-key" and "authorization" not in first
    path, _, query = ws_api.paths[1].partition("?")
    assert path == "/openai/realtime"
    assert sorted(query.split("&")) == [f"api-version={VERSION}", "deployment=fixed", "x=1"]
    assert second["authorization"] == "Bearer tok-a" and "api-key" not in second
    with pytest.raises(OpenAIError, match="model"):
        async with connect(client):
            pass


async def test_responses_websocket(
    ws_api: WsApiServer, make_azure: MakeAzure, runtime: str
) -> None:
    client = make_azure(azure_endpoint=_ws_root(ws_api), api_version=VERSION, api_key="az-key")
    if runtime == "sync":
        manager = wrap(unwrap(client).responses.connect())
    else:
        manager = client.responses.connect()
    async with manager as connection:
        await connection.response.create(model="m", input="hi")
        async for event in connection:
            if event.type == "response.completed":
                break
    assert ws_api.paths == [f"/openai/responses?api-version={VERSION}"]
    assert ws_api.handshakes[0]["api-key"] == "az-key"
