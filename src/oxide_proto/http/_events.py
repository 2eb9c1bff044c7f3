"""The events the HTTP exchanges hand out, and the NEED_DATA marker.

Small frozen classes with one union alias, so a `match` over `HTTPEvent` covers
every case. Headers are a `Headers` mapping of `str` names and values, looked up
case-insensitively, on HTTP/1.1 and HTTP/2 alike.
"""

from __future__ import annotations

import enum
from typing import Final, Literal

from ..base._headers import Headers
from ..base._record import field, frozen

__all__ = ["NEED_DATA", "NeedData", "ResponseHead", "BodyData", "BodyEnd", "HTTPEvent"]


class NeedData(enum.Enum):
    """Returned by `next_event()` when more input is needed before the next event."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA


@frozen
class ResponseHead:
    """The final (non-1xx) status line and headers of a response."""

    status_code: int
    headers: Headers
    http_version: Literal["HTTP/1.0", "HTTP/1.1", "HTTP/2"]
    reason: str = ""


@frozen
class BodyData:
    """A piece of the response body, content-decoded (gzip, deflate, and br or zstd
    when their packages are installed) unless the connection was made with
    `decode_content=False`."""

    data: bytes


@frozen
class BodyEnd:
    """The body is complete; `trailers` holds trailing headers, if the peer sent any."""

    trailers: Headers = field(factory=Headers)


HTTPEvent = ResponseHead | BodyData | BodyEnd
