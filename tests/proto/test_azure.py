"""The Azure decisions of the core: configuration, routing, auth headers, Realtime URL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxide_proto import (
    DEPLOYMENT_PATHS,
    AzureConfig,
    MutuallyExclusiveAuthError,
    OpenAIError,
    azure_auth_headers,
    azure_base_url,
    azure_route,
    build_request,
    checked_token,
    realtime_target,
    resolve_azure,
)

ENDPOINT = "https://res.openai.azure.com"
EXCLUSIVE = MutuallyExclusiveAuthError


def test_deployment_paths_are_the_official_list() -> None:
    assert (
        frozenset(
            {
                "/completions",
                "/chat/completions",
                "/embeddings",
                "/audio/transcriptions",
                "/audio/translations",
                "/audio/speech",
                "/images/generations",
                "/images/edits",
            }
        )
        == DEPLOYMENT_PATHS
    )


def test_resolve_from_arguments() -> None:
    config = resolve_azure(env={}, api_version="v", azure_endpoint=ENDPOINT + "/", api_key="k")
    assert config == AzureConfig(
        base_url=ENDPOINT + "/openai", api_version="v", endpoint=ENDPOINT, api_key="k"
    )
    with_deployment = resolve_azure(
        env={}, api_version="v", azure_endpoint=ENDPOINT, azure_deployment="d", azure_ad_token="t"
    )
    assert with_deployment.base_url == ENDPOINT + "/openai/deployments/d"
    assert (with_deployment.api_key, with_deployment.ad_token) == (None, "t")
    by_url = resolve_azure(env={}, api_version="v", base_url="https://x/y", has_token_provider=True)
    assert (by_url.base_url, by_url.endpoint, by_url.deployment) == ("https://x/y", None, None)


def test_resolve_from_the_environment() -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": ENDPOINT,
        "OPENAI_API_VERSION": "env-v",
        "AZURE_OPENAI_API_KEY": "env-k",
    }
    config = resolve_azure(env=env)
    assert (config.api_version, config.api_key, config.ad_token) == ("env-v", "env-k", None)
    token_first = resolve_azure(env={**env, "AZURE_OPENAI_AD_TOKEN": "env-t"})
    assert (token_first.api_key, token_first.ad_token) == (None, "env-t")
    explicit = resolve_azure(env={**env, "AZURE_OPENAI_AD_TOKEN": "env-t"}, api_key="k")
    assert (explicit.api_key, explicit.ad_token) == ("k", None)
    provider = resolve_azure(env=env, has_key_provider=True)
    assert provider.api_key is None and provider.has_key_provider


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"api_key": "k", "azure_ad_token": "t"}, EXCLUSIVE, "mutually"),
        ({"has_key_provider": True, "has_token_provider": True}, EXCLUSIVE, "only one"),
        ({"azure_ad_token": "t", "has_token_provider": True}, EXCLUSIVE, "only one"),
        ({}, OpenAIError, "AZURE_OPENAI_API_KEY"),
        ({"api_key": "k", "api_version": None}, ValueError, "OPENAI_API_VERSION"),
        ({"api_key": "k", "azure_endpoint": None}, ValueError, "AZURE_OPENAI_ENDPOINT"),
        ({"api_key": "k", "base_url": "https://x/openai"}, ValueError, "mutually exclusive"),
    ],
)
def test_resolve_errors(arguments: dict[str, object], error: type[Exception], match: str) -> None:
    options: dict[str, object] = {"api_version": "v", "azure_endpoint": ENDPOINT, **arguments}
    with pytest.raises(error, match=match):
        resolve_azure(env={}, **options)  # type: ignore[arg-type]


def test_missing_credentials_can_be_allowed() -> None:
    config = resolve_azure(
        env={}, api_version="v", azure_endpoint=ENDPOINT, require_credentials=False
    )
    assert config.api_key is None and config.ad_token is None


def test_route() -> None:
    plain = resolve_azure(env={}, api_version="v", azure_endpoint=ENDPOINT, api_key="k")
    base = ENDPOINT + "/openai"
    assert azure_route(plain, "/chat/completions", {"model": "gpt"}) == (
        base,
        "/deployments/gpt/chat/completions",
    )
    # The model is one path segment, whatever it holds.
    assert azure_route(plain, "/embeddings", {"model": "a/b c?"}) == (
        base,
        "/deployments/a%2Fb%20c%3F/embeddings",
    )
    # No model in the body (or no body): the path is left alone.
    assert azure_route(plain, "/chat/completions", {}) == (base, "/chat/completions")
    assert azure_route(plain, "/chat/completions", None) == (base, "/chat/completions")
    assert azure_route(plain, "/files", {"model": "x"}) == (base, "/files")
    fixed = resolve_azure(
        env={}, api_version="v", azure_endpoint=ENDPOINT, azure_deployment="d", api_key="k"
    )
    assert azure_route(fixed, "/chat/completions", {"model": "x"}) == (
        ENDPOINT + "/openai/deployments/d",
        "/chat/completions",
    )
    assert azure_route(fixed, "/models", None) == (base, "/models")
    url_form = resolve_azure(env={}, api_version="v", base_url=base + "/deployments/z", api_key="k")
    assert azure_route(url_form, "/chat/completions", {"model": "x"}) == (
        base + "/deployments/z",
        "/chat/completions",
    )
    assert azure_route(url_form, "/models", None) == (base + "/deployments/z", "/models")


@given(st.text(min_size=1, max_size=30).filter(lambda m: m not in (".", "..")))
def test_any_model_name_stays_in_one_segment(model: str) -> None:
    config = AzureConfig(base_url="https://h/openai", api_version="v")
    base, path = azure_route(config, "/chat/completions", {"model": model})
    request = build_request("POST", base, path, json_body={"model": model}, api_key=None)
    assert request.url.target.startswith("/openai/deployments/")
    segment = request.url.target.split("/")[3]
    assert request.url.target == f"/openai/deployments/{segment}/chat/completions"
    assert "/" not in segment and "?" not in segment and "#" not in segment


@pytest.mark.parametrize("model", [".", ".."])
def test_a_dot_segment_model_is_refused(model: str) -> None:
    # "/deployments/../chat" would climb out of the deployment: refused, as for any
    # path parameter, rather than sent for a proxy to normalize.
    config = AzureConfig(base_url="https://h/openai", api_version="v")
    base, path = azure_route(config, "/chat/completions", {"model": model})
    with pytest.raises(ValueError, match="dot-segment"):
        build_request("POST", base, path, json_body={"model": model}, api_key=None)


def test_base_url() -> None:
    assert azure_base_url(ENDPOINT + "/", None) == ENDPOINT + "/openai"
    assert azure_base_url(ENDPOINT, "d") == ENDPOINT + "/openai/deployments/d"


def test_auth_headers() -> None:
    assert azure_auth_headers("k", None) == {"api-key": "k"}
    assert azure_auth_headers("k", "t") == {"Authorization": "Bearer t"}
    assert azure_auth_headers(None, "t") == {"Authorization": "Bearer t"}
    assert azure_auth_headers("", None) == {}
    assert azure_auth_headers(None, None) == {}


def test_checked_token() -> None:
    class Loud(str):
        def __str__(self) -> str:
            return "changed"

    assert checked_token("t", "p") == "t"
    assert type(checked_token(Loud("t"), "p")) is str
    assert checked_token(Loud("t"), "p") == "t"
    for bad in ("", None, 5, b"t"):
        with pytest.raises(ValueError, match="p must return a non-empty str"):
            checked_token(bad, "p")


def test_realtime_target() -> None:
    plain = resolve_azure(env={}, api_version="v", azure_endpoint=ENDPOINT, api_key="k")
    assert realtime_target(
        plain, websocket_base_url=None, model="m", query={"model": "m", "call_id": "c"}
    ) == (
        ENDPOINT + "/openai",
        "/realtime",
        {"call_id": "c", "api-version": "v", "deployment": "m"},
    )
    fixed = resolve_azure(
        env={}, api_version="v", azure_endpoint=ENDPOINT, azure_deployment="d", api_key="k"
    )
    base, path, query = realtime_target(fixed, websocket_base_url=None, model="m", query=None)
    assert (base, path, query) == (
        ENDPOINT + "/openai",
        "/realtime",
        {"api-version": "v", "deployment": "d"},
    )
    base, _, _ = realtime_target(
        fixed, websocket_base_url="wss://ws.example/x", model="m", query={}
    )
    assert base == "wss://ws.example/x"
    url_form = resolve_azure(
        env={}, api_version="v", base_url="https://h/openai/deployments/z", api_key="k"
    )
    assert realtime_target(url_form, websocket_base_url=None, model="m", query={})[0] == (
        "https://h/openai/deployments/z"
    )
    with pytest.raises(OpenAIError, match="model"):
        realtime_target(fixed, websocket_base_url=None, model=None, query={})
