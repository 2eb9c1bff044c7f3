"""What the model decoder and the schema builder both ask of a type annotation.

Both walk annotations (`int | None`, `Literal[...]`, unions of models) and both
describe a JSON value that did not fit in the same words, so the answers live here
once.
"""

from __future__ import annotations

import types
import typing
from typing import Union

NONE_TYPE = type(None)

# JSON kinds as the Python classes json.loads gives, named for error messages.
JSON_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    NONE_TYPE: "null",
}


def is_union(tp: object) -> bool:
    """True for `typing.Union[...]`, `Optional[...]` and `X | Y` alike."""
    origin = typing.get_origin(tp)
    return origin is Union or origin is types.UnionType
