"""Definitions, read from the official SDK's types, of the official names oxide has no type for.

Used by `generate_compat_types.py`. Where an official name (`openai.types.ChatModel`,
`openai.types.beta.BetaToolParam`) pairs with none of oxide's types, its definition
is a fact of the API that the pinned SDK holds as data: a type alias's Literal
values or union members, a model's fields (name, JSON key, type, whether required),
a TypedDict's keys. This module reads those facts from the SDK objects and writes
them out as oxide types in `src/oxide_io/compat/_sdk_types/`, one module per
top-level area of `openai.types`:

- a model becomes a slotted `oxide_proto` `BaseModel` (the shape of the generated
  models: `__slots__`, `_required`, `__init__` written out), so `model_validate`,
  `to_dict` and the decoder work on it as on any oxide model;
- a TypedDict becomes a TypedDict with the same keys;
- an alias becomes a `TypeAlias` of the same Literal values and members.

A type referred to by a field or an alias member is written as the compat type of
that name: oxide's own type where the official one pairs with it (imported from
where oxide keeps it), else the definition written here. Aliases are written out
where they are used (`AllModels` holds the `ChatModel` values themselves), so a
module's aliases depend on classes only: classes come first, then the imports from
the other areas (which may import this one back and find its classes defined), then
the aliases. No sentence of the SDK is copied: docstrings name where a type comes from.
"""

from __future__ import annotations

import builtins
import collections.abc
import dataclasses
import json
import os
import typing
from collections.abc import Callable, Iterator
from typing import Any

import typing_extensions

# Where the modules go, relative to `oxide_io.compat`, and how the table addresses them.
PACKAGE = "_sdk_types"
ROOT_AREA = "root"

_BUILTINS = {str, int, float, bool, bytes, object}
_REQUIRED = (typing_extensions.Required, typing_extensions.NotRequired)
# Containers a request TypedDict's field may be (written with `collections.abc`'s name).
_ABC = {
    collections.abc.Iterable: "Iterable",
    collections.abc.Sequence: "Sequence",
    collections.abc.Mapping: "Mapping",
}
# The packages whose index names oxide's types, by the table's address kinds.
_INDEXES = {"t": "oxide_proto.types", "p": "oxide_proto.types.params", "x": "oxide_proto"}
_PLAIN = {list: "list", dict: "dict", tuple: "tuple", set: "set", frozenset: "frozenset"}


class Unsupported(Exception):
    """An annotation this module cannot write: the name stays a placeholder."""


def is_typeddict(value: Any) -> bool:
    return isinstance(value, type) and (
        typing_extensions.is_typeddict(value) or typing.is_typeddict(value)
    )


def is_model(value: Any) -> bool:
    return isinstance(value, type) and hasattr(value, "model_fields")


def _is_alias(value: Any) -> bool:
    return not isinstance(value, type) and (
        typing.get_origin(value) is not None or value is type(None)
    )


def definable(value: Any) -> bool:
    """Whether the official object is a kind this module writes out."""
    return is_typeddict(value) or is_model(value) or _is_alias(value) or value in _BUILTINS


@dataclasses.dataclass
class Definition:
    """One official type written out: its name here, its area module, its source lines."""

    value: Any
    name: str
    area: str
    where: str  # the official "module:Name" it is read from, for the docstring
    lines: list[str] = dataclasses.field(default_factory=list)
    uses: set[str] = dataclasses.field(default_factory=set)  # generated names it refers to
    text: str = ""  # an alias's value, as source


class Writer:
    """Writes the definitions of the official objects `wanted` (id -> (area, name,
    where)), each type a field or member refers to as `paired` says (id -> the oxide
    object), else as another definition (added as needed: a private base or nested
    shape the public tree does not list)."""

    def __init__(
        self,
        paired: dict[int, Any],
        taken: set[str],
        area_of: Callable[[Any], str],
        address_of: Callable[[Any], str | None],
    ) -> None:
        self.paired = paired
        self.area_of = area_of
        # An oxide alias (no module of its own) -> where the table finds it ("t:Name").
        self.address_of = address_of
        self.defs: dict[int, Definition] = {}
        self.taken = set(taken)
        # oxide object id -> (module, attribute) to import, per area: the local name.
        self.imports: dict[str, dict[tuple[str, str], str]] = {}
        self.queue: list[Definition] = []
        self.failed: dict[int, str] = {}

    # -- naming ----------------------------------------------------------------------

    def add(self, value: Any, area: str, name: str, where: str) -> Definition:
        found = self.defs.get(id(value))
        if found is not None:
            return found
        unique = name
        if unique in self.taken:
            module = where.partition(":")[0].rsplit(".", 1)[-1]
            stem = "".join(part[:1].upper() + part[1:] for part in module.split("_"))
            unique = f"{stem}{name}"
            counter = 2
            while unique in self.taken:
                unique = f"{stem}{name}{counter}"
                counter += 1
        self.taken.add(unique)
        found = Definition(value, unique, area, where)
        self.defs[id(value)] = found
        self.queue.append(found)
        return found

    def _import(self, area: str, ours: Any) -> str:
        # oxide's modules are imported whole under a private name, so what a class
        # is called there never clashes with a name written here.
        if isinstance(ours, type):
            module, attribute = ours.__module__, ours.__qualname__
        else:
            address = self.address_of(ours)
            kind, _, attribute = (address or "").partition(":")
            if kind not in _INDEXES:
                raise Unsupported(f"{ours!r} has no address")
            module = _INDEXES[kind]
        local = "_" + (
            module.removeprefix("oxide_proto.") if module != "oxide_proto" else "proto"
        ).replace(".", "_")
        self.imports.setdefault(area, {})[module, ""] = local
        return f"{local}.{attribute}"

    # -- annotations --------------------------------------------------------------------

    def annotation(self, tp: Any, owner: Definition, shadowed: set[str]) -> str:
        """Python source for the official annotation `tp`, in the module of `owner`."""
        if tp is type(None) or tp is None:
            return "None"
        if tp is typing.Any:
            return "Any"
        if tp in _BUILTINS:
            name = tp.__name__
            return f"builtins.{name}" if name in shadowed else name
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated or origin is typing_extensions.Annotated:
            return self.annotation(args[0], owner, shadowed)
        if origin in _REQUIRED:
            wrapper = "Required" if origin is typing_extensions.Required else "NotRequired"
            return f"{wrapper}[{self.annotation(args[0], owner, shadowed)}]"
        if origin is typing.Literal:
            return "Literal[" + ", ".join(_literal(arg) for arg in args) + "]"
        if origin is typing.Union or type(tp).__name__ == "UnionType":
            members = list(dict.fromkeys(self.annotation(arg, owner, shadowed) for arg in args))
            if "None" in members:
                members = [m for m in members if m != "None"] + ["None"]
            return " | ".join(members)
        if origin in _PLAIN:
            name = _PLAIN[origin]
            name = f"builtins.{name}" if name in shadowed else name
            if not args:
                return name
            return f"{name}[{', '.join(self._arg(arg, owner, shadowed) for arg in args)}]"
        if origin in _ABC:
            return f"{_ABC[origin]}[{', '.join(self.annotation(a, owner, shadowed) for a in args)}]"
        if origin is typing.IO:
            return f"IO[{self.annotation(args[0], owner, shadowed)}]"
        if origin is os.PathLike:
            return f"os.PathLike[{self.annotation(args[0], owner, shadowed)}]"
        if origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr":
            # The SDK's sequence that refuses a bare string: a sequence, to a reader.
            return f"Sequence[{self.annotation(args[0], owner, shadowed)}]"
        if isinstance(tp, type):
            return self._class(tp, owner)
        raise Unsupported(repr(tp))

    def _arg(self, arg: Any, owner: Definition, shadowed: set[str]) -> str:
        return "..." if arg is Ellipsis else self.annotation(arg, owner, shadowed)

    def _class(self, cls: type, owner: Definition) -> str:
        ours = self.paired.get(id(cls))
        if ours is not None:
            return self._import(owner.area, ours)
        if cls.__module__ in ("os", "io", "datetime"):
            params = "[str]" if cls is os.PathLike else ""
            return f"{cls.__module__}.{cls.__qualname__}{params}"
        if not cls.__module__.startswith("openai.types"):
            # The client's own helper types (`Omit`): the compat namespace's twin.
            import oxide_io.compat

            twin = getattr(oxide_io.compat, cls.__name__, None)
            if isinstance(twin, type):
                return self._import(owner.area, twin)
        if not definable(cls):
            raise Unsupported(repr(cls))
        where = f"{cls.__module__}:{cls.__qualname__}"
        found = self.add(cls, self.area_of(cls), cls.__name__, where)
        owner.uses.add(found.name)
        return found.name

    # -- definitions ----------------------------------------------------------------------

    def run(self) -> None:
        """Writes every queued definition (and those they add)."""
        while self.queue:
            definition = self.queue.pop(0)
            try:
                definition.lines = list(self._define(definition))
            except Unsupported as exc:
                self.failed[id(definition.value)] = str(exc)
        # A definition that refers to one that could not be written cannot be either.
        changed = True
        names = {d.name: key for key, d in self.defs.items()}
        while changed:
            changed = False
            for key, definition in self.defs.items():
                if key in self.failed:
                    continue
                broken = [n for n in definition.uses if names[n] in self.failed]
                if broken:
                    self.failed[key] = f"refers to {broken[0]}, which cannot be written"
                    changed = True

    def _define(self, definition: Definition) -> Iterator[str]:
        value = definition.value
        doc = f'    """The official `{definition.where}`, as an oxide type."""'
        if is_model(value):
            yield from self._model(definition, doc)
        elif is_typeddict(value):
            yield from self._typed_dict(definition, doc)
        else:
            text = self.annotation(value, definition, set())
            yield ""
            definition.text = text
            yield f"{definition.name}: TypeAlias = {text}"
            yield f'"""The official `{definition.where}`."""'

    def _model(self, definition: Definition, doc: str) -> Iterator[str]:
        fields = definition.value.model_fields
        shadowed = set(fields) & set(dir(builtins))
        yield from ("", "", f"class {definition.name}(BaseModel):", doc)
        names = list(fields)
        required = [name for name in names if fields[name].is_required()]
        renamed = {
            name: field.alias
            for name, field in fields.items()
            if field.alias is not None and field.alias != name
        }
        yield ""
        yield f"    __slots__ = ({''.join(repr(n) + ', ' for n in names)})"
        if required:
            listed = "".join(repr(n) + ", " for n in required)
            yield f"    _required: ClassVar[tuple[str, ...]] = ({listed})"
        if renamed:
            yield f"    _json_names: ClassVar[dict[str, str]] = {renamed!r}"
        params = []
        if names:
            yield ""
        for name in names:
            text = self.annotation(fields[name].annotation, definition, shadowed)
            optional = name not in required
            if optional and not text.endswith("| None") and text not in ("None", "Any"):
                text += " | None"
            yield f"    {name}: {text}"
            params.append(f"{name}: {text}" + (" = None" if optional else ""))
        if names:
            yield ""
            yield f"    def __init__(self, *, {', '.join(params)}) -> None:"
            yield from (f"        self.{name} = {name}" for name in names)

    def _typed_dict(self, definition: Definition, doc: str) -> Iterator[str]:
        cls = definition.value
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except NameError as exc:  # a name the SDK imports for type checkers only
            raise Unsupported(f"{definition.where}: {exc}") from None
        required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
        shadowed = set(hints) & set(dir(builtins))
        yield from ("", "", f"class {definition.name}(TypedDict, total=False):", doc)
        if hints:
            yield ""
        for name, hint in hints.items():
            if name in required and typing.get_origin(hint) not in _REQUIRED:
                hint = typing_extensions.Required[hint]
            yield f"    {name}: {self.annotation(hint, definition, shadowed)}"


def _literal(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


HEADER = "# Generated by tools/codegen/generate_compat_types.py — do not edit.\n"


def render_area(writer: Writer, area: str, title: str) -> str:
    """The source of one area's module."""
    defs = [
        d
        for key, d in sorted(writer.defs.items(), key=lambda item: item[1].name)
        if d.area == area and key not in writer.failed
    ]
    classes = [d for d in defs if isinstance(d.value, type)]
    aliases = [d for d in defs if not isinstance(d.value, type)]
    body = [line for d in classes for line in d.lines]
    tail: list[str] = []
    if aliases:
        # An alias's members are real classes (for `get_args` and `isinstance`), and
        # reading oxide's would import its modules: each alias is made when first
        # read, from the same source type checkers read.
        tail += ["", "", "if TYPE_CHECKING:"]
        tail += [f"    {line}" if line else "" for d in aliases for line in d.lines]
        tail += ["else:", "    _ALIASES: dict[str, str] = {"]
        tail += [f"        {d.name!r}: {d.text!r}," for d in aliases]
        tail += [
            "    }",
            "",
            "    def __getattr__(name: str) -> Any:",
            "        source = _ALIASES.get(name)",
            "        if source is None:",
            '            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
            "        value = eval(source, globals())",
            "        globals()[name] = value",
            "        return value",
        ]
    local = {d.name for d in defs}
    elsewhere: dict[str, set[str]] = {}
    for d in defs:
        for used in d.uses:
            if used not in local:
                other = next(o for o in writer.defs.values() if o.name == used)
                elsewhere.setdefault(other.area, set()).add(used)
    lines = [
        HEADER.rstrip("\n"),
        "# ruff: noqa: E501, RUF023",
        f'"""The official `openai.types` {title} names oxide has no type of its own for.',
        "",
        "Written from the pinned official SDK's type facts by the generator (see",
        "`tools/codegen/compat_defs.py`); the compat table points at them.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import builtins",
        "import datetime",
        "import io",
        "import os",
        "import sys",
        "from collections.abc import Iterable, Mapping, Sequence",
        "from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, TypedDict",
        "",
        "from oxide_proto.api._model import BaseModel",
    ]
    lines.append("from .._modules import ModuleOnUse")
    imported = sorted(writer.imports.get(area, {}).items())
    if imported:
        # oxide's modules load when a name in them is first read: an alias's members
        # on import of this module, a field's type when its class first decodes.
        lines += ["", "if TYPE_CHECKING:"]
        for (module, _), name in imported:
            parent, _, last = module.rpartition(".")
            lines.append(f"    from {parent} import {last} as {name}")
        lines.append("else:")
        for (module, _), name in imported:
            lines.append(f"    {name} = ModuleOnUse({module!r})")
    wrappers = [w for w in ("NotRequired", "Required") if f"{w}[" in "\n".join(body)]
    if wrappers:
        # At run time too where `typing` has them, so `get_type_hints` reads the keys.
        lines += [
            "",
            "if sys.version_info >= (3, 11):",
            f"    from typing import {', '.join(wrappers)}",
            "elif TYPE_CHECKING:",
            f"    from typing_extensions import {', '.join(wrappers)}",
        ]
    lines += [
        "",
        "__all__ = [" + ", ".join(json.dumps(d.name) for d in defs) + "]",
    ]
    lines.append("\n".join(body))
    if elsewhere:
        lines += [
            "",
            "# The other areas' types these use; imported after this module's classes, so an",
            "# area importing this one back finds them defined.",
        ]
        for area_name in sorted(elsewhere):
            for name in sorted(elsewhere[area_name]):
                lines.append(f"from .{area_name} import {name}  # noqa: E402")
    lines.append("\n".join(tail))
    return "\n".join(lines) + "\n"


def render_package() -> str:
    return "\n".join(
        [
            HEADER.rstrip("\n"),
            '"""Official `openai.types` names oxide has no type of its own for, written from the',
            "pinned SDK's type facts, one module per area (see `tools/codegen/compat_defs.py`).",
            "",
            "Nothing imports these modules but the compat table's lookups, on first use of a name.",
            '"""',
            "",
        ]
    )
