"""URL joining, path parameters and query encoding, checked against the official SDK."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import URL, build_url, encode_query, expand_path, parse_url, websocket_url

# --- joining -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("https://api.openai.com/v1", "/models", "https://api.openai.com/v1/models"),
        ("https://api.openai.com/v1/", "/models", "https://api.openai.com/v1/models"),
        ("https://api.openai.com/v1/", "models", "https://api.openai.com/v1/models"),
        ("https://api.openai.com/v1", "models", "https://api.openai.com/v1/models"),
        (
            "http://127.0.0.1:8080/v1",
            "/chat/completions",
            "http://127.0.0.1:8080/v1/chat/completions",
        ),
        ("http://host/openai/v1", "/files", "http://host/openai/v1/files"),
        ("http://host", "/files", "http://host/files"),
        ("http://host/", "/files", "http://host/files"),
        ("HTTPS://API.Example.COM:443/v1", "/x", "https://api.example.com/v1/x"),
        ("http://[::1]:9000/v1", "/x", "http://[::1]:9000/v1/x"),
    ],
)
def test_join(base: str, path: str, expected: str) -> None:
    assert str(build_url(base, path)) == expected


def test_url_parts() -> None:
    url = build_url("http://127.0.0.1:8080/v1", "/models", query={"limit": 2})
    assert url == URL(scheme="http", host="127.0.0.1", port=8080, target="/v1/models?limit=2")
    assert url.origin == ("http", "127.0.0.1", 8080)
    assert parse_url("https://example.com").port == 443
    assert parse_url("https://example.com").target == "/"
    assert parse_url("http://example.com/a#frag").target == "/a"


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://example.com",
        "example.com/v1",
        "http://",
        "http://exa mple.com",
        "http://example.com/a\r\nb",
        "http://example.com:99999",
        "http://example.com:port",
    ],
)
def test_bad_base_urls(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_url(bad)


def test_websocket_url() -> None:
    assert str(websocket_url("https://api.openai.com/v1/realtime?model=m")) == (
        "wss://api.openai.com/v1/realtime?model=m"
    )
    assert str(websocket_url("http://127.0.0.1:8080/v1/realtime")) == (
        "ws://127.0.0.1:8080/v1/realtime"
    )
    assert websocket_url("wss://example.com/x").scheme == "wss"
    ws = websocket_url(build_url("http://localhost:80/v1", "/realtime", query={"model": "a b"}))
    assert str(ws) == "ws://localhost/v1/realtime?model=a+b"


# --- path parameters -----------------------------------------------------------


def test_path_params_encoded() -> None:
    url = build_url(
        "https://api.openai.com/v1",
        "/vector_stores/{vector_store_id}/files/{file_id}",
        path_params={"vector_store_id": "vs_1", "file_id": "a/b?c#d%e f"},
    )
    assert url.target == "/v1/vector_stores/vs_1/files/a%2Fb%3Fc%23d%25e%20f"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("../../admin", "..%2F..%2Fadmin"),
        ("...", "..."),
        ("é", "%C3%A9"),
        ("a;b=c", "a%3Bb%3Dc"),
        ("~_-.", "~_-."),
        (12, "12"),
        (True, "true"),
    ],
)
def test_path_param_values(value: object, encoded: str) -> None:
    assert expand_path("/files/{id}", {"id": value}) == f"/files/{encoded}"


@pytest.mark.parametrize("value", [".", "..", "%2e", "%2E%2e"])
def test_dot_segment_refused(value: str) -> None:
    # '%2e' is encoded to '%252e', which is harmless; '.' and '..' are refused.
    if "%" in value:
        assert expand_path("/files/{id}/content", {"id": value}).startswith("/files/%252")
        return
    with pytest.raises(ValueError, match="dot-segment"):
        expand_path("/files/{id}/content", {"id": value})


@pytest.mark.parametrize("value", ["", None])
def test_empty_path_param(value: object) -> None:
    with pytest.raises(ValueError, match="`file_id`"):
        expand_path("/files/{file_id}", {"file_id": value})


def test_missing_path_param() -> None:
    with pytest.raises(KeyError, match="file_id"):
        expand_path("/files/{file_id}", {})


@given(st.text(min_size=1).filter(lambda s: s not in (".", "..")))
@settings(max_examples=200, deadline=None)
def test_path_param_stays_in_its_segment(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return
    path = expand_path("/a/{x}/b", {"x": value})
    segments = path.split("/")
    assert len(segments) == 4
    assert segments[:2] == ["", "a"] and segments[3] == "b"
    assert unquote(segments[2]) == value
    assert not set(segments[2]) & set("?#/ ")


# --- query ---------------------------------------------------------------------


def test_query_encoding() -> None:
    query: dict[str, object] = {
        "limit": 10,
        "order": None,
        "include": ["a", "b"],
        "metadata": {"k": "v w"},
        "stream": True,
        "flag": False,
        "text": "a&b=c/é",
    }
    assert encode_query(query) == (
        "limit=10&include%5B%5D=a&include%5B%5D=b&metadata%5Bk%5D=v+w"
        "&stream=true&flag=false&text=a%26b%3Dc%2F%C3%A9"
    )
    assert encode_query({"a": [1, None, 2]}, array_format="comma") == "a=1%2C2"
    assert encode_query({"a": [1, 2]}, array_format="repeat") == "a=1&a=2"
    assert encode_query({"a": [1, 2]}, array_format="indices") == "a%5B0%5D=1&a%5B1%5D=2"
    assert encode_query({"a": {"b": 1}}, nested_format="dots") == "a.b=1"


def test_query_layers() -> None:
    url = build_url(
        "http://h/v1",
        "/responses?beta=true&x=literal",
        default_query={"api-version": "2024", "x": "default"},
        query={"limit": 1},
        extra_query={"limit": 5, "api-version": None},
    )
    assert dict(parse_qsl(url.target.partition("?")[2])) == {
        "beta": "true",
        "x": "default",
        "limit": "5",
    }


def test_literal_query_kept_verbatim_without_params() -> None:
    assert build_url("http://h/v1", "/responses?beta=true").target == "/v1/responses?beta=true"
    assert build_url("http://h/v1?k=1", "/x").target == "/v1/x?k=1"
    assert build_url("http://h/v1?k=1", "/x", query={"a": 2}).target == "/v1/x?k=1&a=2"


def test_none_only_query_leaves_no_question_mark() -> None:
    assert build_url("http://h/v1", "/models", query={"after": None}).target == "/v1/models"


# --- against the official SDK --------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.floats(allow_nan=False)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(min_size=1, max_size=4), inner)
    ),
    max_leaves=6,
)
params_strategy = st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=4)


@given(params_strategy)
@settings(max_examples=150, deadline=None)
def test_query_matches_official_sdk(params: dict[str, Any]) -> None:
    qs = pytest.importorskip("openai._qs")
    sdk = qs.Querystring(array_format="brackets")
    assert encode_query(params) == sdk.stringify(params)


@pytest.mark.parametrize(
    ("base", "path", "params"),
    [
        ("http://127.0.0.1:8080/v1", "/models", {"limit": 3, "after": None}),
        ("http://127.0.0.1:8080/v1/", "/responses?beta=true", {"include": ["a", "b"]}),
        ("https://api.example.com/openai/v1", "/files", {"purpose": "a b", "x": {"y": 1}}),
        ("https://api.example.com/openai/v1", "/responses?beta=true&x=1", {"x": "over"}),
        ("https://api.example.com/openai/v1", "/responses?beta=true", {}),
    ],
)
def test_url_matches_official_sdk(base: str, path: str, params: dict[str, Any]) -> None:
    openai = pytest.importorskip("openai")
    from openai._models import FinalRequestOptions

    client = openai.OpenAI(api_key="sk-test", base_url=base, default_query={"dq": "1"})
    options = FinalRequestOptions.construct(method="get", url=path, params=params)
    expected = str(client._build_request(options).url)
    ours = build_url(base, path, query=params, default_query={"dq": "1"})
    assert str(ours) == expected
