"""How the compat types table pairs official names with oxide's types, and what it found.

`tools/codegen/generate_compat_types.py` pairs official classes with oxide's by
name, through the endpoints, through fields and union members (by their `type`
tag, else by their field names), and official union aliases with the oxide alias
of the same members. The SDK supplement names the unions the spec answers with
inline (`TranscriptionCreateResponse`), so that the official alias has an oxide
twin to pair with.
"""

from __future__ import annotations

import json
import pathlib
import sys
import types
from collections.abc import Iterator
from typing import Any, Literal, TypedDict, Union

import pytest

import oxide_proto.types as ox
from oxide_io.compat import _modules

pytest.importorskip("openai")

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODEGEN = ROOT / "tools" / "codegen"


@pytest.fixture(scope="module")
def generator() -> Iterator[Any]:
    sys.path.insert(0, str(CODEGEN))
    try:
        import generate_compat_types

        yield generate_compat_types
    finally:
        sys.path.remove(str(CODEGEN))


# Two sides of a union whose members carry no tag (a transcription's formats).
class Plain(TypedDict):
    text: str


class Verbose(TypedDict):
    text: str
    duration: float


class OxPlain(TypedDict):
    text: str


class OxPlainToo(TypedDict):
    text: str


class OxVerbose(TypedDict):
    text: str
    duration: float


# Members that share a tag: alike fields do not tell them apart.
class TaggedA(TypedDict):
    type: Literal["t"]
    text: str


class TaggedB(TypedDict):
    type: Literal["t"]
    text: str
    extra: int


class OxTaggedA(TypedDict):
    type: Literal["t"]
    text: str


class OxTaggedB(TypedDict):
    type: Literal["t"]
    text: str
    extra: int


def test_untagged_members_pair_by_their_field_names(generator: Any) -> None:
    pairs = set(generator._pair([Plain, Verbose], [OxVerbose, OxPlain]))
    assert pairs == {(Plain, OxPlain), (Verbose, OxVerbose)}
    # Not when asked for tags only (whether two aliases mean the same thing).
    assert list(generator._pair([Plain, Verbose], [OxVerbose, OxPlain], by_keys=False)) == []


def test_field_names_pair_nothing_ambiguous(generator: Any) -> None:
    # Members of one tag stay unpaired, even with telling fields.
    assert list(generator._pair([TaggedA, TaggedB], [OxTaggedA, OxTaggedB])) == []
    # Two classes on a side with the same fields: those stay unpaired.
    found = list(generator._pair([Plain, Verbose], [OxPlain, OxPlainToo, OxVerbose]))
    assert found == [(Verbose, OxVerbose)]


def test_a_union_alias_pairs_with_the_alias_of_its_members(generator: Any) -> None:
    official = Union[Plain, Verbose]  # noqa: UP007 - the official SDK's spelling
    paired = {id(Plain): OxPlain, id(Verbose): OxVerbose}
    same = OxPlain | OxVerbose  # type: ignore[operator]
    wider = OxPlain | OxVerbose | OxTaggedA  # type: ignore[operator]
    side = types.SimpleNamespace(models={"Same": same, "Wider": wider, "OxPlain": OxPlain})
    assert list(generator.pair_unions([official], paired, side)) == [(official, same)]
    # A member not paired yet: nothing to go by.
    assert list(generator.pair_unions([official], {id(Plain): OxPlain}, side)) == []
    # An oxide alias of fewer members does not stand for it either.
    side.models = {"Wider": wider, "Fewer": OxPlain | OxTaggedA}  # type: ignore[operator]
    assert list(generator.pair_unions([official], paired, side)) == []


def test_the_table_pairs_the_audio_unions_and_their_members() -> None:
    from oxide_io.compat.types import audio
    from oxide_io.compat.types.audio import transcription_create_response

    assert audio.TranscriptionCreateResponse is ox.TranscriptionCreateResponse
    assert transcription_create_response.TranscriptionCreateResponse is (
        ox.TranscriptionCreateResponse
    )
    assert set(ox.TranscriptionCreateResponse.__args__) == {
        ox.CreateTranscriptionResponseJson,
        ox.CreateTranscriptionResponseVerboseJson,
        ox.CreateTranscriptionResponseDiarizedJson,
    }
    assert audio.Transcription is ox.CreateTranscriptionResponseJson
    assert audio.TranscriptionVerbose is ox.CreateTranscriptionResponseVerboseJson
    assert audio.TranscriptionDiarized is ox.CreateTranscriptionResponseDiarizedJson
    assert audio.TranslationCreateResponse is ox.TranslationCreateResponse
    assert audio.Translation is ox.CreateTranslationResponseJson
    assert audio.TranslationVerbose is ox.CreateTranslationResponseVerboseJson


def test_the_table_pairs_a_page_item_union() -> None:
    from oxide_io.compat.types.beta.chatkit import chatkit_thread_item_list

    assert _modules.entries("beta.chatkit.chatkit_thread_item_list")["Data"] == "t:ThreadItem"
    assert chatkit_thread_item_list.Data is ox.ThreadItem


def test_the_supplement_names_the_inline_unions_as_the_sdk_does() -> None:
    spec = json.loads((ROOT / "spec" / "openai-openapi.prism.json").read_text(encoding="utf-8"))
    supplement = json.loads((ROOT / "spec" / "sdk-supplement.json").read_text(encoding="utf-8"))
    schemas = supplement["components"]["schemas"]
    for path, name in (
        ("/audio/transcriptions", "TranscriptionCreateResponse"),
        ("/audio/translations", "TranslationCreateResponse"),
    ):
        inline = spec["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]
        assert schemas[name]["oneOf"] == inline["schema"]["oneOf"]
        assert schemas[name]["x-oaiMeta"] == {"group": "Audio"}
    # The one method the SDK reads as text.
    assert supplement["x-extend"]["text"] == ["files.retrieve_content"]


# --- a method's keyword arguments as one TypedDict ------------------------------------


def _keyword_arguments(function: Any) -> dict[str, bool]:
    """A method's keyword arguments (name -> required), as `**kwargs` may hold them."""
    import inspect

    skip = {"self", "extra_headers", "extra_query", "extra_body", "timeout"}
    parameters = list(inspect.signature(function).parameters.values())
    return {
        p.name: p.default is inspect.Parameter.empty
        for p in parameters
        if p.name not in skip and p.kind is inspect.Parameter.KEYWORD_ONLY
    }


# Arguments a method takes that the API never sees (the operations generator's
# `LOCAL_ARGUMENTS`): the official SDK's TypedDict of the method has none of them either.
LOCAL_ARGUMENTS = {"beta.agents.sessions.create": {"output_type", "tool_handlers"}}


def test_each_methods_arguments_typeddict_holds_its_keyword_arguments() -> None:
    import oxide_io
    from oxide_proto.types.params import calls

    client = oxide_io.Client(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    assert calls.SDK_METHODS["ChatCompletionCreateParams"] == "chat.completions.create"
    assert calls.SDK_METHODS["CompletionCreateParams"] == "completions.create"
    assert len(calls.SDK_METHODS) > 250
    for name, dotted in calls.SDK_METHODS.items():
        target: Any = client
        for part in dotted.split("."):
            target = getattr(target, part)
        typed = getattr(calls, name)
        wanted = _keyword_arguments(target)
        for local in LOCAL_ARGUMENTS.get(dotted, ()):
            del wanted[local]
        assert set(typed.__annotations__) == set(wanted), dotted
        # Annotations are strings here (postponed), `Required[...]` among them.
        annotations = {
            k: getattr(v, "__forward_arg__", v) for k, v in typed.__annotations__.items()
        }
        required = {k for k, text in annotations.items() if str(text).startswith("Required[")}
        assert required == {k for k, needed in wanted.items() if needed}, dotted


def test_the_arguments_typeddicts_take_the_sdks_names() -> None:
    import openai.types.admin.organization.projects.certificate_activate_params as official
    from oxide_io.compat.types import chat
    from oxide_io.compat.types.admin.organization import certificate_activate_params
    from oxide_io.compat.types.admin.organization.projects import (
        certificate_activate_params as project_activate,
    )
    from oxide_io.compat.types.chat import completion_create_params

    from oxide_proto.types.params import calls

    assert chat.CompletionCreateParams is calls.ChatCompletionCreateParams
    # The official SDK splits it on `stream`; here `stream` is a bool of the one TypedDict.
    assert completion_create_params.CompletionCreateParamsStreaming is (
        calls.ChatCompletionCreateParams
    )
    # One name in two modules: each module's is its own method's.
    assert certificate_activate_params.CertificateActivateParams is calls.CertificateActivateParams
    assert project_activate.CertificateActivateParams is calls.ProjectsCertificateActivateParams
    assert set(calls.ProjectsCertificateActivateParams.__annotations__) == set(
        official.CertificateActivateParams.__annotations__
    )


def test_arguments_names_follow_the_sdk_and_stay_unique(generator: Any) -> None:
    sys.path.insert(0, str(CODEGEN))
    try:
        import generate_params
    finally:
        sys.path.remove(str(CODEGEN))
    name = generate_params.call_params_name
    assert name("chat.completions.create", set()) == "CompletionCreateParams"
    assert name("batches.create", set()) == "BatchCreateParams"
    assert name("chat.completions.create", {"CompletionCreateParams"}) == (
        "ChatCompletionCreateParams"
    )
    taken = {"CertificateActivateParams", "ProjectsCertificateActivateParams"}
    assert name("admin.organization.projects.certificates.activate", taken) == (
        "OrganizationProjectsCertificateActivateParams"
    )
    with pytest.raises(SystemExit, match="no free name"):
        name("files.create", {"FileCreateParams"})


# --- types the SDK supplement derives from the official ones ---------------------------


def _supplement() -> dict[str, Any]:
    text = (ROOT / "spec" / "sdk-supplement.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _all_keys(typed: type) -> set[str]:
    """A TypedDict's keys, its bases' included."""
    return {key for cls in typed.__mro__ for key in getattr(cls, "__annotations__", {})}


def test_every_derived_component_names_the_official_type_it_came_from() -> None:
    import importlib

    schemas = _supplement()["components"]["schemas"]
    origins = {name: s["x-sdk-class"] for name, s in schemas.items() if "x-sdk-class" in s}
    assert len(origins) > 400
    for component, where in origins.items():
        module, _, name = where.partition(":")
        assert module.startswith("openai.types."), component
        assert getattr(importlib.import_module(module), name) is not None, component
    # No component is named after the code that read it (`cast_to=cast(Any, X)`).
    assert all(name.isidentifier() for name in schemas)
    assert origins["Automation"] == "openai.types.beta.agents.automation:Automation"


def test_the_live_events_are_the_classes_generated_from_them() -> None:
    from oxide_io.compat.types import live

    import oxide_proto.types.params as params

    assert live.ServerEvent is ox.LiveServerEvent
    assert live.ConnectServerEvent is ox.LiveConnectServerEvent
    assert live.ForkServerEvent is ox.LiveForkServerEvent
    assert live.ClientEvent is ox.LiveClientEvent
    assert live.ClientEventParam is params.LiveClientEventParam
    # A name the SDK also gives another API's event is the Live one here.
    assert live.SessionUpdatedEvent is ox.LiveSessionUpdatedEvent


def test_a_class_of_another_api_reached_from_live_is_not_copied() -> None:
    schemas = _supplement()["components"]["schemas"]
    # `ResponseInputFile` (in a Live decision item) is the spec's `InputFileContent`.
    assert "LiveResponseInputFile" not in schemas
    from oxide_io.compat.types import responses

    assert responses.ResponseInputFile is ox.InputFileContent


def test_the_responses_input_items_reached_from_live_are_the_responses_types() -> None:
    """The nested shapes of `responses.response_input_item` a Live event holds are the
    spec's Responses components (with the fields the SDK has beyond the spec's version),
    not copies under a Live name."""
    from oxide_io.compat.types.responses import response_input_item as official

    schemas = _supplement()["components"]["schemas"]
    copied = [
        name
        for name, schema in schemas.items()
        if schema.get("x-sdk-class", "").startswith("openai.types.responses.response_input_item:")
    ]
    assert not [name for name in copied if name.startswith("Live")]
    assert official.Message is ox.InputMessage
    assert official.ImageGenerationCall is ox.ImageGenToolCall
    assert official.CompactionTrigger is ox.CompactionTriggerItemParam
    assert official.ImageGenerationCallError is ox.ImageGenerationCallError
    # The SDK's fields the spec's `ImageGenToolCall` lacks are there, typed.
    call = ox.ImageGenToolCall.model_validate(
        {
            "type": "image_generation_call",
            "id": "ig_1",
            "status": "failed",
            "result": None,
            "error": {"message": "blocked", "type": "moderation_blocked"},
            "output_format": "png",
        }
    )
    assert isinstance(call.error, ox.ImageGenerationCallError)
    assert call.error.message == "blocked"
    assert call.output_format == "png"
    trigger = {"type": "compaction_trigger", "id": "c"}
    assert ox.CompactionTriggerItemParam.model_validate(trigger).id == "c"


def test_the_client_event_typeddicts_have_the_official_keys() -> None:
    """Every official client event TypedDict of the WebSocket APIs pairs with an oxide
    TypedDict holding its keys, with the same required ones."""
    import importlib

    import openai.types.live as official_live
    import openai.types.realtime as official_realtime

    checked = 0
    for package, rel in ((official_live, "live"), (official_realtime, "realtime")):
        for name in dir(package):
            value = getattr(package, name)
            event = name.endswith("EventParam") and "Client" not in name
            if not (event and isinstance(value, type) and hasattr(value, "__required_keys__")):
                continue
            ours = getattr(importlib.import_module(f"oxide_io.compat.types.{rel}"), name)
            assert not getattr(ours, "__oxide_missing__", False), (rel, name)
            assert _all_keys(value) <= _all_keys(ours), (rel, name)
            assert set(value.__required_keys__) == set(ours.__required_keys__), (rel, name)
            checked += 1
    assert checked >= 30


def test_a_nested_name_pairs_through_its_field_first() -> None:
    from oxide_io.compat.types.admin.organization import usage_completions_response as usage

    # `Data` is also the decisions usage bucket's name: the field decides.
    assert usage.Data is ox.UsageTimeBucket
    assert usage.DataResultOrganizationUsageCompletionsResult is ox.UsageCompletionsResult


def test_own_names_and_nested_names(generator: Any) -> None:
    own = generator._own_name
    assert own("chat.chat_completion", "ChatCompletion", None)
    assert own(
        "chat", "ChatCompletion", type("ChatCompletion", (), {"__module__": "x.chat_completion"})
    )
    assert not own("chat.chat_completion", "Choice", None)
    assert not own("admin.organization.usage_completions_response", "Data", None)


# A parent whose field holds `Plain`, and oxide twins with and without that field.
class HoldsPlain(TypedDict):
    text: str
    part: Plain
    either: Union[Plain, Verbose]  # noqa: UP007 - an alias as the SDK writes it


class OxLacksPart(TypedDict):
    text: str


class OxHasPart(TypedDict):
    text: str
    part: OxVerbose
    either: OxVerbose


def test_a_missing_name_gets_the_reason_its_holders_give(generator: Any) -> None:
    holders = generator._holders([HoldsPlain])
    why = generator.reason
    assert why("m", "Plain", Plain, holders, {id(HoldsPlain): OxLacksPart}) == "lacks"
    assert why("m", "Plain", Plain, holders, {id(HoldsPlain): OxHasPart}) == "differs"
    either = generator._hints(HoldsPlain)["either"]
    assert why("m", "Either", either, holders, {id(HoldsPlain): OxHasPart}) == "inline"
    assert why("m", "Plain", Plain, holders, {}) == "via"
    assert why("m", "Verbose", Verbose, {}, {}) == "class"
    assert why("m_params", "MCreateParams", Verbose, {}, {}) == "call"
    assert why("m", "Alias", either, {}, {}) == "alias"
    assert set(generator.REASONS) == {"lacks", "inline", "differs", "via", "call", "alias", "class"}
