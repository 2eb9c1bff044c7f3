"""The Bedrock and Vertex rules of the core: base URLs, regions, the choice of
authentication, the AWS shared files and the errors, as the official SDK's
`openai.providers.bedrock()` and `vertex()` decide them."""

from __future__ import annotations

import pytest

from oxide_proto import OpenAIError
from oxide_proto.api._bedrock import (
    bedrock_base_url,
    environment_credentials,
    normalize_base_url,
    parse_bedrock_host,
    profile_credentials,
    profile_region,
    resolve_bedrock,
)
from oxide_proto.api._vertex import checked_vertex_token, vertex_base_url


def test_default_base_urls_by_endpoint_and_partition() -> None:
    assert (
        bedrock_base_url("mantle", "us-west-2")
        == "https://bedrock-mantle.us-west-2.api.aws/openai/v1"
    )
    assert (
        bedrock_base_url("runtime", "us-east-1")
        == "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1"
    )
    assert (
        bedrock_base_url("runtime", "cn-north-1")
        == "https://bedrock-runtime.cn-north-1.amazonaws.com.cn/openai/v1"
    )
    assert parse_bedrock_host("bedrock-runtime.cn-north-1.amazonaws.com.cn") == (
        "runtime",
        "cn-north-1",
    )
    assert parse_bedrock_host("bedrock-runtime-fips.us-east-1.amazonaws.com") == (
        "runtime",
        "us-east-1",
    )
    assert parse_bedrock_host("BEDROCK-MANTLE.eu-west-1.api.aws.") == ("mantle", "eu-west-1")
    assert parse_bedrock_host("bedrock-mantle.us-west-2.amazonaws.com") is None
    assert parse_bedrock_host("127.0.0.1") is None
    assert normalize_base_url("http://h:1/v1/responses/abc/") == "http://h:1/v1"
    assert normalize_base_url("http://h/openai/v1/") == "http://h/openai/v1"


def test_region_and_base_url_from_arguments_then_environment() -> None:
    env = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2"}
    config = resolve_bedrock(env=env, api_key="k")
    assert (config.region, config.base_url) == (
        "eu-west-1",
        "https://bedrock-mantle.eu-west-1.api.aws/openai/v1",
    )
    assert (
        resolve_bedrock(env={"AWS_DEFAULT_REGION": "us-east-2"}, api_key="k").region == "us-east-2"
    )
    assert resolve_bedrock(env=env, region=" ap-south-1 ", api_key="k").region == "ap-south-1"
    # A bearer client with a base URL needs no region.
    config = resolve_bedrock(env={"AWS_BEDROCK_BASE_URL": "http://127.0.0.1:9/v1"}, api_key="k")
    assert (config.base_url, config.region) == ("http://127.0.0.1:9/v1", None)
    # base_url=None ignores the variable.
    config = resolve_bedrock(
        env={"AWS_BEDROCK_BASE_URL": "http://127.0.0.1:9/v1", "AWS_REGION": "us-west-2"},
        base_url_from_env=False,
        api_key="k",
    )
    assert config.base_url == "https://bedrock-mantle.us-west-2.api.aws/openai/v1"
    # A canonical host picks the endpoint and gives its region.
    config = resolve_bedrock(
        env={}, base_url="https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1", api_key="k"
    )
    assert (config.endpoint, config.region, config.service) == ("runtime", "us-east-1", "bedrock")


def test_authentication_choice() -> None:
    env = {"AWS_REGION": "us-west-2", "AWS_BEARER_TOKEN_BEDROCK": "env-token"}
    bearer = resolve_bedrock(env=env)
    assert (bearer.auth, bearer.api_key) == ("bearer", "env-token")
    assert "env-token" not in repr(bearer)
    # api_key=None skips the bearer variable: SigV4 with the default chain.
    signed = resolve_bedrock(env=env, bearer_from_env=False)
    assert (signed.auth, signed.aws_source, signed.service) == (
        "sigv4",
        "default",
        "bedrock-mantle",
    )
    static = resolve_bedrock(env=env, access_key_id="a", secret_access_key="s", session_token="t")
    assert (static.auth, static.aws_source) == ("sigv4", "static")
    assert static.credentials is not None and static.credentials.session_token == "t"
    assert resolve_bedrock(env=env, profile="work").aws_source == "profile"
    assert resolve_bedrock(env=env, has_credential_provider=True).aws_source == "provider"
    provider = resolve_bedrock(env=env, has_token_provider=True)
    assert (provider.auth, provider.api_key) == ("bearer", None)
    # SigV4 may take the profile's configured region.
    assert (
        resolve_bedrock(env={}, profile="p", profile_region="ca-central-1").region == "ca-central-1"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"endpoint": "edge"}, "'mantle' or 'runtime'"),
        ({"region": ""}, "must not be empty"),
        ({"region": "moon-1"}, "not a standard AWS region"),
        ({"base_url": " "}, "must not be empty"),
        ({"base_url": "ftp://h"}, "http"),
        ({"api_key": ""}, "must not be empty"),
        ({"api_key": "k", "has_token_provider": True}, "not both"),
        ({"access_key_id": "a"}, "both"),
        ({"session_token": "t"}, "both"),
        ({"access_key_id": "a", "secret_access_key": "s", "profile": "p"}, "ambiguous"),
        ({"api_key": "k", "profile": "p"}, "ambiguous"),
        ({"api_key": "k"}, "needs an AWS region"),
        ({"has_credential_provider": True}, "needs an AWS region"),
        (
            {"base_url": "http://bedrock-mantle.us-west-2.api.aws/openai/v1", "api_key": "k"},
            "https",
        ),
        (
            {
                "base_url": "https://bedrock-mantle.us-west-2.api.aws/v1",
                "endpoint": "runtime",
                "api_key": "k",
            },
            "endpoint='mantle'",
        ),
        (
            {
                "base_url": "https://bedrock-mantle.us-west-2.api.aws/v1",
                "region": "us-east-1",
                "profile": "p",
            },
            "does not match",
        ),
    ],
)
def test_errors(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(OpenAIError, match=message):
        resolve_bedrock(env={}, **arguments)  # type: ignore[arg-type]


def test_aws_shared_files() -> None:
    credentials = (
        "[default]\naws_access_key_id = AKID1\naws_secret_access_key = s1\n"
        "[role]\nrole_arn = arn:aws:iam::1:role/x\n"
    )
    config = (
        "[default]\nregion = us-east-1\n"
        "[profile work]\nregion = eu-west-3\naws_access_key_id = AKID2\n"
        "aws_secret_access_key = s2\naws_session_token = t2\n"
    )
    found = profile_credentials(credentials, config, "default")
    assert found is not None and found.access_key_id == "AKID1"
    work = profile_credentials(credentials, config, "work")
    assert work is not None and (work.access_key_id, work.session_token) == ("AKID2", "t2")
    assert profile_credentials(credentials, config, "role") is None
    assert profile_credentials("", "", "default") is None
    assert profile_region(config, "work") == "eu-west-3"
    assert profile_region(config, "default") == "us-east-1"
    assert profile_region(config, "none") is None
    with pytest.raises(OpenAIError, match="shared credentials file"):
        profile_credentials("no section header\n", "", "default")
    env = {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SECURITY_TOKEN": "T"}
    from_env = environment_credentials(env)
    assert from_env is not None and from_env.session_token == "T"
    assert environment_credentials({"AWS_ACCESS_KEY_ID": "A"}) is None


def test_vertex_base_url() -> None:
    assert vertex_base_url(env={}, project="p-1", location="us-central1") == (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p-1/locations/us-central1"
        "/publishers/openai/v1"
    )
    env = {"GOOGLE_CLOUD_PROJECT": "example.com:proj", "GOOGLE_CLOUD_LOCATION": "global"}
    assert vertex_base_url(env=env) == (
        "https://aiplatform.googleapis.com/v1/projects/example.com:proj/locations/global"
        "/publishers/openai/v1"
    )
    assert vertex_base_url(env=env, base_url="http://127.0.0.1:1/v1") == "http://127.0.0.1:1/v1"
    for arguments, message in (
        ({"location": "us-central1"}, "project"),
        ({"project": ".."}, "project"),
        ({"project": "p"}, "location"),
        ({"project": "p", "location": "US"}, "location"),
        ({"base_url": "http://us-aiplatform.googleapis.com/v1"}, "https"),
        ({"base_url": "https://user:pw@h/v1"}, "without credentials"),
        ({"base_url": "https://h/v1?x=1"}, "without credentials"),
    ):
        with pytest.raises(OpenAIError, match=message):
            vertex_base_url(env={}, **arguments)
    assert checked_vertex_token("ya29.x") == "ya29.x"
    for bad in ("", "a b", "é", None):
        with pytest.raises(OpenAIError, match="visible ASCII"):
            checked_vertex_token(bad)
