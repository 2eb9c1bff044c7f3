"""Proxy configuration, NO_PROXY matching and the CONNECT handshake (oxide_proto.http._proxy)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings

from oxide_proto import (
    APIConnectionError,
    Headers,
    Proxy,
    ProxyAuthenticationError,
    ProxyConfig,
    ProxyError,
    ProxyTunnel,
    Request,
    absolute_form,
    parse_proxy_url,
    parse_url,
)
from tests.splits import fixed_feeds, split_at, split_points

PROXY = "http://proxy.local:3128"


def _proxy_for(config: ProxyConfig, url: str) -> str | None:
    proxy = config.proxy_for(parse_url(url))
    return None if proxy is None else proxy.url


# -- parsing proxy URLs -------------------------------------------------------------


def test_proxy_url_with_credentials() -> None:
    proxy = parse_proxy_url("http://us%20er:p%40ss:w@proxy.local:8080")
    assert (proxy.host, proxy.port, proxy.username, proxy.password) == (
        "proxy.local",
        8080,
        "us er",
        "p@ss:w",
    )
    assert proxy.authorization == "Basic " + base64.b64encode(b"us er:p@ss:w").decode()
    assert "p@ss" not in repr(proxy) and "p@ss" not in proxy.url
    assert proxy.url == "http://us er:***@proxy.local:8080"


def test_proxy_url_defaults() -> None:
    assert parse_proxy_url("proxy.local:3128") == Proxy(host="proxy.local", port=3128)
    assert parse_proxy_url("http://proxy.local").port == 80
    assert parse_proxy_url("http://[::1]:3128").url == "http://[::1]:3128"
    assert parse_proxy_url("http://proxy.local").authorization is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("socks4://u:secret@proxy:1080", "only http://, socks5:// and socks5h://"),
        ("https://proxy:443", "only http://"),
        ("http://u:secret@proxy:99999", "invalid proxy URL"),
        ("http://u:secret@:3128", "no host"),
    ],
)
def test_bad_proxy_url_never_shows_password(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_proxy_url(url)
    assert "secret" not in str(info.value)


# -- the environment ----------------------------------------------------------------


def test_lowercase_wins_and_empty_lowercase_removes() -> None:
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    assert _proxy_for(ProxyConfig.from_env(env), "https://a.example") == "http://lower:2"
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": ""}
    assert _proxy_for(ProxyConfig.from_env(env), "https://a.example") is None
    assert not ProxyConfig.from_env(env)


def test_scheme_specific_then_all() -> None:
    env = {"HTTP_PROXY": "plain:1", "ALL_PROXY": "http://any:2"}
    config = ProxyConfig.from_env(env)
    assert _proxy_for(config, "http://a.example/") == "http://plain:1"
    assert _proxy_for(config, "https://a.example/") == "http://any:2"
    assert _proxy_for(config, "wss://a.example/") == "http://any:2"


def test_cgi_ignores_uppercase_http_proxy() -> None:
    env = {"HTTP_PROXY": "http://injected:1", "REQUEST_METHOD": "GET"}
    assert _proxy_for(ProxyConfig.from_env(env), "http://a.example/") is None
    env["http_proxy"] = "http://mine:2"
    assert _proxy_for(ProxyConfig.from_env(env), "http://a.example/") == "http://mine:2"


def test_bad_proxy_variable_names_the_variable() -> None:
    with pytest.raises(ValueError, match="HTTPS_PROXY") as info:
        ProxyConfig.from_env({"HTTPS_PROXY": "socks4://u:secret@p:1"})
    assert "secret" not in str(info.value)


NO_PROXY = "localhost,.internal,example.com,10.0.0.0/8,192.168.1.7,::1,fd00::/8,api.test:8443,http://plain.test,bad/x,[::2]:9000"
CASES = [
    ("https://api.openai.com/v1", PROXY),
    ("https://localhost/", None),
    ("https://localhost:8000/", None),
    ("https://a.internal/", None),
    ("https://internal/", PROXY),
    ("https://example.com/", None),
    ("https://www.example.com/", None),
    ("https://badexample.com/", PROXY),
    ("https://10.1.2.3/", None),
    ("https://11.1.2.3/", PROXY),
    ("https://192.168.1.7/", None),
    ("https://192.168.1.8/", PROXY),
    ("https://[::1]/", None),
    ("https://[fd00::5]/", None),
    ("https://[fe80::5]/", PROXY),
    ("https://api.test:8443/", None),
    ("https://api.test:9443/", PROXY),
    ("http://plain.test/", None),
    ("https://plain.test/", PROXY),
    ("https://[::2]:9000/", None),
    ("https://[::2]:9001/", PROXY),
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_no_proxy(url: str, expected: str | None) -> None:
    env = {"HTTPS_PROXY": PROXY, "http_proxy": PROXY, "NO_PROXY": NO_PROXY}
    assert _proxy_for(ProxyConfig.from_env(env), url) == expected


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_no_proxy_agrees_with_the_official_stack(
    url: str, expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The official SDK's HTTP stack reads the same variables the same way."""
    httpx2 = pytest.importorskip("httpx2")
    from httpx2._utils import URLPattern, get_environment_proxies

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("http_proxy", PROXY)
    monkeypatch.setenv("NO_PROXY", NO_PROXY)
    mounts = sorted((URLPattern(key), value) for key, value in get_environment_proxies().items())
    target = httpx2.URL(url)
    theirs = next((value for pattern, value in mounts if pattern.matches(target)), None)
    assert (theirs if theirs is None else PROXY) == expected


def test_no_proxy_star_disables_everything() -> None:
    config = ProxyConfig.from_env({"ALL_PROXY": PROXY, "no_proxy": "a.test, *"})
    assert _proxy_for(config, "https://api.openai.com/") is None


def test_explicit_mapping_most_specific_wins() -> None:
    config = ProxyConfig(
        {
            "all://": PROXY,
            "https://": "http://tls:1",
            "all://*.corp": None,
            "https://special.corp": "http://special:2",
        }
    )
    assert _proxy_for(config, "http://a.example/") == PROXY
    assert _proxy_for(config, "https://a.example/") == "http://tls:1"
    assert _proxy_for(config, "https://x.corp/") is None
    assert _proxy_for(config, "https://special.corp/") == "http://special:2"
    assert _proxy_for(ProxyConfig.single(PROXY), "https://localhost/") == PROXY


@pytest.mark.parametrize("pattern", ["example.com", "all://[::1", "all://a:port", "all://a/x"])
def test_bad_pattern(pattern: str) -> None:
    with pytest.raises(ValueError):
        ProxyConfig({pattern: PROXY})


# -- CONNECT ------------------------------------------------------------------------


def test_connect_request_bytes() -> None:
    tunnel = ProxyTunnel(parse_proxy_url("http://u:pw@p:1"), "api.openai.com", 443)
    auth = base64.b64encode(b"u:pw").decode()
    assert tunnel.data_to_send() == (
        b"CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n"
        b"proxy-authorization: Basic " + auth.encode() + b"\r\n\r\n"
    )
    ipv6 = ProxyTunnel(parse_proxy_url("http://p:1"), "::1", 8443)
    assert ipv6.data_to_send() == b"CONNECT [::1]:8443 HTTP/1.1\r\nhost: [::1]:8443\r\n\r\n"


def _feed(tunnel: ProxyTunnel, chunks: list[bytes]) -> bool:
    tunnel.data_to_send()
    opened = False
    for chunk in chunks:
        if chunk and not opened:
            opened = tunnel.receive_data(chunk)
        elif chunk:
            tunnel.leftover += chunk  # bytes after the answer belong to the tunnel
    return opened


OK = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\nVia: t\r\n\r\n\x16\x03"
REFUSED = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b"Proxy-Authenticate: Basic\r\nContent-Length: 3\r\n\r\nno!"
)
FORBIDDEN = b"HTTP/1.0 403 Forbidden\r\n\r\n"


def _check_ok(chunks: list[bytes]) -> None:
    tunnel = ProxyTunnel(parse_proxy_url("http://p:1"), "h", 443)
    assert _feed(tunnel, chunks)
    assert tunnel.leftover == b"\x16\x03"


def _check_407(chunks: list[bytes]) -> None:
    tunnel = ProxyTunnel(parse_proxy_url("http://user:hunter2@p:1"), "h", 443)
    with pytest.raises(ProxyAuthenticationError) as info:
        _feed(tunnel, chunks)
    error = info.value
    assert isinstance(error, ProxyError) and isinstance(error, APIConnectionError)
    assert error.status_code == 407 and error.proxy_url == "http://user:***@p:1"
    assert "hunter2" not in str(error) and "http://user:***@p:1" in str(error)


def _check_403(chunks: list[bytes]) -> None:
    tunnel = ProxyTunnel(parse_proxy_url("http://p:1"), "h", 443)
    with pytest.raises(ProxyError) as info:
        _feed(tunnel, chunks)
    assert not isinstance(info.value, ProxyAuthenticationError)
    assert info.value.status_code == 403 and "403 Forbidden" in str(info.value)


@pytest.mark.parametrize(
    ("data", "check"), [(OK, _check_ok), (REFUSED, _check_407), (FORBIDDEN, _check_403)]
)
def test_connect_answers_fixed_feeds(data: bytes, check: object) -> None:
    for _, chunks in fixed_feeds(data):
        check(chunks)  # type: ignore[operator]


@settings(max_examples=50, deadline=None)
@given(split_points())
def test_connect_answers_random_splits(points: list[int]) -> None:
    _check_ok(split_at(OK, points))
    _check_407(split_at(REFUSED, points))
    _check_403(split_at(FORBIDDEN, points))


@pytest.mark.parametrize(
    "data", [b"", b"HTTP/1.1 200 OK\r\n", b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 2x0 Hi\r\n\r\n"]
)
def test_connect_broken_answer(data: bytes) -> None:
    tunnel = ProxyTunnel(parse_proxy_url("http://u:hunter2@p:1"), "h", 443)
    tunnel.data_to_send()
    with pytest.raises(ProxyError) as info:
        if not tunnel.receive_data(data):
            tunnel.receive_data(b"")  # then the proxy closes
    assert info.value.status_code is None and "hunter2" not in str(info.value)


def test_error_with_request_keeps_type() -> None:
    tunnel = ProxyTunnel(parse_proxy_url("http://p:1"), "h", 443)
    tunnel.data_to_send()
    with pytest.raises(ProxyAuthenticationError) as info:
        tunnel.receive_data(REFUSED)
    request = Request("GET", parse_url("https://h/"), Headers())
    tied = info.value.with_request(request)
    assert type(tied) is ProxyAuthenticationError and tied.request is request
    assert tied.proxy_url == "http://p:1" and tied.status_code == 407


# -- absolute form ------------------------------------------------------------------


def test_absolute_form() -> None:
    request = Request("GET", parse_url("http://api.test:8080/v1/models?x=1"), Headers({"a": "b"}))
    sent = absolute_form(request, parse_proxy_url("http://u:pw@p:1"))
    assert sent.url.target == "http://api.test:8080/v1/models?x=1"
    assert sent.url.authority == "api.test:8080"
    assert sent.headers["proxy-authorization"] == "Basic " + base64.b64encode(b"u:pw").decode()
    assert sent.headers["a"] == "b"
    assert absolute_form(request, parse_proxy_url("http://p:1")).headers == request.headers
