"""The official SDK's client options, seen from the servers' request logs, in every runtime.

A callable `api_key` is called before every attempt; `timeout` takes an
httpx-style object; `http_client` takes an oxide transport and refuses an httpx
client; `with_options()`/`copy()` take the official arguments; strict response
validation; `close()`; the generic `get()`/`post()`/... methods.
"""

from __future__ import annotations

from typing import Any

import pytest

from oxide_io import (
    APIResponseValidationError,
    AsyncClient,
    AsyncTransport,
    AuthenticationError,
    Client,
    OpenAIError,
    SyncTransport,
    Timeout,
)
from oxide_io.testing import Fail
from oxide_proto import BaseModel
from oxide_proto.types.chat import ChatCompletion, ChatCompletionChunk
from oxide_proto.types.models import Model
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import KEY, MakeClient, Setup
from tests.io.recording_server import CHAT_COMPLETION, RecordingServer
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import ws_api as ws_api
from tests.ws_api_server import WsApiServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello"}]


def _providers(runtime: str) -> list[str]:
    # A blocking client calls a plain function; an async one also awaits a coroutine.
    return ["sync"] if runtime == "sync" else ["sync", "async"]


async def test_callable_api_key_is_called_for_every_attempt(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    calls: list[str] = []

    def key() -> str:
        calls.append("sync")
        return KEY

    async def async_key() -> str:
        calls.append("async")
        return KEY

    for kind in _providers(runtime):
        mock.server.clear()
        calls.clear()

        client = make_client(mock, api_key=key if kind == "sync" else async_key)
        assert calls == []  # not called while building the client
        mock.server.enqueue(Fail(500, retry_after=0))
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        await client.models.list()
        # Two attempts for the first call, one for the second.
        assert calls == [kind] * 3
        assert [r.headers["authorization"] for r in mock.server.requests] == [f"Bearer {KEY}"] * 3


async def test_rotating_key_reaches_the_server(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    keys = iter(["sk-one", "sk-two", "sk-three"])
    client = make_client(base_url=recording.url + "/v1", api_key=lambda: next(keys))
    for _ in range(3):
        await client.models.list()
    assert [r.headers["authorization"] for r in recording.requests] == [
        "Bearer sk-one",
        "Bearer sk-two",
        "Bearer sk-three",
    ]


async def test_callable_api_key_returning_nothing_is_an_error(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url + "/v1", api_key=lambda: "")
    with pytest.raises(ValueError, match="api_key callable must return a non-empty str"):
        await client.models.list()
    assert recording.requests == []


async def test_wrong_key_from_a_callable_is_an_authentication_error(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock, api_key=lambda: "sk-wrong")
    with pytest.raises(AuthenticationError):
        await client.models.list()


class _PhaseTimeouts:
    """What an httpx.Timeout looks like to oxide: four attributes."""

    def __init__(
        self, connect: float | None, read: float | None, write: float, pool: float
    ) -> None:
        self.connect, self.read, self.write, self.pool = connect, read, write, pool


async def test_timeout_takes_an_object_with_phase_attributes(make_client: MakeClient) -> None:
    client = make_client(base_url="http://127.0.0.1:9", timeout=_PhaseTimeouts(2, None, 3, 4))
    assert client.timeout == Timeout(None, connect=2.0, read=None, write=3.0, pool=4.0)
    derived = client.with_options(timeout=_PhaseTimeouts(1, 5, 6, 7))
    assert derived.timeout == Timeout(None, connect=1.0, read=5.0, write=6.0, pool=7.0)
    assert client.with_options(timeout=None).timeout == Timeout(None)
    assert client.with_options(timeout=9).timeout == Timeout(9.0)
    with pytest.raises(TypeError, match="timeout must be"):
        make_client(base_url="http://127.0.0.1:9", timeout="10")
    with pytest.raises(ValueError, match="0 or more"):
        make_client(base_url="http://127.0.0.1:9", timeout=-1)


async def test_read_timeout_of_a_phase_object_is_sent(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, timeout=_PhaseTimeouts(5, 42, 5, 5))
    await client.models.list()
    assert mock.server.requests[-1].headers["x-stainless-read-timeout"] == "42"


class _HttpxLikeClient:
    """Stands for an httpx client: any object that is not an oxide transport."""


async def test_http_client_refuses_httpx_and_names_the_options(runtime: str) -> None:
    cls = Client if runtime == "sync" else AsyncClient
    with pytest.raises(TypeError, match=r"verify=.*http2=.*max_connections=") as caught:
        cls(api_key=KEY, http_client=_HttpxLikeClient())  # type: ignore[arg-type]
    assert "_HttpxLikeClient" in str(caught.value)


async def test_http_client_takes_an_oxide_transport(mock: Setup, runtime: str) -> None:
    transport: Any = SyncTransport() if runtime == "sync" else AsyncTransport()
    raw = (Client if runtime == "sync" else AsyncClient)(
        api_key=KEY, base_url=mock.server.base_url, http_client=transport
    )
    client = wrap(raw)
    assert unwrap(client)._transport is transport
    await client.models.list()
    assert len(transport.connections) == 1
    other = client.with_options(http_client=transport, max_retries=0)
    assert unwrap(other)._transport is transport
    await client.close()
    assert transport.connections == []


async def test_with_options_takes_the_official_arguments(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(
        base_url=recording.url + "/v1",
        default_headers={"x-a": "1", "x-b": "2"},
        default_query={"qa": "1"},
        organization="org-1",
    )
    merged = client.copy(default_headers={"x-b": "3"}, default_query={"qb": "2"})
    await merged.models.list()
    replaced = client.with_options(set_default_headers={"x-c": "4"}, set_default_query={"qc": "5"})
    await replaced.models.list()
    moved = client.with_options(base_url=recording.url + "/v2", project="proj-1", api_key="sk-new")
    await moved.models.list()
    first, second, third = recording.requests
    assert (first.headers["x-a"], first.headers["x-b"]) == ("1", "3")
    assert first.query == {"qa": "1", "qb": "2"}
    assert "x-a" not in second.headers and second.headers["x-c"] == "4"
    assert second.query == {"qc": "5"}
    assert third.path == "/v2/models"
    assert third.headers["authorization"] == "Bearer sk-new"
    assert third.headers["openai-organization"] == "org-1"
    assert third.headers["openai-project"] == "proj-1"
    with pytest.raises(ValueError, match="set_default_headers"):
        client.with_options(default_headers={}, set_default_headers={})
    with pytest.raises(ValueError, match="set_default_query"):
        client.with_options(default_query={}, set_default_query={})
    # Checked as the constructor checks it (see tests/io/test_workload_identity_x509.py).
    with pytest.raises(OpenAIError, match="identity_provider_id"):
        client.with_options(workload_identity={"provider": "x"})
    with pytest.raises(ValueError, match="data_residency"):
        client.with_options(data_residency="mars")
    with pytest.raises(OpenAIError, match=r"bedrock\(\) or vertex\(\)"):
        client.with_options(provider=object())
    with pytest.raises(TypeError, match="unexpected options"):
        client.with_options(_extra_kwargs={"nonsense": 1})
    with pytest.raises(ValueError, match="max_retries"):
        client.with_options(max_retries=-1)
    # None keeps the current value, as in the official SDK.
    assert client.with_options(admin_api_key=None, data_residency=None).organization == "org-1"


async def test_missing_key_and_enforce_credentials(runtime: str) -> None:
    cls = Client if runtime == "sync" else AsyncClient
    with pytest.raises(OpenAIError, match="api_key"):
        cls()
    client = cls(_enforce_credentials=False)
    assert client.api_key == ""


async def test_strict_response_validation(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    strict = make_client(base_url=recording.url + "/v1", _strict_response_validation=True)
    lenient = make_client(base_url=recording.url + "/v1")
    recording.answers.append((200, {}))
    with pytest.raises(APIResponseValidationError, match="required") as caught:
        await strict.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.path == "id"
    recording.answers.append((200, {**CHAT_COMPLETION, "created": "yesterday"}))
    with pytest.raises(APIResponseValidationError) as caught:
        await strict.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.path == "created"
    # A complete answer passes; the lenient client takes `{}` as the SDK does.
    completion = await strict.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "hello"
    recording.answers.append((200, {}))
    empty = await lenient.chat.completions.create(model="m", messages=MESSAGES)
    assert empty.id is None and empty.choices is None
    # Derived clients keep the flag.
    recording.answers.append((200, {"object": "list"}))
    with pytest.raises(APIResponseValidationError):
        await strict.with_options(max_retries=0).models.list()


async def test_close_on_client_and_stream(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    first = await stream.__anext__()
    assert first is not None
    await stream.close()
    assert [event async for event in stream] == []
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.models.list()


async def test_omit_removes_a_header_as_none_does(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    # The official SDK's `omit` as a header value: a default header left out.
    from oxide_io.compat import omit

    client = make_client(
        base_url=recording.url + "/v1", default_headers={"X-A": "1", "X-B": omit, "X-C": "3"}
    )
    await client.models.list(extra_headers={"X-A": omit, "X-Stainless-Lang": omit})
    await client.with_options(default_headers={"X-C": omit}).models.list()
    await client.models.list(extra_headers={"X-A": None})
    first, derived, with_none = (r.headers for r in recording.requests)
    assert not {"x-a", "x-b", "x-stainless-lang"} & set(first)
    assert first["x-c"] == "3"
    assert (derived["x-a"], derived.get("x-b"), derived.get("x-c")) == ("1", None, None)
    assert "x-a" not in with_none


async def test_generic_methods(recording: RecordingServer, make_client: MakeClient) -> None:
    client = make_client(base_url=recording.url + "/v1", api_key="sk-generic")
    got = await client.get(
        "/things/abc",
        cast_to=object,
        options={"params": {"limit": 2}, "headers": {"x-h": "v"}},
    )
    assert got == {"method": "GET", "path": "/v1/things/abc"}
    posted = await client.post(
        "/things", cast_to=dict, body={"a": 1}, options={"extra_json": {"b": 2}}
    )
    assert posted == {"method": "POST", "path": "/v1/things"}
    assert await client.put("/things/1", cast_to=dict, body={"c": 3}) == {
        "method": "PUT",
        "path": "/v1/things/1",
    }
    assert (await client.patch("things/2", cast_to=dict))["method"] == "PATCH"
    assert (await client.delete("/things/3", cast_to=dict))["method"] == "DELETE"
    completion = await client.post("/chat/completions", cast_to=ChatCompletion, body={"model": "m"})
    assert isinstance(completion, ChatCompletion)
    assert completion.choices[0].message.content == "hello"
    assert await client.get("/x/text", cast_to=str) == "plain text é"
    assert await client.get("/x/text", cast_to=bytes) == "plain text é".encode()
    models = await client.get("/models", cast_to=object)
    assert models["data"][0]["id"] == "m1"
    stream = await client.post("/x/stream", cast_to=object, body={}, stream=True)
    assert [event async for event in stream] == [{"n": 1}, {"n": 2}]
    requests = recording.requests
    assert requests[0].query == {"limit": "2"} and requests[0].headers["x-h"] == "v"
    assert requests[0].headers["authorization"] == "Bearer sk-generic"
    assert requests[1].json == {"a": 1, "b": 2}
    assert requests[2].json == {"c": 3}
    assert [r.method for r in requests[:5]] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    assert requests[3].path == "/v1/things/2"


class _OwnModel(BaseModel):
    """A model outside oxide_proto.types: decodable, but not a stream's event type."""

    __slots__ = ("id",)
    id: str


async def test_generic_methods_errors_and_retries(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url + "/v1", max_retries=0)
    with pytest.raises(AuthenticationError):
        await client.get("/unauthorized", cast_to=object)
    recording.answers.append((500, {"error": {"message": "boom"}}))
    assert (await client.get("/again", cast_to=dict, options={"max_retries": 1}))["path"] == (
        "/v1/again"
    )
    assert [r.headers["x-stainless-retry-count"] for r in recording.requests[-2:]] == ["0", "1"]
    with pytest.raises(TypeError, match="cast_to"):
        await client.get("/models", cast_to=int)
    with pytest.raises(TypeError, match="unsupported request options"):
        await client.get("/models", cast_to=object, options={"follow_redirects": True})
    with pytest.raises(TypeError, match="content"):
        await client.post("/models", cast_to=object, content=b"raw")
    with pytest.raises(ValueError, match="relative"):
        await client.get("https://example.com/models", cast_to=object)
    with pytest.raises(ValueError, match="braces"):
        await client.get("/models/{id}", cast_to=object)
    with pytest.raises(TypeError, match="event type"):
        await client.post("/x/stream", cast_to=_OwnModel, stream=True)
    strict = make_client(base_url=recording.url + "/v1", _strict_response_validation=True)
    with pytest.raises(APIResponseValidationError):
        await strict.get("/things", cast_to=Model)
    own = await client.get("/things", cast_to=_OwnModel)
    assert isinstance(own, _OwnModel) and own.id is None


async def test_generic_stream_of_models(
    recording: RecordingServer, make_client: MakeClient, runtime: str
) -> None:
    client = make_client(base_url=recording.url + "/v1")
    recording.answers.clear()
    from oxide_io import AsyncStream, Stream

    stream_cls = Stream if runtime == "sync" else AsyncStream
    stream = await client.post(
        "/x/stream",
        cast_to=ChatCompletion,
        body={},
        stream=True,
        stream_cls=stream_cls[ChatCompletionChunk],
    )
    chunks = [chunk async for chunk in stream]
    assert [type(chunk) for chunk in chunks] == [ChatCompletionChunk, ChatCompletionChunk]


async def test_callable_api_key_for_each_websocket_handshake(
    ws_api: WsApiServer, runtime: str, anyio_backend: str
) -> None:
    keys = iter(["sk-ws-1", "sk-ws-2"])
    options: dict[str, Any] = {"api_key": lambda: next(keys), "base_url": ws_api.base_url}
    raw = Client(**options) if runtime == "sync" else AsyncClient(**options)
    client = wrap(raw)
    try:
        for _ in range(2):
            if runtime == "sync":
                manager = wrap(raw.responses.connect())
            else:
                manager = client.responses.connect()
            async with manager as connection:
                await connection.response.create(model="m", input="hi")
                async for event in connection:
                    if event.type == "response.completed":
                        break
    finally:
        await client.close()
    assert [h["authorization"] for h in ws_api.handshakes] == ["Bearer sk-ws-1", "Bearer sk-ws-2"]
