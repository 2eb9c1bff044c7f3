"""Files for multipart uploads: what callers pass, turned into what the core encodes.

The official SDK accepts bytes, `(filename, content[, content_type])` tuples, open
binary files and paths; the core encodes bytes, tuples and `FilePart`s. Reading
open files and paths is I/O, so it happens here, when the request is built.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from oxide_proto import FilePart

__all__ = ["new_boundary", "split_files"]


def new_boundary() -> str:
    return f"oxide-{secrets.token_hex(16)}"


def _file_input(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        with open(path, "rb") as handle:
            return FilePart(filename=os.path.basename(path), content=handle.read())
    read = getattr(value, "read", None)
    if callable(read):
        name = getattr(value, "name", None)
        filename = os.path.basename(name) if isinstance(name, str) else "upload"
        content = read()
        if isinstance(content, str):
            content = content.encode("utf-8")
        return FilePart(filename=filename, content=content)
    return value


def split_files(
    body: Mapping[str, object], names: tuple[str, ...]
) -> tuple[dict[str, object], list[tuple[str, Any]]]:
    """The form fields and the files of a multipart body; a list of files repeats `name[]`."""
    fields: dict[str, object] = {}
    files: list[tuple[str, Any]] = []
    for key, value in body.items():
        if key not in names:
            fields[key] = value
        elif isinstance(value, (list, tuple)) and not _is_file_tuple(value):
            files.extend((f"{key}[]", _file_input(item)) for item in value)
        else:
            files.append((key, _file_input(value)))
    return fields, files


def _is_file_tuple(value: tuple[Any, ...] | list[Any]) -> bool:
    # (filename, content[, content_type]) as the official SDK spells one file.
    return (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and (value[0] is None or isinstance(value[0], str))
        and not hasattr(value[0], "read")
    )
