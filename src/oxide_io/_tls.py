"""TLS contexts: built once, shared by every connection that needs the same trust.

Loading a CA bundle costs tens of milliseconds (it is most of what makes the
official client slow to construct), so contexts are built on first use, not at
client construction, and cached per (trust, client certificate, purpose). Trust
comes from certifi's Mozilla bundle by default: the same roots the official SDK
(through httpx) trusts, identical on every OS and in containers without a system
store. `verify` may name a CA bundle file or directory, or be a ready
`ssl.SSLContext`, or be "system" for the operating system's trust store (through
the optional `truststore` package), which is where a corporate CA is usually
installed. `cert` is a client certificate for servers that ask for one (mutual
TLS): a PEM file holding certificate and key, or `(certfile, keyfile)`, or
`(certfile, keyfile, password)`; it is loaded once when the client is built, so a
missing file or a wrong password is a `ClientCertificateError` there, not at the
first request.

As in the official SDK, when the environment is trusted and `verify` is True,
SSL_CERT_FILE (else SSL_CERT_DIR) replaces the default bundle.

ALPN is set per purpose: an HTTP context offers h2 and http/1.1 (http/1.1 alone
with `http2=False`); a WebSocket context offers only http/1.1, because a server
offered h2 may pick it, and an Upgrade cannot be sent over HTTP/2. Python sets
ALPN on a context only (an `SSLSocket` or `SSLObject` has no setter, and there is
no way to copy a context), and a caller's context is never changed: what it
offers is read once from a ClientHello it writes into memory. When that suits the
purpose, the context is used as it is. Otherwise its TLS objects are made by a
`LentContext` (`_tls_lent`) that offers the purpose's ALPN and hands each object
to the caller's context before the handshake, so the caller's client certificate
and key, trust store (a `capath` directory included) and key log are what the
connection uses. Only with `cert` as well, or for a context whose class makes
its TLS objects itself (truststore's, which keeps its OpenSSL context inside and
verifies after the handshake), is a context derived instead: one of the caller's
class with its verification settings and the CA certificates loaded into it,
plus `cert`; OpenSSL cannot hand back a private key, so a certificate in such a
context reaches the server only through `cert`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, TypeVar, Union, overload

__all__ = [
    "CertTypes",
    "ClientCertificateError",
    "VerifyTypes",
    "check_cert",
    "ssl_context",
    "verify_from_env",
]

# `ssl` is imported on the first TLS connection: plain-http use never loads it. So
# the two aliases, which only annotations use (never evaluated on import), exist at
# run time only once asked for (`__getattr__` below): built on import, they would
# need `ssl`, or name it as a string that the Union compiles on the spot, and the
# first compile() of a process costs about 10 million instructions (CPython sets up
# its AST classes).
if TYPE_CHECKING:
    import ssl

    VerifyTypes = bool | str | os.PathLike[str] | ssl.SSLContext
    # A PEM file with certificate and key, (certfile, keyfile) or (certfile, keyfile, password).
    CertTypes = (
        str
        | os.PathLike[str]
        | tuple[str | os.PathLike[str], str | os.PathLike[str] | None]
        | tuple[str | os.PathLike[str], str | os.PathLike[str] | None, str | bytes | None]
    )
else:

    def __getattr__(name: str) -> object:
        if name not in ("VerifyTypes", "CertTypes"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import ssl

        path = str | os.PathLike[str]
        aliases = {
            "VerifyTypes": bool | str | os.PathLike[str] | ssl.SSLContext,
            "CertTypes": path
            | tuple[path, path | None]
            | tuple[path, path | None, str | bytes | None],
        }
        globals().update(aliases)
        return aliases[name]


Purpose = Literal["http", "http1", "websocket"]

_ALPN: dict[str, list[str]] = {
    "http": ["h2", "http/1.1"],
    "http1": ["http/1.1"],
    "websocket": ["http/1.1"],
}
# A client certificate, normalized: (certfile, keyfile or None, password or None).
_Cert = tuple[str, Union[str, None], Union[str, bytes, None]]  # noqa: UP007
_cache: dict[tuple[object, _Cert | None, str], ssl.SSLContext] = {}
# Per caller's context: the contexts derived from it, by (cert, purpose).
_derived: weakref.WeakKeyDictionary[ssl.SSLContext, dict[tuple[_Cert | None, str], ssl.SSLContext]]
_derived = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class ClientCertificateError(ValueError):
    """The client certificate (`cert=`) cannot be used: a file is missing or is not
    PEM, the key does not match the certificate, or the password is wrong.

    `path` names the certificate file; the password never appears in the message.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def _after_fork_in_child() -> None:
    # A thread of the parent may have been building a context at the fork: its
    # lock would stay taken in the child. The contexts themselves are safe to
    # share (OpenSSL reseeds its random generator in a forked child).
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def verify_from_env(verify: VerifyTypes, env: Mapping[str, str] | None) -> VerifyTypes:
    """`verify`, or the CA file or directory that SSL_CERT_FILE / SSL_CERT_DIR in `env`
    name when `verify` is True (None: the environment is not trusted)."""
    if verify is True and env is not None:
        return env.get("SSL_CERT_FILE") or env.get("SSL_CERT_DIR") or True
    return verify


def check_cert(cert: CertTypes | None) -> _Cert | None:
    """`cert` normalized, after loading it once: a `ClientCertificateError` now, at
    client construction, rather than at the first connection."""
    if cert is None:
        return None
    if isinstance(cert, tuple):
        if not 1 <= len(cert) <= 3:
            raise TypeError(
                "cert must be a PEM file, (certfile, keyfile) or (certfile, keyfile, password)"
            )
        certfile = os.fspath(cert[0])
        keyfile = None if len(cert) < 2 or cert[1] is None else os.fspath(cert[1])
        password = cert[2] if len(cert) == 3 else None
    else:
        certfile, keyfile, password = os.fspath(cert), None, None
    normalized: _Cert = (certfile, keyfile, password)
    import ssl

    _load_cert(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), normalized)
    return normalized


def _load_cert(ctx: ssl.SSLContext, cert: _Cert) -> None:
    import ssl

    certfile, keyfile, password = cert
    for path in (certfile, keyfile):
        if path is not None and not os.path.isfile(path):
            raise ClientCertificateError(
                f"client certificate: no such file {path!r}", path=certfile
            )
    try:
        ctx.load_cert_chain(certfile, keyfile, password)
    except (OSError, ssl.SSLError) as exc:
        # OpenSSL's reason (PEM lib, KEY_VALUES_MISMATCH, bad decrypt) says which.
        files = certfile if keyfile is None else f"{certfile!r} and {keyfile!r}"
        hint = " (is the password right?)" if password is not None else ""
        raise ClientCertificateError(
            f"cannot load the client certificate from {files}: {exc}{hint}", path=certfile
        ) from None


def ssl_context(verify: VerifyTypes, purpose: Purpose, cert: _Cert | None = None) -> ssl.SSLContext:
    """The shared context for `verify`, `cert` (from `check_cert`) and `purpose`
    (built on first call)."""
    import ssl

    if isinstance(verify, ssl.SSLContext):
        return _for_purpose(verify, purpose, cert)
    key = (os.fspath(verify) if not isinstance(verify, bool) else verify, cert, purpose)
    ctx = _cache.get(key)
    if ctx is None:
        with _lock:
            ctx = _cache.get(key)
            if ctx is None:
                ctx = _build(verify, purpose)
                if cert is not None:
                    _load_cert(ctx, cert)
                _cache[key] = ctx
    return ctx


def _for_purpose(caller: ssl.SSLContext, purpose: Purpose, cert: _Cert | None) -> ssl.SSLContext:
    """The caller's context when what it offers suits `purpose` (and no `cert` is to
    be added), else one that makes its connections for `purpose` (never changing it)."""
    derived = _derived.get(caller)
    ctx = None if derived is None else derived.get((cert, purpose))
    if ctx is not None:
        return ctx
    with _lock:
        derived = _derived.setdefault(caller, {})
        ctx = derived.get((cert, purpose))
        if ctx is None:
            offered = offered_alpn(caller)
            wants_h2 = purpose == "http"
            if cert is None and offered is not None and ("h2" in offered) == wants_h2:
                ctx = caller
            elif cert is None and _can_lend(caller):
                from ._tls_lent import LentContext

                lent = _derive(caller, purpose, LentContext)
                lent.lender = caller
                ctx = lent
            else:
                ctx = _derive(caller, purpose, None)
                if cert is not None:
                    _load_cert(ctx, cert)
            derived[(cert, purpose)] = ctx
    return ctx


def _can_lend(ctx: ssl.SSLContext) -> bool:
    """Whether TLS objects made elsewhere may be moved to `ctx`: it is an OpenSSL
    context whose TLS objects are the standard ones, made the standard way. One
    whose class makes them itself (truststore's, which keeps its OpenSSL context
    inside and verifies after the handshake) would lose what it does."""
    import ssl

    cls = type(ctx)
    return (
        issubclass(cls, ssl.SSLContext)
        and cls.wrap_socket is ssl.SSLContext.wrap_socket
        and cls.wrap_bio is ssl.SSLContext.wrap_bio
        and ctx.sslsocket_class is ssl.SSLSocket
        and ctx.sslobject_class is ssl.SSLObject
    )


if TYPE_CHECKING:  # annotations only: `ssl` loads with the first TLS connection
    _C = TypeVar("_C", bound=ssl.SSLContext)


@overload
def _derive(caller: ssl.SSLContext, purpose: Purpose, lent: type[_C]) -> _C: ...
@overload
def _derive(caller: ssl.SSLContext, purpose: Purpose, lent: None) -> ssl.SSLContext: ...
def _derive(
    caller: ssl.SSLContext, purpose: Purpose, lent: type[ssl.SSLContext] | None
) -> ssl.SSLContext:
    """A context with the caller's verification settings, offering the ALPN of
    `purpose`: of class `lent` (its TLS objects move to the caller's context, which
    then verifies with its own trust store), else of the caller's class with the
    CA certificates loaded into the caller's."""
    import ssl

    if lent is not None:
        ctx = lent(ssl.PROTOCOL_TLS_CLIENT)
    else:
        try:
            # The caller's class: truststore's verifies with the OS, as the caller's did.
            ctx = type(caller)(ssl.PROTOCOL_TLS_CLIENT)
        except TypeError:  # a subclass built with other arguments
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The hostname check first: verify_mode cannot be CERT_NONE while it is on.
    ctx.check_hostname = caller.check_hostname
    ctx.verify_mode = caller.verify_mode
    ctx.verify_flags = caller.verify_flags
    ctx.options = caller.options
    ctx.minimum_version = caller.minimum_version
    ctx.maximum_version = caller.maximum_version
    ctx.hostname_checks_common_name = caller.hostname_checks_common_name
    ctx.post_handshake_auth = caller.post_handshake_auth
    # TLS 1.3 suites cannot be set from Python: the TLS 1.2 list is what can differ.
    names = [c["name"] for c in caller.get_ciphers() if c.get("protocol") != "TLSv1.3"]
    if names:
        with contextlib.suppress(ssl.SSLError):
            ctx.set_ciphers(":".join(names))
    ctx.set_alpn_protocols(_ALPN[purpose])
    if lent is not None:
        return ctx  # the key log, trust store and certificate are the caller's
    if caller.keylog_filename:
        ctx.keylog_filename = caller.keylog_filename
    try:
        cas = caller.get_ca_certs(binary_form=True)
    except NotImplementedError:  # truststore's: it verifies with the OS, not a store
        cas = []
    if cas:
        ctx.load_verify_locations(cadata=b"".join(cas))
    return ctx


def offered_alpn(ctx: ssl.SSLContext) -> tuple[str, ...] | None:
    """The ALPN protocols `ctx` offers, read from a ClientHello it writes into memory
    (no network); None when the hello could not be read."""
    import ssl

    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname="alpn.invalid")
        with contextlib.suppress(ssl.SSLWantReadError):
            tls.do_handshake()  # stops at once: it writes the hello, then needs an answer
        return parse_client_hello_alpn(outgoing.read())
    except (ssl.SSLError, ValueError, IndexError):
        return None


def parse_client_hello_alpn(data: bytes) -> tuple[str, ...] | None:
    """The protocols of the ALPN extension of a TLS ClientHello (RFC 7301), () when it
    has none; None when `data` does not start with a whole ClientHello."""
    body = b""
    while data:  # the hello may span records
        if len(data) < 5 or data[0] != 22:
            return None
        size = int.from_bytes(data[3:5], "big")
        body, data = body + data[5 : 5 + size], data[5 + size :]
    if len(body) < 4 or body[0] != 1:
        return None
    end = 4 + int.from_bytes(body[1:4], "big")
    if len(body) < end:
        return None
    pos = 4 + 2 + 32  # version, random
    pos += 1 + body[pos]  # session id
    pos += 2 + int.from_bytes(body[pos : pos + 2], "big")  # cipher suites
    pos += 1 + body[pos]  # compression methods
    if pos >= end:
        return ()
    stop = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
    pos += 2
    while pos + 4 <= stop:
        kind = int.from_bytes(body[pos : pos + 2], "big")
        size = int.from_bytes(body[pos + 2 : pos + 4], "big")
        pos += 4
        if kind == 16:  # application_layer_protocol_negotiation
            protocols: list[str] = []
            at, last = pos + 2, pos + size
            while at < last:
                length = body[at]
                protocols.append(body[at + 1 : at + 1 + length].decode("ascii", "replace"))
                at += 1 + length
            return tuple(protocols)
        pos += size
    return ()


def _build(verify: bool | str | os.PathLike[str], purpose: Purpose) -> ssl.SSLContext:
    import ssl

    if verify == "system":
        try:
            import truststore
        except ImportError:
            raise ImportError(
                'verify="system" uses the operating system\'s trust store through the '
                "truststore package, which is not installed: pip install 'oxide-client[truststore]'"
            ) from None
        ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if verify is False:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif verify == "system":
        pass  # truststore verifies against the OS store, hostname included
    elif verify is True:
        import certifi

        ctx.load_verify_locations(cafile=certifi.where())
    else:
        path = os.fspath(verify)
        try:
            if os.path.isdir(path):
                ctx.load_verify_locations(capath=path)
            else:
                ctx.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load CA certificates from {path!r}: {exc}") from exc
    ctx.set_alpn_protocols(_ALPN[purpose])
    return ctx
