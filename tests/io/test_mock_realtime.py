"""MockServer's Realtime WebSocket (`GET /v1/realtime`): every event it sends decodes
strictly into the API's types, and `client.realtime.connect()` holds a conversation
with it on every runtime."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from oxide_io.testing import Fail
from oxide_io.testing._app import MockApp, RecordedRequest
from oxide_io.testing._behaviours import Plan
from oxide_io.testing._generation import default_reply
from oxide_io.testing._realtime import RealtimeConversation
from oxide_io.testing._wire import Answer, pieces
from oxide_proto import decode
from oxide_proto.types import RealtimeServerEvent
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import KEY, MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

USER_ITEM = {
    "type": "message",
    "role": "user",
    "content": [{"type": "input_text", "text": "Say hello"}],
}


def conversation(reply: str = "Hello there, friend.") -> tuple[RealtimeConversation, MockApp]:
    app = MockApp(api_key=KEY, reply_text=reply)

    def respond(request: RecordedRequest) -> tuple[Answer, Plan]:
        return app.handle(request)

    headers = [("authorization", f"Bearer {KEY}")]
    return RealtimeConversation("gpt-realtime", respond, headers), app


def strict(messages: list[str]) -> list[Any]:
    return [decode(RealtimeServerEvent, json.loads(m), strict=True) for m in messages]


def test_every_event_decodes_strictly() -> None:
    talk, _ = conversation()
    sent = strict(talk.opened())
    assert [e.type for e in sent] == ["session.created"]
    update = {"type": "session.update", "session": {"type": "realtime", "instructions": "Hi"}}
    (updated,) = strict(talk.answer(json.dumps(update)))
    assert updated.type == "session.updated" and updated.session.instructions == "Hi"
    added = strict(talk.answer(json.dumps({"type": "conversation.item.create", "item": USER_ITEM})))
    assert [e.type for e in added] == ["conversation.item.added", "conversation.item.done"]
    audio = strict(talk.answer(json.dumps({"type": "response.create"})))
    kinds = [e.type for e in audio]
    assert kinds[:3] == [
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-5:] == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    transcript = "".join(
        e.delta for e in audio if e.type == "response.output_audio_transcript.delta"
    )
    pcm = b"".join(
        base64.b64decode(e.delta) for e in audio if e.type == "response.output_audio.delta"
    )
    assert transcript == "Hello there, friend."
    words = len(pieces("Hello there, friend."))  # "Hello", " there", ",", " friend", "."
    assert len(pcm) == words * 2 * 2400  # 100 ms of PCM16 at 24 kHz for each
    done = audio[-1]
    assert done.type == "response.done" and done.response.status == "completed"
    assert done.response.usage.output_tokens == words
    text = strict(
        talk.answer(
            json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})
        )
    )
    assert "".join(e.delta for e in text if e.type == "response.output_text.delta") == (
        "Hello there, friend."
    )
    assert [
        e.type
        for e in strict(
            talk.answer(json.dumps({"type": "input_audio_buffer.append", "audio": "AAE="}))
        )
    ] == []
    committed = strict(talk.answer(json.dumps({"type": "input_audio_buffer.commit"})))
    assert [e.type for e in committed] == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    (cleared,) = strict(talk.answer(json.dumps({"type": "input_audio_buffer.clear"})))
    assert cleared.type == "input_audio_buffer.cleared"
    for bad, code in (("not json", "invalid_event"), ('{"type": "nope"}', "unknown_event")):
        (error,) = strict(talk.answer(bad))
        assert error.type == "error" and error.error.code == code


def test_a_refused_response_is_an_error_event() -> None:
    talk, app = conversation()
    app.script.add([Fail(429)])
    talk.answer(json.dumps({"type": "conversation.item.create", "item": USER_ITEM}))
    (error,) = strict(talk.answer(json.dumps({"type": "response.create"})))
    assert error.type == "error" and error.error.code == "rate_limit_exceeded"


def connect(client: Any, runtime: str, **options: Any) -> Any:
    if runtime == "sync":
        return wrap(unwrap(client).realtime.connect(**options))
    return client.realtime.connect(**options)


async def test_client_holds_a_conversation(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.reply_text = "Hi from the mock."
    try:
        await _converse(mock, make_client, runtime)
    finally:
        mock.server.reply_text = default_reply


async def _converse(mock: Setup, make_client: MakeClient, runtime: str) -> None:
    client = make_client(mock)
    async with connect(client, runtime, model="gpt-realtime-mini") as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        assert (await conn.recv()).type == "session.updated"
        await conn.conversation.item.create(item=USER_ITEM)
        await conn.response.create()
        text = ""
        async for event in conn:
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.done":
                assert event.response.status == "completed"
                break
    assert text == "Hi from the mock."
    (asked,) = [r for r in mock.server.requests if r.http_version == "websocket"]
    assert asked.path == "/v1/responses" and asked.json["model"] == "gpt-realtime-mini"
    assert asked.headers["authorization"] == f"Bearer {KEY}"
