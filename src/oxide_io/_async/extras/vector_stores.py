# mypy: disable-error-code="no-any-return"
"""Vector store files and file batches: attach or upload, then wait until processed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._options import NOT_GIVEN, NotGiven
from .._polling import check_max_wait, poll_until
from .._resource import AsyncResource

if TYPE_CHECKING:
    from oxide_proto.types.params.vector_stores import (
        ChunkingStrategyRequestParam,
        CreateVectorStoreFileRequestParam,
    )
    from oxide_proto.types.vector_stores import VectorStoreFileBatchObject, VectorStoreFileObject

    from .._resource import Body, FileTypes, Headers, Query, TimeoutArg

__all__ = ["AsyncVectorStoresFileBatchesExtras", "AsyncVectorStoresFilesExtras"]


class AsyncVectorStoresFilesExtras(AsyncResource):
    async def poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        max_wait_seconds: float | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileObject:
        """Waits until the file is no longer `in_progress` and returns it (a failed file too:
        look at `status` and `last_error`).

        Between polls it waits `poll_interval_ms`, or what the API asks in
        `openai-poll-after-ms`, or one second. `max_wait_seconds` bounds the wait
        (`TimeoutError`; processing goes on at the API).
        """
        raw = self.with_raw_response
        return await poll_until(
            self,
            lambda headers: raw.retrieve(
                file_id, vector_store_id=vector_store_id, extra_headers=headers
            ),
            # completed, failed, cancelled, or a state this package does not know yet
            lambda file: file.status != "in_progress",
            what=f"vector store file {file_id!r}",
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
        )

    async def create_and_poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        attributes: Mapping[str, str | float | bool] | NotGiven | None = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        max_wait_seconds: float | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> VectorStoreFileObject:
        """Attaches a file to the vector store, then `poll()`s until it is processed."""
        check_max_wait(max_wait_seconds)
        await self._resource().create(
            vector_store_id,
            file_id=file_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            file_id,
            vector_store_id=vector_store_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
        )

    async def upload(
        self,
        *,
        vector_store_id: str,
        file: FileTypes,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileObject:
        """Uploads `file` (purpose `assistants`) and attaches it; processing goes on after."""
        uploaded = await self._client.files.create(file=file, purpose="assistants")  # type: ignore[attr-defined]
        return await self._resource().create(
            vector_store_id, file_id=uploaded.id, chunking_strategy=chunking_strategy
        )

    async def upload_and_poll(
        self,
        *,
        vector_store_id: str,
        file: FileTypes,
        attributes: Mapping[str, str | float | bool] | NotGiven | None = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        max_wait_seconds: float | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileObject:
        """Uploads `file`, attaches it to the vector store and waits until it is processed."""
        check_max_wait(max_wait_seconds)
        uploaded = await self._client.files.create(file=file, purpose="assistants")  # type: ignore[attr-defined]
        return await self.create_and_poll(
            uploaded.id,
            vector_store_id=vector_store_id,
            attributes=attributes,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            chunking_strategy=chunking_strategy,
        )

    def _resource(self) -> Any:
        return self


class AsyncVectorStoresFileBatchesExtras(AsyncResource):
    async def poll(
        self,
        batch_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileBatchObject:
        """Waits until no file of the batch is `in_progress` and returns the batch."""
        raw = self.with_raw_response
        return await poll_until(
            self,
            lambda headers: raw.retrieve(
                batch_id, vector_store_id=vector_store_id, extra_headers=headers
            ),
            lambda batch: batch.file_counts.in_progress == 0,
            what=f"vector store file batch {batch_id!r}",
            poll_interval_ms=poll_interval_ms,
        )

    async def create_and_poll(
        self,
        vector_store_id: str,
        *,
        attributes: Mapping[str, str | float | bool] | NotGiven | None = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        file_ids: Sequence[str] | NotGiven = NOT_GIVEN,
        files: Iterable[CreateVectorStoreFileRequestParam] | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> VectorStoreFileBatchObject:
        """Creates a file batch, then `poll()`s until every file is processed."""
        resource: Any = self
        batch = await resource.create(
            vector_store_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            file_ids=file_ids,
            files=files,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            batch.id, vector_store_id=vector_store_id, poll_interval_ms=poll_interval_ms
        )

    async def upload_and_poll(
        self,
        vector_store_id: str,
        *,
        files: Iterable[FileTypes],
        max_concurrency: int = 5,
        file_ids: Sequence[str] = (),
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileBatchObject:
        """Uploads `files` (purpose `assistants`), then creates a batch of them and of
        `file_ids` and waits until every file is processed.

        The files are uploaded one after another, each streamed from where it
        lies; `max_concurrency` is accepted for compatibility with the official
        SDK, which uploads up to that many at once. The first failed upload raises.
        """
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        uploaded = []
        for file in files:
            created = await self._client.files.create(file=file, purpose="assistants")  # type: ignore[attr-defined]
            uploaded.append(created.id)
        return await self.create_and_poll(
            vector_store_id,
            file_ids=[*file_ids, *uploaded],
            poll_interval_ms=poll_interval_ms,
            chunking_strategy=chunking_strategy,
        )
