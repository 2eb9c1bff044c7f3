"""A bulk job's files: checking the input, resuming the output, the job file, progress.

Shared by the async runner and its generated blocking twin (file access is the
same for both). The input is read twice, line by line: once to check every line
before the first request goes out, once to send; the output is appended one
whole line per result with a single `os.write` on an O_APPEND descriptor, so a
result is either in the file whole or not at all (a kill mid-write leaves at
most a partial last line, which the next run cuts off and sends again).
Memory in the input's size: checking the input keeps an 8-byte word a line (a
digest and the line's number, `IdIndex`) and where every 16th line starts, so
any line's custom_id can be read again; a digest that matches is confirmed by
that reading. A resume matches each result in the output to its input line
that way and keeps a bit a line (`DoneLines`); sending keeps nothing a line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
import time
from array import array
from collections import deque
from collections.abc import Callable, Container, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from oxide_proto import (
    BulkInputError,
    BulkLineError,
    BulkRequest,
    DoneLines,
    IdIndex,
    InputProblem,
    parse_request_line,
    parse_result_line,
)

__all__ = [
    "BulkOutputError",
    "BulkProgress",
    "BulkSummary",
    "DoneIds",
    "FileIds",
    "JobFile",
    "ProgressMeter",
    "ResultWriter",
    "checked_input",
    "count_results",
    "default_job_file",
    "read_input",
    "resume_output",
    "token_counter",
]

# Problems listed in a BulkInputError before "and more".
_MAX_PROBLEMS = 20
# Where every _STRIDE-th input line starts is kept (8 bytes), so reading a line
# again reads at most _STRIDE - 1 lines before it.
_STRIDE = 16
# How often results are fsync'd (seconds): each is written to the OS at once,
# which survives the process being killed; fsync covers the machine crashing.
FSYNC_INTERVAL = 1.0


class BulkOutputError(ValueError):
    """The output file has a line that is not a result (it is not this job's output?)."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}: line {line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class BulkProgress:
    """Where a bulk job stands: counts since the job began (across runs for
    `done`/`failed`), what is in flight, and the rate over the last seconds."""

    total: int
    done: int
    failed: int
    in_flight: int
    retries: int
    rate: float  # results a second, recently
    elapsed: float  # seconds in this run
    eta: float | None  # seconds, at the recent rate

    @property
    def remaining(self) -> int:
        return self.total - self.done


@dataclass(frozen=True)
class BulkSummary:
    """A bulk run's outcome. `done` counts every input line with a result in
    the output (`failed` of them an error); `skipped` were done by an earlier
    run; `interrupted` is True when the run was stopped before the end."""

    total: int
    done: int
    failed: int
    skipped: int
    sent: int  # requests sent in this run, retries included
    retries: int
    rate_limited: int  # 429s received
    elapsed: float
    output: str
    job_file: str | None
    interrupted: bool = False

    @property
    def succeeded(self) -> int:
        return self.done - self.failed

    @property
    def complete(self) -> bool:
        return self.done == self.total


def token_counter() -> Callable[[str], int] | None:
    """tiktoken's o200k_base tokenizer when tiktoken is installed and has it, else None."""
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("o200k_base")
    except Exception:  # not installed, or its data cannot be loaded here
        return None
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as file:
        yield from enumerate(file, 1)


def read_input(
    path: str, skip: Container[int] | None = None, shard: tuple[int, int] | None = None
) -> Generator[BulkRequest, None, None]:
    """The requests in a checked input file, in order, but those on the line
    numbers in `skip` (not even parsed); with `shard=(k, n)`, only those on
    line numbers equal to k modulo n."""
    if skip is not None and not skip:
        skip = None  # nothing done: no look-up a line
    for number, data in _lines(path):
        if shard is not None and number % shard[1] != shard[0]:
            continue  # another process's line: not even parsed
        if skip is not None and number in skip:
            continue
        request = parse_request_line(data, number)
        if request is not None:
            yield request


class FileIds:
    """A JSONL file's custom_ids (the input's, checked, or the output's): an
    `IdIndex` of them by line number, and where every `_STRIDE`-th line
    starts, to read a line's custom_id again and confirm what the index
    finds. `close()` closes the file it reads."""

    def __init__(self, path: str, index: IdIndex, starts: array[int]) -> None:
        self.path = path
        self.index = index
        self._starts = starts
        self._file: BinaryIO | None = None
        self._at = 0  # the number of the line the file is positioned at

    def __len__(self) -> int:
        return len(self.index)

    def line_at(self, line: int) -> bytes:
        """Line number `line` of the file, read again."""
        if self._file is None:
            self._file = open(self.path, "rb")  # noqa: SIM115  # closed by close()
            self._at = 1
        if not 0 <= line - self._at < _STRIDE:
            # Not a few lines ahead: from the nearest recorded start before it.
            block = (line - 1) // _STRIDE
            self._file.seek(self._starts[block])
            self._at = block * _STRIDE + 1
        while self._at < line:
            self._file.readline()
            self._at += 1
        data = self._file.readline()
        self._at += 1
        return data

    def custom_id_at(self, line: int) -> str | None:
        """The custom_id on line `line` (None if the line no longer has one:
        the file changed since it was checked)."""
        data = self.line_at(line)
        try:
            # Decoded here: json.loads would first work out the bytes' encoding.
            custom_id = json.loads(data.decode("utf-8"))["custom_id"]
        except (ValueError, TypeError, KeyError):
            return None
        return custom_id if isinstance(custom_id, str) else None

    def line_of(self, custom_id: str) -> int | None:
        """The line `custom_id` is on, or None: a digest match is read and compared."""
        for line in self.index.find(custom_id):
            if self.custom_id_at(line) == custom_id:
                return line
        return None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._at = 0


class DoneIds:
    """The requests done, by custom_id: `DoneLines` looked up through `FileIds`."""

    def __init__(self, ids: FileIds, lines: DoneLines) -> None:
        self.ids = ids
        self.lines = lines

    def claim(self, custom_id: str) -> bool:
        """Marks `custom_id`'s request done; False when it was already (an id
        not in the input is never done)."""
        line = self.ids.line_of(custom_id)
        return line is None or self.lines.add(line)


def checked_input(path: str) -> tuple[int, FileIds]:
    """Checks every line of the input; returns the number of requests and their ids.

    Raises `BulkInputError` listing the lines that are not requests and the
    custom_ids that repeat (with the line they first appeared on), the first
    `_MAX_PROBLEMS` in line order. The ids are kept as 8-byte words (digest
    and line number); lines whose ids share a digest are only suspects, and
    their ids are read again and compared, so two ids that merely share a
    digest are not reported."""
    problems: list[InputProblem] = []
    more = False
    total = 0
    starts = array("Q")
    with open(path, "rb") as file:
        index = IdIndex(os.fstat(file.fileno()).st_size + 1)
        offset = 0
        for number, data in enumerate(file, 1):
            if (number - 1) % _STRIDE == 0:
                starts.append(offset)
            offset += len(data)
            try:
                request = parse_request_line(data, number)
            except BulkLineError as exc:
                if len(problems) < _MAX_PROBLEMS:
                    problems.append(exc.problem)
                else:
                    more = True
                continue
            if request is None:
                continue
            total += 1
            index.add(request.custom_id, number)
    ids = FileIds(path, index, starts)
    try:
        for group in index.repeated():
            first: dict[str, int] = {}
            for line in group:
                custom_id = ids.custom_id_at(line)
                if custom_id is None:
                    continue  # the file changed since: not a repeat of anything
                seen = first.setdefault(custom_id, line)
                if seen != line:
                    problems.append(
                        InputProblem(line, f"custom_id {custom_id!r} repeats line {seen}")
                    )
            if len(problems) > 4 * _MAX_PROBLEMS:
                # Only the first in line order are reported: keep those.
                problems.sort(key=lambda problem: problem.line)
                del problems[_MAX_PROBLEMS:]
                more = True
    finally:
        ids.close()
    if problems:
        problems.sort(key=lambda problem: problem.line)
        more = more or len(problems) > _MAX_PROBLEMS
        raise BulkInputError(path, problems[:_MAX_PROBLEMS], more=more)
    return total, ids


BulkInput = str | os.PathLike[str] | Iterable[Mapping[str, Any] | str | bytes]
"""A job's requests: a JSONL file's path, or the requests as objects or lines."""


def input_file(input: BulkInput, output_path: str) -> tuple[str, str | None]:
    """The path of the job's JSONL input, and the temporary file it was spooled to
    (beside the output, for the caller to delete) when `input` was not a path."""
    if isinstance(input, (str, os.PathLike)):
        return os.fspath(input), None
    spooled = spool(input, os.path.dirname(os.path.abspath(output_path)))
    return spooled, spooled


def spool(items: Iterable[Mapping[str, Any] | str | bytes], directory: str) -> str:
    """Writes requests given as objects or lines to a temporary JSONL file."""
    handle, path = tempfile.mkstemp(prefix=".oxide-bulk-", suffix=".jsonl", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            for item in items:
                if isinstance(item, Mapping):
                    file.write(json.dumps(item, separators=(",", ":")).encode("utf-8"))
                elif isinstance(item, str):
                    file.write(item.rstrip("\r\n").encode("utf-8"))
                elif isinstance(item, bytes):
                    file.write(item.rstrip(b"\r\n"))
                else:
                    raise TypeError(
                        "each request must be a mapping or a JSON line (str or bytes), "
                        f"not {type(item).__name__}"
                    )
                file.write(b"\n")
    except BaseException:
        os.unlink(path)
        raise
    return path


def resume_output(path: str, ids: FileIds) -> tuple[DoneLines, int, int]:
    """Reads what an earlier run wrote: `(done lines, done, failed)`, where the
    done lines are the input lines (of `ids`) that have a result in the output;
    a result whose custom_id is not in the input is not counted, nor a second
    result for the same line. A last line cut short by a kill is removed."""
    done = DoneLines()
    count = failed = 0
    if not os.path.exists(path):
        return done, 0, 0
    try:
        with open(path, "rb+") as file:
            good = 0
            for number, data in enumerate(file, 1):
                if not data.endswith(b"\n"):
                    # Written in part when the process died: the result was not kept.
                    file.truncate(good)
                    break
                try:
                    custom_id, is_failure = parse_result_line(data.decode("utf-8"))
                except ValueError as exc:  # UnicodeDecodeError too
                    raise BulkOutputError(path, number, f"not a result line ({exc})") from None
                good += len(data)
                line = ids.line_of(custom_id)
                if line is not None and done.add(line):
                    count += 1
                    failed += is_failure
    finally:
        ids.close()
    return done, count, failed


def count_results(path: str) -> tuple[int, int]:
    """`(results, failed)` in an output file, each custom_id once (as its first
    result says); read only (a partial last line, from a run that is writing or
    was killed, is not counted, nor what is appended while it reads). Its ids
    are kept as 8-byte words; lines whose ids share a digest are read again,
    and one is a repeat only when the ids are equal."""
    count = failed = 0
    starts = array("Q")
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        index = IdIndex(size + 1)
        offset = 0
        for number, data in enumerate(file, 1):
            if not data.endswith(b"\n") or offset + len(data) > size:
                break
            if (number - 1) % _STRIDE == 0:
                starts.append(offset)
            offset += len(data)
            try:
                custom_id, is_failure = parse_result_line(data.decode("utf-8"))
            except ValueError as exc:
                raise BulkOutputError(path, number, f"not a result line ({exc})") from None
            index.add(custom_id, number)
            count += 1
            failed += is_failure
    ids = FileIds(path, index, starts)
    try:
        for group in index.repeated():
            first: set[str] = set()
            for line in group:
                custom_id, is_failure = parse_result_line(ids.line_at(line).decode("utf-8"))
                if custom_id in first:  # a later result for the same id: not counted
                    count -= 1
                    failed -= is_failure
                first.add(custom_id)
    finally:
        ids.close()
    return count, failed


class ResultWriter:
    """Appends result lines and counts them; each line is in the file (the OS's)
    when `write` returns, and on disk after the next fsync (at most
    `FSYNC_INTERVAL` later, and at close).

    `counts` stays equal to the lines this writer put in the file whatever
    instant an exception stops a write, a KeyboardInterrupt included (raised
    between any two bytecodes, it can land after the line is written and
    before it is counted). The count is one tuple, replaced in one store as a
    write starts and as it ends, so it says either "these lines" or "these
    lines, and one on its way from this offset". A write left on its way is
    settled by the next write or by `close`, from the file: a whole line there
    is counted, a part of one is cut off. That takes the writer being the
    file's only one (`exclusive`: one process's run). Writers sharing a file
    (a job split across processes) count what they finished and write nothing
    after a write cut short, since a line appended after part of one would
    leave a line that is not a result in the middle of the file.

    Not for several threads at once: the caller serializes `write` and `close`.
    """

    # The system call, looked up on the class so that a test can make it fail,
    # or be interrupted, at a chosen point of a write.
    _os_write = staticmethod(os.write)

    def __init__(self, path: str, *, exclusive: bool = True) -> None:
        self.path = path
        self._exclusive = exclusive
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        end = os.lseek(self._fd, 0, os.SEEK_END) if exclusive else 0
        # (the file's offset after the last line counted, lines, failed of
        # them, whether a line is on its way): see the class docstring.
        self._state: tuple[int, int, int, bool] = (end, 0, 0, False)
        self._unsynced = False
        self._synced_at = time.monotonic()

    @property
    def counts(self) -> tuple[int, int]:
        """`(lines, failed)`: the results this writer wrote, and how many of them failed."""
        _, lines, failed, _ = self._state
        return lines, failed

    def write(self, line: bytes, failed: bool = False) -> None:
        """Appends one result line (with its newline); `failed` counts it as a failure."""
        if self._fd < 0:
            raise ValueError(f"{self.path}: the result writer is closed")
        if self._state[3]:
            self._settle()
        end, lines, failures, _ = self._state
        self._state = (end, lines, failures, True)
        self._unsynced = True
        view = memoryview(line)
        while view:
            written = self._os_write(self._fd, view)
            view = view[written:]
        self._state = (end + len(line), lines + 1, failures + failed, False)

    def _settle(self) -> None:
        """Counts the line a write cut short left whole in the file, or cuts
        off the part of one it wrote."""
        end, lines, failures, writing = self._state
        if not writing:
            return
        if not self._exclusive:
            raise OSError(
                errno.EIO, f"{self.path}: a write was cut short; no line is appended after it"
            )
        with open(self.path, "rb") as file:
            file.seek(end)
            tail = file.read()
        whole = tail[: tail.rfind(b"\n") + 1]
        for data in whole.splitlines():
            lines += 1
            failures += parse_result_line(data.decode("utf-8"))[1]
        if len(whole) < len(tail):
            os.ftruncate(self._fd, end + len(whole))
        self._state = (end + len(whole), lines, failures, False)

    def sync_due(self) -> bool:
        return self._unsynced and time.monotonic() - self._synced_at >= FSYNC_INTERVAL

    def sync(self) -> None:
        if self._fd >= 0 and self._unsynced:
            self._unsynced = False
            self._synced_at = time.monotonic()
            os.fsync(self._fd)

    def close(self) -> None:
        """Settles a write cut short (when exclusive), fsyncs and closes: `counts`
        is then what the file holds of this writer's."""
        if self._fd >= 0:
            try:
                if self._exclusive:
                    self._settle()
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1


def default_job_file(output: str) -> str:
    return output + ".job.json"


@dataclass
class JobFile:
    """The job's record next to its output: where its input and output are, the
    limits it ran with, its counts when last written, and (for the Batch API)
    each part's stage, file and batch. Written whole to a temporary file, then
    renamed, so it is always one version or the next."""

    path: str
    input: str
    output: str
    total: int
    state: str = "running"  # running, interrupted, done
    done: int = 0
    failed: int = 0
    limits: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0
    mode: str = "direct"  # or "batch": through the Batch API
    job_id: str = ""
    batches: list[dict[str, Any]] = field(default_factory=list)

    def save(self) -> None:
        self.updated_at = time.time()
        record = {
            "version": 1,
            "input": self.input,
            "output": self.output,
            "total": self.total,
            "state": self.state,
            "done": self.done,
            "failed": self.failed,
            "limits": self.limits,
            "updated_at": self.updated_at,
            "mode": self.mode,
            "job_id": self.job_id,
            "batches": self.batches,
        }
        directory = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(prefix=".oxide-job-", dir=directory)
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(record, file, indent=2)
                file.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    @classmethod
    def load(cls, path: str) -> JobFile:
        try:
            with open(path) as file:
                record = json.load(file)
            return cls(
                path=path,
                input=str(record["input"]),
                output=str(record["output"]),
                total=int(record["total"]),
                state=str(record.get("state", "running")),
                done=int(record.get("done", 0)),
                failed=int(record.get("failed", 0)),
                limits=dict(record.get("limits") or {}),
                updated_at=float(record.get("updated_at", 0.0)),
                mode=str(record.get("mode", "direct")),
                job_id=str(record.get("job_id", "")),
                batches=[dict(part) for part in record.get("batches") or []],
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a bulk job file ({exc})") from None


class ProgressMeter:
    """Turns the runner's counts into `BulkProgress` with a recent rate and an ETA."""

    _WINDOW = 10.0  # seconds of results the rate is measured over

    def __init__(self, total: int, done: int, failed: int) -> None:
        self.total = total
        self.done = done
        self.failed = failed
        self.retries = 0
        self.started = time.monotonic()
        self._recent: deque[float] = deque()

    def record(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and self._recent[0] < now - self._WINDOW:
            self._recent.popleft()

    def snapshot(self, in_flight: int) -> BulkProgress:
        now = time.monotonic()
        while self._recent and self._recent[0] < now - self._WINDOW:
            self._recent.popleft()
        span = min(self._WINDOW, now - self.started)
        rate = len(self._recent) / span if span > 0 else 0.0
        remaining = self.total - self.done
        eta = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
        if eta is not None and not math.isfinite(eta):
            eta = None
        return BulkProgress(
            total=self.total,
            done=self.done,
            failed=self.failed,
            in_flight=in_flight,
            retries=self.retries,
            rate=rate,
            elapsed=now - self.started,
            eta=eta,
        )
