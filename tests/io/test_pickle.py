"""Clients pickle as their options: the copy has an empty pool of its own.

Every client class (and the compat names) round-trips with equal options and the
same transport settings, whether derived with `with_options()` or used already;
a callable credential travels when it pickles and is refused by name when it
does not. A client shipped to a spawn-started worker process makes calls there
against a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import pickle
import ssl
from collections.abc import Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

from oxide_io import AsyncAzureClient, AsyncClient, AzureClient, Client
from oxide_io.compat import AsyncOpenAI, OpenAI
from tests.io.conftest import KEY, Setup
from tests.io.recording_server import RecordingServer, run_recording_server

pytestmark = [pytest.mark.timeout(120)]

MESSAGES = [{"role": "user", "content": "Hello there"}]
WORKER_TIMEOUT = 90.0


def key_provider() -> str:
    """A module-level function: picklable by reference."""
    return KEY


def token_provider() -> str:
    return "entra-token"


def _settings(client: Any) -> tuple[Any, ...]:
    transport = client._transport
    return (transport._verify, transport._http2, transport._h2c, transport._pool.limits)


def _roundtrip(client: Any) -> Any:
    copied = pickle.loads(pickle.dumps(client))
    assert type(copied) is type(client)
    assert copied._options == client._options
    assert copied._transport is not client._transport
    assert _settings(copied) == _settings(client)
    assert copied._transport.connections == []
    assert copied._transport._pool.connection_count == 0
    return copied


CLASSES = [Client, AsyncClient, OpenAI, AsyncOpenAI]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_client_pickles_as_its_options(cls: Any) -> None:
    client = cls(
        api_key="sk-1",
        organization="org",
        project="proj",
        base_url="http://127.0.0.1:9/v1",
        timeout=12.5,
        max_retries=5,
        default_headers={"x-a": "1"},
        default_query={"q": "v"},
        h2c=True,
        http2=False,
        max_connections=7,
        max_keepalive_connections=3,
        keepalive_expiry=1.5,
        webhook_secret="whsec",
    )
    copied = _roundtrip(client)
    assert (copied.api_key, copied.max_retries, copied.default_query) == ("sk-1", 5, {"q": "v"})
    derived = client.with_options(timeout=3.0, default_headers={"x-b": "2"})
    copied = _roundtrip(derived)
    assert copied.default_headers == {"x-a": "1", "x-b": "2"}
    # Clients sharing a pool share one (new) pool when pickled together.
    pair = pickle.loads(pickle.dumps([client, derived]))
    assert pair[0]._transport is pair[1]._transport is not client._transport


@pytest.mark.parametrize("cls", [AzureClient, AsyncAzureClient], ids=lambda cls: cls.__name__)
def test_azure_client_pickles_with_its_token_provider(cls: Any) -> None:
    client = cls(
        azure_endpoint="https://example.openai.azure.com",
        azure_deployment="dep",
        api_version="2024-10-21",
        azure_ad_token_provider=token_provider,
    )
    copied = _roundtrip(client)
    assert copied._options.azure_ad_token_provider is token_provider
    assert (copied.api_version, copied.azure_deployment) == ("2024-10-21", "dep")
    _roundtrip(client.with_options(api_version="2025-01-01", api_key="k"))


def test_callable_key_pickles_when_it_can() -> None:
    client = Client(api_key=key_provider)
    assert _roundtrip(client)._options.api_key_provider is key_provider


@pytest.mark.parametrize(
    ("make", "option"),
    [
        (lambda: Client(api_key=lambda: "k"), "api_key"),
        (lambda: AsyncOpenAI(api_key=lambda: "k"), "api_key"),
        (
            lambda: AzureClient(
                azure_endpoint="https://example.openai.azure.com",
                api_version="2024-10-21",
                azure_ad_token_provider=lambda: "t",
            ),
            "azure_ad_token_provider",
        ),
        (
            lambda: AsyncClient(api_key="k", verify=ssl.create_default_context()),
            "verify",
        ),
    ],
    ids=["key", "compat-key", "azure-token", "ssl-context"],
)
def test_unpicklable_option_is_named(make: Any, option: str) -> None:
    with pytest.raises(pickle.PicklingError, match=f"`{option}` option"):
        pickle.dumps(make())


def test_used_client_pickles_without_its_connections(mock: Setup) -> None:
    client = Client(api_key=KEY, **mock.options)
    try:
        client.models.list()
        assert len(client._transport.connections) == 1
        copied = _roundtrip(client)
        assert copied.models.list().data
        assert len(client._transport.connections) == 1
        copied.close()
    finally:
        client.close()


def test_shallow_copy_shares_the_pool() -> None:
    client = Client(api_key="k")
    assert copy.copy(client)._transport is client._transport
    assert copy.deepcopy(client)._transport is not client._transport


# -- a spawn-started worker process ---------------------------------------------------


def call_in_worker(client: Any) -> Any:
    """Runs in the worker: one call with the client it was sent, then closes it."""
    if isinstance(client, AsyncClient):

        async def main() -> Any:
            async with client:
                return await _call(client)

        return asyncio.run(main())
    with client:
        return _call(client)


def _call(client: Any) -> Any:
    if isinstance(client, (AzureClient, AsyncAzureClient)):
        result = client.chat.completions.create(model="dep", messages=MESSAGES)
    else:
        result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    if not isinstance(client, AsyncClient):
        return result.choices[0].message.content

    async def finish() -> str:
        return (await result).choices[0].message.content

    return finish()


def _in_worker(pool: Pool, client: Any) -> Any:
    return pool.apply_async(call_in_worker, (client,)).get(WORKER_TIMEOUT)


@pytest.fixture(scope="module")
def worker() -> Iterator[Pool]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        yield pool
        pool.close()
        pool.join()


@pytest.fixture(scope="module")
def recording() -> Iterator[RecordingServer]:
    yield from run_recording_server()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_client_shipped_to_a_spawned_worker(cls: Any, worker: Pool, mock: Setup) -> None:
    client = cls(api_key=key_provider, max_retries=0, timeout=20.0, **mock.options)
    derived = client.with_options(default_headers={"x-from": "parent"})
    assert _in_worker(worker, derived)
    (request,) = mock.server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-from"] == "parent"


@pytest.mark.parametrize("cls", [AzureClient, AsyncAzureClient], ids=lambda cls: cls.__name__)
def test_azure_client_shipped_to_a_spawned_worker(
    cls: Any, worker: Pool, recording: RecordingServer
) -> None:
    recording.clear()
    client = cls(
        azure_endpoint=recording.url,
        api_version="2024-10-21",
        azure_ad_token_provider=token_provider,
        max_retries=0,
        timeout=20.0,
    )
    assert _in_worker(worker, client) == "hello"
    (request,) = recording.requests
    assert request.path == "/openai/deployments/dep/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.headers["authorization"] == "Bearer entra-token"
