"""The request and response descriptions every part of the core passes around.

`Request` is what encoding produces and what the HTTP exchanges send; `ResponseInfo`
is what an error or a raw response carries about the answer. Both are plain data:
no socket, no body stream, so they can be logged, compared and kept in errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ._headers import Headers
from ._record import frozen

__all__ = ["URL", "Body", "Request", "ResponseInfo"]

# A request body: fully encoded bytes (JSON, small multipart), or an iterable of
# byte chunks (streamed uploads), or nothing. An iterable that is not itself an
# iterator (a list, or an object whose `__iter__` starts over, such as a file
# read again from its start) promises a fresh pass from the first byte each time
# it is iterated; an iterator (a generator) can be sent once.
Body = bytes | Iterable[bytes] | None

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


@frozen
class URL:
    """An absolute http(s)/ws(s) URL split the way a connection needs it.

    `target` is the request target sent on the wire: the percent-encoded path
    plus `?query`, never containing a fragment.
    """

    scheme: str
    host: str
    port: int
    target: str

    @property
    def origin(self) -> tuple[str, str, int]:
        """(scheme, host, port): the key the connection pool groups connections by."""
        return (self.scheme, self.host, self.port)

    @property
    def authority(self) -> str:
        default = _DEFAULT_PORTS.get(self.scheme)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.authority}{self.target}"


@frozen
class Request:
    """One HTTP request, ready to encode. Headers are validated when built."""

    method: str
    url: URL
    headers: Headers
    body: Body = None
    # Known length of an iterable body, so it can be sent with Content-Length.
    content_length: int | None = None

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again on a retry: none, bytes, or a re-iterable
        of chunks (see `Body`); an iterator is a one-shot stream."""
        body = self.body
        return body is None or isinstance(body, bytes) or not isinstance(body, Iterator)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


@frozen
class ResponseInfo:
    """The status line and headers of a response, kept by errors and raw responses."""

    status_code: int
    headers: Headers
    http_version: str = "HTTP/1.1"
    request: Request | None = None

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")

    def __repr__(self) -> str:
        return f"<ResponseInfo [{self.status_code}]>"
