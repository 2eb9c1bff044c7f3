"""Each client keeps its own table of request headers, in every runtime.

Requests of the same settings share one checked `Headers` object, kept in a
`HeaderTable` the client owns. Those headers carry the client's key, so a table
holds one client's keys only, a client derived with `with_options()`/`copy()`
with another key or other default headers starts with an empty one (one with
the same shares it), `client.api_key = ...` sends the new key from the next
request on, and a closed client empties its table and a dropped one takes it along.
"""

from __future__ import annotations

import copy
import gc
import weakref
from typing import Any

import pytest

from oxide_io import AsyncAzureClient, AsyncClient, AzureClient, Client
from oxide_io import compat as openai_compat
from oxide_proto import HeaderTable
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import MakeClient
from tests.io.recording_server import RecordingServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def _sent(recording: RecordingServer) -> list[str | None]:
    return [r.headers.get("authorization") for r in recording.requests]


def _table(client: Any) -> HeaderTable:
    table = unwrap(client)._header_table
    assert isinstance(table, HeaderTable)
    return table


def _keys_in(client: Any) -> set[str]:
    # The table has no way to list what it holds (it holds keys): read it here.
    return {headers["authorization"] for headers in _table(client)._entries.values()}


async def test_requests_share_headers_in_the_clients_own_table(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url, api_key="sk-one", max_retries=0)
    other = make_client(base_url=recording.url, api_key="sk-two", max_retries=0)
    for _ in range(3):
        await client.models.list()
        await other.models.list()
    assert _sent(recording) == ["Bearer sk-one", "Bearer sk-two"] * 3
    assert _table(client) is not _table(other)
    assert len(_table(client)) == len(_table(other)) == 1
    assert _keys_in(client) == {"Bearer sk-one"}
    assert _keys_in(other) == {"Bearer sk-two"}


async def test_a_derived_client_shares_the_table_only_with_the_same_secrets(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url, api_key="sk-parent", max_retries=0)
    await client.models.list()
    other_key = client.with_options(api_key="sk-derived")
    other_headers = client.copy(default_headers={"X-Secret": "s1"})
    same = client.with_options(max_retries=1)
    await other_key.models.list()
    await other_headers.models.list()
    await same.models.list()
    assert _sent(recording) == [
        "Bearer sk-parent",
        "Bearer sk-derived",
        "Bearer sk-parent",
        "Bearer sk-parent",
    ]
    # Only a client whose headers hold the same keys shares the table.
    assert _table(same) is _table(client)
    assert _table(other_key) is not _table(client)
    assert _table(other_headers) not in (_table(client), _table(other_key))
    assert _keys_in(client) == {"Bearer sk-parent"}
    assert _keys_in(other_key) == {"Bearer sk-derived"}
    assert len(_table(client)) == 1  # `same` found the parent's headers
    x_secret = {h.get("x-secret") for h in _table(other_headers)._entries.values()}
    assert x_secret == {"s1"}
    assert all("x-secret" not in h for h in _table(client)._entries.values())
    # A call's own `max_retries` (a shallow copy for that call) uses the client's table.
    await client.get("/models", cast_to=object, options={"max_retries": 1})
    assert _keys_in(client) == {"Bearer sk-parent"}


async def test_a_new_api_key_is_sent_from_the_next_request_on(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url, api_key="sk-old", max_retries=0)
    await client.models.list()
    before = _table(client)
    # A shallow copy (as a call with its own `max_retries` makes) shares the table
    # until the key changes on one of them.
    twin = wrap(copy.copy(unwrap(client)))
    assert _table(twin) is before
    unwrap(client).api_key = "sk-new"
    assert client.api_key == "sk-new"
    await client.models.list()
    await client.get("/models", cast_to=object)
    await twin.get("/models", cast_to=object)
    assert _sent(recording) == ["Bearer sk-old", "Bearer sk-new", "Bearer sk-new", "Bearer sk-old"]
    # The old key's headers stay in the old table, which the client no longer holds.
    assert _table(client) is not before
    assert _keys_in(client) == {"Bearer sk-new"}
    assert _keys_in(twin) == {"Bearer sk-old"}
    with pytest.raises(TypeError, match="api_key must be a str"):
        unwrap(client).api_key = None


async def test_a_closed_client_empties_its_table_and_a_dropped_one_takes_it_along(
    recording: RecordingServer, runtime: str
) -> None:
    def make() -> Any:
        options: dict[str, Any] = {"base_url": recording.url, "api_key": "sk-gone"}
        return wrap(Client(**options)) if runtime == "sync" else AsyncClient(**options)

    client = make()
    await client.models.list()
    assert len(_table(client)) == 1
    await client.aclose()
    assert len(_table(client)) == 0

    client = make()
    await client.models.list()
    page = await client.models.list()
    table = weakref.ref(_table(client))
    await client.aclose()
    del client, page
    gc.collect()
    assert table() is None


def test_the_compat_clients_keep_their_own_tables(recording: RecordingServer) -> None:
    sync = openai_compat.OpenAI(base_url=recording.url, api_key="sk-compat", max_retries=0)
    async_client = openai_compat.AsyncOpenAI(base_url=recording.url, api_key="sk-compat")
    try:
        sync.models.list()
        sync.api_key = "sk-compat-2"
        sync.models.list()
        assert _sent(recording) == ["Bearer sk-compat", "Bearer sk-compat-2"]
        assert _keys_in(sync) == {"Bearer sk-compat-2"}
        assert _table(async_client) is not _table(sync)
    finally:
        sync.close()


async def test_an_azure_clients_new_key_goes_in_its_api_key_header(
    recording: RecordingServer, runtime: str
) -> None:
    options: dict[str, Any] = {
        "azure_endpoint": recording.url,
        "api_version": "2024-10-21",
        "api_key": "az-old",
    }
    client = wrap(AzureClient(**options)) if runtime == "sync" else AsyncAzureClient(**options)
    try:
        await client.models.list()
        unwrap(client).api_key = "az-new"
        await client.models.list()
        assert [r.headers.get("api-key") for r in recording.requests] == ["az-old", "az-new"]
        assert client.api_key == "az-new"
    finally:
        await client.aclose()
