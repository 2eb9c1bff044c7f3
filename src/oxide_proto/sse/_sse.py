"""Server-sent events: bytes in, `ServerSentEvent`s out, by the WHATWG rules.

Every streamed API answer arrives as `text/event-stream`, so this loop runs for
every token a model produces. It follows the "event stream interpretation" of the
WHATWG HTML standard (section 9.2.6) to the letter and is built for speed:

- Line ends (CR, LF, CRLF) are normalised to LF with `bytes.replace` as each chunk
  arrives. A CR that ends a chunk ends its line at once (no waiting for the next
  read on a live stream); if the next chunk starts with LF, that LF is the rest of
  a CRLF and is dropped.
- The buffer is searched with C-level `find`/`rfind`; everything up to the last
  blank line is decoded in one `decode` call and cut with `str.split`, and the
  common shapes (`data: ...` alone, `event: ...` then `data: ...`) skip the
  per-line field parsing.
- Text is decoded as UTF-8 with replacement, as the standard's "UTF-8 decode"
  does (or strictly, on request: `DecodingError` rather than altered text),
  always at line boundaries, so a character split across chunks survives.
- Limits bound memory: an unfinished line is never kept beyond `max_line_size`
  bytes and an event's data never beyond `max_event_size` characters. Complete
  lines of an unfinished event are parsed as soon as they arrive, so comments and
  field lines do not pile up in the buffer.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from ..base._errors import (
    DecodingError,
    LimitExceededError,
    LocalProtocolError,
    RemoteProtocolError,
)
from ..base._record import frozen
from ..http._events import NEED_DATA, NeedData

__all__ = ["ServerSentEvent", "SSEDecoder"]

_MIB = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@frozen
class ServerSentEvent:
    """One dispatched server-sent event.

    `event` is the value of the event's `event` field, or None when it had none (or
    an empty one): the WHATWG standard calls such events "message", and so may the
    caller. `data` is the event's `data` lines joined with LF. `id` is the last
    event ID in effect when the event was dispatched (set by this or an earlier
    event's `id` field; None if the stream never sent one), which is what a
    reconnecting client sends as `Last-Event-ID`. `retry` is the reconnection time
    in milliseconds in effect (from the latest valid `retry` field so far), or None.
    """

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """`data` parsed as JSON (raises `json.JSONDecodeError` when it is not)."""
        return json.loads(self.data)


_new = object.__new__
_set_event = ServerSentEvent.__dict__["event"].__set__
_set_data = ServerSentEvent.__dict__["data"].__set__
_set_id = ServerSentEvent.__dict__["id"].__set__
_set_retry = ServerSentEvent.__dict__["retry"].__set__


class SSEDecoder:
    """An incremental `text/event-stream` parser, fed bytes and pulled for events.

    Feed what the transport reads to `receive_data()`, then call `next_event()`
    until it returns `NEED_DATA`; feed more and repeat. When the transport reports
    the end of the body, call `receive_eof()` and drain `next_event()` once more:
    an event that was not finished by a blank line is then discarded, as the
    standard requires, and `finished` becomes True once `NEED_DATA` comes back.

    Limits: a line longer than `max_line_size` bytes (even before its end has
    arrived) or an event whose data is longer than `max_event_size` characters
    makes `next_event()` raise `LimitExceededError`, after handing out every event
    that was complete before the offending line. Buffered memory stays within the
    limits plus whatever was passed to `receive_data()` since the last
    `next_event()` that returned `NEED_DATA`.
    """

    __slots__ = (
        "_buf",
        "_cr",
        "_data",
        "_data_size",
        "_eof",
        "_error",
        "_event",
        "_events",
        "_head",
        "_id",
        "_last_id",
        "_max_event",
        "_max_line",
        "_plain",
        "_pos",
        "_retry",
        "_scanned",
        "_started",
        "_utf8",
    )

    def __init__(
        self,
        *,
        max_line_size: int = 16 * _MIB,
        max_event_size: int = 16 * _MIB,
        strict_utf8: bool = False,
    ) -> None:
        if max_line_size < 1 or max_event_size < 1:
            raise ValueError("SSE limits must be positive")
        # The standard decodes with replacement; a caller that must not hand out
        # altered text asks for `DecodingError` instead.
        self._utf8 = "strict" if strict_utf8 else "replace"
        self._max_line = max_line_size
        self._max_event = max_event_size
        # Bytes not yet parsed start at `_pos`; `_buf[_pos:_scanned]` is known to hold
        # no LF, so searches resume where the last one stopped (byte-by-byte feeding
        # of a long line stays linear).
        self._buf = bytearray()
        self._pos = 0
        self._scanned = 0
        self._cr = False  # a CR ended the last chunk: an LF starting the next one is its pair
        self._head = b""  # the first bytes, while they might still be a BOM
        self._started = False
        self._eof = False
        self._plain = False  # started, no CR pending, not at EOF: `receive_data` may skip ahead
        self._events: deque[tuple[str | None, str, str | None, int | None]] = deque()
        self._error: RemoteProtocolError | None = None
        # The standard's buffers for the event being assembled.
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._id: str | None = None
        # What the standard calls the event source's "last event ID string" and
        # "reconnection time".
        self._last_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        """The last event ID as of the latest blank line (None if never set)."""
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds the server asked for, if any."""
        return self._retry

    @property
    def finished(self) -> bool:
        """True after `receive_eof()` once every event has been handed out."""
        return (
            self._eof and not self._events and self._error is None and self._pos == len(self._buf)
        )

    def receive_data(self, data: bytes) -> None:
        """Adds bytes read from the body; then call `next_event()` until `NEED_DATA`."""
        # `13 in data` (not `b"\r" in data`): bytes membership first tries the
        # argument as an int and pays for a TypeError when it is not one.
        if not self._plain or 13 in data:
            data = self._prepare(data)
        buf = self._buf
        pos = self._pos
        if pos:
            # bytearray drops a prefix by moving its start: no copy.
            del buf[:pos]
            self._scanned -= pos
            self._pos = 0
        scanned_all = self._scanned == len(buf)
        buf += data
        if scanned_all and 10 not in data and len(buf) <= self._max_line:
            # Still inside one line and within the limit: `next_event()` need not look.
            self._scanned = len(buf)

    def _prepare(self, data: bytes) -> bytes:
        """The slow part of `receive_data`: the BOM, CR line ends, misuse."""
        if self._eof:
            raise LocalProtocolError("receive_data() called after receive_eof()")
        if not data or self._error is not None:
            return b""  # once broken, nothing more is kept
        if not self._started:
            # WHATWG: one leading U+FEFF is dropped; it may arrive a byte at a time.
            data = self._head + data
            if len(data) < 3 and _BOM.startswith(data):
                self._head = data
                return b""
            self._started = True
            self._head = b""
            if data.startswith(_BOM):
                data = data[3:]
        if self._cr:
            self._cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if 13 in data:
            self._cr = data[-1] == 13
            # CR, LF and CRLF all end a line; from here on only LF does.
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._plain = not self._cr
        return data

    def receive_eof(self) -> None:
        """Marks the end of the body; then drain `next_event()`."""
        if self._eof:
            return
        if self._head:
            self._started = True
            self._buf += self._head
            self._head = b""
        self._cr = False
        self._eof = True
        self._plain = False

    def next_event(self) -> ServerSentEvent | NeedData:
        """The next complete event, or `NEED_DATA` when the input so far has no more.

        Raises `LimitExceededError` when a limit is broken; the decoder then stays
        broken and raises it again on every call.
        """
        events = self._events
        if not events:
            if self._error is not None:
                raise self._error
            if self._scanned == len(self._buf) and not self._eof:
                return NEED_DATA  # nothing arrived since the last look
            try:
                self._parse()
            except UnicodeDecodeError as exc:
                self._events_before_bad_text()
                self._bad_text(exc)
            if not events:
                if self._error is not None:
                    raise self._error
                return NEED_DATA
        event, data, last_id, retry = events.popleft()
        # Built through the slot descriptors: the frozen __init__ goes through
        # object.__setattr__ and costs twice as much on the hot path.
        sse = _new(ServerSentEvent)
        _set_event(sse, event)
        _set_data(sse, data)
        _set_id(sse, last_id)
        _set_retry(sse, retry)
        return sse

    def _next_raw(self) -> tuple[str | None, str, str | None, int | None] | None:
        """`next_event()` as a plain tuple, or None for `NEED_DATA` (for `_stream`)."""
        events = self._events
        if not events:
            if self._error is not None:
                raise self._error
            if self._scanned == len(self._buf) and not self._eof:
                return None
            try:
                self._parse()
            except UnicodeDecodeError as exc:
                self._events_before_bad_text()
                self._bad_text(exc)
            if not events:
                if self._error is not None:
                    raise self._error
                return None
        return events.popleft()

    # -- parsing -------------------------------------------------------------------

    def _fail_line(self) -> None:
        limit = self._max_line
        self._fail(f"SSE line longer than {limit} bytes (max_line_size)", limit, "max_line_size")

    def _parse(self) -> None:
        buf = self._buf
        pos = self._pos
        end = len(buf)
        max_line = self._max_line
        # `_buf[_pos:_scanned]` holds no LF: only newer bytes can end a line.
        start = self._scanned
        last_lf = buf.rfind(b"\n", start)
        if last_lf < 0:
            # Still inside one line.
            if end - pos > max_line:
                self._fail_line()
            elif self._eof:
                self._drop_unfinished()
            else:
                self._scanned = end
            return
        last_blank = buf.rfind(b"\n\n", start, last_lf + 1)
        if last_blank >= 0:
            # The usual read of a live stream is exactly one event of one `data:`
            # line, perhaps after one `event:` line: take it without `_take`.
            first_lf = buf.find(b"\n", pos, last_blank)
            if first_lf < 0:
                first_lf = last_blank
                name_end = -1
                data_at = pos
            elif buf.startswith(b"event: ", pos) and buf.find(b"\n", first_lf + 1, last_blank) < 0:
                name_end = first_lf
                data_at = first_lf + 1
            else:
                data_at = -1
            if (
                data_at >= 0
                and not self._data
                and buf.startswith(b"data: ", data_at)
                and last_blank - pos <= max_line
            ):
                value = buf[data_at + 6 : last_blank].decode("utf-8", self._utf8)
                if len(value) > self._max_event:
                    self._fail_event()
                    return
                if name_end < 0:
                    name = self._event
                else:
                    name = buf[pos + 7 : name_end].decode("utf-8", self._utf8)
                self._last_id = last_id = self._id
                self._events.append((name or None, value, last_id, self._retry))
                self._event = ""
            else:
                if last_blank - pos > max_line and not self._lines_fit(pos, last_blank):
                    return
                self._take(buf[pos:last_blank].decode("utf-8", self._utf8), True)
                if self._error is not None:
                    return
            pos = self._pos = last_blank + 2
        # What is left holds no blank line: parse its complete lines now so an
        # unfinished event costs no buffer space, and keep only the unfinished line.
        if last_lf >= pos:
            if last_lf - pos > max_line and not self._lines_fit(pos, last_lf):
                return
            self._take(buf[pos:last_lf].decode("utf-8", self._utf8), False)
            pos = self._pos = last_lf + 1
            if self._error is not None:
                return
        if end - pos > max_line:
            self._fail_line()
        elif self._eof:
            self._drop_unfinished()
        else:
            self._scanned = end

    def _drop_unfinished(self) -> None:
        # WHATWG: at the end of the stream an unfinished line and event are dropped.
        self._pos = self._scanned = len(self._buf)
        self._data = []
        self._data_size = 0
        self._event = ""

    def _lines_fit(self, start: int, stop: int) -> bool:
        """Checks every line in `_buf[start:stop]` against the line limit.

        On the first overlong line, the lines before it are parsed (so their events
        are handed out first) and the error is recorded.
        """
        buf = self._buf
        max_line = self._max_line
        line_start = start
        while line_start <= stop:
            line_end = buf.find(b"\n", line_start, stop)
            if line_end < 0:
                line_end = stop
            if line_end - line_start > max_line:
                if line_start > start:
                    self._take(buf[start : line_start - 1].decode("utf-8", self._utf8), False)
                self._pos = line_start
                if self._error is None:
                    self._fail_line()
                return False
            line_start = line_end + 1
        return True

    def _events_before_bad_text(self) -> None:
        """Parses the events that end before the first byte that is not UTF-8.

        One decode covers many events; the ones complete before the bad byte are
        handed out before the error, however the bytes were split into reads.
        """
        buf = self._buf
        pos = self._pos
        try:
            bytes(buf[pos:]).decode("utf-8")
            return
        except UnicodeDecodeError as first:
            bad = pos + first.start
        # `_pos` is always at the start of a line, so an LF there ends a blank line too.
        blank = buf.rfind(b"\n\n", pos, bad)
        if blank >= 0:
            end = blank + 2
        elif buf.startswith(b"\n", pos) and pos < bad:
            end = pos + 1
        else:
            return
        tail = bytes(buf[end:])
        del buf[end:]
        eof, self._eof = self._eof, False
        self._scanned = pos
        try:
            self._parse()  # valid text only: it cannot fail to decode
        finally:
            buf += tail
            self._eof = eof

    def _bad_text(self, exc: UnicodeDecodeError) -> None:
        # Only with `strict_utf8`. The offending bytes are in `exc.object`.
        around = exc.object[max(exc.start - 16, 0) : exc.end + 16]
        self._error = DecodingError(f"SSE stream is not valid UTF-8 ({exc.reason}): {around!r}")
        self._error.__cause__ = exc
        self._plain = False

    def _fail(self, message: str, limit: int, name: str) -> None:
        self._error = LimitExceededError(message, limit=limit, limit_name=name)
        self._plain = False

    def _take(self, text: str, dispatch_at_end: bool) -> None:
        """Interprets complete lines (`text`, LF-separated, no final LF).

        A blank line (`\\n\\n` inside `text`) dispatches; when `dispatch_at_end` the
        text is followed by a blank line too.
        """
        append = self._events.append
        data = self._data
        data_size = self._data_size
        event = self._event
        id_buffer = self._id
        last_id = self._last_id
        retry = self._retry
        max_event = self._max_event
        blocks = text.split("\n\n")
        last = len(blocks) - 1
        for index, block in enumerate(blocks):
            closed = dispatch_at_end or index < last
            if closed and not data:
                # Fast paths for the shapes OpenAI-style servers send.
                if block.startswith("data: ") and "\n" not in block:
                    value = block[6:]
                    if len(value) > max_event:
                        self._fail_event()
                        break
                    last_id = id_buffer
                    append((event or None, value, last_id, retry))
                    event = ""
                    continue
                if block.startswith("event: "):
                    lf = block.find("\n")
                    if (
                        lf > 0
                        and block.startswith("data: ", lf + 1)
                        and block.find("\n", lf + 1) < 0
                    ):
                        value = block[lf + 7 :]
                        if len(value) > max_event:
                            self._fail_event()
                            break
                        last_id = id_buffer
                        append((block[7:lf] or None, value, last_id, retry))
                        event = ""
                        continue
            failed = False
            for line in block.split("\n"):
                if not line:
                    # WHATWG "dispatch the event": the ID is committed even when no
                    # event follows because the data buffer is empty.
                    last_id = id_buffer
                    if data:
                        append((event or None, "\n".join(data), last_id, retry))
                        data = []
                        data_size = 0
                    event = ""
                    continue
                colon = line.find(":")
                if colon == 0:
                    continue  # a comment
                if colon < 0:
                    name = line
                    value = ""
                elif line.startswith(" ", colon + 1):
                    name = line[:colon]
                    value = line[colon + 2 :]
                else:
                    name = line[:colon]
                    value = line[colon + 1 :]
                if name == "data":
                    data_size += len(value) + (1 if data else 0)
                    if data_size > max_event:
                        self._fail_event()
                        failed = True
                        break
                    data.append(value)
                elif name == "event":
                    event = value
                elif name == "id" and "\0" not in value:
                    id_buffer = value
                elif name == "retry" and value.isascii() and value.isdigit():
                    # Only ASCII digits count; anything else leaves the time as it was.
                    retry = int(value)
                # Any other field name is ignored, as the standard says.
            if failed:
                break
            if closed:
                last_id = id_buffer
                if data:
                    append((event or None, "\n".join(data), last_id, retry))
                    data = []
                    data_size = 0
                event = ""
        self._data = data
        self._data_size = data_size
        self._event = event
        self._id = id_buffer
        self._last_id = last_id
        self._retry = retry

    def _fail_event(self) -> None:
        limit = self._max_event
        self._fail(
            f"SSE event data longer than {limit} characters (max_event_size)",
            limit,
            "max_event_size",
        )
