"""A handful of operations through `AsyncClient` on asyncio and on trio, against Prism.

The sweep (`test_operations.py`) covers every operation with the blocking client;
the async client shares the request path, so these check what differs by
runtime: a JSON body, a page (awaited and iterated), a multipart upload, a
binary answer and a validation error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import oxide_io
from oxide_io import AsyncClient
from oxide_proto.types.chat import ChatCompletion
from oxide_proto.types.shared import FileObject
from tests.conformance.conftest import KEY

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def client(prism_url: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key=KEY, base_url=prism_url, max_retries=0, timeout=30) as client:
        yield client


async def test_chat_completion(client: AsyncClient) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
    )
    assert isinstance(completion, ChatCompletion)
    assert completion.choices


async def test_list_page_awaited_and_iterated(client: AsyncClient) -> None:
    page = await client.files.list(limit=1)
    assert all(isinstance(item, FileObject) for item in page.data)
    first = None
    async for item in client.files.list(limit=1):
        first = item
        break
    assert isinstance(first, FileObject)


async def test_multipart_upload(client: AsyncClient) -> None:
    uploaded = await client.files.create(
        file=("train.jsonl", b'{"prompt": "a"}\n', "application/jsonl"), purpose="fine-tune"
    )
    assert isinstance(uploaded, FileObject)


async def test_binary_answer(client: AsyncClient) -> None:
    content = await client.videos.download_content("video_123")
    data = content if isinstance(content, bytes) else await content.aread()
    assert isinstance(data, bytes) and data


async def test_validation_error(client: AsyncClient) -> None:
    with pytest.raises(oxide_io.UnprocessableEntityError) as info:
        await client.embeddings.create(model="text-embedding-3-small", input=12345)  # type: ignore[arg-type]
    assert "input" in info.value.message
    assert info.value.body["validation"]  # type: ignore[index]
