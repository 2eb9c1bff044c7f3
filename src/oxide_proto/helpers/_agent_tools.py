"""Local function tools for hosted agents, and the agents' output format, sans-I/O.

A hosted agent calls a function tool by name; the application answers with a
handler (`sessions.stream(..., tool_handlers={name: handler})`). An
`AgentFunctionTool` (the official SDK's `FunctionTool`) is both halves at once:
`definition` is the flat tool the agent configuration takes (`{"type": "function",
"name", "description", "parameters"}`), and calling the tool with the call's
arguments (a dict) checks them against the argument class, runs the handler with
the checked value, and turns what it returns into a tool result (text, content
parts, or JSON text).

- `agent_pydantic_function_tool(model, handler=...)`: the arguments are `model` (a
  pydantic model, or an attrs class, dataclass or TypedDict);
- `agent_function_tool(function)` (or `@agent_function_tool`,
  `@agent_function_tool(name=...)`): the arguments are the function's annotated
  parameters, defaults kept;
- `agent_text_format(output_type)`: the agent's `text.format` asking for JSON of
  `output_type` (the strict schema structured outputs use);
  `agent_with_output_type(agent, output_type)` puts it into a session's `agent`
  settings (`sessions.create(output_type=...)`).

pydantic is never imported here: its models are recognised by their methods. The
handler may be a coroutine function (for the async client): calling the tool then
gives an awaitable whose result is converted the same way. The official SDK's
names (`FunctionTool`, `function_tool`, `pydantic_function_tool`) are these, in
`oxide_io.compat.lib.beta.agents`; here they carry `agent` to stay apart from the
Chat Completions and Responses tool helpers.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import json
import typing
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from typing import Any, Generic, TypeVar, overload

import attrs

from ..base._errors import OutputValidationError, SchemaError
from ._agent_turn import ToolErrorStage
from ._schema import (
    _MISSING,
    _Builder,
    _convert,
    _fields,
    _is_class_type,
    _is_pydantic_model,
    _json_default,
    _resolve_ref,
    to_strict_json_schema,
)

__all__ = [
    "AgentFunctionTool",
    "agent_text_format",
    "agent_with_output_type",
    "agent_function_tool",
    "agent_pydantic_function_tool",
    "agent_tool_output",
]


_OutputT = TypeVar("_OutputT", covariant=True)


def _not_given(value: object) -> bool:
    # oxide's NOT_GIVEN / the official `omit` markers: falsy singletons that are not bools.
    return value is None or (not isinstance(value, bool) and type(value).__name__ in _MARKERS)


_MARKERS = frozenset({"NotGiven", "Omit"})


def agent_text_format(output_type: type) -> dict[str, Any]:
    """The agent's `text.format` asking for JSON of `output_type` (an attrs class,
    dataclass, TypedDict or pydantic model): `{"type": "json_schema", "schema": ...}`."""
    if not (_is_pydantic_model(output_type) or _is_class_type(output_type)):
        raise TypeError(
            "an agent's output_type is a pydantic model, attrs class, dataclass or"
            f" TypedDict, not {output_type!r}"
        )
    return {"type": "json_schema", "schema": to_strict_json_schema(output_type)}


def agent_with_output_type(agent: Mapping[str, Any] | None, output_type: type) -> dict[str, Any]:
    """A copy of a session's `agent` settings (None: none given) whose `text.format`
    asks for JSON of `output_type`. A format already there is a `ValueError`: one of
    the two would be dropped."""
    config = dict(agent or {})
    text = dict(config.get("text") or {})
    if text.get("format") is not None:
        raise ValueError("give output_type or agent.text.format, not both")
    text["format"] = agent_text_format(output_type)
    config["text"] = text
    return config


def _parameters(model: type, *, forbid_extra: bool) -> dict[str, Any]:
    """The tool's `parameters`: the argument class's JSON schema, not made strict (a
    field with a default may be left out)."""
    if _is_pydantic_model(model):
        schema: dict[str, Any] = copy.deepcopy(model.model_json_schema())  # type: ignore[attr-defined]
    elif _is_class_type(model):
        builder = _Builder()
        schema = builder.class_schema(model, model.__name__)
        if model.__name__ in builder.owners:
            builder.defs[model.__name__] = builder.class_schema(model, model.__name__)
        if builder.defs:
            schema = {"$defs": builder.defs, **schema}
        # The builder writes the strict form; a tool's arguments keep their defaults.
        fields = _fields(model)
        schema["required"] = [f.name for f in fields if f.default is _MISSING]
        for field in fields:
            if field.default is not _MISSING:
                schema["properties"][field.name]["default"] = _json_default(field.default)
        if not forbid_extra:
            schema.pop("additionalProperties", None)
    else:
        raise TypeError(
            "a tool's arguments are a pydantic model, attrs class, dataclass or TypedDict,"
            f" not {model!r}"
        )
    root = schema
    seen: set[str] = set()
    while isinstance(ref := root.get("$ref"), str) and ref not in seen:
        seen.add(ref)
        root = _resolve_ref(schema, ref, model.__name__)
    if root.get("type") != "object":
        raise TypeError(
            f"a tool's arguments must be an object (got {model.__name__}'s schema without"
            ' "type": "object"); wrap a union in a field of a class'
        )
    return schema


def _to_json_value(value: object) -> object:
    if _is_pydantic_model(type(value)):
        return value.model_dump(mode="json")  # type: ignore[attr-defined]
    if attrs.has(type(value)):
        return attrs.asdict(value)  # type: ignore[arg-type]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _is_content_part(part: object) -> bool:
    if not isinstance(part, dict) or len(part) != 2:
        return False
    kind = part.get("type")
    if kind == "input_text":
        return isinstance(part.get("text"), str)
    return kind == "input_image" and isinstance(part.get("image_url"), str)


def agent_tool_output(output: object) -> str | list[dict[str, Any]] | None:
    """What a handler returned, as a tool result: None and text as they are, a list
    of `input_text` / `input_image` parts as it is, anything else as compact JSON
    text (a model or class instance as its fields). Raises `TypeError` or
    `ValueError` for what JSON cannot hold (NaN included)."""
    output = _to_json_value(output)
    if output is None or isinstance(output, str):
        return output
    if isinstance(output, Mapping):
        output = dict(output)
    elif isinstance(output, Iterable) and not isinstance(output, (bytes, bytearray)):
        output = list(output)
        if output and all(_is_content_part(part) for part in output):
            return output
    return json.dumps(output, separators=(",", ":"), allow_nan=False)


class _ConvertedOutput:
    """An async handler's result, converted to a tool result once awaited."""

    __slots__ = ("_awaitable", "_on_stage")

    def __init__(
        self, awaitable: Awaitable[object], on_stage: Callable[[ToolErrorStage], None] | None
    ) -> None:
        self._awaitable = awaitable
        self._on_stage = on_stage

    def __await__(self) -> Generator[Any, None, str | list[dict[str, Any]] | None]:
        output = yield from self._awaitable.__await__()
        if self._on_stage is not None:
            self._on_stage("output")
        return agent_tool_output(output)

    def close(self) -> None:
        """Closes a coroutine that will not be awaited (no "never awaited" warning)."""
        close = getattr(self._awaitable, "close", None)
        if callable(close):
            close()


class AgentFunctionTool(Generic[_OutputT]):
    """A hosted agent's function tool and the local handler that answers it.

    Put `definition` in the agent's `tools` and pass the tool as a handler
    (`tool_handlers={tool.name: tool}`). Calling it with the call's arguments
    checks them against `model` (`OutputValidationError`, or pydantic's error,
    when they do not fit) before the handler runs.
    """

    def __init__(
        self,
        model: type,
        handler: Callable[[Any], _OutputT],
        *,
        name: str,
        description: str,
        defer_loading: bool | Any = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a tool's name must be a non-empty string, not {name!r}")
        forbid_extra = bool(getattr(model, "__oxide_forbid_extra__", False))
        definition: dict[str, Any] = {
            "type": "function",
            "name": name,
            "description": description,
            "parameters": _parameters(model, forbid_extra=forbid_extra),
        }
        if not _not_given(defer_loading):
            if not isinstance(defer_loading, bool):
                raise TypeError(f"defer_loading must be a bool, not {defer_loading!r}")
            definition["defer_loading"] = defer_loading
        self._definition = definition
        self._model = model
        self._handler = handler
        self._forbid_extra = forbid_extra
        # Set by agent_pydantic_function_tool / agent_function_tool: the handler's result
        # is made a tool result; a tool built directly returns what its handler does.
        self._convert_output = False

    @property
    def name(self) -> str:
        return str(self._definition["name"])

    @property
    def model(self) -> type:
        """The class the arguments are checked against."""
        return self._model

    @property
    def definition(self) -> dict[str, Any]:
        """The tool for the agent's `tools` (a copy; the handler is not in it)."""
        return copy.deepcopy(self._definition)

    def __call__(self, arguments: dict[str, Any]) -> _OutputT:
        return self.run(arguments)

    def parse_arguments(self, arguments: Mapping[str, Any]) -> Any:
        """`arguments` checked and turned into the argument class."""
        if not isinstance(arguments, Mapping):
            raise OutputValidationError(
                f"expected the arguments as an object, got {type(arguments).__name__}",
                path=self._model.__name__,
            )
        model = self._model
        if _is_pydantic_model(model):
            return model.model_validate(dict(arguments))  # type: ignore[attr-defined]
        if self._forbid_extra:
            known = {field.name for field in _fields(model)}
            unknown = sorted(set(arguments) - known)
            if unknown:
                raise OutputValidationError(
                    f"unexpected argument {unknown[0]!r}", path=f"{model.__name__}.{unknown[0]}"
                )
        return _convert(model, dict(arguments), model.__name__)

    def run(
        self,
        arguments: Mapping[str, Any],
        on_stage: Callable[[ToolErrorStage], None] | None = None,
    ) -> _OutputT:
        """Checks `arguments`, runs the handler and (for the tools the helpers make)
        converts its result; `on_stage` hears each stage as it starts, so a failure
        can be told apart (`AgentToolError.stage`)."""
        if on_stage is not None:
            on_stage("arguments")
        parsed = self.parse_arguments(arguments)
        if on_stage is not None:
            on_stage("execution")
        output = self._handler(parsed)
        if not self._convert_output:
            return output
        if inspect.isawaitable(output):
            return typing.cast("_OutputT", _ConvertedOutput(output, on_stage))
        if on_stage is not None:
            on_stage("output")
        return typing.cast("_OutputT", agent_tool_output(output))

    def __repr__(self) -> str:
        return f"AgentFunctionTool(name={self.name!r}, model={self._model.__name__})"


def agent_pydantic_function_tool(
    model: type,
    *,
    handler: Callable[[Any], Any],
    name: str | None = None,
    description: str | None = None,
    defer_loading: bool | Any = None,
) -> AgentFunctionTool[Any]:
    """A tool whose arguments are `model`; `handler` gets the checked instance.

    The name defaults to the class's, the description to its docstring. The
    handler may return text, content parts, a dict, a list, a model instance, or
    None; a coroutine function suits the async client.
    """
    if not isinstance(model, type):
        raise TypeError(
            "a tool's arguments are a pydantic model, attrs class, dataclass or TypedDict,"
            f" not {model!r}"
        )
    tool: AgentFunctionTool[Any] = AgentFunctionTool(
        model,
        handler,
        name=model.__name__ if name is None else name,
        description=(inspect.getdoc(model) or "") if description is None else description,
        defer_loading=defer_loading,
    )
    tool._convert_output = True
    return tool


def _arguments_class(function: Callable[..., Any]) -> type:
    """A dataclass of `function`'s parameters (annotations, defaults), extra keys refused."""
    signature = inspect.signature(function)
    target = inspect.unwrap(function)
    try:
        hints = typing.get_type_hints(getattr(target, "__func__", target), include_extras=True)
    except Exception as error:
        raise SchemaError(
            f"cannot resolve the annotations of {getattr(function, '__qualname__', function)!r}:"
            f" {error}; use agent_pydantic_function_tool with an explicit argument class",
            path=getattr(function, "__name__", "function"),
        ) from error
    fields: list[tuple[str, Any, Any]] = []
    for parameter in signature.parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise TypeError(
                f"a tool function's parameters are named ones; {parameter.name!r} is"
                f" {parameter.kind.description}"
            )
        if parameter.name.startswith("_") or parameter.name not in hints:
            raise TypeError(
                "a tool function's parameter needs a public name and an annotation:"
                f" {parameter.name!r}"
            )
        default = (
            dataclasses.MISSING
            if parameter.default is inspect.Parameter.empty
            else parameter.default
        )
        fields.append((parameter.name, hints[parameter.name], dataclasses.field(default=default)))
    # Parameters with defaults may come before ones without: keyword-only fields allow it.
    cls = dataclasses.make_dataclass("ToolArguments", fields, kw_only=True)
    cls.__doc__ = None
    cls.__oxide_forbid_extra__ = True  # type: ignore[attr-defined]
    return cls


class _AgentFunctionToolDecorator(typing.Protocol):
    def __call__(self, function: Callable[..., Any], /) -> AgentFunctionTool[Any]: ...


@overload
def agent_function_tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    defer_loading: bool | Any = None,
) -> AgentFunctionTool[Any]: ...


@overload
def agent_function_tool(
    function: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    defer_loading: bool | Any = None,
) -> _AgentFunctionToolDecorator: ...


def agent_function_tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    defer_loading: bool | Any = None,
) -> AgentFunctionTool[Any] | _AgentFunctionToolDecorator:
    """A tool made of an annotated function: `agent_function_tool(f)`,
    `@agent_function_tool`, or `@agent_function_tool(name=..., description=...)`.

    Every parameter needs an annotation and a public name (no `*args`, `**kwargs`
    or positional-only ones); defaults are kept, unknown arguments refused. The
    name defaults to the function's, the description to its docstring. Bind what
    the function needs besides its arguments with a closure or a bound method.
    """
    if function is None:
        return typing.cast(
            "_AgentFunctionToolDecorator",
            functools.partial(
                agent_function_tool, name=name, description=description, defer_loading=defer_loading
            ),
        )
    arguments_class = _arguments_class(function)
    names = [field.name for field in dataclasses.fields(arguments_class)]

    def invoke(arguments: Any) -> Any:
        return function(**{key: getattr(arguments, key) for key in names})

    return agent_pydantic_function_tool(
        arguments_class,
        handler=invoke,
        name=getattr(function, "__name__", "tool") if name is None else name,
        description=(inspect.getdoc(function) or "") if description is None else description,
        defer_loading=defer_loading,
    )
