"""`import oxide_proto` stays cheap: HTTP/2, WebSocket and multipart load on first use.

Each check runs in a fresh interpreter, since this test process has long since
imported everything.
"""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

import oxide_proto

LAZY_PACKAGES = ("h2", "hpack", "hyperframe", "wsproto", "email.utils")


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_import_loads_no_optional_protocol() -> None:
    loaded = _modules_after("import oxide_proto")
    assert sorted(name for name in LAZY_PACKAGES if name in loaded) == []
    assert "oxide_proto.api._multipart" not in loaded


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("HTTP2Connection", "h2"),
        ("WebSocketSession", "wsproto"),
        ("FilePart", "oxide_proto.api._multipart"),
    ],
)
def test_lazy_name_loads_its_module(name: str, package: str) -> None:
    loaded = _modules_after(f"from oxide_proto import {name}")
    assert package in loaded


def test_lazy_names_resolve_and_are_listed() -> None:
    listed = dir(oxide_proto)
    for name in ("HTTP2Connection", "WebSocketSession", "TextMessage", "encode_multipart"):
        assert name in listed
        assert getattr(oxide_proto, name).__name__ == name


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        oxide_proto.no_such_name  # type: ignore[attr-defined]  # noqa: B018


# What `import oxide_io` must leave for later: the async stack, TLS, HTTP/2 and
# WebSocket machinery, and the heavy stdlib/third-party modules (attrs pulls in
# inspect and ast) that together cost more than the rest of the import.
CLIENT_IMPORT_LEAVES_OUT = (
    "anyio",
    "trio",
    "asyncio",
    "ssl",
    "h11",
    "h2",
    "wsproto",
    "attrs",
    "attr",
    "cattrs",
    "inspect",
    "ast",
    "dataclasses",
    "oxide_proto.api._multipart",
    # Request parameter TypedDicts: the resource modules import them for type checkers only.
    "oxide_proto.types.params",
    # What a first call with an API key does not need: Azure, workload identities,
    # WebSocket sessions, redirects, pages, event streams and the datetime module.
    "datetime",
    "oxide_proto.api._azure",
    "oxide_proto.api._workload_identity",
    "oxide_proto.sessions._event_socket",
    "oxide_proto.websocket._reconnect",
    "oxide_proto.http._redirect",
    "oxide_proto.sse._stream",
    "oxide_io._sync._page",
    "oxide_io._sync._sse_stream",
    "oxide_io._sync._streamed_response",
    "oxide_io._sync._workload_identity",
    "oxide_io._connect_args",
)


def test_client_import_leaves_heavy_modules_for_first_use() -> None:
    loaded = _modules_after("import oxide_io")
    assert sorted(name for name in CLIENT_IMPORT_LEAVES_OUT if name in loaded) == []


def test_first_request_objects_need_no_attrs() -> None:
    code = (
        "import oxide_io\n"
        "client = oxide_io.Client(api_key='sk-test', base_url='http://127.0.0.1:9/v1')\n"
        "client.with_options(max_retries=1, timeout=3)\n"
    )
    loaded = _modules_after(code)
    assert "attrs" not in loaded
    assert "inspect" not in loaded


def test_calls_leave_param_types_for_type_checkers() -> None:
    code = (
        "import oxide_io\n"
        "from oxide_io.testing import MockServer\n"
        "with MockServer(api_key='sk-test') as server:\n"
        "    client = oxide_io.Client(api_key='sk-test', base_url=server.base_url)\n"
        "    messages = [{'role': 'user', 'content': 'Hi'}]\n"
        "    client.chat.completions.create(model='m', messages=messages)\n"
        "    client.responses.create(model='m', input=[{'role': 'user', 'content': 'Hi'}])\n"
        "    client.close()\n"
    )
    loaded = _modules_after(code)
    assert "oxide_io._sync.resources.chat" in loaded
    assert sorted(name for name in loaded if name.startswith("oxide_proto.types.params")) == []


def test_client_import_compiles_no_source_text() -> None:
    # The builtin compile() sets up CPython's AST classes on its first call (about 10
    # million instructions): a record's `__init__`, a TypedDict's annotations or a
    # string in a Union must not reach it on import. Module files are compiled from
    # bytes by the import system, and the bytecode cache may be off: those do not count.
    code = (
        "import builtins\n"
        "texts = []\n"
        "real = builtins.compile\n"
        "def spy(source, *args, **kwargs):\n"
        "    if isinstance(source, str):\n"
        "        texts.append(source)\n"
        "    return real(source, *args, **kwargs)\n"
        "builtins.compile = spy\n"
        "import oxide_io\n"
        "oxide_io.Client(api_key='sk-test', base_url='http://127.0.0.1:9/v1')\n"
        "builtins.compile = real\n"
        "print(repr(texts))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module_name", ["oxide_proto", "oxide_io"])
def test_every_lazy_name_resolves_and_is_listed(module_name: str) -> None:
    code = (
        f"import {module_name} as m\n"
        "table = getattr(m, '_LAZY')\n"
        "listed = dir(m)\n"
        "bad = [n for n in table if n not in listed or getattr(m, n) is None]\n"
        "print(len(table), repr(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    count, bad = result.stdout.split(maxsplit=1)
    assert int(count) > 10
    assert bad.strip() == "[]"


def test_annotation_aliases_are_built_when_asked_for() -> None:
    import ssl

    from oxide_io import _proxies, _tls

    assert ssl.SSLContext in typing.get_args(_tls.VerifyTypes)
    assert str in typing.get_args(_tls.CertTypes)
    assert oxide_proto.ProxyConfig in typing.get_args(_proxies.ProxyTypes)
    with pytest.raises(AttributeError, match="NoSuchAlias"):
        _tls.NoSuchAlias  # type: ignore[attr-defined]  # noqa: B018
