# mypy: disable-error-code="no-any-return"
"""Hosted agent environments: put local files into a new or an existing environment.

`prepare()` and `prepare_directory()` upload files for a new environment (its
`files` inputs); `upload()` uploads one and stages it in an existing one. The
checks and the bookkeeping of what was uploaded are in `oxide_io._agent_files`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._agent_files import (
    AgentFilePreparationError,
    AgentFileStagingError,
    PreparedAgentFiles,
    StagedAgentFile,
    check_destination,
    read_file,
    read_selected,
    select_directory,
)
from ..._options import NOT_GIVEN
from .._resource import AsyncResource

if TYPE_CHECKING:
    from .._resource import Body, FileTypes, Headers, Query, TimeoutArg

__all__ = ["AsyncBetaAgentsEnvironmentsFilesExtras"]


class AsyncBetaAgentsEnvironmentsFilesExtras(AsyncResource):
    async def prepare(
        self,
        files: Mapping[str, str | os.PathLike[str]],
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> PreparedAgentFiles:
        """Uploads local files for a new hosted environment: `{destination: local path}`.

        Every destination and file is checked before the first upload. Returns the
        `files` inputs of the environment (`prepared.files`) and the Files API
        uploads made (`prepared.uploaded_file_ids`, yours to delete). A failure
        part-way raises `AgentFilePreparationError`, whose `prepared` lists the
        uploads that succeeded.
        """
        headers = {**self._client._options.default_headers, **(extra_headers or {})}
        selected = read_selected(files, headers)
        prepared = PreparedAgentFiles()
        try:
            for destination, name, content in selected:
                uploaded = await self._client.files.create(  # type: ignore[attr-defined]
                    file=(name, content),
                    purpose="user_data",
                    extra_headers=extra_headers,
                    extra_query=extra_query,
                    extra_body=extra_body,
                    timeout=timeout,
                )
                prepared.uploaded_file_ids.append(uploaded.id)
                prepared.files.append(
                    {"type": "file_id", "file_id": uploaded.id, "path": destination}
                )
        except Exception as exc:
            raise AgentFilePreparationError(prepared, exc) from exc
        return prepared

    async def prepare_directory(
        self,
        root: str | os.PathLike[str],
        *,
        destination: str,
        include: Sequence[str],
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> PreparedAgentFiles:
        """`prepare()` for the files under `root` that the `include` globs select.

        Each goes to `destination` + its path relative to `root`; symlinks and
        patterns leaving `root` are refused, and patterns that select nothing too.
        """
        return await self.prepare(
            select_directory(root, destination, include),
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )

    async def upload(
        self,
        environment_id: str,
        *,
        file: FileTypes,
        path: str,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> StagedAgentFile:
        """Uploads `file` and stages it at `path` in environment `environment_id`.

        A local path is checked and read as `prepare()` does. If staging fails
        after the upload, `AgentFileStagingError.uploaded_file_id` names the upload.
        """
        if not environment_id:
            raise ValueError("environment_id must not be empty")
        destination = check_destination(path)
        if isinstance(file, os.PathLike):
            file = read_file(file)
        options: dict[str, Any] = {
            "extra_headers": extra_headers,
            "extra_query": extra_query,
            "extra_body": extra_body,
            "timeout": timeout,
        }
        uploaded = await self._client.files.create(file=file, purpose="user_data", **options)  # type: ignore[attr-defined]
        try:
            staged = await self.create(  # type: ignore[attr-defined]
                environment_id, type="file_id", file_id=uploaded.id, path=destination, **options
            )
        except Exception as exc:
            raise AgentFileStagingError(uploaded.id, exc) from exc
        return StagedAgentFile(uploaded_file_id=uploaded.id, file=staged)
