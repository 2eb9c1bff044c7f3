"""`GET /v1/models`, `GET /v1/models/{model}`, `POST /v1/embeddings` and `GET /v1/files`.

`GET /v1/files` pages through `FILES` as the API does: `limit` items after the
file named by `after`, with `first_id`, `last_id` and `has_more`.

Embeddings are deterministic: the same text always gives the same unit vector,
so tests can compare them. With `encoding_format: "base64"` (what the official
SDK asks for by default) each vector is sent as the base64 of its little-endian
float32 values, as the API does.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any

from ._wire import Answer, error_answer, json_answer, token_count

__all__ = [
    "FILES",
    "MODELS",
    "embedding",
    "embeddings_answer",
    "files_answer",
    "model_answer",
    "models_answer",
]

MODELS: tuple[str, ...] = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "o3-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
)
_CREATED = 1_715_367_049
# The files `GET /v1/files` lists, newest first (the API's default order).
FILES: tuple[str, ...] = tuple(f"file-{n:03d}" for n in range(7, 0, -1))
DEFAULT_DIMENSIONS = 8


def _model(ident: str) -> dict[str, Any]:
    owner = "system" if ident.startswith("text-embedding") else "openai"
    return {"id": ident, "object": "model", "created": _CREATED, "owned_by": owner}


def models_answer() -> Answer:
    return json_answer({"object": "list", "data": [_model(ident) for ident in MODELS]})


def model_answer(ident: str) -> Answer:
    if ident not in MODELS:
        return error_answer(
            404,
            f"The model '{ident}' does not exist or you do not have access to it.",
            code="model_not_found",
        )
    return json_answer(_model(ident))


def embedding(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The unit vector the mock server gives `text`: the same text, the same vector."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend(b / 127.5 - 1.0 for b in digest)
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Rounded through float32, so the float and base64 encodings agree exactly.
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in values]


def _texts(raw: object) -> list[str] | None:
    """`input` as texts: a string, a list of strings, of token ids or of token lists."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(item, int) for item in raw):
            return [repr(raw)]
        if all(isinstance(item, (str, list)) for item in raw):
            return [item if isinstance(item, str) else repr(item) for item in raw]
    return None


def embeddings_answer(body: Mapping[str, Any]) -> Answer:
    texts = _texts(body.get("input"))
    if texts is None:
        return error_answer(
            400,
            "'input' must be a non-empty string or array of strings or token ids.",
            param="input",
        )
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
        return error_answer(400, "'dimensions' must be a positive integer.", param="dimensions")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return error_answer(
            400,
            f"'{encoding}' is not one of ['float', 'base64'] - 'encoding_format'",
            param="encoding_format",
        )
    data = []
    for index, text in enumerate(texts):
        vector = embedding(text, dimensions)
        value: object = vector
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(token_count(text) for text in texts)
    return json_answer(
        {
            "object": "list",
            "data": data,
            "model": str(body["model"]),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def _file(ident: str) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "file",
        "bytes": 1024,
        "created_at": _CREATED,
        "filename": f"{ident}.jsonl",
        "purpose": "batch",
        "status": "processed",
    }


def files_answer(query: Mapping[str, str]) -> Answer:
    idents = list(FILES) if query.get("order", "desc") == "desc" else list(reversed(FILES))
    after = query.get("after")
    if after is not None:
        if after not in idents:
            return error_answer(400, f"Invalid 'after': no file {after!r}.", param="after")
        idents = idents[idents.index(after) + 1 :]
    try:
        limit = int(query.get("limit", "10000"))
    except ValueError:
        return error_answer(400, "Invalid 'limit': expected an integer.", param="limit")
    page = idents[:limit]
    return json_answer(
        {
            "object": "list",
            "data": [_file(ident) for ident in page],
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
            "has_more": len(idents) > len(page),
        }
    )
