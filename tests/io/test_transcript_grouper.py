"""The transcript groupers' handlers and timers, in blocking code, asyncio and trio.

The grouping rules are the core's (tests/proto/test_transcripts.py); here, what the
drivers add: handlers in order (plain and coroutine functions), `on`/`once`/`off`,
the timer that closes a silent assistant's segment, closing, and errors.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import anyio
import pytest

from oxide_io._transcripts import AsyncTranscriptGrouper, TranscriptGrouper
from oxide_proto import OpenAIError
from oxide_proto.helpers._transcripts import TranscriptSegment, TranscriptSegmentClosedEvent
from oxide_proto.types.live import InputTranscriptDeltaEvent, OutputTranscriptDeltaEvent

USER: Final = "session.input_transcript.delta"
ASSISTANT: Final = "session.output_transcript.delta"


def user(event_id: str, text: str, start: int, end: int) -> Any:
    return InputTranscriptDeltaEvent(
        type=USER, event_id=event_id, delta=text, start_ms=start, end_ms=end
    )


def assistant(event_id: str, text: str, start: int, end: int) -> Any:
    return OutputTranscriptDeltaEvent(
        type=ASSISTANT, event_id=event_id, delta=text, start_ms=start, end_ms=end
    )


CONVERSATION = [
    user("u1", "Tell me", 0, 200),
    assistant("a1", "mhm", 200, 400),
    user("u2", " more", 800, 1000),
    assistant("a2", "Here it is.", 2000, 2400),
]
EXPECTED = [
    ("updated", "user", "Tell me"),
    ("updated", "user", "Tell me more"),
    ("closed", "user", "Tell me more", "speaker_change"),
    ("updated", "assistant", "Here it is."),
    ("closed", "assistant", "Here it is.", "manual"),
]


def row(update: Any) -> tuple[str, ...]:
    if isinstance(update, TranscriptSegmentClosedEvent):
        return ("closed", update.segment.speaker, update.segment.text, update.reason)
    assert isinstance(update, TranscriptSegment)
    return ("updated", update.speaker, update.text)


def test_blocking_grouper_calls_handlers_in_order() -> None:
    seen: list[tuple[str, ...]] = []
    once: list[tuple[str, ...]] = []
    with TranscriptGrouper() as grouper:
        grouper.on("segment.updated", lambda segment: seen.append(row(segment)))

        @grouper.on("segment.closed")
        def closed(event: TranscriptSegmentClosedEvent) -> None:
            seen.append(row(event))

        grouper.once("segment.updated", lambda segment: once.append(row(segment)))
        for event in CONVERSATION:
            grouper.push(event)
            grouper.push(event)  # a repeat changes nothing
    assert seen == EXPECTED
    assert once == [EXPECTED[0]]
    with pytest.raises(OpenAIError, match="closed"):
        grouper.push(CONVERSATION[0])
    grouper.close()  # again: nothing


def test_blocking_grouper_errors() -> None:
    grouper = TranscriptGrouper()
    with pytest.raises(ValueError, match=r"segment\.updated"):
        grouper.on("segment.deleted", print)
    with pytest.raises(OpenAIError, match="assistant_silence_ms"):
        TranscriptGrouper(assistant_silence_ms=-5)

    seen: list[str] = []

    def fail(segment: TranscriptSegment) -> None:
        if segment.text == "hi there":
            raise KeyError(segment.text)
        seen.append(segment.text)

    grouper.on("segment.updated", fail)
    grouper.push(user("u1", "hi", 0, 10))
    # The segment is open: this fragment extends it at once, in this call.
    with pytest.raises(KeyError, match="hi there"):
        grouper.push(user("u2", " there", 10, 20))
    grouper.push(user("u3", " again", 20, 30))  # dispatching goes on after the failure
    assert seen == ["hi", "hi there again"]
    grouper.close()


def test_blocking_grouper_timer_closes_a_silent_assistant() -> None:
    closed = threading.Event()
    reasons: list[str] = []

    def on_closed(event: TranscriptSegmentClosedEvent) -> None:
        reasons.append(event.reason)
        closed.set()

    with TranscriptGrouper(assistant_silence_ms=0) as grouper:
        grouper.on("segment.closed", on_closed)
        grouper.push(assistant("a1", "Hello", 0, 100))
        # Nothing more is pushed: the timer thread decides (bounded wait).
        assert closed.wait(10)
    assert reasons == ["inactivity"]


def test_a_handler_pushing_from_inside_keeps_the_order() -> None:
    seen: list[tuple[str, ...]] = []
    with TranscriptGrouper() as grouper:
        # An open segment first: later fragments of its speaker are taken at once.
        grouper.push(user("u1", "one", 0, 100))
        grouper.push(user("u2", " two", 100, 200))

        @grouper.on("segment.updated")
        def echo(segment: TranscriptSegment) -> None:
            seen.append(row(segment))
            if segment.text == "one two three":
                grouper.push(user("u4", " four", 300, 400))

        grouper.push(user("u3", " three", 200, 300))
        seen.append(("after push",))
    assert seen[:3] == [
        ("updated", "user", "one two three"),
        ("updated", "user", "one two three four"),
        ("after push",),
    ]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_async_grouper_runs_plain_and_coroutine_handlers(anyio_backend: str) -> None:
    seen: list[tuple[str, ...]] = []

    async def updated(segment: TranscriptSegment) -> None:
        await anyio.sleep(0)
        seen.append(row(segment))

    async with AsyncTranscriptGrouper() as grouper:
        grouper.on("segment.updated", updated)
        grouper.on("segment.closed", lambda event: seen.append(row(event)))
        for event in CONVERSATION:
            await grouper.push(event)
    assert seen == EXPECTED
    with pytest.raises(OpenAIError, match="closed"):
        await grouper.push(CONVERSATION[0])


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_async_grouper_timer_closes_a_silent_assistant(anyio_backend: str) -> None:
    closed = anyio.Event()
    reasons: list[str] = []

    def on_closed(event: TranscriptSegmentClosedEvent) -> None:
        reasons.append(event.reason)
        closed.set()

    async with AsyncTranscriptGrouper(assistant_silence_ms=0) as grouper:
        grouper.on("segment.closed", on_closed)
        await grouper.push(assistant("a1", "Hello", 0, 100))
        with anyio.fail_after(10):
            await closed.wait()
    assert reasons == ["inactivity"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_async_grouper_without_the_block_applies_time_at_the_next_call(
    anyio_backend: str,
) -> None:
    seen: list[tuple[str, ...]] = []
    grouper = AsyncTranscriptGrouper(assistant_silence_ms=0)
    grouper.on("segment.updated", lambda segment: seen.append(row(segment)))
    grouper.on("segment.closed", lambda event: seen.append(row(event)))
    await grouper.push(assistant("a1", "Hello", 0, 100))
    assert seen == []  # held for a user fragment of the same interval
    with anyio.fail_after(10):
        while not seen:
            await anyio.sleep(0.06)
            await grouper.push({"type": "session.updated"})  # not a transcript event
    await grouper.close()
    assert seen == [
        ("updated", "assistant", "Hello"),
        ("closed", "assistant", "Hello", "inactivity"),
    ]
