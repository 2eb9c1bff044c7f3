"""Embeddings: vectors travel as base64 unless the caller asked otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oxide_proto import ResponseInfo, decode_embeddings

from ..._options import NotGiven
from .._resource import AsyncResource

__all__ = ["AsyncEmbeddingsExtras"]

Decoder = Callable[[Any, ResponseInfo], Any]


class AsyncEmbeddingsExtras(AsyncResource):
    def _before_create(self, body: dict[str, object]) -> Decoder:
        """Without an `encoding_format` the vectors travel as base64 (a quarter of the bytes)
        and come back as floats, as with the official SDK; with `encoding_format="base64"`
        each `embedding` stays the base64 string.
        """
        asked = body.get("encoding_format")
        keep_base64 = asked == "base64"
        if asked is None or isinstance(asked, NotGiven):
            body["encoding_format"] = "base64"

        def decoder(data: Any, info: ResponseInfo) -> Any:
            return decode_embeddings(data, response=info, keep_base64=keep_base64)

        return decoder
