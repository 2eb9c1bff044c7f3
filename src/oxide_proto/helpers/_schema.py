"""Strict JSON schemas from Python types, and parsing the model's JSON back into them.

Structured outputs (`response_format` / Responses `text.format`) and strict
function tools take a JSON schema in the API's strict subset: every object has
`additionalProperties: false` and lists every property as required, optional
values are `anyOf` with null, and nested classes go in `$defs`. This module
derives that schema from attrs classes, dataclasses and `TypedDict`s, and from
pydantic models when the caller passes one (pydantic is never imported here:
its models are recognised by their methods). The schema is the one the official
SDK derives for the equivalent pydantic model, key for key — titles, `$defs`
names, descriptions from docstrings and field metadata, defaults — so switching
clients does not change what the model sees.

A field strict mode cannot express (a free-form `dict`, `Any`, a tuple) is a
`SchemaError` naming the field path. `parse_into()` turns the reply back into
the type, raising `OutputValidationError` naming the field that does not fit.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar

import attrs

from ..base._annotations import JSON_KIND_NAMES as _KIND_NAMES
from ..base._annotations import NONE_TYPE as _NONE
from ..base._annotations import is_union as _is_union
from ..base._errors import InvalidJSONError, OutputValidationError, SchemaError

__all__ = [
    "to_strict_json_schema",
    "strict_schema",
    "response_format_for",
    "text_format_for",
    "text_with_format",
    "function_tool",
    "responses_function_tool",
    "parse_into",
    "TypedTool",
]

_T = TypeVar("_T")
_JSON_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
# The docstring Python < 3.11 gives every Enum subclass that has none of its own.
_ENUM_DEFAULT_DOC = "An enumeration."


class TypedTool(dict[str, Any]):
    """A function tool definition (a plain dict, sent as is) that remembers its Python type.

    The stream accumulators and `parse_chat_completion` find it among the request's
    tools and parse the call's arguments into `type`.
    """

    type: Any

    def __init__(self, definition: Mapping[str, Any], type: Any) -> None:
        super().__init__(definition)
        self.type = type


def _is_pydantic_model(tp: object) -> bool:
    # Duck typing instead of `import pydantic`: only a caller who uses pydantic pays for it.
    return (
        isinstance(tp, type)
        and callable(getattr(tp, "model_json_schema", None))
        and (callable(getattr(tp, "model_validate_json", None)))
    )


def _is_attrs(tp: object) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__attrs_attrs__")


def _is_typeddict(tp: object) -> bool:
    # `typing_extensions.TypedDict` (which pydantic requires before Python 3.12) makes
    # classes `typing.is_typeddict` does not recognise before 3.13; both kinds carry these.
    return typing.is_typeddict(tp) or (
        isinstance(tp, type)
        and issubclass(tp, dict)
        and hasattr(tp, "__required_keys__")
        and hasattr(tp, "__total__")
    )


def _is_class_type(tp: object) -> bool:
    """Classes that become objects in `$defs`."""
    return isinstance(tp, type) and (
        _is_attrs(tp) or dataclasses.is_dataclass(tp) or _is_typeddict(tp)
    )


def _title(name: str) -> str:
    # How pydantic titles a field: "first_name" -> "First Name".
    return name.title().replace("_", " ")


def _class_doc(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}("):
        return None  # the signature dataclasses writes when the class has no docstring
    if isinstance(cls, enum.EnumMeta) and doc == _ENUM_DEFAULT_DOC:
        return None
    return inspect.cleandoc(doc)


def _strip_annotated(tp: object) -> tuple[object, str | None]:
    """The type inside `Annotated[...]` and the description its metadata gives, if any."""
    description = None
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp = args[0]
        for meta in args[1:]:
            if isinstance(meta, str):
                description = meta
            else:
                # pydantic's `Field(description=...)`, or anything shaped like it.
                text = getattr(meta, "description", None)
                if isinstance(text, str):
                    description = text
    return tp, description


class _Field:
    __slots__ = ("default", "description", "init_name", "name", "type")

    def __init__(
        self, name: str, tp: object, description: str | None, default: object, init_name: str
    ) -> None:
        self.name = name
        self.type = tp
        self.description = description
        self.default = default
        self.init_name = init_name


_MISSING: Any = object()


def _resolve_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # NameError, or a TypeError from an unevaluable annotation
        raise SchemaError(
            f"cannot resolve the annotations of {cls.__qualname__}: {exc}", path=cls.__name__
        ) from exc


# `Required[...]` / `NotRequired[...]` in a TypedDict (3.11+): every key is required anyway.
_REQUIRED_MARKERS = tuple(
    marker
    for marker in (getattr(typing, "Required", None), getattr(typing, "NotRequired", None))
    if marker is not None
)


def _fields(cls: type) -> list[_Field]:
    hints = _resolve_hints(cls)
    fields: list[_Field] = []
    if _is_attrs(cls):
        for attribute in cls.__attrs_attrs__:  # type: ignore[attr-defined]
            if not attribute.init:
                continue
            tp, description = _strip_annotated(hints.get(attribute.name, attribute.type))
            meta = attribute.metadata.get("description")
            default = attribute.default
            if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = _MISSING  # a factory's value is not a schema default
            init_name = getattr(attribute, "alias", None) or attribute.name.lstrip("_")
            fields.append(
                _Field(
                    attribute.name,
                    tp,
                    meta if isinstance(meta, str) else description,
                    default,
                    init_name,
                )
            )
    elif dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            tp, description = _strip_annotated(hints.get(field.name, field.type))
            meta = field.metadata.get("description")
            default = field.default if field.default is not dataclasses.MISSING else _MISSING
            fields.append(
                _Field(
                    field.name,
                    tp,
                    meta if isinstance(meta, str) else description,
                    default,
                    field.name,
                )
            )
    else:  # TypedDict
        for name, hint in hints.items():
            tp, description = _strip_annotated(hint)
            if typing.get_origin(tp) in _REQUIRED_MARKERS:
                tp, inner = _strip_annotated(typing.get_args(tp)[0])
                description = inner or description
            fields.append(_Field(name, tp, description, _MISSING, name))
    return fields


def _json_default(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    return value


class _Builder:
    """Builds the pydantic-shaped schema: `$ref`s with their siblings, `$defs` by class name."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, type] = {}

    def ref(self, cls: type, path: str) -> dict[str, Any]:
        name = cls.__name__
        owner = self.owners.get(name)
        if owner is None:
            self.owners[name] = cls
            self.defs[name] = {}  # placeholder: recursion stops here
            self.defs[name] = self.class_schema(cls, path)
        elif owner is not cls:
            raise SchemaError(
                f"two different classes are named {name!r}; $defs needs unique names", path=path
            )
        return {"$ref": f"#/$defs/{name}"}

    def class_schema(self, cls: type, path: str) -> dict[str, Any]:
        if isinstance(cls, enum.EnumMeta):
            values = [member.value for member in cls]  # type: ignore[var-annotated]
            schema: dict[str, Any] = {"enum": values, "title": cls.__name__}
            kinds = {type(v) for v in values}
            if len(kinds) == 1 and (kind := kinds.pop()) in _JSON_TYPES:
                schema["type"] = _JSON_TYPES[kind]
            doc = _class_doc(cls)
            if doc:
                schema["description"] = doc
            return schema
        properties: dict[str, Any] = {}
        for field in _fields(cls):
            properties[field.name] = self.field_schema(field, f"{path}.{field.name}")
        schema = {
            "properties": properties,
            "required": list(properties),
            "title": cls.__name__,
            "type": "object",
            "additionalProperties": False,
        }
        doc = _class_doc(cls)
        if doc:
            schema["description"] = doc
        return schema

    def field_schema(self, field: _Field, path: str) -> dict[str, Any]:
        schema = dict(self.schema(field.type, path))
        inner = field.type
        if _is_union(inner):
            members = [m for m in typing.get_args(inner) if m is not _NONE]
            if len(members) == 1:
                inner = _strip_annotated(members[0])[0]
        if not (_is_class_type(inner) or isinstance(inner, enum.EnumMeta)):
            schema["title"] = _title(field.name)
        if field.description is not None:
            schema["description"] = field.description
        if field.default is not _MISSING and field.default is not None:
            schema["default"] = _json_default(field.default)
        return schema

    def schema(self, tp: object, path: str) -> dict[str, Any]:
        tp, description = _strip_annotated(tp)
        schema = self._schema(tp, path)
        if description is not None:
            schema = {**schema, "description": description}
        return schema

    def _schema(self, tp: object, path: str) -> dict[str, Any]:
        if tp is _NONE or tp is None:
            return {"type": "null"}
        if tp in _JSON_TYPES:
            return {"type": _JSON_TYPES[tp]}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is Literal:
            kinds = {type(v) for v in args}
            kind = kinds.pop() if len(kinds) == 1 else None
            schema: dict[str, Any] = {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
            if kind in _JSON_TYPES:
                schema["type"] = _JSON_TYPES[kind]
            return schema
        if origin is list:
            if not args:
                raise SchemaError("a list needs its item type (list[X])", path=path)
            return {"items": self.schema(args[0], f"{path}[]"), "type": "array"}
        if _is_union(tp):
            return {"anyOf": [self.schema(member, path) for member in args]}
        if isinstance(tp, enum.EnumMeta) or _is_class_type(tp):
            return self.ref(tp, path)  # type: ignore[arg-type]
        if _is_pydantic_model(tp):
            raise SchemaError(
                "a pydantic model inside an attrs class, dataclass or TypedDict is not supported;"
                " use one kind of class throughout",
                path=path,
            )
        if origin is dict or tp is dict or origin is Mapping or tp is Mapping:
            what = "a free-form dict (additionalProperties)"
        elif tp is Any or tp is object:
            what = "Any (strict schemas need a type)"
        elif origin is tuple or tp is tuple:
            what = "a tuple (strict schemas have no prefixItems); use list[X] or a class"
        elif tp is list:
            what = "a list without its item type (use list[X])"
        else:
            what = f"the type {tp!r}"
        raise SchemaError(f"strict structured outputs cannot express {what}", path=path)


def _strict(schema: Any, root: dict[str, Any], path: str) -> dict[str, Any]:
    """Applies the API's strict-mode rules to a pydantic-shaped schema, in place.

    Objects get `additionalProperties: false` and every property required; a
    `$ref` with siblings (a description, a default) is inlined, since strict mode
    allows no siblings next to `$ref`; null defaults are dropped (a nullable
    field already defaults to null).
    """
    if not isinstance(schema, dict):
        raise SchemaError(f"expected a schema object, got {schema!r}", path=path)
    for key in ("$defs", "definitions"):
        defs = schema.get(key)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                _strict(sub, root, f"{path}.{key}.{name}")
    if schema.get("type") == "object":
        extra = schema.get("additionalProperties")
        if extra is None:
            schema["additionalProperties"] = False
        elif extra is not False:
            raise SchemaError(
                "strict structured outputs cannot express a free-form dict (additionalProperties)",
                path=path,
            )
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema["required"] = list(properties)
        for name, sub in properties.items():
            properties[name] = _strict(sub, root, f"{path}.{name}")
    items = schema.get("items")
    if isinstance(items, dict):
        schema["items"] = _strict(items, root, f"{path}[]")
    for key in ("anyOf", "allOf"):
        variants = schema.get(key)
        if isinstance(variants, list):
            schema[key] = [_strict(v, root, path) for v in variants]
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        del schema["allOf"]
        schema.update(all_of[0])
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    ref = schema.get("$ref")
    if isinstance(ref, str) and len(schema) > 1:
        target = _resolve_ref(root, ref, path)
        merged = {**target, **schema}
        del merged["$ref"]
        schema.clear()
        schema.update(merged)
        return _strict(schema, root, path)
    return schema


def _resolve_ref(root: dict[str, Any], ref: str, path: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise SchemaError(f"cannot resolve $ref {ref!r} (only local #/ refs)", path=path)
    node: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"$ref {ref!r} points nowhere", path=path)
        node = node[part]
    if not isinstance(node, dict):
        raise SchemaError(f"$ref {ref!r} is not a schema object", path=path)
    return node


def to_strict_json_schema(tp: type) -> dict[str, Any]:
    """The strict JSON schema of `tp`: an attrs class, dataclass, TypedDict or pydantic model.

    Raises `SchemaError` naming the field path for a type strict mode cannot express.
    """
    if _is_pydantic_model(tp):
        schema = tp.model_json_schema()  # type: ignore[attr-defined]
        return _strict(schema, schema, tp.__name__)
    if not _is_class_type(tp):
        raise SchemaError(
            f"{tp!r} is not an attrs class, dataclass, TypedDict or pydantic model;"
            " structured outputs need an object at the top",
            path="",
        )
    builder = _Builder()
    schema = builder.class_schema(tp, tp.__name__)
    if tp.__name__ in builder.owners:
        builder.defs[tp.__name__] = builder.class_schema(tp, tp.__name__)
    if builder.defs:
        schema = {"$defs": builder.defs, **schema}
    return _strict(schema, schema, tp.__name__)


def strict_schema(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A JSON schema some generator made (a pydantic `TypeAdapter`'s, say), made strict.

    `schema` is not changed; `name` is where a `SchemaError` says the trouble is.
    """
    copied = json.loads(json.dumps(schema))
    return _strict(copied, copied, name)


def _description(tp: type) -> str | None:
    doc = tp.__dict__.get("__doc__")
    if not doc or (dataclasses.is_dataclass(tp) and doc.startswith(f"{tp.__name__}(")):
        return None
    return str(doc)


def response_format_for(tp: type, *, name: str | None = None) -> dict[str, Any]:
    """The Chat Completions `response_format` asking for JSON of type `tp`."""
    return {
        "type": "json_schema",
        "json_schema": {
            "schema": to_strict_json_schema(tp),
            "name": name or tp.__name__,
            "strict": True,
        },
    }


def text_format_for(tp: type, *, name: str | None = None) -> dict[str, Any]:
    """The Responses API `text.format` asking for JSON of type `tp`."""
    return {
        "type": "json_schema",
        "schema": to_strict_json_schema(tp),
        "name": name or tp.__name__,
        "strict": True,
    }


def text_with_format(text: Mapping[str, Any] | None, text_format: type) -> dict[str, Any]:
    """The Responses `text` parameter with `format` asking for JSON of type `text_format`.

    Raises `TypeError` when `text` has a `format` of its own.
    """
    given = text or {}
    if "format" in given:
        raise TypeError("give either text_format or text={'format': ...}, not both")
    return {**given, "format": text_format_for(text_format)}


def output_parse_type(
    input: object,
    *,
    request_format: object,
    text_format: type | None,
    parse_as: type | None,
    parse_as_given: bool,
) -> type | None:
    """The type `responses.parse()` reads the output text as, or None to leave it unparsed.

    As the official SDK decides it: `parse_as` (when given; None: no parsing) wins
    over `text_format`, which only sets the schema the request asks for. When the
    input's last `configuration_update` item with a `text.format` changes the
    output's format, a plain-text format means no parsing (a `TypeError` with a
    `parse_as` given), and a schema other than the request's `request_format`
    needs `parse_as` (a `TypeError` otherwise: `text_format` would read the
    output with the wrong type).
    """
    if parse_as_given and parse_as is None:
        return None
    if isinstance(input, list):
        for item in reversed(input):
            if not isinstance(item, Mapping) or item.get("type") != "configuration_update":
                continue
            update = item.get("text")
            fmt = update.get("format") if isinstance(update, Mapping) else None
            if not isinstance(fmt, Mapping):
                continue
            if fmt.get("type") == "text":
                if parse_as_given:
                    raise TypeError(
                        "parse_as cannot read output that a configuration_update makes plain text"
                    )
                return None
            if text_format is not None and not parse_as_given and fmt != request_format:
                raise TypeError(
                    "a configuration_update changes the output schema: pass parse_as for it, "
                    "or parse_as=None to read the plain output_text"
                )
            break
    return parse_as if parse_as_given else text_format


def function_tool(
    tp: type, *, name: str | None = None, description: str | None = None
) -> TypedTool:
    """A strict Chat Completions function tool whose arguments are `tp`.

    The name defaults to the class name, the description to its docstring.
    """
    function: dict[str, Any] = {
        "name": name or tp.__name__,
        "strict": True,
        "parameters": to_strict_json_schema(tp),
    }
    text = description if description is not None else _description(tp)
    if text is not None:
        function["description"] = text
    return TypedTool({"type": "function", "function": function}, tp)


def responses_function_tool(
    tp: type, *, name: str | None = None, description: str | None = None
) -> TypedTool:
    """A strict Responses API function tool whose arguments are `tp`."""
    tool: dict[str, Any] = {
        "type": "function",
        "name": name or tp.__name__,
        "parameters": to_strict_json_schema(tp),
        "strict": True,
    }
    text = description if description is not None else _description(tp)
    if text is not None:
        tool["description"] = text
    return TypedTool(tool, tp)


def as_responses_tools(tools: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`tools` for the Responses API, with Chat Completions function tools converted.

    A tool of the Chat Completions shape (`{"type": "function", "function": {...}}`)
    made by `function_tool(T)` becomes the Responses shape (`name`, `description`,
    `parameters`, `strict` at the top, plus any other key of its `function`) and
    keeps `T`, so `parse()` still parses its calls' arguments into `T`. Any other
    tool passes as it is. Raises `TypeError` for a Chat Completions function tool
    that is a plain dict: it has no type to parse into, and the official SDK refuses
    it too.
    """
    converted: list[Mapping[str, Any]] = []
    for tool in tools:
        if tool.get("type") != "function" or "function" not in tool:
            converted.append(tool)
            continue
        if not isinstance(tool, TypedTool):
            raise TypeError(
                "a Chat Completions function tool ({'type': 'function', 'function': ...}) given to"
                " the Responses API must be made by function_tool() / pydantic_function_tool();"
                " otherwise give the Responses shape ({'type': 'function', 'name': ...,"
                " 'parameters': ...})"
            )
        function: Mapping[str, Any] = tool["function"]
        definition: dict[str, Any] = {
            "type": "function",
            "name": function["name"],
            # The official SDK sends an explicit null when there is no description.
            "description": function.get("description"),
            "parameters": function["parameters"],
            "strict": bool(function.get("strict")),
        }
        definition.update((k, v) for k, v in function.items() if k not in definition)
        converted.append(TypedTool(definition, tool.type))
    return converted


# --- parsing the reply back -------------------------------------------------------


def _invalid(value: object, expected: str, path: str) -> OutputValidationError:
    got = _KIND_NAMES.get(type(value), type(value).__name__)
    return OutputValidationError(f"expected {expected}, got {got}", path=path)


def _convert(tp: Any, value: Any, path: str) -> Any:
    tp, _ = _strip_annotated(tp)
    if tp is _NONE or tp is None:
        if value is not None:
            raise _invalid(value, "null", path)
        return None
    if tp is bool or tp is str:
        if type(value) is not tp:
            raise _invalid(value, _KIND_NAMES[tp], path)
        return value
    if tp is int:
        if type(value) is not int:
            raise _invalid(value, "an integer", path)
        return value
    if tp is float:
        if type(value) is not float and type(value) is not int:
            raise _invalid(value, "a number", path)
        return float(value)
    origin = typing.get_origin(tp)
    if origin is Literal:
        args = typing.get_args(tp)
        if not any(value == a and type(value) is type(a) for a in args):
            raise OutputValidationError(f"expected one of {list(args)!r}, got {value!r}", path=path)
        return value
    if origin is list:
        if type(value) is not list:
            raise _invalid(value, "an array", path)
        (item,) = typing.get_args(tp)
        return [_convert(item, x, f"{path}[{i}]") for i, x in enumerate(value)]
    if _is_union(tp):
        errors: list[OutputValidationError] = []
        for member in typing.get_args(tp):
            try:
                return _convert(member, value, path)
            except OutputValidationError as exc:
                errors.append(exc)
        deepest = max(errors, key=lambda e: len(e.path))
        raise deepest
    if isinstance(tp, enum.EnumMeta):
        try:
            return tp(value)
        except ValueError:
            allowed = [m.value for m in tp]  # type: ignore[var-annotated]
            raise OutputValidationError(
                f"expected one of {allowed!r} ({tp.__name__}), got {value!r}", path=path
            ) from None
    if _is_class_type(tp):
        if type(value) is not dict:
            raise _invalid(value, f"an object ({tp.__name__})", path)
        kwargs: dict[str, Any] = {}
        for field in _fields(tp):
            if field.name not in value:
                if field.default is not _MISSING or _is_typeddict(tp):
                    continue
                raise OutputValidationError("missing field", path=f"{path}.{field.name}")
            kwargs[field.init_name] = _convert(
                field.type, value[field.name], f"{path}.{field.name}"
            )
        if _is_typeddict(tp):
            return kwargs
        try:
            return tp(**kwargs)
        except (TypeError, ValueError) as exc:  # the class's own validators refused
            raise OutputValidationError(
                f"{tp.__name__} refused the value: {exc}", path=path
            ) from exc
    return value


def parse_into(tp: type[_T], text: str) -> _T:
    """Parses JSON text the model produced into `tp` (attrs, dataclass, TypedDict, pydantic).

    Raises `InvalidJSONError` for text that is not JSON and `OutputValidationError`
    naming the field whose value does not fit.
    """
    if _is_pydantic_model(tp):
        try:
            return tp.model_validate_json(text)  # type: ignore[attr-defined, no-any-return]
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise OutputValidationError(f"{tp.__name__}: {exc}", path=tp.__name__) from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJSONError(
            f"the reply is not JSON: {exc.msg} at position {exc.pos}", position=exc.pos
        ) from None
    result: _T = _convert(tp, value, tp.__name__)
    return result
