"""Properties the spec marks SDK-only: computed by the client, never sent by the API.

The spec lists them among an object's properties, tagged `x-oaiSupportedSDKs` and
described as an "SDK-only convenience property" (today `Response.output_text` and
`BetaResponse.output_text`). Generated as plain fields they would always read None,
so each becomes a read-only property that calls a hand-written function of
`oxide_proto.api._sdk_properties`, as the official SDK computes them. They are not
fields: not in `__slots__`, not in `__init__`, not dumped by `to_dict()`.

`COMPUTED` says which function computes which property. An SDK-only property it
does not list stops the generator, so a new one gets its computation written
instead of silently becoming a field that is never set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXTENSION = "x-oaiSupportedSDKs"


@dataclass(frozen=True)
class Computation:
    function: str  # the name in oxide_proto.api._sdk_properties; called with the object
    annotation: str  # what the property returns
    doc: str


_OUTPUT_TEXT = Computation(
    "output_text",
    "str",
    "The text of every `output_text` part of every `message` output item, joined "
    '(`""` when there is none). Computed from `output`; the API does not send it.',
)

# (generated class name, JSON key) -> how the property is computed.
COMPUTED: dict[tuple[str, str], Computation] = {
    ("Response", "output_text"): _OUTPUT_TEXT,
    ("BetaResponse", "output_text"): _OUTPUT_TEXT,
}


def is_sdk_only(prop: Any) -> bool:
    """Whether a property schema carries the SDK-only mark, itself or on one of its variants
    (the spec puts it on the non-null member of `anyOf: [string, null]`)."""
    if not isinstance(prop, dict):
        return False
    if EXTENSION in prop:
        return True
    variants = [*prop.get("anyOf", ()), *prop.get("oneOf", ()), *prop.get("allOf", ())]
    return any(isinstance(v, dict) and EXTENSION in v for v in variants)


def computation(class_name: str, key: str) -> Computation:
    """The computation of an SDK-only property; a `ValueError` names one not in `COMPUTED`."""
    found = COMPUTED.get((class_name, key))
    if found is None:
        raise ValueError(
            f"{class_name}.{key} is an SDK-only property ({EXTENSION}) with no computation: "
            f"write it in src/oxide_proto/api/_sdk_properties.py and list it in "
            f"tools/codegen/sdk_properties.py"
        )
    return found
