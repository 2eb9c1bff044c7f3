"""A context that offers one purpose's ALPN on TLS connections that belong to a caller's context.

Python sets ALPN on a context only, and OpenSSL copies a context's ALPN list into
each TLS object when the object is created. A TLS object can then be moved to
another context (`SSLSocket.context` / `SSLObject.context`, OpenSSL's
SSL_set_SSL_CTX, the call a server's SNI callback uses): from then on it uses that
context's certificate and private key, its trust store and its key log, and
keeps what it copied at creation: the ALPN list, the verify mode, the hostname to
check, the TLS versions and the options.

`LentContext` is built for one caller's context and one purpose: it carries the
purpose's ALPN and the caller's verify mode, hostname check, verify flags, TLS
versions and options, and every TLS object it makes is moved to the caller's
context before its handshake. The caller's context is never changed, so it stays
safe to use at the same time from other threads and other code, and a client
certificate loaded into it (which OpenSSL cannot hand back, so no copy could hold
it) is sent. This module imports `ssl`, so it is loaded only once a caller's
context needs it.
"""

from __future__ import annotations

import socket
import ssl

__all__ = ["LentContext"]


class LentContext(ssl.SSLContext):
    """Makes TLS objects with this context's ALPN and verification settings, then
    hands each to `lender` (which supplies its certificate, key and trust store)."""

    lender: ssl.SSLContext

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        # The handshake waits until the socket belongs to the lender's context.
        tls = super().wrap_socket(
            sock,
            server_side=server_side,
            do_handshake_on_connect=False,
            suppress_ragged_eofs=suppress_ragged_eofs,
            server_hostname=server_hostname,
            session=session,
        )
        try:
            tls.context = self.lender
            if do_handshake_on_connect:
                tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        return tls

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        tls = super().wrap_bio(
            incoming,
            outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
        )
        tls.context = self.lender
        return tls
