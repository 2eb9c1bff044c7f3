"""From OpenAPI schemas to a small model of Python types: classes, aliases, type expressions.

Handled: `$ref`, `allOf` (properties merged), `anyOf`/`oneOf` (unions, flattened),
`nullable` and `type: [x, "null"]`, `enum` and `const` (as `Literal`), arrays,
maps (`additionalProperties`), and inline objects, which become classes named
after where they appear (`ChatCompletionChunk` + `choices` -> `ChatCompletionChunkChoice`).
Discriminators need no extra table: every variant of a tagged union declares its
tag as a one-value `Literal`, which the runtime dispatches on. Properties the spec
marks SDK-only (`x-oaiSupportedSDKs`) are not fields but `Computed` properties (see
`sdk_properties`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import naming
import sdk_properties

REF_PREFIX = "#/components/schemas/"

# A type expression: ("str",) ("int",) ("float",) ("bool",) ("any",) ("none",)
# ("literal", values) ("list", T) ("dict", T) ("union", (T, ...)) ("ref", Name)
TypeExpr = tuple[Any, ...]


@dataclass
class Field:
    name: str
    key: str
    type: TypeExpr
    required: bool
    doc: str


@dataclass
class Computed:
    """A read-only property calling `oxide_proto.api._sdk_properties.<function>(self)`."""

    name: str
    key: str
    function: str
    annotation: str
    doc: str


@dataclass
class ClassDef:
    name: str
    doc: str
    fields: list[Field]
    origin: str  # the component schema it was found in, for grouping
    computed: list[Computed] = field(default_factory=list)


@dataclass
class AliasDef:
    name: str
    doc: str
    type: TypeExpr
    origin: str


@dataclass
class Model:
    classes: dict[str, ClassDef] = field(default_factory=dict)
    aliases: dict[str, AliasDef] = field(default_factory=dict)
    # spec schema name -> generated name, and the reverse aliases to emit
    names: dict[str, str] = field(default_factory=dict)
    spec_aliases: dict[str, str] = field(default_factory=dict)


def first_paragraph(text: str | None, limit: int = 600) -> str:
    if not text:
        return ""
    para = text.strip().split("\n\n")[0]
    para = " ".join(para.split())
    if len(para) > limit:
        para = para[: limit - 3].rsplit(" ", 1)[0] + "..."
    return para


def refs_in(expr: TypeExpr) -> set[str]:
    kind = expr[0]
    if kind == "ref":
        return {expr[1]}
    if kind in ("list", "dict"):
        return refs_in(expr[1])
    if kind == "union":
        out: set[str] = set()
        for member in expr[1]:
            out |= refs_in(member)
        return out
    return set()


class TypeWalk:
    """Schema -> type expression, shared by the model and the param generators.

    Both read `$ref`, `const`, `enum`, `allOf`, `anyOf`/`oneOf`, type lists, scalars,
    arrays, inline objects and maps the same way; they differ in what a reference
    and an inline object become (a model class, a TypedDict), which the two hooks say.
    """

    def _reference(self, spec_name: str, schema: dict[str, Any], context: str) -> TypeExpr:
        raise NotImplementedError

    def _inline_object(self, schema: dict[str, Any], context: str) -> TypeExpr | None:
        """The type for an object schema with properties (None when it has none)."""
        raise NotImplementedError

    def _variant_context(self, variant: Any, context: str, index: int) -> str:
        raise NotImplementedError

    def walk(self, schema: Any, context: str) -> TypeExpr:
        if not isinstance(schema, dict):
            return ("any",)
        expr = self._walk(schema, context)
        if schema.get("nullable") is True:
            expr = union([expr, ("none",)])
        return expr

    def _walk(self, schema: dict[str, Any], context: str) -> TypeExpr:
        if "$ref" in schema:
            return self._reference(schema["$ref"][len(REF_PREFIX) :], schema, context)
        if "const" in schema:
            return ("literal", (schema["const"],))
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            expr: TypeExpr = ("literal", tuple(values)) if values else ("none",)
            if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
                return ("any",)
            return union([expr, ("none",)]) if len(values) < len(schema["enum"]) else expr
        if "allOf" in schema:
            inline = self._inline_object(schema, context)
            if inline is not None:
                return inline
            parts = schema["allOf"]
            return self.walk(parts[0], context) if len(parts) == 1 else ("any",)
        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants:
            real = [v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")]
            members = []
            for index, variant in enumerate(variants):
                # `anyOf: [X, null]` is just a nullable X: X keeps the plain name.
                name = context if len(real) == 1 else self._variant_context(variant, context, index)
                members.append(self.walk(variant, name))
            return union(members)
        kind = schema.get("type")
        if isinstance(kind, list):
            return union([self._walk({**schema, "type": k}, context) for k in kind])
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            return ("list", self.walk(items, naming.singular(context)) if items else ("any",))
        if kind == "object" or "properties" in schema or "additionalProperties" in schema:
            inline = self._inline_object(schema, context) if schema.get("properties") else None
            if inline is not None:
                return inline
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return ("dict", self.walk(extra, context + "Value"))
            return ("dict", ("any",))
        return ("any",)


_SCALARS: dict[str, TypeExpr] = {
    "null": ("none",),
    "string": ("str",),
    "integer": ("int",),
    "number": ("float",),
    "boolean": ("bool",),
}


class Builder(TypeWalk):
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.model = Model()
        taken: set[str] = set()
        for spec_name in sorted(schemas):
            name = naming.class_name(spec_name)
            if name in taken or (name != spec_name and name in schemas):
                name = naming.pascal(spec_name)
            taken.add(name)
            self.model.names[spec_name] = name
            if name != spec_name:
                self.model.spec_aliases[spec_name] = name
        self.taken = taken
        self.origin = ""

    def build(self) -> Model:
        for spec_name in sorted(self.schemas):
            self.origin = spec_name
            name = self.model.names[spec_name]
            schema = self.schemas[spec_name]
            obj = self._object_schema(schema)
            if obj is not None:
                self._class(name, obj, schema)
            else:
                expr = self.walk(schema, name)
                doc = first_paragraph(schema.get("description") or schema.get("title"))
                self.model.aliases[name] = AliasDef(name, doc, expr, spec_name)
        return self.model

    # -- helpers --------------------------------------------------------------

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"][len(REF_PREFIX) :]]
        return schema

    def _object_schema(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """The merged `{properties, required}` if `schema` is an object with properties."""
        if "allOf" in schema:
            parts = schema["allOf"]
            if len(parts) == 1 and "properties" not in schema:
                return None  # a plain reference with a description: an alias
            props: dict[str, Any] = {}
            required: list[str] = []
            for part in parts:
                merged = self._merged(self._resolve(part))
                if merged is None:
                    continue
                props.update(merged["properties"])
                required += merged["required"]
            props.update(schema.get("properties", {}))
            required += schema.get("required", [])
            return {"properties": props, "required": required} if props else None
        if "anyOf" in schema or "oneOf" in schema:
            return None
        if schema.get("properties"):
            return {"properties": schema["properties"], "required": schema.get("required", [])}
        return None

    def _merged(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        if "allOf" in schema:
            return self._object_schema(schema) or self._merged_parts(schema["allOf"])
        if "properties" in schema:
            return {"properties": schema["properties"], "required": schema.get("required", [])}
        return None

    def _merged_parts(self, parts: list[dict[str, Any]]) -> dict[str, Any] | None:
        props: dict[str, Any] = {}
        required: list[str] = []
        for part in parts:
            merged = self._merged(self._resolve(part))
            if merged:
                props.update(merged["properties"])
                required += merged["required"]
        return {"properties": props, "required": required} if props else None

    def _fresh(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.taken:
            candidate, n = f"{name}{n}", n + 1
        self.taken.add(candidate)
        return candidate

    def _class(self, name: str, obj: dict[str, Any], schema: dict[str, Any]) -> None:
        # `x-sdk-absent`: required by the spec, but the official SDK's model (and the
        # API, at times) lets them be absent.
        required = set(obj["required"]) - set(schema.get("x-sdk-absent", ()))
        fields: list[Field] = []
        computed: list[Computed] = []
        used: set[str] = set()
        for key in obj["properties"]:
            prop = obj["properties"][key]
            py = naming.field_name(key)
            while py in used:
                py += "_"
            used.add(py)
            if sdk_properties.is_sdk_only(prop):
                how = sdk_properties.computation(name, key)
                computed.append(Computed(py, key, how.function, how.annotation, how.doc))
                continue
            context = name + naming.pascal(key)
            expr = self.walk(prop, context)
            doc = first_paragraph(prop.get("description") if isinstance(prop, dict) else None)
            fields.append(Field(py, key, expr, key in required, doc))
        doc = first_paragraph(schema.get("description") or schema.get("title"))
        self.model.classes[name] = ClassDef(name, doc, fields, self.origin, computed)

    # -- types ----------------------------------------------------------------

    def _reference(self, spec_name: str, schema: dict[str, Any], context: str) -> TypeExpr:
        return ("ref", self.model.names[spec_name])

    def _inline_object(self, schema: dict[str, Any], context: str) -> TypeExpr | None:
        obj = self._object_schema(schema)
        if obj is None:
            return None
        name = self._fresh(context)
        self._class(name, obj, schema)
        return ("ref", name)

    def _variant_context(self, variant: Any, context: str, index: int) -> str:
        if not isinstance(variant, dict):
            return f"{context}{index}"
        if variant.get("title"):
            return context + naming.pascal(str(variant["title"]))
        tag = variant.get("properties", {}).get("type", {})
        values = tag.get("enum") or ([tag["const"]] if "const" in tag else None)
        if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
            return context + naming.pascal(values[0])
        return f"{context}Variant{index}"


def union(members: list[TypeExpr]) -> TypeExpr:
    flat: list[TypeExpr] = []
    for member in members:
        for leaf in member[1] if member[0] == "union" else (member,):
            if leaf not in flat:
                flat.append(leaf)
    if ("any",) in flat:
        return union_any(flat)
    # Literals of one kind merge: Literal["a"] | Literal["b"] -> Literal["a", "b"]
    literals = [m for m in flat if m[0] == "literal"]
    if len(literals) > 1:
        values: list[Any] = []
        for lit in literals:
            values += [v for v in lit[1] if v not in values]
        first = flat.index(literals[0])
        flat = [m for m in flat if m[0] != "literal"]
        flat.insert(first, ("literal", tuple(values)))
    # A bare `str` swallows string literals for the type checker; keep both for docs
    # but drop the literal so the annotation stays simple.
    if ("str",) in flat:
        flat = [
            m for m in flat if not (m[0] == "literal" and all(isinstance(v, str) for v in m[1]))
        ]
    if len(flat) == 1:
        return flat[0]
    return ("union", tuple(flat))


def union_any(flat: list[TypeExpr]) -> TypeExpr:
    # Any absorbs everything except None (kept so the annotation says "optional").
    if ("none",) in flat:
        return ("union", (("any",), ("none",)))
    return ("any",)


# --- one class where the official SDK uses one -------------------------------------


def _shape(model: Model, cls: ClassDef) -> tuple[Any, ...]:
    """What makes two classes interchangeable: field names, wire keys, types, required."""
    return (
        tuple((f.name, f.key, f.type, f.required) for f in cls.fields),
        tuple((c.name, c.function) for c in cls.computed),
    )


def _replace_ref(expr: TypeExpr, old: str, new: str) -> TypeExpr:
    kind = expr[0]
    if kind == "ref":
        return ("ref", new) if expr[1] == old else expr
    if kind in ("list", "dict"):
        return (kind, _replace_ref(expr[1], old, new))
    if kind == "union":
        return union([_replace_ref(m, old, new) for m in expr[1]])
    return expr


def use_same_types(model: Model, same: dict[str, str]) -> None:
    """Folds each inline class into the named class the official SDK uses in its place.

    `same` maps an inline class (named after where it appears) to a component class
    with the same fields; the supplement lists the pairs the SDK types as the
    component. The inline name stays importable as an alias. A pair whose shapes no
    longer match (a newer spec) stops the generator: regenerate the supplement.
    """
    for inline, named in sorted(same.items()):
        if inline not in model.classes or named not in model.classes:
            raise ValueError(f"same-types: {inline} or {named} is not a generated class")
        if _shape(model, model.classes[inline]) != _shape(model, model.classes[named]):
            raise ValueError(f"same-types: {inline} no longer has the fields of {named}")
        origin = model.classes.pop(inline).origin
        for cls in model.classes.values():
            for f in cls.fields:
                f.type = _replace_ref(f.type, inline, named)
        for alias in model.aliases.values():
            alias.type = _replace_ref(alias.type, inline, named)
        doc = f"The same type as `{named}`, which the API uses in this place too."
        model.aliases[inline] = AliasDef(inline, doc, ("ref", named), origin)


def same_shapes(model: Model) -> dict[str, list[str]]:
    """Each generated class with the classes of exactly its shape (field types compared
    as written: nested classes by name)."""
    by_shape: dict[tuple[Any, ...], list[str]] = {}
    for name in sorted(model.classes):
        by_shape.setdefault(_shape(model, model.classes[name]), []).append(name)
    return {n: group for group in by_shape.values() for n in group if len(group) > 1}
