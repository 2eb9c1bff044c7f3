"""oxide_proto: the pure protocol core of oxide.

Bytes in, events out; bytes out for requests. No sockets, TLS, event loop,
threads, clock, randomness or environment: whatever needs the time takes `now`,
whatever needs chance takes a `random` callable. Every public name is re-exported
here; the `_modules` behind it are private.
"""

import importlib
from typing import TYPE_CHECKING

from ._version import __version__ as __version__

# Every name loads its module on first use (`__getattr__` below). Importing any
# module of the core runs this file first, so an eager facade would load all of
# it for every program: HTTP/2 (h2, hpack, hyperframe), WebSocket (wsproto),
# multipart, bulk jobs, Azure, WebSocket sessions, stream helpers. Each program
# loads the parts it uses; `import oxide_io` the few a first call needs.
if TYPE_CHECKING:
    from .api._azure import DEPLOYMENT_PATHS as DEPLOYMENT_PATHS
    from .api._azure import AzureConfig as AzureConfig
    from .api._azure import MutuallyExclusiveAuthError as MutuallyExclusiveAuthError
    from .api._azure import azure_auth_headers as azure_auth_headers
    from .api._azure import azure_base_url as azure_base_url
    from .api._azure import azure_route as azure_route
    from .api._azure import checked_token as checked_token
    from .api._azure import realtime_target as realtime_target
    from .api._azure import resolve_azure as resolve_azure
    from .api._bedrock import CREDENTIALS_ADVISORY_REFRESH as CREDENTIALS_ADVISORY_REFRESH
    from .api._bedrock import CREDENTIALS_MANDATORY_REFRESH as CREDENTIALS_MANDATORY_REFRESH
    from .api._bedrock import AwsSource as AwsSource
    from .api._bedrock import BedrockConfig as BedrockConfig
    from .api._bedrock import BedrockEndpoint as BedrockEndpoint
    from .api._bedrock import bedrock_base_url as bedrock_base_url
    from .api._bedrock import check_region as check_region
    from .api._bedrock import credentials_expiry as credentials_expiry
    from .api._bedrock import environment_credentials as environment_credentials
    from .api._bedrock import normalize_base_url as normalize_base_url
    from .api._bedrock import parse_bedrock_host as parse_bedrock_host
    from .api._bedrock import profile_credentials as profile_credentials
    from .api._bedrock import profile_region as profile_region
    from .api._bedrock import resolve_bedrock as resolve_bedrock
    from .api._bulk import BulkInputError as BulkInputError
    from .api._bulk import BulkLineError as BulkLineError
    from .api._bulk import BulkRequest as BulkRequest
    from .api._bulk import DoneLines as DoneLines
    from .api._bulk import IdIndex as IdIndex
    from .api._bulk import InputProblem as InputProblem
    from .api._bulk import api_path as api_path
    from .api._bulk import estimate_tokens as estimate_tokens
    from .api._bulk import id_digest as id_digest
    from .api._bulk import parse_request_line as parse_request_line
    from .api._bulk import parse_result_line as parse_result_line
    from .api._bulk import result_line as result_line
    from .api._call import Call as Call
    from .api._call import CallSettings as CallSettings
    from .api._data_residency import DATA_RESIDENCY_BASE_URLS as DATA_RESIDENCY_BASE_URLS
    from .api._data_residency import MTLS_DATA_RESIDENCY_BASE_URLS as MTLS_DATA_RESIDENCY_BASE_URLS
    from .api._data_residency import DataResidency as DataResidency
    from .api._data_residency import data_residency_base_url as data_residency_base_url
    from .api._decode import decode as decode
    from .api._embeddings import decode_embeddings as decode_embeddings
    from .api._encode import HeaderTable as HeaderTable
    from .api._encode import build_request as build_request
    from .api._encode import encode_event_text as encode_event_text
    from .api._encode import encode_json as encode_json
    from .api._encode import encode_json_text as encode_json_text
    from .api._encode import user_agent as user_agent
    from .api._encode import validate_header as validate_header
    from .api._model import BaseModel as BaseModel
    from .api._model import UnknownModel as UnknownModel
    from .api._multipart import FileInput as FileInput
    from .api._multipart import FilePart as FilePart
    from .api._multipart import MultipartBody as MultipartBody
    from .api._multipart import encode_multipart as encode_multipart
    from .api._multipart import guess_content_type as guess_content_type
    from .api._operation import Operation as Operation
    from .api._operation import resolve_type as resolve_type
    from .api._rate_limit import RateLimits as RateLimits
    from .api._rate_limit import RatePolicy as RatePolicy
    from .api._rate_limit import Start as Start
    from .api._rate_limit import Wait as Wait
    from .api._rate_limit import parse_reset_duration as parse_reset_duration
    from .api._sigv4 import ALGORITHM as ALGORITHM
    from .api._sigv4 import EMPTY_SHA256 as EMPTY_SHA256
    from .api._sigv4 import AwsCredentials as AwsCredentials
    from .api._sigv4 import amz_date as amz_date
    from .api._sigv4 import authorization as authorization
    from .api._sigv4 import canonical_headers as canonical_headers
    from .api._sigv4 import canonical_query as canonical_query
    from .api._sigv4 import canonical_request as canonical_request
    from .api._sigv4 import canonical_uri as canonical_uri
    from .api._sigv4 import payload_hash as payload_hash
    from .api._sigv4 import sign_request as sign_request
    from .api._sigv4 import signing_key as signing_key
    from .api._sigv4 import string_to_sign as string_to_sign
    from .api._vertex import checked_vertex_token as checked_vertex_token
    from .api._vertex import vertex_base_url as vertex_base_url
    from .api._webhooks import WEBHOOK_TOLERANCE as WEBHOOK_TOLERANCE
    from .api._webhooks import decode_webhook_event as decode_webhook_event
    from .api._webhooks import verify_webhook_signature as verify_webhook_signature
    from .api._workload_identity import (
        DEFAULT_REFRESH_BUFFER_SECONDS as DEFAULT_REFRESH_BUFFER_SECONDS,
    )
    from .api._workload_identity import DEFAULT_TOKEN_EXCHANGE_URL as DEFAULT_TOKEN_EXCHANGE_URL
    from .api._workload_identity import EXCHANGE_TIMEOUT as EXCHANGE_TIMEOUT
    from .api._workload_identity import MAX_X509_EXCHANGE_RETRIES as MAX_X509_EXCHANGE_RETRIES
    from .api._workload_identity import MTLS_API_BASE_URL as MTLS_API_BASE_URL
    from .api._workload_identity import PLACEHOLDER_API_KEY as PLACEHOLDER_API_KEY
    from .api._workload_identity import SUBJECT_TOKEN_TYPES as SUBJECT_TOKEN_TYPES
    from .api._workload_identity import TOKEN_EXCHANGE_GRANT_TYPE as TOKEN_EXCHANGE_GRANT_TYPE
    from .api._workload_identity import X509_SUBJECT_TOKEN_TYPE as X509_SUBJECT_TOKEN_TYPE
    from .api._workload_identity import X509_TOKEN_EXCHANGE_URL as X509_TOKEN_EXCHANGE_URL
    from .api._workload_identity import IssuedToken as IssuedToken
    from .api._workload_identity import OAuthError as OAuthError
    from .api._workload_identity import SubjectTokenProviderError as SubjectTokenProviderError
    from .api._workload_identity import TokenCache as TokenCache
    from .api._workload_identity import WorkloadIdentityConfig as WorkloadIdentityConfig
    from .api._workload_identity import check_x509_api_url as check_x509_api_url
    from .api._workload_identity import check_x509_request_headers as check_x509_request_headers
    from .api._workload_identity import exchange_phase_timeout as exchange_phase_timeout
    from .api._workload_identity import exchange_request as exchange_request
    from .api._workload_identity import is_x509_identity as is_x509_identity
    from .api._workload_identity import parse_exchange_response as parse_exchange_response
    from .api._workload_identity import workload_identity_config as workload_identity_config
    from .api._workload_identity import x509_exchange_retry_delay as x509_exchange_retry_delay
    from .base._backoff import Delay as Delay
    from .base._backoff import backoff_delay as backoff_delay
    from .base._errors import APIConnectionError as APIConnectionError
    from .base._errors import APIError as APIError
    from .base._errors import APIEventError as APIEventError
    from .base._errors import APIResponseValidationError as APIResponseValidationError
    from .base._errors import APIStatusError as APIStatusError
    from .base._errors import APITimeoutError as APITimeoutError
    from .base._errors import AuthenticationError as AuthenticationError
    from .base._errors import BadRequestError as BadRequestError
    from .base._errors import ConflictError as ConflictError
    from .base._errors import ContentFilterFinishReasonError as ContentFilterFinishReasonError
    from .base._errors import DecodingError as DecodingError
    from .base._errors import InternalServerError as InternalServerError
    from .base._errors import InvalidHeaderError as InvalidHeaderError
    from .base._errors import InvalidJSONError as InvalidJSONError
    from .base._errors import InvalidToolArgumentsError as InvalidToolArgumentsError
    from .base._errors import InvalidWebhookSignatureError as InvalidWebhookSignatureError
    from .base._errors import LengthFinishReasonError as LengthFinishReasonError
    from .base._errors import LimitExceededError as LimitExceededError
    from .base._errors import LocalProtocolError as LocalProtocolError
    from .base._errors import MalformedEventError as MalformedEventError
    from .base._errors import NotFoundError as NotFoundError
    from .base._errors import OpenAIError as OpenAIError
    from .base._errors import OutputValidationError as OutputValidationError
    from .base._errors import PermissionDeniedError as PermissionDeniedError
    from .base._errors import ProtocolError as ProtocolError
    from .base._errors import ProxyAuthenticationError as ProxyAuthenticationError
    from .base._errors import ProxyError as ProxyError
    from .base._errors import RateLimitError as RateLimitError
    from .base._errors import RedirectError as RedirectError
    from .base._errors import RemoteProtocolError as RemoteProtocolError
    from .base._errors import ResponseFailedError as ResponseFailedError
    from .base._errors import ResponseIncompleteError as ResponseIncompleteError
    from .base._errors import ResponseTooLargeError as ResponseTooLargeError
    from .base._errors import SchemaError as SchemaError
    from .base._errors import StreamAlreadyConsumed as StreamAlreadyConsumed
    from .base._errors import UnprocessableEntityError as UnprocessableEntityError
    from .base._errors import WebSocketConnectionClosedError as WebSocketConnectionClosedError
    from .base._errors import WebSocketHandshakeError as WebSocketHandshakeError
    from .base._errors import WebSocketQueueFullError as WebSocketQueueFullError
    from .base._errors import redact_secrets as redact_secrets
    from .base._errors import redirect_error as redirect_error
    from .base._errors import request_secrets as request_secrets
    from .base._errors import status_error_class as status_error_class
    from .base._errors import status_error_from_response as status_error_from_response
    from .base._headers import SECRET_HEADERS as SECRET_HEADERS
    from .base._headers import Headers as Headers
    from .base._record import FrozenInstanceError as FrozenInstanceError
    from .base._record import field as field
    from .base._record import frozen as frozen
    from .base._record import replace as replace
    from .base._types import URL as URL
    from .base._types import Body as Body
    from .base._types import Request as Request
    from .base._types import ResponseInfo as ResponseInfo
    from .base._url import ArrayFormat as ArrayFormat
    from .base._url import NestedFormat as NestedFormat
    from .base._url import build_url as build_url
    from .base._url import encode_query as encode_query
    from .base._url import expand_path as expand_path
    from .base._url import flatten_params as flatten_params
    from .base._url import parse_url as parse_url
    from .base._url import websocket_url as websocket_url
    from .helpers._agent_tools import AgentFunctionTool as AgentFunctionTool
    from .helpers._agent_tools import agent_function_tool as agent_function_tool
    from .helpers._agent_tools import agent_pydantic_function_tool as agent_pydantic_function_tool
    from .helpers._agent_tools import agent_text_format as agent_text_format
    from .helpers._agent_tools import agent_tool_output as agent_tool_output
    from .helpers._agent_tools import agent_with_output_type as agent_with_output_type
    from .helpers._agent_turn import AgentOutputParseError as AgentOutputParseError
    from .helpers._agent_turn import AgentToolError as AgentToolError
    from .helpers._agent_turn import AgentTurnCollector as AgentTurnCollector
    from .helpers._agent_turn import AgentTurnResult as AgentTurnResult
    from .helpers._agent_turn import AgentTurnResultError as AgentTurnResultError
    from .helpers._agent_turn import AgentTurnTracker as AgentTurnTracker
    from .helpers._agent_turn import agent_input_event as agent_input_event
    from .helpers._agent_turn import agent_tool_arguments as agent_tool_arguments
    from .helpers._agent_turn import agent_tool_call as agent_tool_call
    from .helpers._agent_turn import agent_tool_failed_event as agent_tool_failed_event
    from .helpers._agent_turn import agent_tool_result_event as agent_tool_result_event
    from .helpers._agent_turn import is_pending_tool_call_race as is_pending_tool_call_race
    from .helpers._assistant_accumulator import AssistantAccumulator as AssistantAccumulator
    from .helpers._browser import BROWSER_MEMBERS as BROWSER_MEMBERS
    from .helpers._browser import DEFAULT_BROWSER_MEMBERS as DEFAULT_BROWSER_MEMBERS
    from .helpers._browser import BrowserCallOutput as BrowserCallOutput
    from .helpers._browser import BrowserCancelledError as BrowserCancelledError
    from .helpers._browser import BrowserConfirmContext as BrowserConfirmContext
    from .helpers._browser import BrowserDialogDismissed as BrowserDialogDismissed
    from .helpers._browser import BrowserDownload as BrowserDownload
    from .helpers._browser import BrowserError as BrowserError
    from .helpers._browser import BrowserFileInput as BrowserFileInput
    from .helpers._browser import BrowserFileOutcome as BrowserFileOutcome
    from .helpers._browser import BrowserNavigationRefused as BrowserNavigationRefused
    from .helpers._browser import BrowserObservationV1 as BrowserObservationV1
    from .helpers._browser import BrowserPoint as BrowserPoint
    from .helpers._browser import BrowserReadConfirmContext as BrowserReadConfirmContext
    from .helpers._browser import BrowserReadElement as BrowserReadElement
    from .helpers._browser import BrowserReadOption as BrowserReadOption
    from .helpers._browser import BrowserReadScope as BrowserReadScope
    from .helpers._browser import BrowserReadV1 as BrowserReadV1
    from .helpers._browser import BrowserScopedReadV1 as BrowserScopedReadV1
    from .helpers._browser import BrowserSelection as BrowserSelection
    from .helpers._browser import BrowserState as BrowserState
    from .helpers._browser import BrowserStateChange as BrowserStateChange
    from .helpers._browser import BrowserTab as BrowserTab
    from .helpers._browser import BrowserTabChange as BrowserTabChange
    from .helpers._browser import ClickAtInput as ClickAtInput
    from .helpers._browser import ClickInput as ClickInput
    from .helpers._browser import DragPathInput as DragPathInput
    from .helpers._browser import FindInput as FindInput
    from .helpers._browser import HoldKeysInput as HoldKeysInput
    from .helpers._browser import HoverAtInput as HoverAtInput
    from .helpers._browser import KeyInput as KeyInput
    from .helpers._browser import NavigateInput as NavigateInput
    from .helpers._browser import NewTabInput as NewTabInput
    from .helpers._browser import ReadDiagnosticsInput as ReadDiagnosticsInput
    from .helpers._browser import ReadPageInput as ReadPageInput
    from .helpers._browser import ReadPageScopedInput as ReadPageScopedInput
    from .helpers._browser import RunScriptInput as RunScriptInput
    from .helpers._browser import ScrollInput as ScrollInput
    from .helpers._browser import SelectOptionInput as SelectOptionInput
    from .helpers._browser import SetCheckedInput as SetCheckedInput
    from .helpers._browser import TabInput as TabInput
    from .helpers._browser import TypeInput as TypeInput
    from .helpers._browser import WaitForInput as WaitForInput
    from .helpers._browser import ZoomInput as ZoomInput
    from .helpers._browser import browser_arguments as browser_arguments
    from .helpers._browser import browser_output as browser_output
    from .helpers._browser import browser_result as browser_result
    from .helpers._browser import browser_state as browser_state
    from .helpers._browser import browser_tools as browser_tools
    from .helpers._browser import check_policies as check_policies
    from .helpers._browser import read_refused_output as read_refused_output
    from .helpers._chat_accumulator import ChatCompletionAccumulator as ChatCompletionAccumulator
    from .helpers._chat_accumulator import ChatCompletionStreamEvent as ChatCompletionStreamEvent
    from .helpers._chat_accumulator import ChoiceDoneEvent as ChoiceDoneEvent
    from .helpers._chat_accumulator import ChunkEvent as ChunkEvent
    from .helpers._chat_accumulator import ContentDeltaEvent as ContentDeltaEvent
    from .helpers._chat_accumulator import ContentDoneEvent as ContentDoneEvent
    from .helpers._chat_accumulator import (
        FunctionToolCallArgumentsDeltaEvent as FunctionToolCallArgumentsDeltaEvent,
    )
    from .helpers._chat_accumulator import (
        FunctionToolCallArgumentsDoneEvent as FunctionToolCallArgumentsDoneEvent,
    )
    from .helpers._chat_accumulator import LogprobsContentDeltaEvent as LogprobsContentDeltaEvent
    from .helpers._chat_accumulator import LogprobsContentDoneEvent as LogprobsContentDoneEvent
    from .helpers._chat_accumulator import LogprobsRefusalDeltaEvent as LogprobsRefusalDeltaEvent
    from .helpers._chat_accumulator import LogprobsRefusalDoneEvent as LogprobsRefusalDoneEvent
    from .helpers._chat_accumulator import RefusalDeltaEvent as RefusalDeltaEvent
    from .helpers._chat_accumulator import RefusalDoneEvent as RefusalDoneEvent
    from .helpers._chat_parsed import ParsedChatCompletion as ParsedChatCompletion
    from .helpers._chat_parsed import ParsedChatCompletionMessage as ParsedChatCompletionMessage
    from .helpers._chat_parsed import ParsedChoice as ParsedChoice
    from .helpers._chat_parsed import ParsedFunction as ParsedFunction
    from .helpers._chat_parsed import ParsedFunctionToolCall as ParsedFunctionToolCall
    from .helpers._chat_parsed import parse_chat_completion as parse_chat_completion
    from .helpers._computer import COMPUTER_MEMBERS as COMPUTER_MEMBERS
    from .helpers._computer import ComputerAction as ComputerAction
    from .helpers._computer import ComputerCallOutput as ComputerCallOutput
    from .helpers._computer import ComputerRun as ComputerRun
    from .helpers._computer import ComputerScreenshot as ComputerScreenshot
    from .helpers._computer import ComputerUseError as ComputerUseError
    from .helpers._computer import computer_actions as computer_actions
    from .helpers._computer import computer_call_output as computer_call_output
    from .helpers._computer import owned_computer_call as owned_computer_call
    from .helpers._partial_json import PartialJSONParser as PartialJSONParser
    from .helpers._partial_json import parse_partial_json as parse_partial_json
    from .helpers._responses_accumulator import ParsedResponse as ParsedResponse
    from .helpers._responses_accumulator import (
        ParsedResponseFunctionToolCall as ParsedResponseFunctionToolCall,
    )
    from .helpers._responses_accumulator import ResponseCompletedEvent as ResponseCompletedEvent
    from .helpers._responses_accumulator import (
        ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
    )
    from .helpers._responses_accumulator import (
        ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
    )
    from .helpers._responses_accumulator import (
        ResponseStreamAccumulator as ResponseStreamAccumulator,
    )
    from .helpers._responses_accumulator import ResponseTextDeltaEvent as ResponseTextDeltaEvent
    from .helpers._responses_accumulator import ResponseTextDoneEvent as ResponseTextDoneEvent
    from .helpers._responses_accumulator import (
        decode_response_stream_event as decode_response_stream_event,
    )
    from .helpers._responses_accumulator import parse_response as parse_response
    from .helpers._schema import TypedTool as TypedTool
    from .helpers._schema import as_responses_tools as as_responses_tools
    from .helpers._schema import function_tool as function_tool
    from .helpers._schema import parse_into as parse_into
    from .helpers._schema import response_format_for as response_format_for
    from .helpers._schema import responses_function_tool as responses_function_tool
    from .helpers._schema import strict_schema as strict_schema
    from .helpers._schema import text_format_for as text_format_for
    from .helpers._schema import text_with_format as text_with_format
    from .helpers._schema import to_strict_json_schema as to_strict_json_schema
    from .helpers._tool_runs import ContextBudget as ContextBudget
    from .helpers._tool_runs import ContextBudgetDecision as ContextBudgetDecision
    from .helpers._tool_runs import ContextBudgetLimits as ContextBudgetLimits
    from .helpers._tool_runs import ContextBudgetSnapshot as ContextBudgetSnapshot
    from .helpers._tool_runs import DecisionCandidateEntry as DecisionCandidateEntry
    from .helpers._tool_runs import DecisionsRunResult as DecisionsRunResult
    from .helpers._tool_runs import DecisionsToolRun as DecisionsToolRun
    from .helpers._tool_runs import DecisionsToolRunnerError as DecisionsToolRunnerError
    from .helpers._tool_runs import EarlyExecution as EarlyExecution
    from .helpers._tool_runs import FunctionCallPlan as FunctionCallPlan
    from .helpers._tool_runs import ResponsesToolCheckpoint as ResponsesToolCheckpoint
    from .helpers._tool_runs import ResponsesToolRun as ResponsesToolRun
    from .helpers._tool_runs import ToolDiagnostic as ToolDiagnostic
    from .helpers._tool_runs import ToolDiagnosticObserver as ToolDiagnosticObserver
    from .helpers._tool_runs import ToolDiagnosticUsage as ToolDiagnosticUsage
    from .helpers._tool_runs import ToolRunnerError as ToolRunnerError
    from .helpers._tool_runs import early_selection as early_selection
    from .helpers._tool_runs import function_result as function_result
    from .helpers._tool_runs import step_headers as step_headers
    from .helpers._tool_runs import tool_diagnostic as tool_diagnostic
    from .helpers._transcripts import TranscriptSegment as TranscriptSegment
    from .helpers._transcripts import TranscriptSegmentClosedEvent as TranscriptSegmentClosedEvent
    from .helpers._transcripts import TranscriptSegmentCloseReason as TranscriptSegmentCloseReason
    from .helpers._transcripts import TranscriptSettings as TranscriptSettings
    from .helpers._transcripts import TranscriptTracker as TranscriptTracker
    from .helpers._transcripts import TranscriptUpdate as TranscriptUpdate
    from .http._body_text import BodyTextDecoder as BodyTextDecoder
    from .http._body_text import LineSplitter as LineSplitter
    from .http._body_text import charset_from_content_type as charset_from_content_type
    from .http._connection import HTTPConnection as HTTPConnection
    from .http._connection_pool import MAX_REFUSALS as MAX_REFUSALS
    from .http._connection_pool import Checkout as Checkout
    from .http._connection_pool import CheckoutAction as CheckoutAction
    from .http._connection_pool import ConnectionPool as ConnectionPool
    from .http._connection_pool import PoolActions as PoolActions
    from .http._connection_pool import requeue_refused as requeue_refused
    from .http._content import DEFAULT_MAX_DECODED_SIZE as DEFAULT_MAX_DECODED_SIZE
    from .http._content import ContentDecoder as ContentDecoder
    from .http._content import accepted_encodings as accepted_encodings
    from .http._events import NEED_DATA as NEED_DATA
    from .http._events import BodyData as BodyData
    from .http._events import BodyEnd as BodyEnd
    from .http._events import HTTPEvent as HTTPEvent
    from .http._events import NeedData as NeedData
    from .http._events import ResponseHead as ResponseHead
    from .http._http2 import DEFAULT_CONNECTION_WINDOW_SIZE as DEFAULT_CONNECTION_WINDOW_SIZE
    from .http._http2 import DEFAULT_INITIAL_WINDOW_SIZE as DEFAULT_INITIAL_WINDOW_SIZE
    from .http._http2 import HTTP2Connection as HTTP2Connection
    from .http._http11 import DEFAULT_MAX_HEAD_SIZE as DEFAULT_MAX_HEAD_SIZE
    from .http._http11 import HTTP11Connection as HTTP11Connection
    from .http._pool import ConnectionInfo as ConnectionInfo
    from .http._pool import PoolAction as PoolAction
    from .http._pool import PoolDecision as PoolDecision
    from .http._pool import PoolLimits as PoolLimits
    from .http._pool import PoolPolicy as PoolPolicy
    from .http._pool import ReleaseDecision as ReleaseDecision
    from .http._pool import assign_connection as assign_connection
    from .http._pool import expired_connections as expired_connections
    from .http._pool import release_connection as release_connection
    from .http._proxy import Proxy as Proxy
    from .http._proxy import ProxyConfig as ProxyConfig
    from .http._proxy import ProxyTunnel as ProxyTunnel
    from .http._proxy import Tunnel as Tunnel
    from .http._proxy import absolute_form as absolute_form
    from .http._proxy import parse_proxy_url as parse_proxy_url
    from .http._read_turns import ReadTurns as ReadTurns
    from .http._redirect import DEFAULT_MAX_REDIRECTS as DEFAULT_MAX_REDIRECTS
    from .http._redirect import REDIRECT_STATUSES as REDIRECT_STATUSES
    from .http._redirect import follow_redirect as follow_redirect
    from .http._retry import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
    from .http._retry import INITIAL_RETRY_DELAY as INITIAL_RETRY_DELAY
    from .http._retry import MAX_RETRY_AFTER_DELAY as MAX_RETRY_AFTER_DELAY
    from .http._retry import MAX_RETRY_DELAY as MAX_RETRY_DELAY
    from .http._retry import RetryDecision as RetryDecision
    from .http._retry import RetryPolicy as RetryPolicy
    from .http._retry import parse_retry_after as parse_retry_after
    from .http._retry import retryable_handshake as retryable_handshake
    from .http._socks import SOCKS5_REPLIES as SOCKS5_REPLIES
    from .http._socks import SocksTunnel as SocksTunnel
    from .http._socks import require_socksio as require_socksio
    from .sessions._event_socket import DEFAULT_QUEUE_SIZE as DEFAULT_QUEUE_SIZE
    from .sessions._event_socket import EventSocket as EventSocket
    from .sessions._event_socket import EventSocketTarget as EventSocketTarget
    from .sessions._event_socket import Handshake as Handshake
    from .sessions._event_socket import WebSocketOptions as WebSocketOptions
    from .sessions._event_socket import closed_error as closed_error
    from .sessions._event_socket import event_error as event_error
    from .sessions._event_socket import parse_event_payload as parse_event_payload
    from .sessions._event_socket import unhandled_error as unhandled_error
    from .sessions._live_socket import LiveClientEvents as LiveClientEvents
    from .sessions._live_socket import LiveForkClientEvents as LiveForkClientEvents
    from .sessions._live_socket import LiveSidebandClientEvents as LiveSidebandClientEvents
    from .sessions._live_socket import TranslationClientEvents as TranslationClientEvents
    from .sessions._live_socket import decode_fork_event as decode_fork_event
    from .sessions._live_socket import decode_live_event as decode_live_event
    from .sessions._live_socket import decode_sideband_event as decode_sideband_event
    from .sessions._live_socket import decode_translation_event as decode_translation_event
    from .sessions._realtime_socket import DEFAULT_AUDIO_CHUNK as DEFAULT_AUDIO_CHUNK
    from .sessions._realtime_socket import BetaRealtimeClientEvents as BetaRealtimeClientEvents
    from .sessions._realtime_socket import RealtimeAudio as RealtimeAudio
    from .sessions._realtime_socket import RealtimeAudioCollector as RealtimeAudioCollector
    from .sessions._realtime_socket import RealtimeClientEvents as RealtimeClientEvents
    from .sessions._realtime_socket import audio_chunks as audio_chunks
    from .sessions._realtime_socket import decode_realtime_event as decode_realtime_event
    from .sessions._realtime_socket import parse_realtime_event as parse_realtime_event
    from .sessions._responses_lanes import LaneRouter as LaneRouter
    from .sessions._responses_lanes import (
        ResponsesWebSocketAccumulator as ResponsesWebSocketAccumulator,
    )
    from .sessions._responses_lanes import (
        ResponsesWebSocketBufferError as ResponsesWebSocketBufferError,
    )
    from .sessions._responses_lanes import ResponsesWebSocketError as ResponsesWebSocketError
    from .sessions._responses_lanes import ResponsesWebSocketLimits as ResponsesWebSocketLimits
    from .sessions._responses_lanes import ResponsesWebSocketOutput as ResponsesWebSocketOutput
    from .sessions._responses_lanes import ResponsesWebSocketSnapshot as ResponsesWebSocketSnapshot
    from .sessions._responses_lanes import lane_command as lane_command
    from .sessions._responses_socket import BetaResponsesClientEvents as BetaResponsesClientEvents
    from .sessions._responses_socket import ResponsesClientEvents as ResponsesClientEvents
    from .sessions._responses_socket import ResponsesTurn as ResponsesTurn
    from .sessions._responses_socket import (
        decode_beta_responses_event as decode_beta_responses_event,
    )
    from .sessions._responses_socket import parse_responses_event as parse_responses_event
    from .sessions._responses_socket import stream_request as stream_request
    from .sessions._translation_session import TranslationInput as TranslationInput
    from .sessions._translation_session import TranslationInputState as TranslationInputState
    from .sessions._translation_session import check_translation_target as check_translation_target
    from .sessions._translation_session import ends_translation as ends_translation
    from .sessions._translation_session import (
        translation_event_payload as translation_event_payload,
    )
    from .sse._sse import ServerSentEvent as ServerSentEvent
    from .sse._sse import SSEDecoder as SSEDecoder
    from .sse._stream import OpenAIStreamDecoder as OpenAIStreamDecoder
    from .sse._stream import StreamEnd as StreamEnd
    from .sse._stream import StreamEvent as StreamEvent
    from .websocket._reconnect import NO_RECONNECT as NO_RECONNECT
    from .websocket._reconnect import RECONNECT_CLOSE_CODES as RECONNECT_CLOSE_CODES
    from .websocket._reconnect import OnReconnecting as OnReconnecting
    from .websocket._reconnect import ReconnectingEvent as ReconnectingEvent
    from .websocket._reconnect import ReconnectingOverrides as ReconnectingOverrides
    from .websocket._reconnect import ReconnectPolicy as ReconnectPolicy
    from .websocket._websocket import WebSocketSession as WebSocketSession
    from .websocket._websocket_events import DEFAULT_CLOSE_TIMEOUT as DEFAULT_CLOSE_TIMEOUT
    from .websocket._websocket_events import (
        DEFAULT_KEEPALIVE_INTERVAL as DEFAULT_KEEPALIVE_INTERVAL,
    )
    from .websocket._websocket_events import DEFAULT_KEEPALIVE_TIMEOUT as DEFAULT_KEEPALIVE_TIMEOUT
    from .websocket._websocket_events import DEFAULT_MAX_MESSAGE_SIZE as DEFAULT_MAX_MESSAGE_SIZE
    from .websocket._websocket_events import BinaryMessage as BinaryMessage
    from .websocket._websocket_events import Closed as Closed
    from .websocket._websocket_events import Opened as Opened
    from .websocket._websocket_events import TextMessage as TextMessage
    from .websocket._websocket_events import WebSocketEvent as WebSocketEvent
    from .websocket._websocket_events import WebSocketState as WebSocketState


_LAZY: dict[str, str] = {
    "DEPLOYMENT_PATHS": ".api._azure",
    "AzureConfig": ".api._azure",
    "MutuallyExclusiveAuthError": ".api._azure",
    "azure_auth_headers": ".api._azure",
    "azure_base_url": ".api._azure",
    "azure_route": ".api._azure",
    "checked_token": ".api._azure",
    "realtime_target": ".api._azure",
    "resolve_azure": ".api._azure",
    "Call": ".api._call",
    "CallSettings": ".api._call",
    "decode": ".api._decode",
    "HeaderTable": ".api._encode",
    "build_request": ".api._encode",
    "encode_json": ".api._encode",
    "encode_event_text": ".api._encode",
    "encode_json_text": ".api._encode",
    "user_agent": ".api._encode",
    "validate_header": ".api._encode",
    "BaseModel": ".api._model",
    "UnknownModel": ".api._model",
    "Operation": ".api._operation",
    "resolve_type": ".api._operation",
    "Delay": ".base._backoff",
    "backoff_delay": ".base._backoff",
    "APIConnectionError": ".base._errors",
    "APIError": ".base._errors",
    "APIEventError": ".base._errors",
    "APIResponseValidationError": ".base._errors",
    "APIStatusError": ".base._errors",
    "APITimeoutError": ".base._errors",
    "AuthenticationError": ".base._errors",
    "BadRequestError": ".base._errors",
    "ConflictError": ".base._errors",
    "ContentFilterFinishReasonError": ".base._errors",
    "DecodingError": ".base._errors",
    "InternalServerError": ".base._errors",
    "InvalidHeaderError": ".base._errors",
    "InvalidJSONError": ".base._errors",
    "InvalidToolArgumentsError": ".base._errors",
    "InvalidWebhookSignatureError": ".base._errors",
    "LengthFinishReasonError": ".base._errors",
    "LimitExceededError": ".base._errors",
    "LocalProtocolError": ".base._errors",
    "MalformedEventError": ".base._errors",
    "NotFoundError": ".base._errors",
    "OpenAIError": ".base._errors",
    "OutputValidationError": ".base._errors",
    "PermissionDeniedError": ".base._errors",
    "ProtocolError": ".base._errors",
    "ProxyAuthenticationError": ".base._errors",
    "ProxyError": ".base._errors",
    "RateLimitError": ".base._errors",
    "RedirectError": ".base._errors",
    "RemoteProtocolError": ".base._errors",
    "ResponseFailedError": ".base._errors",
    "ResponseIncompleteError": ".base._errors",
    "ResponseTooLargeError": ".base._errors",
    "SchemaError": ".base._errors",
    "StreamAlreadyConsumed": ".base._errors",
    "UnprocessableEntityError": ".base._errors",
    "WebSocketConnectionClosedError": ".base._errors",
    "WebSocketHandshakeError": ".base._errors",
    "redact_secrets": ".base._errors",
    "redirect_error": ".base._errors",
    "request_secrets": ".base._errors",
    "status_error_class": ".base._errors",
    "status_error_from_response": ".base._errors",
    "SECRET_HEADERS": ".base._headers",
    "Headers": ".base._headers",
    "FrozenInstanceError": ".base._record",
    "field": ".base._record",
    "frozen": ".base._record",
    "replace": ".base._record",
    "URL": ".base._types",
    "Body": ".base._types",
    "Request": ".base._types",
    "ResponseInfo": ".base._types",
    "ArrayFormat": ".base._url",
    "NestedFormat": ".base._url",
    "build_url": ".base._url",
    "encode_query": ".base._url",
    "expand_path": ".base._url",
    "flatten_params": ".base._url",
    "parse_url": ".base._url",
    "websocket_url": ".base._url",
    "BodyTextDecoder": ".http._body_text",
    "LineSplitter": ".http._body_text",
    "charset_from_content_type": ".http._body_text",
    "HTTPConnection": ".http._connection",
    "MAX_REFUSALS": ".http._connection_pool",
    "Checkout": ".http._connection_pool",
    "CheckoutAction": ".http._connection_pool",
    "ConnectionPool": ".http._connection_pool",
    "PoolActions": ".http._connection_pool",
    "requeue_refused": ".http._connection_pool",
    "DEFAULT_MAX_DECODED_SIZE": ".http._content",
    "ContentDecoder": ".http._content",
    "accepted_encodings": ".http._content",
    "NEED_DATA": ".http._events",
    "BodyData": ".http._events",
    "BodyEnd": ".http._events",
    "HTTPEvent": ".http._events",
    "NeedData": ".http._events",
    "ResponseHead": ".http._events",
    "ConnectionInfo": ".http._pool",
    "PoolAction": ".http._pool",
    "PoolDecision": ".http._pool",
    "PoolLimits": ".http._pool",
    "PoolPolicy": ".http._pool",
    "ReleaseDecision": ".http._pool",
    "assign_connection": ".http._pool",
    "expired_connections": ".http._pool",
    "release_connection": ".http._pool",
    "ReadTurns": ".http._read_turns",
    "DEFAULT_MAX_REDIRECTS": ".http._redirect",
    "REDIRECT_STATUSES": ".http._redirect",
    "follow_redirect": ".http._redirect",
    "DEFAULT_MAX_RETRIES": ".http._retry",
    "INITIAL_RETRY_DELAY": ".http._retry",
    "MAX_RETRY_AFTER_DELAY": ".http._retry",
    "MAX_RETRY_DELAY": ".http._retry",
    "RetryDecision": ".http._retry",
    "RetryPolicy": ".http._retry",
    "parse_retry_after": ".http._retry",
    "retryable_handshake": ".http._retry",
    "EventSocket": ".sessions._event_socket",
    "EventSocketTarget": ".sessions._event_socket",
    "Handshake": ".sessions._event_socket",
    "WebSocketOptions": ".sessions._event_socket",
    "closed_error": ".sessions._event_socket",
    "event_error": ".sessions._event_socket",
    "parse_event_payload": ".sessions._event_socket",
    "unhandled_error": ".sessions._event_socket",
    "ServerSentEvent": ".sse._sse",
    "SSEDecoder": ".sse._sse",
    "OpenAIStreamDecoder": ".sse._stream",
    "StreamEnd": ".sse._stream",
    "StreamEvent": ".sse._stream",
    "NO_RECONNECT": ".websocket._reconnect",
    "RECONNECT_CLOSE_CODES": ".websocket._reconnect",
    "OnReconnecting": ".websocket._reconnect",
    "ReconnectingEvent": ".websocket._reconnect",
    "ReconnectingOverrides": ".websocket._reconnect",
    "ReconnectPolicy": ".websocket._reconnect",
    "DEFAULT_CLOSE_TIMEOUT": ".websocket._websocket_events",
    "DEFAULT_KEEPALIVE_INTERVAL": ".websocket._websocket_events",
    "DEFAULT_KEEPALIVE_TIMEOUT": ".websocket._websocket_events",
    "DEFAULT_MAX_MESSAGE_SIZE": ".websocket._websocket_events",
    "BulkInputError": ".api._bulk",
    "BulkLineError": ".api._bulk",
    "BulkRequest": ".api._bulk",
    "DoneLines": ".api._bulk",
    "IdIndex": ".api._bulk",
    "id_digest": ".api._bulk",
    "InputProblem": ".api._bulk",
    "api_path": ".api._bulk",
    "estimate_tokens": ".api._bulk",
    "parse_request_line": ".api._bulk",
    "parse_result_line": ".api._bulk",
    "result_line": ".api._bulk",
    "RateLimits": ".api._rate_limit",
    "RatePolicy": ".api._rate_limit",
    "Start": ".api._rate_limit",
    "Wait": ".api._rate_limit",
    "parse_reset_duration": ".api._rate_limit",
    "DEFAULT_MAX_HEAD_SIZE": ".http._http11",
    "HTTP11Connection": ".http._http11",
    "DEFAULT_CONNECTION_WINDOW_SIZE": ".http._http2",
    "DEFAULT_INITIAL_WINDOW_SIZE": ".http._http2",
    "HTTP2Connection": ".http._http2",
    "FileInput": ".api._multipart",
    "FilePart": ".api._multipart",
    "MultipartBody": ".api._multipart",
    "encode_multipart": ".api._multipart",
    "guess_content_type": ".api._multipart",
    "WEBHOOK_TOLERANCE": ".api._webhooks",
    "decode_webhook_event": ".api._webhooks",
    "verify_webhook_signature": ".api._webhooks",
    "WebSocketSession": ".websocket._websocket",
    "AgentFunctionTool": ".helpers._agent_tools",
    "agent_function_tool": ".helpers._agent_tools",
    "agent_pydantic_function_tool": ".helpers._agent_tools",
    "agent_text_format": ".helpers._agent_tools",
    "agent_with_output_type": ".helpers._agent_tools",
    "agent_tool_output": ".helpers._agent_tools",
    "AgentOutputParseError": ".helpers._agent_turn",
    "AgentToolError": ".helpers._agent_turn",
    "AgentTurnResult": ".helpers._agent_turn",
    "AgentTurnResultError": ".helpers._agent_turn",
    "AgentTurnCollector": ".helpers._agent_turn",
    "AgentTurnTracker": ".helpers._agent_turn",
    "agent_input_event": ".helpers._agent_turn",
    "is_pending_tool_call_race": ".helpers._agent_turn",
    "agent_tool_arguments": ".helpers._agent_turn",
    "agent_tool_call": ".helpers._agent_turn",
    "agent_tool_failed_event": ".helpers._agent_turn",
    "agent_tool_result_event": ".helpers._agent_turn",
    "LiveClientEvents": ".sessions._live_socket",
    "LiveForkClientEvents": ".sessions._live_socket",
    "LiveSidebandClientEvents": ".sessions._live_socket",
    "TranslationClientEvents": ".sessions._live_socket",
    "decode_fork_event": ".sessions._live_socket",
    "decode_live_event": ".sessions._live_socket",
    "decode_sideband_event": ".sessions._live_socket",
    "decode_translation_event": ".sessions._live_socket",
    "TranslationInput": ".sessions._translation_session",
    "TranslationInputState": ".sessions._translation_session",
    "check_translation_target": ".sessions._translation_session",
    "ends_translation": ".sessions._translation_session",
    "translation_event_payload": ".sessions._translation_session",
    "DEFAULT_AUDIO_CHUNK": ".sessions._realtime_socket",
    "BetaRealtimeClientEvents": ".sessions._realtime_socket",
    "RealtimeAudio": ".sessions._realtime_socket",
    "RealtimeAudioCollector": ".sessions._realtime_socket",
    "RealtimeClientEvents": ".sessions._realtime_socket",
    "audio_chunks": ".sessions._realtime_socket",
    "decode_realtime_event": ".sessions._realtime_socket",
    "parse_realtime_event": ".sessions._realtime_socket",
    "ResponsesClientEvents": ".sessions._responses_socket",
    "BetaResponsesClientEvents": ".sessions._responses_socket",
    "decode_beta_responses_event": ".sessions._responses_socket",
    "ResponsesTurn": ".sessions._responses_socket",
    "stream_request": ".sessions._responses_socket",
    "parse_responses_event": ".sessions._responses_socket",
    "BinaryMessage": ".websocket._websocket_events",
    "Closed": ".websocket._websocket_events",
    "Opened": ".websocket._websocket_events",
    "TextMessage": ".websocket._websocket_events",
    "WebSocketEvent": ".websocket._websocket_events",
    "WebSocketState": ".websocket._websocket_events",
    "DEFAULT_REFRESH_BUFFER_SECONDS": ".api._workload_identity",
    "DEFAULT_TOKEN_EXCHANGE_URL": ".api._workload_identity",
    "PLACEHOLDER_API_KEY": ".api._workload_identity",
    "SUBJECT_TOKEN_TYPES": ".api._workload_identity",
    "TOKEN_EXCHANGE_GRANT_TYPE": ".api._workload_identity",
    "IssuedToken": ".api._workload_identity",
    "OAuthError": ".api._workload_identity",
    "SubjectTokenProviderError": ".api._workload_identity",
    "TokenCache": ".api._workload_identity",
    "WorkloadIdentityConfig": ".api._workload_identity",
    "exchange_request": ".api._workload_identity",
    "parse_exchange_response": ".api._workload_identity",
    "workload_identity_config": ".api._workload_identity",
    "MAX_X509_EXCHANGE_RETRIES": ".api._workload_identity",
    "MTLS_API_BASE_URL": ".api._workload_identity",
    "X509_SUBJECT_TOKEN_TYPE": ".api._workload_identity",
    "X509_TOKEN_EXCHANGE_URL": ".api._workload_identity",
    "check_x509_api_url": ".api._workload_identity",
    "is_x509_identity": ".api._workload_identity",
    "x509_exchange_retry_delay": ".api._workload_identity",
    "decode_embeddings": ".api._embeddings",
    "AssistantAccumulator": ".helpers._assistant_accumulator",
    "ChatCompletionAccumulator": ".helpers._chat_accumulator",
    "ChatCompletionStreamEvent": ".helpers._chat_accumulator",
    "ChoiceDoneEvent": ".helpers._chat_accumulator",
    "ChunkEvent": ".helpers._chat_accumulator",
    "ContentDeltaEvent": ".helpers._chat_accumulator",
    "ContentDoneEvent": ".helpers._chat_accumulator",
    "FunctionToolCallArgumentsDeltaEvent": ".helpers._chat_accumulator",
    "FunctionToolCallArgumentsDoneEvent": ".helpers._chat_accumulator",
    "LogprobsContentDeltaEvent": ".helpers._chat_accumulator",
    "LogprobsContentDoneEvent": ".helpers._chat_accumulator",
    "LogprobsRefusalDeltaEvent": ".helpers._chat_accumulator",
    "LogprobsRefusalDoneEvent": ".helpers._chat_accumulator",
    "RefusalDeltaEvent": ".helpers._chat_accumulator",
    "RefusalDoneEvent": ".helpers._chat_accumulator",
    "ParsedChatCompletion": ".helpers._chat_parsed",
    "ParsedChatCompletionMessage": ".helpers._chat_parsed",
    "ParsedChoice": ".helpers._chat_parsed",
    "ParsedFunction": ".helpers._chat_parsed",
    "ParsedFunctionToolCall": ".helpers._chat_parsed",
    "parse_chat_completion": ".helpers._chat_parsed",
    "PartialJSONParser": ".helpers._partial_json",
    "parse_partial_json": ".helpers._partial_json",
    "ParsedResponse": ".helpers._responses_accumulator",
    "ParsedResponseFunctionToolCall": ".helpers._responses_accumulator",
    "ResponseCompletedEvent": ".helpers._responses_accumulator",
    "ResponseFunctionCallArgumentsDeltaEvent": ".helpers._responses_accumulator",
    "ResponseFunctionCallArgumentsDoneEvent": ".helpers._responses_accumulator",
    "ResponseStreamAccumulator": ".helpers._responses_accumulator",
    "ResponseTextDeltaEvent": ".helpers._responses_accumulator",
    "ResponseTextDoneEvent": ".helpers._responses_accumulator",
    "parse_response": ".helpers._responses_accumulator",
    "decode_response_stream_event": ".helpers._responses_accumulator",
    "Proxy": ".http._proxy",
    "ProxyConfig": ".http._proxy",
    "ProxyTunnel": ".http._proxy",
    "Tunnel": ".http._proxy",
    "absolute_form": ".http._proxy",
    "parse_proxy_url": ".http._proxy",
    "SOCKS5_REPLIES": ".http._socks",
    "SocksTunnel": ".http._socks",
    "require_socksio": ".http._socks",
    "TypedTool": ".helpers._schema",
    "as_responses_tools": ".helpers._schema",
    "function_tool": ".helpers._schema",
    "parse_into": ".helpers._schema",
    "response_format_for": ".helpers._schema",
    "responses_function_tool": ".helpers._schema",
    "text_format_for": ".helpers._schema",
    "text_with_format": ".helpers._schema",
    "to_strict_json_schema": ".helpers._schema",
    "WebSocketQueueFullError": ".base._errors",
    "AwsSource": ".api._bedrock",
    "BedrockConfig": ".api._bedrock",
    "BedrockEndpoint": ".api._bedrock",
    "bedrock_base_url": ".api._bedrock",
    "check_region": ".api._bedrock",
    "CREDENTIALS_ADVISORY_REFRESH": ".api._bedrock",
    "CREDENTIALS_MANDATORY_REFRESH": ".api._bedrock",
    "credentials_expiry": ".api._bedrock",
    "environment_credentials": ".api._bedrock",
    "normalize_base_url": ".api._bedrock",
    "parse_bedrock_host": ".api._bedrock",
    "profile_credentials": ".api._bedrock",
    "profile_region": ".api._bedrock",
    "resolve_bedrock": ".api._bedrock",
    "DATA_RESIDENCY_BASE_URLS": ".api._data_residency",
    "MTLS_DATA_RESIDENCY_BASE_URLS": ".api._data_residency",
    "DataResidency": ".api._data_residency",
    "data_residency_base_url": ".api._data_residency",
    "ALGORITHM": ".api._sigv4",
    "EMPTY_SHA256": ".api._sigv4",
    "AwsCredentials": ".api._sigv4",
    "amz_date": ".api._sigv4",
    "authorization": ".api._sigv4",
    "canonical_headers": ".api._sigv4",
    "canonical_query": ".api._sigv4",
    "canonical_request": ".api._sigv4",
    "canonical_uri": ".api._sigv4",
    "payload_hash": ".api._sigv4",
    "sign_request": ".api._sigv4",
    "signing_key": ".api._sigv4",
    "string_to_sign": ".api._sigv4",
    "checked_vertex_token": ".api._vertex",
    "vertex_base_url": ".api._vertex",
    "EXCHANGE_TIMEOUT": ".api._workload_identity",
    "check_x509_request_headers": ".api._workload_identity",
    "exchange_phase_timeout": ".api._workload_identity",
    "strict_schema": ".helpers._schema",
    "COMPUTER_MEMBERS": ".helpers._computer",
    "ComputerAction": ".helpers._computer",
    "ComputerCallOutput": ".helpers._computer",
    "ComputerRun": ".helpers._computer",
    "ComputerUseError": ".helpers._computer",
    "ComputerScreenshot": ".helpers._computer",
    "computer_actions": ".helpers._computer",
    "computer_call_output": ".helpers._computer",
    "owned_computer_call": ".helpers._computer",
    "BROWSER_MEMBERS": ".helpers._browser",
    "DEFAULT_BROWSER_MEMBERS": ".helpers._browser",
    "BrowserCallOutput": ".helpers._browser",
    "BrowserCancelledError": ".helpers._browser",
    "BrowserConfirmContext": ".helpers._browser",
    "BrowserDialogDismissed": ".helpers._browser",
    "BrowserDownload": ".helpers._browser",
    "BrowserError": ".helpers._browser",
    "BrowserFileInput": ".helpers._browser",
    "BrowserFileOutcome": ".helpers._browser",
    "BrowserNavigationRefused": ".helpers._browser",
    "BrowserObservationV1": ".helpers._browser",
    "BrowserPoint": ".helpers._browser",
    "BrowserReadConfirmContext": ".helpers._browser",
    "BrowserReadElement": ".helpers._browser",
    "BrowserReadOption": ".helpers._browser",
    "BrowserReadScope": ".helpers._browser",
    "BrowserReadV1": ".helpers._browser",
    "BrowserScopedReadV1": ".helpers._browser",
    "BrowserSelection": ".helpers._browser",
    "BrowserState": ".helpers._browser",
    "BrowserStateChange": ".helpers._browser",
    "BrowserTab": ".helpers._browser",
    "BrowserTabChange": ".helpers._browser",
    "ClickAtInput": ".helpers._browser",
    "ClickInput": ".helpers._browser",
    "DragPathInput": ".helpers._browser",
    "FindInput": ".helpers._browser",
    "HoldKeysInput": ".helpers._browser",
    "HoverAtInput": ".helpers._browser",
    "KeyInput": ".helpers._browser",
    "NavigateInput": ".helpers._browser",
    "NewTabInput": ".helpers._browser",
    "ReadDiagnosticsInput": ".helpers._browser",
    "ReadPageInput": ".helpers._browser",
    "ReadPageScopedInput": ".helpers._browser",
    "RunScriptInput": ".helpers._browser",
    "ScrollInput": ".helpers._browser",
    "SelectOptionInput": ".helpers._browser",
    "SetCheckedInput": ".helpers._browser",
    "TabInput": ".helpers._browser",
    "TypeInput": ".helpers._browser",
    "WaitForInput": ".helpers._browser",
    "ZoomInput": ".helpers._browser",
    "browser_arguments": ".helpers._browser",
    "browser_output": ".helpers._browser",
    "browser_tools": ".helpers._browser",
    "check_policies": ".helpers._browser",
    "browser_result": ".helpers._browser",
    "browser_state": ".helpers._browser",
    "read_refused_output": ".helpers._browser",
    "ContextBudget": ".helpers._tool_runs",
    "ContextBudgetDecision": ".helpers._tool_runs",
    "ContextBudgetLimits": ".helpers._tool_runs",
    "ContextBudgetSnapshot": ".helpers._tool_runs",
    "EarlyExecution": ".helpers._tool_runs",
    "ResponsesToolCheckpoint": ".helpers._tool_runs",
    "early_selection": ".helpers._tool_runs",
    "DecisionCandidateEntry": ".helpers._tool_runs",
    "DecisionsRunResult": ".helpers._tool_runs",
    "DecisionsToolRun": ".helpers._tool_runs",
    "DecisionsToolRunnerError": ".helpers._tool_runs",
    "FunctionCallPlan": ".helpers._tool_runs",
    "ResponsesToolRun": ".helpers._tool_runs",
    "ToolDiagnostic": ".helpers._tool_runs",
    "ToolDiagnosticObserver": ".helpers._tool_runs",
    "ToolDiagnosticUsage": ".helpers._tool_runs",
    "ToolRunnerError": ".helpers._tool_runs",
    "function_result": ".helpers._tool_runs",
    "step_headers": ".helpers._tool_runs",
    "tool_diagnostic": ".helpers._tool_runs",
    "TranscriptSegment": ".helpers._transcripts",
    "TranscriptSegmentClosedEvent": ".helpers._transcripts",
    "TranscriptSegmentCloseReason": ".helpers._transcripts",
    "TranscriptSettings": ".helpers._transcripts",
    "TranscriptTracker": ".helpers._transcripts",
    "TranscriptUpdate": ".helpers._transcripts",
    "DEFAULT_QUEUE_SIZE": ".sessions._event_socket",
    "LaneRouter": ".sessions._responses_lanes",
    "ResponsesWebSocketError": ".sessions._responses_lanes",
    "ResponsesWebSocketLimits": ".sessions._responses_lanes",
    "ResponsesWebSocketOutput": ".sessions._responses_lanes",
    "ResponsesWebSocketSnapshot": ".sessions._responses_lanes",
    "lane_command": ".sessions._responses_lanes",
    "ResponsesWebSocketAccumulator": ".sessions._responses_lanes",
    "ResponsesWebSocketBufferError": ".sessions._responses_lanes",
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
