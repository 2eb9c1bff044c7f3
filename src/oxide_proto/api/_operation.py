"""The operation table's record: everything the clients need to call one API operation.

Resource methods are thin: they gather keyword arguments and hand them, with an
`Operation`, to one generic request path shared by every operation and by the
blocking and async clients. Response types are named, not imported, so that a
script using only chat never loads the other resources' models.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from ..base._record import frozen

__all__ = ["Operation", "resolve_type"]


@frozen
class Operation:
    """One API operation.

    `response` and `stream_event` name models as "module:Name" under
    `oxide_proto.types` (for example "chat:ChatCompletion"); None means the JSON
    is returned as decoded. `path` is a template: "/models/{model}".

    `page` is how a list operation reaches its next page: "cursor" (`after` is
    the last item's id, or the page's `last_id`, while `has_more`), "next"
    (`after` is the page's `next` token), "page" (`page` is the page's
    `next_page` token), "token" (`page` is the page's `next` token) or "list"
    (one page holds every item). `files` names the
    fields of a multipart body that are files. `accept` is the Accept header of an
    operation whose response is not JSON (audio, a video, an SDP answer).
    `no_body` marks an operation whose answer carries nothing to return (a 204, a
    call hung up): its result is None, and a body the server sends anyway is read
    but not decoded (the raw response still holds it).
    """

    method: Literal["GET", "POST", "DELETE", "PUT", "PATCH"]
    path: str
    response: str | None = None
    stream_event: str | None = None
    body: Literal["json", "multipart"] | None = None
    page: Literal["cursor", "next", "page", "token", "list"] | None = None
    binary: bool = False
    files: tuple[str, ...] = ()
    accept: str | None = None
    no_body: bool = False


_resolved: dict[str, Any] = {}


def resolve_type(name: str) -> Any:
    """The model class (or union alias) `name` designates, imported on first use."""
    found = _resolved.get(name)
    if found is None:
        module, _, attr = name.partition(":")
        found = getattr(importlib.import_module(f"oxide_proto.types.{module}"), attr)
        _resolved[name] = found
    return found
