"""What a raw or streamed response tells about its HTTP exchange, read from `http_response`.

`with_raw_response` and `with_streaming_response` results (both clients) show the
same facts under the official SDK's names: status, headers, HTTP version, request
id, retries, the request sent, whether the body has ended and how long it took.
They differ only in how the body is read, so the facts live here once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from oxide_proto import URL, Headers, Request

if TYPE_CHECKING:
    import datetime  # the responses' `elapsed` loads it when asked for

__all__ = ["ResponseFacts"]


class _HTTPResponse(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def http_version(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def retries_taken(self) -> int: ...
    @property
    def request(self) -> Request: ...
    @property
    def is_closed(self) -> bool: ...
    @property
    def elapsed(self) -> datetime.timedelta: ...


class ResponseFacts:
    """The facts of `self.http_response`, oxide's own response object."""

    http_response: _HTTPResponse

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> Headers:
        """Case-insensitive, like every header lookup in oxide (`headers.get("x-request-id")`)."""
        return self.http_response.headers

    @property
    def http_version(self) -> str:
        return self.http_response.http_version

    @property
    def request_id(self) -> str | None:
        return self.http_response.request_id

    @property
    def retries_taken(self) -> int:
        """How many times the request was retried before this response (0: the first try)."""
        return self.http_response.retries_taken

    @property
    def http_request(self) -> Request:
        return self.http_response.request

    @property
    def url(self) -> URL:
        return self.http_response.request.url

    @property
    def method(self) -> str:
        return self.http_response.request.method

    @property
    def is_closed(self) -> bool:
        """Whether the body has ended or been closed (a `stream=True` call's stays open
        while it is read)."""
        return self.http_response.is_closed

    @property
    def elapsed(self) -> datetime.timedelta:
        """From sending the (last) request to the end of the body (to now while it is
        being read)."""
        return self.http_response.elapsed
