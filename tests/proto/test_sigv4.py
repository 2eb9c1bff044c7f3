"""AWS Signature Version 4 in the core, against AWS's published examples.

The expected values are the facts of AWS's SigV4 test suite (its requests are
signed with the example key `AKIDEXAMPLE` for region us-east-1, service
`service`, at 2015-08-30T12:36:00Z) and of AWS's signing-key derivation example
(2012-02-15, us-east-1, iam). Each step is checked on its own, then the whole of
`sign_request()`.
"""

from __future__ import annotations

import hashlib

import pytest

from oxide_proto import OpenAIError
from oxide_proto.api._sigv4 import (
    EMPTY_SHA256,
    AwsCredentials,
    amz_date,
    authorization,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    payload_hash,
    sign_request,
    signing_key,
    string_to_sign,
)
from oxide_proto.base._headers import Headers
from oxide_proto.base._types import Request
from oxide_proto.base._url import parse_url

EXAMPLE = AwsCredentials(
    access_key_id="AKIDEXAMPLE", secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)
WHEN = "20150830T123600Z"
# 2015-08-30T12:36:00Z as UNIX seconds.
NOW = 1_440_938_160
SUITE_HEADERS = [("Host", "example.amazonaws.com"), ("X-Amz-Date", WHEN)]
PREFIX = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature="
)


def _suite(method: str, path: str, query: str = "") -> str:
    return authorization(
        method,
        path,
        query,
        SUITE_HEADERS,
        EMPTY_SHA256,
        credentials=EXAMPLE,
        region="us-east-1",
        service="service",
        request_time=WHEN,
    )


@pytest.mark.parametrize(
    ("name", "method", "path", "query", "signature"),
    [
        (
            "get-vanilla",
            "GET",
            "/",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "get-vanilla-query-order-key-case",
            "GET",
            "/",
            "Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        (
            "post-vanilla",
            "POST",
            "/",
            "",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
        (
            "get-utf8",
            "GET",
            "/ሴ",
            "",
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        ),
    ],
)
def test_aws_test_suite(name: str, method: str, path: str, query: str, signature: str) -> None:
    assert _suite(method, path, query) == PREFIX + signature


def test_get_vanilla_step_by_step() -> None:
    canonical, signed = canonical_request("GET", "/", "", SUITE_HEADERS, EMPTY_SHA256)
    assert canonical == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        f"host;x-amz-date\n{EMPTY_SHA256}"
    )
    assert signed == "host;x-amz-date"
    text = string_to_sign(WHEN, "20150830/us-east-1/service/aws4_request", canonical)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert text == f"AWS4-HMAC-SHA256\n{WHEN}\n20150830/us-east-1/service/aws4_request\n{digest}"


def test_signing_key_derivation_example() -> None:
    # AWS's worked example of deriving a signing key.
    key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_canonical_pieces() -> None:
    assert canonical_uri("") == "/"
    assert canonical_uri("/example space/") == "/example%20space/"
    assert canonical_uri("/a/./b/../c") == "/a/c"
    assert canonical_uri("/a/b/..") == "/a/"
    # The wire path is encoded once already; AWS signs it encoded again.
    assert canonical_uri("/model/m%3A1/invoke") == "/model/m%253A1/invoke"
    assert canonical_uri("/model/m:1/invoke") == "/model/m%3A1/invoke"
    assert canonical_query("b=2&a=1&a=0") == "a=0&a=1&b=2"
    assert canonical_query("x=a+b&y=%7e&z") == "x=a%2Bb&y=~&z="
    assert canonical_query("q=x%20y") == "q=x%20y"
    block, signed = canonical_headers([("X-B", " 2  3 "), ("x-a", "1"), ("x-b", "4")])
    assert (block, signed) == ("x-a:1\nx-b:2 3,4\n", "x-a;x-b")


def test_amz_date_is_utc() -> None:
    assert amz_date(NOW) == WHEN
    assert amz_date(NOW + 0.9) == WHEN


def test_sign_request_adds_the_signing_fields_and_replaces_old_ones() -> None:
    body = b'{"model":"m"}'
    request = Request(
        "POST",
        parse_url("https://bedrock-mantle.us-west-2.api.aws/openai/v1/responses"),
        Headers(
            [
                ("content-type", "application/json"),
                ("user-agent", "oxide/1"),
                ("authorization", "Bearer stale"),
                ("x-amz-date", "19990101T000000Z"),
            ]
        ),
        body,
    )
    credentials = AwsCredentials(
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token="token",
    )
    signed = sign_request(
        request, credentials, region="us-west-2", service="bedrock-mantle", now=NOW
    )
    headers = signed.headers
    assert headers.get_list("x-amz-date") == [WHEN]
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert headers["x-amz-security-token"] == "token"
    assert headers.get_list("authorization") == [headers["authorization"]]
    assert signed.body is body
    # The same value computed from the fields as they go out: host and every
    # field but the user agent.
    expected = authorization(
        "POST",
        "/openai/v1/responses",
        "",
        [
            ("content-type", "application/json"),
            ("host", "bedrock-mantle.us-west-2.api.aws"),
            ("x-amz-date", WHEN),
            ("x-amz-content-sha256", hashlib.sha256(body).hexdigest()),
            ("x-amz-security-token", "token"),
        ],
        hashlib.sha256(body).hexdigest(),
        credentials=credentials,
        region="us-west-2",
        service="bedrock-mantle",
        request_time=WHEN,
    )
    assert headers["authorization"] == expected
    assert (
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"
        in expected
    )
    # A different moment, region or service is a different signature.
    for changed in (
        sign_request(
            request, credentials, region="us-west-2", service="bedrock-mantle", now=NOW + 1
        ),
        sign_request(request, credentials, region="us-east-1", service="bedrock-mantle", now=NOW),
        sign_request(request, credentials, region="us-west-2", service="bedrock", now=NOW),
    ):
        assert changed.headers["authorization"] != expected


def test_a_kept_signing_key_gives_the_same_signature() -> None:
    request = Request("GET", parse_url("https://example.amazonaws.com/"), Headers(), None)
    keys: dict[tuple[str, str, str, str], bytes] = {}
    plain = sign_request(request, EXAMPLE, region="us-east-1", service="service", now=NOW)
    first = sign_request(
        request, EXAMPLE, region="us-east-1", service="service", now=NOW, keys=keys
    )
    again = sign_request(
        request, EXAMPLE, region="us-east-1", service="service", now=NOW, keys=keys
    )
    assert plain.headers["authorization"] == first.headers["authorization"]
    assert again.headers["authorization"] == first.headers["authorization"]
    secret = EXAMPLE.secret_access_key
    assert keys == {
        (secret, "20150830", "us-east-1", "service"): signing_key(
            secret, "20150830", "us-east-1", "service"
        )
    }
    # The next day's key replaces it.
    sign_request(
        request, EXAMPLE, region="us-east-1", service="service", now=NOW + 86_400, keys=keys
    )
    assert list(keys) == [(secret, "20150831", "us-east-1", "service")]


def test_host_with_a_port_is_signed_as_sent() -> None:
    request = Request("GET", parse_url("http://127.0.0.1:8080/v1/models?b=1&a=2"), Headers(), None)
    signed = sign_request(request, EXAMPLE, region="us-east-1", service="service", now=NOW)
    expected = authorization(
        "GET",
        "/v1/models",
        "a=2&b=1",
        [("host", "127.0.0.1:8080"), ("x-amz-date", WHEN), ("x-amz-content-sha256", EMPTY_SHA256)],
        EMPTY_SHA256,
        credentials=EXAMPLE,
        region="us-east-1",
        service="service",
        request_time=WHEN,
    )
    assert signed.headers["authorization"] == expected


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(OpenAIError, match="access_key_id"):
        AwsCredentials(access_key_id=" ", secret_access_key="s")
    with pytest.raises(OpenAIError, match="session_token"):
        AwsCredentials(access_key_id="a", secret_access_key="s", session_token="")
    assert payload_hash(None) == EMPTY_SHA256
    with pytest.raises(OpenAIError, match="streamed"):
        payload_hash(iter([b"chunk"]))
    assert "secret" not in repr(AwsCredentials(access_key_id="a", secret_access_key="secret"))
