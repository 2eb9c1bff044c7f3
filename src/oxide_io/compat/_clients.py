"""`OpenAI`: oxide's blocking `Client` under the official SDK's name.

A subclass only so that its name and repr read as the official ones; the options
(`http_client=` with oxide's transport, a key provider function, httpx-style
timeouts) are the client's own, and requests go through `Client` unchanged. The
httpx client factories of the official SDK (`DefaultHttpxClient`, ...) raise a
`TypeError` that names oxide's equivalent options, since oxide's transport is its
own and takes no httpx object.
"""

from __future__ import annotations

from typing import NoReturn

from .._sync._clients import Client

__all__ = ["HTTPX_FACTORIES", "OpenAI", "httpx_factory", "missing_client"]

_OXIDE_OPTIONS = (
    "oxide has its own transport and takes no httpx client; pass the options to the"
    " client instead: timeout=, max_retries=, default_headers=, verify= (CA bundle,"
    " SSLContext or False), http2=, max_connections=, max_keepalive_connections=,"
    " keepalive_expiry=, or http_client=oxide_io.SyncTransport(...)"
)


class OpenAI(Client):
    """The OpenAI API from blocking code: oxide's `Client` (see its documentation)."""


def httpx_factory(name: str) -> type:
    """A stand-in for the official SDK's httpx client class `name`: using it is a TypeError."""

    def refuse(cls: type, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"openai.{name} builds an httpx client: {_OXIDE_OPTIONS}")

    return type(name, (), {"__new__": refuse, "__doc__": f"Not available: {_OXIDE_OPTIONS}."})


HTTPX_FACTORIES = (
    "DefaultHttpxClient",
    "DefaultAsyncHttpxClient",
    "DefaultHttpx2Client",
    "DefaultAsyncHttpx2Client",
    "DefaultAioHttpClient",
)


def missing_client(name: str, reason: str) -> type:
    """A class standing for a client oxide does not have: constructing it says why."""

    def refuse(cls: type, *args: object, **kwargs: object) -> NoReturn:
        raise NotImplementedError(f"{name}: {reason}")

    return type(name, (), {"__new__": refuse, "__doc__": f"Not available: {reason}."})
