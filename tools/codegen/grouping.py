"""Which generated module each type goes to, so importing one API area stays cheap.

A schema belongs to the API area (operation tag) whose operations reference it,
directly or through other schemas. A schema reached from several areas goes to
`shared`. Areas are tiered so imports never cycle: `shared` imports nothing else,
a core area (chat, responses, models, ...) imports only `shared`, and a consumer
area (evals, conversations, webhooks, ...: built on the core areas' types) may
import core areas too. Schemas no operation reaches land in `other`.
"""

from __future__ import annotations

import re
from typing import Any

from schema_ir import REF_PREFIX, Model, refs_in

SHARED = "shared"
OTHER = "other"

# Areas whose schemas reuse the core areas' types; a schema they share with a
# core area belongs to that core area instead of `shared`.
CONSUMERS = frozenset(
    {
        "assistants",
        "batch",
        "chatkit",
        "conversations",
        "evals",
        "fine_tuning",
        "realtime",
        "vector_stores",
        "webhooks",
        "projects",
        "usage",
        "audit_logs",
        "skills",
        "videos",
        "containers",
    }
)


def module_of_tag(tag: str) -> str:
    name = re.sub(r"[^0-9a-z]+", "_", tag.lower()).strip("_")
    return name or OTHER


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            out.add(ref[len(REF_PREFIX) :])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def reaching_areas(spec: dict[str, Any]) -> dict[str, set[str]]:
    """spec schema name -> the areas whose operations reach it."""
    schemas = spec["components"]["schemas"]
    direct: dict[str, set[str]] = {name: set() for name in schemas}
    for name, schema in schemas.items():
        _refs({k: v for k, v in schema.items() if k != "x-oaiMeta"}, direct[name])
    roots: list[tuple[str, set[str]]] = []
    for path in sorted(spec["paths"]):
        for _method, op in sorted(spec["paths"][path].items()):
            if not isinstance(op, dict) or "responses" not in op:
                continue
            found: set[str] = set()
            _refs({k: v for k, v in op.items() if k != "x-oaiMeta"}, found)
            if op.get("tags"):
                area = module_of_tag(op["tags"][0])
            else:  # untagged beta paths such as `/responses?beta=true`
                area = module_of_tag(path.strip("/").split("/")[0].split("?")[0])
            roots.append((area, found))
    for name in sorted(spec.get("webhooks", {})):
        found = set()
        _refs(spec["webhooks"][name], found)
        roots.append(("webhooks", found))
    reached: dict[str, set[str]] = {name: set() for name in schemas}
    _walk(roots, direct, reached)
    # Stream and socket events no operation names (Realtime's) carry their
    # documentation group; they and what they use belong to it.
    late = []
    for name in sorted(schemas):
        group = schemas[name].get("x-oaiMeta", {}).get("group")
        if not reached[name] and isinstance(group, str):
            late.append((module_of_tag(group), {name}))
    _walk(late, direct, reached)
    return reached


def _walk(
    roots: list[tuple[str, set[str]]], direct: dict[str, set[str]], reached: dict[str, set[str]]
) -> None:
    for area, found in roots:
        stack = sorted(found)
        while stack:
            name = stack.pop()
            if name not in reached or area in reached[name]:
                continue
            reached[name].add(area)
            stack.extend(sorted(direct[name]))


def sdk_areas(spec: dict[str, Any]) -> frozenset[str]:
    """Areas only the SDK supplement's operations (`x-sdk-name`) have: consumers too, as
    their models use the core areas' types (agents run responses)."""
    spec_areas: set[str] = set()
    sdk: set[str] = set()
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("tags"):
                (sdk if "x-sdk-name" in op else spec_areas).add(module_of_tag(op["tags"][0]))
    return frozenset(sdk - spec_areas)


def _home(areas: set[str], consumers: frozenset[str] = CONSUMERS) -> str:
    core = {a for a in areas if a not in consumers}
    if len(core) == 1:
        return core.pop()
    if core:
        return SHARED
    if len(areas) == 1:
        return next(iter(areas))
    return SHARED if areas else OTHER


def _tier(module: str, consumers: frozenset[str]) -> int:
    if module == SHARED:
        return 0
    if module == OTHER:
        return 3
    return 2 if module in consumers else 1


def _may_import(importer: str, imported: str, consumers: frozenset[str] = CONSUMERS) -> bool:
    if importer == imported or imported == SHARED:
        return True
    if importer == OTHER:
        return True
    return _tier(importer, consumers) == 2 and _tier(imported, consumers) == 1


def assign(spec: dict[str, Any], model: Model) -> dict[str, str]:
    """generated type name -> module name."""
    reached = reaching_areas(spec)
    consumers = CONSUMERS | sdk_areas(spec)
    placement: dict[str, str] = {}
    for name, cls in model.classes.items():
        placement[name] = _home(reached.get(cls.origin, set()), consumers)
    for name, alias in model.aliases.items():
        placement[name] = _home(reached.get(alias.origin, set()), consumers)
    deps = {name: refs_in_def(model, name) for name in placement}
    changed = True
    while changed:
        changed = False
        for name in sorted(placement):
            for dep in sorted(deps[name]):
                if not _may_import(placement[name], placement[dep], consumers):
                    placement[dep] = SHARED
                    changed = True
    return placement


def refs_in_def(model: Model, name: str) -> set[str]:
    if name in model.classes:
        out: set[str] = set()
        for f in model.classes[name].fields:
            out |= refs_in(f.type)
        return out
    return refs_in(model.aliases[name].type)
