"""Client options, resolved once from arguments and the official SDK's environment variables.

`ClientOptions` is immutable; `with_options()` derives a new one. The API key is
kept out of every repr. A key may be a callable (the official SDK's key provider),
called for every attempt of every request; `dynamic_auth` tells the request path
whether it has anything to call, so a client with a plain string key does no
extra work per request.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto import OpenAIError
from oxide_proto.base import field, frozen

from ._timeout import DEFAULT_TIMEOUT, Timeout, TimeoutTypes, to_timeout

# Annotations only: Azure loads with the first Azure client, not with `import oxide_io`.
if TYPE_CHECKING:
    from oxide_proto.api._azure import AzureConfig

    from ._tls import VerifyTypes

__all__ = [
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
    "ApiKeyProvider",
    "ClientOptions",
    "NotGiven",
    "TokenProvider",
    "header_layer",
    "resolve_options",
]

# What `api_key=` and `azure_ad_token_provider=` may be besides a string: a
# function returning the credential, or (on the async client) a coroutine for it.
ApiKeyProvider = Callable[[], str | Awaitable[str]]
TokenProvider = Callable[[], str | Awaitable[str]]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2


class NotGiven:
    """Marks an argument the caller did not pass (distinct from an explicit None)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def header_layer(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    """`headers` with each `omit` (any `NotGiven`) as None: the header is removed, as
    the official SDK's `omit` removes it. The same mapping when it holds none."""
    for value in headers.values():
        if isinstance(value, NotGiven):
            return {
                name: None if isinstance(item, NotGiven) else item for name, item in headers.items()
            }
    return headers


@frozen
class ClientOptions:
    api_key: str = field(repr=False)
    organization: str | None
    project: str | None
    base_url: str
    websocket_base_url: str | None
    timeout: Timeout
    max_retries: int
    default_headers: Mapping[str, str]
    default_query: Mapping[str, object]
    http2: bool
    verify: VerifyTypes = field(repr=False)
    max_connections: int = 1000
    max_keepalive_connections: int = 100
    keepalive_expiry: float = 5.0
    webhook_secret: str | None = field(default=None, repr=False)
    api_key_provider: ApiKeyProvider | None = field(default=None, repr=False)
    strict_response_validation: bool = False
    azure: AzureConfig | None = None
    azure_ad_token_provider: TokenProvider | None = field(default=None, repr=False)
    # The key of the organization-administration endpoints (`client.admin`), as the
    # official SDK's `admin_api_key`; None sends `api_key` there too.
    admin_api_key: str | None = field(default=None, repr=False)
    # False for a client with an X.509 workload identity: its TLS client certificate
    # and token go to its own origin only, so a redirect is an error.
    follow_redirects: bool = True
    # A cloud provider (`oxide_io.providers.bedrock()`, `vertex()`) in place of an
    # OpenAI key, and the object that authenticates each attempt for it (see
    # `_async/_provider_auth.py`).
    provider: Any = field(default=None, repr=False)
    provider_auth: Any = field(default=None, repr=False)
    # Whether the client authenticates with an X.509 workload identity (no WebSocket,
    # no other credential header).
    x509_identity: bool = False
    # The region `data_residency=` named (the base URL is its endpoint), or None; a
    # derived client that changes the kind of its workload identity moves within it.
    data_residency: str | None = None
    # Derived: whether a request must call something (a key or token provider) or
    # apply Azure's rules before it is built.
    dynamic_auth: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        dynamic = (
            self.api_key_provider is not None
            or self.azure is not None
            or self.provider_auth is not None
        )
        object.__setattr__(self, "dynamic_auth", dynamic)


@functools.lru_cache(maxsize=256)
def is_admin_path(path: str) -> bool:
    """Whether an operation's path is an organization-administration endpoint, which
    the official SDK authenticates with its `admin_api_key`: everything under
    `/organization/`, and the role assignments of a project (`/projects/{id}/roles`,
    and those of its users and groups)."""
    if path.startswith("/organization/"):
        return True
    return path.startswith("/projects/") and (path.endswith("/roles") or "/roles/" in path)


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def resolve_options(
    *,
    api_key: str | ApiKeyProvider | None,
    organization: str | None,
    project: str | None,
    base_url: str | None,
    websocket_base_url: str | None,
    timeout: TimeoutTypes | NotGiven,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
    default_query: Mapping[str, object] | None,
    http2: bool,
    verify: VerifyTypes,
    webhook_secret: str | None = None,
    strict_response_validation: bool = False,
    enforce_credentials: bool = True,
    azure: AzureConfig | None = None,
    azure_ad_token_provider: TokenProvider | None = None,
    admin_api_key: str | None = None,
    **limits: Any,
) -> ClientOptions:
    """Arguments first, then OPENAI_API_KEY, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_BASE_URL,
    OPENAI_WEBHOOK_SECRET, OPENAI_ADMIN_KEY.

    `api_key` may be a callable returning the key; it is then called before each
    attempt of each request. With `azure`, the key (if any) and the base URL come
    from it, and no OPENAI_API_KEY or OPENAI_BASE_URL is read.
    """
    provider: ApiKeyProvider | None = None
    if azure is not None:
        key = azure.api_key or ""
        provider = api_key if callable(api_key) else None
        base_url = azure.base_url
    elif callable(api_key):
        # A callable first: a str subclass that is callable is a provider too.
        provider, key = api_key, ""
    else:
        key = api_key if api_key is not None else (_env("OPENAI_API_KEY") or "")
    admin = None
    if azure is None:
        admin = admin_api_key if admin_api_key is not None else _env("OPENAI_ADMIN_KEY")
    # An admin key alone is enough to build a client, as in the official SDK.
    if enforce_credentials and azure is None and not key and provider is None and not admin:
        raise OpenAIError(
            "The api_key client option must be set either by passing api_key to the client "
            "or by setting the OPENAI_API_KEY environment variable"
        )
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ValueError(f"max_retries must be an int, 0 or more, not {max_retries!r}")
    return ClientOptions(
        api_key=key,
        organization=organization if organization is not None else _env("OPENAI_ORG_ID"),
        project=project if project is not None else _env("OPENAI_PROJECT_ID"),
        base_url=base_url or _env("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
        websocket_base_url=websocket_base_url,
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        max_retries=max_retries,
        default_headers=dict(header_layer(default_headers or {})),
        default_query=dict(default_query or {}),
        http2=http2,
        verify=verify,
        webhook_secret=webhook_secret
        if webhook_secret is not None
        else _env("OPENAI_WEBHOOK_SECRET"),
        api_key_provider=provider,
        strict_response_validation=strict_response_validation,
        azure=azure,
        azure_ad_token_provider=azure_ad_token_provider,
        admin_api_key=admin,
        **limits,
    )
