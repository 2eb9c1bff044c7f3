"""Workload identity federation: a workload's own identity token traded for an API token.

Instead of an API key, a client may hold a *subject token* that its platform
issues (a Kubernetes service account token, a cloud instance identity token, any
JWT) and trade it at the token endpoint (RFC 8693 token exchange, sent as JSON)
for a short-lived access token, which it then sends as `Authorization: Bearer`.

Pure parts only: the exchange request (`exchange_request`), reading its answer
(`parse_exchange_response`: the token and its lifetime, or `OAuthError` /
`OpenAIError` for a refusal or a malformed answer), and when a token is used,
refreshed or dropped (`TokenCache`, which takes `now` from the caller). A token
is refreshed `refresh_buffer_seconds` (default 1200) before it expires, but never
sooner than half its lifetime; once expired it is never used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..base._errors import AuthenticationError, OpenAIError
from ..base._headers import Headers
from ..base._record import field, frozen
from ..base._types import Request, ResponseInfo
from ..base._url import parse_url
from ._encode import user_agent as default_user_agent

__all__ = [
    "DEFAULT_REFRESH_BUFFER_SECONDS",
    "DEFAULT_TOKEN_EXCHANGE_URL",
    "PLACEHOLDER_API_KEY",
    "SUBJECT_TOKEN_TYPES",
    "TOKEN_EXCHANGE_GRANT_TYPE",
    "IssuedToken",
    "OAuthError",
    "SubjectTokenProviderError",
    "TokenCache",
    "WorkloadIdentityConfig",
    "exchange_request",
    "parse_exchange_response",
    "workload_identity_config",
]

TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
DEFAULT_TOKEN_EXCHANGE_URL = "https://auth.openai.com/oauth/token"
DEFAULT_REFRESH_BUFFER_SECONDS = 1200.0
SUBJECT_TOKEN_TYPES: Mapping[str, str] = {
    "jwt": "urn:ietf:params:oauth:token-type:jwt",
    "id": "urn:ietf:params:oauth:token-type:id_token",
}
# What `client.api_key` reads on a client that authenticates with a workload identity.
PLACEHOLDER_API_KEY = "workload-identity-auth"
_REFUSALS = (400, 401, 403)


class OAuthError(AuthenticationError):
    """The token endpoint refused the exchange (HTTP 400, 401 or 403).

    `error` is the OAuth error code of the answer (`invalid_grant`, ...) or None;
    the message is its `error_description` when it has one.
    """

    def __init__(self, *, response: ResponseInfo, body: object | None) -> None:
        message = "OAuth authentication error."
        error = None
        if isinstance(body, dict):
            error = body.get("error")
            description = body.get("error_description")
            if isinstance(description, str) and description:
                message = description
        super().__init__(message, response=response, body=body)
        self.error: str | None = error if isinstance(error, str) else None


class SubjectTokenProviderError(OpenAIError):
    """A subject token provider could not give a token (a missing file, a metadata
    service that failed, ...); `response` is the provider's HTTP answer, if any."""

    def __init__(self, message: str, *, response: ResponseInfo | None = None) -> None:
        super().__init__(message)
        self.response = response


@frozen
class WorkloadIdentityConfig:
    """A checked `workload_identity=` option."""

    identity_provider_id: str
    service_account_id: str
    token_type: str
    get_token: Callable[[], Any] = field(repr=False)
    refresh_buffer_seconds: float = DEFAULT_REFRESH_BUFFER_SECONDS
    token_exchange_url: str = DEFAULT_TOKEN_EXCHANGE_URL


def workload_identity_config(identity: Mapping[str, Any]) -> WorkloadIdentityConfig:
    """Checks the official `workload_identity` mapping: the two ids, a `provider` with
    `token_type` ("jwt" or "id") and `get_token`, an optional `refresh_buffer_seconds`.

    oxide also reads an optional `token_exchange_url` (the default is the API's token
    endpoint), so that the exchange can be pointed at another server.
    """
    if not isinstance(identity, Mapping):
        raise TypeError(f"workload_identity must be a mapping, not {type(identity).__name__}")
    if identity.get("type") == "x509":
        raise OpenAIError(
            "X.509 workload identity is not supported by oxide: it needs the mTLS token "
            "endpoint; use a subject token provider"
        )
    ids = []
    for name in ("identity_provider_id", "service_account_id"):
        value = identity.get(name)
        if not isinstance(value, str) or not value:
            raise OpenAIError(f"workload_identity needs `{name}`, a non-empty string")
        ids.append(value)
    provider = identity.get("provider")
    if not isinstance(provider, Mapping) or not callable(provider.get("get_token")):
        raise OpenAIError(
            "workload_identity needs `provider`: a mapping with `token_type` and a "
            "`get_token` callable"
        )
    token_type = provider.get("token_type")
    if token_type not in SUBJECT_TOKEN_TYPES:
        raise OpenAIError(
            f"Unsupported subject token type {token_type!r}: expected one of "
            + ", ".join(repr(kind) for kind in SUBJECT_TOKEN_TYPES)
        )
    buffer = identity.get("refresh_buffer_seconds", DEFAULT_REFRESH_BUFFER_SECONDS)
    if (
        isinstance(buffer, bool)
        or not isinstance(buffer, (int, float))
        or not math.isfinite(buffer)
        or buffer < 0
    ):
        raise OpenAIError(
            f"workload_identity `refresh_buffer_seconds` must be a finite number, 0 or "
            f"more, not {buffer!r}"
        )
    url = identity.get("token_exchange_url", DEFAULT_TOKEN_EXCHANGE_URL)
    if not isinstance(url, str):
        raise OpenAIError("workload_identity `token_exchange_url` must be a string")
    parse_url(url)  # refuses a URL that is not absolute http(s)
    return WorkloadIdentityConfig(
        ids[0], ids[1], str(token_type), provider["get_token"], float(buffer), url
    )


def exchange_request(
    config: WorkloadIdentityConfig, subject_token: object, *, user_agent: str | None = None
) -> Request:
    """The `POST` that trades `subject_token` for an access token; no API credentials."""
    if not isinstance(subject_token, str) or not subject_token:
        raise SubjectTokenProviderError(
            f"The workload identity provider gave no subject token (got {subject_token!r})"
        )
    body = json.dumps(
        {
            "grant_type": TOKEN_EXCHANGE_GRANT_TYPE,
            "subject_token": subject_token,
            "subject_token_type": SUBJECT_TOKEN_TYPES[config.token_type],
            "identity_provider_id": config.identity_provider_id,
            "service_account_id": config.service_account_id,
        },
        separators=(",", ":"),
    ).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
        ("User-Agent", user_agent or default_user_agent()),
    ]
    return Request("POST", parse_url(config.token_exchange_url), Headers(headers), body)


@frozen
class IssuedToken:
    """An access token from the token endpoint and its lifetime in seconds."""

    access_token: str = field(repr=False)
    expires_in: float


def parse_exchange_response(info: ResponseInfo, body: bytes) -> IssuedToken:
    """The token in the endpoint's answer; `OAuthError` for a refusal (400, 401, 403),
    `OpenAIError` for another failure or an answer without a usable token."""
    try:
        data: object = json.loads(body) if body else None
    except ValueError:
        data = None
    if info.status_code in _REFUSALS:
        raise OAuthError(response=info, body=data)
    if not 200 <= info.status_code < 300:
        raise OpenAIError(f"The token exchange failed with HTTP status {info.status_code}")
    if not isinstance(data, dict):
        shown = "empty" if not body else "not a JSON object"
        raise OpenAIError(f"The token exchange succeeded but its answer was {shown}")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise OpenAIError("The token exchange answer has no valid `access_token`")
    expires_in = data.get("expires_in")
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, (int, float))
        or not math.isfinite(expires_in)
    ):
        raise OpenAIError(
            f"The token exchange answer has no valid `expires_in` (got {expires_in!r})"
        )
    return IssuedToken(token, float(expires_in))


class TokenCache:
    """The current access token and when to refresh it; time is the caller's `now`
    (a monotonic clock, in seconds)."""

    __slots__ = ("_expires_at", "_refresh_at", "_token", "refresh_buffer_seconds")

    def __init__(self, refresh_buffer_seconds: float = DEFAULT_REFRESH_BUFFER_SECONDS) -> None:
        self.refresh_buffer_seconds = refresh_buffer_seconds
        self._token: str | None = None
        self._expires_at = -math.inf
        self._refresh_at = -math.inf

    def current(self, now: float) -> str | None:
        """The token to send, or None when a new one must be fetched first."""
        if self._token is None or now >= self._refresh_at or now >= self._expires_at:
            return None
        return self._token

    def store(self, issued: IssuedToken, now: float) -> None:
        lifetime = max(issued.expires_in, 0.0)
        buffer = min(self.refresh_buffer_seconds, lifetime / 2)
        self._token = issued.access_token
        self._expires_at = now + lifetime
        self._refresh_at = now + max(lifetime - buffer, 0.0)

    def invalidate(self, token: str | None = None) -> None:
        """Drops the token (only if it is `token`, when given: a newer one is kept)."""
        if token is not None and token != self._token:
            return
        self._token = None
        self._expires_at = self._refresh_at = -math.inf

    @property
    def refresh_at(self) -> float:
        return self._refresh_at

    @property
    def expires_at(self) -> float:
        return self._expires_at
