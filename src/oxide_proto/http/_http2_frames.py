"""Cutting the inbound HTTP/2 byte stream into whole frames (RFC 9113 §4.1).

The connection hands h2 complete frames only, a run of them at a time, and acts on
each frame's events before h2 reads the next (see `HTTP2Connection`), so when a
frame breaks the protocol the events of every frame before it are kept: the same
bytes give the same events however the socket happened to split them. GOAWAY
frames are taken out here and handled by the connection itself, because h2 refuses
every frame after a GOAWAY while RFC 9113 §6.8 lets streams at or below its last
stream id run to completion.
"""

from __future__ import annotations

from ..base._record import frozen

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []

_HEADER_SIZE = 9
_HEADERS, _PUSH_PROMISE, _GOAWAY, _CONTINUATION = 0x1, 0x5, 0x7, 0x9
_END_HEADERS = 0x4


@frozen
class FrameTooLarge:
    """A frame header announcing more than SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2)."""

    length: int


@frozen
class GoAway:
    """A well-formed GOAWAY frame from the server."""

    last_stream_id: int
    error_code: int
    debug_data: bytes


class FrameSplitter:
    """Buffers partial frames; `feed()` returns the complete ones, each run of frames
    between two GOAWAYs as one view, and the parsed GOAWAYs.

    A frame longer than `max_frame_size` is reported as `FrameTooLarge` as soon as its
    header arrives, instead of buffering a payload that can never be accepted.
    """

    __slots__ = ("_buf", "_in_header_block", "_need", "max_frame_size")

    def __init__(self, max_frame_size: int) -> None:
        self._buf = bytearray()
        self._need = 0  # bytes the held-back partial frame needs before it is whole
        self._in_header_block = False
        self.max_frame_size = max_frame_size

    def feed(self, data: bytes) -> list[memoryview | GoAway | FrameTooLarge]:
        buf = self._buf
        if buf:
            # Appending and waiting keeps a frame that trickles in byte by byte linear.
            buf += data
            if len(buf) < self._need:
                return []
            src = bytes(buf)
            buf.clear()
        else:
            src = data
        view = memoryview(src)
        out: list[memoryview | GoAway | FrameTooLarge] = []
        pos, size = 0, len(src)
        start = 0  # where the run of whole frames not yet handed out begins
        while size - pos >= _HEADER_SIZE:
            length = int.from_bytes(src[pos : pos + 3], "big")
            if length > self.max_frame_size:
                if pos > start:
                    out.append(view[start:pos])
                out.append(FrameTooLarge(length))
                pos = start = size  # the connection fails on this frame; the rest is moot
                break
            end = pos + _HEADER_SIZE + length
            if end > size:
                self._need = end - pos
                break
            kind = src[pos + 3]
            if kind == _GOAWAY and not self._in_header_block:
                goaway = _parse_goaway(src, pos, end)
                if goaway is not None:
                    if pos > start:
                        out.append(view[start:pos])
                    out.append(goaway)
                    start = end
            # A header block must continue with CONTINUATION frames (RFC 9113 §6.10);
            # inside one, even a GOAWAY goes to h2, which rejects it.
            if kind in (_HEADERS, _PUSH_PROMISE, _CONTINUATION):
                self._in_header_block = not src[pos + 4] & _END_HEADERS
            else:
                self._in_header_block = False
            pos = end
        if pos > start:
            out.append(view[start:pos])
        if pos < size:
            if size - pos < _HEADER_SIZE:
                self._need = _HEADER_SIZE
            buf += view[pos:]
        return out


def _parse_goaway(src: bytes, start: int, end: int) -> GoAway | None:
    """The GOAWAY at src[start:end], or None if malformed (then h2 judges it)."""
    stream_id = int.from_bytes(src[start + 5 : start + 9], "big") & 0x7FFFFFFF
    payload = start + _HEADER_SIZE
    if stream_id != 0 or end - payload < 8:
        return None
    return GoAway(
        last_stream_id=int.from_bytes(src[payload : payload + 4], "big") & 0x7FFFFFFF,
        error_code=int.from_bytes(src[payload + 4 : payload + 8], "big"),
        debug_data=src[payload + 8 : end],
    )
