"""Azure OpenAI: the decisions an Azure client makes, as pure functions.

An Azure OpenAI resource serves the API under `{endpoint}/openai`, versioned by an
`api-version` query parameter, and routes model calls through deployments:
`{endpoint}/openai/deployments/{deployment}/chat/completions`. It authenticates
with an `api-key` header, or with an Entra ID (Azure AD) token sent as
`Authorization: Bearer`. The rules follow the official SDK's Azure clients:

- the configuration comes from the arguments, then the environment
  (`AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_AD_TOKEN`, `OPENAI_API_VERSION`,
  `AZURE_OPENAI_ENDPOINT`); the environment is passed in as a mapping, so these
  functions read nothing themselves;
- at most one of `api_key`, `azure_ad_token` and `azure_ad_token_provider`;
- a client made with `azure_deployment` sends the deployment endpoints
  (`DEPLOYMENT_PATHS`) to its deployment and every other path to `{endpoint}/openai`;
- a client without one puts the body's `model` in the path of a deployment endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from ..base._errors import OpenAIError
from ..base._record import field, frozen

__all__ = [
    "DEPLOYMENT_PATHS",
    "AzureConfig",
    "MutuallyExclusiveAuthError",
    "azure_auth_headers",
    "azure_base_url",
    "azure_route",
    "checked_token",
    "realtime_target",
    "resolve_azure",
]

# The operations an Azure resource serves under /deployments/{deployment}.
DEPLOYMENT_PATHS = frozenset(
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


class MutuallyExclusiveAuthError(OpenAIError):
    """More than one of `api_key`, `azure_ad_token` and `azure_ad_token_provider`."""

    def __init__(self) -> None:
        super().__init__(
            "pass only one of `api_key`, `azure_ad_token` and `azure_ad_token_provider`; "
            "they are mutually exclusive"
        )


@frozen(kw_only=True)
class AzureConfig:
    """What an Azure client was resolved to.

    `base_url` is where requests go; `endpoint` (without a trailing slash) and
    `deployment` are kept when the client was made from `azure_endpoint`, for the
    paths that are not deployment-based. `api_key` is None when the client
    authenticates with a token (or only with headers it was given).
    """

    base_url: str
    api_version: str
    endpoint: str | None = None
    deployment: str | None = None
    api_key: str | None = field(default=None, repr=False)
    ad_token: str | None = field(default=None, repr=False)
    has_token_provider: bool = False
    has_key_provider: bool = False


def _picked(value: object) -> bool:
    return value is not None


def resolve_azure(
    *,
    env: Mapping[str, str],
    api_version: str | None = None,
    azure_endpoint: str | None = None,
    azure_deployment: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    has_key_provider: bool = False,
    azure_ad_token: str | None = None,
    has_token_provider: bool = False,
    require_credentials: bool = True,
) -> AzureConfig:
    """Resolves an Azure client's arguments against `env` (the process environment).

    Raises `MutuallyExclusiveAuthError` for more than one credential, `OpenAIError`
    when there is none (unless `require_credentials` is false), and `ValueError`
    for a missing API version, a missing endpoint, or both `base_url` and
    `azure_endpoint`.
    """
    given = [
        api_key is not None or has_key_provider,
        azure_ad_token is not None,
        has_token_provider,
    ]
    if sum(given) > 1:
        raise MutuallyExclusiveAuthError()
    if not any(given):
        # Only a client given no credential at all looks in the environment; a
        # token there wins over a key, as in the official SDK.
        azure_ad_token = env.get("AZURE_OPENAI_AD_TOKEN")
        if azure_ad_token is None:
            api_key = env.get("AZURE_OPENAI_API_KEY")
    if (
        require_credentials
        and api_key is None
        and not has_key_provider
        and azure_ad_token is None
        and not has_token_provider
    ):
        raise OpenAIError(
            "no Azure credentials: pass `api_key`, `azure_ad_token` or "
            "`azure_ad_token_provider`, or set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN"
        )
    if api_version is None:
        api_version = env.get("OPENAI_API_VERSION")
    if api_version is None:
        raise ValueError(
            "an Azure client needs an API version: pass `api_version` or set OPENAI_API_VERSION"
        )
    endpoint: str | None = None
    deployment: str | None = None
    if base_url is None:
        if azure_endpoint is None:
            azure_endpoint = env.get("AZURE_OPENAI_ENDPOINT")
        if azure_endpoint is None:
            raise ValueError(
                "an Azure client needs `base_url` or `azure_endpoint`, "
                "or the AZURE_OPENAI_ENDPOINT environment variable"
            )
        endpoint = azure_endpoint.rstrip("/")
        deployment = azure_deployment
        base_url = azure_base_url(endpoint, azure_deployment)
    elif azure_endpoint is not None:
        raise ValueError("`base_url` and `azure_endpoint` are mutually exclusive")
    return AzureConfig(
        base_url=base_url,
        api_version=api_version,
        endpoint=endpoint,
        deployment=deployment,
        api_key=api_key,
        ad_token=azure_ad_token,
        has_token_provider=has_token_provider,
        has_key_provider=has_key_provider,
    )


def azure_base_url(endpoint: str, deployment: str | None) -> str:
    """`{endpoint}/openai`, or `{endpoint}/openai/deployments/{deployment}`."""
    root = f"{endpoint.rstrip('/')}/openai"
    return f"{root}/deployments/{deployment}" if deployment is not None else root


def azure_route(
    config: AzureConfig, path: str, body: Mapping[str, object] | None
) -> tuple[str, str]:
    """The (base URL, path) one request goes to; `path` is the operation's path.

    A deployment endpoint called on a client without a deployment in its URL
    goes to `/deployments/{model}` (the body's `model`, percent-encoded); any
    other path called on a client made with `azure_deployment` goes to
    `{endpoint}/openai`, since only deployment endpoints live under a deployment.
    """
    if path in DEPLOYMENT_PATHS:
        model = body.get("model") if isinstance(body, Mapping) else None
        if model is not None and "/deployments" not in urlsplit(config.base_url).path:
            return config.base_url, f"/deployments/{quote(str(model), safe='')}{path}"
        return config.base_url, path
    if config.deployment and config.endpoint:
        return f"{config.endpoint}/openai", path
    return config.base_url, path


def azure_auth_headers(api_key: str | None, ad_token: str | None) -> dict[str, str]:
    """The header that authenticates one request: a token wins over a key."""
    if ad_token is not None:
        return {"Authorization": f"Bearer {ad_token}"}
    if api_key:
        return {"api-key": api_key}
    return {}


def checked_token(value: object, source: str) -> str:
    """`value` when it is a non-empty str, else a `ValueError` naming `source`.

    Token providers and API key callables are user code: what they return is checked
    before it goes into a header.
    """
    if isinstance(value, str) and value:
        # A str subclass could change how it formats; send the plain text.
        return str.__str__(value)
    raise ValueError(f"{source} must return a non-empty str, not {type(value).__name__}")


def realtime_target(
    config: AzureConfig,
    *,
    websocket_base_url: str | None,
    model: str | None,
    query: Mapping[str, object] | None,
) -> tuple[str, str, dict[str, object]]:
    """The (base URL, path, query) of an Azure Realtime WebSocket.

    The socket is `{endpoint}/openai/realtime` (or the client's base URL, or its
    `websocket_base_url`, followed by `/realtime`), with `api-version` and the
    `deployment`: the client's, else the `model` of the call. Raises `OpenAIError`
    without a `model`.
    """
    if not model:
        # As in the official SDK, even when the client names a deployment.
        raise OpenAIError("an Azure Realtime connection needs `model` (the deployment name)")
    deployment = config.deployment or model
    merged: dict[str, object] = {
        key: value for key, value in (query or {}).items() if key != "model"
    }
    merged["api-version"] = config.api_version
    merged["deployment"] = deployment
    if websocket_base_url is not None:
        base = websocket_base_url
    elif config.deployment and config.endpoint:
        base = f"{config.endpoint}/openai"
    else:
        base = config.base_url
    return base, "/realtime", merged
