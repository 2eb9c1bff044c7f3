"""`openai.helpers`: the official SDK's microphone and speaker helpers, by name only.

The official `Microphone` and `LocalAudioPlayer` record from and play to the
machine's audio devices through numpy and sounddevice (PortAudio), which its
`voice-helpers` extra installs. oxide has no such extra: device audio is outside
what an API client needs, and PortAudio is a system library. The names exist so
that code importing them (for annotations, or for a branch it never takes) keeps
importing; making one raises `MissingDependencyError`, which says what the helper
needs and what to use instead. Nothing is recorded or played.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, NoReturn, TypeVar

from oxide_proto import OpenAIError

__all__ = ["LocalAudioPlayer", "Microphone", "MissingDependencyError"]

DType = TypeVar("DType")


class MissingDependencyError(OpenAIError):
    """A helper needs libraries oxide does not install (`extra` and `libraries` say which)."""

    def __init__(self, helper: str, *, extra: str, libraries: tuple[str, ...]) -> None:
        super().__init__(
            f"{helper} needs the audio devices, through {' and '.join(libraries)}: the official"
            f" SDK's `{extra}` extra, which oxide does not have. Record or play audio with"
            " those libraries yourself, and send or receive its bytes with"
            " client.audio.transcriptions.create(file=...) and client.audio.speech.create(...)"
        )
        self.helper = helper
        self.extra = extra
        self.libraries = libraries


_EXTRA = "voice-helpers"
_LIBRARIES = ("numpy", "sounddevice")


def _refuse(helper: str) -> NoReturn:
    raise MissingDependencyError(helper, extra=_EXTRA, libraries=_LIBRARIES)


class Microphone(Generic[DType]):
    """The official `openai.helpers.Microphone`: raises `MissingDependencyError` when made."""

    def __init__(
        self,
        channels: int = 1,
        dtype: Any = None,
        should_record: Callable[[], bool] | None = None,
        timeout: float | None = None,
    ) -> None:
        _refuse("openai.helpers.Microphone")


class LocalAudioPlayer:
    """The official `openai.helpers.LocalAudioPlayer`: raises `MissingDependencyError` when made."""

    def __init__(self, should_stop: Callable[[], bool] | None = None) -> None:
        _refuse("openai.helpers.LocalAudioPlayer")
