"""Building requests: headers, JSON bodies, header injection, and the SDK's wire format."""

from __future__ import annotations

import gc
import json
import math
import sys
import weakref
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    Headers,
    HeaderTable,
    InvalidHeaderError,
    Request,
    build_request,
    encode_json,
    encode_json_text,
    user_agent,
    validate_header,
)

BASE = "http://127.0.0.1:8080/v1"
PY = "{}.{}.{}".format(*sys.version_info[:3])


def post(**kwargs: Any) -> Request:
    return build_request("post", BASE, "/chat/completions", **kwargs)


# --- headers -------------------------------------------------------------------


def test_default_headers_for_json_post() -> None:
    request = post(json_body={"model": "m"}, api_key="sk-secret", version="1.2.3")
    assert request.method == "POST"
    assert str(request.url) == "http://127.0.0.1:8080/v1/chat/completions"
    assert list(request.headers.multi_items()) == [
        ("authorization", "Bearer sk-secret"),
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("user-agent", f"oxide/1.2.3 Python/{PY}"),
        ("accept-encoding", "gzip, deflate"),
        ("x-stainless-retry-count", "0"),
    ]
    assert request.body == b'{"model":"m"}'
    assert request.replayable


def test_user_agent_default_version() -> None:
    import oxide_proto

    assert user_agent() == f"oxide/{oxide_proto.__version__} Python/{PY}"


def test_organization_and_project_only_when_set() -> None:
    request = post(api_key="k", organization="org-1", project="proj_1")
    assert request.headers["OpenAI-Organization"] == "org-1"
    assert request.headers["openai-project"] == "proj_1"
    bare = post()
    assert "openai-organization" not in bare.headers
    assert "openai-project" not in bare.headers
    assert "authorization" not in bare.headers


def test_get_has_no_body_or_content_type() -> None:
    request = build_request("GET", BASE, "/models", json_body={"ignored": 1}, api_key="k")
    assert request.body is None
    assert "content-type" not in request.headers
    assert request.headers["accept"] == "application/json"


def test_streaming_headers() -> None:
    request = post(json_body={"stream": True}, stream=True)
    # As the official SDK: JSON is accepted whether or not the call streams (a
    # server that follows the API's spec answers 406 to text/event-stream for
    # completions, whose spec lists JSON only).
    assert request.headers["accept"] == "application/json"
    assert post(json_body={"stream": False}).headers["accept"] == "application/json"
    assert request.headers["cache-control"] == "no-cache"


def test_header_layers_merge_case_insensitively() -> None:
    request = post(
        api_key="k",
        default_headers={"X-Client": "a", "accept": "application/xml"},
        extra_headers={"x-client": "b", "AUTHORIZATION": None, "Accept-Encoding": None},
    )
    assert request.headers.get_list("x-client") == ["b"]
    assert request.headers["accept"] == "application/xml"
    assert "authorization" not in request.headers
    assert "accept-encoding" not in request.headers


def test_accept_encoding_parameter() -> None:
    assert post(accept_encoding="gzip").headers["accept-encoding"] == "gzip"
    assert "accept-encoding" not in post(accept_encoding=None).headers


def test_retry_count_and_read_timeout() -> None:
    request = post(retries_taken=2, read_timeout=600.0)
    assert request.headers["x-stainless-retry-count"] == "2"
    # Whole seconds as the official SDK writes its default, fractions as they are.
    assert request.headers["x-stainless-read-timeout"] == "600"
    assert post(read_timeout=2.5).headers["x-stainless-read-timeout"] == "2.5"
    assert post(read_timeout=30).headers["x-stainless-read-timeout"] == "30"
    # A caller's own value (or removal) wins, as in the official SDK.
    assert (
        post(retries_taken=2, extra_headers={"X-Stainless-Retry-Count": "9"}).headers[
            "x-stainless-retry-count"
        ]
        == "9"
    )
    removed = post(retries_taken=2, extra_headers={"x-stainless-retry-count": None})
    assert "x-stainless-retry-count" not in removed.headers
    # A client-wide default does not stop the count from being sent.
    counted = post(retries_taken=1, default_headers={"x-stainless-retry-count": "7"})
    assert counted.headers["x-stainless-retry-count"] == "1"


def test_idempotency_key() -> None:
    request = post(idempotency_header="Idempotency-Key", idempotency_key="key-1")
    assert request.headers["idempotency-key"] == "key-1"
    assert "idempotency-key" not in post(idempotency_key="key-1").headers
    get = build_request(
        "GET", BASE, "/models", idempotency_header="Idempotency-Key", idempotency_key="k"
    )
    assert "idempotency-key" not in get.headers
    mine = post(
        idempotency_header="Idempotency-Key",
        idempotency_key="key-1",
        extra_headers={"idempotency-key": "caller"},
    )
    assert mine.headers.get_list("idempotency-key") == ["caller"]


# --- header injection ----------------------------------------------------------


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb", "€"])
def test_header_value_injection(value: str) -> None:
    with pytest.raises(InvalidHeaderError, match="X-Custom") as info:
        post(extra_headers={"X-Custom": value})
    assert value not in str(info.value)


@pytest.mark.parametrize("name", ["", "X Custom", "X:Custom", "X\r\nEvil", "é", "X\x00"])
def test_header_name_must_be_token(name: str) -> None:
    with pytest.raises(InvalidHeaderError):
        post(extra_headers={name: "v"})


def test_secret_never_echoed() -> None:
    secret = "sk-proj-very-secret\n"
    with pytest.raises(InvalidHeaderError) as info:
        post(api_key=secret)
    assert "Authorization" in str(info.value)
    assert "very-secret" not in str(info.value)
    assert "very-secret" not in repr(info.value)


def test_org_injection() -> None:
    with pytest.raises(InvalidHeaderError, match="OpenAI-Organization"):
        post(organization="org\r\nX-Evil: 1")


def test_tab_allowed_and_blanks_trimmed() -> None:
    assert validate_header("X-A", " a\tb ") == "a\tb"


@given(st.text(max_size=20), st.text(max_size=20))
@settings(max_examples=200, deadline=None)
def test_no_header_ever_carries_a_line_break(name: str, value: str) -> None:
    try:
        request = post(extra_headers={name: value})
    except InvalidHeaderError:
        return
    for field, text in request.headers.multi_items():
        assert "\r" not in text and "\n" not in text and "\x00" not in text
        assert field and " " not in field and ":" not in field


# --- JSON body -----------------------------------------------------------------


def test_json_is_compact_utf8_and_keeps_none() -> None:
    request = post(json_body={"a": None, "text": "héllo 你好", "n": [1, 2.5]})
    assert request.body == '{"a":null,"text":"héllo 你好","n":[1,2.5]}'.encode()


def test_extra_body_merges() -> None:
    request = post(json_body={"model": "m", "x": 1}, extra_body={"x": 2, "y": 3})
    assert json.loads(request.body) == {"model": "m", "x": 2, "y": 3}  # type: ignore[arg-type]
    only_extra = post(extra_body={"y": 3})
    assert only_extra.body == b'{"y":3}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"body\.messages\[0\]\.temperature"):
        post(json_body={"messages": [{"temperature": bad}]})


def test_json_text_is_the_body_as_text_and_refuses_the_same() -> None:
    event = {"type": "response.create", "input": "héllo 你好", "at": None, "n": [1, 2.5]}
    assert encode_json_text(event) == encode_json(event).decode("utf-8")
    assert (
        encode_json_text(event)
        == '{"type":"response.create","input":"héllo 你好","at":null,"n":[1,2.5]}'
    )
    with pytest.raises(ValueError, match=r"body\.tools\[1\]\.weight"):
        encode_json_text({"tools": [{}, {"weight": math.nan}]})


def test_datetime_and_unknown_types() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert encode_json({"at": when}) == b'{"at":"2024-01-02T03:04:05+00:00"}'
    with pytest.raises(TypeError, match="object"):
        encode_json({"x": object()})


def test_extra_query_and_path_params() -> None:
    request = build_request(
        "DELETE",
        BASE,
        "/vector_stores/{vector_store_id}/files/{file_id}",
        path_params={"vector_store_id": "vs_1", "file_id": "file/../x"},
        extra_query={"debug": True},
    )
    assert request.url.target == "/v1/vector_stores/vs_1/files/file%2F..%2Fx?debug=true"


def test_bad_method() -> None:
    with pytest.raises(ValueError, match="method"):
        build_request("GET /x HTTP/1.1\r\n", BASE, "/models")


# --- raw and multipart bodies --------------------------------------------------


def test_raw_bytes_and_iterables() -> None:
    raw = post(content=b"\x00\x01", content_type="application/octet-stream")
    assert raw.body == b"\x00\x01"
    assert raw.content_length == 2
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.replayable

    def chunks() -> Iterator[bytes]:
        yield b"ab"
        yield b"c"

    streamed = post(content=chunks(), content_length=3)
    assert streamed.content_length == 3
    assert not streamed.replayable
    assert b"".join(streamed.body) == b"abc"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="content"):
        post(content=b"x", json_body={"a": 1})


def test_multipart_request() -> None:
    request = build_request(
        "POST",
        BASE,
        "/files",
        json_body={"purpose": "batch"},
        files={"file": ("data.jsonl", b'{"a":1}\n')},
        boundary="b0undary",
        extra_headers={"Content-Type": "multipart/form-data"},
    )
    assert request.headers["content-type"] == "multipart/form-data; boundary=b0undary"
    assert isinstance(request.body, bytes)
    assert request.content_length == len(request.body)
    assert b'name="purpose"\r\n\r\nbatch\r\n' in request.body
    assert b'filename="data.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n' in request.body
    with pytest.raises(ValueError, match="boundary"):
        build_request("POST", BASE, "/files", files={"file": b"x"})


# --- against the official SDK --------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner)),
    max_leaves=10,
)


@given(st.dictionaries(st.text(), json_values, max_size=5))
@settings(max_examples=150, deadline=None)
def test_json_body_matches_official_sdk(body: dict[str, Any]) -> None:
    sdk_json = pytest.importorskip("openai._utils._json")
    assert post(json_body=body).body == sdk_json.openapi_dumps(body)


def test_headers_match_official_sdk() -> None:
    openai = pytest.importorskip("openai")
    from openai._models import FinalRequestOptions

    client = openai.OpenAI(api_key="sk-test", organization="org-1", project="p", base_url=BASE)
    options = FinalRequestOptions.construct(
        method="post",
        url="/responses",
        json_data={"model": "m", "input": "hi", "metadata": None},
        headers={"X-Extra": "1", "Accept": "text/plain"},
    )
    sdk = client._build_request(options, retries_taken=1)
    ours = post(
        api_key="sk-test",
        organization="org-1",
        project="p",
        json_body={"model": "m", "input": "hi", "metadata": None},
        extra_headers={"X-Extra": "1", "Accept": "text/plain"},
        retries_taken=1,
    )
    assert ours.body == sdk.content
    for name in (
        "authorization",
        "openai-organization",
        "openai-project",
        "accept",
        "content-type",
        "accept-encoding",
        "x-extra",
        "x-stainless-retry-count",
    ):
        assert ours.headers[name] == sdk.headers[name], name


def test_platform_headers_come_before_the_clients_and_the_calls() -> None:
    pairs = (("X-Stainless-Lang", "python"), ("X-Stainless-Async", "false"))
    request = post(platform_headers=pairs)
    assert request.headers["x-stainless-lang"] == "python"
    assert request.headers["x-stainless-async"] == "false"
    overridden = post(
        platform_headers=pairs,
        default_headers={"x-stainless-lang": "other"},
        extra_headers={"X-Stainless-Async": None},
    )
    assert overridden.headers.get_list("x-stainless-lang") == ["other"]
    assert "x-stainless-async" not in overridden.headers
    assert "x-stainless-lang" not in post().headers
    with pytest.raises(InvalidHeaderError, match="X-Bad"):
        post(platform_headers=(("X-Bad", "a\r\nb"),))


# --- shared headers (HeaderTable) ----------------------------------------------


def _settings_call(table: HeaderTable | None, **overrides: Any) -> Request:
    kwargs: dict[str, Any] = {
        "json_body": {"model": "m"},
        "api_key": "sk-shared",
        "organization": "org-1",
        "platform_headers": (("X-Stainless-Lang", "python"), ("X-Stainless-OS", "Linux")),
        "default_headers": {"X-Team": "a"},
        "read_timeout": 600.0,
    }
    kwargs.update(overrides)
    return post(header_table=table, **kwargs)


def _keys_in(table: HeaderTable) -> set[str]:
    # What a table holds is private (it has no way to list its entries): read it to
    # check which keys it keeps.
    return {headers["authorization"] for headers in table._entries.values()}


def test_requests_of_the_same_settings_hold_no_objects_of_their_own_but_the_request() -> None:
    # Counts what a kept request holds for the garbage collector to walk: before the
    # headers were shared, each held its header list and every (name, value) pair.
    table = HeaderTable()
    _settings_call(table)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        kept = [_settings_call(table) for _ in range(100)]
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert len(kept) == 100
    assert grown <= 100 + 1  # each Request, and the list
    assert all(request.headers is kept[0].headers for request in kept)
    assert len(table) == 1


def test_without_a_table_each_request_builds_its_own_headers() -> None:
    first, second = _settings_call(None), _settings_call(None)
    assert first.headers is not second.headers
    assert first.headers.multi_items() == second.headers.multi_items()
    assert first.headers["authorization"] == "Bearer sk-shared"


def test_shared_headers_equal_the_ones_built_afresh() -> None:
    cases: list[dict[str, Any]] = [
        {},
        {"retries_taken": 2},
        {"read_timeout": None},
        {"stream": True},
        {"extra_headers": {"x-team": None, "X-Extra": "1"}},
        {"extra_headers": {"x-stainless-retry-count": "7"}},
        {"default_headers": {"Content-Type": "text/plain"}},
        {"api_key": None, "organization": None},
    ]
    for case in cases:
        table = HeaderTable()
        fresh = _settings_call(None, **case).headers
        first = _settings_call(table, **case).headers
        shared = _settings_call(table, **case).headers
        assert shared is first
        assert shared.multi_items() == fresh.multi_items()
    # A GET of the same settings has no Content-Type: another entry, not the POST's.
    table = HeaderTable()
    get = build_request(
        "GET", BASE, "/models", api_key="sk-shared", default_headers=None, header_table=table
    )
    assert "content-type" not in get.headers
    assert _settings_call(table).headers["content-type"] == "application/json"
    again = build_request("GET", BASE, "/models", api_key="sk-shared", header_table=table)
    assert again.headers is get.headers
    assert len(table) == 2


_HEADER_VALUES = st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "api_key": st.sampled_from(["sk-a", "sk-b", None]),
                "retries_taken": st.integers(0, 3),
                "stream": st.booleans(),
                "extra_headers": st.dictionaries(
                    st.sampled_from(["X-A", "x-a", "X-B", "Authorization"]),
                    st.none() | _HEADER_VALUES,
                    max_size=3,
                ),
            }
        ),
        max_size=30,
    ),
    st.integers(1, 6),
)
def test_a_table_gives_the_headers_built_afresh_and_stays_bounded(
    calls: list[dict[str, Any]], max_size: int
) -> None:
    table = HeaderTable(max_size=max_size)
    for call in calls:
        shared = _settings_call(table, **call)
        fresh = _settings_call(None, **call)
        assert shared.headers.multi_items() == fresh.headers.multi_items()
        assert 1 <= len(table) <= max_size


def test_requests_switching_platform_pairs_get_the_headers_of_their_own_pairs() -> None:
    # The table keys platform pairs by the tuple object: pairs that come back, pairs
    # equal to others and pairs after others each get the headers of their own.
    asyncio_pairs = (("X-Stainless-Lang", "python"), ("X-Stainless-Async", "async:asyncio"))
    trio_pairs = (("X-Stainless-Lang", "python"), ("X-Stainless-Async", "async:trio"))
    copy = tuple(list(asyncio_pairs))
    assert copy is not asyncio_pairs
    table = HeaderTable()
    for pairs in [asyncio_pairs, trio_pairs, asyncio_pairs, copy, (), trio_pairs, ()]:
        shared = _settings_call(table, platform_headers=pairs).headers
        fresh = _settings_call(None, platform_headers=pairs).headers
        assert shared.multi_items() == fresh.multi_items()
    # The same tuple again, after others: the entry it made.
    first = _settings_call(table, platform_headers=trio_pairs).headers
    _settings_call(table, platform_headers=asyncio_pairs)
    assert _settings_call(table, platform_headers=trio_pairs).headers is first
    assert first["x-stainless-async"] == "async:trio"
    # Bounded like the entries, and emptied with them.
    small = HeaderTable(max_size=2)
    for _ in range(5):
        _settings_call(small, platform_headers=tuple(list(trio_pairs)))
    assert len(small._platforms) <= 2
    small.clear()
    assert not small._platforms


def test_a_changed_default_headers_mapping_changes_the_headers() -> None:
    table = HeaderTable()
    defaults = {"X-Team": "a"}
    assert _settings_call(table, default_headers=defaults).headers["x-team"] == "a"
    defaults["X-Team"] = "b"
    assert _settings_call(table, default_headers=defaults).headers["x-team"] == "b"
    del defaults["X-Team"]
    assert "x-team" not in _settings_call(table, default_headers=defaults).headers


def test_headers_with_an_unhashable_value_are_refused_as_before() -> None:
    table = HeaderTable()
    with pytest.raises(InvalidHeaderError, match="X-Bad"):
        _settings_call(table, extra_headers={"X-Bad": ["a"]})
    with pytest.raises(InvalidHeaderError, match="X-Bad"):
        _settings_call(table, extra_headers={"X-Bad": "a\r\nInjected: 1"})
    # A refused set is not kept: the next call is checked again.
    with pytest.raises(InvalidHeaderError, match="X-Bad"):
        _settings_call(table, extra_headers={"X-Bad": "a\r\nInjected: 1"})
    assert len(table) == 0


def test_the_table_is_bounded_and_idempotency_keys_and_uploads_stay_out_of_it() -> None:
    table = HeaderTable()
    assert table.max_size == 256
    for index in range(table.max_size + 10):
        request = _settings_call(table, extra_headers={"X-Request-Id": str(index)})
        assert request.headers["x-request-id"] == str(index)
        assert len(table) <= table.max_size
    # Full, then emptied: the last ten are what it holds.
    assert len(table) == 10
    table.clear()
    first = _settings_call(table, idempotency_header="Idempotency-Key", idempotency_key="k1")
    second = _settings_call(table, idempotency_header="Idempotency-Key", idempotency_key="k2")
    assert (first.headers["idempotency-key"], second.headers["idempotency-key"]) == ("k1", "k2")
    upload = build_request(
        "POST",
        BASE,
        "/files",
        json_body={"purpose": "batch"},
        files={"file": b"x"},
        boundary="b0undary",
        api_key="sk-shared",
        header_table=table,
    )
    assert upload.headers["content-type"] == "multipart/form-data; boundary=b0undary"
    assert len(table) == 0


def test_a_table_holds_only_the_keys_of_the_requests_made_with_it() -> None:
    mine, theirs = HeaderTable(), HeaderTable()
    for _ in range(3):
        _settings_call(mine, api_key="sk-mine")
        _settings_call(theirs, api_key="sk-theirs", retries_taken=1)
    assert _keys_in(mine) == {"Bearer sk-mine"}
    assert _keys_in(theirs) == {"Bearer sk-theirs"}
    # The same settings in two tables: two objects, one in each.
    assert _settings_call(mine).headers is not _settings_call(theirs).headers


def test_nothing_in_the_core_keeps_headers_at_module_level() -> None:
    from oxide_proto.api import _encode

    secret = "sk-module-level-check"
    _settings_call(HeaderTable(), api_key=secret)
    _settings_call(None, api_key=secret)
    gc.collect()
    # No object of the module (a dict, a cache) refers to the key's header any more.
    for name, value in vars(_encode).items():
        assert f"Bearer {secret}" not in repr(value), name
        if isinstance(value, dict):
            assert not any(isinstance(item, Headers) for item in value.values()), name


def test_a_table_shows_no_key_and_takes_only_a_positive_size() -> None:
    table = HeaderTable(max_size=4)
    _settings_call(table, api_key="sk-never-shown")
    assert "sk-never-shown" not in repr(table)
    assert repr(table) == "HeaderTable(1 of 4 entries)"
    for bad in (0, -1, True, 2.5, "4", None):
        with pytest.raises(ValueError, match="max_size must be a positive int"):
            HeaderTable(max_size=bad)  # type: ignore[arg-type]
    table.clear()
    assert len(table) == 0


def test_a_dropped_table_goes_with_its_headers() -> None:
    table = HeaderTable()
    headers = _settings_call(table).headers
    gone = weakref.ref(table)
    del table
    gc.collect()
    assert gone() is None
    assert headers["authorization"] == "Bearer sk-shared"
