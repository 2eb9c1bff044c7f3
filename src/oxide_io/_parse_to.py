"""`response.parse(to=T)`: a body read whole, turned into a type the caller names.

The raw and streamed responses both offer it, as the official SDK's do: the
operation's own result type is what `parse()` gives, and `to=` asks for another
reading of the same bytes — a model class of the caller's (`oxide_proto`
models, or any type `oxide_proto.decode` knows: `dict`, `list[Model]`, unions),
or the body as `str`, `int`, `float` or `bool`. The body and headers are all it
needs, so both drivers share it.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from oxide_proto import (
    BodyTextDecoder,
    Headers,
    ResponseInfo,
    charset_from_content_type,
    decode,
)

__all__ = ["ParseTo", "body_text", "check_not_event_stream", "parse_to"]

_T = TypeVar("_T")


def body_text(content: bytes, headers: Headers) -> str:
    """The body as text, in the charset its Content-Type names (UTF-8 by default)."""
    decoder = BodyTextDecoder(charset_from_content_type(headers.get("content-type")))
    return decoder.decode(content) + decoder.flush()


def check_not_event_stream(headers: Headers) -> None:
    """`parse(to=...)` reads a body whole: an event stream is read through `parse()`."""
    if (headers.get("content-type") or "").startswith("text/event-stream"):
        raise TypeError(
            "parse(to=...) reads a whole body; a stream=True answer is read as the "
            "event stream parse() gives"
        )


def parse_to(to: type[_T], content: bytes, info: ResponseInfo) -> _T:
    """`content` as `to`; a body that does not fit raises the decoder's typed error.

    Scalars are read from the text, as the official SDK does (`bool` is true for
    the text "true", in any case); everything else is decoded from JSON with
    `oxide_proto.decode`, which names the field that did not fit.
    """
    result: Any
    if to is type(None):
        result = None
    elif to is str:
        result = body_text(content, info.headers)
    elif to is int:
        result = int(body_text(content, info.headers))
    elif to is float:
        result = float(body_text(content, info.headers))
    elif to is bool:
        result = body_text(content, info.headers).strip().lower() == "true"
    elif to is bytes:
        result = content
    else:
        result = decode(to, json.loads(content) if content else None, response=info)
    return result  # type: ignore[no-any-return]


class ParseTo:
    """An operation's decoder that reads the whole body as `to`, as `parse_to` does.

    For an operation whose result type depends on an argument: audio transcriptions
    and translations answer JSON of one of several models, or plain text (`str`),
    as `response_format` asks. The client hands such a decoder the body's bytes, not
    the decoded JSON.
    """

    __slots__ = ("strict", "to")

    # The core's Call hands this decoder the body's bytes, not the decoded JSON.
    reads_body = True

    def __init__(self, to: type[Any], *, strict: bool = False) -> None:
        self.to = to
        self.strict = strict

    def __call__(self, content: bytes, info: ResponseInfo) -> Any:
        if self.strict and self.to not in (str, bytes, int, float, bool, type(None)):
            return decode(
                self.to, json.loads(content) if content else None, response=info, strict=True
            )
        return parse_to(self.to, content, info)

    def __repr__(self) -> str:
        return f"ParseTo({self.to!r})"
