"""A provider client's authentication, carried out on each attempt of each request.

A client made with `provider=bedrock(...)` or `provider=vertex(...)` sends no
OpenAI key: before each attempt, `AsyncProviderAuth.prepare()` takes the request
the core built and returns it authenticated, with a bearer token (a Bedrock API
key, a Google access token; a token provider is called each time) or an AWS
SigV4 signature (the core's `sign_request`, with the wall clock as `now`).

The request must not carry its own `Authorization` (from `default_headers` or
`extra_headers`): the provider owns it, and mixing the two would send a
credential the caller did not mean to. A Vertex request must not carry the
OpenAI `api-key`, organization or project headers either. `provider_options()`
puts a provider on a client's options: its base URL, no OpenAI key, and no
redirects for a signed or Google-authenticated client (a signature does not
survive a redirect, and the official SDK follows none there either).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from oxide_proto import OpenAIError, Request
from oxide_proto.api._azure import checked_token
from oxide_proto.api._bedrock import (
    CREDENTIALS_ADVISORY_REFRESH,
    CREDENTIALS_MANDATORY_REFRESH,
    credentials_expiry,
    environment_credentials,
)
from oxide_proto.api._sigv4 import AwsCredentials, sign_request
from oxide_proto.api._vertex import checked_vertex_token
from oxide_proto.base import replace

from .._options import ClientOptions
from ..providers import Provider, in_worker_thread

__all__ = ["AsyncProviderAuth", "check_provider_conflicts", "provider_options"]

_AWS_PROVIDER = "the AWS credential provider"
_GOOGLE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Headers a Vertex request may not carry: the OpenAI account's, which Vertex does not take.
_VERTEX_REFUSED = ("authorization", "api-key", "openai-organization", "openai-project")


def check_provider_conflicts(provider_name: str, **given: object) -> None:
    """Raises `OpenAIError` when a client option that a provider decides is given too."""
    conflicts = [name for name, value in given.items() if value is not None]
    if conflicts:
        names = ", ".join(f"`{name}`" for name in conflicts)
        raise OpenAIError(
            f"`provider` cannot be combined with {names}: the provider decides the "
            f"authentication and base URL; configure them in {provider_name}(...)"
        )


def provider_options(options: ClientOptions, provider: object) -> ClientOptions:
    """`options` with `provider`'s base URL and authentication in place of an OpenAI key."""
    if not isinstance(provider, Provider):
        raise OpenAIError(
            f"provider= takes what oxide_io.providers.bedrock() or vertex() returns, not "
            f"{type(provider).__name__}"
        )
    for name in options.default_headers:
        if name.lower() == "authorization":
            raise OpenAIError(
                f"a {provider.name} client authenticates through its provider; remove the "
                "Authorization header from default_headers"
            )
    signed = provider.name == "vertex" or (
        provider.bedrock is not None and provider.bedrock.auth == "sigv4"
    )
    return replace(
        options,
        api_key="",
        api_key_provider=None,
        admin_api_key=None,
        base_url=provider.base_url,
        provider=provider,
        provider_auth=AsyncProviderAuth(provider),
        follow_redirects=not signed,
    )


def _credentials_from(value: object) -> AwsCredentials:
    """AWS credentials from what a credential provider returned."""
    if isinstance(value, AwsCredentials):
        return value
    frozen = getattr(value, "get_frozen_credentials", None)
    if callable(frozen):
        value = frozen()
    if isinstance(value, Mapping):
        key_id = value.get("access_key_id")
        secret = value.get("secret_access_key")
        token = value.get("session_token")
    else:
        key_id = getattr(value, "access_key", None)
        secret = getattr(value, "secret_key", None)
        token = getattr(value, "token", None)
    if not isinstance(key_id, str) or not isinstance(secret, str):
        raise OpenAIError(
            "the AWS credential provider must return AwsCredentials, a mapping with "
            "access_key_id and secret_access_key, or botocore credentials, not "
            f"{type(value).__name__}"
        )
    return AwsCredentials(
        access_key_id=key_id,
        secret_access_key=secret,
        session_token=token if isinstance(token, str) and token else None,
    )


def _awaited_in_blocking_code(value: object, what: str) -> object:
    # A blocking client cannot await a coroutine function's result.
    close = getattr(value, "close", None)
    if callable(close):
        close()
    raise OpenAIError(f"{what} returned an awaitable: an async function needs the async client")


def _google_token(credentials: Any) -> tuple[Any, str]:
    """(credentials, a valid access token) from google-auth, refreshed when needed."""
    try:
        import google.auth
        import google.auth.credentials
        from google.auth.transport.requests import Request as GoogleRequest
    except ImportError as exc:
        raise OpenAIError(
            "Vertex authentication without token_provider= needs the google-auth package "
            "with requests (pip install 'google-auth[requests]'), which oxide does not "
            "install; or pass token_provider= to vertex()"
        ) from exc
    try:
        if credentials is None:
            credentials, _ = google.auth.default(scopes=list(_GOOGLE_SCOPES))
        else:
            credentials = google.auth.credentials.with_scopes_if_required(
                credentials, scopes=list(_GOOGLE_SCOPES)
            )
        if not credentials.valid:
            credentials.refresh(GoogleRequest())
        token = credentials.token
    except OpenAIError:
        raise
    except Exception as exc:
        # google-auth's errors may quote a private key or a request body: keep only the type.
        raise OpenAIError(
            f"Vertex Google authentication failed ({type(exc).__name__}); check the "
            "application default credentials, the project's access and their expiry"
        ) from None
    return credentials, checked_vertex_token(token)


class AsyncProviderAuth:
    """Authenticates each attempt of a provider client's requests (see the module)."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        # google-auth credentials once found (application default ones are looked up once).
        self._google: Any = provider.google_credentials
        # The last SigV4 signing key (one per secret, day, region and service).
        self._signing_keys: dict[tuple[str, str, str, str], bytes] = {}
        # The environment's keys and their expiry, read again as it nears.
        self._found = provider.found_credentials
        self._expiry = provider.found_expiry

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.provider,))

    async def prepare(self, request: Request) -> Request:
        """`request` with this attempt's credentials."""
        provider = self.provider
        refused = _VERTEX_REFUSED if provider.name == "vertex" else ("authorization",)
        for name in refused:
            if name in request.headers:
                raise OpenAIError(
                    f"a {provider.name} client authenticates through its provider; the "
                    f"request may not carry its own `{name}` header"
                )
        config = provider.bedrock
        if config is not None and config.auth == "sigv4":
            assert config.region is not None  # resolve_bedrock() makes sure of it
            credentials = await self._aws_credentials()
            return sign_request(
                request,
                credentials,
                region=config.region,
                service=config.service,
                now=time.time(),
                keys=self._signing_keys,
            )
        if config is not None and config.api_key is not None:
            token = config.api_key
        elif provider.token_provider is not None:
            token = await self._call_token_provider()
        else:
            # unasync: self._google, token = _google_token(self._google)
            self._google, token = await in_worker_thread(_google_token, self._google)
        pairs = [*request.headers.multi_items(), ("authorization", f"Bearer {token}")]
        headers = type(request.headers)(pairs)
        return Request(request.method, request.url, headers, request.body, request.content_length)

    async def _call_token_provider(self) -> str:
        provider = self.provider
        what = f"the {provider.name} token provider"
        assert provider.token_provider is not None
        try:
            value: object = provider.token_provider()
            if hasattr(value, "__await__"):
                # unasync: value = _awaited_in_blocking_code(value, what)
                value = await value
        except OpenAIError:
            raise
        except Exception as exc:
            raise OpenAIError(f"{what} failed ({type(exc).__name__}: {exc})") from exc
        if provider.name == "vertex":
            return checked_vertex_token(value)
        return checked_token(value, what)

    async def _aws_credentials(self) -> AwsCredentials:
        provider = self.provider
        config = provider.bedrock
        assert config is not None
        if config.credentials is not None:
            return config.credentials
        if provider.credential_provider is not None:
            try:
                value: object = provider.credential_provider()
                if hasattr(value, "__await__"):
                    # unasync: value = _awaited_in_blocking_code(value, _AWS_PROVIDER)
                    value = await value
            except OpenAIError:
                raise
            except Exception as exc:
                raise OpenAIError(
                    f"the AWS credential provider failed ({type(exc).__name__}: {exc})"
                ) from exc
            return _credentials_from(value)
        if self._found is not None:
            if self._expiry is not None:
                self._refresh_from_environment(time.time())
            return self._found
        where = f"the profile {config.profile!r}" if config.profile else "the environment"
        raise OpenAIError(
            f"no AWS credentials for Bedrock in {where}: set AWS_BEARER_TOKEN_BEDROCK, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or keys in ~/.aws/credentials; "
            "or pass api_key=, access_key_id=/secret_access_key=, or credential_provider= "
            "(such as botocore.session.Session().get_credentials) to bedrock()"
        )

    def _refresh_from_environment(self, now: float) -> None:
        """Reads temporary keys of the environment again when they expire within
        the advisory window (AWS_CREDENTIAL_EXPIRATION), as botocore does: new keys
        with a later expiry replace them; keys still expiring within the mandatory
        window are an `OpenAIError`, before anything is signed with them."""
        expiry = self._expiry
        if expiry is None or expiry - now >= CREDENTIALS_ADVISORY_REFRESH:
            return
        found = environment_credentials(os.environ)
        later = credentials_expiry(os.environ) if found is not None else None
        if found is not None and (later is None or later > expiry):
            self._found, self._expiry = found, later
            expiry = later
        if expiry is not None and expiry - now < CREDENTIALS_MANDATORY_REFRESH:
            raise OpenAIError(
                "the AWS credentials from the environment expire at "
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(expiry))} and were not "
                "replaced: set new AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / "
                "AWS_SESSION_TOKEN with a later AWS_CREDENTIAL_EXPIRATION, or pass "
                "credential_provider= to bedrock()"
            )
