"""Best-effort values from a prefix of a JSON document, kept current as text arrives.

Structured replies and tool-call arguments stream as JSON text in small pieces;
showing them while they arrive needs "the value so far". `PartialJSONParser`
reads each piece once (`feed()`; the work is linear in the whole text, nothing is
re-parsed per piece) and `value` gives the best-effort value of the text so far:

- an open string is closed: its characters so far are the value (an escape
  sequence cut in the middle waits for the rest);
- an unfinished number or literal (`12` not yet followed by a delimiter, `tru`)
  is left out, since `12` may still become `123`;
- an object key whose value has not started is left out;
- open arrays and objects are closed.

The result is *prefix-consistent* with the final document: a value complete in
the prefix equals its final value; in an open array or object every element or
member but the last is complete, and the last is itself prefix-consistent; an
open string is a prefix of the final string; keys appear in final order.
`finish()` checks that the text is one complete document and returns what
`json.loads` returns for it. The grammar is RFC 8259's (no `NaN`/`Infinity`).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from ..base._errors import InvalidJSONError

__all__ = ["PartialJSONParser", "parse_partial_json"]

# Parser states.
_VALUE, _KEY, _COLON, _AFTER, _STRING, _NUMBER, _LITERAL, _END, _FAILED = range(9)

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]*')
_NUMBER_RUN = re.compile(r"[-+0-9.eE]*")
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS: dict[str, tuple[str, object]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
}


class _Incomplete(Exception):
    """An escape sequence needs more text to be decoded."""


def _hex4(text: str, start: int) -> int:
    """The value of the 4 hex digits at `start`; `_Incomplete` if the text stops short."""
    digits = text[start : start + 4]
    for char in digits:
        if char not in _HEX:
            raise ValueError("invalid \\uXXXX escape")
    if len(digits) < 4:
        raise _Incomplete
    return int(digits, 16)


def _decode_escape(text: str) -> tuple[str, int]:
    """Decodes the escape sequence `text` starts with: (characters, length used).

    A high surrogate followed by a low one is one character, as `json.loads` reads
    them; either alone stays a lone surrogate, as there.
    """
    if len(text) < 2:
        raise _Incomplete
    kind = text[1]
    simple = _SIMPLE_ESCAPES.get(kind)
    if simple is not None:
        return simple, 2
    if kind != "u":
        raise ValueError(f"invalid escape \\{kind}")
    code = _hex4(text, 2)
    if 0xD800 <= code <= 0xDBFF:
        rest = text[6:8]
        if rest == "\\u":
            low = _hex4(text, 8)
            if 0xDC00 <= low <= 0xDFFF:
                return chr(0x10000 + ((code - 0xD800) << 10 | (low - 0xDC00))), 12
        elif rest in ("", "\\"):
            raise _Incomplete  # a low surrogate may follow
    return chr(code), 6


class PartialJSONParser:
    """Parses one JSON document fed in pieces; `value` is the best effort so far.

    `feed(text)` adds the next piece and raises `InvalidJSONError` (with the
    offset) as soon as the text cannot be the prefix of a JSON document; after
    that it raises the same error again and `value` stays at the last good value.
    `finish()` says the text is complete: it returns the document's value or
    raises `InvalidJSONError` if it is unfinished.
    """

    __slots__ = (
        "_cache",
        "_error",
        "_escape",
        "_first",
        "_is_key",
        "_keys",
        "_literal",
        "_number",
        "_offset",
        "_parts",
        "_root",
        "_stack",
        "_state",
    )

    def __init__(self) -> None:
        self._state = _VALUE
        self._stack: list[Any] = []  # open containers, outermost first
        self._keys: list[str] = []  # per open container: its current key (unused for lists)
        self._root: Any = None
        self._first = True  # just after `[` or `{`: a closing bracket is allowed
        self._parts: list[str] = []  # decoded pieces of the open string
        self._escape = ""  # the start of an escape sequence cut by a piece boundary
        self._is_key = False
        self._number: list[str] = []
        self._literal = ""
        self._offset = 0
        self._error: InvalidJSONError | None = None
        self._cache: Any = _NO_CACHE

    @property
    def error(self) -> InvalidJSONError | None:
        """The error `feed()` raised, if the text stopped being JSON."""
        return self._error

    def feed(self, text: str) -> None:
        """Adds the next piece of the document."""
        if self._error is not None:
            raise self._error
        self._cache = _NO_CACHE
        try:
            self._feed(text)
        except InvalidJSONError:
            raise
        except ValueError as exc:
            self._fail(str(exc))
        finally:
            self._offset += len(text)

    def _fail(self, message: str, at: int | None = None) -> NoReturn:
        position = self._offset if at is None else at
        self._state = _FAILED
        self._error = InvalidJSONError(f"{message} at position {position}", position=position)
        raise self._error

    def _feed(self, data: str) -> None:
        pos, end = 0, len(data)
        stack = self._stack
        while pos < end:
            state = self._state
            if state == _STRING:
                pos = self._string(data, pos)
                continue
            if state == _NUMBER:
                stop = _NUMBER_RUN.match(data, pos).end()  # type: ignore[union-attr]
                if stop > pos:
                    self._number.append(data[pos:stop])
                    pos = stop
                if pos < end:
                    self._end_number(self._offset + pos)
                continue
            if state == _LITERAL:
                target = _LITERALS[self._literal[0]][0]
                take = data[pos : pos + len(target) - len(self._literal)]
                before = len(self._literal)
                self._literal += take
                if not target.startswith(self._literal):
                    self._fail(f"invalid literal {self._literal!r}", self._offset + pos - before)
                pos += len(take)
                if len(self._literal) == len(target):
                    self._emit(_LITERALS[target[0]][1])
                continue
            char = data[pos]
            if char in " \t\n\r":
                pos = _WHITESPACE.match(data, pos).end()  # type: ignore[union-attr]
                continue
            if state == _VALUE:
                if char == '"':
                    self._state, self._is_key = _STRING, False
                elif char == "{":
                    self._push_container({}, _KEY)
                elif char == "[":
                    self._push_container([], _VALUE)
                elif char in "-0123456789":
                    self._state, self._number = _NUMBER, []
                    continue
                elif char in _LITERALS:
                    self._state, self._literal = _LITERAL, char
                elif char == "]" and self._first and stack and type(stack[-1]) is list:
                    self._close()
                else:
                    self._fail(f"expected a value, got {char!r}", self._offset + pos)
            elif state == _KEY:
                if char == '"':
                    self._state, self._is_key = _STRING, True
                elif char == "}" and self._first:
                    self._close()
                else:
                    self._fail(f"expected a key string, got {char!r}", self._offset + pos)
            elif state == _COLON:
                if char != ":":
                    self._fail(f"expected ':', got {char!r}", self._offset + pos)
                self._state, self._first = _VALUE, False
            elif state == _AFTER:
                kind = type(stack[-1])
                if char == ",":
                    self._state, self._first = (_VALUE if kind is list else _KEY), False
                elif (char == "]" and kind is list) or (char == "}" and kind is dict):
                    self._close()
                else:
                    self._fail(
                        f"expected ',' or a closing bracket, got {char!r}", self._offset + pos
                    )
            else:
                self._fail(f"extra data {char!r} after the document", self._offset + pos)
            pos += 1

    def _string(self, data: str, pos: int) -> int:
        parts = self._parts
        if self._escape:
            text = self._escape + data[pos : pos + 12]
            try:
                decoded, used = _decode_escape(text)
            except _Incomplete:
                self._escape = text
                return len(data)
            except ValueError as exc:
                self._fail(str(exc), self._offset + pos - len(self._escape))
            parts.append(decoded)
            pos += used - len(self._escape)
            self._escape = ""
        end = len(data)
        while True:
            stop = _STRING_RUN.match(data, pos).end()  # type: ignore[union-attr]
            if stop > pos:
                parts.append(data[pos:stop])
                pos = stop
            if pos == end:
                return end
            char = data[pos]
            if char == '"':
                text = "".join(parts)
                self._parts = []
                if self._is_key:
                    self._keys[-1] = text
                    self._state = _COLON
                else:
                    self._emit(text)
                return pos + 1
            if char != "\\":
                self._fail("control character in a string", self._offset + pos)
            try:
                decoded, used = _decode_escape(data[pos : pos + 12])
            except _Incomplete:
                self._escape = data[pos:]
                return end
            except ValueError as exc:
                self._fail(str(exc), self._offset + pos)
            parts.append(decoded)
            pos += used

    def _end_number(self, at: int) -> None:
        text = "".join(self._number)
        match = _NUMBER_TEXT.fullmatch(text)
        if match is None:
            self._fail(f"invalid number {text!r}", at - len(text))
        self._emit(float(text) if match.group(1) or match.group(2) else int(text))

    def _emit(self, value: object) -> None:
        stack = self._stack
        if not stack:
            self._root = value
            self._state = _END
            return
        top = stack[-1]
        if type(top) is list:
            top.append(value)
        else:
            top[self._keys[-1]] = value
        self._state = _AFTER

    def _push_container(self, container: Any, state: int) -> None:
        stack = self._stack
        if stack:
            top = stack[-1]
            if type(top) is list:
                top.append(container)
            else:
                top[self._keys[-1]] = container
        else:
            self._root = container
        stack.append(container)
        self._keys.append("")
        self._state, self._first = state, True

    def _close(self) -> None:
        self._stack.pop()
        self._keys.pop()
        self._state = _AFTER if self._stack else _END

    @property
    def value(self) -> Any:
        """The best-effort value of the text so far (None before any value starts).

        The result is a fresh object for every piece fed: later pieces do not
        change a value already returned.
        """
        cached = self._cache
        if cached is not _NO_CACHE:
            return cached
        open_string = self._state == _STRING and not self._is_key
        if open_string:
            parts = self._parts
            if len(parts) > 1:
                parts[:] = ["".join(parts)]
            partial: str | None = parts[0] if parts else ""
        else:
            partial = None
        stack = self._stack
        if not stack:
            result = partial if open_string else self._root
        else:
            # Closed containers never change again, so only the open ones (the
            # path from the root to the innermost) are copied.
            copies: list[Any] = [list(c) if type(c) is list else dict(c) for c in stack]
            keys = self._keys
            for depth in range(len(copies) - 1):
                outer: Any = copies[depth]
                if type(outer) is list:
                    outer[-1] = copies[depth + 1]
                else:
                    outer[keys[depth]] = copies[depth + 1]
            if open_string:
                inner: Any = copies[-1]
                if type(inner) is list:
                    inner.append(partial)
                else:
                    inner[keys[-1]] = partial
            result = copies[0]
        self._cache = result
        return result

    def finish(self) -> Any:
        """Ends the document: its value, as `json.loads` gives it.

        Raises `InvalidJSONError` if the text so far is not one complete document.
        """
        if self._error is not None:
            raise self._error
        if self._state == _NUMBER:
            self._end_number(self._offset)
        if self._state != _END:
            what = "empty JSON text" if self._offset == 0 else "unexpected end of JSON text"
            self._fail(what)
        return self._root


# Marks `PartialJSONParser.value` as not computed since the last piece.
_NO_CACHE: Any = object()


def parse_partial_json(text: str) -> Any:
    """The best-effort value of `text`, a prefix of a JSON document (see the module notes).

    Raises `InvalidJSONError` if `text` cannot be the start of a JSON document.
    """
    parser = PartialJSONParser()
    parser.feed(text)
    return parser.value
