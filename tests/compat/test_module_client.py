"""The module-level client (`openai.api_key = ...; openai.chat.completions.create()`)
and the compat clients, against oxide's MockServer on 127.0.0.1.

The official SDK reads its module attributes when the client is used, so a change
takes effect on the next call; here each change rebuilds the client on the next use,
keeping the connection pool.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

import oxide_io
import oxide_io.compat as openai
from oxide_io.testing import MockServer

KEY = "sk-compat-test"
MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _module_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_API_TYPE",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
    saved = {name: getattr(openai, name) for name in openai._SETTINGS}
    openai._reset_client()
    openai.api_type = None
    openai.azure_endpoint = None
    openai.api_version = None
    yield
    client = openai._client
    if client is not None:
        client.close()
    openai._reset_client()
    for name, value in saved.items():
        setattr(openai, name, value)


def test_module_level_client_uses_the_module_settings(server: MockServer) -> None:
    openai.api_key = KEY
    openai.base_url = server.base_url
    openai.organization = "org-1"
    openai.default_headers = {"X-Extra": "1"}
    reply = openai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.choices[0].message.role == "assistant"
    request = server.requests[-1]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["openai-organization"] == "org-1"
    assert request.headers["x-extra"] == "1"
    assert openai.api_type == "openai"


def test_changing_a_setting_rebuilds_the_client_on_the_same_pool(server: MockServer) -> None:
    openai.api_key = KEY
    openai.base_url = server.base_url
    openai.models.list()
    first = openai._client
    openai.models.list()
    assert openai._client is first  # unchanged settings: the same client
    openai.api_key = "sk-other"
    openai.max_retries = 0
    openai.models.list()
    assert server.requests[-1].headers["authorization"] == "Bearer sk-other"
    assert openai._client is not first
    assert openai._client.max_retries == 0
    assert openai._client._transport is first._transport


def test_environment_is_read_when_settings_are_unset(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-9")
    openai.embeddings.create(model="text-embedding-3-small", input="hello")
    request = server.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-from-env"
    assert request.headers["openai-project"] == "proj-9"


def test_resource_proxies_exist_before_a_key_is_set() -> None:
    assert "chat" in dir(openai)
    assert repr(openai.chat) == "<module-level client's chat>"
    with pytest.raises(openai.OpenAIError, match="api_key"):
        openai.chat.completions  # noqa: B018


def test_azure_settings_select_the_azure_client() -> None:
    openai.azure_endpoint = "https://example-resource.openai.azure.com"
    openai.api_key = "azure-key"
    openai.api_version = "2024-10-21"
    assert openai.chat.completions  # builds oxide's Azure client
    client = openai._load_client()
    assert isinstance(client, oxide_io.AzureClient)
    assert openai.api_type == "azure"
    assert client.base_url.startswith("https://example-resource.openai.azure.com/openai")


def test_openai_and_azure_credentials_together_are_ambiguous(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-x")
    with pytest.raises(openai.OpenAIError, match="ambiguous"):
        openai.models.list()
    openai.api_type = "openai"  # an explicit choice settles it
    assert openai.models  # the proxy resolves without raising
    assert openai._load_client().api_key == "sk-x"


def test_amazon_bedrock_api_type(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The official module client's Bedrock choice: BedrockOpenAI from the module
    # settings, the bearer token from `api_key` (else AWS_BEARER_TOKEN_BEDROCK).
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "env-token")
    openai.api_type = "amazon-bedrock"
    openai.base_url = server.base_url
    openai.models.list()
    client = openai._load_client()
    assert type(client).__name__ == "BedrockOpenAI"
    assert server.requests[-1].headers["authorization"] == "Bearer env-token"
    openai.api_key = "module-token"
    openai.models.list()
    assert server.requests[-1].headers["authorization"] == "Bearer module-token"


def test_unsupported_api_type_and_http_client_are_clear_errors() -> None:
    openai.api_key = KEY
    openai.api_type = "open-ai"
    with pytest.raises(openai.OpenAIError, match="'openai', 'azure' or 'amazon-bedrock'"):
        openai.models.list()
    openai.api_type = "openai"
    openai.http_client = object()
    with pytest.raises(TypeError, match="cannot drive an httpx client"):
        openai.models.list()


def test_omit_and_not_given_leave_arguments_out(server: MockServer) -> None:
    client = openai.OpenAI(api_key=KEY, base_url=server.base_url)
    with client:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            temperature=openai.omit,
            top_p=openai.not_given,
            max_tokens=5,
        )
    body = server.requests[-1].json
    assert body is not None
    assert "temperature" not in body
    assert "top_p" not in body
    assert body["max_tokens"] == 5


def test_errors_caught_by_their_official_names(server: MockServer) -> None:
    from oxide_io.testing import Fail

    server.enqueue(Fail(429, retry_after=0))
    client = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    with client, pytest.raises(openai.RateLimitError) as caught:
        client.models.list()
    assert isinstance(caught.value, openai.APIStatusError)
    assert caught.value.status_code == 429


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_client_on_each_runtime(server: MockServer, backend: str) -> None:
    async def main() -> str:
        async with openai.AsyncOpenAI(api_key=KEY, base_url=server.base_url) as client:
            reply = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            assert repr(client).startswith("<AsyncOpenAI ")
        return reply.choices[0].message.role

    assert anyio.run(main, backend=backend) == "assistant"
