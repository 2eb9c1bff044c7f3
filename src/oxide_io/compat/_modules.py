"""Modules made on import: `oxide_io.compat.types...`, and `openai...` after `install()`.

`oxide_io.compat.types.<path>` mirrors the official `openai.types.<path>` module by
module. There are no files behind it: a finder on `sys.meta_path` makes each module
from the generated table (`_types_table`) when it is first imported, and each name in
it is looked up in oxide's types when first read, so importing one type loads one
of oxide's type modules, not the tree.

An official name none of oxide's types stands for is a type the generator wrote from
the official SDK's type facts (`_sdk_types`: the same Literal values, union members,
fields), loaded with its area on first use. The few it cannot write are still
importable, as a placeholder class that raises `NotImplementedError` when
instantiated: code that imports one for annotations or `isinstance` checks keeps
working, and nothing is faked.

`install()` makes the same finder answer for `openai` and `openai.<anything>`, with
the module of the same path under `oxide_io.compat` (see its docstring).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn, cast

from ._tool_runners import MODULES as _TOOL_RUNNERS

__all__ = ["TYPES", "ModuleOnUse", "entries", "install", "installed", "resolve", "uninstall"]

PACKAGE = "oxide_io.compat"
TYPES = f"{PACKAGE}.types"
ALIAS = "openai"

# Modules of the official SDK (private ones too) that libraries import names from;
# each is made of the compat namespace's names of the same meaning ("Name"), or of
# another oxide object ("Name=module:attribute").
# ------ the names of openai.lib's modules (used in one block of EXTRA_MODULES below)
_LIB = "oxide_io.compat._lib"
_PARSING = (
    f"type_to_response_format_param={_LIB}:type_to_response_format_param",
    f"ResponseFormatT={_LIB}:ResponseFormatT",
    f"parse_chat_completion={_LIB}:parse_chat_completion",
)
_CHAT = "oxide_proto.helpers._chat_accumulator"
_PARSED = "oxide_proto.helpers._chat_parsed"
_CHAT_EVENTS = (
    *(
        f"{name}={_CHAT}:{name}"
        for name in (
            "ChatCompletionStreamEvent",
            "ChunkEvent",
            "ContentDeltaEvent",
            "ContentDoneEvent",
            "RefusalDeltaEvent",
            "RefusalDoneEvent",
            "FunctionToolCallArgumentsDeltaEvent",
            "FunctionToolCallArgumentsDoneEvent",
            "LogprobsContentDeltaEvent",
            "LogprobsContentDoneEvent",
            "LogprobsRefusalDeltaEvent",
            "LogprobsRefusalDoneEvent",
        )
    ),
    # oxide's snapshot is the parsed completion itself, updated chunk by chunk.
    f"ParsedChatCompletionSnapshot={_PARSED}:ParsedChatCompletion",
    f"ParsedChoiceSnapshot={_PARSED}:ParsedChoice",
    f"ParsedChatCompletionMessageSnapshot={_PARSED}:ParsedChatCompletionMessage",
)
_CHAT_STREAM = (
    *_CHAT_EVENTS,
    "ChatCompletionStream=oxide_io._sync._stream_helper_chat:SyncChatCompletionStream",
    "ChatCompletionStreamManager=oxide_io._sync._stream_helper_chat:SyncChatCompletionStreamManager",
    "AsyncChatCompletionStream=oxide_io._async._stream_helper_chat:AsyncChatCompletionStream",
    "AsyncChatCompletionStreamManager="
    "oxide_io._async._stream_helper_chat:AsyncChatCompletionStreamManager",
    f"ChatCompletionStreamState={_LIB}:ChatCompletionStreamState",
)
_RESPONSES = "oxide_proto.helpers._responses_accumulator"
_RESPONSES_EVENTS = (
    *(
        f"{name}={_RESPONSES}:{name}"
        for name in (
            "ResponseTextDeltaEvent",
            "ResponseTextDoneEvent",
            "ResponseFunctionCallArgumentsDeltaEvent",
            "ResponseFunctionCallArgumentsDoneEvent",
            "ResponseCompletedEvent",
            "ParsedResponse",
        )
    ),
    "ResponseStreamEvent=oxide_io._async._stream_helper_responses:ResponseEvent",
    f"TextFormatT={_LIB}:TextFormatT",
)
_RESPONSES_STREAM = (
    *_RESPONSES_EVENTS,
    "ResponseStream=oxide_io._sync._stream_helper_responses:SyncResponseStream",
    "ResponseStreamManager=oxide_io._sync._stream_helper_responses:SyncResponseStreamManager",
    "AsyncResponseStream=oxide_io._async._stream_helper_responses:AsyncResponseStream",
    "AsyncResponseStreamManager="
    "oxide_io._async._stream_helper_responses:AsyncResponseStreamManager",
    f"ResponseStreamState={_LIB}:ResponseStreamState",
)
_LANES = "oxide_io._async._responses_lanes"
_LANES_CORE = "oxide_proto.sessions._responses_lanes"
_TRANSCRIPTS = "oxide_proto.helpers._transcripts"
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "_types": ("NOT_GIVEN", "NotGiven", "not_given", "Omit", "omit", "Timeout", "NoneType"),
    "_exceptions": (
        "OpenAIError",
        "APIError",
        "APIStatusError",
        "APITimeoutError",
        "APIConnectionError",
        "APIResponseValidationError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
        "LengthFinishReasonError",
        "ContentFilterFinishReasonError",
        "InvalidWebhookSignatureError",
        "OAuthError",
        "WebSocketConnectionClosedError",
        "WebSocketQueueFullError",
        "SubjectTokenProviderError",
    ),
    "_streaming": (
        "Stream",
        "AsyncStream",
        "ServerSentEvent=oxide_proto:ServerSentEvent",
    ),
    "_client": ("OpenAI", "AsyncOpenAI", "Client", "AsyncClient"),
    "_models": ("BaseModel",),
    "_response": ("APIResponse", "AsyncAPIResponse"),
    # What `with_raw_response` gives (the official SDK's older raw-response module,
    # which its own tests still import the binary-content class from).
    "_legacy_response": (
        "LegacyAPIResponse=oxide_io:RawResponse",
        "HttpxBinaryResponseContent",
    ),
    "_constants": ("DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES", "DEFAULT_CONNECTION_LIMITS"),
    "_version": ("__version__", "__title__"),
    "version": ("VERSION",),
    # Of the official SDK's internal utilities, the one its own tests use on helpers.
    "_utils": ("assert_signatures_in_sync=oxide_io.compat._helpers:assert_signatures_in_sync",),
    # oxide has one page class per runtime, whatever the API's paging style.
    "pagination": (
        "SyncPage=oxide_io:SyncPage",
        "AsyncPage=oxide_io:AsyncPage",
        "SyncCursorPage=oxide_io:SyncPage",
        "AsyncCursorPage=oxide_io:AsyncPage",
        "SyncConversationCursorPage=oxide_io:SyncPage",
        "AsyncConversationCursorPage=oxide_io:AsyncPage",
        "SyncNextCursorPage=oxide_io:SyncPage",
        "AsyncNextCursorPage=oxide_io:AsyncPage",
        "SyncTokenPage=oxide_io:SyncPage",
        "AsyncTokenPage=oxide_io:AsyncPage",
        "BaseSyncPage=oxide_io:SyncPage",
        "BaseAsyncPage=oxide_io:AsyncPage",
    ),
    # The official hand-written helpers: a package of which oxide serves the modules
    # whose features it has (the others stay a ModuleNotFoundError).
    "lib": (
        "pydantic_function_tool",
        "pydantic_responses_function_tool",
        f"ResponseFormatT={_LIB}:ResponseFormatT",
        f"type_to_response_format_param={_LIB}:type_to_response_format_param",
    ),
    "lib.azure": (
        "AzureOpenAI",
        "AsyncAzureOpenAI",
        "MutuallyExclusiveAuthError=oxide_proto:MutuallyExclusiveAuthError",
        # The token provider types: oxide's one type takes sync and async functions.
        "AzureADTokenProvider=oxide_io._options:TokenProvider",
        "AsyncAzureADTokenProvider=oxide_io._options:TokenProvider",
    ),
    # Cloud providers: `openai.providers` (bedrock(), vertex()) and the Bedrock
    # clients of `openai.lib.bedrock`, made of oxide_io.providers.
    "providers": ("bedrock=oxide_io.providers:bedrock", "vertex=oxide_io.providers:vertex"),
    "providers.bedrock": (
        "bedrock=oxide_io.providers:bedrock",
        "BedrockEndpoint=oxide_io.providers:BedrockEndpoint",
        "BedrockTokenProvider=oxide_io.providers:BedrockTokenProvider",
        "AwsCredentialsProvider=oxide_io.providers:AwsCredentialsProvider",
    ),
    "providers.vertex": (
        "vertex=oxide_io.providers:vertex",
        "VertexTokenProvider=oxide_io.providers:VertexTokenProvider",
    ),
    "lib.bedrock": (
        "BedrockOpenAI",
        "AsyncBedrockOpenAI",
        "BedrockTokenProvider=oxide_io.providers:BedrockTokenProvider",
        "AsyncBedrockTokenProvider=oxide_io.providers:BedrockTokenProvider",
        "AwsCredentialsProvider=oxide_io.providers:AwsCredentialsProvider",
    ),
    # ------ openai.lib: the hand-written helpers oxide has (one block, kept together)
    # Lanes of responses over one Responses WebSocket.
    "lib.responses_websocket": (
        "ResponsesWebSocketSession=oxide_io._sync._responses_lanes:SyncResponsesWebSocketSession",
        "ResponsesWebSocketLane=oxide_io._sync._responses_lanes:SyncResponsesWebSocketLane",
        f"AsyncResponsesWebSocketSession={_LANES}:AsyncResponsesWebSocketSession",
        f"AsyncResponsesWebSocketLane={_LANES}:AsyncResponsesWebSocketLane",
        f"ResponsesWebSocketLimits={_LANES_CORE}:ResponsesWebSocketLimits",
        f"ResponsesWebSocketError={_LANES_CORE}:ResponsesWebSocketError",
        f"ResponsesWebSocketBufferError={_LANES_CORE}:ResponsesWebSocketBufferError",
        f"ResponsesWebSocketAccumulator={_LANES_CORE}:ResponsesWebSocketAccumulator",
        f"ResponsesWebSocketOutput={_LANES_CORE}:ResponsesWebSocketOutput",
        f"ResponsesWebSocketSnapshot={_LANES_CORE}:ResponsesWebSocketSnapshot",
    ),
    # Live transcripts grouped into display segments.
    "lib.live": (
        "TranscriptGrouper=oxide_io._transcripts:TranscriptGrouper",
        "AsyncTranscriptGrouper=oxide_io._transcripts:AsyncTranscriptGrouper",
        f"TranscriptSegment={_TRANSCRIPTS}:TranscriptSegment",
        f"TranscriptSegmentClosedEvent={_TRANSCRIPTS}:TranscriptSegmentClosedEvent",
        f"TranscriptSegmentCloseReason={_TRANSCRIPTS}:TranscriptSegmentCloseReason",
    ),
    # Structured outputs: strict schemas, response formats, typed tools.
    "lib._pydantic": (f"to_strict_json_schema={_LIB}:to_strict_json_schema",),
    "lib._parsing": _PARSING,
    "lib._parsing._completions": _PARSING,
    "lib._parsing._responses": (
        f"type_to_text_format_param={_LIB}:type_to_text_format_param",
        f"TextFormatT={_LIB}:TextFormatT",
        f"parse_response={_LIB}:parse_response",
        f"ParsedResponse={_RESPONSES}:ParsedResponse",
        f"ParsedResponseFunctionToolCall={_RESPONSES}:ParsedResponseFunctionToolCall",
    ),
    "lib._tools": (
        "pydantic_function_tool",
        "pydantic_responses_function_tool",
        f"PydanticFunctionTool={_LIB}:PydanticFunctionTool",
        f"ResponsesPydanticFunctionTool={_LIB}:ResponsesPydanticFunctionTool",
    ),
    # The stream helpers: Assistants event handlers, chat and Responses streams.
    "lib.streaming": (
        "AssistantEventHandler=oxide_io:AssistantEventHandler",
        "AsyncAssistantEventHandler=oxide_io:AsyncAssistantEventHandler",
        "AssistantStreamManager=oxide_io._sync._stream_helper_assistants:AssistantStreamManager",
        "AsyncAssistantStreamManager="
        "oxide_io._async._stream_helper_assistants:AsyncAssistantStreamManager",
        f"AssistantEventHandlerT={_LIB}:AssistantEventHandlerT",
        f"AsyncAssistantEventHandlerT={_LIB}:AsyncAssistantEventHandlerT",
    ),
    "lib.streaming.chat": _CHAT_STREAM,
    "lib.streaming.chat._events": _CHAT_EVENTS,
    "lib.streaming.chat._completions": _CHAT_STREAM,
    "lib.streaming.responses": _RESPONSES_STREAM,
    "lib.streaming.responses._events": _RESPONSES_EVENTS,
    "lib.streaming.responses._responses": _RESPONSES_STREAM,
    # Hosted agents: local function tools, the output format, turn results, files.
    "lib.beta": (),
    "lib.beta.agents": (
        "FunctionTool=oxide_proto.helpers._agent_tools:AgentFunctionTool",
        "function_tool=oxide_proto.helpers._agent_tools:agent_function_tool",
        "pydantic_function_tool=oxide_proto.helpers._agent_tools:agent_pydantic_function_tool",
        "agent_text_format=oxide_proto.helpers._agent_tools:agent_text_format",
        "AgentTurnResult=oxide_proto.helpers._agent_turn:AgentTurnResult",
        "AgentTurnResultError=oxide_proto.helpers._agent_turn:AgentTurnResultError",
        "AgentOutputParseError=oxide_proto.helpers._agent_turn:AgentOutputParseError",
        "AgentToolError=oxide_proto.helpers._agent_turn:AgentToolError",
        "AgentSessionEventStream=oxide_io._sync._agent_stream:SyncAgentSessionEventStream",
        "AsyncAgentSessionEventStream=oxide_io._async._agent_stream:AsyncAgentSessionEventStream",
        "StagedAgentFile=oxide_io._agent_files:StagedAgentFile",
        "PreparedAgentFiles=oxide_io._agent_files:PreparedAgentFiles",
        "AgentFileStagingError=oxide_io._agent_files:AgentFileStagingError",
        "AgentFilePreparationError=oxide_io._agent_files:AgentFilePreparationError",
        "AgentResultArtifacts=oxide_io._sync.extras.agent_artifacts:SyncAgentResultArtifacts",
        "AsyncAgentResultArtifacts="
        "oxide_io._async.extras.agent_artifacts:AsyncAgentResultArtifacts",
    ),
    # A Realtime translation session that ends cleanly and is never replayed.
    "lib.realtime_translation": (
        "TranslationSession=oxide_io._sync._translation_session:SyncTranslationSession",
        "AsyncTranslationSession=oxide_io._async._translation_session:AsyncTranslationSession",
        "TranslationConnection="
        "oxide_io._sync._translation_session:SyncTranslationSessionConnection",
        "AsyncTranslationConnection="
        "oxide_io._async._translation_session:AsyncTranslationSessionConnection",
    ),
    # Computer use on a caller-owned driver.
    "lib.computer": tuple(
        f"{name}=oxide_io.computer:{name}"
        for name in (
            "ComputerActionInput",
            "Screenshot",
            "ComputerDriver",
            "AsyncComputerDriver",
            "ComputerToolset",
            "AsyncComputerToolset",
            "ComputerUseError",
        )
    ),
    # A caller-owned browser as function tools.
    "lib.browser": tuple(
        f"{name}=oxide_io.browser:{name}"
        for name in (
            "BROWSER_MEMBERS",
            "DEFAULT_BROWSER_MEMBERS",
            "AsyncBrowserClickDriver",
            "AsyncBrowserDriver",
            "AsyncBrowserNavigationDriver",
            "AsyncBrowserReadDriver",
            "AsyncBrowserScreenshotDriver",
            "AsyncBrowserToolset",
            "BrowserCancelledError",
            "BrowserClickDriver",
            "BrowserConfirmContext",
            "BrowserDialogDismissed",
            "BrowserDownload",
            "BrowserDriver",
            "BrowserError",
            "BrowserFileInput",
            "BrowserFileOutcome",
            "BrowserNavigationDriver",
            "BrowserNavigationRefused",
            "BrowserObservationV1",
            "BrowserPoint",
            "BrowserReadConfirmContext",
            "BrowserReadDriver",
            "BrowserReadElement",
            "BrowserReadOption",
            "BrowserReadScope",
            "BrowserReadV1",
            "BrowserScopedReadV1",
            "BrowserScreenshotDriver",
            "BrowserState",
            "BrowserStateChange",
            "BrowserTab",
            "BrowserTabChange",
            "BrowserToolset",
            "ClickAtInput",
            "ClickInput",
            "DragPathInput",
            "FindInput",
            "HoldKeysInput",
            "HoverAtInput",
            "KeyInput",
            "NavigateInput",
            "NewTabInput",
            "ReadDiagnosticsInput",
            "ReadPageInput",
            "ReadPageScopedInput",
            "RunScriptInput",
            "ScrollInput",
            "SelectOptionInput",
            "SetCheckedInput",
            "TabInput",
            "TypeInput",
            "WaitForInput",
            "ZoomInput",
        )
    ),
    # The tool runners and their diagnostics (names in _tool_runners.MODULES).
    **_TOOL_RUNNERS,
    # ------ end of the openai.lib block
    # The microphone and speaker helpers: names that raise when used (see _voice).
    "helpers": (
        "Microphone=oxide_io.compat._voice:Microphone",
        "LocalAudioPlayer=oxide_io.compat._voice:LocalAudioPlayer",
    ),
    "helpers.microphone": ("Microphone=oxide_io.compat._voice:Microphone",),
    "helpers.local_audio_player": ("LocalAudioPlayer=oxide_io.compat._voice:LocalAudioPlayer",),
}
# Extra modules that other extra modules live in.
_EXTRA_PACKAGES = frozenset(name.rpartition(".")[0] for name in EXTRA_MODULES if "." in name)


class ModuleOnUse:
    """Stands for a module, imported when one of its names is first read.

    The types written from the official SDK's facts (`_sdk_types`) name oxide's types
    as `module.Name`; a field's type is read when its class first decodes, so the
    area of oxide's types it lives in is imported then, not with the written area."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on use>"


_entries: dict[str, dict[str, str]] = {}
_packages: set[str] = set()


def _table() -> dict[str, str]:
    from ._types_table import MODULES

    if not _packages:
        for rel in MODULES:
            parts = rel.split(".")
            _packages.update(".".join(parts[:i]) for i in range(len(parts)))
    return MODULES


def entries(rel: str) -> dict[str, str]:
    """Official name -> oxide address for the module `openai.types.<rel>`."""
    found = _entries.get(rel)
    if found is None:
        text = _table()[rel]
        found = dict(item.split("=", 1) for item in text.split())
        _entries[rel] = found
    return found


def _placeholder(path: str) -> type:
    reason = (
        f"{path}: oxide has no equivalent of this official type yet"
        " (docs/coming-from-openai.md lists what is missing)"
    )

    def refuse(cls: type, *args: object, **kwargs: object) -> NoReturn:
        raise NotImplementedError(reason)

    name = path.rsplit(".", 1)[-1]
    namespace = {
        "__new__": refuse,
        "__doc__": f"Placeholder: {reason}.",
        "__class_getitem__": classmethod(lambda cls, item: cls),
        "__oxide_missing__": True,
    }
    return type(name, (), namespace)


def resolve(rel: str, name: str) -> Any:
    """The oxide object standing for `openai.types.<rel>.<name>`."""
    address = entries(rel)[name]
    official = f"openai.types.{rel}.{name}" if rel else f"openai.types.{name}"
    if not address:
        return _placeholder(official)
    where, _, target = address.partition(":")
    target = target or name
    if where == "t":
        module = importlib.import_module("oxide_proto.types")
    elif where == "p":
        module = importlib.import_module("oxide_proto.types.params")
    elif where == "x":
        module = importlib.import_module("oxide_proto")
    elif where.startswith("."):
        # Written from the official SDK's type facts (`_sdk_types`): oxide has none of its own.
        module = importlib.import_module(where, PACKAGE)
    else:
        module = importlib.import_module(where)
    value = module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _types_module(module: ModuleType, rel: str) -> None:
    names = entries(rel)

    def __getattr__(name: str) -> Any:
        if name in names:
            value = resolve(rel, name)
        elif f"{rel}.{name}".lstrip(".") in _table():
            value = importlib.import_module(f"{module.__name__}.{name}")
        else:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        children = [key.rsplit(".", 1)[-1] for key in _table() if _parent(key) == rel and key]
        return sorted({*names, *children})

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__dir__ = __dir__  # type: ignore[method-assign]
    module.__dict__["__all__"] = sorted(names)
    module.__doc__ = f"The official `openai.types{'.' + rel if rel else ''}`, in oxide's types."


def _parent(rel: str) -> str:
    return rel.rpartition(".")[0]


class _TypesLoader:
    def __init__(self, rel: str) -> None:
        self.rel = rel

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        _types_module(module, self.rel)


class _ExtraLoader:
    """`openai._types` and the like: a few names taken from the compat namespace."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        namespace = importlib.import_module(PACKAGE)
        names = []
        for item in self.names:
            name, _, source = item.partition("=")
            if source:
                where, _, attribute = source.partition(":")
                value = getattr(importlib.import_module(where), attribute)
            else:
                value = getattr(namespace, name)
            setattr(module, name, value)
            names.append(name)
        module.__dict__["__all__"] = names
        _keep_names_over_children(module, module.__name__[len(PACKAGE) + 1 :])


def _keep_names_over_children(module: ModuleType, rel: str, alias: str | None = None) -> None:
    """Imports now the child modules of `module` that share a name with one of its
    names (`providers.bedrock`: the function and its module), and puts the name back.

    As in the official package, `openai.providers.bedrock` stays the function after
    `from openai.providers.bedrock import ...`: the import system sets a package's
    attribute to a child module when it loads that child, so the child is loaded
    first (and, under `alias`, registered by that name too).
    """
    for name in module.__dict__.get("__all__", ()):
        if f"{rel}.{name}" in EXTRA_MODULES:
            value = getattr(module, name)
            child = importlib.import_module(f"{PACKAGE}.{rel}.{name}")
            if alias is not None:
                sys.modules.setdefault(f"{alias}.{name}", child)
            setattr(module, name, value)


class _AliasLoader:
    """Gives `openai.<path>` the module `oxide_io.compat.<path>` itself (one object)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.saved: Any = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module = importlib.import_module(self.target)
        self.saved = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system has just pointed `__spec__` at the alias; the module keeps
        # its own, so reloading or pickling by name still finds oxide's module.
        module.__spec__ = self.saved
        rel = self.target[len(PACKAGE) + 1 :]
        if rel in _EXTRA_PACKAGES:
            _keep_names_over_children(module, rel, alias=ALIAS + "." + rel)


class _Finder:
    # Plain classes: the import system only calls these methods, and importlib.abc
    # would add milliseconds to importing this namespace.
    def __init__(self) -> None:
        self.alias = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if self.alias and (fullname == ALIAS or fullname.startswith(ALIAS + ".")):
            mirror = PACKAGE + fullname[len(ALIAS) :]
            if mirror == TYPES or mirror.startswith(TYPES + "."):
                if not self._is_types_module(mirror):
                    return None
            elif mirror != PACKAGE and mirror[len(PACKAGE) + 1 :] not in EXTRA_MODULES:
                return None
            return importlib.machinery.ModuleSpec(
                fullname, cast(Any, _AliasLoader(mirror)), is_package=self._is_package(mirror)
            )
        if fullname == TYPES or fullname.startswith(TYPES + "."):
            if not self._is_types_module(fullname):
                return None
            rel = fullname[len(TYPES) + 1 :]
            return importlib.machinery.ModuleSpec(
                fullname, cast(Any, _TypesLoader(rel)), is_package=self._is_package(fullname)
            )
        if fullname.startswith(PACKAGE + "."):
            extra = fullname[len(PACKAGE) + 1 :]
            if extra in EXTRA_MODULES:
                return importlib.machinery.ModuleSpec(
                    fullname,
                    cast(Any, _ExtraLoader(EXTRA_MODULES[extra])),
                    is_package=extra in _EXTRA_PACKAGES,
                )
        return None

    @staticmethod
    def _is_types_module(fullname: str) -> bool:
        return fullname[len(TYPES) + 1 :] in _table()

    @staticmethod
    def _is_package(fullname: str) -> bool:
        if fullname in (PACKAGE, TYPES):
            return True
        if fullname.startswith(TYPES + "."):
            _table()
            return fullname[len(TYPES) + 1 :] in _packages
        return False


FINDER = _Finder()


def register() -> None:
    if FINDER not in sys.meta_path:
        sys.meta_path.append(FINDER)


def installed() -> bool:
    return FINDER.alias


def install() -> None:
    """Makes `import openai` (and every `openai.<path>`) give oxide's compat namespace.

    Opt-in and process-wide: call it before anything imports `openai`. Raises
    `RuntimeError` if the official package is already imported, because modules
    that imported it hold its classes (an `except openai.RateLimitError` written
    against those would not catch oxide's errors). Calling it again is harmless.
    """
    namespace = sys.modules[PACKAGE]
    current = sys.modules.get(ALIAS)
    if current is not None and current is not namespace:
        raise RuntimeError(
            "the official openai package is already imported, so modules may hold its"
            " classes: call oxide_io.compat.install() before anything imports openai"
            " (for example first thing in your program's entry point)"
        )
    register()
    # Ahead of the path finders, so an installed official package is never found.
    sys.meta_path.remove(FINDER)
    sys.meta_path.insert(0, FINDER)
    FINDER.alias = True


def uninstall() -> None:
    """Undoes `install()`: forgets the `openai` aliases so the next import finds the
    official package again (objects already imported keep what they hold)."""
    FINDER.alias = False
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        module = sys.modules[name]
        if getattr(module, "__name__", "").startswith(PACKAGE):
            del sys.modules[name]
