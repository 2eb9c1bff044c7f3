"""The retry policy: the official SDK's rules, as tables, properties and a side-by-side check."""

from __future__ import annotations

import email.utils
import functools
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    URL,
    APIConnectionError,
    APITimeoutError,
    Headers,
    LimitExceededError,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    ResponseInfo,
    RetryDecision,
    RetryPolicy,
    parse_retry_after,
    status_error_from_response,
)

NOW = 1_700_000_000.0
URL_ = URL(scheme="https", host="api.openai.com", port=443, target="/v1/responses")
REQUEST = Request(method="POST", url=URL_, headers=Headers(), body=b"{}")


def one_shot() -> Iterator[bytes]:
    yield b"{}"


STREAMED = Request(method="POST", url=URL_, headers=Headers(), body=one_shot())


def response(status: int, **headers: str) -> ResponseInfo:
    return ResponseInfo(
        status_code=status, headers=Headers({k.replace("_", "-"): v for k, v in headers.items()})
    )


def decide(
    policy: RetryPolicy | None = None,
    *,
    attempt: int = 0,
    request: Request = REQUEST,
    response: ResponseInfo | None = None,
    error: BaseException | None = None,
    chance: float = 0.0,
) -> RetryDecision:
    return (policy or RetryPolicy()).decide(
        attempt=attempt,
        request=request,
        response=response,
        error=error,
        now=NOW,
        random=lambda: chance,
    )


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),
        (409, True),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (200, False),
        (302, False),
    ],
)
def test_status_rules(status: int, retry: bool) -> None:
    assert decide(response=response(status)).retry is retry


def test_x_should_retry_overrides_status() -> None:
    assert decide(response=response(400, x_should_retry="true")).retry
    assert not decide(response=response(503, x_should_retry="false")).retry
    assert decide(response=response(503, x_should_retry="maybe")).retry


@pytest.mark.parametrize(
    ("headers", "delay"),
    [
        ({"retry_after_ms": "1500"}, 1.5),
        ({"retry_after": "3"}, 3.0),
        ({"retry_after": "2.5"}, 2.5),
        ({"retry_after_ms": "250", "retry_after": "30"}, 0.25),
        ({"retry_after_ms": "soon", "retry_after": "7"}, 7.0),
        ({"retry_after": email.utils.formatdate(NOW + 42, usegmt=True)}, 42.0),
        ({"retry_after": "120"}, 120.0),
    ],
)
def test_server_delay_honoured(headers: dict[str, str], delay: float) -> None:
    decision = decide(response=response(429, **headers))
    assert decision.retry
    assert decision.delay == pytest.approx(delay)
    assert "retry-after" in decision.reason


@pytest.mark.parametrize(
    "headers",
    [
        {"retry_after": "0"},
        {"retry_after": "-5"},
        {"retry_after": "inf"},
        {"retry_after": "nan"},
        {"retry_after": "garbage"},
        {"retry_after": email.utils.formatdate(NOW - 10, usegmt=True)},
    ],
)
def test_unusable_server_delay_falls_back_to_backoff(headers: dict[str, str]) -> None:
    decision = decide(response=response(503, **headers), chance=0.0)
    assert decision.retry
    assert decision.delay == 0.5
    assert "backoff" in decision.reason


@pytest.mark.parametrize(
    "headers",
    [
        {"retry_after": "121"},
        {"retry_after_ms": "600000"},
        {"retry_after": "1e400"},
        {"retry_after": email.utils.formatdate(NOW + 3600, usegmt=True)},
        {"retry_after": "300", "x_should_retry": "true"},
    ],
)
def test_too_long_server_delay_not_retried(headers: dict[str, str]) -> None:
    decision = decide(response=response(429, **headers))
    assert not decision.retry
    assert "maximum" in decision.reason


def test_http_date_without_zone_is_gmt() -> None:
    headers = Headers({"retry-after": "Tue, 14 Nov 2023 22:14:00"})
    expected = email.utils.mktime_tz(email.utils.parsedate_tz("Tue, 14 Nov 2023 22:14:00 GMT"))  # type: ignore[arg-type]
    assert parse_retry_after(headers, now=NOW) == expected - NOW
    assert parse_retry_after(Headers(), now=NOW) is None


def test_backoff_sequence() -> None:
    policy = RetryPolicy(max_retries=10)
    assert [policy.backoff(n, lambda: 0.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert [policy.backoff(n, lambda: 1.0) for n in range(5)] == [0.375, 0.75, 1.5, 3, 6]
    assert policy.backoff(10**6, lambda: 0.0) == 8.0
    # A misbehaving random source cannot push the delay past the cap or below 0.
    assert policy.backoff(9, lambda: -3.0) == 8.0
    assert policy.backoff(9, lambda: 7.0) == 6.0


def test_budget() -> None:
    assert decide(attempt=1, response=response(500)).retry
    exhausted = decide(attempt=2, response=response(500))
    assert not exhausted.retry
    assert "exhausted" in exhausted.reason
    assert not decide(RetryPolicy(max_retries=0), response=response(500)).retry
    assert decide(RetryPolicy().with_max_retries(5), attempt=4, response=response(500)).retry
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (APITimeoutError(None), True),
        (APIConnectionError(request=None), True),
        (RemoteProtocolError("peer closed"), True),
        (RemoteProtocolError("refused stream", retry_safe=True), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (LimitExceededError("too big", limit=10), False),
        (LocalProtocolError("misuse"), False),
        (ValueError("bug"), False),
    ],
)
def test_error_rules(error: BaseException, retry: bool) -> None:
    decision = decide(error=error)
    assert decision.retry is retry
    if retry:
        assert decision.delay == 0.5
    assert type(error).__name__ in decision.reason


def test_timeouts_named_in_reason() -> None:
    assert decide(error=APITimeoutError(None)).reason.startswith("timeout")


def test_non_replayable_body_never_retried() -> None:
    assert not decide(request=STREAMED, response=response(503)).retry
    safe = RemoteProtocolError("GOAWAY", retry_safe=True)
    decision = decide(request=STREAMED, error=safe)
    assert not decision.retry
    assert "replayed" in decision.reason


def test_status_error_carries_its_response() -> None:
    rate_limited = status_error_from_response(response(429, retry_after="2"), b"{}")
    decision = decide(error=rate_limited)
    assert decision.retry and decision.delay == 2.0
    assert not decide(error=status_error_from_response(response(400), b"")).retry
    # The adapter may pass both; the response decides.
    assert decide(response=response(503), error=APIConnectionError(request=None)).retry


def test_needs_response_or_error() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().decide(attempt=0, request=REQUEST, now=NOW, random=lambda: 0.0)


# --- properties ----------------------------------------------------------------

delay_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10, 10**6).map(str),
    st.sampled_from(["", "soon", "inf", "-inf", "1e400", "nan", " 3 "]),
    st.integers(-10_000, 10_000).map(lambda d: email.utils.formatdate(NOW + d, usegmt=True)),
)
header_sets = st.fixed_dictionaries(
    {},
    optional={
        "retry-after": delay_text,
        "retry-after-ms": delay_text,
        "x-should-retry": st.sampled_from(["true", "false", "TRUE", "1", ""]),
    },
)
statuses = st.sampled_from([200, 400, 401, 404, 408, 409, 422, 429, 500, 502, 503, 504])


@given(
    statuses,
    header_sets,
    st.integers(0, 5),
    st.integers(0, 5),
    st.floats(0, 1),
    st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_decision_properties(
    status: int,
    headers: dict[str, str],
    attempt: int,
    max_retries: int,
    chance: float,
    replayable: bool,
) -> None:
    policy = RetryPolicy(max_retries=max_retries)
    info = ResponseInfo(status_code=status, headers=Headers(headers))
    request = REQUEST if replayable else STREAMED
    decision = decide(policy, attempt=attempt, request=request, response=info, chance=chance)
    if not decision.retry:
        assert decision.delay == 0.0
        return
    assert replayable
    assert attempt < max_retries
    assert 0 < decision.delay <= max(8.0, 120.0)
    server = parse_retry_after(info.headers, now=NOW)
    if server is not None and math.isfinite(server) and 0 < server <= 120:
        assert decision.delay == server
    else:
        assert decision.delay <= 8.0
        assert decision.delay == policy.backoff(attempt, lambda: chance)
    if headers.get("x-should-retry") == "false":
        raise AssertionError("x-should-retry: false was not obeyed")


@given(statuses, st.sampled_from(["true", "false"]), st.integers(0, 1))
@settings(max_examples=50, deadline=None)
def test_x_should_retry_wins(status: int, value: str, attempt: int) -> None:
    decision = decide(attempt=attempt, response=response(status, x_should_retry=value))
    if status < 400:
        assert not decision.retry
    else:
        assert decision.retry is (value == "true")


# --- against the official SDK --------------------------------------------------


SDK_MAX_RETRIES = 4


@functools.lru_cache(maxsize=1)
def sdk_client() -> Any:
    openai = pytest.importorskip("openai")
    return openai.OpenAI(api_key="sk-test", max_retries=SDK_MAX_RETRIES)


@given(statuses.filter(lambda s: s >= 400), header_sets, st.integers(0, 3), st.floats(0, 1))
@settings(max_examples=200, deadline=None)
def test_matches_official_sdk(
    status: int, headers: dict[str, str], attempt: int, chance: float
) -> None:
    """The SDK is asked only about error statuses, as it only asks about those."""
    client = sdk_client()
    httpx2: Any = pytest.importorskip("httpx2")
    from openai import _base_client
    from openai._models import FinalRequestOptions

    max_retries = SDK_MAX_RETRIES
    sdk_response = httpx2.Response(status, headers=headers)
    options = FinalRequestOptions.construct(method="post", url="/x")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_base_client, "random", lambda: chance)
        patch.setattr(_base_client.time, "time", lambda: NOW)
        sdk_retry = client._should_retry(sdk_response)
        sdk_delay = client._calculate_retry_timeout(
            max_retries - attempt, options, sdk_response.headers
        )
    ours = decide(
        RetryPolicy(max_retries=max_retries),
        attempt=attempt,
        response=ResponseInfo(status_code=status, headers=Headers(headers)),
        chance=chance,
    )
    assert ours.retry is sdk_retry
    if ours.retry:
        assert ours.delay == pytest.approx(sdk_delay)
