"""Hosted agents' local function tools and output format (`oxide_proto.helpers._agent_tools`).

The official SDK (installed for the tests) is the specification: the same
function or model gives the same tool definition and the same tool result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import attrs
import pydantic
import pytest
from openai.lib.beta import agents as official

from oxide_proto import (
    AgentFunctionTool,
    OutputValidationError,
    agent_function_tool,
    agent_pydantic_function_tool,
    agent_text_format,
    agent_tool_output,
)


def forecast(city: str, days: int = 3, units: list[str] | None = None) -> dict[str, Any]:
    """Forecast for a city."""
    return {"city": city, "days": days, "units": units}


class Query(pydantic.BaseModel):
    """Look something up."""

    text: str
    limit: int = 5


def _same_keys(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def test_function_tool_definition_and_result_match_the_official_ones() -> None:
    ours, theirs = agent_function_tool(forecast), official.function_tool(forecast)
    assert _same_keys(ours.definition) == _same_keys(theirs.definition)
    assert ours.name == theirs.name == "forecast"
    for arguments in ({"city": "Oslo"}, {"city": "Rome", "days": 1, "units": ["C"]}):
        assert ours(arguments) == theirs(arguments)


def test_decorator_forms_and_overrides() -> None:
    @agent_function_tool(name="lookup", description="Find it.", defer_loading=True)
    def find(term: str) -> str:
        return term.upper()

    assert find.definition["name"] == "lookup"
    assert find.definition["description"] == "Find it."
    assert find.definition["defer_loading"] is True
    assert find({"term": "x"}) == "X"
    # The definition is a copy: changing it changes nothing.
    find.definition["name"] = "other"
    assert find.name == "lookup"


def test_function_tool_arguments_are_checked_before_the_function_runs() -> None:
    ran: list[Any] = []

    @agent_function_tool
    def record(count: int) -> None:
        ran.append(count)

    with pytest.raises(OutputValidationError, match="expected an integer"):
        record({"count": "3"})
    with pytest.raises(OutputValidationError, match="unexpected argument 'extra'"):
        record({"count": 3, "extra": 1})
    with pytest.raises(OutputValidationError, match="missing field"):
        record({})
    assert ran == []
    assert record({"count": 3}) is None
    assert ran == [3]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda *items: None, "named ones"),
        (lambda **items: None, "named ones"),
        (lambda value: None, "needs a public name and an annotation"),
    ],
)
def test_function_tool_refuses_signatures_it_cannot_describe(function: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        agent_function_tool(function)


def test_a_private_parameter_is_refused() -> None:
    def hidden(_secret: str) -> None:
        pass

    with pytest.raises(TypeError, match="'_secret'"):
        agent_function_tool(hidden)


def test_pydantic_function_tool_matches_the_official_one() -> None:
    ours = agent_pydantic_function_tool(Query, handler=lambda q: {"hits": [q.text] * q.limit})
    theirs = official.pydantic_function_tool(Query, handler=lambda q: {"hits": [q.text] * q.limit})
    assert _same_keys(ours.definition) == _same_keys(theirs.definition)
    assert (
        ours({"text": "a", "limit": 2}) == theirs({"text": "a", "limit": 2}) == '{"hits":["a","a"]}'
    )
    with pytest.raises(pydantic.ValidationError):
        ours({"limit": 2})


@attrs.define
class Move:
    """A move."""

    x: int
    y: int = 0


@dataclasses.dataclass
class Point:
    x: float
    y: float


def test_attrs_and_dataclass_arguments() -> None:
    tool = agent_pydantic_function_tool(Move, handler=lambda move: Point(move.x, move.y))
    assert tool.definition == {
        "type": "function",
        "name": "Move",
        "description": "A move.",
        "parameters": {
            "type": "object",
            "title": "Move",
            "description": "A move.",
            "properties": {
                "x": {"type": "integer", "title": "X"},
                "y": {"type": "integer", "title": "Y", "default": 0},
            },
            "required": ["x"],
        },
    }
    # Extra keys are ignored for a class of the caller's (as pydantic's default does).
    assert tool({"x": 2, "other": 1}) == '{"x":2,"y":0}'


def test_a_tool_built_directly_returns_what_its_handler_does() -> None:
    tool: AgentFunctionTool[Any] = AgentFunctionTool(Query, lambda q: q, name="raw", description="")
    returned = tool({"text": "t"})
    assert isinstance(returned, Query)
    with pytest.raises(ValueError, match="non-empty"):
        AgentFunctionTool(Query, lambda q: q, name="", description="")
    with pytest.raises(TypeError, match="defer_loading"):
        AgentFunctionTool(Query, lambda q: q, name="x", description="", defer_loading="yes")


class Choice(pydantic.RootModel[int | str]):
    pass


def test_arguments_must_be_an_object() -> None:
    with pytest.raises(TypeError, match="must be an object"):
        agent_pydantic_function_tool(Choice, handler=lambda c: c)
    with pytest.raises(TypeError, match="not 3"):
        agent_pydantic_function_tool(3, handler=lambda c: c)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "output",
    [
        None,
        "text",
        {"a": 1},
        [1, 2],
        (1, "x"),
        [{"type": "input_text", "text": "hi"}, {"type": "input_image", "image_url": "u"}],
        [{"type": "input_text", "text": "hi", "extra": 1}],
        [],
        3.5,
        True,
        Query(text="q"),
    ],
)
def test_tool_output_matches_the_official_conversion(output: Any) -> None:
    tool = official.pydantic_function_tool(Query, handler=lambda q: output)
    assert agent_tool_output(output) == tool({"text": "t"})


def test_tool_output_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError):
        agent_tool_output(float("nan"))
    with pytest.raises(TypeError):
        agent_tool_output(object())
    assert agent_tool_output(Point(1, 2)) == '{"x":1,"y":2}'
    assert agent_tool_output(iter([1])) == "[1]"


def test_stages_are_told_as_they_start() -> None:
    stages: list[str] = []
    tool = agent_function_tool(forecast)
    tool.run({"city": "x"}, stages.append)
    assert stages == ["arguments", "execution", "output"]
    stages.clear()
    with pytest.raises(OutputValidationError):
        tool.run({"city": 1}, stages.append)
    assert stages == ["arguments"]


def test_a_coroutine_handler_gives_an_awaitable_converted_result() -> None:
    @agent_function_tool
    async def lookup(term: str) -> dict[str, str]:
        return {"found": term}

    stages: list[str] = []

    async def main() -> Any:
        return await lookup.run({"term": "t"}, stages.append)

    assert asyncio.run(main()) == '{"found":"t"}'
    assert stages == ["arguments", "execution", "output"]
    pending = lookup({"term": "u"})
    pending.close()  # a result never awaited is closed without a warning


def test_agent_text_format_matches_the_official_one() -> None:
    assert _same_keys(agent_text_format(Query)) == _same_keys(official.agent_text_format(Query))
    assert agent_text_format(Point)["schema"]["additionalProperties"] is False
    with pytest.raises(TypeError, match="output_type"):
        agent_text_format(int)
