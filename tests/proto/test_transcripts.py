"""Live transcripts into display segments: the core's `TranscriptTracker`.

Scenarios with their expected segments, the events fed as typed models and as
JSON, and, over random event scripts, the same updates and timer delays as the
official SDK's grouping (the specification of this behaviour).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.lib.live._transcript_state import TranscriptState as SDKState
from openai.lib.live._types import TranscriptGrouperOptions as SDKOptions
from openai.types.live import InputTranscriptDeltaEvent as SDKInput
from openai.types.live import OutputTranscriptDeltaEvent as SDKOutput

from oxide_proto import OpenAIError
from oxide_proto.helpers._transcripts import (
    TranscriptSegment,
    TranscriptSegmentClosedEvent,
    TranscriptSettings,
    TranscriptTracker,
    TranscriptUpdate,
)
from oxide_proto.types.live import InputTranscriptDeltaEvent, OutputTranscriptDeltaEvent

USER = "session.input_transcript.delta"
ASSISTANT = "session.output_transcript.delta"


def delta(kind: str, event_id: str, text: str, start: int, end: int) -> dict[str, Any]:
    return {"type": kind, "event_id": event_id, "delta": text, "start_ms": start, "end_ms": end}


def typed(event: dict[str, Any]) -> Any:
    cls = InputTranscriptDeltaEvent if event["type"] == USER else OutputTranscriptDeltaEvent
    return cls.from_dict(event)


def shown(updates: list[TranscriptUpdate]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for update in updates:
        if isinstance(update, TranscriptSegment):
            out.append(("updated", update.speaker, update.text))
        else:
            out.append(("closed", update.segment.speaker, update.segment.text, update.reason))
    return out


def run(events: list[Any], **options: Any) -> list[TranscriptUpdate]:
    tracker = TranscriptTracker(TranscriptSettings.of(**options))
    updates: list[TranscriptUpdate] = []
    for event in events:
        updates += tracker.push(event, 0.0) or []
    return updates + tracker.finish("manual", 0.0)


EXAMPLE = [
    delta(USER, "user-1", "Tell me", 0, 200),
    delta(ASSISTANT, "assistant-1", "mhm", 200, 400),
    delta(USER, "user-2", "more", 800, 1000),
    delta(ASSISTANT, "assistant-2", "Here is the answer.", 2000, 2400),
]


@pytest.mark.parametrize("form", ["json", "typed"])
def test_a_backchannel_inside_the_users_turn_is_dropped(form: str) -> None:
    events = EXAMPLE if form == "json" else [typed(event) for event in EXAMPLE]
    updates = run(events)
    assert shown(updates) == [
        ("updated", "user", "Tell me"),
        ("updated", "user", "Tell me more"),
        ("closed", "user", "Tell me more", "speaker_change"),
        ("updated", "assistant", "Here is the answer."),
        ("closed", "assistant", "Here is the answer.", "manual"),
    ]
    first, assistant = updates[0], updates[3]
    assert isinstance(first, TranscriptSegment) and isinstance(assistant, TranscriptSegment)
    assert assistant.previous_id == first.id and first.previous_id is None
    assert (assistant.start_ms, assistant.end_ms) == (2000, 2400)


def test_with_backchannels_kept_every_interjection_is_shown() -> None:
    updates = run(EXAMPLE, backchannel_max_duration_ms=0)
    assert ("updated", "assistant", "mhm") in shown(updates)


def test_the_assistant_falling_silent_closes_its_segment() -> None:
    tracker = TranscriptTracker(TranscriptSettings(assistant_silence_ms=1000))
    assert shown(tracker.push(delta(ASSISTANT, "a", "Hello", 0, 300), now=10_000) or []) == []
    assert tracker.delay(10_000) == 50  # a user fragment of the same interval may follow
    assert shown(tracker.tick(10_050)) == [("updated", "assistant", "Hello")]
    # Source time runs on from the fragment's end with the local clock: 300 + elapsed.
    assert tracker.delay(10_050) == 950
    assert tracker.tick(10_500) == []
    assert shown(tracker.tick(11_000)) == [("closed", "assistant", "Hello", "inactivity")]
    assert tracker.delay(11_000) is None


def test_a_clock_going_back_closes_everything() -> None:
    tracker = TranscriptTracker(TranscriptSettings())
    tracker.push(delta(USER, "u1", "one", 5000, 5200), 0)
    tracker.push(delta(USER, "u2", " two", 5200, 5400), 0)
    updates = tracker.push(delta(USER, "u3", "again", 0, 100), 0) or []
    assert shown(updates) == [
        ("closed", "user", "one two", "timestamp_reset"),
        ("updated", "user", "again"),
    ]


def test_repeats_empty_text_and_other_events_change_nothing() -> None:
    tracker = TranscriptTracker(TranscriptSettings())
    assert tracker.push({"type": "session.started"}, 0) is None
    assert tracker.push(delta(USER, "u1", "", 0, 10), 0) is None
    assert tracker.push(delta(USER, "u1", "late", 0, 10), 0) is None  # the id was seen
    assert tracker.push(delta(USER, "u2", "hi", 0, 10), 0) == []
    closed = tracker.push({"type": "session.closed"}, 0) or []
    assert shown(closed) == [
        ("updated", "user", "hi"),
        ("closed", "user", "hi", "session_closed"),
    ]
    assert tracker.finish("manual", 0) == []
    with pytest.raises(OpenAIError, match="closed"):
        tracker.push(delta(USER, "u3", "x", 0, 1), 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": ""},
        {"delta": None},
        {"start_ms": -1},
        {"end_ms": 1.5},
        {"start_ms": True},
        {"start_ms": 20, "end_ms": 10},
        {"end_ms": 2**53},
    ],
)
def test_a_malformed_delta_is_refused_before_any_change(bad: dict[str, Any]) -> None:
    tracker = TranscriptTracker(TranscriptSettings())
    with pytest.raises(OpenAIError, match="event_id"):
        tracker.push({**delta(USER, "u1", "hi", 0, 10), **bad}, 0)
    assert tracker.push(delta(USER, "u1", "hi", 0, 10), 0) == []  # the id was not taken


def test_settings_are_checked() -> None:
    with pytest.raises(OpenAIError, match="assistant_silence_ms"):
        TranscriptSettings.of(assistant_silence_ms=-1)
    with pytest.raises(OpenAIError, match="min_turn_separation_ms"):
        TranscriptSettings.of(min_turn_separation_ms=True)
    with pytest.raises(OpenAIError, match="phrases"):
        TranscriptSettings.of(additional_acknowledgments="ok")
    extra = run(
        [
            delta(USER, "u1", "So the plan", 0, 1000),
            delta(ASSISTANT, "a1", "Roger that!", 900, 1200),
            delta(USER, "u2", " is this", 1300, 2000),
        ],
        additional_acknowledgments=["Roger-that"],
    )
    assert not any(row[2] == "Roger that!" for row in shown(extra))


# ------ the official grouping as the oracle

_PHRASES = ["mhm", "ok", "yeah", "Here", " is", " the answer.", "Tell me", "right", "uh", " huh"]


# Overlaps and small steps back (an interjection starting inside the other's
# speech), the thresholds' own values, and now and then a jump back in time.
_SOURCE_STEPS = [-300, -100, 0, 0, 100, 200, 300, 500, 600, 1000, 1500, 2000, 2600, -5000]


@st.composite
def scripts(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Pushes and ticks at rising local times; source times mostly rising, sometimes not."""
    steps: list[tuple[str, Any]] = []
    now = 0.0
    source = 0
    for index in range(draw(st.integers(1, 20))):
        now += draw(st.sampled_from([0, 0, 10, 49, 50, 300, 500, 1000, 2000, 2500]))
        if draw(st.integers(0, 4)) == 0:
            steps.append(("tick", now))
            continue
        same = bool(steps) and draw(st.booleans())
        if not same:
            source = max(0, source + draw(st.sampled_from(_SOURCE_STEPS)))
        length = draw(st.sampled_from([0, 100, 400, 1000, 1200]))
        kind = draw(st.sampled_from([USER, ASSISTANT]))
        text = draw(st.sampled_from(_PHRASES))
        event_id = draw(st.sampled_from([f"e{index}", f"e{index}", "e0"]))  # repeats too
        steps.append(("push", (now, delta(kind, event_id, text, source, source + length))))
    steps.append(("close", now + draw(st.sampled_from([0, 100, 5000]))))
    return steps


def _sdk_rows(updates: list[Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for update in updates:
        if hasattr(update, "reason"):
            s = update.segment
            rows.append(
                ("closed", s.previous_id, s.speaker, s.text, s.start_ms, s.end_ms, update.reason)
            )
        else:
            rows.append(
                (
                    "updated",
                    update.previous_id,
                    update.speaker,
                    update.text,
                    update.start_ms,
                    update.end_ms,
                )
            )
    return rows


def _rows(updates: list[TranscriptUpdate]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for update in updates:
        if isinstance(update, TranscriptSegmentClosedEvent):
            s = update.segment
            rows.append(
                ("closed", s.previous_id, s.speaker, s.text, s.start_ms, s.end_ms, update.reason)
            )
        else:
            rows.append(
                (
                    "updated",
                    update.previous_id,
                    update.speaker,
                    update.text,
                    update.start_ms,
                    update.end_ms,
                )
            )
    return rows


def _ids_stripped(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # Segment ids carry a per-grouper prefix; whether previous_id is set is compared.
    return [(row[0], row[1] is not None, *row[2:]) for row in rows]


@settings(max_examples=600, deadline=None)
@given(
    scripts(),
    st.sampled_from([{}, {"backchannel_max_duration_ms": 0}, {"min_turn_separation_ms": 0}]),
)
def test_same_updates_and_delays_as_the_official_grouping(
    script: list[tuple[str, Any]], options: dict[str, Any]
) -> None:
    clock = [0.0]
    sdk = SDKState(SDKOptions(**options), lambda: clock[0])
    ours = TranscriptTracker(TranscriptSettings(**options))
    for step, value in script:
        if step == "push":
            now, event = value
            clock[0] = now
            cls = SDKInput if event["type"] == USER else SDKOutput
            expected = sdk.push(cls(**event))
            got = ours.push(event, now)
            assert (got is None) == (expected is None)
            assert _ids_stripped(_rows(got or [])) == _ids_stripped(_sdk_rows(expected or []))
        elif step == "tick":
            clock[0] = value
            assert _ids_stripped(_rows(ours.tick(value))) == _ids_stripped(_sdk_rows(sdk.tick()))
        else:
            clock[0] = value
            finished = ours.finish("manual", value)
            assert _ids_stripped(_rows(finished)) == _ids_stripped(_sdk_rows(sdk.finish("manual")))
        assert ours.delay(clock[0]) == sdk.delay()


def test_an_interjection_right_after_the_assistants_turn_is_kept() -> None:
    # The assistant spoke just before: its "ok" at the start of the user's turn
    # continues the exchange, so it is shown even when nothing follows it.
    tracker = TranscriptTracker(TranscriptSettings())
    updates: list[TranscriptUpdate] = []
    for now, event in [
        (0, delta(ASSISTANT, "a1", "Sure thing", 0, 500)),
        (600, delta(USER, "u1", "Tell me", 600, 650)),
        (660, delta(ASSISTANT, "a2", "ok", 600, 700)),
    ]:
        updates += tracker.push(event, now) or []
    updates += tracker.finish("manual", 5000)
    assert shown(updates) == [
        ("updated", "assistant", "Sure thing"),
        ("closed", "assistant", "Sure thing", "speaker_change"),
        ("updated", "user", "Tell me"),
        ("closed", "user", "Tell me", "manual"),
        ("updated", "assistant", "ok"),
        ("closed", "assistant", "ok", "manual"),
    ]
