"""Structured outputs of the mock model: JSON that fits the schema a request asks for.

Code that sends `response_format` (chat) or `text.format` (Responses) of type
`json_schema` parses the reply into its own classes, and code that forces a tool
call parses the call's arguments; a free-text reply would make both fail. So the
mock answers such requests as the API would, with a value built from the schema
alone — deterministic, so tests can assert on it:

- an object has every property its `required` lists (all of them when it has no
  `required`, as strict schemas list every property anyway);
- a string is ``"text"`` (or an example of its `format`: date, uuid, email...),
  an integer 1 and a number 1.5, moved into `minimum`/`maximum` when given;
  a boolean is true;
- an `enum` gives its first value, a `const` its value, `anyOf`/`oneOf` its first
  branch that is not null, an array one item (or `minItems` items);
- `$ref` follows `#/$defs/...` (and `#` for the root); past a nesting depth a
  nullable value is null and an array empty, so recursive schemas end.

The tool rule is simple on purpose: when a request gives function tools and its
`tool_choice` is ``"required"`` or names a function, the reply is one call of
that function (the first function tool for ``"required"``) with arguments built
from its `parameters`. With ``"auto"`` or no `tool_choice` the model answers in
text (a test scripts calls with `ToolCalls`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._behaviours import ToolCall

__all__ = ["forced_tool_call", "schema_instance", "structured_text"]

_MAX_DEPTH = 8

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "duration": "P1D",
    "email": "user@example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com",
}


def schema_instance(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """A value that validates against `schema` (within what strict structured outputs allow).

    >>> schema_instance({"type": "object", "properties": {"n": {"type": "integer"}}})
    {'n': 1}
    """
    return _instance(schema, root if root is not None else schema, 0)


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if ref == "#":
        return root
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node  # type: ignore[no-any-return]


def _nullable(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or ()
    return any(isinstance(b, Mapping) and b.get("type") == "null" for b in branches)


def _number(schema: Mapping[str, Any], value: float) -> float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if isinstance(low, (int, float)) and value <= low:
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if isinstance(high, (int, float)) and value >= high:
        value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    return value


def _instance(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    if (depth > _MAX_DEPTH and _nullable(schema)) or depth > 4 * _MAX_DEPTH:
        # A schema that recurses without a way out has no finite instance.
        return None
    if "$ref" in schema:
        return _instance(_resolve(str(schema["$ref"]), root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        branches = [b for b in schema.get(key) or () if isinstance(b, Mapping)]
        if branches:
            chosen = next((b for b in branches if b.get("type") != "null"), branches[0])
            return _instance(chosen, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        names = schema.get("required", list(properties))
        return {
            name: _instance(properties.get(name, {}), root, depth + 1)
            for name in names
            if isinstance(name, str)
        }
    if kind == "array":
        if depth > _MAX_DEPTH:
            return []
        items = schema.get("items")
        count = max(1, int(schema.get("minItems", 1)))
        item = items if isinstance(items, Mapping) else {"type": "string"}
        return [_instance(item, root, depth + 1) for _ in range(count)]
    if kind == "string":
        return _FORMATS.get(str(schema.get("format")), "text")
    if kind == "integer":
        return int(_number(schema, 1))
    if kind == "number":
        return _number(schema, 1.5)
    if kind == "boolean":
        return True
    return None


def _format(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The requested output format: chat `response_format` or Responses `text.format`."""
    fmt = body.get("response_format")
    if fmt is None:
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, Mapping) else None
    return fmt if isinstance(fmt, Mapping) else None


def structured_text(body: Mapping[str, Any]) -> str | None:
    """The JSON reply a `json_schema` or `json_object` format asks for; None for free text."""
    fmt = _format(body)
    if fmt is None:
        return None
    if fmt.get("type") == "json_object":
        return json.dumps({"text": "This reply comes from the oxide mock server."})
    if fmt.get("type") != "json_schema":
        return None
    # Chat nests the schema under `json_schema`; Responses puts it in the format.
    holder = fmt.get("json_schema", fmt)
    schema = holder.get("schema") if isinstance(holder, Mapping) else None
    if not isinstance(schema, Mapping):
        schema = {"type": "object", "properties": {}}
    return json.dumps(schema_instance(schema))


def _function(tool: object) -> tuple[str, Mapping[str, Any]] | None:
    """The name and parameters of a function tool, in chat or Responses shape."""
    if not isinstance(tool, Mapping) or tool.get("type") != "function":
        return None
    spec = tool.get("function", tool)
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        return None
    parameters = spec.get("parameters")
    return spec["name"], parameters if isinstance(parameters, Mapping) else {}


def forced_tool_call(body: Mapping[str, Any]) -> ToolCall | None:
    """The call a `tool_choice` of "required" or a named function forces; None otherwise."""
    functions = [f for f in map(_function, body.get("tools") or ()) if f is not None]
    choice = body.get("tool_choice")
    if not functions or choice is None or choice in ("auto", "none"):
        return None
    if choice == "required":
        name, parameters = functions[0]
    elif isinstance(choice, Mapping) and choice.get("type") == "function":
        spec = choice.get("function", choice)
        wanted = spec.get("name") if isinstance(spec, Mapping) else None
        found = [f for f in functions if f[0] == wanted]
        if not found:
            return None
        name, parameters = found[0]
    else:
        return None
    if not parameters:
        parameters = {"type": "object", "properties": {}}
    return ToolCall(name, json.dumps(schema_instance(parameters)))
