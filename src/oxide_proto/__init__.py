"""oxide_proto: the pure protocol core of oxide.

Bytes in, events out; bytes out for requests. No sockets, TLS, event loop,
threads, clock, randomness or environment: whatever needs the time takes `now`,
whatever needs chance takes a `random` callable. Every public name is re-exported
here; the `_modules` behind it are private.
"""

import importlib
from typing import TYPE_CHECKING

from ._azure import DEPLOYMENT_PATHS as DEPLOYMENT_PATHS
from ._azure import AzureConfig as AzureConfig
from ._azure import MutuallyExclusiveAuthError as MutuallyExclusiveAuthError
from ._azure import azure_auth_headers as azure_auth_headers
from ._azure import azure_base_url as azure_base_url
from ._azure import azure_route as azure_route
from ._azure import checked_token as checked_token
from ._azure import realtime_target as realtime_target
from ._azure import resolve_azure as resolve_azure
from ._body_text import BodyTextDecoder as BodyTextDecoder
from ._body_text import LineSplitter as LineSplitter
from ._body_text import charset_from_content_type as charset_from_content_type
from ._call import Call as Call
from ._call import CallSettings as CallSettings
from ._connection import HTTPConnection as HTTPConnection
from ._connection_pool import MAX_REFUSALS as MAX_REFUSALS
from ._connection_pool import Checkout as Checkout
from ._connection_pool import CheckoutAction as CheckoutAction
from ._connection_pool import ConnectionPool as ConnectionPool
from ._connection_pool import PoolActions as PoolActions
from ._connection_pool import requeue_refused as requeue_refused
from ._content import DEFAULT_MAX_DECODED_SIZE as DEFAULT_MAX_DECODED_SIZE
from ._content import ContentDecoder as ContentDecoder
from ._content import accepted_encodings as accepted_encodings
from ._decode import decode as decode
from ._encode import build_request as build_request
from ._encode import encode_json as encode_json
from ._encode import user_agent as user_agent
from ._encode import validate_header as validate_header
from ._errors import APIConnectionError as APIConnectionError
from ._errors import APIError as APIError
from ._errors import APIEventError as APIEventError
from ._errors import APIResponseValidationError as APIResponseValidationError
from ._errors import APIStatusError as APIStatusError
from ._errors import APITimeoutError as APITimeoutError
from ._errors import AuthenticationError as AuthenticationError
from ._errors import BadRequestError as BadRequestError
from ._errors import ConflictError as ConflictError
from ._errors import ContentFilterFinishReasonError as ContentFilterFinishReasonError
from ._errors import DecodingError as DecodingError
from ._errors import InternalServerError as InternalServerError
from ._errors import InvalidHeaderError as InvalidHeaderError
from ._errors import InvalidJSONError as InvalidJSONError
from ._errors import InvalidToolArgumentsError as InvalidToolArgumentsError
from ._errors import InvalidWebhookSignatureError as InvalidWebhookSignatureError
from ._errors import LengthFinishReasonError as LengthFinishReasonError
from ._errors import LimitExceededError as LimitExceededError
from ._errors import LocalProtocolError as LocalProtocolError
from ._errors import MalformedEventError as MalformedEventError
from ._errors import NotFoundError as NotFoundError
from ._errors import OpenAIError as OpenAIError
from ._errors import OutputValidationError as OutputValidationError
from ._errors import PermissionDeniedError as PermissionDeniedError
from ._errors import ProtocolError as ProtocolError
from ._errors import ProxyAuthenticationError as ProxyAuthenticationError
from ._errors import ProxyError as ProxyError
from ._errors import RateLimitError as RateLimitError
from ._errors import RedirectError as RedirectError
from ._errors import RemoteProtocolError as RemoteProtocolError
from ._errors import ResponseFailedError as ResponseFailedError
from ._errors import ResponseIncompleteError as ResponseIncompleteError
from ._errors import ResponseTooLargeError as ResponseTooLargeError
from ._errors import SchemaError as SchemaError
from ._errors import StreamAlreadyConsumed as StreamAlreadyConsumed
from ._errors import UnprocessableEntityError as UnprocessableEntityError
from ._errors import WebSocketConnectionClosedError as WebSocketConnectionClosedError
from ._errors import WebSocketHandshakeError as WebSocketHandshakeError
from ._errors import redact_secrets as redact_secrets
from ._errors import redirect_error as redirect_error
from ._errors import request_secrets as request_secrets
from ._errors import status_error_class as status_error_class
from ._errors import status_error_from_response as status_error_from_response
from ._event_socket import EventSocket as EventSocket
from ._event_socket import EventSocketTarget as EventSocketTarget
from ._event_socket import Handshake as Handshake
from ._event_socket import WebSocketOptions as WebSocketOptions
from ._event_socket import closed_error as closed_error
from ._event_socket import event_error as event_error
from ._event_socket import parse_event_payload as parse_event_payload
from ._event_socket import unhandled_error as unhandled_error
from ._events import NEED_DATA as NEED_DATA
from ._events import BodyData as BodyData
from ._events import BodyEnd as BodyEnd
from ._events import HTTPEvent as HTTPEvent
from ._events import NeedData as NeedData
from ._events import ResponseHead as ResponseHead
from ._headers import SECRET_HEADERS as SECRET_HEADERS
from ._headers import Headers as Headers
from ._model import BaseModel as BaseModel
from ._model import UnknownModel as UnknownModel
from ._operation import Operation as Operation
from ._operation import resolve_type as resolve_type
from ._pool import ConnectionInfo as ConnectionInfo
from ._pool import PoolAction as PoolAction
from ._pool import PoolDecision as PoolDecision
from ._pool import PoolLimits as PoolLimits
from ._pool import PoolPolicy as PoolPolicy
from ._pool import ReleaseDecision as ReleaseDecision
from ._pool import assign_connection as assign_connection
from ._pool import expired_connections as expired_connections
from ._pool import release_connection as release_connection
from ._reconnect import NO_RECONNECT as NO_RECONNECT
from ._reconnect import RECONNECT_CLOSE_CODES as RECONNECT_CLOSE_CODES
from ._reconnect import OnReconnecting as OnReconnecting
from ._reconnect import ReconnectingEvent as ReconnectingEvent
from ._reconnect import ReconnectingOverrides as ReconnectingOverrides
from ._reconnect import ReconnectPolicy as ReconnectPolicy
from ._redirect import DEFAULT_MAX_REDIRECTS as DEFAULT_MAX_REDIRECTS
from ._redirect import REDIRECT_STATUSES as REDIRECT_STATUSES
from ._redirect import follow_redirect as follow_redirect
from ._retry import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
from ._retry import INITIAL_RETRY_DELAY as INITIAL_RETRY_DELAY
from ._retry import MAX_RETRY_AFTER_DELAY as MAX_RETRY_AFTER_DELAY
from ._retry import MAX_RETRY_DELAY as MAX_RETRY_DELAY
from ._retry import RetryDecision as RetryDecision
from ._retry import RetryPolicy as RetryPolicy
from ._retry import parse_retry_after as parse_retry_after
from ._retry import retryable_handshake as retryable_handshake
from ._sse import ServerSentEvent as ServerSentEvent
from ._sse import SSEDecoder as SSEDecoder
from ._stream import OpenAIStreamDecoder as OpenAIStreamDecoder
from ._stream import StreamEnd as StreamEnd
from ._stream import StreamEvent as StreamEvent
from ._types import URL as URL
from ._types import Body as Body
from ._types import Request as Request
from ._types import ResponseInfo as ResponseInfo
from ._url import ArrayFormat as ArrayFormat
from ._url import NestedFormat as NestedFormat
from ._url import build_url as build_url
from ._url import encode_query as encode_query
from ._url import expand_path as expand_path
from ._url import flatten_params as flatten_params
from ._url import parse_url as parse_url
from ._url import websocket_url as websocket_url
from ._version import __version__ as __version__
from ._websocket_events import DEFAULT_KEEPALIVE_INTERVAL as DEFAULT_KEEPALIVE_INTERVAL
from ._websocket_events import DEFAULT_KEEPALIVE_TIMEOUT as DEFAULT_KEEPALIVE_TIMEOUT
from ._websocket_events import DEFAULT_MAX_MESSAGE_SIZE as DEFAULT_MAX_MESSAGE_SIZE

# HTTP/2 (h2, hpack, hyperframe), WebSocket (wsproto) and multipart encoding load on
# first use: most programs need one transport, and importing the others costs
# more than the whole rest of the core.
if TYPE_CHECKING:
    # Bulk jobs (hashlib and json load only with them).
    # Stream helpers and structured outputs load the Chat / Responses types.
    from ._assistant_accumulator import AssistantAccumulator as AssistantAccumulator
    from ._bulk import BulkInputError as BulkInputError
    from ._bulk import BulkLineError as BulkLineError
    from ._bulk import BulkRequest as BulkRequest
    from ._bulk import IdSet as IdSet
    from ._bulk import InputProblem as InputProblem
    from ._bulk import api_path as api_path
    from ._bulk import estimate_tokens as estimate_tokens
    from ._bulk import parse_request_line as parse_request_line
    from ._bulk import parse_result_line as parse_result_line
    from ._bulk import result_line as result_line
    from ._chat_accumulator import ChatCompletionAccumulator as ChatCompletionAccumulator
    from ._chat_accumulator import ChatCompletionStreamEvent as ChatCompletionStreamEvent
    from ._chat_accumulator import ChoiceDoneEvent as ChoiceDoneEvent
    from ._chat_accumulator import ChunkEvent as ChunkEvent
    from ._chat_accumulator import ContentDeltaEvent as ContentDeltaEvent
    from ._chat_accumulator import ContentDoneEvent as ContentDoneEvent
    from ._chat_accumulator import (
        FunctionToolCallArgumentsDeltaEvent as FunctionToolCallArgumentsDeltaEvent,
    )
    from ._chat_accumulator import (
        FunctionToolCallArgumentsDoneEvent as FunctionToolCallArgumentsDoneEvent,
    )
    from ._chat_accumulator import LogprobsContentDeltaEvent as LogprobsContentDeltaEvent
    from ._chat_accumulator import LogprobsContentDoneEvent as LogprobsContentDoneEvent
    from ._chat_accumulator import LogprobsRefusalDeltaEvent as LogprobsRefusalDeltaEvent
    from ._chat_accumulator import LogprobsRefusalDoneEvent as LogprobsRefusalDoneEvent
    from ._chat_accumulator import RefusalDeltaEvent as RefusalDeltaEvent
    from ._chat_accumulator import RefusalDoneEvent as RefusalDoneEvent
    from ._chat_parsed import ParsedChatCompletion as ParsedChatCompletion
    from ._chat_parsed import ParsedChatCompletionMessage as ParsedChatCompletionMessage
    from ._chat_parsed import ParsedChoice as ParsedChoice
    from ._chat_parsed import ParsedFunction as ParsedFunction
    from ._chat_parsed import ParsedFunctionToolCall as ParsedFunctionToolCall
    from ._chat_parsed import parse_chat_completion as parse_chat_completion
    from ._embeddings import decode_embeddings as decode_embeddings
    from ._http2 import DEFAULT_CONNECTION_WINDOW_SIZE as DEFAULT_CONNECTION_WINDOW_SIZE
    from ._http2 import DEFAULT_INITIAL_WINDOW_SIZE as DEFAULT_INITIAL_WINDOW_SIZE
    from ._http2 import HTTP2Connection as HTTP2Connection
    from ._http11 import DEFAULT_MAX_HEAD_SIZE as DEFAULT_MAX_HEAD_SIZE
    from ._http11 import HTTP11Connection as HTTP11Connection
    from ._multipart import FileInput as FileInput
    from ._multipart import FilePart as FilePart
    from ._multipart import MultipartBody as MultipartBody
    from ._multipart import encode_multipart as encode_multipart
    from ._multipart import guess_content_type as guess_content_type
    from ._partial_json import PartialJSONParser as PartialJSONParser
    from ._partial_json import parse_partial_json as parse_partial_json
    from ._proxy import Proxy as Proxy
    from ._proxy import ProxyConfig as ProxyConfig
    from ._proxy import ProxyTunnel as ProxyTunnel
    from ._proxy import Tunnel as Tunnel
    from ._proxy import absolute_form as absolute_form
    from ._proxy import parse_proxy_url as parse_proxy_url
    from ._rate_limit import RateLimits as RateLimits
    from ._rate_limit import RatePolicy as RatePolicy
    from ._rate_limit import Start as Start
    from ._rate_limit import Wait as Wait
    from ._rate_limit import parse_reset_duration as parse_reset_duration
    from ._realtime_socket import DEFAULT_AUDIO_CHUNK as DEFAULT_AUDIO_CHUNK
    from ._realtime_socket import BetaRealtimeClientEvents as BetaRealtimeClientEvents
    from ._realtime_socket import RealtimeAudio as RealtimeAudio
    from ._realtime_socket import RealtimeAudioCollector as RealtimeAudioCollector
    from ._realtime_socket import RealtimeClientEvents as RealtimeClientEvents
    from ._realtime_socket import audio_chunks as audio_chunks
    from ._realtime_socket import decode_realtime_event as decode_realtime_event
    from ._realtime_socket import parse_realtime_event as parse_realtime_event
    from ._responses_accumulator import ParsedResponse as ParsedResponse
    from ._responses_accumulator import (
        ParsedResponseFunctionToolCall as ParsedResponseFunctionToolCall,
    )
    from ._responses_accumulator import ResponseCompletedEvent as ResponseCompletedEvent
    from ._responses_accumulator import (
        ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
    )
    from ._responses_accumulator import (
        ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
    )
    from ._responses_accumulator import ResponseStreamAccumulator as ResponseStreamAccumulator
    from ._responses_accumulator import ResponseTextDeltaEvent as ResponseTextDeltaEvent
    from ._responses_accumulator import ResponseTextDoneEvent as ResponseTextDoneEvent
    from ._responses_accumulator import (
        decode_response_stream_event as decode_response_stream_event,
    )
    from ._responses_accumulator import parse_response as parse_response
    from ._responses_socket import BetaResponsesClientEvents as BetaResponsesClientEvents
    from ._responses_socket import ResponsesClientEvents as ResponsesClientEvents
    from ._responses_socket import ResponsesTurn as ResponsesTurn
    from ._responses_socket import decode_beta_responses_event as decode_beta_responses_event
    from ._responses_socket import parse_responses_event as parse_responses_event
    from ._schema import TypedTool as TypedTool
    from ._schema import as_responses_tools as as_responses_tools
    from ._schema import function_tool as function_tool
    from ._schema import parse_into as parse_into
    from ._schema import response_format_for as response_format_for
    from ._schema import responses_function_tool as responses_function_tool
    from ._schema import text_format_for as text_format_for
    from ._schema import to_strict_json_schema as to_strict_json_schema
    from ._socks import SOCKS5_REPLIES as SOCKS5_REPLIES
    from ._socks import SocksTunnel as SocksTunnel
    from ._socks import require_socksio as require_socksio
    from ._webhooks import WEBHOOK_TOLERANCE as WEBHOOK_TOLERANCE
    from ._webhooks import decode_webhook_event as decode_webhook_event
    from ._webhooks import verify_webhook_signature as verify_webhook_signature
    from ._websocket import WebSocketSession as WebSocketSession
    from ._websocket_events import BinaryMessage as BinaryMessage
    from ._websocket_events import Closed as Closed
    from ._websocket_events import Opened as Opened
    from ._websocket_events import TextMessage as TextMessage
    from ._websocket_events import WebSocketEvent as WebSocketEvent
    from ._websocket_events import WebSocketState as WebSocketState
    from ._workload_identity import DEFAULT_REFRESH_BUFFER_SECONDS as DEFAULT_REFRESH_BUFFER_SECONDS
    from ._workload_identity import DEFAULT_TOKEN_EXCHANGE_URL as DEFAULT_TOKEN_EXCHANGE_URL
    from ._workload_identity import PLACEHOLDER_API_KEY as PLACEHOLDER_API_KEY
    from ._workload_identity import SUBJECT_TOKEN_TYPES as SUBJECT_TOKEN_TYPES
    from ._workload_identity import TOKEN_EXCHANGE_GRANT_TYPE as TOKEN_EXCHANGE_GRANT_TYPE
    from ._workload_identity import IssuedToken as IssuedToken
    from ._workload_identity import OAuthError as OAuthError
    from ._workload_identity import SubjectTokenProviderError as SubjectTokenProviderError
    from ._workload_identity import TokenCache as TokenCache
    from ._workload_identity import WorkloadIdentityConfig as WorkloadIdentityConfig
    from ._workload_identity import exchange_request as exchange_request
    from ._workload_identity import parse_exchange_response as parse_exchange_response
    from ._workload_identity import workload_identity_config as workload_identity_config

_LAZY: dict[str, str] = {
    "BulkInputError": "._bulk",
    "BulkLineError": "._bulk",
    "BulkRequest": "._bulk",
    "IdSet": "._bulk",
    "InputProblem": "._bulk",
    "api_path": "._bulk",
    "estimate_tokens": "._bulk",
    "parse_request_line": "._bulk",
    "parse_result_line": "._bulk",
    "result_line": "._bulk",
    "RateLimits": "._rate_limit",
    "RatePolicy": "._rate_limit",
    "Start": "._rate_limit",
    "Wait": "._rate_limit",
    "parse_reset_duration": "._rate_limit",
    "DEFAULT_MAX_HEAD_SIZE": "._http11",
    "HTTP11Connection": "._http11",
    "DEFAULT_CONNECTION_WINDOW_SIZE": "._http2",
    "DEFAULT_INITIAL_WINDOW_SIZE": "._http2",
    "HTTP2Connection": "._http2",
    "FileInput": "._multipart",
    "FilePart": "._multipart",
    "MultipartBody": "._multipart",
    "encode_multipart": "._multipart",
    "guess_content_type": "._multipart",
    "WEBHOOK_TOLERANCE": "._webhooks",
    "decode_webhook_event": "._webhooks",
    "verify_webhook_signature": "._webhooks",
    "WebSocketSession": "._websocket",
    "DEFAULT_AUDIO_CHUNK": "._realtime_socket",
    "BetaRealtimeClientEvents": "._realtime_socket",
    "RealtimeAudio": "._realtime_socket",
    "RealtimeAudioCollector": "._realtime_socket",
    "RealtimeClientEvents": "._realtime_socket",
    "audio_chunks": "._realtime_socket",
    "decode_realtime_event": "._realtime_socket",
    "parse_realtime_event": "._realtime_socket",
    "ResponsesClientEvents": "._responses_socket",
    "BetaResponsesClientEvents": "._responses_socket",
    "decode_beta_responses_event": "._responses_socket",
    "ResponsesTurn": "._responses_socket",
    "parse_responses_event": "._responses_socket",
    "BinaryMessage": "._websocket_events",
    "Closed": "._websocket_events",
    "Opened": "._websocket_events",
    "TextMessage": "._websocket_events",
    "WebSocketEvent": "._websocket_events",
    "WebSocketState": "._websocket_events",
    "DEFAULT_REFRESH_BUFFER_SECONDS": "._workload_identity",
    "DEFAULT_TOKEN_EXCHANGE_URL": "._workload_identity",
    "PLACEHOLDER_API_KEY": "._workload_identity",
    "SUBJECT_TOKEN_TYPES": "._workload_identity",
    "TOKEN_EXCHANGE_GRANT_TYPE": "._workload_identity",
    "IssuedToken": "._workload_identity",
    "OAuthError": "._workload_identity",
    "SubjectTokenProviderError": "._workload_identity",
    "TokenCache": "._workload_identity",
    "WorkloadIdentityConfig": "._workload_identity",
    "exchange_request": "._workload_identity",
    "parse_exchange_response": "._workload_identity",
    "workload_identity_config": "._workload_identity",
    "decode_embeddings": "._embeddings",
    "AssistantAccumulator": "._assistant_accumulator",
    "ChatCompletionAccumulator": "._chat_accumulator",
    "ChatCompletionStreamEvent": "._chat_accumulator",
    "ChoiceDoneEvent": "._chat_accumulator",
    "ChunkEvent": "._chat_accumulator",
    "ContentDeltaEvent": "._chat_accumulator",
    "ContentDoneEvent": "._chat_accumulator",
    "FunctionToolCallArgumentsDeltaEvent": "._chat_accumulator",
    "FunctionToolCallArgumentsDoneEvent": "._chat_accumulator",
    "LogprobsContentDeltaEvent": "._chat_accumulator",
    "LogprobsContentDoneEvent": "._chat_accumulator",
    "LogprobsRefusalDeltaEvent": "._chat_accumulator",
    "LogprobsRefusalDoneEvent": "._chat_accumulator",
    "RefusalDeltaEvent": "._chat_accumulator",
    "RefusalDoneEvent": "._chat_accumulator",
    "ParsedChatCompletion": "._chat_parsed",
    "ParsedChatCompletionMessage": "._chat_parsed",
    "ParsedChoice": "._chat_parsed",
    "ParsedFunction": "._chat_parsed",
    "ParsedFunctionToolCall": "._chat_parsed",
    "parse_chat_completion": "._chat_parsed",
    "PartialJSONParser": "._partial_json",
    "parse_partial_json": "._partial_json",
    "ParsedResponse": "._responses_accumulator",
    "ParsedResponseFunctionToolCall": "._responses_accumulator",
    "ResponseCompletedEvent": "._responses_accumulator",
    "ResponseFunctionCallArgumentsDeltaEvent": "._responses_accumulator",
    "ResponseFunctionCallArgumentsDoneEvent": "._responses_accumulator",
    "ResponseStreamAccumulator": "._responses_accumulator",
    "ResponseTextDeltaEvent": "._responses_accumulator",
    "ResponseTextDoneEvent": "._responses_accumulator",
    "parse_response": "._responses_accumulator",
    "decode_response_stream_event": "._responses_accumulator",
    "Proxy": "._proxy",
    "ProxyConfig": "._proxy",
    "ProxyTunnel": "._proxy",
    "Tunnel": "._proxy",
    "absolute_form": "._proxy",
    "parse_proxy_url": "._proxy",
    "SOCKS5_REPLIES": "._socks",
    "SocksTunnel": "._socks",
    "require_socksio": "._socks",
    "TypedTool": "._schema",
    "as_responses_tools": "._schema",
    "function_tool": "._schema",
    "parse_into": "._schema",
    "response_format_for": "._schema",
    "responses_function_tool": "._schema",
    "text_format_for": "._schema",
    "to_strict_json_schema": "._schema",
}

# Hidden from type checkers, which would otherwise accept any attribute name.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
