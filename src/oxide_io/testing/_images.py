"""`POST /v1/images/generations`: a small real PNG (or JPEG/WebP label), plain or streamed.

The image is a deterministic 16x16 PNG whose colours come from the prompt, so the
same prompt always gives the same bytes and `base64.b64decode(..., validate=True)`
and any PNG reader accept it. Answered as the API's `ImagesResponse`; with
`stream: true` the answer is server-sent events: `partial_images` (0 to 3)
`image_generation.partial_image` events, each with more rows of the picture
drawn, then one `image_generation.completed` with the whole image and `usage`.
`output_format` other than `png` is echoed in the fields, but the bytes stay PNG
(the mock draws no JPEG or WebP).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import zlib
from typing import Any

from ._wire import Answer, error_answer, json_answer, sse, stream_answer, token_count

__all__ = ["IMAGE_SIDE", "image_png", "images_answer"]

IMAGE_SIDE = 16
_SIZES = ("1024x1024", "1024x1536", "1536x1024", "auto")
_QUALITIES = ("low", "medium", "high", "auto")
_BACKGROUNDS = ("transparent", "opaque", "auto")
_FORMATS = ("png", "webp", "jpeg")
_IMAGE_TOKENS = 272  # output tokens of one low-quality square image


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def image_png(prompt: str, rows: int = IMAGE_SIDE) -> bytes:
    """The PNG the mock draws for `prompt`: its first `rows` rows coloured, the rest white."""
    digest = hashlib.sha256(prompt.encode()).digest()
    lines = []
    for y in range(IMAGE_SIDE):
        line = bytearray([0])  # filter type "none"
        for x in range(IMAGE_SIDE):
            if y < rows:
                base = (x + y) % 10 * 3
                line += digest[base : base + 3]
            else:
                line += b"\xff\xff\xff"
        lines.append(bytes(line))
    header = struct.pack(">IIBBBBB", IMAGE_SIDE, IMAGE_SIDE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(lines)))
        + _chunk(b"IEND", b"")
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def images_answer(method: str, path: str, body: Any) -> Answer | None:
    """The answer to an image generation request; None for other paths."""
    if method != "POST" or path != "/v1/images/generations":
        return None
    if not isinstance(body, dict):
        return error_answer(
            400, "We could not parse the JSON body of your request.", code="invalid_json"
        )
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return error_answer(
            400,
            "Missing required parameter: 'prompt'.",
            param="prompt",
            code="missing_required_parameter",
        )
    fields: dict[str, str] = {}
    for name, allowed, default in (
        ("size", _SIZES, "1024x1024"),
        ("quality", _QUALITIES, "low"),
        ("background", _BACKGROUNDS, "opaque"),
        ("output_format", _FORMATS, "png"),
    ):
        raw = body.get(name)
        value = default if raw is None else str(raw)
        if value not in allowed:
            return error_answer(
                400,
                f"Invalid value: '{value}'. Supported values are: "
                + ", ".join(f"'{option}'" for option in allowed)
                + ".",
                param=name,
                code="invalid_value",
            )
        fields[name] = value
    # A response names what was made: `auto` is decided by the server.
    made = {
        "size": "1024x1024" if fields["size"] == "auto" else fields["size"],
        "quality": "low" if fields["quality"] == "auto" else fields["quality"],
        "background": "opaque" if fields["background"] == "auto" else fields["background"],
        "output_format": fields["output_format"],
    }
    count = body.get("n", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10:
        return error_answer(400, "'n' must be an integer from 1 to 10.", param="n")
    partial = body.get("partial_images", 0)
    if partial is None:
        partial = 0
    if not isinstance(partial, int) or isinstance(partial, bool) or not 0 <= partial <= 3:
        return error_answer(
            400, "'partial_images' must be an integer from 0 to 3.", param="partial_images"
        )
    prompt_tokens = token_count(prompt)
    usage = {
        "input_tokens": prompt_tokens,
        "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
        "output_tokens": _IMAGE_TOKENS * count,
        "total_tokens": prompt_tokens + _IMAGE_TOKENS * count,
    }
    created = int(time.time())
    if body.get("stream") is not True:
        images = [{"b64_json": _b64(image_png(f"{index}:{prompt}"))} for index in range(count)]
        return json_answer({"created": created, "data": images, **made, "usage": usage})
    events = []
    for index in range(partial):
        rows = IMAGE_SIDE * (index + 1) // (partial + 1)
        event = {
            "type": "image_generation.partial_image",
            "b64_json": _b64(image_png(f"0:{prompt}", rows)),
            "created_at": created,
            **made,
            "partial_image_index": index,
        }
        events.append(sse(event, event="image_generation.partial_image"))
    done = {
        "type": "image_generation.completed",
        "b64_json": _b64(image_png(f"0:{prompt}")),
        "created_at": created,
        **made,
        "usage": usage,
    }
    events.append(sse(done, event="image_generation.completed"))
    return stream_answer(events)
