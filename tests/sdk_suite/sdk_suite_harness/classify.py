"""Sorting a failed test's exception into a reason: what is missing or wrong, in a few words.

A reason is a `category` (the kind of gap: a missing method, a raw-response
attribute, a type that does not match, a request the mock server rejected, ...)
and a `detail` stable across tests of the same gap (addresses and ports are
erased), so the summary can count failures per gap and show examples.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

__all__ = ["classify", "kind_of_test"]

_NO_ATTRIBUTE = re.compile(r"'(?P<cls>[\w.]+)' object has no attribute '(?P<attr>\w+)'")
_MODULE_NO_ATTRIBUTE = re.compile(r"module '(?P<cls>[\w.]+)' has no attribute '(?P<attr>\w+)'")
_KWARG = re.compile(r"(?P<fn>[\w.]+)\(\) got an unexpected keyword argument '(?P<arg>\w+)'")
_NOISE = re.compile(r"0x[0-9a-f]+|127\.0\.0\.1:\d+|:\d{4,5}\b")
_KINDS = ("raw_response", "streaming_response", "path_params", "method")

_RESPONSE_OBJECTS = ("Response", "Stream", "Binary", "Content")
_CLIENTS = ("Client", "AsyncClient", "OpenAI", "AsyncOpenAI")


def kind_of_test(name: str) -> str:
    """The kind of an official test: method, raw_response, streaming_response, path_params."""
    bare = name.split("[", 1)[0].removeprefix("test_")
    for kind in _KINDS:
        if bare.startswith(kind + "_"):
            return kind
    return "other"


def _clean(text: str, limit: int = 240) -> str:
    return _NOISE.sub("…", " ".join(text.split()))[:limit]


def _reason(category: str, detail: str) -> dict[str, str]:
    return {"category": category, "detail": _clean(detail)}


def classify(exc: BaseException, test_name: str) -> dict[str, str]:
    """The reason a test failed with `exc`."""
    kind = kind_of_test(test_name)
    name = type(exc).__name__
    message = str(exc)
    kind_of_check = getattr(exc, "kind", None)
    if isinstance(exc, AssertionError) and isinstance(kind_of_check, str):
        return _reason(f"type check: {kind_of_check}", message)
    if "DID NOT WARN" in message and "DeprecationWarning" in message:
        # The official tests call deprecated methods inside pytest.warns(DeprecationWarning).
        return _reason("DeprecationWarning not emitted", f"{kind}: no DeprecationWarning")
    if isinstance(exc, AttributeError) and "has no API method" in message:
        return _reason("missing method or resource", message)
    if isinstance(exc, AttributeError):
        found = _NO_ATTRIBUTE.search(message) or _MODULE_NO_ATTRIBUTE.search(message)
        if found is None:
            return _reason("missing attribute", message)
        owner, attr = found["cls"], found["attr"]
        if attr == "with_raw_response":
            return _reason("missing with_raw_response", f"{owner}.{attr}")
        if attr == "with_streaming_response":
            return _reason("missing with_streaming_response", f"{owner}.{attr}")
        if owner in _CLIENTS:
            return _reason("missing method or resource", f"{owner}.{attr}")
        if owner.startswith(("Sync", "Async")) and not any(
            word in owner for word in (*_RESPONSE_OBJECTS, "Page")
        ):
            return _reason("missing method or resource", f"{owner}.{attr}")
        if any(word in owner for word in _RESPONSE_OBJECTS) and kind in (
            "raw_response",
            "streaming_response",
        ):
            return _reason(f"{kind.replace('_', ' ')} attribute", f"{owner}.{attr}")
        return _reason("missing attribute", f"{owner}.{attr}")
    if isinstance(exc, TypeError):
        found = _KWARG.search(message)
        if found is not None:
            return _reason("missing parameter", f"{found['fn']}({found['arg']}=)")
        if "context manager" in message or "asynchronous context manager" in message:
            return _reason(f"{kind.replace('_', ' ')}: not a context manager", message)
        return _reason("TypeError", message)
    if kind == "path_params":
        # The official client raises ValueError before sending for an empty path parameter.
        first = message.splitlines()[0] if message else ""
        return _reason("path parameter check", f"{name}: {first}")
    if name == "APIResponseValidationError":
        return _reason("response validation", message)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status == 422:
            return _reason("request rejected by Prism (422)", message)
        if status == 404:
            return _reason("endpoint not served (404)", message)
        return _reason(f"HTTP {status}", f"{name}: {message}")
    if name in ("APIConnectionError", "APITimeoutError"):
        cause: Any = exc.__cause__ or exc.__context__
        detail = f"{name}: {type(cause).__name__}: {cause}" if cause else f"{name}: {message}"
        return _reason("connection", detail)
    if isinstance(exc, AssertionError):
        if "X-Stainless-Lang" in message:
            return _reason(
                "X-Stainless-Lang request header",
                f"{kind}: http_request.headers.get('X-Stainless-Lang') is not 'python'",
            )
        lines = [line.strip()[:100] for line in message.splitlines() if line.strip()]
        if not lines:
            # A bare `assert` without rewriting: the failing line says what was checked.
            frames = traceback.extract_tb(exc.__traceback__)
            if frames:
                last = frames[-1]
                lines = [f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}: {last.line}"]
        return _reason(f"assertion ({kind.replace('_', ' ')})", " / ".join(lines[:2]))
    return _reason(name, message)
