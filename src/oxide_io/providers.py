"""Cloud providers that serve the OpenAI API: `bedrock()` and `vertex()`.

    from oxide_io import Client
    from oxide_io.providers import bedrock

    client = Client(provider=bedrock(region="us-west-2"))

A provider decides the client's base URL and how every request authenticates, in
place of an OpenAI key: Amazon Bedrock with a Bedrock API key (a bearer token) or
AWS credentials (each request signed with AWS Signature Version 4), Google Vertex
AI with a Google access token. They are the official SDK's
`openai.providers.bedrock()` and `vertex()`, with the same arguments and
environment variables.

This module reads the environment and the AWS shared files when a provider is
made; the rules themselves are pure (`oxide_proto.api._bedrock`, `_vertex`,
`_sigv4`), and the clients carry them out per request
(`oxide_io._async._provider_auth`).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from oxide_proto import OpenAIError
from oxide_proto.api._bedrock import (
    BedrockConfig,
    credentials_expiry,
    environment_credentials,
    profile_credentials,
    profile_region,
    resolve_bedrock,
)
from oxide_proto.api._sigv4 import AwsCredentials
from oxide_proto.api._vertex import vertex_base_url
from oxide_proto.base import field, frozen

from ._options import NOT_GIVEN, NotGiven

_T = TypeVar("_T")

__all__ = [
    "AwsCredentials",
    "AwsCredentialsProvider",
    "BedrockEndpoint",
    "BedrockTokenProvider",
    "Provider",
    "VertexTokenProvider",
    "bedrock",
    "vertex",
]

BedrockEndpoint = Literal["mantle", "runtime"]
# A function returning a Bedrock API key (or, on an async client, a coroutine for one),
# called before every attempt of every request.
BedrockTokenProvider = Callable[[], "str | Awaitable[str]"]
# A function returning AWS credentials, called before every attempt: an
# `AwsCredentials`, a mapping with `access_key_id`, `secret_access_key` and
# `session_token`, or an object with botocore's `access_key`, `secret_key` and
# `token` (or its `get_frozen_credentials()`), such as
# `botocore.session.Session().get_credentials`.
AwsCredentialsProvider = Callable[[], object]
# A function returning a Google OAuth access token (or a coroutine for one).
VertexTokenProvider = Callable[[], "str | Awaitable[str]"]


@frozen(kw_only=True)
class Provider:
    """A cloud provider's configuration, from `bedrock()` or `vertex()`: give it to a
    client as `provider=`. Its repr names the provider and base URL, no credential."""

    name: Literal["bedrock", "vertex"]
    base_url: str
    bedrock: BedrockConfig | None = field(default=None, repr=False)
    token_provider: Callable[[], object] | None = field(default=None, repr=False)
    credential_provider: AwsCredentialsProvider | None = field(default=None, repr=False)
    # SigV4 from the environment or a profile: the keys found when the provider was
    # made (None: none found; the first request says so).
    found_credentials: AwsCredentials | None = field(default=None, repr=False)
    # When the environment's keys expire (AWS_CREDENTIAL_EXPIRATION), for keys found
    # there: the client reads the environment again before then, as botocore does.
    found_expiry: float | None = field(default=None, repr=False)
    # Vertex through google-auth: the credentials given, or None for ADC.
    google_credentials: Any = field(default=None, repr=False)


async def in_worker_thread(function: Callable[..., _T], *args: object) -> _T:
    """`function(*args)` run in a worker thread, for the async clients: google-auth
    refreshes a token with blocking HTTP, which must not stall the event loop."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(function, *args)


def _read(path: str) -> str:
    try:
        return pathlib.Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise OpenAIError(f"cannot read the AWS file {path}: {exc}") from exc


def _aws_files() -> tuple[str, str]:
    # The locations the AWS SDKs use, moved by the same variables.
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    config = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    return _read(credentials), _read(config)


def bedrock(
    *,
    endpoint: BedrockEndpoint | None = None,
    region: str | None = None,
    base_url: str | NotGiven | None = NOT_GIVEN,
    api_key: str | NotGiven | None = NOT_GIVEN,
    token_provider: BedrockTokenProvider | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
    profile: str | None = None,
    credential_provider: AwsCredentialsProvider | None = None,
) -> Provider:
    """Amazon Bedrock's OpenAI-compatible API, at its Mantle endpoint (the default)
    or its Runtime endpoint (`endpoint="runtime"`).

    `region` defaults to AWS_REGION, then AWS_DEFAULT_REGION; `base_url` to
    AWS_BEDROCK_BASE_URL, else the endpoint's URL in the region. Authenticate
    with one of: `api_key` (a Bedrock API key, sent as a bearer token),
    `token_provider` (a function returning one, called per attempt), static AWS
    keys (`access_key_id`, `secret_access_key`, optionally `session_token`), an
    AWS `profile` of the shared files, or a `credential_provider` function. With
    none, AWS_BEARER_TOKEN_BEDROCK is the bearer token, else requests are signed
    (SigV4) with the keys of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    AWS_SESSION_TOKEN, else of the AWS_PROFILE (or default) profile; `api_key=None`
    skips AWS_BEARER_TOKEN_BEDROCK. Keys from the environment and the files are
    read here; temporary keys of the environment with AWS_CREDENTIAL_EXPIRATION
    are read again from it before they expire (botocore's rule). A signed client
    follows no redirect. Raises `OpenAIError` for a missing region or an ambiguous
    or empty credential.
    """
    if callable(api_key):
        raise OpenAIError(
            "pass a function returning the Bedrock key as token_provider=, not api_key="
        )
    if token_provider is not None and not callable(token_provider):
        raise TypeError("token_provider must be a function returning the Bedrock API key")
    if credential_provider is not None and not callable(credential_provider):
        raise TypeError("credential_provider must be a function returning AWS credentials")
    env = os.environ
    chosen_profile = profile.strip() if profile and profile.strip() else None
    needs_files = (
        access_key_id is None
        and token_provider is None
        and credential_provider is None
        and (api_key is None or isinstance(api_key, NotGiven))
    )
    credentials_text = config_text = ""
    if needs_files:
        credentials_text, config_text = _aws_files()
    active_profile = chosen_profile or (env.get("AWS_PROFILE") or "").strip() or "default"
    config = resolve_bedrock(
        env=env,
        endpoint=endpoint,
        region=region,
        base_url=None if isinstance(base_url, NotGiven) else base_url,
        base_url_from_env=isinstance(base_url, NotGiven),
        api_key=None if isinstance(api_key, NotGiven) else api_key,
        bearer_from_env=isinstance(api_key, NotGiven),
        has_token_provider=token_provider is not None,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        session_token=session_token,
        profile=profile,
        has_credential_provider=credential_provider is not None,
        profile_region=profile_region(config_text, active_profile) if config_text else None,
    )
    found: AwsCredentials | None = None
    expiry: float | None = None
    if config.aws_source == "profile":
        found = profile_credentials(credentials_text, config_text, active_profile)
    elif config.aws_source == "default":
        found = environment_credentials(env)
        if found is not None:
            expiry = credentials_expiry(env)
        else:
            found = profile_credentials(credentials_text, config_text, active_profile)
    return Provider(
        name="bedrock",
        base_url=config.base_url,
        bedrock=config,
        token_provider=token_provider,
        credential_provider=credential_provider,
        found_credentials=found,
        found_expiry=expiry,
    )


def vertex(
    *,
    project: str | None = None,
    location: str | None = None,
    base_url: str | None = None,
    token_provider: VertexTokenProvider | None = None,
    credentials: Any = None,
) -> Provider:
    """Google Vertex AI's OpenAI-compatible API for a project and location.

    `project` and `location` default to GOOGLE_CLOUD_PROJECT and
    GOOGLE_CLOUD_LOCATION; an explicit `base_url` is the whole API root and
    replaces both. `token_provider` returns a Google OAuth access token (a
    coroutine function on an async client, where a plain one must not block),
    called before every attempt. Without it, the access token comes from
    google-auth: the `credentials` given, or the application default credentials,
    refreshed when they expire; google-auth is not a dependency of oxide, and a
    client that needs it without it installed raises `OpenAIError` naming it.
    A Vertex client follows no redirect and sends no OpenAI organization or
    project header.
    """
    if token_provider is not None and credentials is not None:
        raise OpenAIError("pass token_provider= or credentials= to vertex(), not both")
    if token_provider is not None and not callable(token_provider):
        raise TypeError("token_provider must be a function returning a Google access token")
    url = vertex_base_url(env=os.environ, project=project, location=location, base_url=base_url)
    return Provider(
        name="vertex",
        base_url=url,
        token_provider=token_provider,
        google_credentials=credentials,
    )
