"""The SOCKS5 handshake of the core: bytes out, bytes in, typed refusals.

The proxy's answers are fed whole, byte by byte and at random split points (a
socket hands them over in any pieces); what the tunnel sends must be the same
every way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings

from oxide_proto import (
    SOCKS5_REPLIES,
    APIConnectionError,
    ProxyAuthenticationError,
    ProxyError,
    SocksTunnel,
    parse_proxy_url,
)
from tests.splits import fixed_feeds, split_at, split_points

GREETING = b"\x05\x01\x00"  # version 5, one method: no authentication
GREETING_AUTH = b"\x05\x02\x00\x02"  # and username/password
CONNECT_NAME = b"\x05\x01\x00\x03\x0fapi.example.com\x01\xbb"  # api.example.com:443
CONNECT_IPV4 = b"\x05\x01\x00\x01\x0a\x00\x00\x07\x01\xbb"  # 10.0.0.7:443
CONNECT_IPV6 = b"\x05\x01\x00\x04" + b"\x00" * 15 + b"\x01" + b"\x20\xfb"  # [::1]:8443
LOGIN = b"\x01\x05alice\x07hunter2"
BOUND_IPV4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40"
BOUND_NAME = b"\x05\x00\x00\x03\x05proxy\x9c\x40"
BOUND_IPV6 = b"\x05\x00\x00\x04" + b"\x00" * 15 + b"\x01" + b"\x9c\x40"


def _run(tunnel: SocksTunnel, chunks: list[bytes]) -> tuple[bytes, bool]:
    """Feeds the chunks; returns everything the tunnel sent and whether it opened."""
    sent = tunnel.data_to_send()
    opened = False
    for chunk in chunks:
        if not chunk:
            continue
        if opened:
            tunnel.leftover += chunk  # bytes after the answer belong to the tunnel
            continue
        opened = tunnel.receive_data(chunk)
        sent += tunnel.data_to_send()
    return sent, opened


def _tunnel(url: str = "socks5h://p:1080", host: str = "api.example.com", **kw: str) -> SocksTunnel:
    return SocksTunnel(parse_proxy_url(url), host, 443, **kw)


def _check_no_auth(chunks: list[bytes]) -> None:
    sent, opened = _run(_tunnel(), chunks)
    assert opened and sent == GREETING + CONNECT_NAME


def _check_login(chunks: list[bytes]) -> None:
    tunnel = _tunnel("socks5h://alice:hunter2@p:1080")
    sent, opened = _run(tunnel, chunks)
    assert opened and sent == GREETING_AUTH + LOGIN + CONNECT_NAME
    assert tunnel.leftover == b"\x16\x03"


def _check_refused(chunks: list[bytes]) -> None:
    with pytest.raises(ProxyError) as info:
        _run(_tunnel(), chunks)
    error = info.value
    assert not isinstance(error, ProxyAuthenticationError)
    assert error.reply_code == 5 and "connection refused (SOCKS5 reply 5)" in str(error)
    assert "api.example.com:443" in str(error) and error.status_code is None


def _check_bad_login(chunks: list[bytes]) -> None:
    with pytest.raises(ProxyAuthenticationError) as info:
        _run(_tunnel("socks5h://alice:hunter2@p:1080"), chunks)
    assert "hunter2" not in str(info.value)
    assert info.value.proxy_url == "socks5h://alice:***@p:1080"


CASES: list[tuple[bytes, Callable[[list[bytes]], None]]] = [
    (b"\x05\x00" + BOUND_IPV4, _check_no_auth),
    (b"\x05\x00" + BOUND_NAME, _check_no_auth),
    (b"\x05\x00" + BOUND_IPV6, _check_no_auth),
    (b"\x05\x02\x01\x00" + BOUND_NAME + b"\x16\x03", _check_login),
    (b"\x05\x00\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", _check_refused),
    (b"\x05\x02\x01\x01", _check_bad_login),
]


@pytest.mark.parametrize(("data", "check"), CASES)
def test_fixed_feeds(data: bytes, check: Callable[[list[bytes]], None]) -> None:
    for _, chunks in fixed_feeds(data):
        check(chunks)


@settings(max_examples=50, deadline=None)
@given(split_points())
def test_random_splits(points: list[int]) -> None:
    for data, check in CASES:
        check(split_at(data, points))


def test_addresses_sent() -> None:
    # socks5://: the driver resolved the name, the proxy gets the address.
    sent, _ = _run(_tunnel("socks5://p", address="10.0.0.7"), [b"\x05\x00"])
    assert sent == GREETING + CONNECT_IPV4
    ipv6 = SocksTunnel(parse_proxy_url("socks5://p"), "::1", 8443)
    sent, _ = _run(ipv6, [b"\x05\x00"])
    assert sent == GREETING + CONNECT_IPV6 and ipv6.target == "[::1]:8443"


@pytest.mark.parametrize(
    ("answer", "kind", "message"),
    [
        (b"\x05\xff", ProxyAuthenticationError, "none of the offered authentication methods"),
        (b"\x05\x02", ProxyAuthenticationError, "asks for a username and password"),
        (b"\x04\x00", ProxyError, "not a SOCKS5 proxy"),
        (b"HTTP/1.1 400 Bad Request\r\n", ProxyError, "not a SOCKS5 proxy"),
        (b"\x05\x01", ProxyError, "method that was not offered"),
        (b"\x05\x00\x04\x00\x00\x01\x00", ProxyError, "not a SOCKS5 answer"),
        (b"\x05\x00\x05\x00\x00\x07\x00\x00", ProxyError, "address type 7"),
        (b"\x05\x00\x05\x09\x00\x01" + b"\x00" * 6, ProxyError, "invalid SOCKS5 reply"),
    ],
)
def test_broken_or_refusing_proxy(answer: bytes, kind: type[ProxyError], message: str) -> None:
    with pytest.raises(kind, match=message) as info:
        _run(_tunnel(), [answer])
    assert isinstance(info.value, APIConnectionError)


def test_every_reply_code_is_named() -> None:
    for code, reason in SOCKS5_REPLIES.items():
        answer = b"\x05\x00\x05" + bytes([code]) + b"\x00\x01" + b"\x00" * 6
        with pytest.raises(ProxyError, match=reason) as info:
            _run(_tunnel(), [answer])
        assert info.value.reply_code == code


def test_closed_before_answering() -> None:
    tunnel = _tunnel()
    tunnel.data_to_send()
    assert not tunnel.receive_data(b"\x05")
    with pytest.raises(ProxyError, match="closed the connection before answering"):
        tunnel.receive_data(b"")


def test_closed_after_the_login_is_a_refusal() -> None:
    tunnel = _tunnel("socks5h://alice:hunter2@p")
    tunnel.data_to_send()
    assert not tunnel.receive_data(b"\x05\x02")
    assert tunnel.data_to_send() == LOGIN
    with pytest.raises(ProxyAuthenticationError, match="after the login was sent"):
        tunnel.receive_data(b"")


def test_error_with_request_keeps_the_reply_code() -> None:
    from oxide_proto import Headers, Request, parse_url

    with pytest.raises(ProxyError) as info:
        _run(_tunnel(), [b"\x05\x00\x05\x02\x00\x01" + b"\x00" * 6])
    request = Request("GET", parse_url("https://api.example.com/"), Headers())
    tied = info.value.with_request(request)
    assert tied.reply_code == 2 and tied.request is request


def test_long_credentials_are_refused_without_showing_them() -> None:
    secret = "s" * 300
    with pytest.raises(ProxyError, match="255 bytes") as info:
        _run(_tunnel(f"socks5h://alice:{secret}@p"), [b"\x05\x02"])
    assert secret not in str(info.value)


def test_proxy_urls() -> None:
    proxy = parse_proxy_url("socks5h://us%20er:pw@proxy.local")
    assert (proxy.scheme, proxy.port, proxy.username, proxy.is_socks) == (
        "socks5h",
        1080,
        "us er",
        True,
    )
    assert proxy.url == "socks5h://us er:***@proxy.local:1080"
    assert not parse_proxy_url("http://p:3128").is_socks


def test_without_socksio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)
    with pytest.raises(ImportError, match=r"oxide-client\[socks\]"):
        _tunnel()
