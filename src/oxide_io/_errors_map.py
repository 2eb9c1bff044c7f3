"""Where transport failures become API errors: the one place they cross into the public API."""

from __future__ import annotations

from oxide_proto import (
    APIConnectionError,
    APITimeoutError,
    LimitExceededError,
    ProxyError,
    RemoteProtocolError,
    Request,
    ResponseTooLargeError,
)

from ._backends._errors import TransportError, TransportTimeout

__all__ = ["TRANSPORT_ERRORS", "to_api_error", "websocket_api_error"]

# What a send or a body read can raise that is not yet an API error.
TRANSPORT_ERRORS = (TransportError, RemoteProtocolError, ProxyError)


def to_api_error(exc: BaseException, request: Request) -> APIConnectionError:
    """The API error for a transport failure; raise it `from exc`."""
    if isinstance(exc, ProxyError):
        return exc.with_request(request)
    if isinstance(exc, TransportTimeout):
        return APITimeoutError(request, message=f"Request timed out ({exc.phase}).")
    if isinstance(exc, LimitExceededError):
        # Which limit, by the name of the option that sets it: the remedy is to raise
        # it (or to find out why the server sends so much).
        return ResponseTooLargeError(
            message=f"Response too large: {exc}",
            request=request,
            limit_name=exc.limit_name,
            limit=exc.limit,
        )
    return APIConnectionError(message=f"Connection error: {exc}", request=request)


def websocket_api_error(exc: TransportError) -> APIConnectionError:
    """The API error for a WebSocket's transport failure; raise it `from exc`."""
    if isinstance(exc, TransportTimeout):
        return APITimeoutError(None, message=f"WebSocket timed out ({exc.phase}).")
    return APIConnectionError(message=f"WebSocket connection error: {exc}", request=None)
