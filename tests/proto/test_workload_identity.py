"""The pure parts of workload identity: the exchange request, its answer, the token's life."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxide_proto import OpenAIError
from oxide_proto.api._workload_identity import (
    DEFAULT_REFRESH_BUFFER_SECONDS,
    DEFAULT_TOKEN_EXCHANGE_URL,
    EXCHANGE_TIMEOUT,
    X509_SUBJECT_TOKEN_TYPE,
    X509_TOKEN_EXCHANGE_URL,
    IssuedToken,
    OAuthError,
    SubjectTokenProviderError,
    TokenCache,
    check_x509_request_headers,
    exchange_phase_timeout,
    exchange_request,
    is_x509_identity,
    parse_exchange_response,
    workload_identity_config,
    x509_exchange_retry_delay,
)
from oxide_proto.base._headers import Headers
from oxide_proto.base._types import ResponseInfo

IDENTITY: dict[str, Any] = {
    "identity_provider_id": "idp-1",
    "service_account_id": "sa-1",
    "provider": {"token_type": "id", "get_token": lambda: "x"},
}


def info(status: int) -> ResponseInfo:
    return ResponseInfo(status, Headers({"x-request-id": "req_9"}))


def test_config_defaults_and_request() -> None:
    config = workload_identity_config(IDENTITY)
    assert config.token_exchange_url == DEFAULT_TOKEN_EXCHANGE_URL
    assert config.refresh_buffer_seconds == DEFAULT_REFRESH_BUFFER_SECONDS
    request = exchange_request(config, "subject")
    assert request.method == "POST" and str(request.url) == DEFAULT_TOKEN_EXCHANGE_URL
    assert isinstance(request.body, bytes)
    assert json.loads(request.body) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": "subject",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "identity_provider_id": "idp-1",
        "service_account_id": "sa-1",
    }
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    for bad in ("", None, 7):
        with pytest.raises(SubjectTokenProviderError):
            exchange_request(config, bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identity_provider_id": None}, "identity_provider_id"),
        ({"provider": None}, "provider"),
        ({"provider": {"token_type": "jwt", "get_token": "not callable"}}, "get_token"),
        ({"provider": {"token_type": "x", "get_token": str}}, "Unsupported"),
        ({"refresh_buffer_seconds": math.inf}, "finite"),
        ({"refresh_buffer_seconds": True}, "finite"),
        ({"token_exchange_url": "ftp://example/token"}, "must start with"),
        ({"type": "x509"}, "X.509"),
    ],
)
def test_config_refuses_bad_options(change: dict[str, Any], message: str) -> None:
    with pytest.raises((OpenAIError, ValueError), match=message):
        workload_identity_config({**IDENTITY, **change})


def test_answer_gives_the_token() -> None:
    body = b'{"access_token":"at-1","expires_in":3599,"token_type":"Bearer"}'
    assert parse_exchange_response(info(200), body) == IssuedToken("at-1", 3599.0)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refusal_is_an_oauth_error(status: int) -> None:
    body = b'{"error":"invalid_grant","error_description":"Token expired."}'
    with pytest.raises(OAuthError) as caught:
        parse_exchange_response(info(status), body)
    assert caught.value.error == "invalid_grant"
    assert caught.value.response.status_code == status
    assert caught.value.body == {"error": "invalid_grant", "error_description": "Token expired."}
    assert caught.value.request_id == "req_9"
    with pytest.raises(OAuthError, match="OAuth authentication error") as bare:
        parse_exchange_response(info(status), b"not json")
    assert bare.value.error is None and bare.value.body is None


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, b"{}", "status 500"),
        (200, b"", "empty"),
        (200, b"[1]", "not a JSON object"),
        (200, b'{"expires_in":10}', "access_token"),
        (200, b'{"access_token":"","expires_in":10}', "access_token"),
        (200, b'{"access_token":"a"}', "expires_in"),
        (200, b'{"access_token":"a","expires_in":"10"}', "expires_in"),
        (200, b'{"access_token":"a","expires_in":true}', "expires_in"),
        (200, b'{"access_token":"a","expires_in":NaN}', "expires_in"),
    ],
)
def test_bad_answer_is_an_error_that_says_why(status: int, body: bytes, message: str) -> None:
    with pytest.raises(OpenAIError, match=message) as caught:
        parse_exchange_response(info(status), body)
    assert not isinstance(caught.value, OAuthError)


def test_cache_refreshes_before_expiry() -> None:
    cache = TokenCache(refresh_buffer_seconds=120)
    assert cache.current(0.0) is None
    cache.store(IssuedToken("a", 3600), now=1000.0)
    assert cache.refresh_at == 1000.0 + 3480 and cache.expires_at == 4600.0
    assert cache.current(1000.0) == "a"
    assert cache.current(4479.9) == "a"
    assert cache.current(4480.0) is None
    # A short lifetime is refreshed at half of it, whatever the buffer.
    cache.store(IssuedToken("b", 60), now=0.0)
    assert cache.refresh_at == 30.0
    assert cache.current(29.0) == "b" and cache.current(30.0) is None


def test_invalidate_drops_only_the_token_named() -> None:
    cache = TokenCache()
    cache.store(IssuedToken("new", 3600), now=0.0)
    cache.invalidate("old")
    assert cache.current(1.0) == "new"
    cache.invalidate("new")
    assert cache.current(1.0) is None
    cache.store(IssuedToken("c", 3600), now=0.0)
    cache.invalidate()
    assert cache.current(1.0) is None


@given(
    lifetime=st.floats(min_value=-10, max_value=1e7, allow_nan=False),
    buffer=st.floats(min_value=0, max_value=1e7, allow_nan=False),
    now=st.floats(min_value=0, max_value=1e9, allow_nan=False),
)
def test_a_token_is_never_used_after_it_expires(lifetime: float, buffer: float, now: float) -> None:
    cache = TokenCache(buffer)
    cache.store(IssuedToken("t", lifetime), now=now)
    assert now <= cache.refresh_at <= cache.expires_at
    assert cache.refresh_at - now >= max(lifetime, 0) / 2 - 1e-6 * max(1.0, now)
    for later in (cache.refresh_at, cache.expires_at, cache.expires_at + 1):
        assert cache.current(later) is None


# -- X.509 identities ------------------------------------------------------------

X509: dict[str, Any] = {
    "type": "x509",
    "identity_provider_id": "idp-1",
    "service_account_id": "sa-1",
}


def test_x509_request_has_no_subject_token() -> None:
    config = workload_identity_config(X509)
    assert config.x509 and config.get_token is None
    assert config.token_exchange_url == X509_TOKEN_EXCHANGE_URL
    request = exchange_request(config, None)
    assert str(request.url) == "https://mtls.auth.openai.com/oauth/token"
    assert isinstance(request.body, bytes)
    assert json.loads(request.body) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": X509_SUBJECT_TOKEN_TYPE,
        "identity_provider_id": "idp-1",
        "service_account_id": "sa-1",
    }
    assert "authorization" not in request.headers
    assert is_x509_identity(X509) and not is_x509_identity(IDENTITY) and not is_x509_identity(None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provider": IDENTITY["provider"]}, "provider"),
        ({"client_id": "c"}, "client_id"),
        ({"audience": "a"}, "audience"),
        ({"service_account_id": ""}, "service_account_id"),
        ({"refresh_buffer_seconds": -1}, "refresh_buffer_seconds"),
        ({"token_exchange_url": "http://127.0.0.1/token"}, "https"),
        ({"type": "saml"}, "Unknown workload_identity type"),
    ],
)
def test_x509_config_refuses_bad_options(change: dict[str, Any], message: str) -> None:
    with pytest.raises(OpenAIError, match=message):
        workload_identity_config({**X509, **change})


def test_x509_refusal_keeps_only_the_error_code() -> None:
    body = b'{"error":"invalid_client","error_description":"certificate CN=host-7 unknown"}'
    with pytest.raises(OAuthError) as caught:
        parse_exchange_response(info(401), body, x509=True)
    assert caught.value.error == "invalid_client"
    assert caught.value.body == {"error": "invalid_client"}
    assert "host-7" not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"access_token":"a b","expires_in":10}', "Bearer"),
        (b'{"access_token":"a","expires_in":10,"token_type":"mac"}', "'mac'"),
        (b'{"access_token":"a","expires_in":10,"token_type":7}', "7"),
        (b'{"access_token":"a","expires_in":0}', "not positive"),
        (b'{"access_token":"a","expires_in":-5}', "not positive"),
    ],
)
def test_x509_answer_must_be_a_bearer_token_with_a_lifetime(body: bytes, message: str) -> None:
    with pytest.raises(OpenAIError, match=message):
        parse_exchange_response(info(200), body, x509=True)
    # A subject-token identity's answer is read as the official SDK reads it: these pass.
    parse_exchange_response(info(200), body)
    good = b'{"access_token":"ab.c-d_e~f+g/h==","expires_in":5,"token_type":"BEARER"}'
    assert parse_exchange_response(info(200), good, x509=True).access_token == "ab.c-d_e~f+g/h=="


def answer(status: int, **headers: str) -> ResponseInfo:
    return ResponseInfo(status, Headers(headers))


@pytest.mark.parametrize(
    ("failed", "attempt", "delay"),
    [
        (None, 0, 0.5),  # a connection that failed: back off
        (None, 1, 1.0),
        (None, 10, 8.0),  # capped
        (answer(503), 0, 0.5),
        (answer(429, **{"retry-after": "3"}), 0, 3.0),
        (answer(408, **{"retry-after-ms": "250"}), 0, 0.25),
        (answer(409), 1, 1.0),
        (answer(418, **{"x-should-retry": "true"}), 0, 0.5),
        (answer(400), 0, None),  # refusals are final
        (answer(401, **{"x-should-retry": "true"}), 0, None),
        (answer(403), 0, None),
        (answer(404), 0, None),
        (answer(500, **{"x-should-retry": "false"}), 0, None),
        (answer(503, **{"retry-after": "121"}), 0, None),  # longer than two minutes: give up
        (answer(503, **{"retry-after": "Thu, 01 Jan 1970 00:00:30 GMT"}), 0, 20.0),
    ],
)
def test_x509_exchange_retry_delay(
    failed: ResponseInfo | None, attempt: int, delay: float | None
) -> None:
    assert x509_exchange_retry_delay(failed, attempt, now=10.0) == delay


def test_cache_keeps_an_unexpired_token_after_a_failed_refresh() -> None:
    cache = TokenCache(refresh_buffer_seconds=100)
    cache.store(IssuedToken("a", 300), now=0.0)
    assert cache.current(250.0) is None  # due for refresh
    assert cache.usable(250.0) == "a"  # but not expired
    cache.postpone_refresh(250.5)
    assert cache.current(250.2) == "a" and cache.current(250.5) is None
    cache.postpone_refresh(1000.0)  # never past the expiry
    assert cache.current(299.0) == "a" and cache.current(300.0) is None
    assert cache.usable(300.0) is None


def test_an_x509_exchange_phase_gets_the_requests_limit_at_most_ten_seconds() -> None:
    assert EXCHANGE_TIMEOUT == 10.0
    assert exchange_phase_timeout(3.0, x509=True) == 3.0
    assert exchange_phase_timeout(0.0, x509=True) == 0.0
    assert exchange_phase_timeout(600.0, x509=True) == 10.0
    assert exchange_phase_timeout(None, x509=True) == 10.0  # no limit: the exchange's own
    for limit in (None, 0.5, 600.0):
        assert exchange_phase_timeout(limit, x509=False) == 10.0


@pytest.mark.parametrize(
    "name", ["api-key", "API-Key", "x-api-key", "X_API_KEY", "api_key", "Proxy-Authorization"]
)
def test_an_x509_request_carries_no_other_credential(name: str) -> None:
    with pytest.raises(OpenAIError, match=f"API-key or proxy credentials.*{name}"):
        check_x509_request_headers(["X-Trace", name])


def test_other_headers_go_with_an_x509_identity() -> None:
    check_x509_request_headers(
        ["Authorization", "Cookie", "OpenAI-Organization", "X-Api-Key-Id", "api-keys"]
    )
