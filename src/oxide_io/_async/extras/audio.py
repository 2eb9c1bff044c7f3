"""Audio transcriptions and translations: the result's type follows `response_format`.

The API answers `json` and `verbose_json` (and, for transcriptions,
`diarized_json`) with JSON of a different model each, and `text`, `srt` and `vtt`
with plain text. As in the official SDK, `create()` returns the model of the
format asked for, or the text as `str`; a format this package does not know is
read as the default (`json`) model.
"""

from __future__ import annotations

from typing import Any

from oxide_proto.types.audio import (
    CreateTranscriptionResponseDiarizedJson,
    CreateTranscriptionResponseJson,
    CreateTranscriptionResponseVerboseJson,
    CreateTranslationResponseJson,
    CreateTranslationResponseVerboseJson,
)

from ..._parse_to import ParseTo
from .._resource import AsyncResource

__all__ = [
    "TRANSCRIPTION_TYPES",
    "TRANSLATION_TYPES",
    "AsyncAudioTranscriptionsExtras",
    "AsyncAudioTranslationsExtras",
]

_TEXT_FORMATS: dict[str, type[Any]] = {"text": str, "srt": str, "vtt": str}

TRANSCRIPTION_TYPES: dict[str, type[Any]] = {
    "json": CreateTranscriptionResponseJson,
    "verbose_json": CreateTranscriptionResponseVerboseJson,
    "diarized_json": CreateTranscriptionResponseDiarizedJson,
    **_TEXT_FORMATS,
}
"""The result type of a transcription, by `response_format`."""

TRANSLATION_TYPES: dict[str, type[Any]] = {
    "json": CreateTranslationResponseJson,
    "verbose_json": CreateTranslationResponseVerboseJson,
    **_TEXT_FORMATS,
}
"""The result type of a translation, by `response_format`."""


def _decoder(types: dict[str, type[Any]], body: dict[str, object], strict: bool) -> ParseTo:
    asked = body.get("response_format")
    to = types.get(asked, types["json"]) if isinstance(asked, str) else types["json"]
    return ParseTo(to, strict=strict)


class AsyncAudioTranscriptionsExtras(AsyncResource):
    def _before_create(self, body: dict[str, object]) -> ParseTo:
        """Reads the answer as the model (or text) `response_format` asks for."""
        return _decoder(TRANSCRIPTION_TYPES, body, self._client._options.strict_response_validation)


class AsyncAudioTranslationsExtras(AsyncResource):
    def _before_create(self, body: dict[str, object]) -> ParseTo:
        """Reads the answer as the model (or text) `response_format` asks for."""
        return _decoder(TRANSLATION_TYPES, body, self._client._options.strict_response_validation)
