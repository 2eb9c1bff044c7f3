"""Every method returns None exactly where the official SDK's does, and is typed
where the official one is.

Both clients (blocking and async) are walked next to the official `OpenAI` /
`AsyncOpenAI`: each resource reached through a property, each public method of
it, and the return annotation of each. A method the official SDK annotates
`-> None` (`live.sessions.hangup`, `containers.delete`, ...) must be annotated
`-> None` here, and the reverse; code that does `assert client.x.y(...) is None`
or types a variable from the method holds on both. The types of the other
methods differ in name by design (oxide's models), so only None is compared,
and looseness: a method annotated `Any` (or `object`, anywhere in its return
annotation) where the official one names a type leaves a type checker blind
where the official SDK did not (`webhooks.unwrap`, the generic `get`/`post`/...).
The compat clients (`oxide_io.compat.OpenAI` / `AsyncOpenAI`) are walked too.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

import pytest

import oxide_io
import oxide_io.compat

openai = pytest.importorskip("openai")

# The modules whose classes are resources: walking stops at anything else.
_RESOURCE_MODULES = ("openai.resources", "oxide_io._async.resources", "oxide_io._sync.resources")
# Client members that are no resource methods (views, option helpers).
_SKIPPED = frozenset({"with_raw_response", "with_streaming_response", "with_options", "copy"})


def return_annotations(client: object) -> dict[str, object]:
    """Dotted method name -> its return annotation, for every public method of
    `client` and of the resources reached from it through properties."""
    found: dict[str, object] = {}
    seen: set[int] = set()

    def walk(obj: object, prefix: tuple[str, ...]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        cls = type(obj)
        for name in dir(cls):
            if name.startswith("_") or name in _SKIPPED:
                continue
            attr = inspect.getattr_static(cls, name, None)
            if isinstance(attr, functools.cached_property | property):
                try:
                    child = getattr(obj, name)
                except Exception:  # a property that needs configuration (a key, a region)
                    continue
                if type(child).__module__.startswith(_RESOURCE_MODULES):
                    walk(child, (*prefix, name))
            elif inspect.isfunction(attr):
                returned = attr.__annotations__.get("return", inspect.Parameter.empty)
                found[".".join((*prefix, name))] = returned

    walk(client, ())
    return found


def _is_none(annotation: object) -> bool:
    # Both packages write `from __future__ import annotations`: the annotation is
    # the string; a module without it would hold None itself.
    return annotation in ("None", None, type(None))


def none_mismatches(official: object, ours: object) -> list[tuple[str, object, object]]:
    """(method, official annotation, oxide's) where exactly one of them is None."""
    theirs, mine = return_annotations(official), return_annotations(ours)
    return [
        (name, theirs[name], mine[name])
        for name in sorted(set(theirs) & set(mine))
        if _is_none(theirs[name]) != _is_none(mine[name])
    ]


_LOOSE = re.compile(r"\b(Any|object)\b")


def _is_loose(annotation: object) -> bool:
    # An unannotated method counts as loose: a checker sees it as `Any` too.
    if annotation is inspect.Parameter.empty:
        return True
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return bool(_LOOSE.search(text))


def loose_mismatches(official: object, ours: object) -> list[tuple[str, object, object]]:
    """(method, official annotation, oxide's) where oxide's return annotation is
    loose (`Any`, `object`, none at all) and the official one is not."""
    theirs, mine = return_annotations(official), return_annotations(ours)
    return [
        (name, theirs[name], mine[name])
        for name in sorted(set(theirs) & set(mine))
        if _is_loose(mine[name]) and not _is_loose(theirs[name])
    ]


CLIENTS = [
    pytest.param(openai.OpenAI, oxide_io.Client, id="blocking"),
    pytest.param(openai.AsyncOpenAI, oxide_io.AsyncClient, id="async"),
    pytest.param(openai.OpenAI, oxide_io.compat.OpenAI, id="compat-blocking"),
    pytest.param(openai.AsyncOpenAI, oxide_io.compat.AsyncOpenAI, id="compat-async"),
]


@pytest.mark.parametrize(("official", "ours"), CLIENTS)
def test_methods_return_none_where_the_official_ones_do(official: Any, ours: Any) -> None:
    theirs = official(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    mine = ours(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    assert none_mismatches(theirs, mine) == []
    # The walk reaches the methods in question (a walk that found nothing would pass).
    official_none = {n for n, a in return_annotations(theirs).items() if _is_none(a)}
    assert {"containers.delete", "live.sessions.hangup", "responses.delete"} <= official_none
    assert official_none <= set(return_annotations(mine))


@pytest.mark.parametrize(("official", "ours"), CLIENTS)
def test_methods_are_typed_where_the_official_ones_are(official: Any, ours: Any) -> None:
    theirs = official(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    mine = ours(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    assert loose_mismatches(theirs, mine) == []
    # The methods that were loose once are reached, typed on both sides.
    walked = return_annotations(mine)
    for name in ("webhooks.unwrap", "get", "post", "patch", "put", "delete"):
        assert not _is_loose(walked[name]), (name, walked[name])
    # Most methods are compared: a walk that lost its way would pass on nothing.
    assert len(set(return_annotations(theirs)) & set(walked)) > 300


def test_the_walk_reports_a_method_that_returns_a_value_where_the_official_returns_none() -> None:
    class Files:
        __module__ = "openai.resources.files"

        def delete(self) -> None: ...

        def retrieve(self) -> int:
            return 1

    class OurFiles:
        __module__ = "oxide_io._sync.resources.files"

        def delete(self) -> int:
            return 1

        def retrieve(self) -> None: ...

    class Official:
        files = functools.cached_property(lambda self: Files())

    class Ours:
        files = functools.cached_property(lambda self: OurFiles())

    assert none_mismatches(Official(), Ours()) == [
        ("files.delete", "None", "int"),
        ("files.retrieve", "int", "None"),
    ]


def test_the_walk_reports_a_method_typed_any_where_the_official_names_a_type() -> None:
    class Hooks:
        __module__ = "openai.resources.webhooks"

        def unwrap(self) -> int:
            return 1

        def verify(self) -> None: ...

        def anything(self) -> Any: ...

    class OurHooks:
        __module__ = "oxide_io._sync.resources.webhooks"

        def unwrap(self) -> Any: ...

        def verify(self) -> None: ...

        def anything(self) -> Any: ...

        def bare(self):  # type: ignore[no-untyped-def]
            return 1

    class Official:
        webhooks = functools.cached_property(lambda self: Hooks())

        def get(self) -> int:
            return 1

        def bare(self) -> int:
            return 1

    class Ours:
        webhooks = functools.cached_property(lambda self: OurHooks())

        def get(self) -> dict[str, object]:
            return {}

        def bare(self):  # type: ignore[no-untyped-def]
            return 1

    assert loose_mismatches(Official(), Ours()) == [
        ("bare", "int", inspect.Parameter.empty),
        ("get", "int", "dict[str, object]"),
        ("webhooks.unwrap", "int", "Any"),
    ]
