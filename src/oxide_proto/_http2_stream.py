"""The client-side state of one HTTP/2 stream: buffered response events and request body.

Events of every stream are buffered here as they arrive, so pulling one stream never
loses another's. Received DATA stays queued with its flow-controlled length until the
application pulls it: only then is the credit handed back to the server (RFC 9113
§5.2), which makes a slow reader slow the server down instead of filling memory.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from ._content import ContentDecoder
from ._errors import RemoteProtocolError
from ._events import BodyEnd, ResponseHead
from ._headers import Headers

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []

NO_TRAILERS: Final = BodyEnd()

# Received DATA: (payload, flow-controlled length including padding).
Chunk = tuple[bytes, int]


class H2Stream:
    """Bookkeeping for one request/response exchange on an HTTP/2 connection."""

    __slots__ = (
        "cancelled",
        "decoder",
        "delivered_end",
        "error",
        "events",
        "out_body",
        "out_offset",
        "remote_ended",
        "request_ended",
        "reset",
        "trailers",
        "unacked",
    )

    def __init__(self) -> None:
        self.events: deque[ResponseHead | Chunk | BodyEnd] = deque()
        self.error: RemoteProtocolError | None = None
        self.decoder: ContentDecoder | None = None
        self.trailers: Headers | None = None
        self.unacked = 0  # flow-controlled bytes queued but not yet pulled
        self.remote_ended = False  # the server's END_STREAM arrived
        self.delivered_end = False  # BodyEnd was handed to the application
        self.request_ended = False  # our END_STREAM went out (or is queued)
        self.reset = False  # RST_STREAM was sent or received: the stream is gone
        self.cancelled = False  # the application abandoned it
        self.out_body: bytes | None = None  # a bytes body waiting for window
        self.out_offset = 0

    @property
    def closed(self) -> bool:
        """Both directions ended, or the stream was reset: nothing more on the wire."""
        return self.reset or (self.remote_ended and self.request_ended)

    @property
    def finished(self) -> bool:
        """The response is fully received, or the stream failed."""
        return self.remote_ended or self.error is not None or self.reset

    def fail(self, error: RemoteProtocolError) -> None:
        """Records why the stream cannot complete, unless its response already has."""
        if self.error is None and not self.remote_ended:
            self.error = error
