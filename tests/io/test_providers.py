"""Cloud providers (`provider=bedrock(...)`, `provider=vertex(...)`) against a real
local server, in every runtime.

The recording server on 127.0.0.1 stands for Bedrock and Vertex: each test reads
what arrived. A SigV4 request is checked on the server's side of the wire: the
signature is computed again from the method, target, headers and body as they
arrived (with the core's `authorization()`, itself checked against AWS's published
examples in tests/proto/test_sigv4.py) and must equal the one sent, so a header
changed or a path encoded differently after signing fails. Bearer tokens, token
providers called per attempt, the refused `Authorization` header, redirects
(none followed by a signed client; credentials never to another origin) and
`with_options(provider=...)` are covered too.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from oxide_io import AsyncClient, Client, OpenAIError
from oxide_io._connect_args import event_socket
from oxide_io.providers import AwsCredentials, bedrock, vertex
from oxide_proto import APIStatusError
from oxide_proto.api._sigv4 import authorization
from tests.io.blocking import unwrap, wrap
from tests.io.recording_server import Recorded, RecordingServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello"}]
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AWS_ENV = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_BEDROCK_BASE_URL",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
)
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@pytest.fixture(autouse=True)
def _no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    # No shared files of the machine's user: an empty home for ~/.aws.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


@pytest.fixture
async def make(runtime: str, anyio_backend: str) -> AsyncIterator[Any]:
    """`make(provider, **options)`: a provider client for the test's runtime."""
    made: list[Any] = []

    def build(provider: Any, **options: Any) -> Any:
        cls = Client if runtime == "sync" else AsyncClient
        client = cls(provider=provider, max_retries=options.pop("max_retries", 0), **options)
        made.append(client)
        return wrap(client) if runtime == "sync" else client

    yield build
    for client in made:
        await client.close() if isinstance(client, AsyncClient) else client.close()


def verify_sigv4(seen: Recorded, *, secret: str = SECRET) -> dict[str, str]:
    """Checks `seen`'s signature as a server would; returns the Authorization's parts."""
    match = _AUTH.fullmatch(seen.headers["authorization"])
    assert match is not None, seen.headers["authorization"]
    parts = match.groupdict()
    assert seen.headers["x-amz-content-sha256"] == hashlib.sha256(seen.body).hexdigest()
    assert seen.headers["x-amz-date"].startswith(parts["date"])
    path, _, query = seen.target.partition("?")
    signed = [(name, seen.headers[name]) for name in parts["signed"].split(";")]
    expected = authorization(
        seen.method,
        path,
        query,
        signed,
        seen.headers["x-amz-content-sha256"],
        credentials=AwsCredentials(access_key_id=parts["key"], secret_access_key=secret),
        region=parts["region"],
        service=parts["service"],
        request_time=seen.headers["x-amz-date"],
    )
    assert seen.headers["authorization"] == expected
    return parts


async def test_sigv4_signed_requests_verify_on_the_server(
    make: Any, recording: RecordingServer
) -> None:
    provider = bedrock(
        region="us-west-2",
        base_url=recording.url + "/openai/v1",
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        session_token="session-token",
    )
    client = make(provider, default_headers={"X-Custom": "a  b"})
    completion = await client.chat.completions.create(
        model="openai.gpt-oss-20b:1", messages=MESSAGES
    )
    assert completion.choices[0].message.content == "hello"
    # A path with a model id holding `:` and a query: signed as they go out.
    await client.get(
        "/models/openai.gpt-oss:1", cast_to=object, options={"params": {"b": "x y", "a": "~1"}}
    )
    first, second = recording.requests
    for seen in (first, second):
        parts = verify_sigv4(seen)
        assert parts["key"] == KEY_ID
        assert parts["region"] == "us-west-2"
        # The Mantle endpoint's signing name, since no endpoint= says otherwise.
        assert parts["service"] == "bedrock-mantle"
        assert {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"} <= set(
            parts["signed"].split(";")
        )
        assert seen.headers["x-amz-security-token"] == "session-token"
        assert "x-custom" in parts["signed"].split(";")
    assert first.path == "/openai/v1/chat/completions"
    assert first.json["model"] == "openai.gpt-oss-20b:1"
    assert second.query == {"b": "x y", "a": "~1"}


async def test_sigv4_runtime_endpoint_signs_for_bedrock_and_retries_sign_again(
    make: Any, recording: RecordingServer
) -> None:
    calls: list[int] = []

    def credentials() -> dict[str, str]:
        calls.append(1)
        return {"access_key_id": f"AKID{len(calls)}", "secret_access_key": SECRET}

    provider = bedrock(
        endpoint="runtime",
        region="eu-central-1",
        base_url=recording.url,
        api_key=None,
        credential_provider=credentials,
    )
    client = make(provider, max_retries=1)
    recording.answers.append((500, {"error": {"message": "try again"}}))
    await client.chat.completions.create(model="m", messages=MESSAGES)
    first, second = recording.requests
    assert [verify_sigv4(seen)["key"] for seen in (first, second)] == ["AKID1", "AKID2"]
    assert verify_sigv4(second)["service"] == "bedrock"
    assert second.headers["x-stainless-retry-count"] == "1"
    assert "x-amz-security-token" not in second.headers


async def test_sigv4_credentials_from_the_environment_and_a_profile(
    make: Any, recording: RecordingServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    await make(bedrock(base_url=recording.url)).models.list()
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = x\n"
        f"[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = {SECRET}\n"
    )
    (tmp_path / "config").write_text("[profile work]\nregion = ap-south-1\n")
    monkeypatch.delenv("AWS_REGION")
    await make(bedrock(profile="work", base_url=recording.url)).models.list()
    env_request, profile_request = recording.requests
    assert verify_sigv4(env_request)["key"] == "AKIDENV"
    parts = verify_sigv4(profile_request)
    assert (parts["key"], parts["region"]) == ("AKIDWORK", "ap-south-1")


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


async def test_sigv4_temporary_environment_keys_are_read_again_before_they_expire(
    make: Any, recording: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As botocore's environment provider: keys with AWS_CREDENTIAL_EXPIRATION are
    # read again once they expire within 15 minutes; still expiring within 10 after
    # that is an error, before anything is sent.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFIRST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-first")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", _iso(time.time() + 3600))
    client = make(bedrock(base_url=recording.url))
    await client.models.list()
    # Rotated in the environment while an hour is left: the keys in hand stay.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECOND")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-second")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", _iso(time.time() + 7200))
    await client.models.list()
    first, kept = recording.requests
    assert verify_sigv4(first)["key"] == verify_sigv4(kept)["key"] == "AKIDFIRST"
    assert kept.headers["x-amz-security-token"] == "token-first"

    recording.clear()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFIRST")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-first")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", _iso(time.time() + 300))
    expiring = make(bedrock(base_url=recording.url))
    # Five minutes left and the environment not renewed: refused, nothing sent.
    with pytest.raises(OpenAIError, match=r"expire at .* and were not replaced"):
        await expiring.models.list()
    assert recording.requests == []
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECOND")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-second")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", _iso(time.time() + 7200))
    await expiring.models.list()
    (renewed,) = recording.requests
    assert verify_sigv4(renewed)["key"] == "AKIDSECOND"
    assert renewed.headers["x-amz-security-token"] == "token-second"
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "next tuesday")
    with pytest.raises(OpenAIError, match="'next tuesday' is not an ISO 8601 time"):
        bedrock(base_url=recording.url)


async def test_sigv4_without_credentials_fails_before_sending(
    make: Any, recording: RecordingServer
) -> None:
    client = make(bedrock(region="us-west-2", base_url=recording.url, api_key=None))
    with pytest.raises(OpenAIError, match="no AWS credentials"):
        await client.models.list()
    assert recording.requests == []


async def test_bearer_token_from_argument_environment_and_provider(
    make: Any, recording: RecordingServer, monkeypatch: pytest.MonkeyPatch, runtime: str
) -> None:
    await make(bedrock(base_url=recording.url, api_key="bedrock-key")).models.list()
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "env-key")
    await make(bedrock(base_url=recording.url)).models.list()
    tokens = iter(["t1", "t2"])

    async def next_token() -> str:
        return next(tokens)

    provider = next_token if runtime != "sync" else (lambda: next(tokens))
    client = make(bedrock(base_url=recording.url, token_provider=provider))
    await client.models.list()
    await client.models.list()
    seen = [r.headers["authorization"] for r in recording.requests]
    assert seen == ["Bearer bedrock-key", "Bearer env-key", "Bearer t1", "Bearer t2"]
    assert not any("x-amz-date" in r.headers for r in recording.requests)


async def test_the_provider_owns_authorization(make: Any, recording: RecordingServer) -> None:
    provider = bedrock(base_url=recording.url, api_key="k")
    with pytest.raises(OpenAIError, match="Authorization"):
        make(provider, default_headers={"Authorization": "Bearer mine"})
    client = make(provider)
    with pytest.raises(OpenAIError, match="authorization"):
        await client.models.list(extra_headers={"Authorization": "Bearer mine"})
    with pytest.raises(OpenAIError, match="api_key"):
        make(provider, api_key="sk")
    assert recording.requests == []


async def test_a_signed_client_follows_no_redirect(make: Any, recording: RecordingServer) -> None:
    provider = bedrock(
        region="us-west-2", base_url=recording.url, access_key_id=KEY_ID, secret_access_key=SECRET
    )
    client = make(provider)
    recording.answers.append((307, {}, {"Location": "http://localhost:1/elsewhere"}))
    with pytest.raises(APIStatusError, match="follows no redirects"):
        await client.models.list()
    assert len(recording.requests) == 1


async def test_a_bearer_redirect_to_another_origin_drops_the_token(
    make: Any, recording: RecordingServer
) -> None:
    client = make(bedrock(base_url=recording.url, api_key="secret-key"))
    other = recording.url.replace("127.0.0.1", "localhost")
    recording.answers.append((307, {}, {"Location": other + "/models"}))
    await client.models.list()
    first, second = recording.requests
    assert first.headers["authorization"] == "Bearer secret-key"
    assert "authorization" not in second.headers


async def test_vertex_token_provider(make: Any, recording: RecordingServer) -> None:
    calls: list[int] = []

    def token() -> str:
        calls.append(1)
        return f"ya29.token{len(calls)}"

    client = make(vertex(base_url=recording.url + "/v1/p/openai/v1", token_provider=token))
    await client.responses.create(model="openai/gpt-oss", input="hi")
    await client.models.list()
    first, second = recording.requests
    assert first.path == "/v1/p/openai/v1/responses"
    assert [first.headers["authorization"], second.headers["authorization"]] == [
        "Bearer ya29.token1",
        "Bearer ya29.token2",
    ]
    assert "openai-organization" not in first.headers


async def test_vertex_refuses_openai_headers_and_bad_tokens(
    make: Any, recording: RecordingServer
) -> None:
    provider = vertex(base_url=recording.url, token_provider=lambda: "bad token")
    client = make(provider)
    with pytest.raises(OpenAIError, match="visible ASCII"):
        await client.models.list()
    client = make(vertex(base_url=recording.url, token_provider=lambda: "t"), organization="org-1")
    with pytest.raises(OpenAIError, match="openai-organization"):
        await client.models.list()
    assert recording.requests == []


async def test_vertex_without_google_auth_names_it(make: Any, recording: RecordingServer) -> None:
    try:
        import google.auth  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("google-auth is installed here")
    client = make(vertex(base_url=recording.url))
    with pytest.raises(OpenAIError, match="google-auth"):
        await client.models.list()
    assert recording.requests == []


async def test_with_options_keeps_changes_and_drops_the_provider(
    make: Any, recording: RecordingServer
) -> None:
    client = make(bedrock(base_url=recording.url, api_key="k1"), organization="org-1")
    same = client.with_options(timeout=5)
    await same.models.list()
    with pytest.raises(OpenAIError, match="base_url"):
        client.with_options(base_url="http://example.com")
    other = client.with_options(provider=bedrock(base_url=recording.url, api_key="k2"))
    await other.models.list()
    plain = client.with_options(provider=None, api_key="sk-openai", base_url=recording.url)
    await plain.models.list()
    seen = [
        (r.headers["authorization"], r.headers.get("openai-organization"))
        for r in recording.requests
    ]
    # A new provider does not inherit the organization; the kept one does.
    assert seen == [("Bearer k1", "org-1"), ("Bearer k2", None), ("Bearer sk-openai", None)]


async def test_provider_clients_open_no_websocket(make: Any, recording: RecordingServer) -> None:
    # Every WebSocket (Realtime, Responses, live) is set up through event_socket().
    client = make(bedrock(base_url=recording.url, api_key="k"))
    with pytest.raises(OpenAIError, match="WebSocket"):
        event_socket(unwrap(client)._options, "/responses", {})


async def test_official_bedrock_clients(
    runtime: str, anyio_backend: str, recording: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oxide_io.compat as compat

    cls: Any = compat.BedrockOpenAI if runtime == "sync" else compat.AsyncBedrockOpenAI
    client = cls(api_key="bedrock-key", base_url=recording.url, max_retries=0)
    assert (client.api_key, client.aws_region) == ("bedrock-key", None)
    signed = client.with_options(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, aws_region="us-west-2"
    )
    assert (signed.api_key, signed.aws_region, type(signed)) == ("", "us-west-2", cls)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "env-key")
    # Only the region changes: still signed, the environment's bearer token unused.
    moved = signed.with_options(aws_region="eu-west-1", timeout=5)
    for each in (client, signed, moved):
        if runtime == "sync":
            each.models.list()
        else:
            await each.models.list()
    plain, first, second = recording.requests
    assert plain.headers["authorization"] == "Bearer bedrock-key"
    assert verify_sigv4(first)["region"] == "us-west-2"
    assert verify_sigv4(second)["region"] == "eu-west-1"
    with pytest.raises(OpenAIError, match="ambiguous"):
        cls(api_key="k", aws_profile="p", base_url=recording.url)
    with pytest.raises(OpenAIError, match="provider"):
        client.with_options(provider=bedrock(base_url=recording.url, api_key="k"))
    with pytest.raises(OpenAIError, match="data_residency"):
        client.with_options(data_residency="eu")
    with pytest.raises(OpenAIError, match="bedrock_token_provider"):
        client.with_options(api_key=lambda: "k")
    if runtime == "sync":
        client.close()
    else:
        await client.close()
