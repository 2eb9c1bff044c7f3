"""`oxide_io.compat` against the installed official package: same names, same meaning.

The official SDK (pinned in constraints.txt) is the specification: every public name
of `openai` must exist in the compat namespace, its errors must keep the official
hierarchy, and every (module, name) of `openai.types` must be importable under the
same path, resolving to oxide's type where oxide has one.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pytest

import oxide_io
import oxide_io.compat as compat
from oxide_io.compat import _modules
from oxide_io.compat._types_table import MODULES, SDK_VERSION

openai = pytest.importorskip("openai")

# Official names compat does not offer, each with the reason it cannot exist here.
NOT_OFFERED = {
    # An import-time by-product of the official module, not API.
    "override": "typing_extensions.override, re-exported by accident of an import",
    # Classes that are httpx or official-transport specific.
    "Transport": "httpx's transport base class; oxide's transport takes no httpx object",
    "ProxiesTypes": "httpx proxy types; oxide has no proxy setting",
    "RequestOptions": "the official SDK's internal request-options TypedDict",
}


def _official_public() -> list[str]:
    # Submodules (`lib`, `resources`, `version`, ...) are the official package's own
    # layout; of those only `types` is API, and test_install covers imports by path.
    return sorted(
        name
        for name in dir(openai)
        if not name.startswith("_")
        and (name == "types" or not inspect.ismodule(getattr(openai, name)))
    )


def test_sdk_version_matches_the_table() -> None:
    assert openai.__version__ == SDK_VERSION == compat.__version__


def test_every_official_name_exists() -> None:
    missing = [n for n in _official_public() if n not in NOT_OFFERED and not hasattr(compat, n)]
    assert missing == []
    listed = set(dir(compat))
    assert [n for n in _official_public() if n not in NOT_OFFERED and n not in listed] == []


def test_not_offered_names_are_really_official_and_really_absent() -> None:
    # The allow-list shrinks when oxide gains a name: a stale entry fails here.
    public = set(_official_public())
    assert sorted(set(NOT_OFFERED) - public) == []
    assert [n for n in NOT_OFFERED if hasattr(compat, n)] == []


def _error_classes() -> list[str]:
    return sorted(
        name
        for name in _official_public()
        if isinstance(getattr(openai, name), type)
        and issubclass(getattr(openai, name), BaseException)
    )


@pytest.mark.parametrize("name", _error_classes())
def test_error_classes_keep_the_official_hierarchy(name: str) -> None:
    ours = getattr(compat, name)
    for base in getattr(openai, name).__mro__:
        if base.__module__ == "builtins":
            assert issubclass(ours, base), base.__name__
        else:
            assert issubclass(ours, getattr(compat, base.__name__)), base.__name__


def test_clients_are_oxides() -> None:
    assert issubclass(compat.OpenAI, oxide_io.Client)
    assert issubclass(compat.AsyncOpenAI, oxide_io.AsyncClient)
    assert compat.Client is compat.OpenAI
    assert compat.AsyncClient is compat.AsyncOpenAI
    assert oxide_io.OpenAI is compat.OpenAI
    assert oxide_io.AsyncOpenAI is compat.AsyncOpenAI
    client = compat.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    assert repr(client) == "<OpenAI base_url='http://127.0.0.1:9/v1'>"
    assert type(client.with_options(max_retries=0)) is compat.OpenAI


def test_constructor_takes_the_official_arguments() -> None:
    official = inspect.signature(openai.OpenAI.__init__).parameters
    ours = inspect.signature(oxide_io.Client.__init__).parameters
    # What oxide's client does not take (yet), each a clear TypeError when passed.
    not_taken = {
        "_strict_response_validation",
        "_enforce_credentials",
    }
    assert sorted(set(official) - set(ours) - {"http_client"} - not_taken) == []


def test_http_client_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match=r"cannot drive an httpx client.*max_connections="):
        compat.OpenAI(api_key="sk-test", http_client=object())
    with pytest.raises(TypeError, match="DefaultHttpxClient builds an httpx client"):
        compat.DefaultHttpxClient()
    with pytest.raises(TypeError, match="httpx"):
        compat.DefaultAsyncHttpxClient(timeout=3)


def test_a_key_provider_function_is_taken_as_the_official_sdk_takes_it() -> None:
    keys = iter(["sk-first", "sk-second"])
    client = compat.OpenAI(api_key=lambda: next(keys))
    assert isinstance(client, oxide_io.Client)
    assert isinstance(compat.AsyncOpenAI(api_key=lambda: "sk-test"), oxide_io.AsyncClient)
    assert isinstance(client.with_options(api_key=lambda: "sk-test"), compat.OpenAI)


def test_httpx_timeouts_become_oxides() -> None:
    httpx = pytest.importorskip("httpx")
    client = compat.OpenAI(api_key="sk-test", timeout=httpx.Timeout(60.0, read=5.0, connect=2.0))
    assert (client.timeout.connect, client.timeout.read, client.timeout.write) == (2.0, 5.0, 60.0)
    assert client.with_options(timeout=httpx.Timeout(3.0)).timeout.pool == 3.0
    assert compat.AsyncOpenAI(api_key="sk-test", timeout=httpx.Timeout(1.0)).timeout.read == 1.0


def test_the_pre_1_0_api_raises_on_use() -> None:
    with pytest.raises(compat.OpenAIError, match=r"openai\.ChatCompletion is the pre-1\.0 API"):
        compat.ChatCompletion.create(model="m", messages=[])


def test_markers() -> None:
    assert compat.not_given is compat.NOT_GIVEN
    assert compat.NotGiven() is compat.NOT_GIVEN
    assert compat.Omit() is compat.omit
    assert compat.omit is not compat.NOT_GIVEN
    assert isinstance(compat.omit, compat.NotGiven)
    assert not compat.omit
    assert compat.DEFAULT_MAX_RETRIES == openai.DEFAULT_MAX_RETRIES
    assert compat.DEFAULT_TIMEOUT.read == openai.DEFAULT_TIMEOUT.read
    assert compat.DEFAULT_TIMEOUT.connect == openai.DEFAULT_TIMEOUT.connect


def test_file_from_path(tmp_path: Any) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    assert compat.file_from_path(str(path)) == openai.file_from_path(str(path))


def test_pydantic_function_tool_matches_the_official_one() -> None:
    import pydantic

    class GetWeather(pydantic.BaseModel):
        """Weather in a city."""

        city: str
        days: int

    ours = dict(compat.pydantic_function_tool(GetWeather))
    theirs = openai.pydantic_function_tool(GetWeather)
    assert ours["type"] == theirs["type"] == "function"
    assert ours["function"]["name"] == theirs["function"]["name"]
    assert ours["function"]["strict"] is theirs["function"]["strict"] is True
    assert ours["function"]["description"] == theirs["function"]["description"]
    parameters = ours["function"]["parameters"]
    assert parameters["required"] == theirs["function"]["parameters"]["required"]
    assert parameters["additionalProperties"] is False


def test_azure_names_resolve_to_oxides_azure_clients_or_say_why() -> None:
    for name, oxide_name in (
        ("AzureOpenAI", "AzureClient"),
        ("AsyncAzureOpenAI", "AsyncAzureClient"),
    ):
        value = getattr(compat, name)
        if hasattr(oxide_io, oxide_name):
            assert value is getattr(oxide_io, oxide_name)
        else:
            with pytest.raises(NotImplementedError, match=f"oxide_io.{oxide_name}"):
                value(api_key="k", api_version="2024-10-21", azure_endpoint="https://x")


# --- types -----------------------------------------------------------------------------


def test_examples_from_the_official_paths() -> None:
    from oxide_io.compat.types.chat import ChatCompletionMessageParam, ParsedChatCompletion
    from oxide_io.compat.types.chat.chat_completion import Choice
    from oxide_io.compat.types.responses import ResponseTextDeltaEvent

    import oxide_proto
    from oxide_proto import types
    from oxide_proto.types import params

    assert ChatCompletionMessageParam is params.ChatCompletionMessageParam
    assert ParsedChatCompletion is oxide_proto.ParsedChatCompletion
    assert Choice is types.ChatCompletionChoice
    assert ResponseTextDeltaEvent is types.ResponseTextDeltaEvent
    assert compat.types.chat.ChatCompletion is types.ChatCompletion


def test_every_official_types_module_and_name_imports() -> None:
    import importlib

    resolved = missing = 0
    for rel in MODULES:
        module = importlib.import_module("oxide_io.compat.types" + (f".{rel}" if rel else ""))
        for name in _modules.entries(rel):
            value = getattr(module, name)
            if getattr(value, "__oxide_missing__", False):
                missing += 1
            else:
                resolved += 1
                assert not isinstance(value, type(module)), f"{rel}.{name}"
    assert resolved + missing == sum(len(_modules.entries(rel)) for rel in MODULES)
    # Coverage only grows: regenerating the table after oxide gains types raises it.
    assert resolved >= 6980


def test_table_lists_the_official_tree() -> None:
    import openai.types.chat.chat_completion as official

    assert set(_modules.entries("chat.chat_completion")) == set(official.__all__)
    assert "ChatCompletion" in _modules.entries("chat")


def test_a_missing_type_imports_but_cannot_be_built() -> None:
    rel, name = next(
        (rel, name)
        for rel in sorted(MODULES)
        for name, address in sorted(_modules.entries(rel).items())
        if not address
    )
    module = __import__("importlib").import_module(f"oxide_io.compat.types.{rel}")
    placeholder = getattr(module, name)
    assert placeholder[int] is placeholder  # usable in annotations
    assert not isinstance(object(), placeholder)
    with pytest.raises(NotImplementedError, match="no equivalent of this official type yet"):
        placeholder()


def test_unknown_names_and_modules_are_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        compat.types.chat.no_such_name  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        __import__("oxide_io.compat.types.no_such_module")
    with pytest.raises(AttributeError, match="no_such_name"):
        compat.no_such_name  # noqa: B018


# --- import cost -------------------------------------------------------------------------


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_import_oxide_io_does_not_load_compat() -> None:
    loaded = _modules_after("import oxide_io")
    assert sorted(name for name in loaded if name.startswith("oxide_io.compat")) == []


def test_import_compat_loads_no_types_and_no_async_stack() -> None:
    loaded = _modules_after("import oxide_io.compat")
    heavy = ("anyio", "asyncio", "oxide_io.compat._types_table", "importlib.abc", "pathlib")
    assert sorted(name for name in heavy if name in loaded) == []
    assert sorted(name for name in loaded if name.startswith("oxide_proto.types")) == []


def test_one_type_loads_one_area() -> None:
    loaded = _modules_after("from oxide_io.compat.types.chat.chat_completion import Choice")
    assert "oxide_proto.types.chat" in loaded
    assert "oxide_proto.types.responses" not in loaded
    assert "oxide_proto.types.params" not in loaded


# --- the official modules `install()` serves by path ------------------------------------

# Names the official modules define that compat's module of the same path does not
# offer, each with the reason. The official SDK's request machinery (response and
# stream parsers, raw-response wrappers, model builders, typing protocols) has no
# counterpart: oxide's core does that work differently and its names are not API.
NOT_OFFERED_IN_MODULES = {
    "_types.HeadersLikeProtocol": "typing protocol of the official request machinery",
    "lib.azure.BaseAzureClient": (
        "the official generic base of both Azure clients; oxide's are AzureClient and"
        " AsyncAzureClient"
    ),
    "_types.HttpxSendArgs": "httpx send() arguments; oxide takes no httpx object",
    "_types.InheritsGeneric": "typing protocol of the official model builder",
    "_types.ModelBuilderProtocol": "typing protocol of the official model builder",
    "_streaming.SSEBytesDecoder": "the official SSE decoder protocol (httpx-based)",
    "_streaming.SSEDecoder": "the official SSE decoder (httpx-based); oxide's is sans-I/O",
    "_streaming.extract_stream_chunk_type": "internal helper of the official parser",
    "_streaming.is_stream_class_type": "internal helper of the official parser",
    "_client.OpenAIWithRawResponse": "the official client's raw-response view class",
    "_client.AsyncOpenAIWithRawResponse": "the official client's raw-response view class",
    "_client.OpenAIWithStreamedResponse": "the official client's streamed view class",
    "_client.AsyncOpenAIWithStreamedResponse": "the official client's streamed view class",
    "_client.ProxiesTypes": "httpx proxy types; oxide has no proxy setting",
    "_client.RequestOptions": "the official SDK's internal request-options TypedDict",
    "_client.Transport": "httpx's transport base class; oxide's transport takes no httpx",
    "_client.Timeout": "the official _client re-exports httpx's Timeout; oxide's is its own",
    **{
        f"_models.{name}": "internal of the official pydantic model machinery"
        for name in (
            "CachedDiscriminatorType",
            "DiscriminatorDetails",
            "FinalRequestOptions",
            "FinalRequestOptionsInput",
            "GenericModel",
            "SecurityOptions",
            "add_request_id",
            "build",
            "construct_type",
            "construct_type_unchecked",
            "is_basemodel",
            "is_basemodel_type",
            "set_pydantic_config",
            "validate_type",
        )
    },
    **{
        f"{module}.{name}": "internal of the official response parser and wrappers"
        for module, names in (
            (
                "_response",
                (
                    "AsyncBinaryAPIResponse",
                    "AsyncResponseContextManager",
                    "AsyncStreamedBinaryAPIResponse",
                    "BaseAPIResponse",
                    "BinaryAPIResponse",
                    "MissingStreamClassError",
                    "ResponseContextManager",
                    "StreamAlreadyConsumed",
                    "StreamedBinaryAPIResponse",
                    "async_to_custom_raw_response_wrapper",
                    "async_to_custom_streamed_response_wrapper",
                    "async_to_raw_response_wrapper",
                    "async_to_streamed_response_wrapper",
                    "extract_response_type",
                    "to_custom_raw_response_wrapper",
                    "to_custom_streamed_response_wrapper",
                    "to_raw_response_wrapper",
                    "to_streamed_response_wrapper",
                ),
            ),
            (
                "_legacy_response",
                (
                    "MissingStreamClassError",
                    "async_to_raw_response_wrapper",
                    "to_raw_response_wrapper",
                ),
            ),
        )
        for name in names
    },
    "pagination.BasePage": "the official common page base; oxide's pages share no base",
    "lib.streaming.chat._completions.ChoiceEventState": (
        "the official stream state's per-choice bookkeeping; oxide's accumulator keeps its own"
    ),
    "pagination.CursorPageItem": "typing protocol of the official cursor pages",
}


def _official_module_names(rel: str) -> list[str]:
    import importlib
    import typing

    module = importlib.import_module(f"openai.{rel}")
    defined = {
        name
        for name, value in vars(module).items()
        if name.isidentifier()
        and not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and not isinstance(value, typing.TypeVar | typing.ParamSpec)
        and not inspect.ismodule(value)
        and not (name.isupper() and len(name) == 1)
    }
    # A generic class subscripted at import time is stored as "Name[~T]" as well.
    defined |= {name.partition("[")[0] for name in vars(module) if "[~" in name}
    return sorted(defined | set(getattr(module, "__all__", ())))


# The official `_utils` is a package of ~100 internal helpers (transforms, typing
# checks): compat serves only the signature check the SDK's own tests import. Of
# the official structured-output internals, compat serves the names libraries
# import (tests/compat/test_lib.py lists them), not the parsing code's own helpers.
PARTLY_SERVED = {
    "_utils",
    "lib._pydantic",
    "lib._parsing",
    "lib._parsing._completions",
    "lib._parsing._responses",
}


@pytest.mark.parametrize("rel", sorted(set(_modules.EXTRA_MODULES) - PARTLY_SERVED))
def test_every_public_name_of_an_aliased_official_module_exists(rel: str) -> None:
    import importlib

    ours = importlib.import_module(f"oxide_io.compat.{rel}")
    missing = [
        name
        for name in _official_module_names(rel)
        if f"{rel}.{name}" not in NOT_OFFERED_IN_MODULES and not hasattr(ours, name)
    ]
    assert missing == []


def test_not_offered_module_names_are_really_official_and_really_absent() -> None:
    import importlib

    stale = []
    for key in NOT_OFFERED_IN_MODULES:
        rel, _, name = key.rpartition(".")
        ours = importlib.import_module(f"oxide_io.compat.{rel}")
        if name not in _official_module_names(rel) or hasattr(ours, name):
            stale.append(key)
    assert stale == []


def test_aliased_modules_map_to_oxides_classes() -> None:
    import importlib

    pagination = importlib.import_module("oxide_io.compat.pagination")
    legacy = importlib.import_module("oxide_io.compat._legacy_response")
    for name in dir(pagination):
        if name.startswith("Sync") or name.startswith("BaseSync"):
            assert getattr(pagination, name) is oxide_io.SyncPage, name
        elif name.startswith("Async") or name.startswith("BaseAsync"):
            assert getattr(pagination, name) is importlib.import_module("oxide_io").AsyncPage
    client = oxide_io.Client(api_key="sk-test")
    # What the binary endpoints answer is an instance of the official class name.
    assert issubclass(
        importlib.import_module("oxide_io._sync._binary_response").BinaryResponseContent,
        legacy.HttpxBinaryResponseContent,
    )
    assert legacy.LegacyAPIResponse is oxide_io.RawResponse
    client.close()


def test_signature_check_of_utils() -> None:
    import importlib

    check = importlib.import_module("oxide_io.compat._utils").assert_signatures_in_sync
    client = oxide_io.Client(api_key="sk-test")
    check(client.videos.create, client.videos.create)

    def source(a: int, b: str) -> None: ...

    def other(a: int, b: int) -> None: ...

    with pytest.raises(AssertionError, match="`b` is annotated"):
        check(source, other)
    with pytest.raises(AssertionError, match="`b` is missing"):
        check(source, lambda a: None)
    check(source, lambda a: None, exclude_params={"a", "b"})
    client.close()


def test_lib_azure_serves_oxides_azure_clients() -> None:
    import importlib

    from oxide_io.compat.lib.azure import (
        AsyncAzureADTokenProvider,
        AsyncAzureOpenAI,
        AzureADTokenProvider,
        AzureOpenAI,
        MutuallyExclusiveAuthError,
    )

    from oxide_proto import MutuallyExclusiveAuthError as ours

    assert (AzureOpenAI, AsyncAzureOpenAI) == (compat.AzureOpenAI, compat.AsyncAzureOpenAI)
    assert MutuallyExclusiveAuthError is ours
    client = AzureOpenAI(
        api_version="2024-10-21",
        azure_endpoint="https://example.openai.azure.com",
        azure_ad_token_provider=lambda: "entra-token",
    )
    assert isinstance(client, oxide_io.AzureClient)
    assert AzureADTokenProvider is AsyncAzureADTokenProvider  # one type for both kinds
    # Private helper modules of the official package are not there.
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("oxide_io.compat.lib._uploads")


_OFFICIAL_MANAGERS = [
    "openai.resources.realtime.realtime.{}RealtimeConnectionManager",
    "openai.resources.responses.responses.{}ResponsesConnectionManager",
    "openai.resources.beta.responses.responses.{}ResponsesConnectionManager",
    "openai.resources.beta.realtime.realtime.{}RealtimeConnectionManager",
    "openai.resources.realtime.translations.translations.{}TranslationsConnectionManager",
    "openai.resources.live.sideband.{}SidebandConnectionManager",
]


@pytest.mark.parametrize("official", _OFFICIAL_MANAGERS)
@pytest.mark.parametrize("flavour", ["", "Async"])
def test_connection_managers_take_what_the_official_ones_take_before_entering(
    official: str, flavour: str
) -> None:
    # `send`, `on`, `off`, `once`, `enter` where the official manager has them; like
    # it, nothing to receive (`recv`) before entering.
    import importlib

    def public(path: str) -> set[str]:
        module, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        return {attr for attr in dir(cls) if not attr.startswith("_")}

    theirs = public(official.format(flavour))
    ours = public(
        "oxide_io._async._dispatch.AsyncDispatchingConnectionManager"
        if flavour
        else "oxide_io._sync._dispatch.SyncDispatchingConnectionManager"
    )
    assert theirs <= ours
    assert "recv" not in theirs | ours
