"""Binary answers, polling helpers and webhooks in three runtimes.

A 20 MB file content streams to disk through `with_streaming_response` with a
small, bounded peak of memory (traced with tracemalloc) and gives its connection
back; without it, binary answers come read whole, as the official SDK's do; the
vector store helpers poll until `completed`, sleeping what `openai-poll-after-ms`
asks; `client.webhooks.unwrap` agrees with the official SDK's on valid,
tampered and expired deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import inspect
import json
import pathlib
import time
import tracemalloc
import typing
from typing import Any

import pytest

import oxide_io
import oxide_proto
from oxide_io.testing._files_api import POLL_AFTER_MS, PROCESSING_POLLS, pattern_bytes
from oxide_proto import InvalidWebhookSignatureError
from oxide_proto.types.webhooks import WebhookResponseCompleted
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

BIG = 20_000_000


def record_sleeps(client: Any, runtime: str, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    backend = unwrap(client)._transport.backend
    real = backend.sleep
    slept: list[float] = []
    if runtime == "sync":

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            real(seconds)
    else:

        async def sleep(seconds: float) -> None:  # type: ignore[misc]
            slept.append(seconds)
            await real(seconds)

    monkeypatch.setattr(backend, "sleep", sleep)
    return slept


async def test_large_content_streams_to_disk(
    any_transport: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(any_transport)
    await client.models.list()  # the connection (and TLS, HTTP/2 state) set up untraced
    target = tmp_path / "out.bin"
    tracemalloc.start()
    try:
        streaming = client.files.with_streaming_response
        async with streaming.content(f"file-pattern-{BIG}") as response:
            await response.stream_to_file(target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert target.stat().st_size == BIG
    assert peak < 4_000_000, f"peak {peak} bytes while streaming {BIG}"
    expected = hashlib.sha256(pattern_bytes(BIG)).hexdigest()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == expected
    # Read to the end, the connection went back to the pool and is reused.
    await client.models.list()
    assert len(unwrap(client)._transport.connections) == 1


async def test_binary_content_iterates_in_chunks_and_closes_early(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    content = await client.files.content("file-pattern-300000")
    sizes = [len(chunk) async for chunk in content.aiter_bytes(100_000)]
    assert sizes == [100_000, 100_000, 100_000]
    async with client.files.with_streaming_response.content(f"file-pattern-{BIG}") as partial:
        async for chunk in partial.iter_bytes():
            assert chunk
            break
    # Closed after one chunk: the next request still goes through.
    page = await client.models.list()
    assert page.data


async def test_retrieve_content_gives_the_file_as_text(
    mock: Setup, make_client: MakeClient
) -> None:
    # The deprecated twin of `content()` reads the body as text, in every view, as
    # the official SDK's does.
    client = make_client(mock)
    text = '{"prompt": "caf\u00e9 \u2603"}\n{"prompt": "\u00fcber"}\n'
    created = await client.files.create(file=("data.jsonl", text.encode()), purpose="fine-tune")
    with pytest.warns(DeprecationWarning, match="content"):
        found = await client.files.retrieve_content(created.id)
    assert found == text and type(found) is str
    with pytest.warns(DeprecationWarning):
        raw = await client.files.with_raw_response.retrieve_content(created.id)
    assert raw.parse() == text
    with pytest.warns(DeprecationWarning):
        async with client.files.with_streaming_response.retrieve_content(created.id) as streamed:
            assert await streamed.parse() == text
    # `content()` still gives the bytes.
    assert (await client.files.content(created.id)).content == text.encode()


async def test_speech_bytes(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    speech = await client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hi")
    assert speech.headers["content-type"] == "audio/mpeg"
    data = await speech.aread()
    assert data.startswith(b"ID3") and speech.content == data
    raw = await client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hi"
    )
    assert raw.status_code == 200
    assert await raw.parse().aread() == data


async def test_vector_store_file_polls_until_completed(
    mock: Setup, make_client: MakeClient, runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(mock)
    slept = record_sleeps(client, runtime, monkeypatch)
    file = await client.vector_stores.files.create_and_poll("file-1", vector_store_id="vs_1")
    assert file.status == "completed"
    polls = [r for r in mock.server.requests if r.method == "GET"]
    assert len(polls) == PROCESSING_POLLS + 1
    assert all(r.headers["x-stainless-poll-helper"] == "true" for r in polls)
    assert slept == [POLL_AFTER_MS / 1000] * PROCESSING_POLLS
    # A chosen interval wins over the header, and is announced.
    slept.clear()
    await client.vector_stores.files.create_and_poll(
        "file-2", vector_store_id="vs_1", poll_interval_ms=1
    )
    assert slept == [0.001] * PROCESSING_POLLS
    assert mock.server.requests[-1].headers["x-stainless-custom-poll-interval"] == "1"
    with pytest.raises(TimeoutError):
        await client.vector_stores.files.create_and_poll(
            "file-3", vector_store_id="vs_1", max_wait_seconds=0
        )


async def test_upload_and_poll_and_batches(
    mock: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(mock)
    path = tmp_path / "doc.txt"
    path.write_bytes(b"hello vector store")
    file = await client.vector_stores.files.upload_and_poll(vector_store_id="vs_2", file=path)
    assert file.status == "completed"
    batch = await client.vector_stores.file_batches.upload_and_poll(
        "vs_2", files=[path, b"second"], file_ids=["file-0"]
    )
    assert batch.status == "completed"
    assert batch.file_counts.total == 3 and batch.file_counts.in_progress == 0
    created = await client.files.create(file=path, purpose="assistants")
    done = await client.files.wait_for_processing(created.id)
    assert done.status == "processed"


def _sign(payload: bytes, secret_key: bytes, at: int) -> dict[str, str]:
    mac = hmac.new(secret_key, f"wh_1.{at}.".encode() + payload, hashlib.sha256).digest()
    return {
        "webhook-id": "wh_1",
        "webhook-timestamp": str(at),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


async def test_webhooks_unwrap_agrees_with_the_official_sdk(
    mock: Setup, make_client: MakeClient
) -> None:
    openai = pytest.importorskip("openai")
    key = b"webhook-test-key-0123456789"
    secret = "whsec_" + base64.b64encode(key).decode()
    client = make_client(mock, webhook_secret=secret)
    theirs = openai.OpenAI(api_key="sk-test", webhook_secret=secret)
    payload = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "response.completed",
            "created_at": int(time.time()),
            "data": {"id": "resp_1"},
        }
    ).encode()
    now = int(time.time())
    valid = _sign(payload, key, now)
    event = client.webhooks.unwrap(payload, valid)
    official = theirs.webhooks.unwrap(payload, valid)
    assert isinstance(event, WebhookResponseCompleted)
    assert (event.id, event.type, event.data.id) == (official.id, official.type, official.data.id)
    cases = {
        "tampered": (payload + b" ", valid),
        "wrong key": (payload, _sign(payload, b"other", now)),
        "expired": (payload, _sign(payload, key, now - 600)),
        "future": (payload, _sign(payload, key, now + 600)),
    }
    for body, headers in cases.values():
        with pytest.raises(InvalidWebhookSignatureError):
            client.webhooks.unwrap(body, headers)
        with pytest.raises(openai.InvalidWebhookSignatureError):
            theirs.webhooks.unwrap(body, headers)
        with pytest.raises(InvalidWebhookSignatureError):
            client.webhooks.verify_signature(body, headers)
    # The secret may be given per call; without any, a clear error.
    client.webhooks.verify_signature(payload, valid, secret=secret)
    bare = make_client(mock)
    with pytest.raises(ValueError, match="OPENAI_WEBHOOK_SECRET"):
        bare.webhooks.unwrap(payload, valid)
    assert isinstance(oxide_io.Client(api_key="k", webhook_secret=secret).webhook_secret, str)


@pytest.mark.parametrize(
    "owner",
    [
        "oxide_io._async.resources.videos.AsyncVideos",
        "oxide_io._sync.resources.videos.SyncVideos",
        "oxide_io._async.resources.vector_stores.AsyncVectorStoresFiles",
        "oxide_io._sync.resources.vector_stores.SyncVectorStoresFiles",
        "oxide_io._async.resources.vector_stores.AsyncVectorStoresFileBatches",
        "oxide_io._sync.resources.vector_stores.SyncVectorStoresFileBatches",
    ],
)
def test_create_and_poll_takes_what_create_takes_typed_alike(owner: str) -> None:
    # The helper forwards to `create`: each parameter they share carries the
    # same annotation (a narrower `Literal` in `create` must not widen to `str`).

    module_name, _, class_name = owner.rpartition(".")
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    # The names the resource and extras modules import only for type checking.
    driver = module_name.split(".resources.")[0]
    names: dict[str, Any] = {"FileInput": oxide_proto.FileInput}
    for source in (
        f"{driver}._resource",
        "oxide_proto.types.videos",
        "oxide_proto.types.vector_stores",
        "oxide_proto.types.params.vector_stores",
    ):
        names.update(vars(importlib.import_module(source)))
    create = typing.get_type_hints(cls.create, localns=names)
    helper = typing.get_type_hints(cls.create_and_poll, localns=names)
    shared = set(create) & set(helper) - {"return"}
    assert shared >= {"extra_headers", "timeout"}
    assert {name: helper[name] for name in shared} == {name: create[name] for name in shared}
    # The text too: the official SDK's signature check compares annotations as written.
    written = {
        f.__name__: {n: p.annotation for n, p in inspect.signature(f).parameters.items()}
        for f in (cls.create, cls.create_and_poll)
    }
    assert {n: written["create_and_poll"][n] for n in shared} == {
        n: written["create"][n] for n in shared
    }


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # translations
async def test_transcriptions_and_translations_follow_response_format(
    mock: Setup, make_client: MakeClient
) -> None:
    # As in the official SDK: the model of the format asked for, or the text as str.
    from oxide_proto.types.audio import (
        CreateTranscriptionResponseDiarizedJson,
        CreateTranscriptionResponseJson,
        CreateTranscriptionResponseVerboseJson,
        CreateTranslationResponseJson,
        CreateTranslationResponseVerboseJson,
    )

    client = make_client(mock)
    audio = ("memo.mp3", b"\x00" * 1500)
    text = "Transcript of memo.mp3 (1500 bytes)."
    transcriptions = client.audio.transcriptions
    plain = await transcriptions.create(file=audio, model="whisper-1")
    assert type(plain) is CreateTranscriptionResponseJson and plain.text == text
    assert plain._request_id is not None
    verbose = await transcriptions.create(
        file=audio, model="whisper-1", response_format="verbose_json"
    )
    assert type(verbose) is CreateTranscriptionResponseVerboseJson
    assert (verbose.text, verbose.duration) == (text, 1.5)
    diarized = await transcriptions.create(
        file=audio, model="gpt-4o-transcribe-diarize", response_format="diarized_json"
    )
    assert type(diarized) is CreateTranscriptionResponseDiarizedJson
    assert diarized.segments[0].speaker == "A"
    assert await transcriptions.create(file=audio, model="whisper-1", response_format="text") == (
        text + "\n"
    )
    srt = await transcriptions.create(file=audio, model="whisper-1", response_format="srt")
    assert srt == f"1\n00:00:00,000 --> 00:00:01,500\n{text}\n\n"
    vtt = await transcriptions.create(file=audio, model="whisper-1", response_format="vtt")
    assert type(vtt) is str and vtt.startswith("WEBVTT\n")
    raw = await transcriptions.with_raw_response.create(
        file=audio, model="whisper-1", response_format="text"
    )
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.parse() == text + "\n"
    stream = await transcriptions.create(file=audio, model="gpt-4o-transcribe", stream=True)
    events = [event async for event in stream]
    assert "".join(e.delta for e in events if e.type == "transcript.text.delta") == text
    assert events[-1].type == "transcript.text.done" and events[-1].text == text

    translations = client.audio.translations
    translated = await translations.create(file=audio, model="whisper-1")
    assert type(translated) is CreateTranslationResponseJson and translated.text == text
    verbose_translation = await translations.create(
        file=audio, model="whisper-1", response_format="verbose_json"
    )
    assert type(verbose_translation) is CreateTranslationResponseVerboseJson
    assert verbose_translation.language == "english"
    assert (
        await translations.create(file=audio, model="whisper-1", response_format="text")
        == text + "\n"
    )
    for fmt, starts in (("srt", "1\n00:00:00,000 --> "), ("vtt", "WEBVTT\n")):
        subtitles = await translations.create(file=audio, model="whisper-1", response_format=fmt)
        assert type(subtitles) is str and subtitles.startswith(starts), fmt
    # "json" asked for by name is the default's model.
    named = await translations.create(file=audio, model="whisper-1", response_format="json")
    assert type(named) is CreateTranslationResponseJson
    named_t = await transcriptions.create(file=audio, model="whisper-1", response_format="json")
    assert type(named_t) is CreateTranscriptionResponseJson


async def test_mock_images_and_input_token_counts(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    images = await client.images.generate(prompt="a small cat", n=2, size="1024x1536")
    pictures = [base64.b64decode(i.b64_json, validate=True) for i in images.data]
    assert len(pictures) == 2 and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)
    assert images.size == "1024x1536" and images.usage.input_tokens > 0
    stream = await client.images.generate(prompt="a cat", stream=True, partial_images=2)
    events = [event async for event in stream]
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + [
        "image_generation.completed"
    ]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    counted = await client.responses.input_tokens.count(
        model="gpt-4o-mini", input="one two three", instructions="four"
    )
    created = await client.responses.create(
        model="gpt-4o-mini", input="one two three", instructions="four"
    )
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == created.usage.input_tokens > 0
