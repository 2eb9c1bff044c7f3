"""The prepared call: each attempt's request, what an answer means, retries, results, pages.

Everything a driver asks of a `Call` is decided here without a socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from oxide_proto import (
    APIResponseValidationError,
    APIStatusError,
    Call,
    CallSettings,
    Headers,
    Operation,
    RateLimitError,
    RedirectError,
    Request,
    ResponseInfo,
    RetryPolicy,
)
from oxide_proto.types.chat import ChatCompletion

BASE = "https://api.example.test/v1"
CREATE = Operation("POST", "/chat/completions", response="chat:ChatCompletion")
LIST = Operation("GET", "/models", page="list")
SPEECH = Operation("POST", "/audio/speech", binary=True, accept="audio/mpeg")
NOW = 1_700_000_000.0


def settings(**kwargs: Any) -> CallSettings:
    return CallSettings(base_url=BASE, api_key="sk-test", **kwargs)


def info(status: int, body_type: str = "application/json", **headers: str) -> ResponseInfo:
    fields = {"content-type": body_type, "x-request-id": "req_1"}
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    return ResponseInfo(status_code=status, headers=Headers(fields))


COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "hi"},
        }
    ],
}


def test_each_attempt_counts_its_retries_and_sends_the_body_encoded_once() -> None:
    def messages() -> Iterator[dict[str, str]]:
        # An iterator argument can be read once only: the retry must not read it again.
        yield {"role": "user", "content": "hi"}

    call = Call(settings(), CREATE, body={"model": "m", "messages": messages()})
    first = call.request(0)
    again = call.request(2)
    assert first.method == "POST"
    assert str(first.url) == f"{BASE}/chat/completions"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.headers["x-stainless-retry-count"] == "0"
    assert again.headers["x-stainless-retry-count"] == "2"
    assert json.loads(first.body) == {  # type: ignore[arg-type]
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert again.body == first.body


def test_admin_key_accept_and_authenticated_attempts() -> None:
    call = Call(settings(), SPEECH, body={"input": "x"}, admin_key="sk-admin")
    request = call.request(0)
    assert request.headers["authorization"] == "Bearer sk-admin"
    assert request.headers["accept"] == "audio/mpeg"
    plain = Call(settings(), CREATE, body={}, extra_headers={"X-A": "1"})
    provided = plain.request(0, api_key="sk-fresh", headers={"X-B": "2"}, authenticated=True)
    assert provided.headers["authorization"] == "Bearer sk-fresh"
    assert provided.headers["x-b"] == "2"
    assert "x-a" not in provided.headers
    assert plain.request(0).headers["x-a"] == "1"


def test_error_status_is_the_typed_error() -> None:
    call = Call(settings(), CREATE, body={})
    request = call.request(0)
    body = json.dumps({"error": {"message": "slow down", "type": "rate"}}).encode()
    step = call.after_response(request, info(429), body, redirects_taken=0)
    assert isinstance(step, RateLimitError)
    assert step.status_code == 429
    assert "slow down" in str(step)


def test_redirect_is_the_next_request_or_refused() -> None:
    call = Call(settings(), LIST)
    request = call.request(0)
    step = call.after_response(
        request, info(307, location=f"{BASE}/models?x=1"), b"", redirects_taken=0
    )
    assert isinstance(step, Request)
    assert str(step.url) == f"{BASE}/models?x=1"
    with pytest.raises(RedirectError):
        call.after_response(request, info(302), b"", redirects_taken=0)  # no Location
    # A client that follows none (X.509 workload identity) refuses even this one.
    with pytest.raises(RedirectError, match="follows no redirects"):
        call.after_response(
            request,
            info(307, location=f"{BASE}/models?x=1"),
            b"",
            redirects_taken=0,
            follow_redirects=False,
        )


def retry_after_429(call: Call, wait: str, time_left: float | None) -> Any:
    request = call.request(0)
    answer = info(429, retry_after=wait)
    error = call.after_response(request, answer, b"{}", redirects_taken=0)
    assert isinstance(error, APIStatusError)
    return call.retry(request, answer, error, 0, now=NOW, random=lambda: 0.0, time_left=time_left)


def test_retry_follows_the_policy_within_the_deadline() -> None:
    call = Call(settings(), CREATE, body={})
    decision = retry_after_429(call, "2", None)
    assert decision.retry and decision.delay == 2.0
    assert retry_after_429(call, "2", 10.0).retry
    late = retry_after_429(call, "2", 1.5)
    assert not late.retry
    assert "deadline" in late.reason
    none_left = Call(settings(retry_policy=RetryPolicy(max_retries=0)), CREATE, body={})
    assert not retry_after_429(none_left, "2", None).retry


def test_connection_errors_are_retried_after_a_backoff() -> None:
    call = Call(settings(), CREATE, body={})
    decision = call.retry(
        call.request(1), None, ConnectionResetError(), 1, now=NOW, random=lambda: 0.0
    )
    assert decision.retry
    assert decision.delay == 1.0  # 0.5 s doubled once, no jitter


def test_result_is_the_model_with_its_request_id() -> None:
    call = Call(settings(), CREATE, body={})
    result = call.result(info(200), json.dumps(COMPLETION).encode())
    assert isinstance(result, ChatCompletion)
    assert result.choices[0].message.content == "hi"
    assert result._request_id == "req_1"


def test_result_through_a_decoder_binary_or_plain_json() -> None:
    seen: list[Any] = []

    def decoder(data: Any, response: ResponseInfo) -> Any:
        seen.append((data, response.status_code))
        return "decoded"

    assert Call(settings(), CREATE, decoder=decoder).result(info(200), b"[1]") == "decoded"
    assert seen == [([1], 200)]
    assert Call(settings(), SPEECH).result(info(200, "audio/mpeg"), b"\xff\xfb") == b"\xff\xfb"
    assert Call(settings(), LIST).result(info(200), b'{"data": []}') == {"data": []}
    assert Call(settings(), LIST).result(info(200), b"") is None


HANGUP = Operation("POST", "/realtime/calls/{call_id}/hangup", no_body=True)


@pytest.mark.parametrize("body", [b"", b"{}", b'{"id": "x"}', b"<html>portal</html>", b"\x80"])
@pytest.mark.parametrize("strict", [False, True])
def test_an_operation_without_a_body_results_in_none(body: bytes, strict: bool) -> None:
    # Whatever the server sends, not even a body that is not JSON is an error: the
    # method promises nothing from it.
    call = Call(settings(strict=strict), HANGUP, path_params={"call_id": "c"})
    assert call.result(info(200), body) is None
    assert call.result(info(204, ""), body) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>portal</html>", "Expecting value at position 0"),
        (b'"\x80"', "not UTF-8"),
        (b'{"id": "x"', "at position"),
    ],
)
def test_a_success_body_that_is_not_json_is_a_typed_error(body: bytes, reason: str) -> None:
    call = Call(settings(), CREATE, body={})
    with pytest.raises(APIResponseValidationError) as caught:
        call.result(info(200, "text/html"), body)
    assert reason in str(caught.value)
    assert "req_1" in str(caught.value)


def test_strict_settings_decode_strictly() -> None:
    # A required field missing: strict decoding refuses it, the default keeps going.
    body = json.dumps({k: v for k, v in COMPLETION.items() if k != "model"}).encode()
    call = Call(settings(strict=True), CREATE, body={})
    with pytest.raises(APIResponseValidationError):
        call.result(info(200), body)
    assert isinstance(Call(settings(), CREATE, body={}).result(info(200), body), ChatCompletion)


def test_next_page_adds_the_cursor_and_keeps_the_rest() -> None:
    call = Call(settings(), LIST, query={"limit": 2}, extra_headers={"X-A": "1"}, read_timeout=5.0)
    page = call.next_page({"after": "m-2"})
    request = page.request(0)
    assert request.url.target == "/v1/models?limit=2&after=m-2"
    assert request.headers["x-a"] == "1"
    assert request.headers["x-stainless-read-timeout"] == "5"
    assert call.request(0).url.target == "/v1/models?limit=2"
