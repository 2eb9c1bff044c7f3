"""The API methods the command line offers, read from the generated client.

Every generated resource method makes one call through an `Operation` of the
generated table, and its signature lists the operation's parameters with their
types. Walking the blocking `Client`'s resource tree therefore gives each
method's dotted name (`chat.completions.create`, the official SDK's names), its
parameters and its operation, without constructing a client or opening a
socket. Values given on the command line are converted here, by the type the
signature names: strings stay strings, numbers and booleans are parsed, objects
and arrays are JSON (or `@file.json`), files are `@path`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

from oxide_proto import Operation

__all__ = ["BadValue", "Method", "Param", "find_method", "methods"]

# Every generated method takes these; the command line has its own ways to say them.
_TRANSPORT_ARGS = frozenset({"self", "extra_headers", "extra_query", "extra_body", "timeout"})
_LITERAL = re.compile(r"^Literal\[(.*)\]$")


class BadValue(ValueError):
    """A command-line value that does not fit its parameter's type."""


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of an API method, as the generated signature declares it."""

    name: str
    annotation: str
    required: bool

    @functools.cached_property
    def _alternatives(self) -> tuple[str, ...]:
        parts = [p.strip() for p in _split_top_level(self.annotation, "|")]
        return tuple(p for p in parts if p not in ("NotGiven", "None"))

    @property
    def is_file(self) -> bool:
        return "FileTypes" in self.annotation

    @property
    def is_file_list(self) -> bool:
        return any(a == "Sequence[FileTypes]" for a in self._alternatives)

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The allowed strings when the type is a string literal, else None."""
        if len(self._alternatives) != 1:
            return None
        match = _LITERAL.match(self._alternatives[0])
        if match is None:
            return None
        values = [ast.literal_eval(v) for v in _split_top_level(match.group(1), ",")]
        return tuple(values) if all(isinstance(v, str) for v in values) else None

    @property
    def kind(self) -> str:
        """How a value is read: "str", "int", "float", "bool", "file" or "json"."""
        if self.is_file:
            return "file"
        alternatives = self._alternatives
        if self.choices is not None or alternatives == ("str",):
            return "str"
        if alternatives in (("int",), ("float",), ("bool",)):
            return alternatives[0]
        return "json"

    @property
    def accepts_string(self) -> bool:
        """Whether a plain string is a value of this type (then non-JSON text is one)."""
        return any(
            a == "str" or a.startswith("Literal[") or _alias_accepts_string(a)
            for a in self._alternatives
        )

    def convert(self, text: str) -> Any:
        """The Python value `text` (as typed on the command line) stands for."""
        kind = self.kind
        if kind == "str":
            choices = self.choices
            if choices is not None and text not in choices:
                raise BadValue(f"{text!r} is not one of: {', '.join(choices)}")
            return text
        if kind == "int":
            try:
                return int(text)
            except ValueError:
                raise BadValue(f"{text!r} is not an integer") from None
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                raise BadValue(f"{text!r} is not a number") from None
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise BadValue(f"{text!r} is not a boolean (true or false)")
        if kind == "file":
            if text.startswith("@"):
                return _FileArgument(text[1:])
            if "Mapping" not in self.annotation:
                raise BadValue(f"a file is given as @PATH, not {text!r}")
        return self._json(text)

    def _json(self, text: str) -> Any:
        if text.startswith("@"):
            path = text[1:]
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise BadValue(f"cannot read {path}: {exc.strerror}") from None
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadValue(f"{path} is not JSON: {exc}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if self.accepts_string:
                return text
            raise BadValue(f"expected JSON ({self.annotation}): {exc}") from None


@dataclasses.dataclass(frozen=True)
class _FileArgument:
    """A file named on the command line, opened when the call is made."""

    path: str


@dataclasses.dataclass(frozen=True)
class Method:
    """One API method: `resource.sub.method` on the client, and its operation."""

    name: str
    function: Callable[..., Any]
    operation: Operation
    params: tuple[Param, ...]

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.function) or ""
        return doc.split("\n\n")[0].replace("\n", " ")

    def bound(self, client: Any, streaming: bool = False) -> Callable[..., Any]:
        """The method of `client` (of `client.with_streaming_response` if `streaming`)."""
        target = client.with_streaming_response if streaming else client
        for part in self.name.split("."):
            target = getattr(target, part)
        return target  # type: ignore[no-any-return]


def _alias_accepts_string(name: str) -> bool:
    # A named parameter type may be an alias of a union with `str` in it
    # (`ResponseInputParam = str | Iterable[...]`); TypedDicts are not.
    if not name.isidentifier():
        return False
    from oxide_proto.types import params

    try:
        alias = getattr(params, name)
    except AttributeError:
        return False
    for arg in typing.get_args(alias):
        if arg is str:
            return True
        if typing.get_origin(arg) is typing.Literal and isinstance(typing.get_args(arg)[0], str):
            return True
    return False


def _split_top_level(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _operation_of(function: Callable[..., Any]) -> Operation | None:
    # The method's body names its module-level Operation constant.
    module = sys.modules[function.__module__]
    for name in function.__code__.co_names:
        value = getattr(module, name, None)
        if isinstance(value, Operation):
            return value
    return None


# A sub-resource's cached property builds it from `self._client`; a stand-in with
# those attributes gives the class without a client.
_STAND_IN = types.SimpleNamespace(_client=None, _raw=False)


def _method(function: Callable[..., Any], name: str) -> Method | None:
    if not (inspect.isfunction(function) and ".resources." in function.__module__):
        return None
    operation = _operation_of(function)
    if operation is None:
        return None
    params = tuple(
        Param(p.name, str(p.annotation), p.default is inspect.Parameter.empty)
        for p in inspect.signature(function).parameters.values()
        if p.name not in _TRANSPORT_ARGS
    )
    return Method(name, function, operation, params)


def _walk(cls: type, path: tuple[str, ...]) -> Iterator[Method]:
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, functools.cached_property):
            yield from _walk(type(member.func(_STAND_IN)), (*path, name))
        else:
            method = _method(member, ".".join((*path, name)))
            if method is not None:
                yield method


def find_method(name: str) -> Method | None:
    """The method `name` ("chat.completions.create"), loading only its resource's module."""
    from .._sync._clients import Client

    cls: type = Client
    *resources, last = name.split(".")
    for part in resources:
        member = inspect.getattr_static(cls, part, None) if part.isidentifier() else None
        if not isinstance(member, functools.cached_property) or part.startswith("_"):
            return None
        cls = type(member.func(_STAND_IN))
    if last.startswith("_"):
        return None
    return _method(inspect.getattr_static(cls, last, None), name)


@functools.cache
def methods() -> dict[str, Method]:
    """Every API method of the client by dotted name, in name order."""
    from .._sync._clients import Client

    return {method.name: method for method in sorted(_walk(Client, ()), key=lambda m: m.name)}
