"""Embedding vectors sent as base64: the API's compact encoding, decoded to floats.

With `encoding_format: "base64"` the API sends each vector as the base64 of its
little-endian float32 values, a quarter of the size of the JSON numbers. The
official SDK asks for that encoding when the caller did not choose one and
hands back floats; a caller who asked for base64 gets the strings themselves.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..base._errors import APIResponseValidationError
from ..base._types import ResponseInfo
from ._decode import decode

if TYPE_CHECKING:
    from ..types.embeddings import CreateEmbeddingResponse

__all__ = ["decode_embeddings"]


def _floats(text: str, response: ResponseInfo | None, data: object, index: int) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b"\x00"  # not base64: reported below like a wrong length
    if len(raw) % 4:
        raise APIResponseValidationError(
            response,
            data,
            message="Invalid API data: an embedding is not base64 of float32 values",
            path=f"data[{index}].embedding",
        )
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def decode_embeddings(
    data: object, *, response: ResponseInfo | None = None, keep_base64: bool = False
) -> CreateEmbeddingResponse:
    """Decodes an embeddings response whose vectors may be base64 strings.

    Strings become lists of floats, unless `keep_base64` is set: then each
    `embedding` stays the string the API sent (the caller asked for base64).
    """
    from ..types.embeddings import CreateEmbeddingResponse

    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(items, list):
        return decode(CreateEmbeddingResponse, data, response=response)
    kept: dict[int, str] = {}
    converted: list[Any] = []
    for index, item in enumerate(items):
        vector = item.get("embedding") if isinstance(item, Mapping) else None
        if isinstance(vector, str):
            kept[index] = vector
            floats = [] if keep_base64 else _floats(vector, response, data, index)
            item = {**item, "embedding": floats}
        converted.append(item)
    result = decode(CreateEmbeddingResponse, {**data, "data": converted}, response=response)
    for index, text in kept.items() if keep_base64 else ():
        result.data[index].embedding = text  # type: ignore[assignment]
    return result
