"""The redirect policy: which 3xx answers are followed, and what the next request is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oxide_proto import (
    URL,
    APIStatusError,
    Headers,
    RedirectError,
    Request,
    ResponseInfo,
    follow_redirect,
)

KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HEADERS = {
    "authorization": f"Bearer {KEY}",
    "api-key": "azure-key-0123456789",
    "openai-organization": "org-1",
    "openai-project": "proj-1",
    "cookie": "session=1",
    "proxy-authorization": "Basic dXNlcjpwYXNz",
    "x-api-key": "other-key-0123456789",
    "content-type": "application/json",
    "x-stainless-retry-count": "0",
    "user-agent": "oxide",
}
CREDENTIALS = {
    "authorization",
    "api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "proxy-authorization",
    "x-api-key",
}


API = URL("https", "api.example.com", 443, "/v1/chat/completions?a=1")


def _request(
    method: str = "POST",
    url: URL = API,
    body: object = b'{"model": "m"}',
) -> Request:
    return Request(method, url, Headers(HEADERS), body)  # type: ignore[arg-type]


def _answer(status: int, location: str | None, request: Request) -> ResponseInfo:
    headers = {"location": location} if location is not None else {}
    return ResponseInfo(status, Headers(headers), request=request)


def _follow(
    status: int, location: str | None, request: Request | None = None, **kw: int
) -> Request:
    request = request or _request()
    return follow_redirect(request, _answer(status, location, request), **kw)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_method_and_body_are_kept(status: int) -> None:
    followed = _follow(status, "/v2/chat/completions")
    assert followed.method == "POST"
    assert followed.body == b'{"model": "m"}'
    assert str(followed.url) == "https://api.example.com/v2/chat/completions"
    assert dict(followed.headers) == HEADERS  # same origin: every field kept


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "GET"])
def test_303_becomes_a_get_without_body(method: str) -> None:
    followed = _follow(303, "https://api.example.com/v1/result/1", _request(method))
    assert (followed.method, followed.body, followed.content_length) == ("GET", None, None)
    assert "content-type" not in followed.headers
    assert followed.headers["authorization"] == f"Bearer {KEY}"


def test_303_keeps_head() -> None:
    followed = _follow(303, "/elsewhere", _request("HEAD", body=None))
    assert followed.method == "HEAD"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/v2/x", "https://api.example.com/v2/x"),
        ("x", "https://api.example.com/v1/chat/x"),
        ("../models", "https://api.example.com/v1/models"),
        ("?b=2", "https://api.example.com/v1/chat/completions?b=2"),
        ("//api.example.com/other", "https://api.example.com/other"),
        ("https://API.example.com:443/p#frag", "https://api.example.com/p"),
        ("  /padded  ", "https://api.example.com/padded"),
    ],
)
def test_location_is_resolved_against_the_request(location: str, expected: str) -> None:
    assert str(_follow(307, location).url) == expected


@pytest.mark.parametrize(
    "location",
    [
        "https://other.example.com/v1/chat/completions",
        "https://api.example.com:8443/v1/chat/completions",
        "//evil.example.net/v1",
    ],
)
def test_credentials_never_reach_another_origin(location: str) -> None:
    followed = _follow(307, location)
    assert CREDENTIALS.isdisjoint(followed.headers)
    assert followed.headers["content-type"] == "application/json"
    assert followed.headers["user-agent"] == "oxide"
    assert followed.body == b'{"model": "m"}'


def test_http_to_https_upgrade_of_the_same_host_keeps_credentials() -> None:
    plain = _request(url=URL("http", "api.example.com", 80, "/v1/chat/completions"))
    assert dict(_follow(308, "https://api.example.com/v1/chat/completions", plain).headers) == (
        HEADERS
    )
    # Another port on either side is another origin.
    odd = _request(url=URL("http", "api.example.com", 8080, "/v1/chat/completions"))
    assert CREDENTIALS.isdisjoint(_follow(308, "https://api.example.com/v1", odd).headers)
    other = _follow(308, "https://api.example.com:8443/v1", plain)
    assert CREDENTIALS.isdisjoint(other.headers)


def _refused(
    status: int, location: str | None, request: Request | None = None, **kw: int
) -> RedirectError:
    with pytest.raises(RedirectError) as caught:
        _follow(status, location, request, **kw)
    error = caught.value
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert error.location == location
    if location:
        assert repr(location) in error.message
    return error


def test_https_to_http_is_refused() -> None:
    error = _refused(301, "http://api.example.com/v1/chat/completions")
    assert "plain http" in error.reason


@pytest.mark.parametrize("status", [300, 304, 305, 306, 399])
def test_other_3xx_are_not_followed(status: int) -> None:
    _refused(status, "/elsewhere")


@pytest.mark.parametrize(
    "location",
    ["ws://api.example.com/v1", "mailto:someone@example.com", "http://", "https://a b/"],
)
def test_unusable_locations_are_refused(location: str) -> None:
    _refused(302, location)


def test_missing_location_is_refused() -> None:
    error = _refused(302, None)
    assert "no Location" in error.message


def test_redirect_limit() -> None:
    assert _follow(307, "/a", redirects_taken=4).url.target == "/a"
    error = _refused(307, "/a", redirects_taken=5)
    assert "more than 5 redirects" in error.message
    assert _follow(307, "/a", redirects_taken=5, max_redirects=6).url.target == "/a"


def _stream() -> Iterator[bytes]:
    yield b"chunk"


def test_a_body_that_cannot_be_sent_again_is_not_re_sent() -> None:
    streamed = _request(body=_stream())
    error = _refused(307, "/v2", streamed)
    assert "cannot be sent again" in error.reason
    # A re-iterable body is sent again; a 303 drops the body, so it is followed.
    assert _follow(308, "/v2", _request(body=[b"a", b"b"])).body == [b"a", b"b"]
    assert _follow(303, "/v2", streamed).body is None


def test_the_error_carries_the_body_and_hides_the_key() -> None:
    request = _request()
    content = f'{{"error": {{"message": "moved, your key {KEY}"}}}}'.encode()
    with pytest.raises(RedirectError) as caught:
        follow_redirect(request, _answer(300, "/x", request), content)
    error = caught.value
    assert "moved, your key" in error.message
    assert KEY not in f"{error} {error!r} {error.body!r}"
    assert error.request is request
