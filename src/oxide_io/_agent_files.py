"""Local files for hosted agent environments: which files, checked, and what became of them.

`beta.agents.environments.files.prepare()` uploads local files (Files API,
`purpose="user_data"`) and gives the `file_id` inputs a new environment takes;
`prepare_directory()` selects the files of a directory by glob patterns first;
`upload()` uploads one file and stages it in an existing environment. The rules
are the API's: a destination is an absolute POSIX path under `/workspace`, with
no empty, `.` or `..` component and outside the paths the environment reserves;
a source is a regular file, not a symlink, that does not change while it is read.
Both drivers share this module; it touches the file system, not the network.

A failure part-way leaves uploads behind that the caller owns (and may delete):
`AgentFilePreparationError.prepared` and `AgentFileStagingError.uploaded_file_id`
name them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from oxide_proto import OpenAIError

__all__ = [
    "AgentFilePreparationError",
    "AgentFileStagingError",
    "PreparedAgentFiles",
    "StagedAgentFile",
    "check_destination",
    "read_selected",
    "select_directory",
]

_RESERVED_TOP = (".codex", ".managed-agents")


@dataclass
class PreparedAgentFiles:
    """What `prepare()` uploaded: the environment's `files` inputs and the upload ids."""

    files: list[dict[str, Any]] = field(default_factory=list)
    """`{"type": "file_id", "file_id": ..., "path": ...}` inputs, one per file."""
    uploaded_file_ids: list[str] = field(default_factory=list)
    """The Files API uploads made, the caller's to delete when no longer needed."""


@dataclass(frozen=True)
class StagedAgentFile:
    """What `upload()` did: the Files API upload and the environment file it staged."""

    uploaded_file_id: str
    file: Any
    """The `EnvironmentFile` the environment holds."""


class AgentFilePreparationError(OpenAIError):
    """`prepare()` failed part-way; `prepared` holds the uploads that succeeded."""

    def __init__(self, prepared: PreparedAgentFiles, cause: BaseException) -> None:
        super().__init__(
            f"preparing agent files failed after {len(prepared.uploaded_file_ids)} upload(s)"
            f" ({type(cause).__name__}: {cause}); the uploads made are listed in"
            " .prepared.uploaded_file_ids"
        )
        self.prepared = prepared


class AgentFileStagingError(OpenAIError):
    """`upload()` uploaded the file but could not stage it; the upload is the caller's."""

    def __init__(self, uploaded_file_id: str, cause: BaseException) -> None:
        super().__init__(
            f"staging uploaded file {uploaded_file_id!r} in the environment failed"
            f" ({type(cause).__name__}: {cause}); the upload remains"
        )
        self.uploaded_file_id = uploaded_file_id


def check_destination(path: str) -> str:
    """`path` if it is a destination the environment takes; `ValueError` naming the rule if not."""
    if not path.startswith("/workspace/") or "\x00" in path or "\\" in path:
        raise ValueError(
            f"agent file destination {path!r} is not an absolute POSIX path under /workspace/"
        )
    parts = path.split("/")[2:]  # after "" and "workspace"
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"agent file destination {path!r} has an empty, '.' or '..' component")
    top = parts[0]
    if top in _RESERVED_TOP or top.startswith(".managed-agents-") or path == "/workspace/outputs":
        raise ValueError(f"agent file destination {path!r} is a path the environment reserves")
    return path


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size)


@dataclass(frozen=True)
class _Selected(os.PathLike[str]):
    """A file `select_directory()` chose, with the identity it had then."""

    path: Path
    identity: tuple[int, int, int]

    def __fspath__(self) -> str:
        return str(self.path)


def _regular_file(source: str | os.PathLike[str]) -> Path:
    path = Path(source).absolute()
    st = path.lstat() if os.path.lexists(path) else None
    if st is None or stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise ValueError(f"agent file source {str(path)!r} is not a regular file (or is a symlink)")
    return path


def read_file(source: str | os.PathLike[str]) -> tuple[str, bytes]:
    """The file's name and contents, read once; `ValueError` if it changes meanwhile."""
    path = _regular_file(source)
    expected = source.identity if isinstance(source, _Selected) else None
    before = path.lstat()
    if expected is not None and _identity(before) != expected:
        raise ValueError(f"agent file {str(path)!r} changed after it was selected")
    with path.open("rb") as handle:
        if _identity(os.fstat(handle.fileno())) != _identity(before):
            raise ValueError(f"agent file {str(path)!r} changed while it was opened")
        content = handle.read(before.st_size + 1)
    if len(content) != before.st_size:
        raise ValueError(f"agent file {str(path)!r} changed size while it was read")
    return path.name, content


def read_selected(
    files: Mapping[str, str | os.PathLike[str]], headers: Mapping[str, object]
) -> list[tuple[str, str, bytes]]:
    """`(destination, name, content)` of each file, checked before anything is uploaded.

    `headers` are the request's (the client's defaults, then the call's): one
    `Idempotency-Key` cannot stand for several uploads.
    """
    keys = {k.lower() for k, v in headers.items() if v is not None and not _omitted(v)}
    if len(files) > 1 and "idempotency-key" in keys:
        raise ValueError("one Idempotency-Key cannot be given to several file uploads")
    destinations = [check_destination(d) for d in files]
    chosen = set(destinations)
    for destination in destinations:
        clash = [str(p) for p in PurePosixPath(destination).parents if str(p) in chosen]
        if clash:
            raise ValueError(
                f"agent file destination {destination!r} lies under another file, {clash[0]!r}"
            )
    return [(d, *read_file(source)) for d, source in files.items()]


def _omitted(value: object) -> bool:
    from ._options import NotGiven

    return isinstance(value, NotGiven)


def select_directory(
    root: str | os.PathLike[str], destination: str, include: Sequence[str]
) -> dict[str, os.PathLike[str]]:
    """The files under `root` matching the `include` globs, keyed by their destination.

    Each file goes to `destination` + its path relative to `root`. Patterns are
    required (a bare string is refused: it would be read letter by letter), must
    stay inside `root`, and must select at least one file; symlinks are refused.
    """
    if isinstance(include, str) or not include:
        raise ValueError("give prepare_directory() a list of include glob patterns")
    given = Path(root).absolute()
    st = given.lstat() if os.path.lexists(given) else None
    if st is None or not stat.S_ISDIR(st.st_mode):
        raise ValueError(f"{str(given)!r} is not a directory (or is a symlink)")
    directory = given.resolve()
    if not os.path.samestat(st, directory.lstat()):
        raise ValueError(f"{str(given)!r} changed while its path was resolved")
    check_destination(destination.rstrip("/") + "/x")
    for pattern in include:
        pure = PurePosixPath(pattern)
        if not pattern or pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"include pattern {pattern!r} must stay inside the directory")
    selected: dict[str, os.PathLike[str]] = {}
    for pattern in include:
        for found in sorted(directory.glob(pattern)):
            step = found
            while step != directory:
                if step.is_symlink():
                    raise ValueError(f"{str(step)!r} is a symlink; agent files must not be")
                step = step.parent
            if found.is_dir():
                continue
            relative = found.relative_to(directory).as_posix()
            target = str(PurePosixPath(destination) / relative)
            selected[target] = _Selected(found, _identity(found.lstat()))
    if not selected:
        raise ValueError(f"the include patterns {list(include)!r} select no file")
    return selected
