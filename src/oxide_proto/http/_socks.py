"""The SOCKS5 conversation that opens a tunnel through a SOCKS proxy, without sockets.

RFC 1928 (and RFC 1929 for a username and password): the client offers its
authentication methods, the proxy picks one, the client authenticates if asked,
then asks for a connection to `host:port` and the proxy answers with a reply
code. The messages are encoded and decoded by `socksio` (sans-I/O, like h11); this
module frames the proxy's answers (socksio wants each one whole, and a socket
hands them over in pieces), drives the steps and turns every refusal into a
`ProxyError` carrying the SOCKS reply code. socksio is imported when a SOCKS proxy
is first used, so the core imports without it; a missing socksio is an
`ImportError` naming the extra that installs it.

`socks5://` sends the proxy the address the driver resolved the host to (DNS on
the client, `address`); `socks5h://` sends the host name and lets the proxy
resolve it (DNS on the proxy: the way to reach names only the proxy's network
knows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base._errors import LocalProtocolError, ProxyAuthenticationError, ProxyError

if TYPE_CHECKING:
    from ._proxy import Proxy

__all__ = ["SocksTunnel", "SOCKS5_REPLIES", "require_socksio"]

# RFC 1928 §6: what a non-zero reply code means.
SOCKS5_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}

# Bytes of the bound address in the CONNECT reply, by address type (1: IPv4, 4: IPv6;
# 3, a name, says its own length).
_ADDRESS_SIZE = {1: 4, 4: 16}


def require_socksio() -> None:
    """Raises the `ImportError` that names the extra when socksio is missing."""
    try:
        import socksio  # noqa: F401
    except ImportError:
        raise ImportError(
            "SOCKS proxies need the socksio package, which is not installed: "
            "pip install 'oxide-client[socks]'"
        ) from None


class SocksTunnel:
    """The SOCKS5 handshake that opens a tunnel to `host:port` through `proxy`.

    Used like `ProxyTunnel`: send `data_to_send()`, feed what the proxy answers to
    `receive_data()` (b"" when it closed), and send `data_to_send()` again after
    each feed, until `receive_data()` returns True; `leftover` then holds any bytes
    after the proxy's last answer. `address` is what the proxy is asked to connect
    to when it is not `host` (a `socks5://` proxy gets the address the client
    resolved). Refusals raise `ProxyError` with `reply_code` (the SOCKS reply, or
    None when the proxy broke the protocol); authentication failures raise
    `ProxyAuthenticationError`.
    """

    __slots__ = (
        "_buffer",
        "_conn",
        "_out",
        "_step",
        "address",
        "host",
        "leftover",
        "port",
        "proxy",
    )

    def __init__(self, proxy: Proxy, host: str, port: int, *, address: str | None = None) -> None:
        require_socksio()
        import socksio as socks

        self.proxy = proxy
        self.host = host
        self.port = port
        self.address = address or host
        self.leftover = b""
        self._buffer = b""
        self._conn = socks.SOCKS5Connection()
        methods = [socks.SOCKS5AuthMethod.NO_AUTH_REQUIRED]
        if proxy.username is not None:
            methods.append(socks.SOCKS5AuthMethod.USERNAME_PASSWORD)
        self._conn.send(socks.SOCKS5AuthMethodsRequest(methods))
        # What the next answer is: "method", "auth", "reply"; "open" at the end.
        self._step = "method"

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def data_to_send(self) -> bytes:
        """What to send the proxy now (b"" when nothing)."""
        return bytes(self._conn.data_to_send())

    def receive_data(self, data: bytes) -> bool:
        """Feeds the proxy's bytes; True once the tunnel is open."""
        if self._step == "open":
            raise LocalProtocolError("the SOCKS tunnel is open already: its bytes are the tunnel's")
        if not data:
            if self._step == "auth":
                # Some servers close without the failure reply RFC 1929 asks for.
                raise self._auth_error("it closed the connection after the login was sent")
            raise self._error("the proxy closed the connection before answering")
        self._buffer += data
        while self._step != "open":
            size = self._answer_size()
            if size is None or len(self._buffer) < size:
                return False
            answer, self._buffer = self._buffer[:size], self._buffer[size:]
            self._take(answer)
        self.leftover, self._buffer = self._buffer, b""
        return True

    def _answer_size(self) -> int | None:
        """The size of the answer expected now, None until enough of it says."""
        if self._step != "reply":
            return 2
        buffer = self._buffer
        if len(buffer) < 5:
            return None
        if buffer[0] != 5:
            raise self._error(f"not a SOCKS5 answer (version byte {buffer[0]})")
        kind = buffer[3]
        if kind == 3:
            return 4 + 1 + buffer[4] + 2
        if kind not in _ADDRESS_SIZE:
            raise self._error(f"invalid SOCKS5 reply (address type {kind})")
        return 4 + _ADDRESS_SIZE[kind] + 2

    def _take(self, answer: bytes) -> None:
        import socksio as socks

        step = self._step
        if step == "method":
            if answer[0] != 5:
                raise self._error(f"not a SOCKS5 proxy (version byte {answer[0]})")
            if answer[1] == 0xFF:
                raise self._auth_error("it accepts none of the offered authentication methods")
            try:
                method = self._conn.receive_data(answer).method  # type: ignore[union-attr]
            except socks.ProtocolError:
                raise self._error(f"unknown authentication method {answer[1]}") from None
            if method == socks.SOCKS5AuthMethod.USERNAME_PASSWORD:
                if self.proxy.username is None:
                    raise self._auth_error("it asks for a username and password")
                user = self.proxy.username.encode()
                password = (self.proxy.password or "").encode()
                if len(user) > 255 or len(password) > 255:
                    raise self._error("SOCKS5 usernames and passwords are 255 bytes at most")
                self._conn.send(socks.SOCKS5UsernamePasswordRequest(user, password))
                self._step = "auth"
            elif method == socks.SOCKS5AuthMethod.NO_AUTH_REQUIRED:
                self._connect()
            else:
                raise self._error(f"the proxy chose a method that was not offered ({method.name})")
        elif step == "auth":
            if answer[0] != 1 or not self._conn.receive_data(answer).success:  # type: ignore[union-attr]
                raise self._auth_error("the username and password were refused")
            self._connect()
        else:
            try:
                reply = self._conn.receive_data(answer)
            except socks.ProtocolError:
                raise self._error(f"invalid SOCKS5 reply (code {answer[1]})", answer[1]) from None
            code = reply.reply_code[0]  # type: ignore[union-attr]
            if code != 0:
                reason = SOCKS5_REPLIES.get(code, "unknown reply")
                raise self._error(
                    f"the proxy refused to open a tunnel to {self.target}: {reason} "
                    f"(SOCKS5 reply {code})",
                    code,
                )
            self._step = "open"

    def _connect(self) -> None:
        import socksio as socks

        request = socks.SOCKS5CommandRequest.from_address(
            socks.SOCKS5Command.CONNECT, (self.address, self.port)
        )
        if len(request.addr) > 255:
            raise self._error("the host name is longer than SOCKS5 allows (255 bytes)")
        self._conn.send(request)
        self._step = "reply"

    def _auth_error(self, detail: str) -> ProxyAuthenticationError:
        credentials = (
            "the credentials in the proxy URL were refused"
            if self.proxy.username is not None
            else "the proxy URL has no credentials"
        )
        return ProxyAuthenticationError(
            f"SOCKS proxy {self.proxy.url} requires authentication ({detail}): {credentials}",
            proxy_url=self.proxy.url,
        )

    def _error(self, message: str, code: int | None = None) -> ProxyError:
        return ProxyError(
            f"SOCKS proxy {self.proxy.url}: {message}", proxy_url=self.proxy.url, reply_code=code
        )
