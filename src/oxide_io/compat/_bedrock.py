"""`BedrockOpenAI`: the official SDK's Amazon Bedrock client, on oxide's provider.

The official `openai.BedrockOpenAI(...)` (and `openai.lib.bedrock`) predates
`OpenAI(provider=bedrock(...))` and takes the same choices under other names:
`api_key` or `bedrock_token_provider` for a bearer credential, `aws_region`,
`aws_profile`, `aws_access_key_id` / `aws_secret_access_key` / `aws_session_token`
or `aws_credentials_provider` for SigV4, `base_url` (an empty one: the URL of the
region). These classes translate them into `oxide_io.providers.bedrock()` and are
otherwise oxide's clients; `api_key` and `aws_region` read back what the client
uses. `with_options()` takes the same names and builds the provider again from the
current one and the changes; `provider=`, `admin_api_key`, `workload_identity` and
`data_residency` are refused there, as in the official SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oxide_proto import OpenAIError
from oxide_proto.api._bedrock import bedrock_base_url

from .._options import NOT_GIVEN, NotGiven
from .._sync._provider_auth import provider_options as sync_provider_options
from ..providers import AwsCredentialsProvider, BedrockTokenProvider, Provider, bedrock
from ._clients import OpenAI

__all__ = ["BedrockClientMixin", "BedrockOpenAI", "bedrock_provider", "derive_bedrock"]

_AMBIGUOUS = (
    "Bedrock authentication is ambiguous: give one of a bearer credential (api_key or "
    "bedrock_token_provider), static AWS keys, aws_profile or aws_credentials_provider"
)


def bedrock_provider(
    *,
    api_key: str | None,
    bedrock_token_provider: BedrockTokenProvider | None,
    aws_region: str | None,
    aws_profile: str | None,
    aws_access_key_id: str | None,
    aws_secret_access_key: str | None,
    aws_session_token: str | None,
    aws_credentials_provider: AwsCredentialsProvider | None,
    base_url: str | None,
    sigv4: bool = False,
) -> Provider:
    """The provider the official Bedrock client's arguments describe (`sigv4=True`:
    no bearer token from the environment)."""
    if callable(api_key):
        raise OpenAIError(
            "pass a function returning the Bedrock key as bedrock_token_provider=, not api_key="
        )
    if api_key == "":
        raise OpenAIError("the `api_key` argument must not be empty")
    aws = any(
        value is not None
        for value in (
            aws_profile,
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            aws_credentials_provider,
        )
    )
    if (api_key is not None or bedrock_token_provider is not None) and aws:
        raise OpenAIError(_AMBIGUOUS)
    if api_key is not None and bedrock_token_provider is not None:
        raise OpenAIError(_AMBIGUOUS)
    # "" asks for the region's URL, None lets AWS_BEDROCK_BASE_URL in.
    url: str | NotGiven | None = NOT_GIVEN if base_url is None else (base_url.strip() or None)
    return bedrock(
        region=aws_region,
        base_url=url,
        # AWS credentials given: no bearer token from the environment.
        api_key=None if aws or sigv4 else (NOT_GIVEN if api_key is None else api_key),
        token_provider=bedrock_token_provider,
        access_key_id=aws_access_key_id,
        secret_access_key=aws_secret_access_key,
        session_token=aws_session_token,
        profile=aws_profile,
        credential_provider=aws_credentials_provider,
    )


def refuse_options(
    *,
    api_key: object,
    provider: object,
    admin_api_key: object,
    workload_identity: object,
    data_residency: object,
    name: str,
) -> None:
    """The official Bedrock clients' refusals in `with_options()`."""
    if data_residency is not None:
        raise OpenAIError("`data_residency` is only supported by OpenAI clients")
    if callable(api_key):
        raise OpenAIError(
            "pass a function returning the Bedrock key as bedrock_token_provider=, not api_key="
        )
    if not isinstance(provider, NotGiven):
        raise OpenAIError(f"configure `provider` on an OpenAI client, not on {name}.with_options()")
    if admin_api_key is not None or workload_identity is not None:
        raise OpenAIError(
            f"{name} authenticates with a Bedrock bearer token or AWS credentials only"
        )


def derive_bedrock(current: Provider, changes: Mapping[str, Any]) -> Provider | None:
    """The provider of a derived Bedrock client: `current` with `changes` (the
    Bedrock arguments given to `with_options()`, None for those not given), or
    None when nothing Bedrock-specific changes."""
    given = {name: value for name, value in changes.items() if value is not None}
    if not given:
        return None
    config = current.bedrock
    assert config is not None
    bearer_keys = ("api_key", "bedrock_token_provider")
    aws_keys = (
        "aws_profile",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_credentials_provider",
    )
    settings: dict[str, Any] = dict.fromkeys((*bearer_keys, *aws_keys))
    if any(key in given for key in bearer_keys):
        settings.update({key: given.get(key) for key in bearer_keys})
    elif any(key in given for key in aws_keys):
        settings.update({key: given.get(key) for key in aws_keys})
    elif config.auth == "bearer":
        settings["api_key"] = None if current.token_provider is not None else config.api_key
        settings["bedrock_token_provider"] = current.token_provider
    else:
        credentials = config.credentials
        if credentials is not None:
            settings["aws_access_key_id"] = credentials.access_key_id
            settings["aws_secret_access_key"] = credentials.secret_access_key
            settings["aws_session_token"] = credentials.session_token
        settings["aws_profile"] = config.profile
        settings["aws_credentials_provider"] = current.credential_provider
    region = given.get("aws_region", config.region)
    base_url = given.get("base_url")
    if base_url is None:
        # A URL that was the region's follows a new region; any other one stays.
        derived = config.region is not None and config.base_url == bedrock_base_url(
            config.endpoint, config.region
        )
        base_url = "" if derived else config.base_url
    # A signed client stays signed when only its region or URL changes.
    signed = config.auth == "sigv4" and not any(key in given for key in bearer_keys)
    return bedrock_provider(aws_region=region, base_url=base_url, sigv4=signed, **settings)


class BedrockClientMixin:
    """What the blocking and async Bedrock clients share (see the module)."""

    _options: Any
    # `provider_options` of the client's own driver (blocking or async).
    _provider_options: Any = None

    def __init__(
        self,
        *,
        api_key: str | None = None,
        bedrock_token_provider: BedrockTokenProvider | None = None,
        aws_region: str | None = None,
        aws_profile: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        aws_credentials_provider: AwsCredentialsProvider | None = None,
        base_url: str | None = None,
        **options: Any,
    ) -> None:
        if options.get("_options") is None:
            options["provider"] = bedrock_provider(
                api_key=api_key,
                bedrock_token_provider=bedrock_token_provider,
                aws_region=aws_region,
                aws_profile=aws_profile,
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
                aws_credentials_provider=aws_credentials_provider,
                base_url=base_url,
            )
        options.pop("_enforce_credentials", None)
        super().__init__(**options)

    @property
    def api_key(self) -> str:
        """The Bedrock bearer key in use ("" for a token provider or SigV4)."""
        config = self._options.provider.bedrock
        return config.api_key or ""

    @property
    def aws_region(self) -> str | None:
        return self._options.provider.bedrock.region  # type: ignore[no-any-return]

    def with_options(
        self,
        *,
        api_key: str | None = None,
        bedrock_token_provider: BedrockTokenProvider | None = None,
        aws_region: str | None = None,
        aws_profile: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        aws_credentials_provider: AwsCredentialsProvider | None = None,
        base_url: str | NotGiven | None = NOT_GIVEN,
        provider: object = NOT_GIVEN,
        admin_api_key: str | None = None,
        workload_identity: object = None,
        data_residency: object = None,
        **options: Any,
    ) -> Any:
        """A client with some options changed (the official `copy()` arguments and
        the Bedrock ones), sharing this one's connection pool."""
        refuse_options(
            api_key=api_key,
            provider=provider,
            admin_api_key=admin_api_key,
            workload_identity=workload_identity,
            data_residency=data_residency,
            name=type(self).__name__,
        )
        derived: Any = super().with_options(**options)  # type: ignore[misc]
        swapped = derive_bedrock(
            self._options.provider,
            {
                "api_key": api_key,
                "bedrock_token_provider": bedrock_token_provider,
                "aws_region": aws_region,
                "aws_profile": aws_profile,
                "aws_access_key_id": aws_access_key_id,
                "aws_secret_access_key": aws_secret_access_key,
                "aws_session_token": aws_session_token,
                "aws_credentials_provider": aws_credentials_provider,
                "base_url": None if isinstance(base_url, NotGiven) else base_url,
            },
        )
        if swapped is None:
            return derived
        return type(self)(
            _options=type(self)._provider_options(derived._options, swapped),
            _transport=derived._transport,
        )

    copy = with_options


class BedrockOpenAI(BedrockClientMixin, OpenAI):  # type: ignore[misc,override]
    """Amazon Bedrock's OpenAI-compatible API from blocking code (the official SDK's
    `BedrockOpenAI`): oxide's `Client` with `provider=bedrock(...)`."""

    _provider_options = staticmethod(sync_provider_options)
