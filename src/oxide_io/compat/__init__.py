"""The official `openai` package's namespace, served by oxide: change one import line.

    import oxide_io.compat as openai

    client = openai.OpenAI()
    try:
        client.chat.completions.create(model="gpt-4o", messages=[...])
    except openai.RateLimitError:
        ...

Every public name of the official package is here: the clients (`OpenAI` is oxide's
`Client`, `AsyncOpenAI` its `AsyncClient`), every error class (oxide's errors are the
official classes, by name and hierarchy), the markers and helpers, and `types`, whose
modules mirror `openai.types` path by path (`oxide_io.compat.types.chat.ChatCompletion`)
and are made on first import from a generated table. So is the module-level client:
set `api_key` (and the other options) on this module and call `chat.completions.create()`
on it.

Names that cannot mean the same here raise a clear error when used (the httpx client
factories, the pre-1.0 API). `install()` makes `import openai` itself give this
namespace, for code you do not own; it is never done implicitly. What still differs
is listed in docs/coming-from-openai.md.

Importing this module loads neither the async stack nor any type module.
"""

from __future__ import annotations

import os as _os
from collections.abc import Mapping as _Mapping
from typing import TYPE_CHECKING, Any, Literal

from oxide_proto import APIConnectionError as APIConnectionError
from oxide_proto import APIError as APIError
from oxide_proto import APIResponseValidationError as APIResponseValidationError
from oxide_proto import APIStatusError as APIStatusError
from oxide_proto import APITimeoutError as APITimeoutError
from oxide_proto import AuthenticationError as AuthenticationError
from oxide_proto import BadRequestError as BadRequestError
from oxide_proto import BaseModel as BaseModel
from oxide_proto import ConflictError as ConflictError
from oxide_proto import ContentFilterFinishReasonError as ContentFilterFinishReasonError
from oxide_proto import InternalServerError as InternalServerError
from oxide_proto import InvalidWebhookSignatureError as InvalidWebhookSignatureError
from oxide_proto import LengthFinishReasonError as LengthFinishReasonError
from oxide_proto import NotFoundError as NotFoundError
from oxide_proto import OpenAIError as OpenAIError
from oxide_proto import PermissionDeniedError as PermissionDeniedError
from oxide_proto import RateLimitError as RateLimitError
from oxide_proto import UnprocessableEntityError as UnprocessableEntityError
from oxide_proto import WebSocketConnectionClosedError as WebSocketConnectionClosedError
from oxide_proto import WebSocketQueueFullError as WebSocketQueueFullError
from oxide_proto.api._workload_identity import OAuthError as OAuthError
from oxide_proto.api._workload_identity import (
    SubjectTokenProviderError as SubjectTokenProviderError,
)

from .. import RawResponse as APIResponse  # noqa: F401  (the official name)
from .. import ReconnectingEvent as ReconnectingEvent
from .. import ReconnectingOverrides as ReconnectingOverrides
from .. import Stream as Stream
from .._options import NOT_GIVEN as NOT_GIVEN
from .._options import NotGiven as NotGiven
from .._timeout import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .._timeout import Timeout as Timeout
from ._clients import HTTPX_FACTORIES, httpx_factory, missing_client
from ._clients import OpenAI as OpenAI
from ._helpers import DEFAULT_CONNECTION_LIMITS as DEFAULT_CONNECTION_LIMITS
from ._helpers import Omit as Omit
from ._helpers import file_from_path as file_from_path
from ._helpers import not_given as not_given
from ._helpers import omit as omit
from ._helpers import pydantic_function_tool as pydantic_function_tool
from ._helpers import pydantic_responses_function_tool as pydantic_responses_function_tool
from ._helpers import removed_in_v1
from ._modules import install as install
from ._modules import register as _register
from ._modules import uninstall as uninstall

if TYPE_CHECKING:
    from .. import AsyncRawResponse as AsyncAPIResponse  # noqa: F401
    from .. import AsyncStream as AsyncStream
    from .._binary_content import BinaryContent as HttpxBinaryResponseContent  # noqa: F401
    from ._async_clients import AsyncBedrockOpenAI as AsyncBedrockOpenAI
    from ._async_clients import AsyncOpenAI as AsyncOpenAI
    from ._bedrock import BedrockOpenAI as BedrockOpenAI

_register()

# The official SDK's release this namespace mirrors. Libraries choose between the
# pre-1.0 and the 1.x API by comparing it, so it is the SDK's number, not oxide's.
__version__ = "3.63.0"
__title__ = "openai"
VERSION = __version__

Client = OpenAI
NoneType = type(None)
DEFAULT_MAX_RETRIES = 2
DataResidency = Literal["global", "us", "eu", "ae", "au", "in", "jp"]


# ------ the module-level client: `openai.api_key = ...; openai.chat.completions.create()`

api_key: str | None = None
admin_api_key: str | None = None
organization: str | None = None
project: str | None = None
webhook_secret: str | None = None
base_url: str | None = None
timeout: float | Timeout | None = DEFAULT_TIMEOUT
max_retries: int = DEFAULT_MAX_RETRIES
default_headers: _Mapping[str, str] | None = None
default_query: _Mapping[str, object] | None = None
http_client: object = None
api_type: str | None = _os.environ.get("OPENAI_API_TYPE")
api_version: str | None = _os.environ.get("OPENAI_API_VERSION")
azure_endpoint: str | None = _os.environ.get("AZURE_OPENAI_ENDPOINT")
azure_ad_token: str | None = None
azure_ad_token_provider: Any = None
bedrock_token_provider: Any = None

# What the module-level client is built from; a change to any of them rebuilds it.
_SETTINGS = (
    "api_key",
    "admin_api_key",
    "organization",
    "project",
    "webhook_secret",
    "base_url",
    "timeout",
    "max_retries",
    "default_headers",
    "default_query",
    "http_client",
    "api_type",
    "api_version",
    "azure_endpoint",
    "azure_ad_token",
    "azure_ad_token_provider",
    "bedrock_token_provider",
)
_client: Any = None
_client_settings: tuple[object, ...] = ()

# The official module-level client's resources.
_RESOURCES = frozenset(
    {
        "admin",
        "audio",
        "batches",
        "beta",
        "chat",
        "completions",
        "containers",
        "content_provenance_checks",
        "conversations",
        "decisions",
        "embeddings",
        "evals",
        "files",
        "fine_tuning",
        "images",
        "live",
        "models",
        "moderations",
        "realtime",
        "responses",
        "safety",
        "skills",
        "uploads",
        "vector_stores",
        "videos",
        "webhooks",
    }
)


def _settings() -> tuple[object, ...]:
    namespace = globals()
    return tuple(namespace[name] for name in _SETTINGS)


def _choose_api_type() -> str:
    # As the official SDK decides: an explicit api_type wins; otherwise Azure settings
    # select Azure, and OpenAI plus Azure credentials together are an error.
    global azure_endpoint, api_version
    if azure_endpoint is None:
        azure_endpoint = _os.environ.get("AZURE_OPENAI_ENDPOINT")
    if api_version is None:
        api_version = _os.environ.get("OPENAI_API_VERSION")
    if api_type is not None:
        return api_type
    has_openai = _os.environ.get("OPENAI_API_KEY") is not None
    has_azure = azure_endpoint is not None or _os.environ.get("AZURE_OPENAI_API_KEY") is not None
    has_azure_ad = (
        _os.environ.get("AZURE_OPENAI_AD_TOKEN") is not None
        or azure_ad_token is not None
        or azure_ad_token_provider is not None
    )
    if has_openai and (has_azure or has_azure_ad):
        raise OpenAIError(
            "ambiguous module-level client: both OpenAI and Azure credentials are set; set"
            " `openai.api_type` or OPENAI_API_TYPE to 'openai', 'azure' or 'amazon-bedrock'"
        )
    return "azure" if has_azure or has_azure_ad else "openai"


def _load_client() -> Any:
    """The module-level client, built on first use and again after a setting changed."""
    global _client, _client_settings, api_type
    if _client is not None and _client_settings == _settings():
        return _client
    api_type = _choose_api_type()
    common: dict[str, Any] = {
        "organization": organization,
        "base_url": base_url,
        "timeout": timeout,
        "max_retries": max_retries,
        "default_headers": default_headers,
        "default_query": default_query,
        "http_client": http_client,
    }
    if api_type == "azure":
        import oxide_io

        client: Any = oxide_io.AzureClient(
            api_version=api_version,
            azure_endpoint=azure_endpoint,
            api_key=api_key,
            azure_ad_token=azure_ad_token,
            azure_ad_token_provider=azure_ad_token_provider,
            **common,
        )
    elif api_type == "openai":
        previous = _client if type(_client) is OpenAI else None
        client = OpenAI(
            api_key=api_key,
            admin_api_key=admin_api_key,
            project=project,
            webhook_secret=webhook_secret,
            # A rebuilt client keeps the connection pool of the one it replaces.
            _transport=previous._transport if previous is not None else None,
            **common,
        )
    elif api_type == "amazon-bedrock":
        from ._bedrock import BedrockOpenAI

        client = BedrockOpenAI(
            api_key=api_key,
            bedrock_token_provider=bedrock_token_provider,
            project=project,
            webhook_secret=webhook_secret,
            **common,
        )
    else:
        raise OpenAIError(
            f"openai.api_type={api_type!r}: the module-level client takes 'openai', 'azure'"
            " or 'amazon-bedrock'"
        )
    _client, _client_settings = client, _settings()
    return client


class _ResourceProxy:
    """`openai.chat` and the like: the module-level client's resource of that name,
    looked up on each use, so the client is built (or rebuilt) only when called."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(_load_client(), self._name), attribute)

    def __dir__(self) -> list[str]:
        return dir(getattr(_load_client(), self._name))

    def __repr__(self) -> str:
        return f"<module-level client's {self._name}>"


def _reset_client() -> None:
    global _client, _client_settings
    _client, _client_settings = None, ()


# ------ names resolved on first use

_LAZY: dict[str, tuple[str, str]] = {
    "AsyncOpenAI": ("._async_clients", "AsyncOpenAI"),
    "AsyncClient": ("._async_clients", "AsyncOpenAI"),
    "AsyncStream": ("..", "AsyncStream"),
    "AsyncAPIResponse": ("..", "AsyncRawResponse"),
    "HttpxBinaryResponseContent": (".._binary_content", "BinaryContent"),
    # Amazon Bedrock: oxide's clients with `provider=bedrock(...)`.
    "BedrockOpenAI": ("._bedrock", "BedrockOpenAI"),
    "AsyncBedrockOpenAI": ("._async_clients", "AsyncBedrockOpenAI"),
    # The Assistants stream handlers (the official `openai.lib.streaming`'s).
    "AssistantEventHandler": ("..", "AssistantEventHandler"),
    "AsyncAssistantEventHandler": ("..", "AsyncAssistantEventHandler"),
    # Computer use (the official `openai.lib.computer`'s).
    "ComputerToolset": ("..computer", "ComputerToolset"),
    "AsyncComputerToolset": ("..computer", "AsyncComputerToolset"),
    "ComputerDriver": ("..computer", "ComputerDriver"),
    "AsyncComputerDriver": ("..computer", "AsyncComputerDriver"),
}
# Azure OpenAI: oxide's `AzureClient` / `AsyncAzureClient`.
_AZURE = {"AzureOpenAI": "AzureClient", "AsyncAzureOpenAI": "AsyncAzureClient"}
_MISSING_CLIENTS: dict[str, str] = {}
# The pre-1.0 module API, which the official package keeps only to raise on use.
_REMOVED_IN_V1 = frozenset(
    {
        "Audio",
        "ChatCompletion",
        "Completion",
        "Customer",
        "Deployment",
        "Edit",
        "Embedding",
        "Engine",
        "ErrorObject",
        "File",
        "FineTune",
        "FineTuningJob",
        "Image",
        "Model",
        "Moderation",
    }
)


def __getattr__(name: str) -> Any:
    if name in _RESOURCES:
        value: Any = _ResourceProxy(name)
    elif name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attribute)
    elif name in _AZURE:
        import oxide_io

        value = getattr(oxide_io, _AZURE[name])
    elif name in HTTPX_FACTORIES:
        value = httpx_factory(name)
    elif name in _MISSING_CLIENTS:
        value = missing_client(name, _MISSING_CLIENTS[name])
    elif name in _REMOVED_IN_V1:
        value = removed_in_v1(name)
    elif name in ("types", "providers"):
        import importlib

        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    extra = {*_RESOURCES, *_LAZY, *_AZURE, *HTTPX_FACTORIES, *_MISSING_CLIENTS, *_REMOVED_IN_V1}
    return sorted({*globals(), *extra, "types", "providers"})
