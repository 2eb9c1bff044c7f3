"""`POST /v1/decisions`: a `decision` object answering each question, deterministically.

The mock has no model; what it answers follows from the request, so a test can
steer it through its input:

- a `choice` question gets the first choice whose `value` (a string) occurs in
  the text of the last input message, else the first choice; the chosen one has
  probability 0.9, the others share the rest;
- a `predicate` question gets probability 0.75, a `score` question the middle
  of its range;
- any question is refused (`{"type": "refusal", "name": ...}`) when the last
  input message's text contains ``[refuse]``.

`usage` counts tokens of the input and questions' text (see `token_count`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._wire import Answer, error_answer, json_answer, token_count

__all__ = ["decisions_answer"]


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _last_text(body: Mapping[str, Any]) -> str:
    value = body.get("input")
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[-1], Mapping):
        return _text(value[-1].get("content"))
    return ""


def _answer(question: Mapping[str, Any], text: str) -> dict[str, Any]:
    name = question.get("name")
    kind = question.get("type")
    if "[refuse]" in text:
        return {"type": "refusal", "name": name}
    if kind == "choice":
        choices = [c for c in question.get("choices") or () if isinstance(c, Mapping)]
        values = [c.get("value") for c in choices]
        chosen = next((v for v in values if isinstance(v, str) and v in text), values[0])
        rest = (0.1 / (len(values) - 1)) if len(values) > 1 else 0.0
        return {
            "type": "choice",
            "name": name,
            "choice": chosen,
            "confidence": 0.9,
            "probabilities": [
                {"value": v, "probability": 0.9 if v == chosen else rest} for v in values
            ],
        }
    if kind == "predicate":
        return {"type": "predicate", "name": name, "probability": 0.75}
    low, high = question.get("min", 0), question.get("max", 10)
    middle = (low + high) // 2 if isinstance(low, int) and isinstance(high, int) else 5
    return {
        "type": "score",
        "name": name,
        "score": float(middle),
        "confidence": 0.9,
        "probabilities": [{"label": str(middle), "value": middle, "probability": 1.0}],
    }


def decisions_answer(method: str, path: str, body: Any) -> Answer | None:
    """The answer to `POST /v1/decisions`, or None for another request."""
    if method != "POST" or path != "/v1/decisions":
        return None
    if not isinstance(body, Mapping):
        return error_answer(400, "The body must be a JSON object.")
    for name in ("model", "input", "questions"):
        if name not in body:
            return error_answer(
                400,
                f"Missing required parameter: '{name}'.",
                param=name,
                code="missing_required_parameter",
            )
    questions = body["questions"]
    if not isinstance(questions, list) or not questions:
        return error_answer(400, "'questions' must be a non-empty array.", param="questions")
    for position, question in enumerate(questions):
        valid = isinstance(question, Mapping) and question.get("type") in (
            "choice",
            "predicate",
            "score",
        )
        if valid and question.get("type") == "choice":
            choices = question.get("choices")
            valid = (
                isinstance(choices, list)
                and bool(choices)
                and all(
                    isinstance(c, Mapping) and isinstance(c.get("value"), (str, bool))
                    for c in choices
                )
            )
        if not valid:
            return error_answer(
                400, f"Invalid question at questions[{position}].", param="questions"
            )
    text = _last_text(body)
    prompt = token_count(json.dumps(body["input"]) + json.dumps(questions))
    answers = [_answer(question, text) for question in questions]
    completion = token_count(json.dumps(answers))
    return json_answer(
        {
            "answers": answers,
            "model": body["model"],
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
                "output_tokens": completion,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + completion,
            },
        }
    )
