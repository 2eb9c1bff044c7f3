"""TLS contexts: built once, shared by every connection that needs the same trust.

Loading a CA bundle costs tens of milliseconds (it is most of what makes the
official client slow to construct), so contexts are built on first use, not at
client construction, and cached per (trust, purpose). Trust comes from certifi's
Mozilla bundle by default: the same roots the official SDK (through httpx) trusts,
identical on every OS and in containers without a system store. `verify` may name
a CA bundle file or directory, or be a ready `ssl.SSLContext`, or be "system" for
the operating system's trust store (through the optional `truststore` package),
which is where a corporate CA is usually installed.

As in the official SDK, when the environment is trusted and `verify` is True,
SSL_CERT_FILE (else SSL_CERT_DIR) replaces the default bundle.

ALPN is set per purpose: an HTTP context offers h2 and http/1.1; a WebSocket
context offers only http/1.1, because reusing an h2-offering context for a
WebSocket upgrade can make the server pick h2 and break the handshake.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:
    import ssl

__all__ = ["VerifyTypes", "ssl_context", "verify_from_env"]

# `ssl` is imported on the first TLS connection: plain-http use never loads it.
VerifyTypes = Union[bool, str, "os.PathLike[str]", "ssl.SSLContext"]
Purpose = Literal["http", "http1", "websocket"]

_ALPN: dict[str, list[str]] = {
    "http": ["h2", "http/1.1"],
    "http1": ["http/1.1"],
    "websocket": ["http/1.1"],
}
_cache: dict[tuple[object, str], ssl.SSLContext] = {}
_lock = threading.Lock()


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


def ssl_context(verify: VerifyTypes, purpose: Purpose) -> ssl.SSLContext:
    """The shared context for `verify` and `purpose` (built on first call)."""
    import ssl

    if isinstance(verify, ssl.SSLContext):
        return verify  # the caller owns it, ALPN included
    key = (os.fspath(verify) if not isinstance(verify, bool) else verify, purpose)
    ctx = _cache.get(key)
    if ctx is None:
        with _lock:
            ctx = _cache.get(key)
            if ctx is None:
                ctx = _build(verify, purpose)
                _cache[key] = ctx
    return ctx


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
