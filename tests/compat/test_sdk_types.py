"""The official types oxide has no type of its own for, written from the SDK's facts.

`tools/codegen/compat_defs.py` writes each official name the compat table pairs with
none of oxide's types as a real type (`oxide_io.compat._sdk_types`): an alias of the
same Literal values and members, a model or TypedDict of the same fields. These
tests hold every one of them against the installed official SDK, and check that they
work as types do: in annotations, `get_args`, `isinstance`, decoding.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import typing
from typing import Any

import pytest
import typing_extensions

from oxide_io.compat import _modules
from oxide_io.compat._types_table import MODULES
from oxide_proto.api._decode import _hints as model_hints
from oxide_proto.api._model import BaseModel

pytest.importorskip("openai")


def _written() -> list[tuple[str, str]]:
    return [
        (rel, name)
        for rel in sorted(MODULES)
        for name, address in sorted(_modules.entries(rel).items())
        if address.startswith(".")
    ]


def _official(rel: str, name: str) -> Any:
    return getattr(importlib.import_module("openai.types" + (f".{rel}" if rel else "")), name)


def _ours(rel: str, name: str) -> Any:
    return getattr(
        importlib.import_module("oxide_io.compat.types" + (f".{rel}" if rel else "")), name
    )


class Compare:
    """Whether an oxide annotation says what the official one says, type by type.

    A class stands for an official class when the compat table maps the official one
    to it, or, for a shape the public tree does not list, when it has the same
    fields (checked in turn). Required/NotRequired and Annotated's metadata are the
    TypedDict's and the SDK's business: compared apart, or not at all."""

    def __init__(self) -> None:
        self.table: dict[int, Any] = {}
        for rel in MODULES:
            for name, address in _modules.entries(rel).items():
                if address:
                    self.table[id(_official(rel, name))] = _ours(rel, name)
        self.checked: dict[tuple[int, int], bool] = {}

    def same(self, official: Any, ours: Any) -> bool:
        official, ours = _bare(official), _bare(ours)
        if isinstance(official, type):
            known = self.table.get(id(official))
            if known is not None and known is ours:
                return True
            if official is ours:
                return True
            if _is_record(official) and _is_record(ours):
                return self.same_record(official, ours)
            return official is ours or (
                official.__module__ in ("os", "io") and typing.get_origin(ours) is official
            )
        origin = typing.get_origin(official)
        if origin is typing.Literal:
            return typing.get_origin(ours) is typing.Literal and set(
                typing.get_args(official)
            ) == set(typing.get_args(ours))
        if _is_union(official):
            theirs, mine = [], _members(ours)
            for member in _members(official):
                # A class the table maps to an alias of oxide's (a TypedDict that is
                # oxide's `str | ...`): its members stand in it.
                known = self.table.get(id(member))
                if isinstance(member, type) and known is not None and _is_union(known):
                    theirs += _members(known)
                else:
                    theirs.append(member)
            return all(any(self.same(a, b) for b in mine) for a in theirs) and all(
                any(self.same(a, b) for a in theirs) for b in mine
            )
        args, our_args = typing.get_args(official), typing.get_args(ours)
        if len(args) != len(our_args):
            return False
        return all(
            a is b or (a is Ellipsis and b is Ellipsis) or self.same(a, b)
            for a, b in zip(args, our_args, strict=True)
        )

    def same_record(self, official: type, ours: type) -> bool:
        key = (id(official), id(ours))
        if key in self.checked:
            return self.checked[key]
        self.checked[key] = True  # a shape that holds itself: assumed, then checked
        theirs, mine = fields(official), fields(ours)
        result = set(theirs) == set(mine) and all(
            self.same(theirs[name], mine[name]) for name in theirs
        )
        self.checked[key] = result
        return result


def _bare(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin in (typing.Annotated, typing_extensions.Required, typing_extensions.NotRequired):
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Union or type(tp).__name__ == "UnionType"


def _members(tp: Any) -> list[Any]:
    found: list[Any] = []
    for arg in typing.get_args(_bare(tp)):
        arg = _bare(arg)
        found += _members(arg) if _is_union(arg) else [arg]
    return found


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and (
        typing.is_typeddict(tp) or hasattr(tp, "model_fields") or issubclass(tp, BaseModel)
    )


def fields(cls: type) -> dict[str, Any]:
    """A record's fields by the name a caller uses, with their types."""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return dict(model_hints(cls))
    if hasattr(cls, "model_fields"):
        return {name: f.annotation for name, f in cls.model_fields.items()}
    return typing.get_type_hints(cls, include_extras=True)


def _required(cls: type) -> set[str]:
    if issubclass(cls, BaseModel):
        return set(cls._required)
    if hasattr(cls, "model_fields"):
        return {name for name, f in cls.model_fields.items() if f.is_required()}
    hints = typing.get_type_hints(cls, include_extras=True)
    return {
        name
        for name, hint in hints.items()
        if typing.get_origin(hint) is typing_extensions.Required
    }


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TypedDict keys' Required is 3.11's")
def test_every_written_type_says_what_the_official_one_says() -> None:
    written = _written()
    assert len(written) > 1000
    compare = Compare()
    for rel, name in written:
        official, ours = _official(rel, name), _ours(rel, name)
        assert not getattr(ours, "__oxide_missing__", False), (rel, name)
        assert compare.same(official, ours), (rel, name)
        if isinstance(official, type) and _is_record(official):
            assert typing.is_typeddict(ours) == typing.is_typeddict(official), (rel, name)
            assert _required(ours) == _required(official), (rel, name)


def test_a_model_keeps_the_json_keys_the_sdk_renames() -> None:
    renamed = 0
    for rel, name in _written():
        official = _official(rel, name)
        if not hasattr(official, "model_fields"):
            continue
        aliases = {n: f.alias for n, f in official.model_fields.items() if f.alias not in (None, n)}
        assert dict(_ours(rel, name)._json_names) == aliases, (rel, name)
        renamed += bool(aliases)
    assert renamed >= 1


def test_a_literal_alias_has_the_official_values() -> None:
    import openai.types as official

    from oxide_io.compat import types

    assert set(typing.get_args(types.ChatModel)) == set(typing.get_args(official.ChatModel))
    assert "gpt-4o" in typing.get_args(types.ChatModel)
    # A union of a string and the literal aliases: the same members, in the same order.
    assert typing.get_args(types.AllModels) == typing.get_args(official.AllModels)


def test_a_union_alias_holds_the_compat_types_and_checks_instances() -> None:
    from oxide_io.compat import types

    members = typing.get_args(types.DecisionQuestionInputPart)
    assert members == (
        types.DecisionQuestionInputText,
        types.DecisionQuestionInputImage,
        types.DecisionInputJSON,
    )
    part = types.DecisionQuestionInputText.model_validate({"type": "input_text", "text": "hi"})
    # The official alias is `Annotated` (its discriminator), which `isinstance` refuses;
    # the written one is the plain union, which takes it.
    assert isinstance(part, types.DecisionQuestionInputPart)
    assert not isinstance(object(), types.DecisionQuestionInputPart)


def test_a_written_model_decodes_and_dumps_as_oxide_models_do() -> None:
    from oxide_io.compat.types import beta

    data = {"type": "response.steer.accepted", "sequence_number": 3, "later": True}
    event = beta.BetaResponseSteerAcceptedEvent.model_validate(data)
    assert isinstance(event, BaseModel)
    assert event.sequence_number == 3
    assert event.later is True  # a key added since: kept, readable
    assert event.to_dict() == data
    with pytest.raises(Exception, match="sequence_number"):
        beta.BetaResponseSteerAcceptedEvent.model_validate({"sequence_number": "three"})
    built = beta.BetaResponseSteerAcceptedEvent(
        type="response.steer.accepted", sequence_number=1, steer=None
    )
    assert built.model_dump(exclude_none=True) == {
        "type": "response.steer.accepted",
        "sequence_number": 1,
    }


def test_a_written_models_fields_decode_into_oxides_types_and_written_ones() -> None:
    """A field holding a type oxide has decodes into oxide's class; a shape oxide lacks,
    into the written one; a wrong value is refused with its path."""
    import openai.types.beta as official
    from oxide_io.compat.types import beta

    import oxide_proto.types as ox

    data = {
        "type": "response.steer.failed",
        "sequence_number": 7,
        "error": {"type": "invalid_request_error", "message": "late", "code": "x", "param": None},
        "steer": {"input": "stop", "previous_response_id": "resp_1"},
    }
    event = beta.BetaResponseSteerFailedEvent.model_validate(data)
    assert type(event.error) is ox.Error
    assert event.error.message == "late"
    written = model_hints(beta.BetaResponseSteerFailedEvent)["steer"]
    assert written.__module__ == "oxide_io.compat._sdk_types.beta"
    assert type(event.steer) is written
    assert event.steer.previous_response_id == "resp_1"
    assert event.to_dict() == data
    # The official model reads the same payload to the same values.
    theirs = official.BetaResponseSteerFailedEvent.model_validate(data)
    assert theirs.model_dump(exclude_unset=True) == event.model_dump(exclude_unset=True)
    bad = {**data, "steer": {"input": 5, "previous_response_id": "resp_1"}}
    with pytest.raises(Exception, match="steer"):
        beta.BetaResponseSteerFailedEvent.model_validate(bad)


def test_what_stays_a_placeholder_is_what_the_sdk_types_for_type_checkers_only() -> None:
    left = [
        (rel, name)
        for rel in sorted(MODULES)
        for name, address in sorted(_modules.entries(rel).items())
        if not address
    ]
    # Its keys are typed with names the SDK imports under TYPE_CHECKING only.
    assert {name for _, name in left} <= {
        "WebSocketConnectionOptions",
        "WebsocketConnectionOptions",
        "SyncWebSocketConnectionOptions",
    }


def test_a_written_area_loads_on_first_use_and_oxides_types_as_read() -> None:
    code = (
        "import sys\n"
        "def loaded(part):\n"
        "    print(sorted(m for m in sys.modules if part in m))\n"
        "from oxide_io.compat.types.chat import ChatCompletion\n"
        "from oxide_io.compat.types import beta\n"
        "loaded('_sdk_types.')\n"
        "from oxide_io.compat.types import ChatModel\n"
        "loaded('_sdk_types.')\n"
        "loaded('oxide_proto.types.vector_stores')\n"
        # An alias of oxide's classes imports their module when first read.
        "from oxide_io.compat.types import FileChunkingStrategy\n"
        "loaded('oxide_proto.types.vector_stores')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.splitlines() == [
        "[]",
        "['oxide_io.compat._sdk_types.root']",
        "[]",  # the root area names oxide's vector store types, not read yet
        "['oxide_proto.types.vector_stores']",
    ]
