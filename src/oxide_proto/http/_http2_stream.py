"""The client-side state of one HTTP/2 stream: buffered response events and request body.

Events of every stream are buffered here as they arrive, so pulling one stream never
loses another's. Received DATA stays queued with its flow-controlled length until the
application pulls it: only then is the credit handed back to the server (RFC 9113
§5.2), which makes a slow reader slow the server down instead of filling memory.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from typing import Final

from h2.exceptions import ProtocolError
from hpack import NeverIndexedHeaderTuple

from ..base._errors import LocalProtocolError, RemoteProtocolError
from ..base._headers import SECRET_HEADERS, Headers
from ..base._types import Request
from ._content import ContentDecoder
from ._events import BodyEnd, ResponseHead

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []

NO_TRAILERS: Final = BodyEnd()

# Connection-specific fields are forbidden in HTTP/2 (RFC 9113 §8.2.2); Host becomes
# :authority (§8.3.1).
_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}
)
# Methods whose requests carry a body, so an empty one is sent as `content-length: 0`.
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Field values (joined by tabs) hold visible characters, obs-text, spaces and tabs only.
_BAD_VALUE: Final = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


@functools.lru_cache(maxsize=512)
def _token(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None


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


# An encoded field, or None for one HTTP/2 leaves out.
Field = tuple[bytes, bytes] | None


def field(name: str, value: str) -> Field:
    """One request field as HTTP/2 sends it; raises `LocalProtocolError` for a bad one.

    h2 sends fields as it gets them, so this is where a field that HTTP/2 forbids is
    left out and one that would break the message is refused. The result depends
    on the pair alone, so a connection can keep it for the next request.
    """
    # Connection-specific fields are not sent, and TE only as "trailers" (RFC 9113 §8.2.2).
    if name in _HOP_BY_HOP or (name == "te" and value.lower() != "trailers"):
        return None
    if not _token(name):
        raise LocalProtocolError(f"invalid HTTP/2 request: field name {name!r} is not a token")
    if _BAD_VALUE.search(value):
        # The value may be a credential: it is never shown.
        raise LocalProtocolError(
            f"invalid HTTP/2 request: field {name!r} has a control character"
            " or a character that is not Latin-1"
        )
    encoded = (name.encode("ascii"), value.strip(" \t").encode("latin-1"))
    if name in SECRET_HEADERS:
        # Credentials stay out of the HPACK tables (RFC 7541 §7.1.3), so that a
        # compression side channel cannot probe for them.
        return NeverIndexedHeaderTuple(*encoded)
    return encoded


class FieldCache(dict[tuple[str, str], Field]):
    """`field()` of each (name, value) pair, worked out at its first use.

    A connection keeps one: a client sends the same fields request after request,
    and a pair is looked up as the tuple `Headers.multi_items()` holds already.
    """

    def __missing__(self, pair: tuple[str, str]) -> Field:
        encoded = field(*pair)  # raises for a field HTTP/2 cannot carry: nothing kept
        if len(self) >= _MAX_FIELDS:
            self.clear()
        self[pair] = encoded
        return encoded


_MAX_FIELDS: Final = 256


@functools.lru_cache(maxsize=64)
def _pseudo_fields(
    method: str, authority: str, scheme: str, target: str
) -> tuple[tuple[bytes, bytes], ...]:
    if (
        not _token(method)
        or not target
        or not target.isascii()
        or not target.isprintable()
        or " " in target
        or _BAD_VALUE.search(authority)
    ):
        raise LocalProtocolError(
            f"invalid HTTP/2 request: method {method!r}, an empty target, a target with"
            " a blank, control or non-ASCII character, or an authority with a control"
            " or non-Latin-1 character"
        )
    return (
        (b":method", method.encode("ascii")),
        (b":authority", authority.encode("latin-1")),
        (b":scheme", scheme.encode("ascii")),
        (b":path", target.encode("ascii")),
    )


def request_headers(
    request: Request, fields: FieldCache | None = None
) -> list[tuple[bytes, bytes]]:
    """The HEADERS field list for `request`: the four pseudo-fields first, then its own.

    `fields` keeps each field's checked, encoded form for the next request (a
    connection's `FieldCache`). Raises `LocalProtocolError` for a method, target or
    field HTTP/2 cannot carry.
    """
    url, body, given = request.url, request.body, request.headers
    authority = given.get("host", url.authority)
    headers = [*_pseudo_fields(request.method, authority, url.scheme, url.target)]
    cache = FieldCache() if fields is None else fields
    for pair in given.multi_items():
        encoded = cache[pair]
        if encoded is not None:
            headers.append(encoded)
    if "content-length" not in given:
        if isinstance(body, bytes):
            headers.append((b"content-length", str(len(body)).encode("ascii")))
        elif body is None:
            if request.method in _BODY_METHODS:
                headers.append((b"content-length", b"0"))
        elif request.content_length is not None:
            headers.append((b"content-length", str(request.content_length).encode("ascii")))
    return headers


# -- received fields (RFC 9113 §8.2, §8.3) ------------------------------------------------

# Bytes a field name may hold: visible ASCII but upper-case letters (a colon only
# first, in a pseudo-field's name).
_NAME_BYTES: Final = bytes(c for c in range(0x21, 0x7F) if not 0x41 <= c <= 0x5A)
# A value may not hold NUL, LF or CR, nor begin or end with a space or a tab.
_VALUE_FORBIDDEN: Final = re.compile(rb"[\x00\n\r]|^[ \t]|[ \t]$")
_CONNECTION_SPECIFIC: Final = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
_PSEUDO_NAMES: Final = frozenset(
    {b":status", b":method", b":scheme", b":authority", b":path", b":protocol"}
)


def check_received_fields(fields: list[tuple[bytes, bytes]], trailers: bool) -> None:
    """Raises h2's `ProtocolError` for a response head (or trailers) RFC 9113 forbids.

    What h2's own inbound validation checks, in one pass instead of a chain of
    generators each field goes through: names of visible lower-case ASCII (a colon
    only to begin a pseudo-field), values without NUL, LF or CR or surrounding
    blanks, no connection-specific field, TE only as "trailers", and pseudo-fields
    first, once each, known, and in a response head `:status` alone (none in
    trailers).
    """
    pseudo: set[bytes] | None = None
    regular = False
    for name, value in fields:
        if not name or name.translate(None, _NAME_BYTES) or name.find(b":", 1) != -1:
            raise ProtocolError(f"Received a field name HTTP/2 forbids: {name!r}")
        if value and _VALUE_FORBIDDEN.search(value):
            raise ProtocolError(
                f"Received a value of field {name!r} with NUL, CR or LF, or surrounding blanks"
            )
        if name[0] == 0x3A:  # ":"
            if pseudo is None:
                pseudo = set()
            if regular or name in pseudo or name not in _PSEUDO_NAMES:
                raise ProtocolError(
                    f"Received pseudo-field {name!r} after a field, twice, or unknown"
                )
            pseudo.add(name)
        else:
            regular = True
            if name in _CONNECTION_SPECIFIC:
                raise ProtocolError(f"Received connection-specific field {name!r}")
            if name == b"te" and value.lower() != b"trailers":
                raise ProtocolError(f"Received TE field with value {value!r}")
    if trailers:
        if pseudo:
            raise ProtocolError(f"Received pseudo-fields in trailers: {sorted(pseudo)!r}")
    elif pseudo is None or b":status" not in pseudo or len(pseudo) > 1:
        raise ProtocolError(
            f"Received a response head whose pseudo-fields are not :status alone: "
            f"{sorted(pseudo or ())!r}"
        )
