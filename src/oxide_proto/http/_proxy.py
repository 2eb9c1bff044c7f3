"""Proxies: which proxy a URL goes through, and the CONNECT handshake, without sockets.

Configuration follows the official SDK's HTTP stack:

- From an environment mapping (the driver passes the process environment): `HTTP_PROXY`,
  `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`, any case, the all-lowercase name
  winning over the others (an empty lowercase one removes the setting). Under CGI
  (`REQUEST_METHOD` set) the non-lowercase `HTTP_PROXY` is ignored, since a client
  of the web server can set it through a `Proxy:` header. A proxy given without a
  scheme is an `http://` one.
- `NO_PROXY` entries: `*` (no proxy at all), a host (`example.com` also matches
  its subdomains, not `badexample.com`), `.example.com` or `*.example.com` (only
  subdomains), `localhost`, an IP address (`127.0.0.1`, `::1`), a network in CIDR
  form (`10.0.0.0/8`, `fd00::/8`), an optional `:port`, and `scheme://host` to
  bypass for one scheme only. Entries that cannot be parsed are ignored.
- An explicit mapping of URL patterns to proxies (`{"https://": "http://p:3128",
  "all://*.internal": None}`) uses the same pattern language; the most specific
  matching pattern wins (with a port, then an exact host, then the smallest
  network, then the longest host, then the longest scheme).

A proxy URL may carry credentials (`http://user:pass@host:port`, percent-encoded):
they are sent as `Proxy-Authorization: Basic ...` (or as a SOCKS5 username and
password) and never appear in a repr or an error message. `http://` proxies and
SOCKS5 ones (`socks5://`, `socks5h://`, see `oxide_proto.http._socks`) are supported.
Through an HTTP proxy, `https://` origins and WebSockets (`ws://` and `wss://`)
go through a CONNECT tunnel (`ProxyTunnel`), plain `http://` requests are sent to
the proxy in absolute form (`absolute_form`). Through a SOCKS proxy, every origin
goes through a SOCKS tunnel (`SocksTunnel`).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from ..base._errors import LocalProtocolError, ProxyAuthenticationError, ProxyError
from ..base._headers import Headers
from ..base._record import field, frozen, replace
from ..base._types import URL, Request

if TYPE_CHECKING:
    import h11

__all__ = [
    "Proxy",
    "ProxyConfig",
    "ProxyTunnel",
    "Tunnel",
    "parse_proxy_url",
    "absolute_form",
]

_PROXY_VARS = ("http", "https", "all")
# Proxy URL schemes, and the port each defaults to.
_SCHEMES = {"http": 80, "socks5": 1080, "socks5h": 1080}


@frozen
class Proxy:
    """One proxy: `scheme` "http", "socks5" (the client resolves host names) or
    "socks5h" (the proxy does). `url` (and the repr) hide the password."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    scheme: str = "http"

    @property
    def url(self) -> str:
        """The proxy's URL, its password masked: safe to log and to put in errors."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = "" if self.username is None else f"{self.username}:***@"
        return f"{self.scheme}://{user}{host}:{self.port}"

    @property
    def is_socks(self) -> bool:
        return self.scheme != "http"

    @property
    def authorization(self) -> str | None:
        """The `Proxy-Authorization` value, when the proxy URL carried credentials."""
        if self.username is None:
            return None
        token = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")


def parse_proxy_url(url: str) -> Proxy:
    """The `Proxy` for `url` (`host:port` alone means `http://host:port`; a SOCKS
    proxy's port defaults to 1080).

    Raises `ValueError` naming what is wrong; the message never holds the password.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    redacted = _redact(text)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(
            f"unsupported proxy URL {redacted!r}: only http://, socks5:// and socks5h:// "
            "proxies are supported"
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"invalid proxy URL {redacted!r}: {exc}") from None
    if not host:
        raise ValueError(f"invalid proxy URL {redacted!r}: no host")
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return Proxy(
        host=host,
        port=port or _SCHEMES[scheme],
        username=username,
        password=password,
        scheme=scheme,
    )


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, hostpart = rest.partition("@")
    if not at or "/" in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{hostpart}"


class _Pattern:
    """A URL pattern: `scheme://host[:port]`, scheme `all` for any, host `*`, `*x`, `*.x`,
    a literal, or an IP network."""

    __slots__ = ("host", "kind", "network", "port", "scheme", "text")

    def __init__(self, text: str) -> None:
        scheme, sep, rest = text.partition("://")
        if not sep:
            raise ValueError(f"invalid proxy pattern {text!r}: expected scheme://[host]")
        self.text = text
        self.scheme = "" if scheme.lower() == "all" else scheme.lower()
        self.port: int | None = None
        self.network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
        prefix = ""
        if rest.startswith("["):
            host, close, after = rest[1:].partition("]")
            if not close:
                raise ValueError(f"invalid proxy pattern {text!r}: unclosed '['")
            after, _, prefix = after.partition("/")
            if after:
                if not after.startswith(":"):
                    raise ValueError(f"invalid proxy pattern {text!r}")
                self.port = _port(after[1:], text)
        else:
            hostport, _, prefix = rest.rstrip("/").partition("/") if rest else ("", "", "")
            host, colon, port = hostport.rpartition(":")
            if not colon:
                host = port
            else:
                self.port = _port(port, text)
        host = host.lower()
        if prefix:
            if not prefix.isdigit():
                raise ValueError(f"invalid network in {text!r}")
            try:
                self.network = ipaddress.ip_network(f"{host}/{prefix}", strict=False)
            except ValueError:
                raise ValueError(f"invalid network in {text!r}") from None
            self.kind = "network"
        elif not host or host == "*":
            self.kind = "any"
        elif host.startswith("*."):
            self.kind, host = "subdomain", host[2:]
        elif host.startswith("*"):
            self.kind, host = "domain", host[1:]
        else:
            self.kind = "exact"
        if self.kind in ("subdomain", "domain") and not host:
            raise ValueError(f"invalid proxy pattern {text!r}: empty domain")
        self.host = host

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if self.scheme and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        kind = self.kind
        if kind == "any":
            return True
        host = host.lower()
        if kind == "exact":
            return host == self.host
        if kind == "domain":
            return host == self.host or host.endswith("." + self.host)
        if kind == "subdomain":
            return host.endswith("." + self.host) and len(host) > len(self.host) + 1
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        assert self.network is not None
        return address in self.network

    @property
    def priority(self) -> tuple[int, int, int, int, int]:
        network = self.network
        return (
            0 if self.port is not None else 1,
            1 if network is not None else 2 if self.kind == "any" else 0,
            network.num_addresses if network is not None else 0,
            -len(self.host) if network is None else 0,
            -len(self.scheme),
        )


def _port(text: str, pattern: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"invalid port in proxy pattern {pattern!r}")
    return int(text)


def _no_proxy_pattern(entry: str) -> str | None:
    """The URL pattern for one NO_PROXY entry (None for an empty one)."""
    if not entry:
        return None
    if "://" in entry:
        return entry
    address = entry.split("/")[0]
    for kind in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        try:
            kind(address)
        except ValueError:
            continue
        if kind is ipaddress.IPv6Address:
            addr, slash, prefix = entry.partition("/")
            return f"all://[{addr}]{slash}{prefix}"
        return f"all://{entry}"
    if entry.lower() == "localhost" or entry.startswith("[") or entry.startswith("*."):
        return f"all://{entry}"
    if "/" in entry:
        return None  # a network that is not an address: ignored, as curl does
    # `.example.com` becomes `*.example.com` (subdomains only), `example.com`
    # becomes `*example.com` (the domain and its subdomains).
    return f"all://*{entry}"


class ProxyConfig:
    """Which proxy (or none) each URL goes through."""

    __slots__ = ("_rules",)

    def __init__(self, rules: Mapping[str, Proxy | str | None] | None = None) -> None:
        """`rules` maps URL patterns (`all://`, `https://`, `all://*.example.com`,
        `http://10.0.0.0/8` ...) to a proxy (a `Proxy` or its URL) or None for direct."""
        parsed: list[tuple[_Pattern, Proxy | None]] = []
        for pattern, proxy in (rules or {}).items():
            if isinstance(proxy, str):
                proxy = parse_proxy_url(proxy)
            parsed.append((_Pattern(pattern), proxy))
        parsed.sort(key=lambda rule: rule[0].priority)
        self._rules = tuple(parsed)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProxyConfig:
        """The configuration the proxy variables of `env` describe (see the module doc)."""
        found: dict[str, str] = {}
        for name, value in env.items():
            lowered = name.lower()
            if value and lowered.endswith("_proxy"):
                found[lowered[:-6]] = value
        if "REQUEST_METHOD" in env:
            found.pop("http", None)
        for name, value in env.items():
            if name.endswith("_proxy"):
                lowered = name.lower()
                if value:
                    found[lowered[:-6]] = value
                else:
                    found.pop(lowered[:-6], None)
        rules: dict[str, Proxy | None] = {}
        for scheme in _PROXY_VARS:
            configured = found.get(scheme)
            if configured:
                try:
                    rules[f"{scheme}://"] = parse_proxy_url(configured)
                except ValueError as exc:
                    raise ValueError(f"{scheme.upper()}_PROXY: {exc}") from None
        for raw in found.get("no", "").split(","):
            entry = raw.strip()
            if entry == "*":
                return cls()
            pattern = _no_proxy_pattern(entry)
            if pattern is None:
                continue
            try:
                _Pattern(pattern)
            except ValueError:
                continue  # as curl and Go do: an entry that cannot be parsed is ignored
            rules[pattern] = None
        return cls(rules)

    @classmethod
    def single(cls, proxy: Proxy | str) -> ProxyConfig:
        """Every request through `proxy` (an explicit proxy ignores NO_PROXY)."""
        return cls({"all://": proxy})

    def __bool__(self) -> bool:
        return any(proxy is not None for _, proxy in self._rules)

    @property
    def proxies(self) -> tuple[Proxy, ...]:
        """Every proxy some URL may go through."""
        return tuple(proxy for _, proxy in self._rules if proxy is not None)

    def proxy_for(self, url: URL) -> Proxy | None:
        """The proxy for `url`, or None to connect directly. ws/wss count as http/https."""
        scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
        for pattern, proxy in self._rules:
            if pattern.matches(scheme, url.host, url.port):
                return proxy
        return None

    def __repr__(self) -> str:
        rules = ", ".join(
            f"{pattern.text!r}: {None if proxy is None else proxy.url!r}"
            for pattern, proxy in self._rules
        )
        return f"ProxyConfig({{{rules}}})"


class Tunnel(Protocol):
    """What a driver needs of a tunnel handshake (`ProxyTunnel`, `SocksTunnel`):
    send `data_to_send()`, feed the answer to `receive_data()`, repeat until it
    returns True; `host` is the origin (TLS starts for it inside the tunnel)."""

    @property
    def proxy(self) -> Proxy: ...
    @property
    def host(self) -> str: ...
    @property
    def leftover(self) -> bytes: ...
    def data_to_send(self) -> bytes: ...
    def receive_data(self, data: bytes) -> bool: ...


class ProxyTunnel:
    """The CONNECT handshake that opens a tunnel to `host:port` through `proxy`.

    Send `data_to_send()` (the request, then b""), then feed what the proxy
    answers to `receive_data()` (b"" when it closed) until it returns True: the
    tunnel is open and `leftover` holds any bytes after the proxy's answer (they
    belong to the tunnel). A refusal or a broken answer raises `ProxyError`
    (`ProxyAuthenticationError` for 407).
    """

    __slots__ = ("_conn", "host", "leftover", "port", "proxy")

    def __init__(self, proxy: Proxy, host: str, port: int) -> None:
        self.proxy = proxy
        self.host = host
        self.port = port
        self.leftover = b""
        self._conn: h11.Connection | None = None

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def data_to_send(self) -> bytes:
        """The CONNECT request the first time, then b"" (it is one request, one answer)."""
        import h11

        if self._conn is not None:
            return b""
        conn = self._conn = h11.Connection(h11.CLIENT)
        target = self.target.encode("ascii")
        headers = [(b"host", target)]
        auth = self.proxy.authorization
        if auth is not None:
            headers.append((b"proxy-authorization", auth.encode("latin-1")))
        data = conn.send(h11.Request(method=b"CONNECT", target=target, headers=headers)) or b""
        return data + (conn.send(h11.EndOfMessage()) or b"")

    def receive_data(self, data: bytes) -> bool:
        """Feeds the proxy's bytes; True once the tunnel is open."""
        import h11

        conn = self._conn
        if conn is None:
            raise LocalProtocolError("send the CONNECT request first")
        try:
            conn.receive_data(data)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    if not data:
                        raise self._error("the proxy closed the connection before answering")
                    return False
                if isinstance(event, h11.InformationalResponse):
                    continue
                if isinstance(event, h11.Response):
                    return self._answer(conn, event)
                if isinstance(event, h11.ConnectionClosed):
                    raise self._error("the proxy closed the connection before answering")
                raise self._error(f"unexpected answer from the proxy: {event!r}")
        except h11.RemoteProtocolError as exc:
            raise self._error(f"invalid answer from the proxy: {exc}") from None

    def _answer(self, conn: h11.Connection, event: h11.Response) -> bool:
        status = event.status_code
        reason = event.reason.decode("latin-1", "replace")
        if 200 <= status < 300:
            self.leftover = conn.trailing_data[0]
            return True
        if status == 407:
            detail = (
                "the credentials in the proxy URL were refused"
                if self.proxy.username is not None
                else "the proxy URL has no credentials"
            )
            raise ProxyAuthenticationError(
                f"Proxy {self.proxy.url} requires authentication (407 {reason}): {detail}",
                proxy_url=self.proxy.url,
                status_code=status,
            )
        raise self._error(
            f"the proxy refused to open a tunnel to {self.target} ({status} {reason})", status
        )

    def _error(self, message: str, status: int | None = None) -> ProxyError:
        return ProxyError(
            f"Proxy {self.proxy.url}: {message}", proxy_url=self.proxy.url, status_code=status
        )


def absolute_form(request: Request, proxy: Proxy) -> Request:
    """`request` as sent to `proxy` for a plain-http origin: the whole URL as the
    request target, plus the proxy's credentials."""
    url = request.url
    headers: Any = request.headers
    auth = proxy.authorization
    if auth is not None:
        headers = Headers((*headers.multi_items(), ("proxy-authorization", auth)))
    return replace(request, url=replace(url, target=str(url)), headers=headers)
