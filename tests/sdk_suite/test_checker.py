"""The SDK suite's own parts: the type checker fails on wrong types, the local answers are valid.

`assert_matches_type` replaces the official suite's helper for oxide's objects; a
checker that cannot fail would make every pass meaningless, so each rule has a
case that must fail. The local server's answers must validate against the official
SDK's strict models, or the baseline would fail on our data rather than the SDK.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import openai.types
import pydantic
import pytest
from openai.pagination import AsyncPage, SyncCursorPage, SyncPage
from openai.types.beta import Assistant

import oxide_io
from oxide_proto.types.assistants import AssistantObject
from oxide_proto.types.models import Model, ModelDeleted, ModelList
from tests.sdk_suite.sdk_suite_harness.checker import (
    TypeCheckError,
    assert_matches_type,
    oxide_counterparts,
)
from tests.sdk_suite.sdk_suite_harness.classify import classify, kind_of_test
from tests.sdk_suite.sdk_suite_harness.server import _local_body, example_for
from tests.sdk_suite.sdk_suite_harness.summary import served_by

MODEL: dict[str, Any] = {"id": "m", "created": 1, "object": "model", "owned_by": "o"}


def _fails(kind: str, official: Any, value: object) -> TypeCheckError:
    with pytest.raises(TypeCheckError) as caught:
        assert_matches_type(official, value, path=["response"])
    assert caught.value.kind == kind, caught.value
    return caught.value


def test_a_matching_model_passes() -> None:
    assert_matches_type(openai.types.Model, Model.from_dict(MODEL), path=["response"])


def test_a_differently_named_counterpart_is_found_by_endpoint() -> None:
    assert AssistantObject in oxide_counterparts(Assistant)


def test_a_field_of_the_wrong_type_fails() -> None:
    # Built, not decoded: decoding would reject the string itself.
    error = _fails("wrong type", openai.types.Model, Model(**{**MODEL, "created": "1"}))
    assert error.path == ["response", "created"]


def test_a_required_field_that_is_none_fails() -> None:
    data = {key: value for key, value in MODEL.items() if key != "owned_by"}
    error = _fails("wrong type", openai.types.Model, Model.from_dict(data))
    assert error.path == ["response", "owned_by"]


def test_a_literal_outside_its_values_fails() -> None:
    _fails("wrong type", openai.types.Model, Model.from_dict({**MODEL, "object": "other"}))


def test_an_instance_of_another_class_fails() -> None:
    deleted = ModelDeleted.from_dict({"id": "m", "deleted": True, "object": "model"})
    _fails("wrong type", openai.types.Model, deleted)
    _fails("wrong type", openai.types.Model, MODEL)


def test_an_official_type_without_counterpart_fails() -> None:
    class NothingLikeThis(pydantic.BaseModel):
        id: str

    _fails("missing type", NothingLikeThis, Model.from_dict(MODEL))


def test_an_official_field_the_value_lacks_fails() -> None:
    # Same name as oxide's Model, one field more: found by name, then the field is missing.
    Extended = type("Model", (openai.types.Model,), {"__annotations__": {"brand_new": str}})
    error = _fails("missing field", Extended, Model.from_dict(MODEL))
    assert error.path == ["response", "brand_new"]


def _page(items: list[Model]) -> oxide_io.SyncPage[Any]:
    return oxide_io.SyncPage(ModelList(object="list", data=items))


def test_pages_check_every_item() -> None:
    assert_matches_type(
        SyncPage[openai.types.Model], _page([Model(**MODEL), Model(**MODEL)]), path=["response"]
    )
    assert_matches_type(
        SyncCursorPage[openai.types.Model], _page([Model(**MODEL)]), path=["response"]
    )
    error = _fails(
        "wrong type",
        SyncPage[openai.types.Model],
        _page([Model(**MODEL), Model(**{**MODEL, "created": 1.5})]),
    )
    assert error.path == ["response", "data", "1", "created"]
    # A blocking page is not an async one.
    _fails("wrong type", AsyncPage[openai.types.Model], _page([Model(**MODEL)]))
    _fails("wrong type", SyncPage[openai.types.Model], [Model.from_dict(MODEL)])


def test_oxide_pages_parametrized_by_item_check_every_item() -> None:
    # What the tests' `SyncPage[Model]` is once `import openai` resolves to oxide.
    assert_matches_type(oxide_io.SyncPage[Model], _page([Model(**MODEL)]), path=["response"])
    error = _fails(
        "wrong type", oxide_io.SyncPage[Model], _page([Model(**{**MODEL, "object": "x"})])
    )
    assert error.path == ["response", "data", "0", "object"]
    _fails("wrong type", oxide_io.AsyncPage[Model], _page([Model(**MODEL)]))


def test_scalars_and_optionals() -> None:
    assert_matches_type(str, "x", path=[])
    assert_matches_type(openai.types.Model | None, None, path=[])
    _fails("wrong type", str, 1)
    _fails("wrong type", int, True)
    _fails("wrong type", openai.types.Model, None)


def test_local_answers_validate_against_the_official_models() -> None:
    from tests.sdk_suite.sdk_suite_harness.routes import official_routes
    from tests.sdk_suite.sdk_suite_harness.server import spec_keys

    spec: dict[str, Any] = {"paths": {}}
    routes = official_routes()
    assert len(routes) > 300
    checked = 0
    for route in routes.values():
        content_type, body = _local_body(route)
        if content_type != "application/json":
            continue
        target = route.page if route.page is not None else route.cast_to
        pydantic.TypeAdapter(target).validate_python(json.loads(body), strict=False)
        checked += 1
    assert checked > 300
    assert spec_keys(spec) == []
    assert example_for(int | None) == 0


def test_failures_are_classified() -> None:
    assert kind_of_test("test_raw_response_retrieve[loose]") == "raw_response"
    missing = AttributeError("'SyncBeta' object has no attribute 'agents'")
    assert classify(missing, "test_method_list[loose]")["category"] == (
        "missing method or resource"
    )
    raw = AttributeError("'RawResponse' object has no attribute 'is_closed'")
    assert classify(raw, "test_raw_response_list[strict]") == {
        "category": "raw response attribute",
        "detail": "RawResponse.is_closed",
    }
    client = AttributeError("'Client' object has no attribute 'live'")
    assert classify(client, "test_method_accept[loose]")["category"] == (
        "missing method or resource"
    )
    warned = AssertionError("DID NOT WARN. No warnings of type (DeprecationWarning,) were emitted.")
    assert classify(warned, "test_path_params_retrieve")["category"] == (
        "DeprecationWarning not emitted"
    )
    kwarg = TypeError("create() got an unexpected keyword argument 'store'")
    assert classify(kwarg, "test_method_create")["category"] == "missing parameter"


def test_tests_without_requests_take_their_operations_verdict() -> None:
    tests: list[dict[str, Any]] = [
        {"nodeid": "t.py::TestX::test_method_retrieve[loose]", "requests": [{"by": "local"}]},
        {"nodeid": "t.py::TestAsyncX::test_path_params_retrieve[trio-loose]", "requests": []},
        {"nodeid": "t.py::TestX::test_method_list[loose]", "requests": [{"by": "none"}]},
    ]
    assert served_by(tests) == {
        "t.py::TestX::test_method_retrieve[loose]": "local",
        "t.py::TestAsyncX::test_path_params_retrieve[trio-loose]": "local",
        "t.py::TestX::test_method_list[loose]": "unserved",
    }


def _fake_compat(openai_module: types.ModuleType) -> types.ModuleType:
    compat = types.ModuleType("oxide_io.compat")

    def install() -> None:
        sys.modules["openai"] = openai_module

    compat.install = install  # type: ignore[attr-defined]
    return compat


@pytest.mark.parametrize("resolves_to_oxide", [True, False])
def test_compat_install_is_used_and_checked(
    monkeypatch: pytest.MonkeyPatch, resolves_to_oxide: bool
) -> None:
    """With `oxide_io.compat`, the tests' `openai` must be oxide's, or the run stops."""
    from tests.sdk_suite.sdk_suite_harness import plugin

    fake_openai = types.ModuleType("openai")
    client = type("OpenAI", (), {"__module__": "oxide_io.compat" if resolves_to_oxide else "x"})
    fake_openai.OpenAI = client  # type: ignore[attr-defined]
    official = {n: m for n, m in sys.modules.items() if n == "openai" or n.startswith("openai.")}
    fake_compat = _fake_compat(fake_openai)
    monkeypatch.setitem(sys.modules, "oxide_io.compat", fake_compat)
    # `from oxide_io import compat` reads the package's attribute once the real
    # module was imported by an earlier test.
    import oxide_io

    monkeypatch.setattr(oxide_io, "compat", fake_compat, raising=False)
    try:
        if resolves_to_oxide:
            assert plugin._install_compat() is True
            assert sys.modules["openai"] is fake_openai
            assert not any(n.startswith("openai.") for n in sys.modules)
        else:
            with pytest.raises(RuntimeError, match=r"openai\.OpenAI is"):
                plugin._install_compat()
    finally:
        for name in [n for n in sys.modules if n == "openai" or n.startswith("openai.")]:
            del sys.modules[name]
        sys.modules.update(official)
