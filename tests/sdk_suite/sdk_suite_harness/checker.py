"""`assert_matches_type` for oxide's objects, standing in for the official suite's helper.

The official tests call `assert_matches_type(OfficialType, value, path=[...])`.
Here `value` comes from an oxide client, so the check is:

1. the value is an instance of the oxide type that corresponds to `OfficialType`:
   the same class when `OfficialType` is already oxide's (`import openai` resolved
   to oxide by `oxide_io.compat.install()`); otherwise the oxide response type of
   the endpoints whose official response type is `OfficialType` (the two
   clients' endpoint tables paired by method and path), the class of the same name
   in `oxide_io.compat.types` under the official module path, or in
   `oxide_proto.types`; a page (`SyncCursorPage[X]`) is an oxide page whose items
   each match `X`; binary content is oxide's binary content class;
2. every field the official model declares can be read from the value (a missing
   attribute is a drop-in break even where the data is fine);
3. every field of the oxide model holds a value of its annotated type, recursively
   (literals must be one of their values, `None` only where the annotation allows
   it, union members one of the variants, nested models instances of their class).

Failures raise `TypeCheckError` (an AssertionError) naming the path and the
expected and found types; the summary groups failures by its `kind`.
"""

from __future__ import annotations

import functools
import importlib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Union

from .routes import official_routes, oxide_operations

__all__ = ["TypeCheckError", "assert_matches_type", "oxide_counterparts"]


class TypeCheckError(AssertionError):
    """A value that does not match; `kind` is "missing type", "wrong type", "missing field"."""

    def __init__(self, kind: str, path: list[str], message: str) -> None:
        super().__init__(f"[{kind}] at {'.'.join(path) or '<value>'}: {message}")
        self.kind = kind
        self.path = path


def _is_oxide(tp: Any) -> bool:
    return getattr(tp, "__module__", "").startswith(("oxide_proto", "oxide_io"))


def _unwrap(tp: Any) -> Any:
    while True:
        value = getattr(tp, "__value__", None)  # `type X = ...` aliases
        if value is not None and not isinstance(tp, type):
            tp = value
        elif typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _union_members(tp: Any) -> tuple[Any, ...]:
    tp = _unwrap(tp)
    if typing.get_origin(tp) in (Union, types.UnionType):
        return tuple(m for arg in typing.get_args(tp) for m in _union_members(arg))
    return (tp,)


def _list_item(tp: Any) -> Any:
    """The item type of a list wrapper model's `data` field (oxide's page answers)."""
    hints = _hints(tp) if isinstance(tp, type) else {}
    data = _unwrap(hints.get("data", Any))
    for member in _union_members(data):
        if typing.get_origin(member) is list:
            return typing.get_args(member)[0]
    return None


@functools.cache
def _pairs() -> dict[int, tuple[Any, set[Any]]]:
    """id(official type) -> (official type, oxide types of the endpoints answering it)."""
    from oxide_proto.api._operation import resolve_type

    table: dict[int, tuple[Any, set[Any]]] = {}
    ours = oxide_operations()
    for key, route in official_routes().items():
        operation = ours.get(key)
        if operation is None or operation.response is None:
            continue
        try:
            response = resolve_type(operation.response)
        except (ImportError, AttributeError):
            continue
        found = _list_item(response) if route.page is not None else response
        if found is None:
            continue
        entry = table.setdefault(id(route.cast_to), (route.cast_to, set()))
        entry[1].update(_union_members(found))
    return table


def oxide_counterparts(official: Any) -> tuple[Any, ...]:
    """The oxide types that stand for an official type (empty when oxide has none)."""
    if _is_oxide(official):
        return _union_members(official)
    found: list[Any] = []
    paired = _pairs().get(id(official))
    if paired is not None:
        found.extend(paired[1])
    name = getattr(official, "__name__", None)
    module = getattr(official, "__module__", "")
    if name:
        if module.startswith("openai.types"):
            # openai.types.beta.assistant -> oxide_io.compat.types.beta
            package = module.rsplit(".", 1)[0].removeprefix("openai.types")
            try:
                compat = importlib.import_module("oxide_io.compat.types" + package)
                if hasattr(compat, name):
                    found.append(getattr(compat, name))
            except ImportError:
                pass
        oxide_types = importlib.import_module("oxide_proto.types")
        if name in dir(oxide_types):
            found.append(getattr(oxide_types, name))
    if not found:
        # An official union alias (cast_to=cast(Any, Automation)) pairs by identity
        # above; its members, one by one, otherwise.
        members = _union_members(official)
        if len(members) > 1:
            for member in members:
                found.extend(oxide_counterparts(member))
    return tuple(dict.fromkeys(found))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A model's field annotations, each evaluated in the module that declares it.

    Only the fields: oxide's modules import some names for type checkers only, which
    the annotations of other class attributes may use.
    """
    from oxide_proto.api._model import model_fields

    fields = set(model_fields(cls))
    hints: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        namespace = vars(importlib.import_module(base.__module__))
        # The class's own annotations, not inherited ones (what inspect.get_annotations
        # gives for a class).
        own: dict[str, Any] = base.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if name in fields:
                hints[name] = (
                    eval(annotation, namespace) if isinstance(annotation, str) else annotation
                )
    return hints


def _oxide_fields(cls: type) -> dict[str, Any]:
    from oxide_proto.api._model import model_fields

    hints = _hints(cls)
    return {name: hints.get(name, Any) for name in model_fields(cls)}


def _describe(value: object) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__} {value!r:.120}"


def _check_oxide(tp: Any, value: object, path: list[str]) -> None:
    """`value` against an oxide annotation."""
    from oxide_proto.api._model import BaseModel

    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any or tp is object:
        return
    if tp is None or tp is type(None):
        if value is not None:
            raise TypeCheckError("wrong type", path, f"expected None, got {_describe(value)}")
        return
    if origin in (Union, types.UnionType):
        errors: list[str] = []
        for member in args:
            try:
                _check_oxide(member, value, path)
                return
            except TypeCheckError as exc:
                errors.append(str(exc))
        raise TypeCheckError(
            "wrong type", path, f"matches no variant of {tp}: " + " | ".join(errors)[:600]
        )
    if origin is Literal:
        if value not in args or type(value) is not type(args[args.index(value)]):
            raise TypeCheckError("wrong type", path, f"expected one of {args}, got {value!r}")
        return
    if origin is list or tp is list:
        if not isinstance(value, list):
            raise TypeCheckError("wrong type", path, f"expected a list, got {_describe(value)}")
        for index, item in enumerate(value):
            _check_oxide(args[0] if args else Any, item, [*path, str(index)])
        return
    if origin is dict or tp is dict or origin is Mapping:
        if not isinstance(value, dict):
            raise TypeCheckError("wrong type", path, f"expected a dict, got {_describe(value)}")
        for key, item in value.items():
            _check_oxide(args[1] if args else Any, item, [*path, str(key)])
        return
    if tp is float:
        # A JSON number: an integer is a valid value of a float annotation (PEP 484).
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeCheckError("wrong type", path, f"expected float, got {_describe(value)}")
        return
    if tp in (str, int, bool, bytes):
        if type(value) is not tp and not (tp is int and type(value) is int):
            raise TypeCheckError(
                "wrong type", path, f"expected {tp.__name__}, got {_describe(value)}"
            )
        return
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if not isinstance(value, tp):
            raise TypeCheckError(
                "wrong type",
                path,
                f"expected {tp.__module__}.{tp.__qualname__}, got {_describe(value)}",
            )
        for name, annotation in _oxide_fields(type(value)).items():
            _check_oxide(annotation, getattr(value, name), [*path, name])
        return
    if isinstance(tp, type):
        if not isinstance(value, tp):
            raise TypeCheckError(
                "wrong type", path, f"expected {tp.__qualname__}, got {_describe(value)}"
            )
        return
    raise TypeCheckError("wrong type", path, f"annotation {tp!r} is not one the checker knows")


def _official_fields(official: type) -> Iterable[str]:
    fields = getattr(official, "model_fields", None)
    return list(fields) if isinstance(fields, dict) else []


def _page_parts(official: Any) -> tuple[str, Any] | None:
    """("Sync"|"Async", item type) for an official page type such as SyncCursorPage[X]."""
    metadata = getattr(official, "__pydantic_generic_metadata__", None)
    if not metadata or not metadata.get("origin") or not metadata.get("args"):
        return None
    origin = metadata["origin"]
    if not origin.__module__.startswith(("openai.pagination", "openai._base_client")):
        return None
    side = "Async" if origin.__name__.startswith("Async") else "Sync"
    return side, metadata["args"][0]


def _check_model(official: Any, value: object, path: list[str]) -> None:
    counterparts = oxide_counterparts(official)
    if not counterparts:
        raise TypeCheckError(
            "missing type",
            path,
            f"oxide has no type for {getattr(official, '__module__', '')}."
            f"{getattr(official, '__qualname__', official)!s}",
        )
    matched = [tp for tp in counterparts if isinstance(tp, type) and isinstance(value, tp)]
    if not matched:
        names = ", ".join(f"{tp.__module__}.{tp.__qualname__}" for tp in counterparts)
        raise TypeCheckError(
            "wrong type",
            path,
            f"expected an instance of {names} (for {official.__qualname__}), "
            f"got {_describe(value)}",
        )
    for name in _official_fields(official) if isinstance(official, type) else ():
        try:
            getattr(value, name)
        except AttributeError:
            raise TypeCheckError(
                "missing field",
                [*path, name],
                f"{type(value).__qualname__} has no attribute {name!r} "
                f"(a field of {official.__qualname__})",
            ) from None
    _check_oxide(type(value), value, path)


def assert_matches_type(
    type_: Any, value: object, *, path: list[str], allow_none: bool = False
) -> None:
    """Asserts that oxide's `value` is what the official `type_` stands for."""
    if allow_none and value is None:
        return
    origin = typing.get_origin(type_)
    if isinstance(origin, type) and _is_oxide(origin) and hasattr(origin, "data"):
        # An oxide page class parametrized by its item type (`openai.pagination`
        # resolved to oxide): the same class, and every item matching.
        if not isinstance(value, origin):
            raise TypeCheckError(
                "wrong type", path, f"expected {origin.__qualname__}, got {_describe(value)}"
            )
        for index, entry in enumerate(value.data):  # type: ignore[attr-defined]
            assert_matches_type(typing.get_args(type_)[0], entry, path=[*path, "data", str(index)])
        return
    if _is_oxide(type_) and not isinstance(type_, type):
        _check_oxide(type_, value, path)
        return
    page = _page_parts(type_)
    if page is not None:
        side, item = page
        import oxide_io

        page_class = getattr(oxide_io, f"{side}Page")
        if not isinstance(value, page_class):
            raise TypeCheckError(
                "wrong type", path, f"expected an oxide_io.{side}Page, got {_describe(value)}"
            )
        for index, entry in enumerate(value.data):
            assert_matches_type(item, entry, path=[*path, "data", str(index)])
        return
    tp = _unwrap(type_)
    if isinstance(tp, type) and tp.__name__ == "HttpxBinaryResponseContent":
        from oxide_io._binary_content import BinaryContent

        if not isinstance(value, BinaryContent):
            raise TypeCheckError(
                "wrong type", path, f"expected oxide binary content, got {_describe(value)}"
            )
        return
    import pydantic

    members = _union_members(tp)
    is_model = [isinstance(m, type) and issubclass(m, pydantic.BaseModel) for m in members]
    if any(is_model) and not _is_oxide(tp):
        if value is None and type(None) in members:
            return
        if len(members) == 1:
            _check_model(tp, value, path)
            return
        if oxide_counterparts(type_):
            _check_model(type_, value, path)
            return
        errors: list[str] = []
        for member in members:
            try:
                assert_matches_type(member, value, path=path)
                return
            except TypeCheckError as exc:
                errors.append(str(exc))
        raise TypeCheckError("wrong type", path, "matches no variant: " + " | ".join(errors))
    if _is_oxide(tp) and isinstance(tp, type):
        _check_model(tp, value, path)
        return
    # Scalars and containers of the official annotation: the same rules as oxide's,
    # except that a list of official models maps each item to its oxide type.
    origin = typing.get_origin(tp)
    holds_models = any(
        isinstance(m, type) and issubclass(m, pydantic.BaseModel)
        for arg in typing.get_args(tp)
        for m in _union_members(arg)
    )
    if origin is list and holds_models:
        if not isinstance(value, list):
            raise TypeCheckError("wrong type", path, f"expected a list, got {_describe(value)}")
        for index, entry in enumerate(value):
            assert_matches_type(typing.get_args(tp)[0], entry, path=[*path, str(index)])
        return
    _check_oxide(tp, value, path)
