"""Requests the spec forbids: Prism's verdict must reach the caller as a typed error.

For each top-level resource, one operation is called with a required body field
of the wrong type (JSON bodies: a form sends every value as text), one without a
required field (left `NOT_GIVEN`, so it is not sent) and one with a value no enum
member matches. Prism answers 422 listing each violation; the caller must get
`UnprocessableEntityError` (or `BadRequestError` for a 400) whose `body` holds the
violations and whose message names the field. A query parameter of the wrong
type is refused the same way, and a request without credentials gets
`AuthenticationError` on every resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import oxide_io
from oxide_io import NOT_GIVEN, Client
from tests.conformance.arguments import Call, Synthesizer, load_calls, load_spec

pytestmark = pytest.mark.timeout(300)  # the first test waits for Prism to start

CALLS = load_calls()
SPEC = load_spec()
SYNTH = Synthesizer(SPEC)


@dataclass(frozen=True)
class Invalid:
    call: Call
    change: dict[str, object]  # keyword arguments that replace the valid ones
    field: str  # the field Prism must name
    kind: str

    def __str__(self) -> str:
        return f"{self.call.name}-{self.kind}-{self.field}"


def _top(call: Call) -> str:
    return call.name.split(".")[0] if not call.name.startswith("admin.") else "admin"


def _named_body(call: Call) -> dict[str, str]:
    """Required body fields the method takes by name: wire key -> Python name."""
    body = {p.key: p.name for p in call.op.body if p.key not in {q.key for q in call.op.query}}
    return {key: body[key] for key in call.kwargs if key in body and call.kwargs[key] is not None}


def _wrong_type(value: object) -> object:
    if isinstance(value, str):
        return 12345
    if isinstance(value, (bool, int, float)):
        return "not-a-number"
    return True


def _enum_fields(call: Call) -> list[tuple[str, str]]:
    """Body fields whose schema is a plain enum of strings: (wire key, Python name)."""
    raw = SPEC["paths"][call.op.path][call.op.method.lower()]
    schema = SYNTH.body_schema(raw, call.op)
    if schema is None:
        return []
    props = schema.get("properties", {})
    names = {p.key: p.name for p in call.op.body}
    found = []
    for key, prop in props.items():
        prop = SYNTH.resolve(prop)
        enum = prop.get("enum")
        if enum and all(isinstance(v, str) for v in enum) and key in names:
            found.append((key, names[key]))
    return sorted(found)


def invalid_requests() -> list[Invalid]:
    chosen: list[Invalid] = []
    for top in sorted({_top(c) for c in CALLS}):
        calls = [c for c in CALLS if _top(c) == top and c.op.body_kind]
        json_calls = [c for c in calls if c.op.body_kind == "json" and _named_body(c)]
        for call in json_calls[:1]:
            key, name = sorted(_named_body(call).items())[0]
            change = {name: _wrong_type(call.kwargs[name])}
            chosen.append(Invalid(call, change, key, "wrong-type"))
        for call in [c for c in calls if _named_body(c)][:1]:
            key, name = sorted(_named_body(call).items())[0]
            chosen.append(Invalid(call, {name: NOT_GIVEN}, key, "missing"))
        for call in calls:
            fields = _enum_fields(call)
            if fields:
                key, name = fields[0]
                chosen.append(Invalid(call, {name: "no-such-value"}, key, "bad-enum"))
                break
    return chosen


INVALID = invalid_requests()


def lookup(root: object, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def test_every_resource_with_a_body_is_covered() -> None:
    tops = {_top(c) for c in CALLS if c.op.body_kind}
    assert {_top(case.call) for case in INVALID} == tops
    # Resources without a request body (models) are covered by the query and auth checks.
    assert {_top(c) for c in CALLS} - tops == {"models"}


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_invalid_body_is_refused_with_the_violations(client: Client, case: Invalid) -> None:
    call = case.call
    with pytest.raises((oxide_io.UnprocessableEntityError, oxide_io.BadRequestError)) as info:
        lookup(client, call.name)(*call.args, **{**call.kwargs, **case.change})
    error = info.value
    assert error.status_code in (400, 422)
    assert isinstance(error.body, dict)
    violations = error.body["validation"]
    assert violations, error.body
    assert any(case.field in str(v) for v in violations), violations
    assert case.field in error.message


def test_query_parameter_of_the_wrong_type_is_refused(client: Client) -> None:
    with pytest.raises(oxide_io.UnprocessableEntityError) as info:
        client.files.list(limit="many")  # type: ignore[arg-type]
    violations = info.value.body["validation"]  # type: ignore[index]
    assert [v["location"] for v in violations] == [["query", "limit"]]
    assert "limit" in info.value.message


def test_bad_query_enum_is_refused(client: Client) -> None:
    with pytest.raises(oxide_io.UnprocessableEntityError) as info:
        client.files.list(order="sideways")  # type: ignore[arg-type]
    assert "order" in info.value.message


@pytest.mark.parametrize("top", sorted({_top(c) for c in CALLS}))
def test_missing_credentials_raise_authentication_error(client: Client, top: str) -> None:
    call = next(c for c in CALLS if _top(c) == top)
    no_auth = {"Authorization": None}
    with pytest.raises(oxide_io.AuthenticationError) as info:
        lookup(client, call.name)(*call.args, **{**call.kwargs, "extra_headers": no_auth})
    assert info.value.status_code == 401
    assert info.value.message.startswith("Error code: 401")
