"""From the spec's request-side schemas to TypedDicts: the shapes a caller passes in.

Only schemas reached from an operation's query parameters or request body are
read. An object schema with properties becomes a `total=False` TypedDict whose
required keys are `Required[...]`; `allOf` members are merged; `oneOf`/`anyOf`
become a union alias; enums and consts become `Literal`; arrays of objects
become `Iterable[...]` (any iterable is sent as a JSON array, as the official SDK
accepts) and arrays of plain values `Sequence[...]`; `additionalProperties` maps
become `Mapping[str, ...]`. A referenced schema holding no object at all (a
string enum, `Metadata`) is written inline rather than named. Read-only
properties are response-side and left out.

Names: the official SDK's param type name where a spec schema corresponds to
one (`sdk_params.txt`, the names its `*_param.py` modules define), else the
spec name + `Param`; an inline object is named after where it appears. After
building, TypedDicts of one module that are structurally identical are emitted
once and the others become aliases of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import naming
from schema_ir import REF_PREFIX, Builder, TypeExpr, TypeWalk, first_paragraph, union

# Spec schemas whose SDK name the rules in `sdk_name` do not find.
SDK_NAMES = {
    "ChatCompletionRequestMessage": "ChatCompletionMessageParam",
    "ChatCompletionTool": "ChatCompletionFunctionToolParam",
    "ChatCompletionRequestMessageContentPartText": "ChatCompletionContentPartTextParam",
    "ChatCompletionRequestMessageContentPartImage": "ChatCompletionContentPartImageParam",
    "ChatCompletionRequestMessageContentPartAudio": "ChatCompletionContentPartInputAudioParam",
    "ChatCompletionRequestMessageContentPartFile": "ChatCompletionContentPartFileParam",
    "ChatCompletionRequestMessageContentPartRefusal": "ChatCompletionContentPartRefusalParam",
    "ChatCompletionRequestUserMessageContentPart": "ChatCompletionContentPartParam",
    "ChatCompletionMessageToolCall": "ChatCompletionMessageFunctionToolCallParam",
    "ChatCompletionMessageCustomToolCall": "ChatCompletionMessageCustomToolCallParam",
    "ChatCompletionNamedToolChoice": "ChatCompletionNamedToolChoiceParam",
    "ChatCompletionToolChoiceOption": "ChatCompletionToolChoiceOptionParam",
    "ChatCompletionStreamOptions": "ChatCompletionStreamOptionsParam",
    "PredictionContent": "ChatCompletionPredictionContentParam",
    "ResponseFormatJsonSchema": "ResponseFormatJSONSchema",
    "ResponseFormatJsonObject": "ResponseFormatJSONObject",
    "InputParam": "ResponseInputParam",
    "InputItem": "ResponseInputItemParam",
    "InputContent": "ResponseInputContentParam",
    "InputTextContent": "ResponseInputTextParam",
    "InputImageContent": "ResponseInputImageParam",
    "InputFileContent": "ResponseInputFileParam",
    "InputMessage": "ResponseInputItemMessageParam",
    "TextResponseFormatConfiguration": "ResponseFormatTextConfigParam",
    "TextResponseFormatJsonSchema": "ResponseFormatTextJSONSchemaConfigParam",
    "ResponseTextParam": "ResponseTextConfigParam",
    "FunctionToolCall": "ResponseFunctionToolCallParam",
    "FileSearchToolCall": "ResponseFileSearchToolCallParam",
    "WebSearchToolCall": "ResponseFunctionWebSearchParam",
    "ComputerToolCall": "ResponseComputerToolCallParam",
    "ReasoningItem": "ResponseReasoningItemParam",
    "OutputMessage": "ResponseOutputMessageParam",
    "CodeInterpreterToolCall": "ResponseCodeInterpreterToolCallParam",
}


@dataclass
class DictField:
    key: str
    type: TypeExpr
    required: bool


@dataclass
class TypedDictDef:
    name: str
    doc: str
    fields: list[DictField]
    module: str
    named: bool  # a component schema (or an SDK name), not an inline object


@dataclass
class ParamAlias:
    name: str
    doc: str
    type: TypeExpr
    module: str


ParamDef = TypedDictDef | ParamAlias


def read_sdk_names(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"}


def _fold(name: str) -> str:
    return name.lower()


class ParamsBuilder(TypeWalk):
    """Builds the param types a set of operations reaches; `type_of` is the entry point.

    `modules` maps a spec schema name to the module its model went to; the param
    type of a schema goes to the module of the same name.
    """

    def __init__(self, schemas: dict[str, Any], modules: dict[str, str], sdk: set[str]) -> None:
        self.schemas = schemas
        self.modules = modules
        self.shape = Builder(schemas)
        self.defs: dict[str, ParamDef] = {}
        self.of_schema: dict[str, str] = {}  # spec name -> param type name
        self.taken: set[str] = set(sdk)
        self.sdk_by_fold = {_fold(n): n for n in sdk}
        self.sdk_used: set[str] = set()
        self._simple: dict[str, bool] = {}
        self.nullable: set[str] = set()  # components typed as their lone object, or None
        self._module = ""  # where the inline objects met in the current walk go

    # -- names ----------------------------------------------------------------

    def sdk_name(self, spec_name: str) -> str | None:
        candidates = [SDK_NAMES.get(spec_name, "")]
        for base in (spec_name, naming.class_name(spec_name)):
            candidates += [base + "Param", base.replace("Request", "") + "Param", base]
            candidates.append("Response" + base + "Param")
        for candidate in candidates:
            found = self.sdk_by_fold.get(_fold(candidate))
            if found and found not in self.sdk_used:
                return found
        return None

    def _fresh(self, base: str) -> str:
        base = base if base.endswith("Param") else base + "Param"
        candidate, n = base, 2
        while candidate in self.taken:
            candidate, n = f"{base[: -len('Param')]}{n}Param", n + 1
        self.taken.add(candidate)
        return candidate

    def component(self, spec_name: str) -> str:
        """The param type of a component schema, built on first use."""
        if spec_name in self.of_schema:
            return self.of_schema[spec_name]
        name = self.sdk_name(spec_name)
        if name is not None:
            self.sdk_used.add(name)
        else:
            name = self._fresh(naming.pascal(spec_name))
        self.of_schema[spec_name] = name
        schema = self.schemas[spec_name]
        module = self.modules[spec_name]
        context = name.removesuffix("Param")
        obj = self.shape._object_schema(schema)
        doc = first_paragraph(schema.get("description") or schema.get("title"), 300)
        lone = _lone_variant(schema)
        if obj is None and lone is not None and "$ref" not in lone:
            # `anyOf: [{object}, null]`: the object takes the name, references add `| None`.
            obj = self.shape._object_schema(lone)
            if obj is not None:
                self.nullable.add(spec_name)
                doc = doc or first_paragraph(lone.get("description"), 300)
        if obj is not None:
            self._typed_dict(name, obj, doc, module, context, named=True)
        else:
            # Registered before its type is known, so a recursive reference finds it.
            alias = ParamAlias(name, doc, ("any",), module)
            self.defs[name] = alias
            outer, self._module = self._module, module
            try:
                alias.type = self._walk(schema, context)
            finally:
                self._module = outer
        return name

    # -- shapes ---------------------------------------------------------------

    def is_simple(self, schema: Any, seen: frozenset[str] = frozenset()) -> bool:
        """Whether a schema holds no object with properties anywhere (an enum, a map)."""
        if not isinstance(schema, dict):
            return True
        if "$ref" in schema:
            spec_name = schema["$ref"][len(REF_PREFIX) :]
            if spec_name in seen:
                return False
            if spec_name not in self._simple:
                self._simple[spec_name] = self.is_simple(
                    self.schemas[spec_name], seen | {spec_name}
                )
            return self._simple[spec_name]
        if schema.get("properties"):
            return False
        parts = [*schema.get("allOf", []), *schema.get("anyOf", []), *schema.get("oneOf", [])]
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                parts.append(schema[key])
        return all(self.is_simple(part, seen) for part in parts)

    def _typed_dict(
        self, name: str, obj: dict[str, Any], doc: str, module: str, context: str, named: bool
    ) -> None:
        fields: list[DictField] = []
        td = TypedDictDef(name, doc, fields, module, named)
        self.defs[name] = td
        required = set(obj["required"])
        for key, prop in obj["properties"].items():
            if isinstance(prop, dict) and prop.get("readOnly"):
                continue
            expr = self.type_of(prop, context + naming.pascal(key), module)
            fields.append(DictField(key, expr, key in required))

    def type_of(self, schema: Any, context: str, module: str) -> TypeExpr:
        """The param type of `schema`; inline objects it holds go to `module`."""
        outer, self._module = self._module, module
        try:
            return self.walk(schema, context)
        finally:
            self._module = outer

    def _reference(self, spec_name: str, schema: dict[str, Any], context: str) -> TypeExpr:
        if self.is_simple(schema):
            return self.walk(self.schemas[spec_name], context)
        ref: TypeExpr = ("ref", self.component(spec_name))
        return union([ref, ("none",)]) if spec_name in self.nullable else ref

    def _inline_object(self, schema: dict[str, Any], context: str) -> TypeExpr | None:
        obj = self.shape._object_schema(schema)
        return None if obj is None else self._inline(obj, schema, context, self._module)

    def _variant_context(self, variant: Any, context: str, index: int) -> str:
        return self.shape._variant_context(variant, context, index)

    def _inline(
        self, obj: dict[str, Any], schema: dict[str, Any], context: str, module: str
    ) -> TypeExpr:
        name = self._fresh(context)
        doc = first_paragraph(schema.get("description") or schema.get("title"), 300)
        self._typed_dict(name, obj, doc, module, name.removesuffix("Param"), named=False)
        return ("ref", name)

    # -- after building -------------------------------------------------------

    def merge_duplicates(self) -> int:
        """Aliases each TypedDict to an identical one of its module; returns how many."""
        merged = 0
        while True:
            groups: dict[tuple[Any, ...], list[TypedDictDef]] = {}
            for td in self.defs.values():
                if isinstance(td, TypedDictDef):
                    shape = tuple((f.key, f.type, f.required) for f in td.fields)
                    groups.setdefault((td.module, shape), []).append(td)
            renames: dict[str, str] = {}
            for group in groups.values():
                if len(group) < 2:
                    continue
                # The kept one: a named schema first, then the shortest name.
                group.sort(key=lambda t: (not t.named, len(t.name), t.name))
                for dup in group[1:]:
                    renames[dup.name] = group[0].name
            if not renames:
                return merged
            merged += len(renames)
            for old, new in renames.items():
                dup = self.defs[old]
                self.defs[old] = ParamAlias(old, dup.doc, ("ref", new), dup.module)
            for d in self.defs.values():
                if isinstance(d, TypedDictDef):
                    for f in d.fields:
                        f.type = _rename(f.type, renames)
                elif d.name not in renames:
                    d.type = _rename(d.type, renames)


def _lone_variant(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The one variant of `anyOf`/`oneOf: [X, null]`, if that is the schema's shape."""
    variants = schema.get("anyOf") or schema.get("oneOf")
    if not variants or "properties" in schema:
        return None
    real = [v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")]
    return real[0] if len(real) == 1 and len(variants) == 2 and isinstance(real[0], dict) else None


def _rename(expr: TypeExpr, renames: dict[str, str]) -> TypeExpr:
    kind = expr[0]
    if kind == "ref":
        return ("ref", renames.get(expr[1], expr[1]))
    if kind in ("list", "dict"):
        return (kind, _rename(expr[1], renames))
    if kind == "union":
        return ("union", tuple(_rename(m, renames) for m in expr[1]))
    return expr


def is_object_like(expr: TypeExpr) -> bool:
    """Whether a value of this type is (or may be) a dict: an array of it is `Iterable`."""
    kind = expr[0]
    if kind in ("ref", "dict", "any"):
        return True
    if kind == "list":
        return is_object_like(expr[1])
    if kind == "union":
        return any(is_object_like(m) for m in expr[1])
    return False


def render(expr: TypeExpr) -> str:
    """A type expression as Python source."""
    kind = expr[0]
    if kind in ("str", "int", "float", "bool"):
        return str(kind)
    if kind == "any":
        return "object"
    if kind == "none":
        return "None"
    if kind == "literal":
        return f"Literal[{', '.join(repr(v) for v in expr[1])}]"
    if kind == "ref":
        return str(expr[1])
    if kind == "list":
        outer = "Iterable" if is_object_like(expr[1]) else "Sequence"
        return f"{outer}[{render(expr[1])}]"
    if kind == "dict":
        return f"Mapping[str, {render(expr[1])}]"
    return " | ".join(render(m) for m in expr[1])


def refs(expr: TypeExpr) -> set[str]:
    kind = expr[0]
    if kind == "ref":
        return {expr[1]}
    if kind in ("list", "dict"):
        return refs(expr[1])
    if kind == "union":
        out: set[str] = set()
        for member in expr[1]:
            out |= refs(member)
        return out
    return set()


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
