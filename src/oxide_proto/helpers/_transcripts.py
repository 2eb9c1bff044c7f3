"""Live transcripts as display segments: who spoke, what, from when to when. Sans-I/O.

A Live session sends its transcript as small timed fragments
(`session.input_transcript.delta` for the user, `session.output_transcript.delta`
for the assistant). A chat-style display wants turns instead: one growing bubble
per speaker, closed when the other speaker takes over or the assistant falls
silent, without the listener's "mhm" interrupting the speaker's turn.

`TranscriptTracker` makes `TranscriptSegment` snapshots (a segment's whole text
so far, replaced on each update) and `TranscriptSegmentClosedEvent`s from the
fragments, by the official SDK's grouping rules:

- fragments of the speaker of the open segment extend it;
- the other speaker's fragment is held (not shown) while the turn might not be
  changing: it starts less than `min_turn_separation_ms` after the open
  segment's end, or it is a short acknowledgment ("ok", "mm hmm", ... spoken in
  less than `backchannel_max_duration_ms`);
- a short assistant interjection held during the user's turn is a backchannel,
  dropped when the user speaks on; it is shown when it stays isolated for
  `backchannel_isolation_ms` or the assistant had spoken shortly before;
- an assistant segment closes after `assistant_silence_ms` of source time
  without assistant speech ("inactivity");
- fragments arriving together with the same interval are ordered with the open
  segment's speaker first, and a fragment whose start is before the previous
  one's closes everything ("timestamp_reset").

Times are the fragments' own (milliseconds of session audio). Between fragments,
source time is estimated as the last fragment's end plus the local time since it
arrived: every method takes `now` (local milliseconds) from the driver, which
also arranges to call `tick` after `delay(now)`. Nothing here reads a clock.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TypeAlias

from ..base._errors import OpenAIError

__all__ = [
    "TranscriptSegment",
    "TranscriptSegmentCloseReason",
    "TranscriptSegmentClosedEvent",
    "TranscriptSettings",
    "TranscriptTracker",
    "TranscriptUpdate",
]

TranscriptSegmentCloseReason: TypeAlias = Literal[
    "speaker_change", "inactivity", "timestamp_reset", "session_closed", "manual"
]
Speaker: TypeAlias = Literal["user", "assistant"]

_LONGEST_WAIT_MS = 2_147_483_647  # what a timer can be asked to wait, at most
_LARGEST_TIME_MS = 2**53 - 1  # the largest time a JSON number holds exactly
# Fragments with the same interval arriving within this long are ordered together.
_SAME_INTERVAL_WINDOW_MS = 50
_INPUT = "session.input_transcript.delta"
_OUTPUT = "session.output_transcript.delta"

# Spaces as JavaScript's `\s` has them: the rules are shared with the other SDKs.
_SPACES = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_SPACE_RUN = re.compile(f"[{_SPACES}]+")
_EDGE = _SPACES + ".,!?;:\"'()[]{}"
ACKNOWLEDGMENTS = (
    "aha",
    "alright",
    "gotcha",
    "hm",
    "hmm",
    "mhm",
    "mm",
    "mm hmm",
    "okay",
    "ok",
    "right",
    "sure",
    "uh huh",
    "yeah",
    "yep",
    "yes",
)


def normalize_phrase(text: str) -> str:
    """Lower case, hyphens as spaces, one space between words, no edge punctuation."""
    return _SPACE_RUN.sub(" ", text.lower().replace("-", " ").strip(_EDGE))


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


@dataclasses.dataclass(frozen=True)
class TranscriptSegment:
    """One speaker's turn as shown so far: replace the displayed text on each update.

    `id` is made here (not the server's), `previous_id` the segment shown before
    it; the times are the transcript's own interval, in milliseconds.
    """

    id: str
    previous_id: str | None
    speaker: Speaker
    text: str
    start_ms: int
    end_ms: int


@dataclasses.dataclass(frozen=True)
class TranscriptSegmentClosedEvent:
    """A segment's last snapshot, and why it will not change again."""

    segment: TranscriptSegment
    reason: TranscriptSegmentCloseReason


TranscriptUpdate: TypeAlias = TranscriptSegment | TranscriptSegmentClosedEvent


@dataclasses.dataclass(frozen=True)
class TranscriptSettings:
    """The grouping thresholds (milliseconds) and extra acknowledgment phrases."""

    min_turn_separation_ms: float = 500
    assistant_silence_ms: float = 2000
    backchannel_max_duration_ms: float = 1000
    backchannel_isolation_ms: float = 2000
    additional_acknowledgments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self)[:4]:
            value = getattr(self, field.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= _LONGEST_WAIT_MS
            ):
                raise OpenAIError(
                    f"{field.name} must be a number from 0 to {_LONGEST_WAIT_MS}, not {value!r}"
                )

    @classmethod
    def of(
        cls,
        min_turn_separation_ms: float | None = None,
        assistant_silence_ms: float | None = None,
        backchannel_max_duration_ms: float | None = None,
        backchannel_isolation_ms: float | None = None,
        additional_acknowledgments: Sequence[str] | None = None,
    ) -> TranscriptSettings:
        """The settings with None for the defaults (as the groupers' keywords take them)."""
        given = {
            "min_turn_separation_ms": min_turn_separation_ms,
            "assistant_silence_ms": assistant_silence_ms,
            "backchannel_max_duration_ms": backchannel_max_duration_ms,
            "backchannel_isolation_ms": backchannel_isolation_ms,
        }
        if isinstance(additional_acknowledgments, str):
            raise OpenAIError("additional_acknowledgments is a sequence of phrases, not one string")
        return cls(
            **{name: value for name, value in given.items() if value is not None},
            additional_acknowledgments=tuple(additional_acknowledgments or ()),
        )


@dataclasses.dataclass(frozen=True)
class _Fragment:
    speaker: Speaker
    text: str
    start_ms: int
    end_ms: int


@dataclasses.dataclass
class _Segment:
    id: str
    speaker: Speaker
    text: str
    start_ms: int
    end_ms: int
    previous_id: str | None = None
    shown: bool = False
    # False once the held text is known not to be a mere acknowledgment.
    droppable: bool = True

    def extend(self, fragment: _Fragment, *, spaced: bool = False) -> None:
        # Fragments of one stream carry their own spacing; text joined across a
        # held interruption gets a space when two words would otherwise touch.
        gap = (
            " "
            if spaced
            and self.text
            and fragment.text
            and _is_word_char(self.text[-1])
            and _is_word_char(fragment.text[0])
            else ""
        )
        self.text += gap + fragment.text
        self.end_ms = max(self.end_ms, fragment.end_ms)

    def snapshot(self) -> TranscriptSegment:
        return TranscriptSegment(
            self.id, self.previous_id, self.speaker, self.text, self.start_ms, self.end_ms
        )


class _Grouping:
    """The turn rules over source time: fragments in, updates out."""

    def __init__(self, settings: TranscriptSettings, prefix: str) -> None:
        self.settings = settings
        self.prefix = prefix
        extra = (normalize_phrase(phrase) for phrase in settings.additional_acknowledgments)
        self.phrases = ACKNOWLEDGMENTS + tuple(phrase for phrase in extra if phrase)
        self.open: _Segment | None = None  # the segment being shown
        self.held: _Segment | None = None  # the other speaker's, not shown yet
        self.last_shown: str | None = None
        self.count = 0
        self.assistant_ended: int | None = None

    @property
    def speaker(self) -> Speaker | None:
        return None if self.open is None else self.open.speaker

    # ------ what the held segment is

    def _maybe_backchannel(self) -> bool:
        open_, held = self.open, self.held
        return (
            open_ is not None
            and held is not None
            and open_.speaker == "user"
            and held.speaker == "assistant"
            and held.end_ms - held.start_ms < self.settings.backchannel_max_duration_ms
        )

    def _user_spoke_on(self) -> bool:
        # The user kept talking past a droppable interjection: it was a backchannel.
        return (
            self._maybe_backchannel()
            and self.held is not None
            and self.held.droppable
            and self.open is not None
            and self.open.end_ms > self.held.end_ms
        )

    def _assistant_recent(self) -> bool:
        # An interjection soon after the assistant's own turn continues the exchange.
        return (
            self.open is not None
            and self.held is not None
            and self.assistant_ended is not None
            and self.held.start_ms - self.assistant_ended < self.settings.backchannel_isolation_ms
            and self.held.start_ms <= self.open.start_ms
        )

    def _undecided_backchannel(self) -> bool:
        return (
            self._maybe_backchannel()
            and self.held is not None
            and self.held.droppable
            and not self._user_spoke_on()
            and not self._assistant_recent()
        )

    def _after_backchannel_check(
        self, time_ms: float | None = None, following: _Fragment | None = None
    ) -> _Segment | None:
        """The held segment, or None when it turns out to be a backchannel to drop."""
        held = self.held
        if held is None or not self._maybe_backchannel():
            return held
        if self._user_spoke_on():
            return None
        if self._assistant_recent():
            return held
        isolation = self.settings.backchannel_isolation_ms
        if following is not None:
            if following.start_ms - held.end_ms < isolation:
                return held
        elif time_ms is None or time_ms < held.end_ms + isolation:
            return held
        return None if held.droppable else held

    def _acknowledgment(self, fragment: _Fragment, before: _Segment | None = None) -> bool:
        start = fragment.start_ms if before is None else before.start_ms
        text = fragment.text if before is None else before.text + fragment.text
        return (
            fragment.end_ms - start < self.settings.backchannel_max_duration_ms
            and normalize_phrase(text) in self.phrases
        )

    def _may_become_acknowledgment(self, fragment: _Fragment) -> bool:
        held = self.held
        start = fragment.start_ms if held is None else held.start_ms
        text = normalize_phrase((held.text if held is not None else "") + fragment.text)
        return (
            fragment.end_ms - start < self.settings.backchannel_max_duration_ms
            and bool(text)
            and any(phrase.startswith(text) for phrase in self.phrases)
        )

    # ------ segments

    def _segment(self, fragment: _Fragment) -> _Segment:
        made = _Segment(
            f"{self.prefix}_{self.count}",
            fragment.speaker,
            fragment.text,
            fragment.start_ms,
            fragment.end_ms,
        )
        self.count += 1
        return made

    def _show(self, segment: _Segment) -> list[TranscriptUpdate]:
        if not segment.text:
            return []
        if not segment.shown:
            segment.shown = True
            segment.previous_id, self.last_shown = self.last_shown, segment.id
        return [segment.snapshot()]

    def _end(
        self, segment: _Segment, reason: TranscriptSegmentCloseReason
    ) -> list[TranscriptUpdate]:
        if segment.speaker == "assistant":
            self.assistant_ended = segment.end_ms
        if not segment.shown:
            return []
        return [TranscriptSegmentClosedEvent(segment.snapshot(), reason)]

    def _end_current_segment(self, reason: TranscriptSegmentCloseReason) -> list[TranscriptUpdate]:
        segment, self.open = self.open, None
        return [] if segment is None else self._end(segment, reason)

    def _hold(self, fragment: _Fragment, droppable: bool | None = None) -> None:
        if self.held is None:
            self.held = self._segment(fragment)
        else:
            self.held.extend(fragment)
        if droppable is not None:
            self.held.droppable = droppable

    def _take_turn(self) -> list[TranscriptUpdate]:
        """The held segment becomes the open one."""
        if self.held is None:
            return []
        updates = self._end_current_segment("speaker_change")
        self.open, self.held = self.held, None
        return updates + self._show(self.open)

    # ------ time and fragments

    def deadline(self) -> float | None:
        """The source time at which `advance` may change something (None: never by itself)."""
        open_, held = self.open, self.held
        if open_ is None:
            return None
        if held is not None:
            turn = open_.end_ms + self.settings.min_turn_separation_ms
            if self._undecided_backchannel():
                return max(turn, held.end_ms + self.settings.backchannel_isolation_ms)
            return turn
        if open_.speaker == "assistant":
            return open_.end_ms + self.settings.assistant_silence_ms
        return None

    def advance(self, time_ms: float, user_incoming: bool = False) -> list[TranscriptUpdate]:
        open_ = self.open
        if open_ is None:
            return []
        if (
            self.held is not None
            and time_ms >= open_.end_ms + self.settings.min_turn_separation_ms
            and not (
                self._undecided_backchannel()
                and self.held is not None
                and time_ms < self.held.end_ms + self.settings.backchannel_isolation_ms
            )
        ):
            self.held = self._after_backchannel_check(time_ms)
            if self.held is not None:
                return self._take_turn()
        if (
            open_.speaker == "assistant"
            and not user_incoming
            and time_ms >= open_.end_ms + self.settings.assistant_silence_ms
        ):
            return self._end_current_segment("inactivity")
        return []

    def take(self, fragments: list[_Fragment]) -> list[TranscriptUpdate]:
        """Fragments that arrived together, in order of arrival."""
        if not fragments:
            return []
        first_speaker = self.speaker or "user"
        ordered = [f for f in fragments if f.speaker == first_speaker]
        ordered += [f for f in fragments if f.speaker != first_speaker]
        start = ordered[0].start_ms
        updates: list[TranscriptUpdate] = []
        # What the time before these fragments decided, one deadline at a time.
        while (deadline := self.deadline()) is not None and deadline < start:
            updates += self.advance(deadline)
        if self.open is not None and all(f.speaker != self.open.speaker for f in ordered):
            updates += self.advance(start, any(f.speaker == "user" for f in ordered))
        for fragment in ordered:
            updates += self._take_one(fragment)
        return updates

    def _take_one(self, fragment: _Fragment) -> list[TranscriptUpdate]:
        open_ = self.open
        if open_ is None:
            self.open = self._segment(fragment)
            return self._show(self.open)
        if fragment.speaker == open_.speaker:
            open_.extend(fragment, spaced=self.held is not None)
            return self._show(open_)
        if open_.speaker == "user" and self._user_spoke_on():
            self.held = None
        if open_.speaker == "assistant":
            # The user after the assistant: a turn change, whatever the gap.
            self._hold(fragment)
            return self._take_turn()
        if fragment.start_ms - open_.end_ms < self.settings.min_turn_separation_ms:
            self._hold(fragment, self._may_become_acknowledgment(fragment))
            return []
        if self.held is not None and self._acknowledgment(fragment, self.held):
            self._hold(fragment, True)
            return []
        if self.held is None and self._acknowledgment(fragment):
            self._hold(fragment, False)
            return []
        self.held = self._after_backchannel_check(following=fragment)
        updates = self._end_current_segment("speaker_change")
        if self.held is not None:
            self.open, self.held = self.held, None
            self.open.extend(fragment)
        else:
            self.open = self._segment(fragment)
        return updates + self._show(self.open)

    def close(self, time_ms: float, reason: TranscriptSegmentCloseReason) -> list[TranscriptUpdate]:
        held = self._after_backchannel_check(time_ms)
        updates = self._end_current_segment(reason)
        self.held = None
        if held is not None and held.text:
            updates += self._show(held) + self._end(held, reason)
        if reason == "timestamp_reset":
            self.assistant_ended = None
        return updates


_PREFIXES = itertools.count()


def _time(value: object) -> int | None:
    # An integral, non-negative number no larger than JSON holds exactly (1.0 too).
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value <= _LARGEST_TIME_MS or int(value) != value:
        return None
    return int(value)


def _fields(event: object) -> tuple[object, ...]:
    names = ("type", "event_id", "delta", "start_ms", "end_ms")
    if isinstance(event, Mapping):
        return tuple(event.get(name) for name in names)
    return tuple(getattr(event, name, None) for name in names)


class TranscriptTracker:
    """The grouper's state: Live events in (`push`), segment updates out.

    Not thread-safe: the drivers serialize calls. `now` is the driver's clock in
    milliseconds (any origin, never going back).
    """

    def __init__(self, settings: TranscriptSettings) -> None:
        self._grouping = _Grouping(settings, f"segment_{next(_PREFIXES)}")
        self._seen: set[str] = set()
        # Fragments with one interval, arrived within the window, with their arrival.
        self._waiting: list[tuple[_Fragment, float]] = []
        # (the latest source time known, the local time it was known at)
        self._anchor: tuple[int, float] | None = None
        self._last_start: int | None = None
        self.closed = False

    def push(self, event: object, now: float) -> list[TranscriptUpdate] | None:
        """Takes one Live server event (typed, or its JSON object); None when it is not
        one the grouping reads (and for a repeated or empty transcript delta).

        `session.closed` closes every segment. A transcript delta without an
        `event_id`, text or a valid interval is an `OpenAIError` that changes nothing.
        """
        if self.closed:
            raise OpenAIError("the transcript grouper is closed: it takes no more events")
        kind, event_id, text, start, end = _fields(event)
        if kind == "session.closed":
            return self.finish("session_closed", now)
        if kind not in (_INPUT, _OUTPUT):
            return None
        start_ms, end_ms = _time(start), _time(end)
        if (
            not isinstance(event_id, str)
            or not event_id
            or not isinstance(text, str)
            or start_ms is None
            or end_ms is None
            or end_ms < start_ms
        ):
            raise OpenAIError(
                f"a Live transcript delta needs an event_id, text and a non-negative interval"
                f" (start_ms <= end_ms, whole milliseconds): event_id={event_id!r},"
                f" start_ms={start!r}, end_ms={end!r}, delta={text!r}"
            )
        if event_id in self._seen:
            return None
        self._seen.add(event_id)
        if not text:
            return None
        speaker: Speaker = "user" if kind == _INPUT else "assistant"
        arrived = (_Fragment(speaker, text, start_ms, end_ms), now)
        updates: list[TranscriptUpdate] = []
        first = self._waiting[0][0] if self._waiting else None
        if first is not None and (first.start_ms, first.end_ms) == (start_ms, end_ms):
            self._waiting.append(arrived)
            if any(fragment.speaker != speaker for fragment, _ in self._waiting):
                updates += self._release(now)
            return updates
        updates += self._release(now)
        if self._grouping.speaker == speaker:
            updates += self._commit([arrived], now)
        else:
            # The other speaker may have a fragment of the same interval on its way.
            self._waiting.append(arrived)
        return updates

    def tick(self, now: float) -> list[TranscriptUpdate]:
        """What the passing of time decided (call it when `delay` has passed)."""
        return self._release(now) + self._grouping.advance(self._source_time(now))

    def delay(self, now: float) -> int | None:
        """Milliseconds until `tick` may have something to say; None: nothing to wait for."""
        if self.closed:
            return None
        if self._waiting:
            wait = self._waiting[0][1] + _SAME_INTERVAL_WINDOW_MS - now
        else:
            deadline = self._grouping.deadline()
            if deadline is None:
                return None
            wait = deadline - self._source_time(now)
        return min(_LONGEST_WAIT_MS, max(0, math.ceil(wait)))

    def finish(
        self, reason: Literal["manual", "session_closed"], now: float
    ) -> list[TranscriptUpdate]:
        """Closes every segment, once; later calls give nothing."""
        if self.closed:
            return []
        self.closed = True
        updates = self._release(now) + self._grouping.close(self._source_time(now), reason)
        self._seen.clear()
        return updates

    def _source_time(self, now: float) -> float:
        if self._anchor is None:
            return 0
        known, at = self._anchor
        return known + max(0.0, now - at)

    def _release(self, now: float) -> list[TranscriptUpdate]:
        waiting, self._waiting = self._waiting, []
        return self._commit(waiting, now)

    def _commit(
        self, arrived: Iterable[tuple[_Fragment, float]], now: float
    ) -> list[TranscriptUpdate]:
        batch = list(arrived)
        if not batch:
            return []
        fragments = [fragment for fragment, _ in batch]
        updates: list[TranscriptUpdate] = []
        start = fragments[0].start_ms
        if self._last_start is not None and start < self._last_start:
            # The source's clock started over (a new stream): nothing continues across it.
            updates += self._grouping.close(self._source_time(now), "timestamp_reset")
            self._anchor = None
        self._last_start = start
        known = max(
            self._anchor[0] if self._anchor is not None else 0,
            *(fragment.end_ms for fragment in fragments),
        )
        self._anchor = (known, max(at for _, at in batch))
        return updates + self._grouping.take(fragments)
