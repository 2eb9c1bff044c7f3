"""Responses kept after `POST /v1/responses`: retrieve, resume a background stream, count tokens.

Every response created with `store` not false is kept, with the events of its
stream, so that:

- `GET /v1/responses/{id}` answers the finished `response` object;
- `GET /v1/responses/{id}?stream=true&starting_after=N` replays the events after
  sequence number `N` (all of them without `starting_after`), as the API does for
  a response created with `background: true`; others cannot be streamed (400);
- `POST /v1/responses/{id}/cancel` and `DELETE /v1/responses/{id}` act on it.

A background response created without `stream` is answered `queued` (no output,
no usage), as the API does; retrieving it gives the finished response. The mock
generates the reply at once, so a background response is done by the first
retrieval.

`POST /v1/responses/input_tokens` counts the input the way `POST /v1/responses`
reports `usage.input_tokens` for the same body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import attrs

from ._generation import Generation, prompt_text
from ._responses import responses_answer
from ._wire import Answer, error_answer, json_answer, sse, stream_answer, token_count

__all__ = ["StoredResponses"]

_PREFIX = "/v1/responses/"


@attrs.define
class _Kept:
    response: dict[str, Any]
    events: list[dict[str, Any]]
    background: bool


def _event_json(event: bytes) -> dict[str, Any] | None:
    for line in event.decode().splitlines():
        if line.startswith("data: "):
            data = json.loads(line[len("data: ") :])
            return data if isinstance(data, dict) else None
    return None


def _not_found(ident: str) -> Answer:
    return error_answer(404, f"Response with id '{ident}' not found.", param="response_id")


@attrs.define
class StoredResponses:
    """The responses the mock server created, by id; shared by every connection."""

    kept: dict[str, _Kept] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def create(self, body: Mapping[str, Any], generation: Generation) -> Answer:
        """`POST /v1/responses`: answer it, and keep the response (`queued` for background)."""
        background = body.get("background") is True
        streamed = body.get("stream") is True
        # A background response has a stream to resume even when created without one.
        answer = responses_answer({**body, "stream": True} if background else body, generation)
        if answer.status != 200:
            return answer
        if answer.events is not None:
            events = [data for data in map(_event_json, answer.events) if data is not None]
            final = next(
                (e["response"] for e in reversed(events) if e.get("type") == "response.completed"),
                None,
            )
        else:
            events = []
            final = json.loads(answer.body)
        if not isinstance(final, dict):
            return answer
        if body.get("store") is not False:
            with self.lock:
                self.kept[str(final["id"])] = _Kept(final, events, background)
        if background and not streamed:
            queued = {**final, "status": "queued", "output": [], "usage": None}
            queued["completed_at"] = None
            return json_answer(queued)
        return answer

    def answer(self, method: str, path: str, query: Mapping[str, str], body: Any) -> Answer | None:
        """The answer to a request on a kept response or to count tokens; None otherwise."""
        if not path.startswith(_PREFIX):
            return None
        rest = path[len(_PREFIX) :].split("/")
        if rest == ["input_tokens"] and method == "POST":
            return _count(body)
        ident = rest[0]
        if not ident or ident == "input_tokens" or len(rest) > 2:
            return None
        with self.lock:
            kept = self.kept.get(ident)
        if len(rest) == 2:
            if rest[1] != "cancel" or method != "POST":
                return None
            if kept is None:
                return _not_found(ident)
            if not kept.background:
                return error_answer(
                    400, "Only responses created with background=true can be cancelled."
                )
            return json_answer(kept.response)  # done already: cancelling changes nothing
        if method == "DELETE":
            if kept is None:
                return _not_found(ident)
            with self.lock:
                self.kept.pop(ident, None)
            return json_answer({"id": ident, "object": "response.deleted", "deleted": True})
        if method != "GET":
            return None
        if kept is None:
            return _not_found(ident)
        if query.get("stream", "false").lower() != "true":
            return json_answer(kept.response)
        return _replay(kept, query)


def _replay(kept: _Kept, query: Mapping[str, str]) -> Answer:
    if not kept.background:
        return error_answer(
            400,
            "This response cannot be streamed because it was not created with background=true.",
            param="stream",
        )
    raw = query.get("starting_after")
    after = -1
    if raw is not None:
        try:
            after = int(raw)
        except ValueError:
            return error_answer(
                400,
                f"Invalid 'starting_after': expected an integer, got {raw!r}.",
                param="starting_after",
            )
    return stream_answer(
        [
            sse(event, event=str(event["type"]))
            for event in kept.events
            if event["sequence_number"] > after
        ]
    )


def _count(body: Any) -> Answer:
    if not isinstance(body, dict):
        return error_answer(400, "We could not parse the JSON body of your request.")
    tokens = token_count(prompt_text(body))
    return json_answer({"object": "response.input_tokens", "input_tokens": tokens})
