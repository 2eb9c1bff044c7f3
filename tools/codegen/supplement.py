"""Merges `spec/sdk-supplement.json` into the spec: what the official SDK knows, the spec not yet.

The supplement (written by `tools/sdk_supplement.py` from the pinned SDK) is an
OpenAPI-shaped fragment: `paths` holds whole operations the spec lacks, named by
`x-sdk-name`; `components.schemas` the models they use; `x-extend` what existing
operations and schemas miss (query, header and body parameters, a stream's event
type, response fields, `page: "none"` for a list the SDK returns as one object),
the response fields the spec requires and the SDK's models let be absent (`absent`),
the arguments the spec requires and the SDK lets a caller omit (`optional`), which
SDK methods are deprecated, which return the body as text (`text`), which
return None whatever the answer holds (`no-body`, the SDK's `cast_to=NoneType`), which
inline shapes the SDK types as a named model (`same-types`), and which spec unions
a caller sends though no operation takes them (`params`: a WebSocket's client
events, whose TypedDicts are then generated too). Merging never replaces
what the spec says: a conflict stops the generator, so a newer spec that gains the
same operation is noticed and the supplement regenerated.
"""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

SUPPLEMENT = pathlib.Path(__file__).resolve().parents[2] / "spec" / "sdk-supplement.json"
REF = "#/components/schemas/"


def load(path: pathlib.Path = SUPPLEMENT) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sdk_version(supplement: dict[str, Any]) -> str:
    """The SDK release the supplement was read from, as a pin: "openai==3.63.0"."""
    return str(supplement["x-sdk"])


def merge(spec: dict[str, Any], supplement: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` with the supplement's operations, schemas and extensions added."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for name, schema in supplement["components"]["schemas"].items():
        if name in schemas:
            raise ValueError(f"supplement schema {name} is already in the spec")
        schemas[name] = schema
    for path, item in supplement["paths"].items():
        target = spec["paths"].setdefault(path, {})
        for method, op in item.items():
            if method in target:
                raise ValueError(
                    f"supplement operation {method.upper()} {path} is already in the spec"
                )
            target[method] = op
    extend = supplement["x-extend"]
    for key, add in extend["operations"].items():
        method, _, path = key.partition(" ")
        op = spec["paths"][path][method]
        listed = op.setdefault("parameters", [])
        known = {
            (p.get("in"), str(p.get("name")).lower()): i
            for i, p in enumerate(_resolve(spec, p) for p in listed)
        }
        for param in add.get("parameters", []):
            index = known.get((param["in"], param["name"].lower()))
            if index is None:
                listed.append(param)
            elif param["in"] == "header":
                # A header the spec lists and the SDK takes as an argument: named as the SDK does.
                listed[index] = {
                    **_resolve(spec, listed[index]),
                    "x-sdk-param": param["x-sdk-param"],
                }
            else:
                raise ValueError(f"{key}: parameter {param['name']} is already in the spec")
        if "body" in add:
            _own_properties(spec, _body_schema(op, key)).update(add["body"])
        for name in add.get("optional", ()):
            for param in listed:
                if _resolve(spec, param).get("name") == name and param.get("in") == "query":
                    param["required"] = False
            body = _body_schema(op, key) if "requestBody" in op else {}
            required = _resolve(spec, body).get("required", [])
            if name in required:
                _resolve(spec, body)["required"] = [r for r in required if r != name]
        if "headers" in add:
            op["x-sdk-headers"] = dict(add["headers"])
        if "page" in add:
            op["x-sdk-page"] = add["page"]  # "none": the SDK returns the list whole
        if "response" in add:
            # The SDK's model for an object the spec describes inline (same fields, named).
            ok = next(op["responses"][c] for c in ("200", "201", "202") if c in op["responses"])
            ok["content"]["application/json"]["schema"] = add["response"]
        if "stream_event" in add:
            ok = next(op["responses"][c] for c in ("200", "201", "202") if c in op["responses"])
            ok.setdefault("content", {})["text/event-stream"] = {"schema": add["stream_event"]}
    for name, props in extend["schemas"].items():
        own = _own_properties(spec, schemas[name])
        clash = set(own) & set(props)
        if clash:
            raise ValueError(f"{name}: properties {sorted(clash)} are already in the spec")
        own.update(props)
    for name, fields in extend.get("absent", {}).items():
        # For the response models only: the request TypedDicts keep the spec's (and the
        # SDK's) required keys.
        schemas[name]["x-sdk-absent"] = list(fields)
    spec["x-sdk"] = supplement["x-sdk"]
    spec["x-sdk-deprecated"] = dict(extend.get("deprecated", {}))
    spec["x-sdk-same-types"] = dict(extend.get("same-types", {}))
    spec["x-sdk-text"] = list(extend.get("text", []))
    spec["x-sdk-no-body"] = list(extend.get("no-body", []))
    for name in extend.get("params", ()):
        # Request shapes no operation takes (a WebSocket's client events).
        schemas[name]["x-sdk-params"] = True
    return spec


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        found: Any = spec
        for part in parts:
            found = found[part]
        node = found
    return node


def _body_schema(op: dict[str, Any], key: str) -> dict[str, Any]:
    content = op.get("requestBody", {}).get("content", {})
    for media in ("multipart/form-data", "application/json"):
        if media in content:
            return content[media].setdefault("schema", {"type": "object"})  # type: ignore[no-any-return]
    raise ValueError(f"{key}: the spec has no request body to extend")


def _own_properties(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The `properties` the schema itself holds (a referenced component's, for a $ref)."""
    schema = _resolve(spec, schema)
    return schema.setdefault("properties", {})  # type: ignore[no-any-return]
