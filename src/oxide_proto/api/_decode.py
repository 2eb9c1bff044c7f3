"""Decoding parsed JSON into the typed models, fast and forward compatible.

One decoder function per type, built from the class annotations on first use and
cached. A model's decoder is compiled source (like cattrs' generated structuring
functions) with the type checks inlined, because decoding a stream chunk is on
the per-event hot path. The rules are the API's, not a validator's:

- keys the class does not declare are kept (see `BaseModel`), never an error;
- an enum (`Literal[...]`) accepts any string: new values pass through;
- a missing field, required or not, decodes to None, as the official SDK tolerates;
- a discriminated union (variants told apart by a constant `type`/`object` key)
  decodes an unknown tag to `UnknownModel`;
- a value of the wrong JSON kind (an object where a string belongs, a string where
  a list belongs) raises `APIResponseValidationError` whose `path` names it,
  e.g. `choices[0].message.content`;
- but a field that holds free-form JSON (`dict[str, Any]`: a JSON schema, metadata
  of the caller's) keeps a string as it came: some answers carry that object
  serialized, and the official SDK, which validates only when asked to, hands it
  over as is. Nothing of the data is lost, and strict mode still refuses it.

`strict=True` (a client's `_strict_response_validation`) adds a second pass after
decoding, off the default path: a required field that is missing or null where
the type has no None, an enum value outside its `Literal`, and a union value that
fits none of its variants raise `APIResponseValidationError` too.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar, Union, overload

from ..base._annotations import JSON_KIND_NAMES as _KIND_NAMES
from ..base._annotations import NONE_TYPE as _NONE
from ..base._annotations import is_union as _is_union
from ..base._errors import APIResponseValidationError
from ..base._record import source_function
from ..base._types import ResponseInfo
from ._model import BaseModel, UnknownModel, model_fields

__all__ = ["decode"]

_T = TypeVar("_T")
Decoder = Callable[[Any], Any]


class _Invalid(Exception):
    """Raised inside decoders; `path` grows outward as the error unwinds."""

    def __init__(self, value: object, expected: str) -> None:
        super().__init__(expected)
        self.value = value
        self.expected = expected
        self.path: list[str] = []

    def describe(self) -> str:
        if self.value is _MISSING:
            return f"expected {self.expected}, got nothing (a required field is missing)"
        got = "null" if self.value is None else _KIND_NAMES.get(type(self.value), "a value")
        return f"expected {self.expected}, got {got}"


# Stands for the value of a field that is absent (strict mode's error).
_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()

_DECODERS: dict[Any, Decoder] = {}
# id(type) -> (type, decoder); holding the type keeps its id from being reused.
_BY_ID: dict[int, tuple[Any, Decoder]] = {}


def _identity(value: Any) -> Any:
    return value


def _scalar(kind: type, expected: str) -> Decoder:
    def check(value: Any) -> Any:
        if value.__class__ is kind:
            return value
        raise _Invalid(value, expected)

    return check


def _number(value: Any) -> Any:
    if value.__class__ is float or value.__class__ is int:
        return value
    raise _Invalid(value, "a number")


_SCALARS: dict[Any, Decoder] = {
    str: _scalar(str, "a string"),
    int: _scalar(int, "an integer"),
    bool: _scalar(bool, "a boolean"),
    float: _number,
    Any: _identity,
    object: _identity,
}


def _list_of(item: Decoder) -> Decoder:
    def decode_list(value: Any) -> Any:
        if value.__class__ is not list:
            raise _Invalid(value, "an array")
        try:
            return [item(x) for x in value]
        except _Invalid:
            # Rerun item by item only on failure, to name the index.
            for index, x in enumerate(value):
                try:
                    item(x)
                except _Invalid as exc:
                    exc.path.append(f"[{index}]")
                    raise
            raise

    return decode_list


def _dict_of(item: Decoder) -> Decoder:
    def decode_dict(value: Any) -> Any:
        if value.__class__ is not dict:
            raise _Invalid(value, "an object")
        if item is _identity:
            return value
        out = {}
        for key, x in value.items():
            try:
                out[key] = item(x)
            except _Invalid as exc:
                exc.path.append(f"[{key!r}]")
                raise
        return out

    return decode_dict


def _is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel) and tp is not BaseModel


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type[BaseModel]) -> dict[str, Any]:
    """The evaluated field annotations of a model (its module's names only)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = {}
        fields = set(model_fields(cls))
        # Bases first: a subclass's annotations (and module) win for the fields it redeclares.
        for base in reversed(cls.__mro__):
            if base is BaseModel or not issubclass(base, BaseModel):
                continue
            namespace = vars(sys.modules[base.__module__])
            # A class's own annotations (what inspect.get_annotations returns for a
            # class, without importing inspect on the way to `import oxide_io`).
            own = base.__dict__.get("__annotations__", {})  # noqa: RUF063
            for name, annotation in own.items():
                if name not in fields:
                    continue
                if isinstance(annotation, str):
                    annotation = eval(annotation, namespace)
                hints[name] = annotation
        _HINTS[cls] = hints
    return hints


def _json_key(cls: type[BaseModel], name: str) -> str:
    return cls._json_names.get(name, name)


def _literal_tags(annotation: object) -> tuple[object, ...] | None:
    """The values of a `Literal[...]` annotation (possibly `| None`), else None."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Literal:
        return args
    if _is_union(annotation):
        literals = [a for a in args if typing.get_origin(a) is Literal]
        if len(literals) == 1 and all(a is _NONE or a in literals for a in args):
            return typing.get_args(literals[0])
    return None


def _model_decoder(cls: type[BaseModel]) -> Decoder:
    hints = _hints(cls)
    namespace: dict[str, Any] = {
        "_Invalid": _Invalid,
        "_new": object.__new__,
        "cls": cls,
    }
    body: list[str] = []
    for name in model_fields(cls):
        key = _json_key(cls, name)
        tp = _strip_none(hints[name])
        body.append(f"        k = {key!r}")
        body.append(f"        v = d.get({key!r})")
        check = _inline_check(tp)
        if check is not None:
            if check:
                body.append(f"        if v is not None and {check}:")
                body.append(f"            raise _Invalid(v, {_expected(tp)!r})")
        else:
            fn = f"f_{len(namespace)}"
            _bind_lazy(tp, namespace, fn)
            body.append("        if v is not None:")
            body.append(f"            v = {fn}(v)")
        body.append(f"        o.{name} = v")
    source = "\n".join(
        [
            "def decode(d):",
            "    if d.__class__ is not dict:",
            "        raise _Invalid(d, 'an object')",
            "    o = _new(cls)",
            "    o._data = d",
            "    k = ''",
            "    try:",
            *(body or ["        pass"]),
            "    except _Invalid as e:",
            "        e.path.append('.' + k)",
            "        raise",
            "    return o",
        ]
    )
    decoder: Decoder = source_function(
        source, "decode", f"<oxide decoder {cls.__qualname__}>", namespace
    )
    return decoder


def _strip_none(tp: object) -> object:
    if _is_union(tp):
        args = [a for a in typing.get_args(tp) if a is not _NONE]
        if len(args) == 1:
            return args[0]
        return Union[tuple(args)]  # noqa: UP007 - built at runtime
    return tp


def _literal_kind(tp: object) -> type | None:
    values = typing.get_args(tp)
    kinds = {type(v) for v in values}
    return kinds.pop() if len(kinds) == 1 else None


def _free_form(tp: object) -> bool:
    """Whether `tp` is a JSON object of anything (`dict`, `dict[str, Any]`)."""
    if tp is dict:
        return True
    args = typing.get_args(tp)
    return typing.get_origin(tp) is dict and len(args) == 2 and args[1] in (Any, object)


def _inline_check(tp: object) -> str | None:
    """A condition that is true for a bad non-None value; "" for no check; None: call."""
    if tp is Any or tp is object:
        return ""
    if _free_form(tp):
        # A field of free-form JSON keeps a string (the object serialized) as it came.
        return "v.__class__ is not dict and v.__class__ is not str"
    if typing.get_origin(tp) is Literal:
        tp = _literal_kind(tp)
    if tp is str or tp is int or tp is bool:
        return f"v.__class__ is not {tp.__name__}"
    if tp is float:
        return "v.__class__ is not float and v.__class__ is not int"
    return None


def _expected(tp: object) -> str:
    if _free_form(tp):
        return "an object"
    if typing.get_origin(tp) is Literal:
        tp = _literal_kind(tp)
    if tp is float:
        return "a number"
    return _KIND_NAMES.get(tp, "a value") if isinstance(tp, type) else "a value"


def _bind_lazy(tp: object, namespace: dict[str, Any], name: str) -> None:
    """Puts a decoder for `tp` at `namespace[name]`, built on first call.

    Building on first call lets recursive types terminate; rebinding the name
    to the real decoder then removes the indirection from the hot path.
    """
    cached = _DECODERS.get(tp)
    if cached is not None:
        namespace[name] = cached
        return

    def first_call(value: Any) -> Any:
        real = _decoder(tp)
        namespace[name] = real
        return real(value)

    namespace[name] = first_call


def _decoder(tp: Any) -> Decoder:
    cached = _DECODERS.get(tp)
    if cached is not None:
        return cached
    decoder = _build(tp)
    _DECODERS[tp] = decoder
    return decoder


def _build(tp: Any) -> Decoder:
    if tp in _SCALARS:
        return _SCALARS[tp]
    if tp is None or tp is _NONE:
        return _identity
    if isinstance(tp, typing.ForwardRef):
        raise TypeError(f"unresolved forward reference {tp!r}")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        kind = _literal_kind(tp)
        return _SCALARS.get(kind, _identity)
    if origin is typing.Annotated:
        return _decoder(args[0])
    if origin is list:
        return _list_of(_decoder(args[0]) if args else _identity)
    if origin is dict:
        return _dict_of(_decoder(args[1]) if args else _identity)
    if tp is list:
        return _list_of(_identity)
    if tp is dict:
        return _dict_of(_identity)
    if _is_union(tp):
        return _union_decoder(tp)
    if _is_model(tp):
        return _model_decoder(tp)
    raise TypeError(f"no decoder for {tp!r}")


def _flatten(tp: object) -> list[object]:
    if _is_union(tp):
        return [leaf for arg in typing.get_args(tp) for leaf in _flatten(arg)]
    if typing.get_origin(tp) is typing.Annotated:
        return _flatten(typing.get_args(tp)[0])
    return [tp]


def _json_kind(tp: object) -> type | None:
    if typing.get_origin(tp) is Literal:
        tp = _literal_kind(tp)
    if tp in (str, int, float, bool):
        return tp
    origin = typing.get_origin(tp)
    if origin is list or tp is list:
        return list
    if origin is dict or tp is dict or _is_model(tp):
        return dict
    return None


def _discriminator(models: list[type[BaseModel]]) -> tuple[str, dict[object, type]] | None:
    """The JSON key whose constant value tells the variants apart, if there is one."""
    candidates: dict[str, dict[object, type]] = {}
    for position, cls in enumerate(models):
        hints = _hints(cls)
        keys: dict[str, tuple[object, ...]] = {}
        for name in model_fields(cls):
            tags = _literal_tags(hints[name])
            if tags is not None:
                keys[_json_key(cls, name)] = tags
        if position == 0:
            candidates = {key: {} for key in keys}
        for key in list(candidates):
            if key not in keys:
                del candidates[key]
                continue
            for tag in keys[key]:
                candidates[key].setdefault(tag, cls)
    best = None
    for key in ("type", "object", *sorted(candidates)):
        if key in candidates and (best is None or len(candidates[key]) > len(best[1])):
            best = (key, candidates[key])
    if best is None or len(set(best[1].values())) < 2:
        return None
    return best


def _tags_of(cls: type[BaseModel], key: str) -> tuple[object, ...]:
    """The constant values `cls` declares for the JSON key `key`, if any."""
    hints = _hints(cls)
    for name in model_fields(cls):
        if _json_key(cls, name) == key:
            return _literal_tags(hints[name]) or ()
    return ()


def _union_decoder(tp: object) -> Decoder:
    members = [m for m in _flatten(tp) if m is not _NONE]
    by_kind: dict[type, list[object]] = {}
    anything = False
    for member in members:
        kind = _json_kind(member)
        if kind is None:
            anything = True
        else:
            by_kind.setdefault(kind, []).append(member)
    models: list[type[BaseModel]] = [m for m in by_kind.get(dict, []) if _is_model(m)]  # type: ignore[misc]
    dict_plain = [m for m in by_kind.get(dict, []) if not _is_model(m)]
    found = _discriminator(models) if len(models) > 1 else None
    tag_key, tag_map = found if found else ("", {})
    required = {m: {_json_key(m, name) for name in m._required} for m in models}
    known = {m: {_json_key(m, name) for name in model_fields(m)} for m in models}
    # Variants that carry the same tag (`EasyInputMessage`, `InputMessage` and
    # `ResponseOutputMessage` are all "message"): the value's keys choose among them.
    sharing: dict[object, list[type[BaseModel]]] = {}
    for model in models:
        for tag in _tags_of(model, tag_key) if tag_map else ():
            sharing.setdefault(tag, []).append(model)
    sharing = {tag: pool for tag, pool in sharing.items() if len(pool) > 1}
    lists = [_decoder(m) for m in by_kind.get(list, [])]
    floats = float in by_kind
    ints = int in by_kind
    expected = " or ".join(
        sorted(
            {_KIND_NAMES[k] for k in by_kind if k in _KIND_NAMES}
            | ({"null"} if not by_kind else set())
        )
    )

    by_tag: dict[object, Decoder] = {}

    def first_success(candidates: list[Decoder], value: Any) -> Any:
        error: _Invalid | None = None
        for candidate in candidates:
            try:
                return candidate(value)
            except _Invalid as exc:
                error = error or exc
        assert error is not None
        raise error

    def ranked(value: dict[str, Any], pool: list[type[BaseModel]]) -> list[Decoder]:
        keys = value.keys()
        order = sorted(
            range(len(pool)),
            key=lambda i: (
                not required[pool[i]] <= keys,
                -len(known[pool[i]] & keys),
                i,
            ),
        )
        return [_decoder(pool[i]) for i in order]

    def decode_union(value: Any) -> Any:
        kind = value.__class__
        if kind is dict:
            if tag_map:
                tag = value.get(tag_key)
                if tag.__class__ is not str and tag is not None:
                    exc = _Invalid(tag, "a string")
                    exc.path.append("." + tag_key)
                    raise exc
                tagged = by_tag.get(tag)
                if tagged is not None:
                    return tagged(value)
                pool = sharing.get(tag)
                if pool is not None:
                    return first_success(ranked(value, pool), value)
                cls = tag_map.get(tag)
                if cls is not None:
                    by_tag[tag] = tagged = _decoder(cls)
                    return tagged(value)
                if tag is None:
                    # No tag at all (it is optional where one shape is the default):
                    # whichever variant the keys fit best.
                    return first_success(ranked(value, models), value)
                return _decoder(UnknownModel)(value)
            if models:
                try:
                    return first_success(ranked(value, models), value)
                except _Invalid:
                    if not dict_plain and not anything:
                        raise
            if dict_plain:
                return _decoder(dict_plain[0])(value)
        elif kind is str or kind is bool:
            if kind in by_kind:
                return value
        elif kind is int:
            if ints or floats:
                return value
        elif kind is float:
            if floats:
                return value
        elif kind is list and lists:
            return first_success(lists, value)
        if anything:
            return value
        raise _Invalid(value, expected or "a value")

    return decode_union


def _strict_check(tp: Any, value: Any) -> None:
    """Raises `_Invalid` when `value` does not fit `tp` as a validator would see it."""
    if tp is Any or tp is object:
        return
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        _strict_check(typing.get_args(tp)[0], value)
        return
    if tp is None or tp is _NONE:
        if value is not None:
            raise _Invalid(value, "null")
        return
    if _is_union(tp):
        members = typing.get_args(tp)
        if value is None and _NONE in members:
            return
        first: _Invalid | None = None
        for member in members:
            if member is _NONE:
                continue
            try:
                _strict_check(member, value)
            except _Invalid as exc:
                first = first or exc
            else:
                return
        raise first or _Invalid(value, _expected(tp))
    if origin is Literal:
        allowed = typing.get_args(tp)
        # `True == 1`: the kind must match too.
        if not any(value == a and value.__class__ is a.__class__ for a in allowed):
            raise _Invalid(value, "one of " + ", ".join(repr(a) for a in allowed))
        return
    if tp in _SCALARS:
        if value is None:
            raise _Invalid(value, _expected(tp))
        _SCALARS[tp](value)
        return
    if origin is list or tp is list:
        if value.__class__ is not list:
            raise _Invalid(value, "an array")
        (item,) = typing.get_args(tp) or (Any,)
        for index, element in enumerate(value):
            try:
                _strict_check(item, element)
            except _Invalid as exc:
                exc.path.append(f"[{index}]")
                raise
        return
    if origin is dict or tp is dict:
        if value.__class__ is not dict:
            raise _Invalid(value, "an object")
        args = typing.get_args(tp)
        for key, element in value.items():
            try:
                _strict_check(args[1] if args else Any, element)
            except _Invalid as exc:
                exc.path.append(f"[{key!r}]")
                raise
        return
    if _is_model(tp):
        if value.__class__ is not dict:
            raise _Invalid(value, "an object")
        hints = _hints(tp)
        required = set(tp._required)
        for name in model_fields(tp):
            key = _json_key(tp, name)
            try:
                if key not in value:
                    if name in required:
                        raise _Invalid(_MISSING, "a value")
                    continue
                _strict_check(hints[name], value[key])
            except _Invalid as exc:
                exc.path.append("." + key)
                raise
        return


@overload
def decode(
    tp: type[_T], data: object, *, response: ResponseInfo | None = None, strict: bool = False
) -> _T: ...
@overload
def decode(
    tp: Any, data: object, *, response: ResponseInfo | None = None, strict: bool = False
) -> Any: ...
def decode(
    tp: Any, data: object, *, response: ResponseInfo | None = None, strict: bool = False
) -> Any:
    """Turns parsed JSON (`json.loads` output) into `tp`: a model, union alias, list, ...

    Raises `APIResponseValidationError` (with `response`, `body=data` and `path`
    naming the offending field) when a value has the wrong JSON kind; with
    `strict=True` also when a required field is missing, a value is null where
    its type has no None, or an enum value is not one of its type's.
    """
    if strict:
        try:
            _strict_check(tp, data)
        except _Invalid as exc:
            path = "".join(reversed(exc.path)).lstrip(".")
            raise APIResponseValidationError(
                response, data, message=f"Invalid API data: {exc.describe()}", path=path
            ) from None
    # Keyed by identity: hashing a typing.Union hashes all its members, which
    # for the 50-odd stream event types costs more than decoding the event.
    entry = _BY_ID.get(id(tp))
    if entry is not None and entry[0] is tp:
        decoder = entry[1]
    else:
        decoder = _decoder(tp)
        _BY_ID[id(tp)] = (tp, decoder)
    try:
        return decoder(data)
    except _Invalid as exc:
        path = "".join(reversed(exc.path)).lstrip(".")
        raise APIResponseValidationError(
            response, data, message=f"Invalid API data: {exc.describe()}", path=path
        ) from None
