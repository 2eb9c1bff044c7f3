"""Every API operation, called through `Client` against the spec served by Prism.

Each of the spec's operations is called through its generated method with the
least arguments the spec requires (`arguments.py`). Prism validates the request
against the spec, so an answer below 400 means oxide encoded the path, query,
JSON or multipart body as the spec wants; the example answer must then decode
into the operation's typed model (`APIResponseValidationError` fails the test),
and a binary answer must come back as bytes.

Streaming operations are called without `stream=True`: Prism does not stream.
Where the spec or Prism is at fault, `FAULTS` says why, and the test checks that
exact failure (so a fixed spec or Prism shows up here).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import pytest

import oxide_io
from oxide_io import Client
from oxide_io._async.extras.audio import TRANSCRIPTION_TYPES, TRANSLATION_TYPES
from oxide_proto import resolve_type
from tests.conformance.arguments import Call, load_calls

pytestmark = pytest.mark.timeout(300)  # the first test waits for Prism to start

CALLS = load_calls()


@dataclass(frozen=True)
class Fault:
    """An operation the sweep cannot pass, through no fault of oxide's."""

    who: str  # "spec" or "Prism"
    reason: str
    raises: type[Exception]
    match: str  # in the error's message


FAULTS = {
    "audio.speech.create": Fault(
        "Prism",
        "Prism answers with the spec's documented `Transfer-Encoding` header set to its"
        " placeholder `string` beside a Content-Length: not valid HTTP/1.1, refused",
        oxide_io.APIConnectionError,
        "Transfer-Encoding",
    ),
}


# Operations whose result type an argument chooses: the types, by that argument's value.
CHOSEN_BY_ARGUMENT: dict[str, dict[str, type[Any]]] = {
    "audio.transcriptions.create": TRANSCRIPTION_TYPES,
    "audio.translations.create": TRANSLATION_TYPES,
}


def lookup(root: object, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def model_classes(qualified: str) -> tuple[type, ...]:
    """The classes a value of the model (or union of models) `qualified` can be."""
    found: list[type] = []
    pending = [resolve_type(qualified)]
    while pending:
        current = pending.pop()
        if isinstance(current, type):
            found.append(current)
        else:
            pending.extend(typing.get_args(current))
    return tuple(found)


def check_result(call: Call, result: Any) -> None:
    """The answer is what the operation's method promises: a model, a page or bytes."""
    op = call.op
    if op.binary:
        data = result if isinstance(result, bytes) else result.read()
        assert isinstance(data, bytes), type(result)
        return
    if op.page is not None:
        assert hasattr(result, "has_next_page"), type(result)
        if op.item is not None:
            classes = model_classes(op.item)
            for item in result.data:
                assert isinstance(item, classes), (type(item), classes)
        result = result._result  # the decoded list model the page reads through to
    chosen = CHOSEN_BY_ARGUMENT.get(call.name)
    if chosen is not None:
        # The result type follows an argument (`response_format`): one of those types.
        assert isinstance(result, tuple(chosen.values())), type(result)
        return
    if op.response is None:
        assert result is None or isinstance(result, (dict, list, str, int, float, bool))
        return
    classes = model_classes(op.response)
    if classes:
        assert isinstance(result, classes), (type(result), classes)


def invoke(client: Client, call: Call) -> Any:
    return lookup(client, call.name)(*call.args, **call.kwargs)


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_operation(
    client: Client, call: Call, record_property: Any, request: pytest.FixtureRequest
) -> None:
    fault = FAULTS.get(call.name)
    if call.streams:
        record_property("note", "called without stream=True (Prism does not stream)")
    if fault is None:
        check_result(call, invoke(client, call))
        return
    with pytest.raises(fault.raises, match=fault.match):
        invoke(client, call)
    pytest.xfail(f"{fault.who}: {fault.reason}")


def test_every_operation_is_swept() -> None:
    assert len(CALLS) == 288
    assert len({c.op.op_id for c in CALLS}) == 288
    assert set(FAULTS) <= {c.name for c in CALLS}


# Form encodings the official SDK uses (and the API reads) that the spec's forms do
# not describe: OpenAPI names every part of a list `field`, the SDK `field[]`, and
# flattens an object into `field[key]` parts. Prism refuses them; the sweep sends
# one file where a field takes one file or a list, and a file where it takes a
# file or a reference.
SDK_FORMS = {
    "images.edit: a list of images as image[]": (
        "images.edit",
        {"image": [("a.png", b"a", "image/png"), ("b.png", b"b", "image/png")], "prompt": "p"},
        "image",
    ),
    "skills.create: a list of files as files[]": (
        "skills.create",
        {"files": [("SKILL.md", b"# s", "text/markdown"), ("a.py", b"", "text/x-python")]},
        "files",
    ),
    "videos.edit: a reference as video[id]": (
        "videos.edit",
        {"video": {"id": "video_123"}, "prompt": "p"},
        "video",
    ),
}


@pytest.mark.parametrize("case", sorted(SDK_FORMS))
def test_sdk_form_encodings_prism_does_not_read(client: Client, case: str) -> None:
    name, kwargs, field = SDK_FORMS[case]
    with pytest.raises(oxide_io.UnprocessableEntityError, match=f"required property '{field}'"):
        lookup(client, name)(**kwargs)
