"""Client options, resolved once from arguments and the official SDK's environment variables.

`ClientOptions` is immutable; `with_options()` derives a new one. The API key is
kept out of every repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from oxide_proto import OpenAIError
from oxide_proto._record import field, frozen

from ._timeout import DEFAULT_TIMEOUT, Timeout, to_timeout
from ._tls import VerifyTypes

__all__ = ["DEFAULT_BASE_URL", "NOT_GIVEN", "ClientOptions", "NotGiven", "resolve_options"]

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


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def resolve_options(
    *,
    api_key: str | None,
    organization: str | None,
    project: str | None,
    base_url: str | None,
    websocket_base_url: str | None,
    timeout: float | Timeout | NotGiven | None,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
    default_query: Mapping[str, object] | None,
    http2: bool,
    verify: VerifyTypes,
    webhook_secret: str | None = None,
    **limits: Any,
) -> ClientOptions:
    """Arguments first, then OPENAI_API_KEY, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_BASE_URL,
    OPENAI_WEBHOOK_SECRET."""
    key = api_key if api_key is not None else _env("OPENAI_API_KEY")
    if not key:
        raise OpenAIError(
            "The api_key client option must be set either by passing api_key to the client "
            "or by setting the OPENAI_API_KEY environment variable"
        )
    if max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return ClientOptions(
        api_key=key,
        organization=organization if organization is not None else _env("OPENAI_ORG_ID"),
        project=project if project is not None else _env("OPENAI_PROJECT_ID"),
        base_url=base_url or _env("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
        websocket_base_url=websocket_base_url,
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        max_retries=max_retries,
        default_headers=dict(default_headers or {}),
        default_query=dict(default_query or {}),
        http2=http2,
        verify=verify,
        webhook_secret=webhook_secret
        if webhook_secret is not None
        else _env("OPENAI_WEBHOOK_SECRET"),
        **limits,
    )
