"""The base of every typed API object, and the generic object for unknown variants.

Models are slotted classes with keyword-only typed fields, mutable like the
official SDK's: the shape of `attrs.define(slots=True, kw_only=True)`, but with
`__init__` written out by the generator. Creating an attrs class costs about a
millisecond at import (it compiles its methods), which for the 700 classes of
the Responses API alone was over a second; these import in a few dozen ms.
`__slots__` lists the fields, `_required` the ones without a default.

Each decoded object keeps a reference to the JSON object it came from, which
gives three things at no decoding cost: fields the API added after this
package was generated stay readable (`obj.new_field`) and survive
`to_dict()`; `exclude_unset` knows which keys the server actually sent; and an
`UnknownModel` (a union variant or stream event type this package has never
seen) still exposes every key of its payload.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

__all__ = ["BaseModel", "UnknownModel"]


# Per-class (python name, JSON name) pairs, and the set of JSON names, computed
# once on first dump.
_FIELD_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}
_JSON_KEYS: dict[type, frozenset[str]] = {}


def model_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The field names of a model class, in declaration order.

    A subclass of a generated class (the parsed variants of the structured-output
    helpers) lists only the fields it adds; its bases' fields come first.
    """
    fields: list[str] = []
    for base in reversed(cls.__mro__[: cls.__mro__.index(BaseModel)]):
        slots = vars(base).get("__slots__", ())
        fields.extend((slots,) if isinstance(slots, str) else slots)
    return tuple(fields)


def _field_names(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        aliases = cls._json_names
        names = tuple((name, aliases.get(name, name)) for name in model_fields(cls))
        _FIELD_NAMES[cls] = names
        _JSON_KEYS[cls] = frozenset(key for _, key in names)
    return names


def _json_keys(cls: type[BaseModel]) -> frozenset[str]:
    keys = _JSON_KEYS.get(cls)
    if keys is None:
        _field_names(cls)
        keys = _JSON_KEYS[cls]
    return keys


def _dump_value(value: object, unset: bool, none: bool, alias: bool, defaults: bool) -> object:
    if isinstance(value, BaseModel):
        return value._dump(unset, none, alias, defaults)
    if isinstance(value, list):
        return [_dump_value(item, unset, none, alias, defaults) for item in value]
    if isinstance(value, dict):
        return {key: _dump_value(item, unset, none, alias, defaults) for key, item in value.items()}
    return value


# Which top-level fields a dump keeps: `include` / `exclude` as the official SDK's
# (pydantic's) `model_dump` takes them, by Python field name.
IncEx = set[str] | frozenset[str] | Mapping[str, bool]


def _names(spec: IncEx | None, argument: str) -> frozenset[str] | None:
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        nested = [key for key, value in spec.items() if value is not True]
        if nested:
            raise TypeError(
                f"{argument}: only whole fields can be named (a set, or a dict of True); "
                f"got a nested selection for {nested}"
            )
    return frozenset(spec)


def _float_text(value: float) -> str:
    # The official SDK's models write floats as pydantic-core does: not-a-number and
    # infinities as null, exponents unpadded (1e-7, 1e+16), and 1e-5 to 1e-4 written out.
    if value != value or value in (math.inf, -math.inf):
        return "null"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    power = int(exponent)
    if power == -5:
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _json_text(data: object, indent: int | None) -> str:
    """`data` (JSON-native values) as the official SDK's models write JSON: compact
    without `indent` (no spaces), else one member per line; text is not escaped to
    ASCII."""
    parts: list[str] = []
    write = parts.append
    encode_string = json.encoder.encode_basestring
    step = " " * indent if indent is not None else ""
    separator = ": " if indent is not None else ":"

    def dump(value: object, depth: int) -> None:
        if isinstance(value, str):
            write(encode_string(value))
        elif value is None:
            write("null")
        elif value is True:
            write("true")
        elif value is False:
            write("false")
        elif isinstance(value, int):
            write(int.__repr__(value))
        elif isinstance(value, float):
            write(_float_text(value))
        elif isinstance(value, (list, tuple, dict)):
            items = value.items() if isinstance(value, dict) else value
            opener, closer = ("{", "}") if isinstance(value, dict) else ("[", "]")
            if not value:
                write(opener + closer)
                return
            inner = "\n" + step * (depth + 1) if indent is not None else ""
            write(opener)
            for index, item in enumerate(items):
                if index:
                    write(",")
                write(inner)
                if isinstance(value, dict):
                    key, item = item
                    write(encode_string(key if isinstance(key, str) else str(key)))
                    write(separator)
                dump(item, depth + 1)
            if indent is not None:
                write("\n" + step * depth)
            write(closer)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    dump(data, 0)
    return "".join(parts)


def _check_mode(mode: str) -> None:
    # Values are JSON-native either way; an unknown mode is refused, as pydantic does.
    if mode not in ("json", "python"):
        raise ValueError(f"mode must be 'json' or 'python', not {mode!r}")


class BaseModel:
    """Common behaviour of the generated API types.

    Build one from API data with `Model.from_dict(data)` (or `oxide_proto.decode`);
    turn it back into JSON-ready data with `to_dict()` / `to_json()` or the official
    SDK's spellings `model_dump()` / `model_dump_json()`. Keys the class does not
    declare are kept and readable as attributes.
    """

    # The raw JSON object this instance was decoded from; unset on objects built
    # by calling the class. `_request_id` is the `x-request-id` of the response
    # that carried it (set by the client; None when unset), as in the official SDK.
    __slots__ = ("_data", "_request_id")

    # Python attribute name -> JSON key, for fields renamed because their JSON
    # name is a Python keyword or a method of this class (`from` -> `from_`).
    _json_names: ClassVar[Mapping[str, str]] = {}
    # Fields the spec marks required (decoding tolerates their absence).
    _required: ClassVar[tuple[str, ...]] = ()

    _data: Mapping[str, Any] | None
    _request_id: str | None

    @classmethod
    def from_dict(cls: type[_M], data: Mapping[str, object]) -> _M:
        """Decodes API data; raises `APIResponseValidationError` naming the bad field."""
        from ._decode import decode

        return decode(cls, data)

    @classmethod
    def model_validate(cls: type[_M], data: Mapping[str, object]) -> _M:
        """The official SDK's name for `from_dict`."""
        return cls.from_dict(data)

    def _raw(self) -> Mapping[str, Any] | None:
        try:
            return self._data
        except AttributeError:
            return None

    @property
    def model_fields_set(self) -> set[str]:
        """Python names of the fields the API sent (or, for built objects, not None)."""
        raw = self._raw()
        return {
            name
            for name, key in _field_names(type(self))
            if (raw is not None and key in raw) or getattr(self, name) is not None
        }

    @property
    def model_extra(self) -> dict[str, Any]:
        """Keys the API sent that this class does not declare, with their raw values."""
        raw = self._raw()
        if not raw:
            return {}
        known = _json_keys(type(self))
        return {key: value for key, value in raw.items() if key not in known}

    def _dump(
        self,
        unset: bool,
        none: bool,
        alias: bool,
        defaults: bool = False,
        include: frozenset[str] | None = None,
        exclude: frozenset[str] | None = None,
    ) -> dict[str, object]:
        raw = self._raw()
        out: dict[str, object] = {}
        cls = type(self)
        for name, key in _field_names(cls):
            if (include is not None and name not in include) or (
                exclude is not None and name in exclude
            ):
                continue
            value = getattr(self, name)
            # Every field that can be None defaults to None in the official SDK's
            # models (required-but-nullable ones too), so None is a field's default.
            if value is None and (none or defaults or (unset and (raw is None or key not in raw))):
                continue
            out[key if alias else name] = _dump_value(value, unset, none, alias, defaults)
        # Keys the class does not declare go back out too, also when the declared
        # fields outnumber the payload's keys (a dump that includes unset fields).
        if raw is not None and not _JSON_KEYS[cls].issuperset(raw):
            for key, value in self.model_extra.items():
                if (value is None and none) or (include is not None and key not in include):
                    continue
                if exclude is not None and key in exclude:
                    continue
                out[key] = value
        return out

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, object]:
        """The object as plain dicts and lists, keyed by the API's names.

        By default only the keys the API sent are included (`exclude_unset`), so
        `Model.from_dict(d).to_dict() == d`; `use_api_names=False` keys by the
        Python names instead. Every value is already JSON-native, so `mode` and
        `warnings` only exist for signature compatibility with the official SDK.
        """
        _check_mode(mode)
        return self._dump(exclude_unset, exclude_none, use_api_names, exclude_defaults)

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """`to_dict()` as JSON text, indented by 2 unless `indent` says otherwise
        (None: compact), written as the official SDK writes it."""
        data = self._dump(exclude_unset, exclude_none, use_api_names, exclude_defaults)
        return _json_text(data, indent)

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] | str = "python",
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
    ) -> dict[str, object]:
        """The official SDK's spelling: every declared field, keyed by Python names
        (`by_alias=True`: by the API's), `include` / `exclude` naming top-level fields."""
        _check_mode(mode)
        return self._dump(
            exclude_unset,
            exclude_none,
            bool(by_alias),
            exclude_defaults,
            _names(include, "include"),
            _names(exclude, "exclude"),
        )

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
    ) -> str:
        """`model_dump()` as JSON text, compact unless `indent` is given."""
        data = self._dump(
            exclude_unset,
            exclude_none,
            bool(by_alias),
            exclude_defaults,
            _names(include, "include"),
            _names(exclude, "exclude"),
        )
        return _json_text(data, indent)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name, _ in _field_names(type(self))
        )
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(
            getattr(self, name) == getattr(other, name) for name, _ in _field_names(type(self))
        )

    # Mutable, compared by value: unhashable, like the official SDK's models.
    __hash__ = None  # type: ignore[assignment]

    if not TYPE_CHECKING:
        # Hidden from type checkers so a misspelt attribute is still an error
        # there; at runtime, keys added to the API since generation read through.
        def __getattr__(self, name: str) -> Any:
            if name == "_request_id":
                return None
            if not name.startswith("__") and name != "_data":
                raw = self._raw()
                if raw is not None and name in raw:
                    return raw[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


# Bound to the class itself, not to its name as a string: a string bound is
# compiled on import (see `base._record.source_function`).
_M = TypeVar("_M", bound=BaseModel)


class UnknownModel(BaseModel):
    """A union variant or stream event whose `type` this package does not know.

    The API adds event and item types over time; instead of failing, they decode
    to this class. Every key of the payload is readable as an attribute, `raw`
    is the payload itself and `to_dict()` gives it back unchanged.
    """

    __slots__ = ("type",)

    type: str | None

    def __init__(self, *, type: str | None = None) -> None:
        self.type = type

    @property
    def raw(self) -> Mapping[str, Any]:
        return self._raw() or {}
