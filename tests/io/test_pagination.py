"""List operations page through results in three runtimes, following the API's cursor.

The embedded server's `GET /v1/files` answers `limit` files after `after`, with
`has_more`; a list call's page iterates across every page, asking for each next
one with the previous page's last id, and can be walked page by page;
`next_page_info()` shows the official SDK's `PageInfo` of the next request.
"""

from __future__ import annotations

import pytest

from oxide_io._page_info import PageInfo
from oxide_io.testing import FILES
from oxide_proto.types import FileObject
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


async def _has_next(page: object) -> bool:
    # A plain method on both pages; through the blocking wrapper, a coroutine.
    answer = page.has_next_page()  # type: ignore[attr-defined]
    return bool(await answer if hasattr(answer, "__await__") else answer)


async def _next_info(page: object) -> object:
    answer = page.next_page_info()  # type: ignore[attr-defined]
    return await answer if hasattr(answer, "__await__") else answer


async def test_next_page_info_names_the_next_request(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    page = await client.files.list(limit=4)
    info = await _next_info(page)
    assert info == PageInfo(params={"after": FILES[3]})
    assert repr(info) == f"PageInfo(params={{'after': {FILES[3]!r}}})"
    page = await page.get_next_page()
    assert mock.server.requests[-1].query == {"limit": "4", "after": FILES[3]}
    assert await _next_info(page) is None  # the last page
    assert not await _has_next(page)


async def test_iterating_a_page_follows_the_cursor(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    page = await client.files.list(limit=3)
    assert [f.id for f in page.data] == list(FILES[:3])
    assert page.has_more is True
    listed = [item async for item in page]
    assert [f.id for f in listed] == list(FILES)
    assert all(isinstance(f, FileObject) for f in listed)
    queries = [request.query for request in mock.server.requests]
    assert queries == [
        {"limit": "3"},
        {"limit": "3", "after": FILES[2]},
        {"limit": "3", "after": FILES[5]},
    ]


async def test_page_by_page(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    page = await client.files.list(limit=4, order="desc")
    seen = [f.id for f in page.data]
    assert await _has_next(page)
    page = await page.get_next_page()
    seen += [f.id for f in page.data]
    assert seen == list(FILES)
    assert not await _has_next(page)
    assert page._request_id is not None
    with pytest.raises(RuntimeError, match="last page"):
        await page.get_next_page()


async def test_single_page_list(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    page = await client.files.list()
    assert not await _has_next(page)
    assert [f.id async for f in page] == list(FILES)
    assert len(mock.server.requests) == 1


async def test_async_list_iterates_without_await(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    if runtime == "sync":
        pytest.skip("the blocking client's list returns its first page at once")
    client = make_client(mock)
    ids = [f.id async for f in client.files.list(limit=2)]
    assert ids == list(FILES)
    assert len(mock.server.requests) == 4


async def test_raw_list_gives_the_page(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    raw = await client.files.with_raw_response.list(limit=5)
    assert raw.status_code == 200
    page = raw.parse()
    assert [f.id for f in page.data] == list(FILES[:5])
