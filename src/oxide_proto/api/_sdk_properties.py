"""Values the client computes on a model instead of receiving them from the API.

The spec lists a few "SDK-only convenience" properties (tagged `x-oaiSupportedSDKs`)
that the API never sends and the official SDKs derive from the rest of the
object, `Response.output_text` above all. The generated models expose each as a
read-only property that calls the function of the same name here (the table is
`tools/codegen/sdk_properties.py`), so the generated code stays a mechanical
translation of the spec and the logic is written, and tested, once.

The functions read attributes by name rather than by class: a subclass (the
parsed variants of the structured-output helpers), a `Beta` twin of a type, or an
item this package decoded as `UnknownModel` are all read the same way.
"""

from __future__ import annotations

__all__: list[str] = []


def output_text(response: object) -> str:
    """The text of every `output_text` part of every `message` output item, in order, joined.

    Refusals, other content parts and other output items (reasoning, tool calls)
    add nothing, and a response without any output text gives `""`: the official
    SDK's `Response.output_text`.
    """
    texts: list[str] = []
    for item in getattr(response, "output", None) or ():
        if getattr(item, "type", None) != "message":
            continue
        for part in getattr(item, "content", None) or ():
            if getattr(part, "type", None) == "output_text":
                text = getattr(part, "text", None)
                if isinstance(text, str):
                    texts.append(text)
    return "".join(texts)
