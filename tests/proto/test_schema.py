"""Strict schemas: key for key what the official SDK derives for the same pydantic model.

Each row pairs an attrs class or dataclass (or TypedDict) with its pydantic twin;
the expected schema is `openai.lib._pydantic.to_strict_json_schema` of the twin.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from typing import Annotated, Any, Literal, TypedDict

import attrs
import pydantic
import pytest
from openai.lib._pydantic import to_strict_json_schema as sdk_schema
from openai.lib._tools import pydantic_function_tool

from oxide_proto import (
    InvalidJSONError,
    OutputValidationError,
    SchemaError,
    TypedTool,
    function_tool,
    parse_into,
    response_format_for,
    responses_function_tool,
    stream_request,
    text_format_for,
    text_with_format,
    to_strict_json_schema,
)
from oxide_proto.helpers._schema import output_parse_type

# --- shapes, each twice -------------------------------------------------------------


@attrs.define
class Flat:
    name: str
    count: int
    ratio: float
    ok: bool


class PFlat(pydantic.BaseModel):
    name: str
    count: int
    ratio: float
    ok: bool


@dataclasses.dataclass
class Address:
    """Where someone lives."""

    street: str
    city: str = dataclasses.field(metadata={"description": "The city name."})


class PAddress(pydantic.BaseModel):
    """Where someone lives."""

    street: str
    city: str = pydantic.Field(description="The city name.")


class Color(enum.Enum):
    """A primary colour."""

    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


@dataclasses.dataclass
class Person:
    """A person and their things."""

    first_name: str
    address: Address
    previous: list[Address]
    second_home: Address | None
    nickname: str | None
    favourite: Color
    size: Size
    mood: Literal["happy", "sad"]
    kind: Literal["person"]
    tags: list[list[str]]
    work: Address = dataclasses.field(metadata={"description": "Where they work."})
    age: int | str = 0
    maybe_colour: Color | None = None
    default_colour: Color = Color.RED
    score: Annotated[float, "How good."] = 1.5


@pydantic.dataclasses.dataclass
class _Unused:  # keeps pydantic.dataclasses imported for the TypeAdapter row below
    x: int


class PPerson(pydantic.BaseModel):
    """A person and their things."""

    first_name: str
    address: PAddress
    previous: list[PAddress]
    second_home: PAddress | None
    nickname: str | None
    favourite: Color
    size: Size
    mood: Literal["happy", "sad"]
    kind: Literal["person"]
    tags: list[list[str]]
    work: PAddress = pydantic.Field(description="Where they work.")
    age: int | str = 0
    maybe_colour: Color | None = None
    default_colour: Color = Color.RED
    score: Annotated[float, pydantic.Field(description="How good.")] = 1.5


PPerson.model_rebuild()


@attrs.define
class Node:
    """A tree."""

    value: str
    children: list[Node]
    parent: Node | None = None


class PNode(pydantic.BaseModel):
    """A tree."""

    value: str
    children: list[PNode]
    parent: PNode | None = None


@attrs.define
class Leaf:
    x: int


@attrs.define
class Branch:
    y: str


@attrs.define
class Tree:
    root: Node
    either: Leaf | Branch | None
    number: int | float
    limit: int = attrs.field(default=3, metadata={"description": "At most."})
    items: list[int] = attrs.field(factory=list)


class PLeaf(pydantic.BaseModel):
    x: int


class PBranch(pydantic.BaseModel):
    y: str


class PTree(pydantic.BaseModel):
    root: PNode
    either: PLeaf | PBranch | None
    number: int | float
    limit: int = pydantic.Field(default=3, description="At most.")
    items: list[int] = pydantic.Field(default_factory=list)


class Movie(TypedDict):
    """A film."""

    title: str
    year: Annotated[int, "Year of release."]
    rating: float | None


class PMovie(pydantic.BaseModel):
    """A film."""

    title: str
    year: int = pydantic.Field(description="Year of release.")
    rating: float | None


def _rename(schema: Any, names: dict[str, str]) -> Any:
    """The pydantic twins' class names (PAddress) spelled as ours (Address)."""
    text = json.dumps(schema)
    for theirs, ours in names.items():
        text = text.replace(f'"{theirs}"', f'"{ours}"').replace(f'/{theirs}"', f'/{ours}"')
    return json.loads(text)


ROWS = [
    pytest.param(Flat, PFlat, id="flat"),
    pytest.param(Address, PAddress, id="descriptions"),
    pytest.param(Person, PPerson, id="nested-optional-enum-literal-lists-defaults"),
    pytest.param(Node, PNode, id="recursive"),
    pytest.param(Tree, PTree, id="unions-defaults-factories"),
    pytest.param(Movie, PMovie, id="typeddict"),
]
NAMES = {
    "PFlat": "Flat",
    "PAddress": "Address",
    "PPerson": "Person",
    "PNode": "Node",
    "PLeaf": "Leaf",
    "PBranch": "Branch",
    "PTree": "Tree",
    "PMovie": "Movie",
}


@pytest.mark.parametrize(("ours", "theirs"), ROWS)
def test_schema_equals_the_official_sdks(ours: type, theirs: type[pydantic.BaseModel]) -> None:
    assert to_strict_json_schema(ours) == _rename(sdk_schema(theirs), NAMES)


@pytest.mark.parametrize("model", [PFlat, PPerson, PNode, PTree])
def test_pydantic_models_are_used_as_given(model: type[pydantic.BaseModel]) -> None:
    assert to_strict_json_schema(model) == sdk_schema(model)


def test_tools_and_formats() -> None:
    ours = function_tool(Address)
    theirs = pydantic_function_tool(PAddress)
    assert ours == _rename(theirs, NAMES)
    assert ours.type is Address
    assert function_tool(Flat, name="f", description="d")["function"]["description"] == "d"
    assert "description" not in function_tool(Flat)["function"]
    assert responses_function_tool(Address) == {
        "type": "function",
        "name": "Address",
        "parameters": to_strict_json_schema(Address),
        "strict": True,
        "description": "Where someone lives.",
    }
    assert response_format_for(Flat) == {
        "type": "json_schema",
        "json_schema": {"schema": to_strict_json_schema(Flat), "name": "Flat", "strict": True},
    }
    assert text_format_for(Flat, name="x") == {
        "type": "json_schema",
        "schema": to_strict_json_schema(Flat),
        "name": "x",
        "strict": True,
    }


@attrs.define
class FreeForm:
    inner: list[Extras]


@attrs.define
class Extras:
    data: dict[str, int]


@dataclasses.dataclass
class WithAny:
    value: Any


@dataclasses.dataclass
class WithTuple:
    pair: tuple[int, int]


@pytest.mark.parametrize(
    ("tp", "path", "words"),
    [
        (FreeForm, "FreeForm.inner[].data", "free-form dict"),
        (WithAny, "WithAny.value", "Any"),
        (WithTuple, "WithTuple.pair", "tuple"),
        (int, "", "not an attrs class"),
    ],
)
def test_inexpressible_types_name_the_field(tp: type, path: str, words: str) -> None:
    with pytest.raises(SchemaError) as info:
        to_strict_json_schema(tp)
    assert info.value.path == path
    assert words in str(info.value)


class PFree(pydantic.BaseModel):
    data: dict[str, int]


def test_pydantic_free_form_dict_is_refused() -> None:
    with pytest.raises(SchemaError) as info:
        to_strict_json_schema(PFree)
    assert info.value.path == "PFree.data"


# --- parse_into -----------------------------------------------------------------


PERSON = {
    "first_name": "Ada",
    "address": {"street": "1 Way", "city": "London"},
    "previous": [],
    "second_home": None,
    "nickname": "A",
    "favourite": "blue",
    "size": 2,
    "mood": "happy",
    "kind": "person",
    "tags": [["x"]],
    "work": {"street": "2 Way", "city": "Cambridge"},
    "age": "old",
    "maybe_colour": None,
    "default_colour": "red",
    "score": 3,
}


def test_parse_into_each_kind() -> None:
    person = parse_into(Person, json.dumps(PERSON))
    assert person.address == Address("1 Way", "London")
    assert person.favourite is Color.BLUE and person.size is Size.LARGE
    assert person.score == 3.0 and isinstance(person.score, float)
    assert person.age == "old"
    tree = parse_into(
        Tree,
        '{"root": {"value": "r", "children": [{"value": "c", "children": [], "parent": null}],'
        ' "parent": null}, "either": {"y": "b"}, "number": 2.5, "limit": 1, "items": [1]}',
    )
    assert tree.either == Branch("b") and tree.root.children[0].value == "c"
    assert parse_into(Movie, '{"title": "M", "year": 1999, "rating": null}') == {
        "title": "M",
        "year": 1999,
        "rating": None,
    }
    assert parse_into(PFlat, '{"name": "n", "count": 1, "ratio": 1, "ok": true}').count == 1


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"favourite": "green"}, "Person.favourite"),
        ({"address": {"street": "s", "city": 3}}, "Person.address.city"),
        ({"previous": [{"street": "s"}]}, "Person.previous[0].city"),
        ({"tags": [["x", 1]]}, "Person.tags[0][1]"),
        ({"mood": "angry"}, "Person.mood"),
        ({"first_name": None}, "Person.first_name"),
    ],
)
def test_parse_into_names_the_field(change: dict[str, Any], path: str) -> None:
    with pytest.raises(OutputValidationError) as info:
        parse_into(Person, json.dumps({**PERSON, **change}))
    assert info.value.path == path


def test_parse_into_refuses_text_that_is_not_json() -> None:
    with pytest.raises(InvalidJSONError):
        parse_into(Flat, '{"name": ')
    with pytest.raises(OutputValidationError):
        parse_into(PFlat, '{"name": 1}')


def test_typing_extensions_typeddict_is_a_typeddict() -> None:
    # The spelling pydantic requires before Python 3.12.
    import typing_extensions

    class Film(typing_extensions.TypedDict):
        title: str
        year: int

    schema = to_strict_json_schema(Film)
    assert schema["required"] == ["title", "year"]
    assert schema["additionalProperties"] is False
    assert parse_into(Film, '{"title": "M", "year": 1999}') == {"title": "M", "year": 1999}


# --- what a streamed Responses request sends ------------------------------------------


def test_text_with_format_keeps_the_rest_of_text_and_refuses_two_formats() -> None:
    assert text_with_format(None, Flat) == {"format": text_format_for(Flat)}
    assert text_with_format({"verbosity": "low"}, Flat) == {
        "verbosity": "low",
        "format": text_format_for(Flat),
    }
    with pytest.raises(TypeError, match="either text_format or text"):
        text_with_format({"format": {"type": "text"}}, Flat)


def test_stream_request_merges_sets_the_format_and_converts_the_tools() -> None:
    chat_tool = function_tool(Flat, name="flat")
    body, tools = stream_request(
        {"model": "m", "input": "a", "text": {"verbosity": "low"}},
        {"input": "b"},
        text_format=Flat,
        tools=iter([chat_tool, {"type": "web_search"}]),
    )
    assert tools is not None and body["tools"] is tools
    converted, search = tools
    assert converted["name"] == "flat" and converted["type"] == "function"
    assert isinstance(converted, TypedTool) and converted.type is Flat
    assert "function" not in converted
    assert search == {"type": "web_search"}
    assert body["model"] == "m" and body["input"] == "b"
    assert body["text"] == {"verbosity": "low", "format": text_format_for(Flat)}
    plain, none = stream_request(None, {"model": "m", "text": {"format": {"type": "text"}}})
    assert plain == {"model": "m", "text": {"format": {"type": "text"}}} and none is None
    with pytest.raises(TypeError, match="function_tool"):
        stream_request(None, {}, tools=[{"type": "function", "function": {"name": "f"}}])


# -- which type responses.parse() reads the output as -----------------------------------


class _Asked:
    pass


class _Read:
    pass


def _update(fmt: object) -> dict[str, object]:
    return {"type": "configuration_update", "text": {"format": fmt}}


def test_parse_as_wins_over_text_format_and_none_parses_nothing() -> None:
    asked = {"type": "json_schema", "name": "_Asked"}
    choose = functools.partial(output_parse_type, "hi", request_format=asked, text_format=_Asked)
    assert choose(parse_as=None, parse_as_given=False) is _Asked
    assert choose(parse_as=_Read, parse_as_given=True) is _Read
    assert choose(parse_as=None, parse_as_given=True) is None


def test_a_configuration_update_to_another_format_needs_parse_as() -> None:
    asked = {"type": "json_schema", "name": "_Asked"}
    other = {"type": "json_schema", "name": "_Read"}

    def choose(items: list[object], parse_as: type | None = None, given: bool = False) -> object:
        return output_parse_type(
            items,
            request_format=asked,
            text_format=_Asked,
            parse_as=parse_as,
            parse_as_given=given,
        )

    with pytest.raises(TypeError, match="pass parse_as"):
        choose([_update(other)])
    assert choose([_update(other)], _Read, True) is _Read
    assert choose([_update(asked)]) is _Asked  # the request's own schema
    assert choose([_update({"type": "text"})]) is None  # plain text: nothing to parse
    with pytest.raises(TypeError, match="plain text"):
        choose([_update({"type": "text"})], _Read, True)
    # Only the last update with a format counts; other items are passed over.
    assert choose([_update({"type": "text"}), "text", {"type": "message"}, _update(asked)]) is (
        _Asked
    )
    assert choose([_update(other), _update({"type": "text"}), {"text": None}]) is None
    assert choose([{"type": "configuration_update", "text": "nope"}]) is _Asked
