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

`IdDigests` keeps the input's custom_ids as 8-byte digests in sorted runs (8
bytes a line, whatever the ids' length); the digests that repeat are only
suspects, which `RepeatCheck` confirms or clears on a second reading by
comparing the ids themselves, so a digest collision is never reported as a
repeated custom_id. `IdSet` remembers which custom_ids are done (results
already written, on a resume) in 24 to 48 bytes each.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import math
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any

from ..base._record import frozen

__all__ = [
    "BulkInputError",
    "BulkLineError",
    "BulkRequest",
    "IdDigests",
    "IdSet",
    "InputProblem",
    "api_path",
    "estimate_tokens",
    "parse_request_line",
    "RepeatCheck",
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


class IdSet:
    """A set of strings that keeps a 16-byte BLAKE2b digest of each, not the string.

    An open-addressing table in one bytearray, between a third and two thirds
    full: 24 to 48 bytes a member. Two different ids share a digest with
    odds of about n²/2¹²⁹, some 10⁻²¹ for a billion ids.
    """

    __slots__ = ("_mask", "_size", "_table")

    _EMPTY = bytes(16)

    def __init__(self, capacity: int = 1024) -> None:
        slots = 16
        while slots * 2 < capacity * 3:
            slots *= 2
        self._table = bytearray(16 * slots)
        self._mask = slots - 1
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @staticmethod
    def _digest(key: str) -> bytes:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        return digest if digest != IdSet._EMPTY else b"\x01" + digest[1:]

    def _slot(self, digest: bytes) -> tuple[int, bool]:
        """(offset of `digest`'s slot, whether it is there) by linear probing."""
        table, mask = self._table, self._mask
        index = int.from_bytes(digest[:8], "little") & mask
        while True:
            offset = index * 16
            held = table[offset : offset + 16]
            if held == digest:
                return offset, True
            if held == IdSet._EMPTY:
                return offset, False
            index = (index + 1) & mask

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._slot(self._digest(key))[1]

    def add(self, key: str) -> bool:
        """Adds `key`; False when it was there already."""
        digest = self._digest(key)
        offset, present = self._slot(digest)
        if present:
            return False
        self._table[offset : offset + 16] = digest
        self._size += 1
        if self._size * 3 > (self._mask + 1) * 2:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        self._table = bytearray(len(old) * 2)
        self._mask = (self._mask + 1) * 2 - 1
        for start in range(0, len(old), 16):
            digest = bytes(old[start : start + 16])
            if digest != IdSet._EMPTY:
                offset, _ = self._slot(digest)
                self._table[offset : offset + 16] = digest


def id_digest(key: str) -> int:
    """A custom_id's 64-bit BLAKE2b digest."""
    data = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(data, "little")


class IdDigests:
    """Custom_ids as 64-bit digests in one `array('Q')`: 8 bytes an id.

    Digests are added in runs of `run`, each sorted when full (sorting
    makes Python ints of one run only, so the scratch space is bounded by
    `run`, not by the number of ids). Membership is a binary search in each
    run. A digest stands for its id only with odds: two of n ids share one
    with odds about n²/2⁶⁵; `repeated()` gives the digests seen more than
    once, which are suspects for `RepeatCheck` to confirm, never verdicts.
    """

    __slots__ = ("_digest", "_digests", "_pending", "_run", "_spans")

    def __init__(self, digest: Callable[[str], int] = id_digest, run: int = 1 << 14) -> None:
        self._digest = digest
        self._run = run
        self._digests = array("Q")  # whole runs, each sorted
        self._pending = array("Q")  # the current run, not yet sorted
        self._spans: list[tuple[int, int]] = []  # (start, end) of each sorted run

    def __len__(self) -> int:
        return len(self._digests) + len(self._pending)

    def add(self, key: str) -> None:
        self._pending.append(self._digest(key))
        if len(self._pending) >= self._run:
            self._flush()

    def _flush(self) -> None:
        start = len(self._digests)
        self._digests.extend(array("Q", sorted(self._pending)))
        self._spans.append((start, len(self._digests)))
        self._pending = array("Q")

    def _runs(self) -> list[tuple[int, int]]:
        if self._pending:
            self._flush()
        return self._spans

    def __contains__(self, key: object) -> bool:
        """Whether `key`'s digest was added (so, with the odds above, `key`)."""
        if not isinstance(key, str):
            return False
        digest, digests = self._digest(key), self._digests
        for start, end in self._runs():
            index = bisect.bisect_left(digests, digest, start, end)
            if index < end and digests[index] == digest:
                return True
        return False

    def repeated(self) -> Iterator[int]:
        """Each digest added more than once, once, in increasing order."""
        digests = self._digests
        runs = [(digests[index] for index in range(start, end)) for start, end in self._runs()]
        previous: int | None = None
        reported = False
        for digest in heapq.merge(*runs):
            if digest == previous:
                if not reported:
                    reported = True
                    yield digest
            else:
                previous, reported = digest, False


class RepeatCheck:
    """Confirms suspect digests by the ids themselves, on a second reading.

    Fed every request's line number and custom_id in order, it keeps only the
    ids whose digest is among `suspects` (and at most `limit` repeat lines),
    so two different ids that share a digest are told apart and never
    reported as a repeat.
    """

    __slots__ = ("_digest", "_first", "_limit", "_suspects", "more", "repeats")

    def __init__(
        self, suspects: Collection[int], *, digest: Callable[[str], int] = id_digest, limit: int
    ) -> None:
        self._suspects = frozenset(suspects)
        self._digest = digest
        self._limit = limit
        self._first: dict[str, int] = {}
        self.repeats: list[InputProblem] = []
        """`custom_id 'x' repeats line N` problems, at most `limit`, in line order."""
        self.more = False
        """Whether repeats beyond `limit` were found."""

    def feed(self, line: int, custom_id: str) -> None:
        if self._digest(custom_id) not in self._suspects:
            return
        first = self._first.setdefault(custom_id, line)
        if first == line:
            return
        if len(self.repeats) < self._limit:
            self.repeats.append(InputProblem(line, f"custom_id {custom_id!r} repeats line {first}"))
        else:
            self.more = True
