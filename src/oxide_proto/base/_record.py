"""Frozen, slotted value classes for the core's events, decisions and options
(and the drivers' options, which use them too).

`@frozen` turns a class of annotated fields into what `attrs.frozen(slots=True)`
gives: `__slots__`, an `__init__` taking the fields in order (keyword-only with
`kw_only=True`) and running `__post_init__` when the class has one, `__repr__`,
field-wise `__eq__` and `__hash__`, `__match_args__` (empty for a keyword-only
class), pickling, and attributes that cannot be set after construction. `field()`
gives a field a default, a factory, a validator or no place in the repr;
`replace()` copies an instance with some fields changed.

Why not attrs itself: importing attrs pulls in `inspect` and `ast` and costs
30 to 60 ms, and each attrs class adds about a millisecond more. These classes
are on the path of every `import oxide_io`, whose budget is 100 ms. Here only
`__init__` is generated, as source compiled once per class (about 0.1 ms), so
construction is as fast as a hand-written one; the other methods are functions
shared by every class.

`typing.dataclass_transform` tells type checkers what the decorator does, so
field types, defaults and read-only attributes are checked as for attrs.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorator: decorator


__all__: list[str] = []

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)

# Marks "no default" and "argument not passed" (for fields with a factory).
_NOTHING: Any = type("_Nothing", (), {"__repr__": lambda self: "NOTHING"})()

Validator = Callable[[Any, str, Any], None]
"""Called as `validator(instance, field_name, value)`; raises to refuse the value."""


class FrozenInstanceError(AttributeError):
    """Raised on an attempt to set or delete an attribute of a frozen instance."""


class _Field:
    __slots__ = ("default", "factory", "repr", "validator")

    def __init__(
        self, default: Any, factory: Callable[[], Any] | None, validator: Any, repr: bool
    ) -> None:
        self.default = default
        self.factory = factory
        self.validator = validator
        self.repr = repr


@overload
def field(*, default: _T, validator: Validator | None = None, repr: bool = True) -> _T: ...
@overload
def field(
    *, factory: Callable[[], _T], validator: Validator | None = None, repr: bool = True
) -> _T: ...
@overload
def field(*, validator: Validator | None = None, repr: bool = True) -> Any: ...
def field(
    *,
    default: Any = _NOTHING,
    factory: Callable[[], Any] | None = None,
    validator: Validator | None = None,
    repr: bool = True,
) -> Any:
    """A field with a `default` or a `factory` (called for each instance), an
    optional `validator`, and `repr=False` to keep it out of the repr (secrets,
    large bodies)."""
    if default is not _NOTHING and factory is not None:
        raise TypeError("a field takes a default or a factory, not both")
    return _Field(default, factory, validator, repr)


@overload
def frozen(cls: _C, /) -> _C: ...
@overload
def frozen(*, kw_only: bool = False) -> Callable[[_C], _C]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: _C | None = None, /, *, kw_only: bool = False) -> _C | Callable[[_C], _C]:
    """Makes `cls` a frozen slotted value class (see the module docstring).

    A method the class defines itself (`__repr__`, `__eq__`, ...) is kept. A
    method named `__post_init__` runs at the end of `__init__` (to check fields
    together).
    """

    def wrap(cls: _C) -> _C:
        return _build(cls, kw_only=kw_only)

    return wrap if cls is None else wrap(cls)


def replace(instance: _T, **changes: Any) -> _T:
    """A copy of `instance` with some fields changed (validated like a new one)."""
    names: tuple[str, ...] = type(instance).__record_fields__  # type: ignore[attr-defined]
    unknown = changes.keys() - set(names)
    if unknown:
        raise TypeError(f"{type(instance).__name__} has no field {sorted(unknown)[0]!r}")
    values = {name: getattr(instance, name) for name in names}
    values.update(changes)
    return type(instance)(**values)


def _build(cls: _C, *, kw_only: bool) -> _C:
    own = cls.__dict__
    names = [
        name
        for name, annotation in own.get("__annotations__", {}).items()
        if not str(annotation).startswith(("ClassVar", "typing.ClassVar"))
    ]
    inherited: tuple[str, ...] = getattr(cls, "__record_fields__", ())
    fields = (*inherited, *names)
    specs: dict[str, _Field] = dict(getattr(cls, "__record_specs__", {}))
    for name in names:
        value = own.get(name, _NOTHING)
        specs[name] = value if isinstance(value, _Field) else _Field(value, None, None, True)

    body = {k: v for k, v in own.items() if k not in names and k not in ("__dict__", "__weakref__")}
    body["__slots__"] = tuple(names)
    body["__record_fields__"] = fields
    body["__record_specs__"] = specs
    body["__match_args__"] = () if kw_only else fields
    new = type(cls)(cls.__name__, cls.__bases__, body)
    new.__qualname__ = cls.__qualname__

    values = attrgetter(*fields) if fields else _no_values
    new._record_values = values  # type: ignore[attr-defined]
    new._record_shown = tuple(name for name in fields if specs[name].repr)  # type: ignore[attr-defined]
    # Only __init__ is compiled (its signature is the fields'); compiling costs
    # about 0.1 ms a class, so the other methods are shared functions.
    namespace: dict[str, Any] = {"_NOTHING": _NOTHING, "_set": object.__setattr__}
    source = _init_source(fields, specs, kw_only, namespace, "__post_init__" in own)
    init = source_function(source, "__init__", f"<record {cls.__qualname__}>", namespace)
    methods = {"__init__": init, **_SHARED}
    for name, function in methods.items():
        if name not in own:
            if name == "__init__":
                function.__qualname__ = f"{cls.__qualname__}.__init__"
            setattr(new, name, function)
    return new


def source_function(source: str, name: str, filename: str, namespace: dict[str, Any]) -> Any:
    """The function `name` that `source` defines, run in `namespace`; its code's file
    name (what a traceback shows) is `filename`.

    `exec` of the text rather than of `compile(...)`'s code: the builtin `compile()`
    first sets up CPython's AST classes, which costs about 10 million instructions
    (3 ms) on the first call of a process, and would do so on every `import oxide_io`.
    A string handed to `exec` is compiled without them.
    """
    exec(source, namespace)
    function = namespace[name]
    function.__code__ = function.__code__.replace(co_filename=filename)
    return function


def _no_values(instance: object) -> tuple[()]:
    return ()


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    values = self._record_values
    return bool(values(self) == values(other))


def _ne(self: Any, other: Any) -> Any:
    equal = _eq(self, other)
    return equal if equal is NotImplemented else not equal


def _hash(self: Any) -> int:
    return hash((self.__class__, self._record_values(self)))


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to {name!r}: the instance is frozen")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete {name!r}: the instance is frozen")


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in self.__record_fields__)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, name, value)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_shown)
    return f"{self.__class__.__qualname__}({shown})"


_SHARED: dict[str, Any] = {
    "__eq__": _eq,
    "__ne__": _ne,
    "__hash__": _hash,
    "__setattr__": _setattr,
    "__delattr__": _delattr,
    "__getstate__": _getstate,
    "__setstate__": _setstate,
    "__repr__": _repr,
}


def _init_source(
    fields: tuple[str, ...],
    specs: dict[str, _Field],
    kw_only: bool,
    namespace: dict[str, Any],
    post_init: bool,
) -> str:
    params: list[str] = []
    lines: list[str] = []
    seen_default = False
    for name in fields:
        spec = specs[name]
        if spec.factory is not None:
            namespace[f"_factory_{name}"] = spec.factory
            params.append(f"{name}=_NOTHING")
            lines.append(f"    if {name} is _NOTHING:\n        {name} = _factory_{name}()")
            seen_default = True
        elif spec.default is not _NOTHING:
            namespace[f"_default_{name}"] = spec.default
            params.append(f"{name}=_default_{name}")
            seen_default = True
        else:
            if seen_default and not kw_only:
                raise TypeError(f"field {name!r} without a default follows one with a default")
            params.append(name)
        if spec.validator is not None:
            namespace[f"_validate_{name}"] = spec.validator
            lines.append(f"    _validate_{name}(self, {name!r}, {name})")
        lines.append(f"    _set(self, {name!r}, {name})")
    if post_init:
        lines.append("    self.__post_init__()")
    signature = ", ".join(["self", *(["*"] if kw_only and params else []), *params])
    return f"def __init__({signature}):\n" + ("\n".join(lines) or "    pass") + "\n"
