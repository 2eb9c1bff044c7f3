"""Representative arguments for every API operation, read from the OpenAPI spec.

For each operation of the generated table (`tools/codegen/generate_operations.py`)
this builds one call: its path parameters, its required query parameters and its
required body fields, each value taken from the schema's example where it has a
scalar one, else the smallest value the schema admits (the first enum member, the
first variant of a `oneOf`/`anyOf`, nested required fields, `minItems` items,
numbers at their minimum, strings shaped by their `format`). File fields of a
multipart body get a few bytes in memory. Optional fields are left out: the
request the sweep sends is the least a caller must write.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Any

CODEGEN = pathlib.Path(__file__).resolve().parents[2] / "tools" / "codegen"
if str(CODEGEN) not in sys.path:
    sys.path.insert(0, str(CODEGEN))

import generate_models  # noqa: E402
import generate_operations  # noqa: E402
from operations_ir import Op, py_name  # noqa: E402
from schema_ir import REF_PREFIX  # noqa: E402

__all__ = ["Call", "Synthesizer", "load_calls", "load_spec"]

# Strings of a format a validator checks, or with a pattern the spec sets.
_FORMATS = {
    "uri": "https://example.com/a",
    "url": "https://example.com/a",
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_PATTERNS = {
    "^tunnel_[a-z0-9]{32}$": "tunnel_" + "0" * 32,
}
FILE = ("data.bin", b"\x00\x01oxide", "application/octet-stream")


@dataclass
class Call:
    """One operation and the arguments its generated method is called with."""

    name: str  # the SDK's dotted name: "chat.completions.create"
    op: Op
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] = field(default_factory=dict)

    @property
    def streams(self) -> bool:
        return self.op.stream_event is not None

    def __str__(self) -> str:
        return f"{self.name} ({self.op.method} {self.op.path})"


def load_spec() -> dict[str, Any]:
    # The published spec alone, as Prism serves it: the operations and arguments the
    # SDK supplement adds are not Prism's to validate (tests/io/test_sdk_operations.py).
    spec: dict[str, Any] = generate_models.load_spec(generate_models.DEFAULT_SPEC, supplement=False)
    return spec


class Synthesizer:
    """Smallest valid values for the spec's schemas."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.parameters: dict[str, Any] = spec["components"].get("parameters", {})
        self.multipart = False

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            if ref.startswith(REF_PREFIX):
                schema = self.schemas[ref[len(REF_PREFIX) :]]
            else:
                schema = self.parameters[ref.rsplit("/", 1)[1]]
        return schema

    def value(self, schema: dict[str, Any], depth: int = 0) -> object:
        schema = self.resolve(schema)
        if depth > 12:
            raise RecursionError("schema nests too deep for a minimal value")
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return next(v for v in schema["enum"] if v is not None)
        example = schema.get("example")
        if isinstance(example, (str, int, float, bool)) and _is_a(example, schema):
            return example
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for member in schema["allOf"]:
                part = self.value(member, depth + 1)
                if isinstance(part, dict):
                    merged.update(part)
            return merged
        variants = schema.get("oneOf") or schema.get("anyOf")
        if variants:
            usable = [v for v in variants if self.resolve(v).get("type") != "null"]
            if self.multipart:
                # A form carries a file as a part: take the variant that is one.
                usable.sort(key=lambda v: not self.is_binary(v))
            first = self.resolve(usable[0])
            if "properties" in schema and "type" not in first and "properties" not in first:
                # `anyOf: [{required: [a]}, {required: [b]}]` beside the properties:
                # the object with the first set of required fields.
                required = [*schema.get("required", []), *first.get("required", [])]
                return self.object({**schema, "required": required}, depth)
            return self.value(first, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "string":
            return self.string(schema)
        if kind in ("integer", "number"):
            return self.number(schema, kind)
        if kind == "boolean":
            return schema.get("default", True) is not False
        if kind == "array":
            count = max(schema.get("minItems", 1), 1)
            item = self.value(schema.get("items", {}), depth + 1)
            return [item] * count
        if kind == "null":
            return None
        if kind == "object" or "properties" in schema:
            return self.object(schema, depth)
        return "value"

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, object]:
        props = schema.get("properties", {})
        return {
            key: self.value(props.get(key, {}), depth + 1) for key in schema.get("required", [])
        }

    def string(self, schema: dict[str, Any]) -> object:
        if self.is_binary(schema):
            return FILE
        text = _PATTERNS.get(schema.get("pattern", "")) or _FORMATS.get(
            str(schema.get("format")), "text"
        )
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        text = text.ljust(low, "x")
        return text[:high] if high is not None else text

    @staticmethod
    def number(schema: dict[str, Any], kind: str) -> int | float:
        value: float = 1
        if "minimum" in schema:
            value = max(value, schema["minimum"]) if schema["minimum"] > 0 else schema["minimum"]
        if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], (int, float)):
            value = schema["exclusiveMinimum"] + 1
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else float(value)

    def is_binary(self, schema: dict[str, Any]) -> bool:
        schema = self.resolve(schema)
        return schema.get("format") == "binary" or "contentMediaType" in schema

    def body_schema(self, raw: dict[str, Any], op: Op) -> dict[str, Any] | None:
        content = raw.get("requestBody", {}).get("content", {})
        media = "multipart/form-data" if op.body_kind == "multipart" else "application/json"
        schema = content.get(media, {}).get("schema")
        return self.resolve(schema) if schema is not None else None

    def body(self, raw: dict[str, Any], op: Op) -> dict[str, object]:
        """The operation's required body fields, keyed by their name on the wire."""
        schema = self.body_schema(raw, op)
        if schema is None:
            return {}
        self.multipart = op.body_kind == "multipart"
        try:
            value = self.value(schema)
        finally:
            self.multipart = False
        return value if isinstance(value, dict) else {}


def _is_a(value: object, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    checks = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }
    return any(checks.get(str(k), False) for k in kinds)


def build_call(name: str, op: Op, spec: dict[str, Any], synth: Synthesizer) -> Call:
    """The least call of `op`: path parameters, required query parameters and body fields."""
    raw = spec["paths"][op.path][op.method.lower()]
    path_values: dict[str, object] = {}
    query_keys = {p.key for p in op.query}
    kwargs: dict[str, object] = {}
    for param in raw.get("parameters", []):
        param = synth.resolve(param)
        if param["in"] == "path":
            value = synth.value(param.get("schema", {"type": "string"}))
            path_values[param["name"]] = value if value != "text" else f"{param['name']}_1"
        elif param["in"] == "query" and param.get("required"):
            kwargs[py_name(param["name"])] = synth.value(param.get("schema", {}))
    body = synth.body(raw, op)
    body_names = {p.key: p.name for p in op.body}
    extra_body: dict[str, object] = {}
    for key, value in body.items():
        if key == "stream":
            continue
        if key in body_names and key not in query_keys:
            kwargs[body_names[key]] = value
        else:
            extra_body[key] = value  # a field the method does not name: sent as extra_body
    if extra_body:
        kwargs["extra_body"] = extra_body
    args: tuple[object, ...] = ()
    if op.path_params:
        *leading, last = op.path_params
        args = (path_values[last],)
        kwargs.update({p: path_values[p] for p in leading})
    return Call(name, op, args, kwargs)


def load_calls() -> list[Call]:
    """One call per spec operation, in the order of their SDK names."""
    spec = load_spec()
    _, named = generate_operations.load(spec)
    synth = Synthesizer(spec)
    calls = [build_call(name, op, spec, synth) for name, op in sorted(named.items())]
    # What the client decodes an answer into is the generated method's: with the SDK
    # supplement, an object the spec describes inline comes back as the SDK's model,
    # and a list the SDK returns whole (the usage reports) is no page.
    _, generated = generate_operations.load(generate_models.load_spec(generate_models.DEFAULT_SPEC))
    for call in calls:
        made = generated[call.name]
        call.op = dataclasses.replace(
            call.op, response=made.response, page=made.page, item=made.item
        )
    return calls
