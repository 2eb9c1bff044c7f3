"""Where transport failures become API errors: the one place they cross into the public API."""

from __future__ import annotations

from oxide_proto import APIConnectionError, APITimeoutError, RemoteProtocolError, Request

from ._backends._errors import TransportError, TransportTimeout

__all__ = ["TRANSPORT_ERRORS", "to_api_error"]

# What a send or a body read can raise that is not yet an API error.
TRANSPORT_ERRORS = (TransportError, RemoteProtocolError)


def to_api_error(exc: BaseException, request: Request) -> APIConnectionError:
    """The API error for a transport failure; raise it `from exc`."""
    if isinstance(exc, TransportTimeout):
        return APITimeoutError(request, message=f"Request timed out ({exc.phase}).")
    return APIConnectionError(message=f"Connection error: {exc}", request=request)
