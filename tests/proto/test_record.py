"""`oxide_proto.base.frozen`: the core's value classes behave as frozen attrs classes."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from oxide_proto.base import FrozenInstanceError, field, frozen, replace


def _positive(instance: object, name: str, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")


@frozen
class Point:
    x: int
    y: int = 0


@frozen(kw_only=True)
class Settings:
    limit: int = field(default=3, validator=_positive)
    tags: list[str] = field(factory=list)
    secret: str = field(default="", repr=False)


@frozen
class Span:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end before start")

    def __repr__(self) -> str:
        return f"<{self.start}..{self.end}>"


def test_positional_and_keyword_construction_with_defaults() -> None:
    assert Point(1).y == 0
    assert Point(1, 2) == Point(x=1, y=2)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_kw_only_refuses_positional_arguments() -> None:
    with pytest.raises(TypeError):
        Settings(5)  # type: ignore[call-arg]
    assert Settings(limit=5).limit == 5


def test_factory_gives_each_instance_its_own_value() -> None:
    a, b = Settings(), Settings()
    assert a.tags == [] and a.tags is not b.tags


def test_validator_names_the_field() -> None:
    with pytest.raises(ValueError, match="limit must be positive, not 0"):
        Settings(limit=0)


def test_post_init_checks_fields_together() -> None:
    with pytest.raises(ValueError, match="end before start"):
        Span(3, 1)


def test_repr_lists_fields_but_hides_secrets_and_keeps_an_own_repr() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    shown = repr(Settings(secret="sk-hidden"))
    assert "sk-hidden" not in shown and shown == "Settings(limit=3, tags=[])"
    assert repr(Span(1, 2)) == "<1..2>"


def test_equality_and_hash_are_by_value_and_class() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(2, 1)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != (1, 2)  # type: ignore[comparison-overlap]
    assert len({Point(1, 2), Point(1, 2), Point(0, 0)}) == 2


def test_fields_cannot_be_set_or_deleted() -> None:
    point = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        point.x = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.y
    with pytest.raises(AttributeError):
        point.z = 1  # type: ignore[attr-defined]
    assert point == Point(1, 2)


def test_slots_mean_no_instance_dict() -> None:
    assert not hasattr(Point(1), "__dict__")
    assert vars(Point)["__slots__"] == ("x", "y")


def test_pickle_and_copy_round_trip() -> None:
    settings = Settings(limit=7, tags=["a"], secret="s")
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert copy.copy(settings) == settings
    assert copy.deepcopy(Point(1, 2)) == Point(1, 2)


def test_replace_validates_and_refuses_unknown_fields() -> None:
    assert replace(Point(1, 2), y=5) == Point(1, 5)
    with pytest.raises(ValueError):
        replace(Settings(), limit=-1)
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(Point(1), z=3)


def test_structural_pattern_matching() -> None:
    def where(value: Any) -> str:
        match value:
            case Point(0, y):
                return f"on the y axis at {y}"
            case Settings(limit=limit):
                return f"limit {limit}"
        return "elsewhere"

    assert where(Point(0, 4)) == "on the y axis at 4"
    assert where(Settings(limit=9)) == "limit 9"
    assert where(Point(1, 1)) == "elsewhere"


def test_required_field_after_a_default_is_refused_unless_keyword_only() -> None:
    with pytest.raises(TypeError, match="without a default"):

        @frozen
        class Bad:
            a: int = 1
            b: int  # type: ignore[misc]

    @frozen(kw_only=True)
    class Fine:
        a: int = 1
        b: int

    assert Fine(b=2).a == 1


def test_a_field_takes_a_default_or_a_factory_not_both() -> None:
    with pytest.raises(TypeError):
        field(default=1, factory=int)  # type: ignore[call-overload]


def test_a_failing_init_names_its_record_in_the_traceback() -> None:
    # The generated `__init__` keeps a file name that says which record it is.
    with pytest.raises(ValueError) as failed:
        Span(3, 1)
    names = []
    tb = failed.value.__traceback__
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert "<record Span>" in names
