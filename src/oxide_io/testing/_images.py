"""Image generation and input-token counts: small, deterministic answers.

`POST /v1/images/generations` answers one picture per `n` (a valid 1x1 PNG, as
`b64_json`), or with `stream=true` the `image_generation.partial_image` events
`partial_images` asks for, then `image_generation.completed`.
`POST /v1/responses/input_tokens` counts the words of the request's `input` and
`instructions`: a stand-in count that grows with the input, enough for a client to
read `input_tokens` back.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from typing import Any

from ._wire import Answer, json_answer, sse, stream_answer

__all__ = ["PNG_1X1", "images_answer", "input_tokens_answer"]

_CREATED = 1_715_367_049


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_1x1() -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 1x1, 8-bit RGBA
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")  # filter byte, one transparent pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


PNG_1X1 = _png_1x1()
"""The smallest valid PNG: one transparent pixel."""


def _words(value: object) -> int:
    text = value if isinstance(value, str) else json.dumps(value)
    return len(re.findall(r"\w+", text))


def images_answer(body: dict[str, Any]) -> Answer:
    picture = base64.b64encode(PNG_1X1).decode()
    size = (
        body.get("size")
        if body.get("size") in ("1024x1024", "1024x1536", "1536x1024")
        else "1024x1024"
    )
    output_format = body.get("output_format") or "png"
    prompt_tokens = _words(body.get("prompt", ""))
    usage = {
        "input_tokens": prompt_tokens,
        "output_tokens": 16,
        "total_tokens": prompt_tokens + 16,
        "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
    }
    if body.get("stream") is True:
        shape = {
            "created_at": _CREATED,
            "size": size,
            "quality": "auto",
            "background": "auto",
            "output_format": output_format,
            "b64_json": picture,
        }
        events = [
            sse({"type": "image_generation.partial_image", **shape, "partial_image_index": i})
            for i in range(int(body.get("partial_images") or 0))
        ]
        events.append(sse({"type": "image_generation.completed", **shape, "usage": usage}))
        return stream_answer(events)
    count = int(body.get("n") or 1)
    return json_answer(
        {
            "created": _CREATED,
            "data": [{"b64_json": picture} for _ in range(count)],
            "output_format": output_format,
            "size": size,
            "usage": usage,
        }
    )


def input_tokens_answer(body: dict[str, Any]) -> Answer:
    count = _words(body.get("input", "")) + _words(body.get("instructions") or "")
    return json_answer({"object": "response.input_tokens", "input_tokens": count})
