"""From the spec's paths to one record per API operation: what a client method needs to call it.

Read from each operation: its path and query parameters, its request body (JSON
or multipart, the fields that are files), the model its response decodes to and,
where it streams, the model of each event; its pagination style, read from the
list operations' query parameters and response fields:

- "cursor": `after` is the last item's id (or the page's `last_id`), until `has_more` is false;
- "next": `after` is the page's `next` token, until `has_more` is false;
- "page": `page` is the page's `next_page` token (the usage reports);
- "list": one page holds every item (`GET /models`, vector store searches).

Models are named as the model generator emitted them ("module:Name").
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from naming import pascal
from params_ir import ParamsBuilder, refs, render
from schema_ir import REF_PREFIX, first_paragraph

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Content types whose body is handed back as bytes.
_BINARY_TYPES = (
    "application/octet-stream",
    "application/binary",
    "application/zip",
    "application/sdp",
    "audio/",
    "video/",
    "image/",
)

# Streamed operations whose spec gives no event-stream schema: the events they send.
STREAM_EVENTS = {
    "createCompletion": "CreateCompletionResponse",
    "createThreadAndRun": "AssistantStreamEvent",
    "createRun": "AssistantStreamEvent",
    "submitToolOuputsToRun": "AssistantStreamEvent",
}
# Operations returning a whole list in one page although they are not GETs with cursors.
LIST_PAGES = frozenset(
    {
        "createFineTuningCheckpointPermission",
        "activateOrganizationCertificates",
        "deactivateOrganizationCertificates",
        "activateProjectCertificates",
        "deactivateProjectCertificates",
        "searchVectorStore",
        "retrieveVectorStoreFileContent",
    }
)
# Operations whose body is a file although the spec declares JSON or nothing.
BINARY = frozenset({"downloadFile", "RetrieveContainerFileContent"})


@dataclass
class Param:
    name: str  # the Python name
    key: str  # the name on the wire
    type: str  # a Python type expression
    required: bool
    nullable: bool = False
    params: set[str] = field(default_factory=set)  # the param types it uses, "module:Name"
    # The type as `params_ir` builds it (without the None of `nullable`); None for a
    # file, which the params modules type as `object`.
    expr: Any = None


@dataclass
class Op:
    op_id: str
    method: str
    path: str
    summary: str
    path_params: list[str] = field(default_factory=list)
    query: list[Param] = field(default_factory=list)
    body: list[Param] = field(default_factory=list)
    body_kind: str | None = None  # "json" | "multipart"
    files: list[str] = field(default_factory=list)
    response: str | None = None  # "module:Name"
    stream_event: str | None = None
    page: str | None = None
    item: str | None = None  # "module:Name" of a page's items
    binary: bool = False
    accept: str | None = None  # the media types a binary response comes in, as an Accept value
    # The success answer has no body (the spec's 204, or a 2xx without content): the
    # method returns None.
    no_body: bool = False
    sdk_name: str | None = None  # the official SDK's dotted name, where the operation says it
    headers: dict[str, str] = field(default_factory=dict)  # sent with every call
    header_params: list[Param] = field(default_factory=list)  # arguments sent as headers
    stream_in_query: bool = False  # `stream` is a query parameter (a GET replaying a stream)
    always_streams: bool = False  # an event stream whatever the arguments (no `stream` one)
    deprecated: str | None = None  # why the operation is deprecated, when it is


def py_name(key: str) -> str:
    name = re.sub(r"\W", "_", key.removesuffix("[]"))
    return name + "_" if keyword.iskeyword(name) else name


class OperationReader:
    """Reads operations; `names` maps a spec schema to its generated "module:Name".

    With `params`, a parameter or body field holding objects is typed with the
    TypedDicts `params` builds for it; without, as `Mapping[str, object]`.
    """

    def __init__(
        self, spec: dict[str, Any], names: dict[str, str], params: ParamsBuilder | None = None
    ) -> None:
        self.spec = spec
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.names = names
        self.params = params

    def read(self) -> list[Op]:
        ops = []
        for path in sorted(self.spec["paths"]):
            item = self.spec["paths"][path]
            for method in HTTP_METHODS:
                if method in item:
                    ops.append(self._op(method.upper(), path, item[method]))
        return ops

    # -- schemas ----------------------------------------------------------------

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"][len(REF_PREFIX) :]]
        return schema

    def properties(self, schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """The properties of an object schema, allOf members merged, and the required ones."""
        schema = self.resolve(schema)
        props: dict[str, Any] = {}
        required: set[str] = set()
        for member in schema.get("allOf", []):
            sub_props, sub_required = self.properties(member)
            props.update(sub_props)
            required |= sub_required
        props.update(schema.get("properties", {}))
        required |= set(schema.get("required", []))
        return props, required

    def model_name(self, schema: dict[str, Any] | None) -> str | None:
        if not schema or "$ref" not in schema:
            return None
        return self.names.get(schema["$ref"][len(REF_PREFIX) :])

    def is_binary(self, schema: dict[str, Any]) -> bool:
        schema = self.resolve(schema)
        if schema.get("format") == "binary" or schema.get("contentMediaType"):
            return True
        # A field that takes a file or something else (`image` or a list of
        # images, `video` or a reference to one) is a file field too.
        if any(self.is_binary(v) for v in schema.get("anyOf") or schema.get("oneOf") or ()):
            return True
        items = schema.get("items")
        return isinstance(items, dict) and self.is_binary(items)

    def type_of(self, schema: dict[str, Any], depth: int = 0) -> tuple[str, bool]:
        """The Python type of a parameter's schema, and whether it admits null."""
        members, nullable = self._members(schema, depth)
        if "str" in members:
            members = [m for m in members if not m.startswith("Literal[")]
        literals = [m[len("Literal[") : -1] for m in members if m.startswith("Literal[")]
        others = [m for m in members if not m.startswith("Literal[")]
        if len(literals) > 1:
            others.insert(0, f"Literal[{', '.join(literals)}]")
        elif literals:
            others.insert(0, f"Literal[{literals[0]}]")
        if not others:
            return "object", nullable
        if "object" in others:
            return "object", nullable
        return " | ".join(others), nullable

    def param(
        self, name: str, key: str, schema: dict[str, Any], required: bool, context: tuple[str, str]
    ) -> Param:
        """One parameter; `context` is the name its inline objects start with, and their module."""
        if self.params is None or self.is_binary(schema):
            kind, nullable = self.type_of(schema)
            return Param(name, key, kind, required, nullable)
        prefix, module = context
        expr = self.params.type_of(schema, prefix + pascal(key), module)
        nullable = expr[0] == "union" and ("none",) in expr[1]
        if nullable:
            rest = tuple(m for m in expr[1] if m != ("none",))
            expr = rest[0] if len(rest) == 1 else ("union", rest)
        used = {f"{self.params.defs[n].module}:{n}" for n in refs(expr)}
        return Param(name, key, render(expr), required, nullable, used, expr)

    def _context(self, op_id: str, schema: dict[str, Any] | None, raw: Any) -> tuple[str, str]:
        """Inline objects are named after the body schema (else the operation) and go to
        its module (else the module of the operation's response)."""
        if schema and "$ref" in schema:
            spec_name = schema["$ref"][len(REF_PREFIX) :]
            return pascal(spec_name), self.names[spec_name].partition(":")[0]
        responses = raw.get("responses", {})
        success = [c for c in ("200", "201", "202", "204") if c in responses]
        ok = next((responses[c] for c in success if c != "204"), {})
        returned = ok.get("content", {}).get("application/json", {}).get("schema") or {}
        qualified = self.names.get(returned.get("$ref", "")[len(REF_PREFIX) :], "other:")
        return pascal(op_id), qualified.partition(":")[0]

    def _members(self, schema: dict[str, Any], depth: int) -> tuple[list[str], bool]:
        schema = self.resolve(schema)
        out: list[str] = []
        nullable = bool(schema.get("nullable"))

        def add(kind: str) -> None:
            if kind not in out:
                out.append(kind)

        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants and depth < 4:
            for variant in variants:
                sub, sub_null = self._members(variant, depth + 1)
                nullable |= sub_null
                for kind in sub:
                    add(kind)
            return out, nullable
        types = schema.get("type")
        if isinstance(types, list):
            nullable |= "null" in types
            types = [t for t in types if t != "null"]
            types = types[0] if len(types) == 1 else None
        if "const" in schema:
            add(f"Literal[{schema['const']!r}]")
        elif "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            nullable |= None in schema["enum"]
            if values and all(isinstance(v, str) for v in values):
                for value in values:
                    add(f"Literal[{value!r}]")
            else:
                add("object")
        elif types == "null":
            nullable = True
        elif types == "string":
            add("FileTypes" if self.is_binary(schema) else "str")
        elif types == "integer":
            add("int")
        elif types == "number":
            add("float")
        elif types == "boolean":
            add("bool")
        elif types == "array":
            item, _ = self.type_of(schema.get("items", {}), depth + 1)
            add(f"Sequence[{item}]")
        elif types == "object" or "properties" in schema or "allOf" in schema:
            add("Mapping[str, object]")
        else:
            add("object")
        return out, nullable

    # -- operations -------------------------------------------------------------

    def _op(self, method: str, path: str, raw: dict[str, Any]) -> Op:
        op_id = raw.get("operationId") or f"{method.lower()}{path}"
        summary = first_paragraph(raw.get("summary") or raw.get("description"), 300)
        op = Op(op_id=op_id, method=method, path=path, summary=summary)
        op.path_params = re.findall(r"\{(\w+)\}", path)
        op.sdk_name = raw.get("x-sdk-name")
        if raw.get("deprecated"):
            op.deprecated = "deprecated"  # the official SDK's word where it gives no reason
        op.headers = dict(raw.get("x-sdk-headers", {}))
        context = self._context(op_id, None, raw)
        for param in raw.get("parameters", []):
            param = self.resolve(param)
            if param.get("in") == "header" and "x-sdk-param" in param:
                # A header the SDK takes as an argument (`betas` is `openai-beta`).
                name, schema = param["x-sdk-param"], param.get("schema", {})
                op.header_params.append(self.param(name, param["name"], schema, False, context))
                continue
            if param.get("in") != "query":
                continue  # path parameters come from the template; other headers are not exposed
            key = param["name"].removesuffix("[]")
            schema = param.get("schema", {})
            required = bool(param.get("required"))
            op.query.append(self.param(py_name(param["name"]), key, schema, required, context))
        self._body(op, raw.get("requestBody"), raw)
        self._response(op, raw)
        return op

    def _body(self, op: Op, request_body: dict[str, Any] | None, raw: Any) -> None:
        if not request_body:
            return
        content = request_body.get("content", {})
        # Multipart wins where both are offered: it is the one that can carry files.
        for kind, media in (("multipart", "multipart/form-data"), ("json", "application/json")):
            if media in content:
                op.body_kind = kind
                schema = content[media].get("schema", {})
                break
        else:
            op.body_kind = "json"
            return
        props, required = self.properties(schema)
        context = self._context(op.op_id, schema, raw)
        for key, prop in props.items():
            if prop.get("readOnly"):
                continue
            op.body.append(self.param(py_name(key), key, prop, key in required, context))
            if op.body_kind == "multipart" and self.is_binary(prop):
                op.files.append(key)

    def _response(self, op: Op, raw: dict[str, Any]) -> None:
        responses = raw.get("responses", {})
        success = [c for c in ("200", "201", "202", "204") if c in responses]
        ok = next((responses[c] for c in success if c != "204"), {})
        content = ok.get("content", {})
        json_schema = content.get("application/json", {}).get("schema")
        op.response = self.model_name(json_schema)
        op.stream_in_query = any(p.key == "stream" for p in op.query)
        op.always_streams = bool(raw.get("x-sdk-stream"))
        streams = op.stream_in_query or any(p.key == "stream" for p in op.body)
        if op.always_streams:
            op.stream_event = self.model_name(content.get("text/event-stream", {}).get("schema"))
            return
        if streams:
            event = content.get("text/event-stream", {}).get("schema")
            name = self.model_name(event)
            if name is None and op.op_id in STREAM_EVENTS:
                name = self.names[STREAM_EVENTS[op.op_id]]
            op.stream_event = name
        binary = any(t.startswith(_BINARY_TYPES) for t in content)
        op.binary = op.op_id in BINARY or (binary and not streams)
        # An answer the spec gives no content to (or only a 204) carries nothing to return.
        op.no_body = (
            bool(success)
            and not content
            and not op.binary
            and not streams
            and all(c == "204" or not responses[c].get("content") for c in success)
        )
        if op.binary:
            op.response = None
            # Ask for what the spec says the body comes in: a server that negotiates
            # refuses `application/json` for audio or a video.
            offered = [t for t in content if t != "text/event-stream"]
            if binary and offered:
                op.accept = ", ".join(offered)
        if json_schema is not None:
            self._page(op, json_schema, raw.get("x-sdk-page"))

    def _page(self, op: Op, schema: dict[str, Any], sdk_page: str | None = None) -> None:
        if sdk_page == "none":
            return  # the official SDK returns this list as one object
        props, _ = self.properties(schema)
        data = props.get("data")
        if not data or self.resolve(data).get("type") != "array":
            return
        query = {p.key for p in op.query}
        if sdk_page is not None:
            op.page = sdk_page  # how the official SDK pages the list
        elif op.op_id in LIST_PAGES:
            op.page = "list"
        elif op.method != "GET":
            return
        elif "after" in query:
            op.page = "next" if "next" in props else "cursor"
        elif "page" in query and "next_page" in props:
            op.page = "page"
        elif not query and "has_more" not in props:
            op.page = "list"
        else:
            return
        items = self.resolve(data).get("items")
        op.item = self.model_name(items)
        if op.item is None and op.response is not None and _inline_object(items):
            # An item the spec describes inline: the models generator names it after
            # the list model and its field (`ChatCompletionMessageList.data` ->
            # `ChatCompletionMessageListData`).
            op.item = f"{op.response}Data"


def _inline_object(schema: object) -> bool:
    """Whether `schema` is an object described in place (not a `$ref` nor a union)."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return False
    return schema.get("type") == "object" or "allOf" in schema
