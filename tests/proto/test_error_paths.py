"""Error paths of the core: text that is not UTF-8 in a stream, limits that name
themselves, credentials cut from server text, limit errors not retried.

Decoder cases are fed whole, byte by byte and at Hypothesis split points; the
events before the error and the error itself must not depend on the split.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxide_proto import (
    NEED_DATA,
    URL,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    DecodingError,
    Headers,
    LimitExceededError,
    MalformedEventError,
    OpenAIStreamDecoder,
    Request,
    ResponseInfo,
    ResponseTooLargeError,
    RetryPolicy,
    SSEDecoder,
    StreamEnd,
    redact_secrets,
    request_secrets,
    status_error_from_response,
)
from tests.splits import fixed_feeds, split_at, split_points

GOOD = b'data: {"n": 1}\n\n'
BAD = b'data: {"n": "caf\xe9"}\n\n'  # Latin-1, not UTF-8
AFTER = b'data: {"n": 3}\n\n'
STREAM = GOOD + b": a comment\n" + BAD + AFTER


def _sse(chunks: list[bytes], *, strict: bool) -> list[object]:
    decoder = SSEDecoder(strict_utf8=strict)
    out: list[object] = []
    try:
        for chunk in [*chunks, None]:
            if chunk is None:
                decoder.receive_eof()
            elif chunk:
                decoder.receive_data(chunk)
            while (event := decoder.next_event()) is not NEED_DATA:
                out.append(event.data)  # type: ignore[union-attr]
    except DecodingError as exc:
        out.append(("DecodingError", type(exc.__cause__).__name__))
        with pytest.raises(DecodingError):  # it stays broken
            decoder.next_event()
    return out


STRICT = ['{"n": 1}', ("DecodingError", "UnicodeDecodeError")]
REPLACED = ['{"n": 1}', '{"n": "caf\ufffd"}', '{"n": 3}']


@pytest.mark.parametrize("data", [STREAM, STREAM.replace(b"\n", b"\r\n")], ids=["lf", "crlf"])
def test_sse_text_that_is_not_utf8_whole_and_bytewise(data: bytes) -> None:
    for _, chunks in fixed_feeds(data):
        assert _sse(chunks, strict=True) == STRICT
        assert _sse(chunks, strict=False) == REPLACED  # the standard's replacement


@given(points=split_points())
def test_sse_text_that_is_not_utf8_at_random_splits(points: list[int]) -> None:
    chunks = split_at(STREAM, points)
    assert _sse(chunks, strict=True) == STRICT
    assert _sse(chunks, strict=False) == REPLACED


def test_sse_bad_text_in_an_event_name_or_a_multiline_event() -> None:
    for bad in (b"event: \xff\ndata: 1\n\n", b"data: 1\ndata: \xc3\n\n", b"id: \xfe\n\n"):
        for _, chunks in fixed_feeds(GOOD + bad + AFTER):
            assert _sse(chunks, strict=True) == STRICT


def _stream(chunks: list[bytes]) -> list[object]:
    info = ResponseInfo(200, Headers({"x-request-id": "req_1"}), request=_request())
    decoder = OpenAIStreamDecoder(response=info)
    out: list[object] = []
    try:
        for chunk in chunks:
            if chunk:
                decoder.receive_data(chunk)
            while (event := decoder.next_event()) is not NEED_DATA:
                assert not isinstance(event, StreamEnd)
                out.append(event.data)  # type: ignore[union-attr]
    except MalformedEventError as exc:
        assert isinstance(exc, APIResponseValidationError)
        assert (exc.status_code, exc.request_id) == (200, "req_1")
        assert "not UTF-8" in exc.message
        assert "caf\ufffd" in exc.data
        out.append("MalformedEventError")
    return out


@given(points=split_points())
def test_openai_stream_refuses_text_that_is_not_utf8(points: list[int]) -> None:
    for chunks in (*(c for _, c in fixed_feeds(STREAM)), split_at(STREAM, points)):
        assert _stream(chunks) == [{"n": 1}, "MalformedEventError"]


@pytest.mark.parametrize(
    ("data", "name", "limit"),
    [
        (b"data: " + b"x" * 40 + b"\n\n", "max_line_size", 32),
        (b"data: " + b"x" * 20 + b"\ndata: " + b"x" * 20 + b"\n\n", "max_event_size", 30),
    ],
)
def test_sse_limit_errors_name_the_limit(data: bytes, name: str, limit: int) -> None:
    for _, chunks in fixed_feeds(data):
        decoder = SSEDecoder(max_line_size=32, max_event_size=30)
        with pytest.raises(LimitExceededError) as caught:
            for chunk in chunks:
                decoder.receive_data(chunk)
                while decoder.next_event() is not NEED_DATA:
                    pass
        assert (caught.value.limit_name, caught.value.limit) == (name, limit)
        assert name in str(caught.value)


def test_limit_errors_are_not_retried() -> None:
    policy = RetryPolicy(max_retries=2)
    request = _request()
    too_large = ResponseTooLargeError(
        message="too large", request=request, limit_name="max_decoded_size", limit=10
    )
    assert isinstance(too_large, APIConnectionError)
    decision = policy.decide(
        attempt=0, request=request, response=None, error=too_large, now=0.0, random=lambda: 0.5
    )
    assert not decision.retry
    broken = APIConnectionError(request=request)
    assert policy.decide(
        attempt=0, request=request, response=None, error=broken, now=0.0, random=lambda: 0.5
    ).retry


# -- credentials in server text -----------------------------------------------------------

KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
AZURE = "0123456789abcdef0123456789abcdef"


def _request(headers: dict[str, str] | None = None) -> Request:
    return Request(
        "POST",
        URL("https", "api.example.com", 443, "/v1/chat/completions"),
        Headers(headers or {"Authorization": f"Bearer {KEY}"}),
        b"{}",
    )


def test_request_secrets_are_the_credentials_it_sends() -> None:
    request = _request({"Authorization": f"Bearer {KEY}", "api-key": AZURE, "x-other": "visible1"})
    assert set(request_secrets(request)) == {KEY, AZURE}
    assert request_secrets(_request({"authorization": "Bearer short"})) == ()
    assert request_secrets(None) == ()


@given(before=st.text(max_size=20), after=st.text(max_size=20))
def test_redact_cuts_every_occurrence(before: str, after: str) -> None:
    text = before + KEY + after + AZURE + KEY
    redacted = redact_secrets(text, (KEY, AZURE))
    assert KEY not in redacted and AZURE not in redacted
    assert "sk-proj***" in redacted


@pytest.mark.parametrize(
    "body",
    [
        f'{{"error": {{"message": "Incorrect API key provided: {KEY}", "code": "invalid"}}}}',
        f"<html>Unauthorized: Bearer {KEY} / api-key {AZURE}</html>",
        f'{{"detail": ["{KEY}", {{"{AZURE}": 1}}]}}',
    ],
)
def test_status_errors_never_show_the_credentials(body: str) -> None:
    request = _request({"Authorization": f"Bearer {KEY}", "api-key": AZURE})
    info = ResponseInfo(401, Headers({}), request=request)
    error = status_error_from_response(info, body.encode())
    for shown in (str(error), repr(error), error.message, repr(error.body), repr(error.args)):
        assert KEY not in shown and AZURE not in shown
    assert error.status_code == 401


def test_every_api_error_with_a_request_is_redacted() -> None:
    request = _request()
    errors: list[APIError] = [
        APIError(f"echo {KEY}", request, body={"k": [KEY]}),
        APIResponseValidationError(
            ResponseInfo(200, Headers({}), request=request), KEY, message=f"bad {KEY}"
        ),
        MalformedEventError(f"bad {KEY}", event=None, data=KEY, request=request),
    ]
    for error in errors:
        assert KEY not in f"{error} {error!r} {error.message} {error.body!r} {error.args!r}"
    assert KEY not in errors[2].data  # type: ignore[attr-defined]
