"""MockServer's Live WebSocket (`GET /v1/live/sessions`): every event it sends decodes
strictly into the API's types, and `client.live.connect()` holds a session with it on
every runtime, its transcript grouped by the transcript grouper."""

from __future__ import annotations

import base64
import itertools
import json
import math
import struct
from typing import Any

import pytest

from oxide_io._transcripts import AsyncTranscriptGrouper, TranscriptGrouper
from oxide_io.testing import Fail
from oxide_io.testing._app import MockApp, RecordedRequest
from oxide_io.testing._behaviours import Plan
from oxide_io.testing._generation import default_reply
from oxide_io.testing._live import LiveSession
from oxide_io.testing._wire import Answer
from oxide_proto import decode
from oxide_proto.types import LiveServerEvent
from tests.io.blocking import Blocking, unwrap, wrap
from tests.io.conftest import KEY, MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

RATE = 24_000


def tone(seconds: float) -> bytes:
    return b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / RATE)))
        for i in range(int(seconds * RATE))
    )


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * RATE) * 2)


def append(audio: bytes) -> str:
    return json.dumps(
        {"type": "session.input_audio.append", "audio": base64.b64encode(audio).decode()}
    )


def session(reply: str = "Hello there.") -> tuple[LiveSession, MockApp]:
    app = MockApp(api_key=KEY, reply_text=reply)

    def respond(request: RecordedRequest) -> tuple[Answer, Plan]:
        return app.handle(request)

    return LiveSession(respond, [("authorization", f"Bearer {KEY}")]), app


def strict(messages: list[str]) -> list[Any]:
    return [decode(LiveServerEvent, json.loads(m), strict=True) for m in messages]


START = json.dumps({"type": "session.start", "session": {"model": "gpt-live-1.1"}})


@pytest.mark.parametrize("split", [False, True], ids=["whole", "in_20ms_chunks"])
def test_every_event_decodes_strictly(split: bool) -> None:
    live, _ = session()
    (error,) = strict(live.answer(append(silence(0.1))))
    assert error.type == "error" and error.error.code == "session_not_started"
    (started,) = strict(live.answer(START))
    assert started.type == "session.started" and started.session.model == "gpt-live-1.1"
    audio = silence(0.2) + tone(0.5) + silence(0.3)
    chunks = [audio[i : i + 960] for i in range(0, len(audio), 960)] if split else [audio]
    sent = strict([reply for chunk in chunks for reply in live.answer(append(chunk))])
    heard = [e for e in sent if e.type == "session.input_transcript.delta"]
    said = [e for e in sent if e.type == "session.output_transcript.delta"]
    assert "".join(e.delta for e in heard) == "(0.5 seconds of speech)"
    assert (heard[0].start_ms, heard[-1].end_ms) == (200, 700)
    assert "".join(e.delta for e in said).endswith("Hello there.")
    assert said[0].start_ms == 700 and all(
        a.end_ms <= b.start_ms for a, b in itertools.pairwise(said)
    )
    (closed,) = strict(live.answer(json.dumps({"type": "session.close"})))
    assert closed.type == "session.closed" and closed.reason == "close_requested"
    assert closed.usage.seconds == 1.0
    for bad, code in (("not json", "invalid_event"), ('{"type": "nope"}', "unknown_event")):
        (error,) = strict(live.answer(bad))
        assert error.type == "error" and error.error.code == code
    (error,) = strict(live.answer(json.dumps({"type": "session.input_audio.append", "audio": "!"})))
    assert error.error.code == "invalid_value"


def test_a_refused_reply_is_an_error_event() -> None:
    live, app = session()
    app.script.add([Fail(429)])
    live.answer(START)
    sent = strict(live.answer(append(tone(0.2) + silence(0.1))))
    assert [e.type for e in sent][-1] == "error"
    assert sent[-1].error.code == "rate_limit_exceeded"


async def test_client_holds_a_session_and_groups_its_transcript(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.reply_text = "Hi from the mock."
    try:
        await _converse(mock, make_client, runtime)
    finally:
        mock.server.reply_text = default_reply


async def _converse(mock: Setup, make_client: MakeClient, runtime: str) -> None:
    client = make_client(mock)
    manager = wrap(unwrap(client).live.connect()) if runtime == "sync" else client.live.connect()
    grouper: Any = TranscriptGrouper() if runtime == "sync" else AsyncTranscriptGrouper()
    push = Blocking(grouper).push if runtime == "sync" else grouper.push
    segments: dict[str, str] = {}
    grouper.on("segment.updated", lambda segment: segments.update({segment.speaker: segment.text}))
    async with manager as conn:
        await conn.session.start(session={"model": "gpt-live-1.1"})
        assert (await conn.recv()).type == "session.started"
        audio = tone(0.3) + silence(0.1)
        for offset in range(0, len(audio), 960):
            chunk = audio[offset : offset + 960]
            await conn.session.input_audio.append(audio=base64.b64encode(chunk).decode())
        await conn.session.close()
        async for event in conn:
            await push(event)
            if event.type == "session.closed":
                break
    assert segments == {
        "user": "(0.3 seconds of speech)",
        "assistant": "Hi from the mock.",
    }
    (asked,) = [r for r in mock.server.requests if r.http_version == "websocket"]
    assert asked.path == "/v1/responses" and asked.json["model"] == "gpt-live-1.1"
    assert asked.headers["authorization"] == f"Bearer {KEY}"
