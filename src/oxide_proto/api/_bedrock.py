"""Amazon Bedrock: where a Bedrock client sends its requests and how it authenticates,
as pure functions.

Bedrock serves the OpenAI API at two kinds of endpoint: Mantle
(`https://bedrock-mantle.{region}.api.aws/openai/v1`, signed for the
`bedrock-mantle` service) and Runtime
(`https://bedrock-runtime.{region}.{dns suffix}/openai/v1`, signed for `bedrock`;
the suffix depends on the partition: `amazonaws.com`, `amazonaws.com.cn`, ...).
A request authenticates with a Bedrock API key sent as a bearer token, or with
AWS credentials through SigV4 (`_sigv4`). The rules follow the official SDK's
`openai.providers.bedrock()`:

- the region comes from the argument, then AWS_REGION, then AWS_DEFAULT_REGION
  (and, for SigV4 only, the AWS profile's configured region); a base URL comes
  from the argument, then AWS_BEDROCK_BASE_URL, else from the endpoint and region;
- a base URL on a canonical Bedrock host must be https, of the chosen endpoint's
  kind and in the configured region; its kind picks the endpoint when none is given;
- exactly one way to authenticate: a bearer key (`api_key`), a bearer token
  provider, static AWS keys, an AWS profile, or an AWS credential provider; with
  none of them, AWS_BEARER_TOKEN_BEDROCK, else the default AWS credential chain
  (`api_key=None` skips the bearer variable and asks for SigV4);
- the AWS shared files (`~/.aws/credentials`, `~/.aws/config`) are INI text whose
  profiles `profile_credentials()` reads; the driver reads the files.

The environment and the files' text are passed in: these functions read nothing.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from ..base._errors import OpenAIError
from ..base._record import field, frozen
from ._sigv4 import AwsCredentials

__all__ = [
    "CREDENTIALS_ADVISORY_REFRESH",
    "CREDENTIALS_MANDATORY_REFRESH",
    "AwsSource",
    "BedrockConfig",
    "BedrockEndpoint",
    "bedrock_base_url",
    "check_region",
    "credentials_expiry",
    "environment_credentials",
    "normalize_base_url",
    "parse_bedrock_host",
    "profile_credentials",
    "profile_region",
    "resolve_bedrock",
]

BedrockEndpoint = Literal["mantle", "runtime"]
# Where SigV4 credentials come from: keys given, a profile, a provider callable,
# or the default chain (environment keys, then the default profile).
AwsSource = Literal["static", "profile", "provider", "default"]

# A standard AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
_REGION = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]+)+-\d+")
# Partition prefix -> (the Runtime host's DNS suffix, the dual-stack suffix).
_PARTITIONS = (
    ("cn-", ("amazonaws.com.cn", "api.amazonwebservices.com.cn")),
    ("eusc-", ("amazonaws.eu", "api.amazonwebservices.eu")),
    ("us-iso-", ("c2s.ic.gov", "api.aws.ic.gov")),
    ("us-isob-", ("sc2s.sgov.gov", "api.aws.scloud")),
    ("eu-isoe-", ("cloud.adc-e.uk", "api.cloud-aws.adc-e.uk")),
    ("us-isof-", ("csp.hci.ic.gov", "api.aws.hci.ic.gov")),
)
_COMMERCIAL = ("amazonaws.com", "api.aws")
_SIGNING_SERVICE: dict[BedrockEndpoint, str] = {"mantle": "bedrock-mantle", "runtime": "bedrock"}


def _runtime_suffixes(region: str) -> tuple[str, str]:
    for prefix, suffixes in _PARTITIONS:
        if region.startswith(prefix):
            return suffixes
    return _COMMERCIAL


def check_region(region: str | None) -> None:
    """Raises `OpenAIError` unless `region` is None or a standard AWS region name."""
    if region is not None and _REGION.fullmatch(region) is None:
        raise OpenAIError(
            f"the Bedrock AWS region {region!r} is not a standard AWS region (such as us-east-1)"
        )


def bedrock_base_url(endpoint: BedrockEndpoint, region: str) -> str:
    """The default base URL of `endpoint` in `region`."""
    if endpoint == "runtime":
        host = f"bedrock-runtime.{region}.{_runtime_suffixes(region)[0]}"
    else:
        host = f"bedrock-mantle.{region}.api.aws"
    return f"https://{host}/openai/v1"


def parse_bedrock_host(host: str) -> tuple[BedrockEndpoint, str] | None:
    """(endpoint, region) of a canonical Bedrock host name, or None for any other host."""
    service, dot, rest = host.rstrip(".").lower().partition(".")
    region, dot2, suffix = rest.partition(".")
    if not dot or not dot2 or _REGION.fullmatch(region) is None:
        return None
    if service == "bedrock-mantle" and suffix == "api.aws":
        return "mantle", region
    if service in ("bedrock-runtime", "bedrock-runtime-fips") and suffix in _runtime_suffixes(
        region
    ):
        return "runtime", region
    return None


def normalize_base_url(url: str) -> str:
    """`url` without a trailing `/` and without a trailing `/responses...` (a
    Responses URL given as the base is cut back to the API root)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise OpenAIError(f"the Bedrock base_url {url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpenAIError(f"the Bedrock base_url {url!r} must be an http(s) URL with a host")
    path = parts.path.rstrip("/")
    found = re.search(r"/responses(?:/.*)?$", path)
    if found is not None:
        path = path[: found.start()]
    return urlunsplit((parts.scheme, parts.netloc, path or "", parts.query, parts.fragment))


def _optional(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise OpenAIError(f"the Bedrock `{name}` must not be empty")
    return value.strip()


@frozen(kw_only=True)
class BedrockConfig:
    """A resolved Bedrock configuration: where requests go and how they authenticate.

    `auth` is "bearer" (`api_key`, or a token provider the driver holds when
    `api_key` is None) or "sigv4" (credentials from `aws_source`, signed for
    `service` in `region`).
    """

    endpoint: BedrockEndpoint
    base_url: str
    region: str | None
    auth: Literal["bearer", "sigv4"]
    service: str
    api_key: str | None = field(default=None, repr=False)
    aws_source: AwsSource | None = None
    profile: str | None = None
    credentials: AwsCredentials | None = field(default=None, repr=False)


def resolve_bedrock(
    *,
    env: Mapping[str, str],
    endpoint: str | None = None,
    region: str | None = None,
    base_url: str | None = None,
    base_url_from_env: bool = True,
    api_key: str | None = None,
    bearer_from_env: bool = True,
    has_token_provider: bool = False,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
    profile: str | None = None,
    has_credential_provider: bool = False,
    profile_region: str | None = None,
) -> BedrockConfig:
    """The configuration `bedrock(...)` describes, with the environment `env`.

    `base_url_from_env=False` (an explicit `base_url=None`) ignores
    AWS_BEDROCK_BASE_URL; `bearer_from_env=False` (an explicit `api_key=None`)
    ignores AWS_BEARER_TOKEN_BEDROCK. `profile_region` is the region the AWS
    config file gives the profile in use, the last place a SigV4 client looks.
    Raises `OpenAIError` for a configuration that is wrong or ambiguous.
    """
    if endpoint is not None and endpoint not in ("mantle", "runtime"):
        raise OpenAIError(f"the Bedrock endpoint must be 'mantle' or 'runtime', not {endpoint!r}")
    region = _optional(region, "region")
    check_region(region)
    configured: str | None
    if base_url is not None:
        if not base_url.strip():
            raise OpenAIError("the Bedrock `base_url` must not be empty")
        configured = normalize_base_url(base_url)
    elif base_url_from_env and (env.get("AWS_BEDROCK_BASE_URL") or "").strip():
        configured = normalize_base_url(env["AWS_BEDROCK_BASE_URL"])
    else:
        configured = None
    canonical = parse_bedrock_host(urlsplit(configured).hostname or "") if configured else None
    chosen: BedrockEndpoint = "mantle"
    if endpoint == "runtime":
        chosen = "runtime"
    elif endpoint is None and canonical is not None:
        chosen = canonical[0]

    profile = _optional(profile, "profile")
    if (access_key_id is None) != (secret_access_key is None) or (
        session_token is not None and access_key_id is None
    ):
        raise OpenAIError(
            "static AWS credentials need both `access_key_id` and `secret_access_key` "
            "(and a `session_token` only with both)"
        )
    credentials = None
    if access_key_id is not None and secret_access_key is not None:
        credentials = AwsCredentials(
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
        )
    if api_key is not None and not api_key.strip():
        raise OpenAIError("the Bedrock bearer credential (`api_key`) must not be empty")
    if api_key is not None and has_token_provider:
        raise OpenAIError("pass `api_key` or `token_provider` to bedrock(), not both")
    explicit_bearer = api_key is not None or has_token_provider
    aws_modes = (credentials is not None) + (profile is not None) + has_credential_provider
    if aws_modes > 1:
        raise OpenAIError(
            "Bedrock authentication is ambiguous: give one of static AWS credentials, "
            "`profile` or `credential_provider`"
        )
    if explicit_bearer and aws_modes:
        raise OpenAIError(
            "Bedrock authentication is ambiguous: give a bearer credential (`api_key` or "
            "`token_provider`) or AWS credentials, not both"
        )
    env_token = (env.get("AWS_BEARER_TOKEN_BEDROCK") or "") if bearer_from_env else ""
    bearer = explicit_bearer or (not aws_modes and bool(env_token))
    if api_key is None and bearer and not has_token_provider:
        api_key = env_token

    # A bearer client with a base URL needs no region; anything else looks for one.
    if region is None and (configured is None or not bearer):
        region = _optional(env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"), "region")
        check_region(region)
        if region is None and not bearer:
            region = _optional(profile_region, "region")
            check_region(region)
    if configured is not None and canonical is not None:
        family, host_region = canonical
        if urlsplit(configured).scheme != "https":
            raise OpenAIError("a canonical Amazon Bedrock endpoint must be reached over https")
        if family != chosen:
            raise OpenAIError(
                f"the Bedrock {family} host does not match the `{chosen}` endpoint; "
                f"pass endpoint={family!r} to use it"
            )
        if region is not None and host_region != region:
            raise OpenAIError(
                f"the Bedrock endpoint's region {host_region!r} does not match the "
                f"configured AWS region {region!r}"
            )
        if region is None:
            region = host_region
    if configured is None:
        if region is None:
            raise OpenAIError(
                "Bedrock needs an AWS region: pass region= to bedrock(), or set AWS_REGION "
                "or AWS_DEFAULT_REGION"
            )
        configured = bedrock_base_url(chosen, region)
    if not bearer and region is None:
        raise OpenAIError(
            "Bedrock SigV4 signing needs an AWS region: pass region= to bedrock(), or set "
            "AWS_REGION or AWS_DEFAULT_REGION"
        )
    source: AwsSource | None = None
    if not bearer:
        if credentials is not None:
            source = "static"
        elif profile is not None:
            source = "profile"
        elif has_credential_provider:
            source = "provider"
        else:
            source = "default"
    return BedrockConfig(
        endpoint=chosen,
        base_url=configured,
        region=region,
        auth="bearer" if bearer else "sigv4",
        service=_SIGNING_SERVICE[chosen],
        api_key=api_key if bearer else None,
        aws_source=source,
        profile=profile,
        credentials=credentials,
    )


def environment_credentials(env: Mapping[str, str]) -> AwsCredentials | None:
    """The keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN,
    or the older AWS_SECURITY_TOKEN), or None when either key is unset."""
    key_id = (env.get("AWS_ACCESS_KEY_ID") or "").strip()
    secret = (env.get("AWS_SECRET_ACCESS_KEY") or "").strip()
    if not key_id or not secret:
        return None
    token = (env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or "").strip()
    return AwsCredentials(
        access_key_id=key_id, secret_access_key=secret, session_token=token or None
    )


# Temporary keys are read again this long before they expire (botocore's windows):
# within the advisory window a failed refresh keeps the keys in hand, within the
# mandatory one it is an error.
CREDENTIALS_ADVISORY_REFRESH = 15 * 60
CREDENTIALS_MANDATORY_REFRESH = 10 * 60


def credentials_expiry(env: Mapping[str, str]) -> float | None:
    """When the environment's keys expire (AWS_CREDENTIAL_EXPIRATION, an ISO 8601
    time such as `2026-01-01T12:00:00Z`), as UNIX seconds; None when it is unset.
    A value that is no such time is an `OpenAIError` naming it."""
    text = (env.get("AWS_CREDENTIAL_EXPIRATION") or "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise OpenAIError(
            f"AWS_CREDENTIAL_EXPIRATION {text!r} is not an ISO 8601 time "
            "(such as 2026-01-01T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # as botocore reads a time without a zone
    return when.timestamp()


def _sections(text: str, source: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(default_section="\0none")
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        raise OpenAIError(f"cannot read the AWS {source}: {exc}") from None
    return parser


def _profile_items(text: str, source: str, names: tuple[str, ...]) -> dict[str, str] | None:
    parser = _sections(text, source)
    for name in names:
        if parser.has_section(name):
            return {key.lower(): value.strip() for key, value in parser.items(name)}
    return None


def profile_credentials(
    credentials_text: str, config_text: str, profile: str
) -> AwsCredentials | None:
    """The static keys of `profile` in the AWS shared credentials file (section
    `[name]`) or, failing that, the config file (`[profile name]`, or `[default]`).

    None when neither file gives the profile keys; a profile that exists there
    without keys (one that assumes a role or signs in through SSO) is also None:
    such credentials need the AWS SDK, given as `credential_provider=`.
    """
    for text, source, names in (
        (credentials_text, "shared credentials file", (profile,)),
        (config_text, "config file", (f"profile {profile}", profile)),
    ):
        if not text:
            continue
        items = _profile_items(text, source, names)
        if items and items.get("aws_access_key_id") and items.get("aws_secret_access_key"):
            token = items.get("aws_session_token") or items.get("aws_security_token")
            return AwsCredentials(
                access_key_id=items["aws_access_key_id"],
                secret_access_key=items["aws_secret_access_key"],
                session_token=token or None,
            )
    return None


def profile_region(config_text: str, profile: str) -> str | None:
    """The `region` the AWS config file gives `profile`, or None."""
    if not config_text:
        return None
    items = _profile_items(config_text, "config file", (f"profile {profile}", profile))
    region = (items or {}).get("region")
    return region or None
