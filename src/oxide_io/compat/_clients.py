"""`OpenAI`: oxide's blocking `Client` under the official SDK's name.

A subclass only so that its name and repr read as the official ones and so that
the official `http_client=` argument gets a clear error instead of an unknown
keyword; requests go through `Client` unchanged. The httpx client factories of the
official SDK (`DefaultHttpxClient`, ...) raise a `TypeError` that names oxide's
equivalent options, since oxide's transport is its own and takes no httpx object.
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

from .._options import NotGiven
from .._sync._clients import Client
from .._timeout import Timeout

__all__ = [
    "HTTPX_FACTORIES",
    "OpenAI",
    "check_http_client",
    "httpx_factory",
    "httpx_timeout",
    "missing_client",
]

_OXIDE_OPTIONS = (
    "oxide has its own transport and takes no httpx client; pass the options to the"
    " client instead: timeout=, max_retries=, default_headers=, verify= (CA bundle,"
    " SSLContext or False), http2=, max_connections=, max_keepalive_connections=,"
    " keepalive_expiry="
)


def check_http_client(http_client: object, options: dict[str, Any] | None = None) -> None:
    """Refuses, with the reason, the official arguments oxide cannot honour."""
    if http_client is not None:
        raise TypeError(f"http_client={http_client!r}: {_OXIDE_OPTIONS}")
    api_key = (options or {}).get("api_key")
    if api_key is not None and not isinstance(api_key, str):
        # The official SDK also takes a function returning a fresh key; oxide sends the
        # key it is given, so anything but a string would go out as garbage.
        raise TypeError(
            f"api_key must be a str, not {type(api_key).__name__}: oxide takes no key"
            " provider function; pass the key (and build a new client to change it)"
        )


def httpx_timeout(options: dict[str, Any]) -> dict[str, Any]:
    """`options` with an httpx `Timeout` (the official SDK's type) turned into oxide's.

    Code written for the official SDK passes `timeout=httpx.Timeout(...)`; its four
    phases are oxide's. Anything else is left for the client to judge.
    """
    value = options.get("timeout")
    phases = ("connect", "read", "write", "pool")
    if value is None or isinstance(value, (int, float, Timeout, NotGiven)):
        return options
    if all(hasattr(value, phase) for phase in phases):
        limits = {phase: getattr(value, phase) for phase in phases}
        return {**options, "timeout": Timeout(None, **limits)}
    return options


class OpenAI(Client):
    """The OpenAI API from blocking code: oxide's `Client` (see its documentation)."""

    def __init__(self, *, http_client: object = None, **options: Any) -> None:
        check_http_client(http_client, options)
        super().__init__(**httpx_timeout(options))

    def with_options(self, **changes: Any) -> OpenAI:
        check_http_client(changes.pop("http_client", None), changes)
        return cast(OpenAI, super().with_options(**httpx_timeout(changes)))

    copy = with_options


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
