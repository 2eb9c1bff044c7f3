"""A response body as text and as lines, decoded piece by piece as it arrives.

`iter_text()` and `iter_lines()` of a streamed response (and of a binary answer)
must give the same result however the network cut the body: a multi-byte
character or a CR LF pair may straddle two reads. `BodyTextDecoder` decodes bytes
incrementally in the charset the Content-Type names; `LineSplitter` cuts the text
into lines the way `str.splitlines()` cuts the whole text (the line boundaries
httpx's `iter_lines()` uses, which the official SDK returns), holding back a
trailing CR until it knows whether an LF follows.
"""

from __future__ import annotations

import codecs

__all__ = ["BodyTextDecoder", "LineSplitter", "charset_from_content_type"]

# The characters `str.splitlines()` treats as line boundaries.
_LINE_BOUNDARIES = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def charset_from_content_type(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type value (RFC 9110, section 8.3), or None."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


class BodyTextDecoder:
    """Bytes in, text out, across arbitrary chunk boundaries.

    `charset` is the body's charset (`charset_from_content_type`); an unknown or
    missing one decodes as UTF-8. Bytes that do not decode become U+FFFD rather
    than an error: a download should not fail on one bad byte.
    """

    def __init__(self, charset: str | None = None) -> None:
        try:
            codec = codecs.lookup(charset or "utf-8")
        except LookupError:
            codec = codecs.lookup("utf-8")
        self.encoding = codec.name
        self._decoder = codec.incrementaldecoder(errors="replace")

    def decode(self, data: bytes) -> str:
        """The text `data` completes (an incomplete character waits for the next call)."""
        return self._decoder.decode(data)

    def flush(self) -> str:
        """The end of the body: whatever was held back (an incomplete character, as U+FFFD)."""
        return self._decoder.decode(b"", final=True)


class LineSplitter:
    """Text in, complete lines out (without their line endings).

    Feeding a text in any pieces, then calling `flush()`, gives the lines
    `str.splitlines()` gives for the whole text.
    """

    def __init__(self) -> None:
        self._partial: list[str] = []
        self._pending_cr = False

    def feed(self, text: str) -> list[str]:
        """The lines `text` completes."""
        if not text:
            return []
        if self._pending_cr:
            text = "\r" + text
            self._pending_cr = False
        if text.endswith("\r"):
            # A CR may be the first half of CR LF: decide when the next piece comes.
            self._pending_cr = True
            text = text[:-1]
            if not text:
                return []
        ends_line = text[-1] in _LINE_BOUNDARIES
        lines = text.splitlines()
        if self._partial:
            lines[0] = "".join(self._partial) + lines[0]
            self._partial = []
        if not ends_line:
            self._partial.append(lines.pop())
        return lines

    def flush(self) -> list[str]:
        """The end of the text: the last line, when it has no line ending."""
        if not self._partial and not self._pending_cr:
            return []
        line = "".join(self._partial)
        self._partial = []
        self._pending_cr = False
        return [line]
