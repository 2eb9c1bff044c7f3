"""The official SDK's small top-level helpers and markers, in terms of oxide's own.

`NOT_GIVEN` is oxide's marker; `omit` is a second marker of the same family, so
every place oxide drops an argument left `NOT_GIVEN` drops an `omit` argument too.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Set
from typing import Any

from oxide_proto import OpenAIError

from .._options import NOT_GIVEN, NotGiven

__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
    "APIRemovedInV1",
    "Omit",
    "assert_signatures_in_sync",
    "file_from_path",
    "not_given",
    "omit",
    "pydantic_function_tool",
    "pydantic_responses_function_tool",
    "removed_in_v1",
]

not_given = NOT_GIVEN


class Omit(NotGiven):
    """Marks an argument to leave out of the request, as `NOT_GIVEN` does.

    A subclass of `NotGiven`, so oxide treats both alike: an argument, query or
    body field holding either is not sent.
    """

    _instance: NotGiven | None = None  # its own singleton, not NotGiven's

    def __repr__(self) -> str:
        return "omit"


omit = Omit()


def file_from_path(path: str | os.PathLike[str]) -> tuple[str, bytes]:
    """The file at `path` as an upload: its base name and its contents, read now."""
    with open(path, "rb") as handle:
        return os.path.basename(path), handle.read()


def pydantic_function_tool(
    model: type, *, name: str | None = None, description: str | None = None
) -> Any:
    """A strict Chat Completions function tool whose arguments are `model`.

    oxide's `function_tool`, which also takes attrs classes, dataclasses and
    TypedDicts; `chat.completions.parse()` parses the arguments back into `model`.
    """
    from oxide_proto import function_tool

    from ._lib import chat_tool

    # The official shape: the tool's `function` remembers the model (PydanticFunctionTool).
    return chat_tool(function_tool(model, name=name, description=description))


def pydantic_responses_function_tool(
    model: type, *, name: str | None = None, description: str | None = None
) -> Any:
    """A strict Responses API function tool whose arguments are `model`."""
    from oxide_proto import responses_function_tool

    from ._lib import ResponsesPydanticFunctionTool

    tool = responses_function_tool(model, name=name, description=description)
    return ResponsesPydanticFunctionTool(tool, tool.type)


class APIRemovedInV1(OpenAIError):
    """The pre-1.0 module API (`openai.ChatCompletion.create(...)`) was removed in 1.0."""

    def __init__(self, *, symbol: str) -> None:
        super().__init__(
            f"openai.{symbol} is the pre-1.0 API, which the official SDK removed in 1.0 and"
            " oxide never had: create a client (`client = OpenAI()`) and call its resources,"
            " e.g. `client.chat.completions.create(...)`"
        )


class _RemovedInV1:
    """Stands for a pre-1.0 name: any use raises `APIRemovedInV1`, as in the official SDK."""

    def __init__(self, symbol: str) -> None:
        self._symbol = symbol

    def __getattr__(self, name: str) -> Any:
        raise APIRemovedInV1(symbol=self._symbol)

    def __call__(self, *args: object, **kwargs: object) -> Any:
        raise APIRemovedInV1(symbol=self._symbol)

    def __repr__(self) -> str:
        return f"<removed in openai 1.0: {self._symbol}>"


def assert_signatures_in_sync(
    source_func: Callable[..., Any],
    check_func: Callable[..., Any],
    *,
    exclude_params: Set[str] = frozenset(),
    description: str = "",
) -> None:
    """Raises `AssertionError` unless `check_func` takes every parameter of `source_func`
    (but `exclude_params`) with the same annotation: the check `openai._utils` offers
    for a helper that wraps a method (`create_and_poll` around `create`)."""
    source = inspect.signature(source_func).parameters
    check = inspect.signature(check_func).parameters
    problems = []
    for name, parameter in source.items():
        if name in exclude_params:
            continue
        if name not in check:
            problems.append(f"`{name}` is missing")
        elif check[name].annotation != parameter.annotation:
            problems.append(
                f"`{name}` is annotated {check[name].annotation!r}, not {parameter.annotation!r}"
            )
    if problems:
        raise AssertionError(
            f"{len(problems)} signature mismatches{description}: " + "; ".join(problems)
        )


def removed_in_v1(symbol: str) -> Any:
    return _RemovedInV1(symbol)


def _limits() -> Any:
    from oxide_proto import PoolLimits

    # oxide's pool limits, with the official SDK's default values.
    return PoolLimits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=5.0)


DEFAULT_CONNECTION_LIMITS = _limits()
