"""Derives, from the installed official SDK, what the OpenAPI spec does not describe yet.

    python tools/sdk_supplement.py --generate  # rewrite the supplement and name lists, regenerate
    python tools/sdk_supplement.py --check     # fail if they do not match the installed SDK

The published spec lags the API: the official SDK (`openai`, pinned in
constraints.txt) already calls endpoints, parameters and response fields the spec
lacks. Those are facts of the API, and this script reads them from the SDK as data:

- the public method names, by walking `openai.OpenAI()`'s resources
  (`tools/codegen/sdk_methods.txt`, the generators' naming reference), and its
  param type names (`tools/codegen/sdk_params.txt`, see `generate_params.py`);
- for each method that makes one HTTP call, its HTTP method, path, which arguments
  go to the path, the query, the body (JSON or multipart) or a header, and the
  fixed headers it sends, read from the method's source with `ast` (the SDK's
  resource methods are one call to `self._get/_post/...` in a fixed shape);
- the arguments' types, from the method's type hints (TypedDicts become object
  schemas), and the response models' fields, from the pydantic models.

Methods without a spec operation become operations (`paths`, named by
`x-sdk-name`); operations the spec has get the arguments and response fields it
misses (`x-extend`). The output, `spec/sdk-supplement.json`, is an OpenAPI-shaped
fragment the generators merge into the spec (`tools/codegen/supplement.py`); it
records the SDK version it was read from (`x-sdk`). Nothing here runs a request.
"""

from __future__ import annotations

import argparse
import ast
import collections.abc
import enum
import functools
import importlib
import inspect
import json
import pathlib
import re
import subprocess
import sys
import textwrap
import types
import typing
from typing import Any

import typing_extensions

ROOT = pathlib.Path(__file__).resolve().parent.parent
CODEGEN = ROOT / "tools" / "codegen"
sys.path.insert(0, str(CODEGEN))

OUT = ROOT / "spec" / "sdk-supplement.json"
METHODS = CODEGEN / "sdk_methods.txt"
PARAM_NAMES = CODEGEN / "sdk_params.txt"
GENERATORS = (
    "tools/codegen/generate_models.py",
    "tools/codegen/generate_params.py",
    "tools/codegen/generate_operations.py",
    "tools/unasync.py",
)
REF = "#/components/schemas/"
# On a component read from an SDK type: where that type lives ("module:Name"), so that
# the compat types table pairs the official name with the class generated from it.
ORIGIN = "x-sdk-class"

_CALLS = {"_get": "get", "_post": "post", "_put": "put", "_patch": "patch", "_delete": "delete"}
_PAGES = {
    "SyncCursorPage": "cursor",
    "SyncConversationCursorPage": "cursor",
    "SyncNextCursorPage": "next",
    "SyncTokenPage": "token",
    "SyncPage": "list",
}


# -- walking the client ----------------------------------------------------------------


def resources(client: object) -> dict[str, object]:
    """Dotted resource path -> resource object, for every resource under `client`."""
    from openai._resource import SyncAPIResource

    found: dict[str, object] = {}

    def visit(obj: object, prefix: str) -> None:
        for name in sorted(dir(type(obj))):
            if name.startswith("_") or name.startswith("with_"):
                continue
            attr = inspect.getattr_static(type(obj), name)
            if not isinstance(attr, functools.cached_property):
                continue
            child = getattr(obj, name)
            if isinstance(child, SyncAPIResource):
                dotted = f"{prefix}{name}"
                found[dotted] = child
                visit(child, dotted + ".")

    visit(client, "")
    return found


def methods(client: object) -> dict[str, Any]:
    """Dotted method name -> the function, for every public method of every resource."""
    out: dict[str, Any] = {}
    for dotted, resource in resources(client).items():
        cls = type(resource)
        for name in sorted(dir(cls)):
            if name.startswith("_") or name.startswith("with_"):
                continue
            attr = inspect.getattr_static(cls, name)
            if inspect.isfunction(attr):
                out[f"{dotted}.{name}"] = attr
    return out


# -- reading one method's request ------------------------------------------------------


def _implementation(func: Any) -> ast.FunctionDef | None:
    """The method's own definition (the last one: overloads come first)."""
    cls_name = func.__qualname__.split(".")[0]
    module = sys.modules[func.__module__]
    tree = _module_tree(module.__file__)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls_name:
            defs = [
                n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == func.__name__
            ]
            return defs[-1] if defs else None
    return None


@functools.cache
def _module_tree(path: str) -> ast.Module:
    return ast.parse(pathlib.Path(path).read_text(encoding="utf-8"))


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _dict_of(node: ast.expr | None) -> dict[str, str] | None:
    """`maybe_transform({"key": name, ...}, Params)` -> {wire key: argument name}."""
    if isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    if not isinstance(node, ast.Dict):
        return None
    out = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(value, ast.Name):
            out[str(key.value)] = value.id
    return out


def _path(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value)  # path_template("/x/{id}", id=id)
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
            for v in node.values
            if isinstance(v, ast.Constant | ast.FormattedValue)
        )
    return None


def read_call(func: Any) -> dict[str, Any] | None:
    """What one resource method sends, or None where it is not one HTTP call."""
    node = _implementation(func)
    if node is None:
        return None
    calls = [
        c
        for c in ast.walk(node)
        if isinstance(c, ast.Call)
        and isinstance(c.func, ast.Attribute)
        and isinstance(c.func.value, ast.Name)
        and c.func.value.id == "self"
        and c.func.attr in (*_CALLS, "_get_api_list")
    ]
    if len(calls) != 1 or not calls[0].args:
        return None
    call = calls[0]
    path = _path(call.args[0])
    if path is None:
        return None
    method = "get" if call.func.attr == "_get_api_list" else _CALLS[call.func.attr]  # type: ignore[attr-defined]
    out: dict[str, Any] = {"method": method, "path": path, "headers": {}, "header_args": {}}
    body = _kw(call, "body")
    if isinstance(body, ast.Call) and body.args and isinstance(body.args[0], ast.Name):
        # `body = deepcopy_minimal({...})` first, then `body=maybe_transform(body, ...)`.
        variable = body.args[0].id
        for stmt in ast.walk(node):
            if (
                isinstance(stmt, ast.Assign)
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == variable
            ):
                body = stmt.value
    out["body"] = _dict_of(body) if body is not None else None
    if body is not None and out["body"] is None:
        # Built by a helper from the dict of wire keys the method hands it.
        found = [_dict_of(d) or {} for d in ast.walk(node) if isinstance(d, ast.Dict)]
        out["body"] = max(found, key=len, default=None) or None
    out["body_unread"] = body is not None and out["body"] is None
    options = _kw(call, "options")
    query = _kw(options, "query") if isinstance(options, ast.Call) else None
    out["query"] = _dict_of(query) or {}
    source = ast.unparse(node)
    out["multipart"] = "multipart/form-data" in source
    for stmt in ast.walk(node):
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "extra_headers"
            and isinstance(stmt.value, ast.Dict)
        ):
            for key, value in zip(stmt.value.keys, stmt.value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                    out["headers"][key.value] = value.value
        # `strip_not_given({"openai-beta": ",".join(... betas ...)})`: an argument sent as a header.
        if (
            isinstance(stmt, ast.Call)
            and isinstance(stmt.func, ast.Name)
            and stmt.func.id == "strip_not_given"
            and stmt.args
            and isinstance(stmt.args[0], ast.Dict)
        ):
            for key, value in zip(stmt.args[0].keys, stmt.args[0].values, strict=True):
                names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
                args = names & set(inspect.signature(func).parameters)
                if isinstance(key, ast.Constant) and len(args) == 1:
                    out["header_args"][args.pop()] = key.value
    module = vars(sys.modules[func.__module__])
    out["cast_to"] = out["page"] = out["item"] = out["stream"] = None
    out["no_body"] = False
    cast_to = _kw(call, "cast_to")
    if cast_to is not None:
        text = ast.unparse(cast_to)
        if text.endswith("BinaryResponseContent"):
            out["binary"] = True
        elif text == "NoneType":
            out["no_body"] = True  # the method returns None, whatever the answer holds
        else:
            out["cast_to"] = _named(cast_to, module)
    page = _kw(call, "page")
    if isinstance(page, ast.Subscript) and isinstance(page.value, ast.Name):
        out["page"] = _PAGES.get(page.value.id)
        out["item"] = _named(page.slice, module)
    always = _kw(call, "stream")
    out["always_streams"] = isinstance(always, ast.Constant) and always.value is True
    stream_cls = _kw(call, "stream_cls")
    if isinstance(stream_cls, ast.Subscript):
        out["stream"] = _named(stream_cls.slice, module)
    elif isinstance(stream_cls, ast.Name):
        base = module.get(stream_cls.id)
        for orig in getattr(base, "__orig_bases__", ()):
            event = typing.get_args(orig)
            if event and getattr(typing.get_origin(orig), "__name__", "") == "Stream":
                out["stream"] = (stream_cls.id.removesuffix("Stream"), event[0])
    return out


def _named(node: ast.expr, module: dict[str, Any]) -> tuple[str, Any] | None:
    """An annotation's name (for naming a schema) and the object it designates."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "cast"
        and len(node.args) == 2
    ):
        # `cast_to=cast(Any, Automation)`: a union the SDK's type checker would refuse
        # as a class; the union is what the call answers with.
        node = node.args[1]
    text = ast.unparse(node)
    try:
        obj = eval(text, module)
    except Exception:
        return None
    return text.rsplit(".", 1)[-1], obj


# -- types to schemas ------------------------------------------------------------------


class Schemas:
    """Turns the SDK's type hints into JSON schemas; models become named components.

    A model or TypedDict whose name is a spec schema's (or its `Param` form) is
    referenced, not redefined, and the spec schema gets the fields it misses
    (`extend`). Other models are named after their class, made unique.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec["components"]["schemas"]
        self.new: dict[str, Any] = {}
        self.extend: dict[str, dict[str, Any]] = {}
        # component -> properties the spec requires and the SDK's model lets be absent
        self.absent: dict[str, list[str]] = {}
        self.by_class: dict[int, str] = {}
        from params_ir import SDK_NAMES

        self.param_names = {v: k for k, v in SDK_NAMES.items()}
        self.stack: list[int] = []
        self.spec_folded = {n.lower(): n for n in sorted(self.spec, reverse=True)}
        # Names the model generator already gives to classes of the spec (inline
        # objects are named after where they appear): a new schema must not take one.
        from schema_ir import Builder

        model = Builder(self.spec).build()
        self.taken = set(self.spec) | set(model.classes) | set(model.aliases)
        self.paired = _paired_in_table({name: spec for spec, name in model.names.items()})
        self.by_fields: dict[frozenset[str], list[str]] = {}
        self.by_tag: dict[object, list[str]] = {}  # a `type` value -> the components of it
        for spec_name in sorted(self.spec):
            have = self.spec_properties(spec_name)
            if have:
                self.by_fields.setdefault(frozenset(have), []).append(spec_name)
                tag = _schema_const(self.spec, spec_name, "type")
                if tag is not None:
                    self.by_tag.setdefault(tag, []).append(spec_name)
        # False while reading what an operation the spec has returns: models the spec
        # names get the fields they miss, and no other model is defined.
        self.create = True
        # The documentation group of the WebSocket events being read (`_websocket_events`),
        # and the model names the SDK uses outside it.
        self.group = ""
        self.group_clashes: frozenset[str] = frozenset()

    def spec_name(self, cls: type, *, param: bool) -> str | None:
        name = cls.__name__
        module = cls.__module__.rsplit(".", 1)[-1]
        if param:
            if name in self.param_names:
                return self.param_names[name]
            name = name.removesuffix("Param")
            module = module.removesuffix("_param")
        # Only a module's main class is taken for the spec schema of its name (the
        # SDK spells `AdminAPIKey` what the spec calls `AdminApiKey`).
        if module.replace("_", "") != name.lower():
            return None
        return self.spec_folded.get(name.lower())

    def twin(self, cls: type, wires: set[str]) -> str | None:
        """The one spec component with the same fields and the same `type` value as
        `cls`, a class defined outside the group being read; else None."""
        if cls.__module__.startswith(f"openai.types.{self.group}."):
            return None
        tag = _literal_of(cls, "type")
        found = [
            name
            for name in self.by_fields.get(frozenset(wires), [])
            if _schema_const(self.spec, name, "type") == tag
        ]
        if len(found) > 1:
            # Not the request-side copies nor the beta API's (`InputFileContentParam`,
            # `BetaInputFileContent`); then the one the compat types table pairs it with.
            found = [n for n in found if not n.endswith("Param") and not n.startswith("Beta")]
        paired = self.paired.get(id(cls))
        if len(found) > 1:
            found = [n for n in found if n == paired]
        if not found and paired is not None and _schema_const(self.spec, paired, "type") == tag:
            # Fields the spec's version lacks (it lags the SDK): the pairing still holds
            # where most fields are shared, as `spec_name` decides for a same-named class.
            have = self.spec_properties(paired) or set()
            if len(wires - have) < len(wires & have):
                found = [paired]
        if not found and tag is not None:
            # The spec lags the SDK: the one component of the same tag whose fields the
            # class all has (`ImageGenToolCall` of the spec is the SDK's
            # `response_input_item.ImageGenerationCall`, less the newer fields), not a
            # beta API's copy.
            found = [
                name
                for name in self.by_tag.get(tag, [])
                if not name.startswith("Beta") and (self.spec_properties(name) or {"?"}) <= wires
            ]
        return found[0] if len(found) == 1 else None

    def spec_required(self, name: str) -> set[str]:
        """The properties the spec requires of component `name` itself (or its allOf parts)."""
        schema = self.spec[name]
        out = set(schema.get("required", ()))
        for member in schema.get("allOf", []):
            if "$ref" in member:
                out |= self.spec_required(member["$ref"][len(REF) :])
            else:
                out |= set(member.get("required", ()))
        return out

    def spec_properties(self, name: str) -> set[str] | None:
        schema = self.spec[name]
        if "anyOf" in schema or "oneOf" in schema:
            return None
        out = set(schema.get("properties", {}))
        for member in schema.get("allOf", []):
            if "$ref" in member:
                sub = self.spec_properties(member["$ref"][len(REF) :])
                if sub is None:
                    return None
                out |= sub
            else:
                out |= set(member.get("properties", {}))
        return out if out else None

    def of(self, hint: Any, name: str | None = None) -> dict[str, Any]:
        """The schema of a type hint; `name` names a union alias worth a component."""
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Annotated:
            inner = self.of(args[0], name)
            for meta in args[1:]:
                disc = getattr(meta, "discriminator", None)
                if disc and "anyOf" in inner:
                    inner["discriminator"] = {"propertyName": disc}
            return inner
        if origin in (typing.Union, types.UnionType):
            if _is_file(hint):
                return {"type": "string", "format": "binary"}
            members = [a for a in args if not _is_omit(a)]
            null = type(None) in members
            members = [a for a in members if a is not type(None)]
            variants = [self.of(a) for a in members]
            if len(variants) == 1:
                schema = variants[0]
            elif name and name.lower() in self.spec_folded:
                schema = {
                    "$ref": REF + self.spec_folded[name.lower()]
                }  # the spec's union of that name
            else:
                schema = {"anyOf": variants}
                if name and name not in self.taken and self.create:
                    found = sdk_origin(hint)
                    self.new.setdefault(name, {**schema, ORIGIN: found} if found else schema)
                    schema = {"$ref": REF + name}
            if null:
                return {"anyOf": [schema, {"type": "null"}]}
            return schema
        if origin is typing.Literal:
            values = list(args)
            return {"type": _json_type(values[0]), "enum": values}
        if origin in (list, collections.abc.Iterable, collections.abc.Sequence, tuple, set):
            return {"type": "array", "items": self.of(args[0]) if args else {}}
        if origin in (dict, collections.abc.Mapping):
            value = self.of(args[1]) if len(args) == 2 else {}
            return {"type": "object", "additionalProperties": value}
        if origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr":
            return {"type": "array", "items": self.of(args[0])}
        if hint in (str,):
            return {"type": "string"}
        if hint is bool:
            return {"type": "boolean"}
        if hint is int:
            return {"type": "integer"}
        if hint is float:
            return {"type": "number"}
        if hint is type(None):
            return {"type": "null"}
        if _is_file(hint):
            return {"type": "string", "format": "binary"}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"type": "string", "enum": [m.value for m in hint]}
        if isinstance(hint, type) and typing_extensions.is_typeddict(hint):
            return self.typed_dict(hint)
        if isinstance(hint, type) and hasattr(hint, "model_fields"):
            return self.model(hint)
        return {}

    def named(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """A reference to `schema` as a new component named `name` (made unique)."""
        for existing, have in self.new.items():
            if have == schema and existing.startswith(name):
                return {"$ref": REF + existing}
        base, n = name, 2
        while name in self.taken or name in self.new:
            name, n = f"{base}{n}", n + 1
        self.new[name] = schema
        return {"$ref": REF + name}

    def typed_dict(self, cls: type) -> dict[str, Any]:
        spec_name = self.spec_name(cls, param=True)
        if spec_name:
            return {"$ref": REF + spec_name}
        if id(cls) in self.stack:
            return {"type": "object"}  # a recursive shape: the inner level stays open
        self.stack.append(id(cls))
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
            props: dict[str, Any] = {}
            required = []
            for key, hint in hints.items():
                wire = _alias(hint) or key
                props[wire] = self.of(_strip_required(hint))
                if key in getattr(cls, "__required_keys__", ()):
                    required.append(wire)
        finally:
            self.stack.pop()
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = sorted(required)
        return schema

    def model(self, cls: Any) -> dict[str, Any]:
        if id(cls) in self.by_class:
            return {"$ref": REF + self.by_class[id(cls)]}
        spec_name = self.spec_name(cls, param=False)
        have = self.spec_properties(spec_name) if spec_name else None
        wires = {f.alias or key for key, f in cls.model_fields.items()}
        if have is not None and len(wires - have) >= len(wires & have):
            spec_name = None  # the same name for another object (`Message` of Assistants)
        if spec_name:
            self.by_class[id(cls)] = spec_name
            if have is not None:
                self.complete(cls, spec_name, have)
            return {"$ref": REF + spec_name}
        if not self.create:
            return {"type": "object"}
        twin = self.twin(cls, wires) if self.group else None
        if twin is not None:
            # A class of another API that the spec has under another name
            # (`ResponseInputFile` is `InputFileContent`): that one, not a copy, with
            # the fields the spec's version lacks. The models those fields hold belong
            # to the class's own API, not to the group being read: no group prefix.
            self.by_class[id(cls)] = twin
            saved = self.group, self.group_clashes
            self.group, self.group_clashes = "", frozenset()
            try:
                self.complete(cls, twin, self.spec_properties(twin) or set())
            finally:
                self.group, self.group_clashes = saved
            return {"$ref": REF + twin}
        name = cls.__name__
        if self.group and name in self.group_clashes:
            # A name the SDK also gives a model of another API (`Choice` of chat):
            # the group's (`LiveChoice`), so that no lookup by name mistakes one
            # for the other.
            name = self.group.title() + name
        if name in self.taken or name in self.new:
            module = cls.__module__.rsplit(".", 1)[-1]
            prefix = "".join(p.title() for p in module.split("_"))
            if prefix == name and self.group:
                prefix = self.group.title()  # `live.ErrorEvent` is `LiveErrorEvent`
            name = prefix + name
            base, n = name, 2
            while name in self.taken or name in self.new:
                name, n = f"{base}{n}", n + 1
        self.by_class[id(cls)] = name
        self.new[name] = {}  # claimed before the fields, which may refer back
        props = {}
        required = []
        for key, f in cls.model_fields.items():
            wire = f.alias or key
            props[wire] = self.field(f)
            if f.is_required():
                required.append(wire)
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        doc = inspect.getdoc(cls)
        if doc and cls.__doc__:
            schema["description"] = doc
        schema[ORIGIN] = sdk_origin(cls)
        self.new[name] = schema
        return {"$ref": REF + name}

    def complete(self, cls: Any, spec_name: str, have: set[str]) -> None:
        """Records what spec component `spec_name` (with properties `have`) misses of
        the SDK's model `cls`: the fields it lacks (`extend`), and the ones it requires
        that the model lets be absent (`absent`)."""
        create, self.create = self.create, True
        try:
            for key, f in sorted(cls.model_fields.items()):
                wire = f.alias or key
                if wire not in have:
                    self.extend.setdefault(spec_name, {})[wire] = self.field(f)
        finally:
            self.create = create
        required = self.spec_required(spec_name)
        for key, f in sorted(cls.model_fields.items()):
            wire = f.alias or key
            if wire in required and not f.is_required():
                # The spec requires it, the SDK's model lets it be absent
                # (the API, or a mock serving the spec, leaves it out).
                self.absent.setdefault(spec_name, []).append(wire)
        create, self.create = self.create, False
        try:
            for key, f in cls.model_fields.items():
                if (f.alias or key) in have:
                    self.field(f)  # models inside may miss fields too
        finally:
            self.create = create

    def field(self, f: Any) -> dict[str, Any]:
        hint = f.annotation
        if f.metadata:
            hint = typing.Annotated[tuple([hint, *f.metadata])]
        schema = self.of(hint)
        if f.description:
            schema = {**schema, "description": f.description}
        return schema


def _alias(hint: Any) -> str | None:
    while typing.get_origin(hint) in (
        typing.Annotated,
        typing_extensions.Required,
        typing_extensions.NotRequired,
    ):
        for meta in getattr(hint, "__metadata__", ()):
            alias = getattr(meta, "alias", None)
            if alias:
                return str(alias)
        hint = typing.get_args(hint)[0]
    return None


def _strip_required(hint: Any) -> Any:
    while typing.get_origin(hint) in (typing_extensions.Required, typing_extensions.NotRequired):
        hint = typing.get_args(hint)[0]
    return hint


def _is_omit(hint: Any) -> bool:
    return getattr(hint, "__name__", "") in ("Omit", "NotGiven")


def _is_file(hint: Any) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_is_file(a) for a in typing.get_args(hint))
    return hint is bytes or typing.get_origin(hint) is typing.IO


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


# -- the supplement ---------------------------------------------------------------------


def _operation_id(dotted: str) -> str:
    return "".join(p.title().replace("_", "") for p in dotted.split("."))


def _tag(dotted: str, path: str, spec: dict[str, Any]) -> str:
    """The spec's tag for the path where it has other operations on it, else the SDK's area."""
    for op in spec["paths"].get(path, {}).values():
        if isinstance(op, dict) and op.get("tags"):
            return str(op["tags"][0])
    parts = dotted.split(".")
    if parts[0] == "admin":
        parts = parts[2:] if parts[1] == "organization" else parts[1:]
        if parts[0] == "projects" and len(parts) > 2:
            parts = parts[1:]
    elif parts[0] == "beta" and len(parts) > 2:
        parts = parts[1:]
    return parts[0].replace("_", " ").title()


def build(spec: dict[str, Any], sdk_version: str) -> tuple[dict[str, Any], list[str]]:
    """The supplement for `spec`, and the SDK's method names."""
    import openai
    import operations_names
    from generate_operations import load

    client = openai.OpenAI(api_key="sk-supplement", base_url="http://127.0.0.1:9")
    funcs = methods(client)
    _, named = load(spec)
    aliases = {alias for alias, _, _ in operations_names.ALIASES}
    for alias, target in operations_names.RESOURCE_ALIASES.items():
        aliases |= {alias + n[len(target) :] for n in named if n.startswith(target + ".")}
    schemas = Schemas(spec)
    paths: dict[str, dict[str, Any]] = {}
    extend_ops: dict[str, dict[str, Any]] = {}
    deprecated: dict[str, str] = {}
    for dotted, func in sorted(funcs.items()):
        message = getattr(func, "__deprecated__", None)
        if message:
            deprecated[dotted] = str(message)
        call = read_call(func)
        if call is None:
            continue
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception:
            continue
        signature = inspect.signature(func)
        params = {
            p.name: p
            for p in signature.parameters.values()
            if p.name not in ("self", "extra_headers", "extra_query", "extra_body", "timeout")
        }

        def arg_schema(name: str, _hints: dict[str, Any] = hints) -> dict[str, Any]:
            return schemas.of(_hints.get(name, Any))

        def required(name: str, _params: dict[str, Any] = params) -> bool:
            p = _params.get(name)
            return p is not None and p.default is inspect.Parameter.empty

        if dotted in aliases:
            continue  # a second name of a spec operation (`beta.chat` is `chat`)
        path = call["path"]
        path_args = re.findall(r"\{(\w+)\}", path)
        if dotted in named:
            op = named[dotted]
            have_query = {p.key for p in op.query}
            have_body = {p.key for p in op.body}
            add: dict[str, Any] = {}
            query = [
                {"name": key, "in": "query", "required": required(arg), "schema": arg_schema(arg)}
                for key, arg in sorted(call["query"].items())
                if key not in have_query
            ]
            if query:
                add["parameters"] = query
            body = call["body"] or {}
            missing = {k: a for k, a in body.items() if k not in have_body and k not in have_query}
            if missing:
                add["body"] = {k: arg_schema(a) for k, a in sorted(missing.items())}
            # Arguments the spec requires and the SDK lets the caller leave out.
            optional = sorted(
                p.key
                for p in op.query + op.body
                if p.required and p.name in params and not required(p.name)
            )
            if optional:
                add["optional"] = optional
            headers = [
                _header_param(key, arg, arg_schema(arg))
                for arg, key in sorted(call["header_args"].items())
            ]
            if headers:
                add["parameters"] = add.get("parameters", []) + headers
            fixed = _fixed_headers(call)
            if fixed:
                add["headers"] = fixed  # `OpenAI-Beta: assistants=v2` and the like
            if op.page is not None and call["page"] is None and call["cast_to"]:
                # The SDK returns the list as one object (the usage reports), not a page.
                add["page"] = "none"
            if "stream" in call["query"] and call["stream"] and op.stream_event is None:
                add["stream_event"] = schemas.of(call["stream"][1], call["stream"][0])
            returned = call["cast_to"][1] if call["cast_to"] else None
            spec_ok = _ok(spec["paths"][op.path][op.method.lower()])
            inline = spec_ok.get("content", {}).get("application/json", {}).get("schema")
            if (
                op.response is None
                and isinstance(returned, type)
                and hasattr(returned, "model_fields")
                and isinstance(inline, dict)
                and "$ref" not in inline
                and inline.get("type") == "object"
            ):
                # An object the spec describes inline and the SDK names: a model.
                add["response"] = schemas.of(returned, call["cast_to"][0])
            elif call["cast_to"]:
                schemas.create = False
                try:
                    schemas.of(call["cast_to"][1])
                finally:
                    schemas.create = True
            if add:
                extend_ops[f"{op.method.lower()} {op.path}"] = add
            continue
        operation: dict[str, Any] = {
            "operationId": _operation_id(dotted),
            "x-sdk-name": dotted,
            "tags": [_tag(dotted, path, spec)],
            "summary": (inspect.getdoc(func) or "").split("\n\n")[0].replace("\n", " "),
        }
        parameters = [
            {"name": a, "in": "path", "required": True, "schema": {"type": "string"}}
            for a in path_args
        ]
        parameters += [
            {"name": key, "in": "query", "required": required(arg), "schema": arg_schema(arg)}
            for key, arg in call["query"].items()
        ]
        parameters += [
            _header_param(key, arg, arg_schema(arg)) for arg, key in call["header_args"].items()
        ]
        if parameters:
            operation["parameters"] = parameters
        fixed = _fixed_headers(call)
        if fixed:
            operation["x-sdk-headers"] = fixed
        body = call["body"]
        if body is None and call["body_unread"]:
            # The body is built by a helper: every argument not sent elsewhere goes in it.
            used = set(path_args) | set(call["query"].values()) | set(call["header_args"])
            body = {
                a: a for a in params if a not in used and params[a].kind is params[a].KEYWORD_ONLY
            }
        if body:
            props = {key: arg_schema(arg) for key, arg in body.items()}
            needed = sorted(key for key, arg in body.items() if required(arg))
            schema: dict[str, Any] = {"type": "object", "properties": props}
            if needed:
                schema["required"] = needed
            media = "multipart/form-data" if call["multipart"] else "application/json"
            operation["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
        content: dict[str, Any] = {}
        if call.get("binary"):
            accept = call["headers"].get("Accept", "application/octet-stream")
            content[accept] = {"schema": {"type": "string", "format": "binary"}}
        elif call["page"]:
            item = schemas.of(call["item"][1], call["item"][0]) if call["item"] else {}
            item_name = item.get("$ref", REF + "Item")[len(REF) :]
            page: dict[str, Any] = {"data": {"type": "array", "items": item}}
            if call["page"] in ("cursor", "next", "token"):
                page["has_more"] = {"type": "boolean"}
            if call["page"] in ("next", "token"):
                page["next"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
            if call["page"] == "cursor":
                page["last_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
            page_schema = {"type": "object", "properties": page, "required": ["data"]}
            content["application/json"] = {"schema": schemas.named(f"{item_name}List", page_schema)}
            operation["x-sdk-page"] = call["page"]
        elif call["always_streams"]:
            operation["x-sdk-stream"] = True  # an event stream whatever the arguments
        elif call["cast_to"]:
            name, obj = call["cast_to"]
            content["application/json"] = {"schema": schemas.of(obj, name)}
            if "data" in getattr(obj, "model_fields", ()):
                # A list the SDK returns as one object (a usage report, the webhook
                # event types), not a page.
                operation["x-sdk-page"] = "none"
        if call["stream"]:
            name, obj = call["stream"]
            content["text/event-stream"] = {"schema": schemas.of(obj, name)}
        ok: dict[str, Any] = {"description": "OK"}
        if content:
            ok["content"] = content
        operation["responses"] = {"200": ok}
        paths.setdefault(path, {})[call["method"]] = operation
    _union_responses(spec, named, schemas)
    _absent_through_table(schemas)
    _websocket_events(schemas)
    supplement = {
        "x-sdk": f"openai=={sdk_version}",
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.new.items()))},
        "x-extend": {
            "operations": dict(sorted(extend_ops.items())),
            "schemas": {k: dict(sorted(v.items())) for k, v in sorted(schemas.extend.items())},
            "absent": {k: sorted(set(v)) for k, v in sorted(schemas.absent.items())},
            "deprecated": dict(sorted(deprecated.items())),
            "text": text_results(funcs),
            "no-body": no_body_results(funcs),
            "params": sent_event_unions(spec),
        },
    }
    return supplement, sorted(funcs)


def sent_event_unions(spec: dict[str, Any]) -> list[str]:
    """The spec's unions of the client events a WebSocket connection sends, by the
    SDK's naming: a union `XClientEvent` with a TypedDict twin `XClientEventParam`.
    No operation takes them, so the param generator is told to write them
    (`x-sdk-params`); the Live unions the supplement itself adds are marked so in
    `_websocket_events`."""
    import pkgutil

    import openai.types

    found = set()
    for info in pkgutil.walk_packages(openai.types.__path__, "openai.types."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                name.endswith("ClientEvent")
                and not isinstance(value, type)
                and hasattr(module, name + "Param")
                and name in spec["components"]["schemas"]
            ):
                found.add(name)
    return sorted(found)


def text_results(funcs: dict[str, Any]) -> list[str]:
    """The methods that return the answer's body as `str` (`cast_to=str`), whatever
    the spec says it holds: `files.retrieve_content` reads a file as text where
    `files.content` gives its bytes."""
    found = []
    for dotted, func in sorted(funcs.items()):
        call = read_call(func)
        if call is not None and call["cast_to"] is not None and call["cast_to"][1] is str:
            found.append(dotted)
    return found


def no_body_results(funcs: dict[str, Any]) -> list[str]:
    """The methods that return None (`cast_to=NoneType`): the answer's body, if the
    server sends one, is not the result (`live.sessions.hangup`, `containers.delete`)."""
    found = []
    for dotted, func in sorted(funcs.items()):
        call = read_call(func)
        if call is not None and call["no_body"]:
            found.append(dotted)
    return found


def _union_responses(spec: dict[str, Any], named: dict[str, Any], schemas: Schemas) -> None:
    """Names, as the SDK does, the unions the spec answers with inline.

    The spec describes some answers as an inline `oneOf` of components (a
    transcription is `CreateTranscriptionResponseJson`, `...VerboseJson` or
    `...DiarizedJson`); the SDK names that union in the method's response module
    (`types/audio/transcription_create_response.py`: `TranscriptionCreateResponse`,
    the resource's singular, the method, "response"). Each such union becomes a
    component of that name holding the spec's own members, placed in the
    operation's area (`x-oaiMeta.group`), so code that names the SDK's alias finds
    it. The operation itself is left as it is: what it returns depends on its
    arguments (`response_format`).
    """
    for dotted, op in sorted(named.items()):
        if op.response is not None:
            continue
        raw = spec["paths"][op.path][op.method.lower()]
        inline = _ok(raw).get("content", {}).get("application/json", {}).get("schema")
        members = (inline or {}).get("oneOf") or (inline or {}).get("anyOf")
        if not members or not all(set(m) == {"$ref"} for m in members):
            continue
        *package, resource, method = dotted.split(".")
        alias = None
        for singular in dict.fromkeys((resource.removesuffix("s"), resource)):
            module_name = ".".join(["openai.types", *package, f"{singular}_{method}_response"])
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            exported = getattr(module, "__all__", [])
            if len(exported) == 1:
                alias = exported[0]
                value = getattr(module, alias)
                if len(typing.get_args(value)) != len(members):
                    alias = None  # not the union of the spec's members
                break
        if alias is None or alias in schemas.taken or alias in schemas.new:
            continue
        group = raw["tags"][0] if raw.get("tags") else _tag(dotted, op.path, spec)
        schemas.new[alias] = {
            "oneOf": [dict(m) for m in members],
            "x-oaiMeta": {"group": group},
            "description": f"What `{dotted}` answers with in JSON.",
        }


# The events of the WebSocket connections (`connect()`) the spec has no schema for:
# the union each connection decodes its server messages as, and the union of the
# client events it sends, by the name the union gets here, its documentation group
# (the generated module it goes to) and whether the events are also request shapes
# (TypedDicts a caller builds: `x-sdk-params`).
WEBSOCKET_EVENTS = {
    "LiveServerEvent": ("openai.types.live", "ServerEvent", "live", False),
    "LiveConnectServerEvent": ("openai.types.live", "ConnectServerEvent", "live", False),
    "LiveForkServerEvent": ("openai.types.live", "ForkServerEvent", "live", False),
    "LiveClientEvent": ("openai.types.live", "ClientEvent", "live", True),
    "LiveConnectClientEvent": ("openai.types.live", "ConnectClientEvent", "live", True),
    "LiveForkClientEvent": ("openai.types.live", "ForkClientEvent", "live", True),
}


def _websocket_events(schemas: Schemas) -> None:
    """Adds the WebSocket event unions of `WEBSOCKET_EVENTS` as components.

    A connection's events are no operation's response, so the union carries the
    `x-oaiMeta` group that places it (and the events only it reaches) in a module;
    a union of client events is marked `x-sdk-params`, so that the param generator
    writes its TypedDicts too, though no operation takes them.
    """
    official = _official_models()
    for name, (module, attr, group, sent) in WEBSOCKET_EVENTS.items():
        union = getattr(importlib.import_module(module), attr)
        home = f"openai.types.{group}"
        schemas.group = group
        schemas.group_clashes = frozenset(
            model
            for model, classes in official.items()
            if any(not (c.__module__ + ".").startswith(home + ".") for c in classes)
        )
        try:
            ref = schemas.of(union, name)
        finally:
            schemas.group, schemas.group_clashes = "", frozenset()
        if ref != {"$ref": REF + name}:
            raise SystemExit(f"{module}.{attr} did not become the component {name}: {ref}")
        schemas.new[name] = {**schemas.new[name], "x-oaiMeta": {"group": group}}
        if sent:
            schemas.new[name]["x-sdk-params"] = True


def sdk_origin(value: Any) -> str | None:
    """Where the SDK keeps `value` (a class, or a union alias, or the union inside an
    `Annotated` alias): "module:Name" of an `openai.types` module, or None."""
    if isinstance(value, type) and hasattr(value, "model_fields"):
        return f"{value.__module__}:{value.__qualname__}"
    return _official_aliases().get(id(value))


@functools.cache
def _official_aliases() -> dict[int, str]:
    """id of every union alias `openai.types` names -> "module:Name", the defining
    module first (its file named after the alias)."""
    import pkgutil

    import openai.types

    found: dict[int, str] = {}
    infos = sorted(
        pkgutil.walk_packages(openai.types.__path__, "openai.types."), key=lambda i: i.ispkg
    )
    for info in infos:
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or isinstance(value, type | types.ModuleType):
                continue
            annotated = typing.get_origin(value) is typing.Annotated
            inner = typing.get_args(value)[0] if annotated else None
            for one in (value, inner):
                members = typing.get_args(one)
                if typing.get_origin(one) in (typing.Union, types.UnionType) and members:
                    own = info.name.rsplit(".", 1)[-1].replace("_", "") == name.lower()
                    if own or id(one) not in found:
                        found[id(one)] = f"{info.name}:{name}"
    return found


def _official_models() -> dict[str, list[type]]:
    """Every pydantic model class `openai.types` defines, by class name."""
    import pkgutil

    import openai.types

    found: dict[str, list[type]] = {}
    for info in pkgutil.walk_packages(openai.types.__path__, "openai.types."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            is_model = isinstance(value, type) and hasattr(value, "model_fields")
            if is_model and value.__module__ == info.name:
                found.setdefault(name, []).append(value)
    return found


def _own_model(cls: type) -> bool:
    """A model with a module of its own (`file_object.FileObject`), not a nested shape
    of another model's module (`batch_usage.InputTokensDetails`)."""
    return cls.__module__.rsplit(".", 1)[-1].replace("_", "") == cls.__name__.lower()


def same_types(spec: dict[str, Any]) -> dict[str, str]:
    """Inline shapes the official SDK types as a named model with the same fields.

    The spec often repeats a component's shape inline (`Upload.file` is a copy of
    `OpenAIFile`); the generator would name the copy after its place (`UploadFile`).
    Where every field holding the copy is typed in the SDK as the component's own
    model, the copy becomes that model. Elsewhere the SDK keeps one class per place
    (even for identical shapes), and so does oxide, so that names match.
    """
    import schema_ir
    from generate_models import Builder

    model = Builder(spec["components"]["schemas"]).build()
    named = set(model.names.values())
    official = _official_models()
    holders: dict[str, list[tuple[str, str]]] = {}
    for cls in model.classes.values():
        for f in cls.fields:
            for ref in schema_ir.refs_in(f.type):
                holders.setdefault(ref, []).append((cls.name, f.key))
    found: dict[str, str] = {}
    for inline, group in sorted(schema_ir.same_shapes(model).items()):
        if inline in named:
            continue
        for candidate in (n for n in group if n in named):
            verdicts = []
            for holder, key in holders.get(inline, []):
                for parent in official.get(holder, []):
                    field = parent.model_fields.get(key)  # type: ignore[attr-defined]
                    if field is None:
                        continue
                    used = _classes_in(field.annotation)
                    verdicts.append(any(c.__name__ == candidate and _own_model(c) for c in used))
            if verdicts and all(verdicts):
                found[inline] = candidate
                break
    return found


def _classes_in(hint: Any) -> set[type]:
    out = {hint} if isinstance(hint, type) else set()
    for arg in typing.get_args(hint):
        out |= _classes_in(arg)
    return out


def _absent_through_table(schemas: Schemas) -> None:
    """`absent` fields of the spec components that the compat types table pairs with an
    official model under another name (`ResponseOutputText` is `OutputTextContent`).

    The table (`src/oxide_io/compat/_types_table.py`, generated from the models this
    supplement feeds) names, for each official model, the oxide class standing for it;
    where that class is a spec component, the fields the spec requires and the
    official model lets be absent are recorded, as `Schemas.model` does for the
    models named alike.
    """
    import importlib

    sys.path.insert(0, str(ROOT / "src"))
    from oxide_io.compat._types_table import MODULES

    for rel, entries in MODULES.items():
        for entry in entries.split():
            name, _, address = entry.partition("=")
            kind, _, target = address.partition(":")
            if kind != "t":
                continue
            component = target or name
            if component not in schemas.spec:
                continue
            module = importlib.import_module("openai.types" + (f".{rel}" if rel else ""))
            official = getattr(module, name, None)
            fields = getattr(official, "model_fields", None)
            if not isinstance(official, type) or not isinstance(fields, dict):
                continue
            required = schemas.spec_required(component)
            for key, f in fields.items():
                wire = f.alias or key
                if wire in required and not f.is_required():
                    schemas.absent.setdefault(component, []).append(wire)


def _paired_in_table(components: dict[str, str]) -> dict[int, str]:
    """id of an official model class -> the spec component the compat types table
    (`src/oxide_io/compat/_types_table.py`, as committed) pairs it with, where that
    component is the spec's own. `components`: oxide class name -> spec name."""
    sys.path.insert(0, str(ROOT / "src"))
    from oxide_io.compat._types_table import MODULES

    found: dict[int, str] = {}
    for rel, entries in MODULES.items():
        module = None
        for entry in entries.split():
            name, _, address = entry.partition("=")
            kind, _, target = address.partition(":")
            component = components.get(target or name) if kind == "t" else None
            if component is None:
                continue
            if module is None:
                module = importlib.import_module("openai.types" + (f".{rel}" if rel else ""))
            official = getattr(module, name, None)
            if isinstance(official, type) and hasattr(official, "model_fields"):
                found.setdefault(id(official), component)
    return found


def _literal_of(cls: Any, field: str) -> object:
    """The one value a model's `field` is typed as (`Literal["input_file"]`, also when
    it may be absent: `Optional[Literal["message"]]`), or None."""
    f = cls.model_fields.get(field)
    if f is None:
        return None
    hint = f.annotation
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        present = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = present[0] if len(present) == 1 else None
    if typing.get_origin(hint) is not typing.Literal:
        return None
    args = typing.get_args(hint)
    return args[0] if len(args) == 1 else None


def _schema_const(schemas: dict[str, Any], name: str, field: str) -> object:
    """The one value a spec component's property may take (`enum: [x]` or `const`, also
    beside `null`), or None."""
    schema = schemas[name]
    parts = [schema, *[m for m in schema.get("allOf", []) if "$ref" not in m]]
    for part in parts:
        prop = part.get("properties", {}).get(field)
        if isinstance(prop, dict):
            present = [m for m in prop.get("anyOf", ()) if m.get("type") != "null"]
            if len(present) == 1:
                prop = present[0]  # a value that may be null: the one it takes otherwise
            if "const" in prop:
                return prop["const"]
            enum = prop.get("enum")
            return enum[0] if isinstance(enum, list) and len(enum) == 1 else None
    return None


def _fixed_headers(call: dict[str, Any]) -> dict[str, str]:
    """The headers a method always sends, but the media types the client sets itself."""
    skip = ("accept", "content-type")
    return {k: v for k, v in call["headers"].items() if k.lower() not in skip}


def _ok(op: dict[str, Any]) -> dict[str, Any]:
    responses = op.get("responses", {})
    codes = [c for c in ("200", "201", "202") if c in responses]
    found: dict[str, Any] = responses[codes[0]] if codes else {}
    return found


def _header_param(key: str, arg: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": key, "in": "header", "x-sdk-param": arg, "style": "simple", "schema": schema}


def render_methods(names: list[str], version: str) -> str:
    head = textwrap.dedent(
        f"""\
        # The public method names of the official SDK (openai {version}), by walking
        # `openai.OpenAI()`'s resources. Written by `python tools/sdk_supplement.py`.
        """
    )
    return head + "".join(f"{n}\n" for n in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are out of date")
    parser.add_argument(
        "--generate", action="store_true", help="then run the generators and tools/unasync.py"
    )
    args = parser.parse_args(argv)
    import generate_models
    import generate_params
    import openai

    spec = generate_models.load_spec(generate_models.DEFAULT_SPEC, supplement=False)
    supplement, names = build(spec, openai.__version__)
    from supplement import merge as sdk_merge

    merged = sdk_merge(spec, {**supplement, "x-extend": {**supplement["x-extend"]}})
    supplement["x-extend"]["same-types"] = same_types(merged)
    wanted = {
        OUT: json.dumps(supplement, indent=1) + "\n",
        METHODS: render_methods(names, openai.__version__),
        PARAM_NAMES: generate_params.sdk_names(),
    }
    if args.check:
        stale = [
            str(p.relative_to(ROOT))
            for p, want in wanted.items()
            if not p.exists() or p.read_text(encoding="utf-8") != want
        ]
        if stale:
            print("out of date (run python tools/sdk_supplement.py):", *stale)
            return 1
        return 0
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    if args.generate:
        for script in GENERATORS:
            subprocess.run([sys.executable, str(ROOT / script)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
