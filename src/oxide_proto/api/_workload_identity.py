"""Workload identity federation: a workload's own identity token traded for an API token.

Instead of an API key, a client may hold a *subject token* that its platform
issues (a Kubernetes service account token, a cloud instance identity token, any
JWT) and trade it at the token endpoint (RFC 8693 token exchange, sent as JSON)
for a short-lived access token, which it then sends as `Authorization: Bearer`.

An X.509 identity (``{"type": "x509", ...}``) has no subject token: the workload
proves who it is with the TLS client certificate of the connection that carries
the exchange, so the exchange goes to the mTLS token endpoint over a transport
holding that certificate, names the subject token type
`X509_SUBJECT_TOKEN_TYPE` and sends no `subject_token`. Its answer is read more
strictly (a Bearer token of token characters, a positive lifetime; a refusal
keeps only its OAuth error code), and an exchange that failed for a passing
reason (a connection error, 408, 409, 429, 5xx) is tried again
(`x509_exchange_retry_delay`).

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
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..base._errors import AuthenticationError, OpenAIError
from ..base._headers import Headers
from ..base._record import field, frozen
from ..base._types import Request, ResponseInfo
from ..base._url import parse_url
from ..http._retry import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER_DELAY,
    MAX_RETRY_DELAY,
    parse_retry_after,
)
from ._encode import user_agent as default_user_agent

__all__ = [
    "DEFAULT_REFRESH_BUFFER_SECONDS",
    "DEFAULT_TOKEN_EXCHANGE_URL",
    "EXCHANGE_TIMEOUT",
    "MAX_X509_EXCHANGE_RETRIES",
    "MTLS_API_BASE_URL",
    "PLACEHOLDER_API_KEY",
    "SUBJECT_TOKEN_TYPES",
    "TOKEN_EXCHANGE_GRANT_TYPE",
    "X509_SUBJECT_TOKEN_TYPE",
    "X509_TOKEN_EXCHANGE_URL",
    "IssuedToken",
    "OAuthError",
    "SubjectTokenProviderError",
    "TokenCache",
    "WorkloadIdentityConfig",
    "exchange_request",
    "check_x509_api_url",
    "check_x509_request_headers",
    "exchange_phase_timeout",
    "is_x509_identity",
    "parse_exchange_response",
    "workload_identity_config",
    "x509_exchange_retry_delay",
]

TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
DEFAULT_TOKEN_EXCHANGE_URL = "https://auth.openai.com/oauth/token"
DEFAULT_REFRESH_BUFFER_SECONDS = 1200.0
SUBJECT_TOKEN_TYPES: Mapping[str, str] = {
    "jwt": "urn:ietf:params:oauth:token-type:jwt",
    "id": "urn:ietf:params:oauth:token-type:id_token",
}
# Each phase of a token exchange (connect, write, read, pool) gets at most this many seconds.
EXCHANGE_TIMEOUT = 10.0
# What `client.api_key` reads on a client that authenticates with a workload identity.
PLACEHOLDER_API_KEY = "workload-identity-auth"
_REFUSALS = (400, 401, 403)

# X.509 identities: the API and the token endpoint that ask for the client certificate.
MTLS_API_BASE_URL = "https://mtls.api.openai.com/v1"
X509_TOKEN_EXCHANGE_URL = "https://mtls.auth.openai.com/oauth/token"
X509_SUBJECT_TOKEN_TYPE = "urn:openai:params:oauth:token-type:x509"
# An X.509 exchange is retried at most this often, and no more than the client's max_retries.
MAX_X509_EXCHANGE_RETRIES = 2
_X509_FIELDS = frozenset(
    {"type", "identity_provider_id", "service_account_id", "refresh_buffer_seconds"}
)
# RFC 6750's b64token: what may follow "Bearer " in an Authorization header.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")


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
    """A checked `workload_identity=` option; `token_type` is "x509" for an identity
    proven by the client certificate (which has no `get_token`)."""

    identity_provider_id: str
    service_account_id: str
    token_type: str
    get_token: Callable[[], Any] | None = field(repr=False)
    refresh_buffer_seconds: float = DEFAULT_REFRESH_BUFFER_SECONDS
    token_exchange_url: str = DEFAULT_TOKEN_EXCHANGE_URL

    @property
    def x509(self) -> bool:
        return self.token_type == "x509"


def is_x509_identity(identity: object) -> bool:
    """Whether a `workload_identity=` mapping is an X.509 identity."""
    return isinstance(identity, Mapping) and identity.get("type") == "x509"


def check_x509_api_url(url: str) -> None:
    """Refuses an API URL an X.509 client may not send its certificate and token to:
    one that is not absolute HTTPS, or that holds user credentials."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise OpenAIError(f"X.509 workload identity needs an absolute HTTPS API URL, not {url!r}")
    if parts.username is not None or parts.password is not None:
        raise OpenAIError("X.509 workload identity API URLs cannot hold user credentials")


# Credentials an X.509 client's API requests may not carry: the certificate and the
# token it is exchanged for are the only ones (`_` in a name counts as `-`).
_X509_FORBIDDEN_HEADERS = frozenset({"api-key", "x-api-key", "proxy-authorization"})


def check_x509_request_headers(names: Iterable[str]) -> None:
    """Refuses headers (`names`, of the client's defaults or a call's `extra_headers`)
    that would send another credential beside an X.509 identity's token: `api-key`,
    `x-api-key`, `proxy-authorization` (a proxy's credentials go in its URL)."""
    for name in names:
        if name.lower().replace("_", "-") in _X509_FORBIDDEN_HEADERS:
            raise OpenAIError(
                f"X.509 workload identity requests cannot carry API-key or proxy credentials "
                f"(the {name!r} header)"
            )


def _refresh_buffer(identity: Mapping[str, Any]) -> float:
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
    return float(buffer)


def _ids(identity: Mapping[str, Any]) -> tuple[str, str]:
    ids = []
    for name in ("identity_provider_id", "service_account_id"):
        value = identity.get(name)
        if not isinstance(value, str) or not value:
            raise OpenAIError(f"workload_identity needs `{name}`, a non-empty string")
        ids.append(value)
    return ids[0], ids[1]


def _x509_config(identity: Mapping[str, Any]) -> WorkloadIdentityConfig:
    if "provider" in identity or "client_id" in identity:
        raise OpenAIError(
            "An X.509 workload identity takes no subject token `provider` or `client_id`: "
            "the client certificate is the proof"
        )
    # `token_exchange_url` is oxide's extension, as for subject-token identities.
    unknown = set(identity) - _X509_FIELDS - {"token_exchange_url"}
    if unknown:
        raise OpenAIError(
            "An X.509 workload identity takes only `identity_provider_id`, "
            f"`service_account_id` and `refresh_buffer_seconds`; got {sorted(unknown)}"
        )
    provider_id, account_id = _ids(identity)
    url = identity.get("token_exchange_url", X509_TOKEN_EXCHANGE_URL)
    if not isinstance(url, str) or parse_url(url).scheme != "https":
        # The certificate is the credential: it is only ever presented over TLS.
        raise OpenAIError(
            f"An X.509 workload identity's `token_exchange_url` must be an https URL, not {url!r}"
        )
    return WorkloadIdentityConfig(
        provider_id, account_id, "x509", None, _refresh_buffer(identity), url
    )


def workload_identity_config(identity: Mapping[str, Any]) -> WorkloadIdentityConfig:
    """Checks the official `workload_identity` mapping: the two ids, a `provider` with
    `token_type` ("jwt" or "id") and `get_token`, an optional `refresh_buffer_seconds`.

    oxide also reads an optional `token_exchange_url` (the default is the API's token
    endpoint), so that the exchange can be pointed at another server.
    """
    if not isinstance(identity, Mapping):
        raise TypeError(f"workload_identity must be a mapping, not {type(identity).__name__}")
    if "type" in identity:
        if identity["type"] != "x509":
            raise OpenAIError(
                f"Unknown workload_identity type {identity['type']!r}: expected 'x509', or no"
                " `type` with a subject token `provider`"
            )
        return _x509_config(identity)
    ids = _ids(identity)
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
    buffer = _refresh_buffer(identity)
    url = identity.get("token_exchange_url", DEFAULT_TOKEN_EXCHANGE_URL)
    if not isinstance(url, str):
        raise OpenAIError("workload_identity `token_exchange_url` must be a string")
    parse_url(url)  # refuses a URL that is not absolute http(s)
    return WorkloadIdentityConfig(
        ids[0], ids[1], str(token_type), provider["get_token"], buffer, url
    )


def exchange_request(
    config: WorkloadIdentityConfig, subject_token: object, *, user_agent: str | None = None
) -> Request:
    """The `POST` that trades `subject_token` for an access token; no API credentials.

    An X.509 identity sends no subject token (pass None): the TLS client
    certificate of the connection stands for it.
    """
    fields: dict[str, str] = {"grant_type": TOKEN_EXCHANGE_GRANT_TYPE}
    if config.x509:
        fields["subject_token_type"] = X509_SUBJECT_TOKEN_TYPE
    else:
        if not isinstance(subject_token, str) or not subject_token:
            raise SubjectTokenProviderError(
                f"The workload identity provider gave no subject token (got {subject_token!r})"
            )
        fields["subject_token"] = subject_token
        fields["subject_token_type"] = SUBJECT_TOKEN_TYPES[config.token_type]
    fields["identity_provider_id"] = config.identity_provider_id
    fields["service_account_id"] = config.service_account_id
    body = json.dumps(fields, separators=(",", ":")).encode()
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


def parse_exchange_response(info: ResponseInfo, body: bytes, *, x509: bool = False) -> IssuedToken:
    """The token in the endpoint's answer; `OAuthError` for a refusal (400, 401, 403),
    `OpenAIError` for another failure or an answer without a usable token.

    With `x509`, a refusal keeps only its OAuth `error` code (not the endpoint's
    description), the token must be a Bearer token (`token_type`, when given, says
    so; the token is made of RFC 6750 token characters) and its lifetime positive.
    """
    try:
        data: object = json.loads(body) if body else None
    except ValueError:
        data = None
    if info.status_code in _REFUSALS:
        if x509:
            code = data.get("error") if isinstance(data, dict) else None
            data = {"error": code} if isinstance(code, str) else None
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
    if x509:
        kind = data.get("token_type", "bearer")
        if not isinstance(kind, str) or kind.lower() != "bearer":
            raise OpenAIError(
                f"The X.509 token exchange answered a token of type {kind!r}, not a Bearer token"
            )
        if _BEARER_TOKEN.fullmatch(token) is None:
            raise OpenAIError("The X.509 token exchange answered an access_token unfit for Bearer")
        if expires_in <= 0:
            raise OpenAIError(
                f"The X.509 token exchange answered a lifetime of {expires_in!r} s, not positive"
            )
    return IssuedToken(token, float(expires_in))


def exchange_phase_timeout(request_limit: float | None, *, x509: bool) -> float:
    """The limit of one phase of a token exchange, in seconds.

    A subject-token exchange always gets `EXCHANGE_TIMEOUT`. An X.509 exchange
    runs for an API request and gets no more than that request's own limit for
    the phase (`request_limit`; None, no limit, leaves `EXCHANGE_TIMEOUT`), so a
    call with a short timeout is not held up by a slow token endpoint.
    """
    if not x509 or request_limit is None:
        return EXCHANGE_TIMEOUT
    return min(request_limit, EXCHANGE_TIMEOUT)


def x509_exchange_retry_delay(
    info: ResponseInfo | None, attempt: int, *, now: float
) -> float | None:
    """How long to wait before trying an X.509 exchange again, or None not to.

    `info` is the failed exchange's answer (None for a connection that failed) and
    `attempt` counts from 0. A refusal (400, 401, 403) or `x-should-retry: false`
    is final; 408, 409, 429, 5xx or `x-should-retry: true` wait what `retry-after`
    / `retry-after-ms` ask (a wait over two minutes ends it), or back off
    exponentially. `now` is a UNIX time, to read a `retry-after` date.
    """
    if info is not None:
        should_retry = info.headers.get("x-should-retry")
        status = info.status_code
        if status in _REFUSALS or should_retry == "false":
            return None
        if should_retry != "true" and status not in (408, 409, 429) and status < 500:
            return None
        asked = parse_retry_after(info.headers, now=now)
        if asked is not None and math.isfinite(asked) and asked > MAX_RETRY_AFTER_DELAY:
            return None
        if asked is not None and 0 <= asked <= MAX_RETRY_AFTER_DELAY:
            return asked
    return min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)


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

    def usable(self, now: float) -> str | None:
        """The token while it has not expired, even when it is due for refresh."""
        return self._token if self._token is not None and now < self._expires_at else None

    def postpone_refresh(self, until: float) -> None:
        """Keeps using the current token until `until` (after a refresh that failed
        for a passing reason), without going past its expiry."""
        self._refresh_at = min(until, self._expires_at)

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
