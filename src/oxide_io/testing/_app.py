"""The mock server's application: from a received request to an answer and a plan.

Transport-free: the HTTP/1.1 and HTTP/2 handlers build a `RecordedRequest`, ask
`MockApp.handle` what to answer, and let `play` carry it out. The order of
checks follows the API: authentication, then the scripted failure if any, then
the route (404 `Invalid URL`), then the body (400 for JSON that does not parse
or misses a required field).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

import attrs

from ._azure import azure_as_api, is_azure
from ._batches import BatchesState, batches_answer
from ._behaviours import Fail, Plan, Script
from ._catalog import embeddings_answer, files_answer, model_answer, models_answer
from ._chat import chat_answer
from ._decisions import decisions_answer
from ._files_api import FilesState, files_api_answer, is_download
from ._fine_tuning import fine_tuning_answer
from ._generation import ReplyText, default_reply, generate
from ._images import images_answer
from ._rate_limit import RateLimiter
from ._stored_responses import StoredResponses
from ._wire import Answer, dumps, error_answer, error_body, new_id

__all__ = ["MockApp", "RecordedRequest"]

# Which JSON fields each generating endpoint cannot do without.
_REQUIRED = {
    "/v1/chat/completions": ("model", "messages"),
    "/v1/responses": ("model", "input"),
    "/v1/embeddings": ("model", "input"),
    "/v1/images/generations": ("prompt",),
    "/v1/responses/input_tokens": (),
}
_GENERATING = ("/v1/chat/completions", "/v1/responses")


@attrs.frozen
class RecordedRequest:
    """One request as the mock server received it.

    `headers` has lower-case names (repeated fields joined with ``", "``);
    `json` is the parsed body, or `None` when the body is empty or not JSON;
    `http_version` is ``"1.1"`` or ``"2"``, or ``"websocket"`` for a
    `response.create` received over the Responses WebSocket.

        >>> request = server.requests[-1]
        >>> request.method, request.path, request.json["model"]
        ('POST', '/v1/chat/completions', 'gpt-4o-mini')
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    http_version: str
    json: Any = attrs.field(default=None)

    @classmethod
    def parse(
        cls,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        http_version: str,
    ) -> RecordedRequest:
        from urllib.parse import parse_qsl

        path, _, query = target.partition("?")
        joined: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return cls(method.upper(), path, dict(parse_qsl(query)), joined, body, http_version, parsed)


@attrs.define
class MockApp:
    """Authentication, routing and scripted behaviours; shared by every connection."""

    api_key: str | None
    reply_text: ReplyText = default_reply
    script: Script = attrs.field(factory=Script)
    files: FilesState = attrs.field(factory=FilesState)
    limiter: RateLimiter | None = None
    batches: BatchesState = attrs.field(factory=BatchesState)
    responses: StoredResponses = attrs.field(factory=StoredResponses)

    def handle(self, request: RecordedRequest) -> tuple[Answer, Plan]:
        if is_azure(request.path):
            translated = azure_as_api(request)
            if isinstance(translated, Answer):
                return translated, Plan()
            request = translated
        denied = self._authenticate(request)
        if denied is not None:
            return denied, Plan()
        if self.limiter is None:
            return self._handle(request)
        # The API checks the rate limit after the key and before anything else,
        # and reports the budgets on every answer.
        admitted, limit_headers = self.limiter.admit(request.json)
        if not admitted:
            kind = (
                "requests" if ("x-ratelimit-remaining-requests", "0") in limit_headers else "tokens"
            )
            message = f"Rate limit reached for {kind}. Please try again later."
            answer = error_answer(429, message, type=kind, code="rate_limit_exceeded")
            return attrs.evolve(answer, headers=answer.headers + tuple(limit_headers)), Plan()
        answer, plan = self._handle(request)
        return attrs.evolve(answer, headers=answer.headers + tuple(limit_headers)), plan

    def _handle(self, request: RecordedRequest) -> tuple[Answer, Plan]:
        body = request.json if isinstance(request.json, dict) else {}
        generates = request.method == "POST" and request.path in _GENERATING
        # Stream faults apply to event streams and to binary bodies sent in pieces.
        stream = (generates and body.get("stream") is True) or is_download(
            request.method, request.path
        )
        plan = self.script.take(request.path, stream=stream, generates=generates)
        if plan.fail is not None:
            return _failure(plan.fail), plan
        answer = self._route(request, plan)
        if answer.events is None:
            # Stream faults need a stream; a plain answer keeps only the rest.
            plan = attrs.evolve(plan, first_token=None, stream_fault=None)
        return answer, plan

    def _authenticate(self, request: RecordedRequest) -> Answer | None:
        if self.api_key is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), self.api_key):
            return None
        if not token.strip():
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return error_answer(401, message)
        shown = token.strip()
        shown = f"{shown[:3]}***{shown[-4:]}" if len(shown) > 8 else "***"
        return error_answer(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")

    def _route(self, request: RecordedRequest, plan: Plan) -> Answer:
        method, path = request.method, request.path
        if method == "GET" and path == "/v1/models":
            return models_answer()
        if method == "GET" and path.startswith("/v1/models/") and len(path) > len("/v1/models/"):
            return model_answer(path[len("/v1/models/") :])
        if method == "GET" and path == "/v1/files":
            return files_answer(request.query)
        uploaded = files_api_answer(self.files, method, path, request)
        if uploaded is not None:
            return uploaded
        batch = batches_answer(
            self.batches, self.files, method, path, request.json, request.query, self._batch_line
        )
        if batch is not None:
            return batch
        for answer in (
            fine_tuning_answer(method, path, request.query),
            images_answer(method, path, request.json),
            decisions_answer(method, path, request.json),
            self.responses.answer(method, path, request.query, request.json),
        ):
            if answer is not None:
                return answer
        required = _REQUIRED.get(path)
        if method != "POST" or required is None:
            return error_answer(404, f"Invalid URL ({method} {path})")
        body = request.json
        if not isinstance(body, dict):
            return error_answer(
                400,
                "We could not parse the JSON body of your request. The body must be a JSON "
                "object; make sure it is sent with 'Content-Type: application/json'.",
            )
        for name in required:
            if name not in body:
                return error_answer(
                    400,
                    f"Missing required parameter: '{name}'.",
                    param=name,
                    code="missing_required_parameter",
                )
        if path == "/v1/embeddings":
            return embeddings_answer(body)
        generation = generate(body, self.reply_text, plan.reply)
        if path == "/v1/chat/completions":
            return chat_answer(body, generation)
        return self.responses.create(body, generation)

    def _batch_line(self, method: str, url: str, body: Any) -> tuple[int, Any, str]:
        """One line of a batch, answered as the same request would be on its own."""
        request = RecordedRequest(method, url, {}, {}, dumps(body), "1.1", body)
        plan = self.script.take(url, stream=False, generates=url in _GENERATING)
        answer = _failure(plan.fail) if plan.fail is not None else self._route(request, plan)
        try:
            parsed = json.loads(answer.body) if answer.body else None
        except ValueError:
            parsed = answer.body.decode("utf-8", "replace")
        return answer.status, parsed, new_id("req_")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _failure(fail: Fail) -> Answer:
    headers: list[tuple[str, str]] = [("content-type", "application/json")]
    if fail.retry_after is not None:
        headers.append(("retry-after", _seconds(fail.retry_after)))
    if fail.retry_after_ms is not None:
        headers.append(("retry-after-ms", _seconds(fail.retry_after_ms)))
    if fail.should_retry is not None:
        headers.append(("x-should-retry", "true" if fail.should_retry else "false"))
    custom = [(name.lower(), value) for name, value in fail.headers]
    replaced = {name for name, _ in custom}
    headers = [(name, value) for name, value in headers if name not in replaced] + custom
    if isinstance(fail.body, bytes):
        body = fail.body
    elif fail.body is not None:
        body = dumps(fail.body)
    else:
        message = fail.message or _DEFAULT_MESSAGES.get(
            fail.status, f"Scripted failure ({fail.status})."
        )
        code = fail.code
        if code is None and fail.status == 429:
            code = "rate_limit_exceeded"
        body = dumps(error_body(fail.status, message, type=fail.type, param=fail.param, code=code))
    return Answer(fail.status, tuple(headers), body)


_DEFAULT_MESSAGES = {
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
}
