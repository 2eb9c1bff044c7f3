"""oxide: a fast, correct client for the OpenAI API.

`Client` for blocking code, `AsyncClient` for asyncio and trio (also under the
official SDK's names, `OpenAI` and `AsyncOpenAI`); `AzureClient` and
`AsyncAzureClient` (`AzureOpenAI` and `AsyncAzureOpenAI`) for Azure OpenAI. The
errors are the official SDK's classes, under the same names. `oxide_io.compat` is
the official package's whole namespace, for code that should run after changing
one import line.
"""

from typing import TYPE_CHECKING, Any

from oxide_proto import APIConnectionError as APIConnectionError
from oxide_proto import APIError as APIError
from oxide_proto import APIResponseValidationError as APIResponseValidationError
from oxide_proto import APIStatusError as APIStatusError
from oxide_proto import APITimeoutError as APITimeoutError
from oxide_proto import AuthenticationError as AuthenticationError
from oxide_proto import BadRequestError as BadRequestError
from oxide_proto import ConflictError as ConflictError
from oxide_proto import ContentFilterFinishReasonError as ContentFilterFinishReasonError
from oxide_proto import InternalServerError as InternalServerError
from oxide_proto import LengthFinishReasonError as LengthFinishReasonError
from oxide_proto import MalformedEventError as MalformedEventError
from oxide_proto import NotFoundError as NotFoundError
from oxide_proto import OpenAIError as OpenAIError
from oxide_proto import PermissionDeniedError as PermissionDeniedError
from oxide_proto import RateLimitError as RateLimitError
from oxide_proto import RedirectError as RedirectError
from oxide_proto import ResponseTooLargeError as ResponseTooLargeError
from oxide_proto import UnprocessableEntityError as UnprocessableEntityError
from oxide_proto import __version__ as __version__

from ._options import NOT_GIVEN as NOT_GIVEN
from ._options import NotGiven as NotGiven
from ._sync._api_client import RawResponse as RawResponse
from ._sync._clients import AzureClient as AzureClient
from ._sync._clients import Client as Client
from ._sync._transport import SyncTransport as SyncTransport
from ._timeout import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._timeout import Timeout as Timeout
from ._tls import ClientCertificateError as ClientCertificateError

# The official SDK's name for it.
AzureOpenAI = AzureClient

if TYPE_CHECKING:
    from oxide_proto import MutuallyExclusiveAuthError as MutuallyExclusiveAuthError
    from oxide_proto.websocket._reconnect import ReconnectingEvent as ReconnectingEvent
    from oxide_proto.websocket._reconnect import ReconnectingOverrides as ReconnectingOverrides

    from ._async._api_client import AsyncRawResponse as AsyncRawResponse
    from ._async._clients import AsyncAzureClient as AsyncAzureClient
    from ._async._clients import AsyncClient as AsyncClient
    from ._async._stream_helper_assistants import (
        AsyncAssistantEventHandler as AsyncAssistantEventHandler,
    )
    from ._async._transport import AsyncTransport as AsyncTransport

    AsyncAzureOpenAI = AsyncAzureClient
    from ._async._page import AsyncPage as AsyncPage
    from ._async._responses_lanes import (
        AsyncResponsesWebSocketSession as AsyncResponsesWebSocketSession,
    )
    from ._async._sse_stream import AsyncStream as AsyncStream
    from ._async._streamed_response import AsyncStreamedResponse as AsyncStreamedResponse
    from ._async._tool_runner import AsyncDecisionsToolRunner as AsyncDecisionsToolRunner
    from ._async._tool_runner import AsyncRegisteredFunction as AsyncRegisteredFunction
    from ._async._tool_runner import AsyncResponsesToolRunner as AsyncResponsesToolRunner
    from ._sync._responses_lanes import (
        SyncResponsesWebSocketSession as SyncResponsesWebSocketSession,
    )
    from ._sync._tool_runner import SyncDecisionsToolRunner as SyncDecisionsToolRunner
    from ._sync._tool_runner import SyncRegisteredFunction as SyncRegisteredFunction
    from ._sync._tool_runner import SyncResponsesToolRunner as SyncResponsesToolRunner
    from ._transcripts import AsyncTranscriptGrouper as AsyncTranscriptGrouper
    from ._transcripts import TranscriptGrouper as TranscriptGrouper

    ResponsesToolRunner = SyncResponsesToolRunner
    RegisteredFunction = SyncRegisteredFunction
    DecisionsToolRunner = SyncDecisionsToolRunner

    ResponsesWebSocketSession = SyncResponsesWebSocketSession
    from ._sync._page import SyncPage as SyncPage
    from ._sync._sse_stream import Stream as Stream
    from ._sync._stream_helper_assistants import AssistantEventHandler as AssistantEventHandler
    from ._sync._streamed_response import StreamedResponse as StreamedResponse
    from .compat._async_clients import AsyncOpenAI as AsyncOpenAI
    from .compat._clients import OpenAI as OpenAI

# The async side (and anyio with it) loads on first use, so a blocking script
# does not pay for an event-loop library it never runs; so do the blocking side's
# pages, streams, Azure's error and WebSocket reconnection events, which a first
# call does not need.
_LAZY = {
    "AsyncClient": "._async._clients",
    "AsyncAzureClient": "._async._clients",
    "AsyncTransport": "._async._transport",
    "AsyncRawResponse": "._async._api_client",
    "AsyncPage": "._async._page",
    "AsyncStreamedResponse": "._async._streamed_response",
    "AsyncStream": "._async._sse_stream",
    # The official SDK's names for the two clients (see oxide_io.compat).
    "OpenAI": ".compat._clients",
    "AsyncOpenAI": ".compat._async_clients",
    # Assistants stream handlers, both sides: few scripts use them.
    "AsyncAssistantEventHandler": "._async._stream_helper_assistants",
    "AssistantEventHandler": "._sync._stream_helper_assistants",
    # Lanes of responses over one Responses WebSocket, and Live transcript grouping.
    "AsyncResponsesWebSocketSession": "._async._responses_lanes",
    "SyncResponsesWebSocketSession": "._sync._responses_lanes",
    "TranscriptGrouper": "._transcripts",
    "AsyncTranscriptGrouper": "._transcripts",
    # Tool runners: the model calls registered functions (or chooses actions) until done.
    "AsyncResponsesToolRunner": "._async._tool_runner",
    "AsyncRegisteredFunction": "._async._tool_runner",
    "AsyncDecisionsToolRunner": "._async._tool_runner",
    "SyncResponsesToolRunner": "._sync._tool_runner",
    "SyncRegisteredFunction": "._sync._tool_runner",
    "SyncDecisionsToolRunner": "._sync._tool_runner",
    "SyncPage": "._sync._page",
    "Stream": "._sync._sse_stream",
    "StreamedResponse": "._sync._streamed_response",
    "ReconnectingEvent": "oxide_proto.websocket._reconnect",
    # Azure's (its module loads with the first Azure client).
    "MutuallyExclusiveAuthError": "oxide_proto.api._azure",
    "ReconnectingOverrides": "oxide_proto.websocket._reconnect",
}


# The official SDK's names for oxide's classes.
_ALIASES = {
    "AsyncAzureOpenAI": "AsyncAzureClient",
    "ResponsesWebSocketSession": "SyncResponsesWebSocketSession",
    "ResponsesToolRunner": "SyncResponsesToolRunner",
    "RegisteredFunction": "SyncRegisteredFunction",
    "DecisionsToolRunner": "SyncDecisionsToolRunner",
}


def __getattr__(name: str) -> Any:
    target = _ALIASES.get(name, name)
    module = _LAZY.get(target)
    if module is None:
        raise AttributeError(f"module 'oxide_io' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), target)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_ALIASES})
