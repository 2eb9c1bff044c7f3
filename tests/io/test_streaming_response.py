"""`.with_streaming_response` in three runtimes, over HTTP/1.1 and HTTP/2.

The response comes at its head with the body unread: entering the block
succeeds while the server stalls after the first piece of the body, which it
could not if the body were read first. The body is then read as asked
(`iter_bytes(chunk_size)`, `iter_text`, `iter_lines`, `read`, `text`, `json`,
`parse`, `stream_to_file`); a status error raises on entering, as with the
official SDK. A body read to its end gives its connection back to the pool; a
block left early resets the stream (HTTP/2) or closes the connection
(HTTP/1.1), counted by the pool and by the operating system. Binary answers
without it come read whole, with the SDK's plain members.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from oxide_io.testing import Fail, Stall
from oxide_io.testing._files_api import PATTERN_CHUNK, pattern_bytes
from oxide_proto import NotFoundError, StreamAlreadyConsumed
from tests.io.blocking import unwrap
from tests.io.conftest import KEY, MakeClient, Setup
from tests.io.leaks import client_sockets

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MESSAGES = [{"role": "user", "content": "Hello there"}]
REPLY = 'You said: "Hello there". This reply comes from the oxide mock server.'
# Lines that cross the server's 64 KiB pieces, with multi-byte characters and
# every line ending iter_lines() knows.
ENDINGS = ("\n", "\r\n", "\r")
TEXT = "".join(f"line {i} caf\u00e9 \u2603 {'x' * (i % 97)}{ENDINGS[i % 3]}" for i in range(4000))


def pooled(client: Any) -> int:
    return len(unwrap(client)._transport.connections)


def kept_after_abandon(setup: Setup) -> int:
    # HTTP/1.1 cannot skip the rest of a body: the connection goes. HTTP/2 resets
    # the stream and keeps the connection.
    return 1 if setup.http_version == "HTTP/2" else 0


async def upload_text(client: Any) -> str:
    created = await client.files.create(file=("notes.txt", TEXT.encode()), purpose="assistants")
    return str(created.id)


async def test_body_unread_on_entry_and_abandoned_on_exit(
    any_transport: Setup, make_client: MakeClient
) -> None:
    # Only the first piece of the body is ever sent: were it read on entry, the
    # block would not be entered before the read timeout.
    any_transport.server.enqueue(Stall(after_events=1, path="/v1/files/*/content"))
    client = make_client(any_transport, max_retries=0, timeout=30)
    streaming = client.files.with_streaming_response
    async with streaming.content(f"file-pattern-{PATTERN_CHUNK * 300}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.request_id and response.request_id.startswith("req_")
        assert response.http_version == any_transport.http_version
        assert not response.is_closed
        assert response.elapsed.total_seconds() >= 0
        assert str(response.url).endswith("/content") and response.method == "GET"
        async for chunk in response.iter_bytes(PATTERN_CHUNK):
            assert chunk == pattern_bytes(PATTERN_CHUNK)
            break
    assert response.is_closed
    kept = kept_after_abandon(any_transport)
    assert pooled(client) == kept
    assert client_sockets(any_transport.port) == kept
    await client.models.list()
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_iter_bytes_chunks_then_connection_reused(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    size = 300_000
    for chunk_size, sizes in ((100_000, [100_000] * 3), (70_000, [70_000] * 4 + [20_000])):
        streaming = client.files.with_streaming_response
        async with streaming.content(f"file-pattern-{size}") as response:
            chunks = [chunk async for chunk in response.iter_bytes(chunk_size)]
            # Read to the end: the connection is back in the pool inside the block.
            assert response.is_closed
        assert [len(chunk) for chunk in chunks] == sizes
        assert b"".join(chunks) == pattern_bytes(size)
        assert pooled(client) == 1
        assert client_sockets(any_transport.port) == 1
    async with client.files.with_streaming_response.content("file-pattern-1000") as response:
        chunks = [chunk async for chunk in response.iter_bytes()]
    assert b"".join(chunks) == pattern_bytes(1000)
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_iter_text_and_iter_lines(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    file_id = await upload_text(client)
    streaming = client.files.with_streaming_response
    async with streaming.content(file_id) as response:
        lines = [line async for line in response.iter_lines()]
    assert lines == TEXT.splitlines()
    async with streaming.content(file_id) as response:
        texts = [text async for text in response.iter_text(1000)]
    assert "".join(texts) == TEXT
    assert {len(text) for text in texts[:-1]} == {1000}
    async with streaming.content(file_id) as response:
        assert "".join([text async for text in response.iter_text()]) == TEXT
    assert pooled(client) == 1


async def test_read_text_json_and_parse(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    completions = client.chat.completions.with_streaming_response
    async with completions.create(model="gpt-4o", messages=MESSAGES) as response:
        assert response.headers["x-request-id"] == response.request_id
        body = await response.read()
        assert await response.read() is body  # kept
        assert json.loads(body) == await response.json()
        assert await response.text() == body.decode()
        completion = await response.parse()
        assert await response.parse() is completion
    assert completion.choices[0].message.content == REPLY
    assert completion._request_id == response.request_id
    # The parse() helper, streamed: its parse() gives the parsed completion.
    async with completions.parse(model="gpt-4o", messages=MESSAGES) as response:
        parsed = await response.parse()
    assert type(parsed).__name__ == "ParsedChatCompletion"
    assert parsed.choices[0].message.content == REPLY
    # Sub-resources reached through it are streamed too; a list gives its page.
    async with client.chat.with_streaming_response.completions.create(
        model="gpt-4o", messages=MESSAGES
    ) as response:
        assert (await response.parse()).choices[0].message.content == REPLY
    async with client.models.with_streaming_response.list() as response:
        page = await response.parse()
    assert page.data
    # From the client, as in the official SDK.
    async with client.with_streaming_response.files.content("file-pattern-10") as response:
        assert await response.read() == pattern_bytes(10)
    # A binary answer parses to its bytes, as the official SDK's streamed response does
    # (`with_raw_response` gives the binary content object instead).
    async with client.files.with_streaming_response.content("file-pattern-10") as response:
        assert await response.parse() == pattern_bytes(10)
    raw = await client.files.with_raw_response.content("file-pattern-10")
    assert raw.parse().content == pattern_bytes(10)
    assert pooled(client) == 1


async def test_a_body_iterated_is_not_kept(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    async with client.files.with_streaming_response.content("file-pattern-5000") as response:
        assert len(b"".join([chunk async for chunk in response.iter_bytes()])) == 5000
        with pytest.raises(StreamAlreadyConsumed):
            await response.read()
        with pytest.raises(StreamAlreadyConsumed):
            async for _ in response.iter_bytes():
                pass
    async with client.files.with_streaming_response.content("file-pattern-5000") as response:
        data = await response.read()
        # A body read whole is kept: it can be iterated after.
        assert b"".join([chunk async for chunk in response.iter_bytes(1024)]) == data


async def test_stream_true_parses_to_a_stream(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    completions = client.chat.completions.with_streaming_response
    async with completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert not response.is_closed
        stream = await response.parse()
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == REPLY
    assert response.is_closed
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_stream_to_file_writes_the_exact_bytes(
    any_transport: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(any_transport)
    size = 3 * PATTERN_CHUNK + 12_345
    target = tmp_path / "content.bin"
    async with client.files.with_streaming_response.content(f"file-pattern-{size}") as response:
        await response.stream_to_file(target, chunk_size=10_000)
    assert target.read_bytes() == pattern_bytes(size)
    speech = await client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hi")
    async with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hi"
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        await response.stream_to_file(tmp_path / "speech.mp3")
    assert (tmp_path / "speech.mp3").read_bytes() == unwrap(speech).content
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_status_error_raises_on_entry(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    entered = False
    with pytest.raises(NotFoundError) as caught:
        async with client.files.with_streaming_response.content("file-missing"):
            entered = True
    assert not entered
    assert caught.value.status_code == 404
    assert "file-missing" in caught.value.message
    # Retried as any call up to the response head.
    any_transport.server.clear()
    any_transport.server.enqueue(Fail(500, retry_after_ms=1))
    async with client.files.with_streaming_response.content("file-pattern-10") as response:
        assert await response.read() == pattern_bytes(10)
    assert len(any_transport.server.requests) == 2
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_exception_in_block_releases_the_connection(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    with pytest.raises(LookupError):
        async with client.files.with_streaming_response.content(
            f"file-pattern-{PATTERN_CHUNK * 40}"
        ) as response:
            raise LookupError("left the block")
    assert response.is_closed
    kept = kept_after_abandon(any_transport)
    assert pooled(client) == kept
    assert client_sockets(any_transport.port) == kept
    await client.models.list()
    assert pooled(client) == 1


async def test_only_api_methods_are_offered(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    streaming = unwrap(client.files.with_streaming_response)
    assert {"content", "create", "delete", "list", "retrieve"} <= set(dir(streaming))
    for helper in ("wait_for_processing", "with_raw_response", "_client"):
        with pytest.raises(AttributeError):
            getattr(streaming, helper)
    # Nothing is sent before the block is entered.
    manager = streaming.content("file-pattern-10")
    assert mock.server.requests == []
    del manager


async def test_binary_answers_without_it_are_read_whole(
    any_transport: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(any_transport)
    file_id = await upload_text(client)
    content = await client.files.content(file_id)
    # Read whole: the connection is already back in the pool.
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1
    plain = unwrap(content)  # the official SDK's plain members, on both clients
    assert plain.content == plain.read() == TEXT.encode()
    assert plain.text == TEXT and plain.encoding == "utf-8"
    assert b"".join(plain.iter_bytes(4096)) == TEXT.encode()
    assert {len(chunk) for chunk in list(plain.iter_bytes(4096))[:-1]} == {4096}
    assert list(plain.iter_lines()) == TEXT.splitlines()
    assert "".join(plain.iter_text(100)) == TEXT
    plain.write_to_file(tmp_path / "written.txt")
    assert (tmp_path / "written.txt").read_bytes() == TEXT.encode()
    # Their coroutine twins (aread, aiter_bytes, ... on the async client).
    assert await content.aread() == TEXT.encode()
    assert b"".join([chunk async for chunk in content.aiter_bytes(4096)]) == TEXT.encode()
    assert [line async for line in content.aiter_lines()] == TEXT.splitlines()
    await content.astream_to_file(tmp_path / "streamed.txt")
    assert (tmp_path / "streamed.txt").read_bytes() == TEXT.encode()
    raw = await client.files.with_raw_response.content(file_id)
    assert raw.content == TEXT.encode()
    assert unwrap(raw.parse()).content == TEXT.encode()


async def test_the_official_sdk_raises_on_entry_too(mock: Setup, runtime: str) -> None:
    if runtime != "sync":
        pytest.skip("one run is enough: it checks the reference, not oxide")
    openai = pytest.importorskip("openai")
    reference = openai.OpenAI(api_key=KEY, base_url=mock.server.base_url, max_retries=0)
    try:
        entered = False
        with (
            pytest.raises(openai.NotFoundError),
            reference.files.with_streaming_response.content("file-missing"),
        ):
            entered = True
        assert not entered
        with reference.chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        ) as response:
            stream = response.parse()
            assert type(stream).__name__ == "Stream"
    finally:
        reference.close()
