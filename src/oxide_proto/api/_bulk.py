"""Bulk jobs' lines: the Batch API's input and output formats, token estimates, seen ids.

A bulk job reads requests in the Batch API's input format, one JSON object a line:

    {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

and writes results in its output format, one a line, in any order:

    {"id": "...", "custom_id": "r1",
     "response": {"status_code": 200, "request_id": "...", "body": {...}}, "error": null}

An HTTP error is a result too (its status and body under `response`); `error`
({"code", "message"}) is set only when no response came at all. Parsing here
is strict, so a typo (`"boddy"`) or a repeated `custom_id` is caught before the
first request goes out, with the line number and the reason.

`IdIndex` keeps the input's custom_ids as 64-bit words, a digest and a line
number (8 bytes a line, whatever the ids' length); a digest that matches
is only a candidate, which the caller confirms by reading that line's id
again, so a digest collision is never taken for a repeated custom_id nor
for a request already done. `DoneLines` marks the input lines whose
results are in the output, on a resume: a bit a line.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..base._record import frozen

__all__ = [
    "BulkInputError",
    "BulkLineError",
    "BulkRequest",
    "DoneLines",
    "IdIndex",
    "InputProblem",
    "api_path",
    "estimate_tokens",
    "parse_request_line",
    "id_digest",
    "parse_result_line",
    "result_line",
]

_METHODS = frozenset({"POST", "GET", "DELETE"})
_FIELDS = ("custom_id", "method", "url", "body")
# Keys whose string values are not text the model reads.
_NOT_TEXT = frozenset({"model", "role", "type", "name", "user", "format", "encoding_format"})
_OUTPUT_LIMITS = ("max_completion_tokens", "max_output_tokens", "max_tokens")


@frozen(kw_only=True)
class BulkRequest:
    """One input line: `body` is None for a request without one (GET, DELETE)."""

    custom_id: str
    method: str
    url: str
    body: dict[str, Any] | None
    line: int


@frozen
class InputProblem:
    """What is wrong with input line `line` (counted from 1)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class BulkLineError(ValueError):
    """One input line that is not a request in the Batch API's input format."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.problem = InputProblem(line, reason)


class BulkInputError(ValueError):
    """The input has lines that are not valid requests, or repeats a custom_id.

    `problems` lists them in line order (the first `limit` found; `more` tells
    whether the input has others). Nothing was sent."""

    def __init__(
        self, source: str, problems: Iterable[InputProblem], *, more: bool = False
    ) -> None:
        self.source = source
        self.problems = tuple(problems)
        self.more = more
        shown = "; ".join(str(p) for p in self.problems)
        tail = "; and more" if more else ""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count}{'+' if more else ''} {noun}: {shown}{tail}")


def parse_request_line(data: bytes | str, line: int) -> BulkRequest | None:
    """The request on input line number `line`, or None for a blank line.

    Raises `BulkLineError` for anything else than a JSON object with a non-empty
    string `custom_id`, a `method` (POST, GET or DELETE), a `url` starting with
    "/v1/", a `body` object (for POST) and no other field."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BulkLineError(line, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not data.strip():
        return None
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise BulkLineError(line, f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BulkLineError(line, f"a JSON {type(value).__name__}, not an object")
    unknown = sorted(set(value) - set(_FIELDS))
    if unknown:
        raise BulkLineError(line, f"unknown field(s) {', '.join(map(repr, unknown))}")
    missing = [name for name in _FIELDS[:3] if name not in value]
    if missing:
        raise BulkLineError(line, f"missing field(s) {', '.join(map(repr, missing))}")
    custom_id, method, url, body = (value.get(name) for name in _FIELDS)
    if not isinstance(custom_id, str) or not custom_id:
        raise BulkLineError(line, f"custom_id must be a non-empty string, not {custom_id!r}")
    if method not in _METHODS:
        raise BulkLineError(line, f"method must be one of POST, GET, DELETE, not {method!r}")
    if not isinstance(url, str) or not url.startswith("/v1/") or any(c.isspace() for c in url):
        raise BulkLineError(line, f"url must be a path starting with '/v1/', not {url!r}")
    if method == "POST" and not isinstance(body, dict):
        raise BulkLineError(line, f"body must be a JSON object, not {type(body).__name__}")
    if method != "POST" and body is not None and not isinstance(body, dict):
        raise BulkLineError(line, f"body must be a JSON object or absent, not {body!r}")
    return BulkRequest(custom_id=custom_id, method=method, url=url, body=body, line=line)


def api_path(url: str) -> str:
    """The input's `url` relative to a client's base URL (which ends in /v1)."""
    return url[3:] if url.startswith("/v1/") else url


def _text_length(value: object, count: Callable[[str], int] | None, key: str = "") -> int:
    if isinstance(value, str):
        if key in _NOT_TEXT or value.startswith("data:"):
            return 0  # a model name, a role, an inline file: not prompt text
        return count(value) if count is not None else math.ceil(len(value) / 4)
    if isinstance(value, Mapping):
        return sum(_text_length(v, count, k) for k, v in value.items())
    if isinstance(value, list):
        return sum(_text_length(v, count, key) for v in value)
    return 0


def estimate_tokens(
    body: Mapping[str, Any] | None, count: Callable[[str], int] | None = None
) -> int:
    """About how many tokens a request spends from a tokens-per-minute budget.

    The prompt's text (every string but model names, roles, types and inline
    `data:` files), a token per 4 characters unless `count(text)` (an exact
    tokenizer) is given, plus the most the model may answer (`max_tokens`,
    `max_completion_tokens` or `max_output_tokens`, times `n`), as the API
    counts a request against its limit before it runs."""
    if not body:
        return 1
    prompt = sum(
        _text_length(v, count, k) for k, v in body.items() if k not in _OUTPUT_LIMITS and k != "n"
    )
    output = 0
    for name in _OUTPUT_LIMITS:
        limit = body.get(name)
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            output = limit
            break
    choices = body.get("n")
    if isinstance(choices, int) and not isinstance(choices, bool) and choices > 1:
        output *= choices
    return max(1, prompt + output)


def result_line(
    *,
    id: str,
    custom_id: str,
    status_code: int | None = None,
    request_id: str | None = None,
    body: object = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bytes:
    """One output line (with its newline): a response when `status_code` is
    given, else an error with `error_code` and `error_message`."""
    response = None
    if status_code is not None:
        response = {"status_code": status_code, "request_id": request_id, "body": body}
    error = None
    if status_code is None:
        error = {"code": error_code or "request_failed", "message": error_message or ""}
    record = {"id": id, "custom_id": custom_id, "response": response, "error": error}
    # ensure_ascii keeps the line free of raw U+2028/U+2029, which some JSONL
    # readers take for line ends.
    return json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"


def parse_result_line(data: bytes | str) -> tuple[str, bool]:
    """`(custom_id, failed)` of an output line; `failed` when it holds an error
    or a response with a status of 400 or more. Raises ValueError when the line
    is not a result."""
    value = json.loads(data)
    if not isinstance(value, dict) or not isinstance(value.get("custom_id"), str):
        raise ValueError("not a result line (no custom_id)")
    response = value.get("response")
    status = response.get("status_code") if isinstance(response, dict) else None
    failed = value.get("error") is not None or not isinstance(status, int) or status >= 400
    return value["custom_id"], failed


def id_digest(key: str) -> int:
    """A custom_id's 64-bit BLAKE2b digest."""
    data = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(data, "little")


class IdIndex:
    """Custom_ids by digest, each with its line number: 8 bytes an id, whatever its length.

    Each id is one 64-bit word: its digest's top bits above its line number's
    bits (as many as `lines`, the largest line number, needs). The words are
    spread by their top bits over buckets, each sorted on its first look-up
    (sorting makes Python ints of one bucket only). A digest stands for its
    id only with odds: `find` gives the lines whose ids may be the one asked
    for, and `repeated` the groups of lines whose ids may be equal; both are
    candidates for the caller to confirm by reading the lines' ids again,
    never verdicts, so a collision costs a look at one more line and nothing
    else.
    """

    __slots__ = ("_bucket_shift", "_buckets", "_digest", "_line_bits", "_size", "_unsorted")

    def __init__(self, lines: int, *, digest: Callable[[str], int] = id_digest) -> None:
        """`lines` bounds the line numbers (a file's size in bytes does); `digest`
        maps an id to 64 bits, of which the top 64 minus `lines.bit_length()` count."""
        if lines < 1:
            raise ValueError(f"lines must be at least 1, not {lines}")
        self._line_bits = lines.bit_length()
        if self._line_bits > 48:
            raise ValueError(f"{lines} lines is more than an index holds (2**48)")
        # A bucket for each 64 KiB of file when `lines` is the file's size in
        # bytes: about a thousand ids a bucket when lines average 64 bytes.
        bucket_bits = min(14, (lines >> 16).bit_length())
        self._bucket_shift = 64 - bucket_bits
        self._buckets = [array("Q") for _ in range(1 << bucket_bits)]
        self._unsorted = bytearray(b"\x01") * (1 << bucket_bits)
        self._digest = digest
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _floor(self, key: str) -> int:
        """The smallest word `key` can have: its digest's top bits, line bits zero."""
        return (self._digest(key) >> self._line_bits) << self._line_bits

    def _bucket(self, word: int) -> array[int]:
        index = word >> self._bucket_shift  # 0 with one bucket: every word is under 2**64
        bucket = self._buckets[index]
        if self._unsorted[index]:
            bucket = self._buckets[index] = array("Q", sorted(bucket))
            self._unsorted[index] = 0
        return bucket

    def add(self, key: str, line: int) -> None:
        """Adds `key`, found on line `line` (1 to `lines`)."""
        if not 0 < line < 1 << self._line_bits:
            raise ValueError(f"line {line} is beyond the index's {(1 << self._line_bits) - 1}")
        word = self._floor(key) | line
        index = word >> self._bucket_shift
        if self._unsorted[index]:
            self._buckets[index].append(word)
        else:
            bisect.insort(self._buckets[index], word)
        self._size += 1

    def find(self, key: str) -> list[int]:
        """The lines, in order, whose ids share `key`'s digest: it is on one of
        them or on none."""
        bits = self._line_bits
        floor = (self._digest(key) >> bits) << bits
        bucket = self._bucket(floor)
        start = bisect.bisect_left(bucket, floor)
        if start == len(bucket) or bucket[start] >> bits != floor >> bits:
            return []
        end = bisect.bisect_left(bucket, floor + (1 << bits), start + 1)
        mask = (1 << bits) - 1
        return [word & mask for word in bucket[start:end]]

    def repeated(self) -> Iterator[list[int]]:
        """Each group of two or more lines whose ids share a digest, the lines in
        order (groups by increasing digest)."""
        bits, mask = self._line_bits, (1 << self._line_bits) - 1
        for index in range(len(self._buckets)):
            group: list[int] = []
            previous = -1
            for word in self._bucket(index << self._bucket_shift):
                if word >> bits != previous:
                    if len(group) > 1:
                        yield group
                    group, previous = [], word >> bits
                group.append(word & mask)
            if len(group) > 1:
                yield group


class DoneLines:
    """The line numbers of the input's requests that are done: one bit a line."""

    __slots__ = ("_bits", "_count")

    def __init__(self) -> None:
        self._bits = bytearray()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, line: object) -> bool:
        if not isinstance(line, int) or line < 0:
            return False
        byte = line >> 3
        return byte < len(self._bits) and bool(self._bits[byte] >> (line & 7) & 1)

    def add(self, line: int) -> bool:
        """Marks `line` done; False when it was already."""
        if line < 0:
            raise ValueError(f"a line number is not negative: {line}")
        byte, bit = line >> 3, 1 << (line & 7)
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits) // 2)))
        if self._bits[byte] & bit:
            return False
        self._bits[byte] |= bit
        self._count += 1
        return True
