"""Every spec operation is a method of both clients, under the official SDK's name and parameters.

The generator's name table is checked against the SDK's method list, each
method's signature against the installed official SDK's (positional path
parameter, keyword names, which are required), and the generator's output
against itself (same spec, same code).
"""

from __future__ import annotations

import inspect
import pathlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from oxide_io import AsyncClient, Client

CODEGEN = pathlib.Path(__file__).resolve().parents[2] / "tools" / "codegen"
sys.path.insert(0, str(CODEGEN))

import generate_models  # noqa: E402
import generate_operations  # noqa: E402
import operations_names  # noqa: E402

# Where the spec (2026-08-21) and openai 3.63 disagree: the SDK knows fields the
# spec does not list yet, `betas` is the SDK's name for the `openai-beta` header,
# and `responses.retrieve(stream=True)` streams a stored response.
KNOWN_DIFFERENCES = {
    "admin.organization.projects.create": ["missing geography"],
    "admin.organization.projects.service_accounts.api_keys.create": [
        "missing expires_in_seconds",
        "missing spend_limit",
    ],
    "admin.organization.projects.service_accounts.create": [
        "missing expires_in_seconds",
        "missing spend_limit",
    ],
    "admin.organization.projects.spend_limit.update": ["missing notification_channel"],
    "admin.organization.projects.update": ["missing geography"],
    "admin.organization.spend_limit.update": ["missing notification_channel"],
    "admin.organization.usage.costs": ["missing line_items"],
    "audio.voices.create": [
        "missing model",
        "missing prompt",
        "missing script_hint",
        "missing type",
        "audio_sample required True vs False",
        "consent required True vs False",
    ],
    "beta.realtime.sessions.create": [
        "missing input_audio_noise_reduction",
        "missing model",
        "extra prompt",
        "extra truncation",
        "client_secret required True vs False",
    ],
    "beta.realtime.transcription_sessions.create": ["missing client_secret", "missing modalities"],
    "beta.responses.cancel": ["missing betas"],
    "beta.responses.compact": ["missing betas", "missing image", "missing safety_identifier"],
    "beta.responses.create": [
        "missing access_programs",
        "missing background_options",
        "missing betas",
        "missing image",
    ],
    "beta.responses.delete": ["missing betas"],
    "beta.responses.input_items.list": ["missing betas"],
    "beta.responses.input_tokens.count": ["missing betas"],
    "beta.responses.retrieve": ["missing betas", "missing stream"],
    "conversations.create": ["missing safety_identifier"],
    "images.edit": [
        "missing complexity",
        "missing frame_count",
        "missing frame_duration_ms",
        "missing markup",
        "missing safety_identifier",
        "missing svg",
    ],
    "images.generate": [
        "missing complexity",
        "missing frame_count",
        "missing frame_duration_ms",
        "missing safety_identifier",
        "missing svg",
    ],
    "responses.compact": ["missing image", "missing safety_identifier"],
    "responses.create": ["missing access_programs", "missing background_options", "missing image"],
    "responses.retrieve": ["missing stream"],
    "skills.create": ["files required True vs False"],
    "skills.versions.create": ["files required True vs False"],
}


@pytest.fixture(scope="module")
def table() -> tuple[list[Any], dict[str, Any]]:
    spec = generate_models.load_spec(generate_models.DEFAULT_SPEC)
    return generate_operations.load(spec)


def method_names(named: dict[str, Any]) -> set[str]:
    names = set(named) | {alias for alias, _, _ in operations_names.ALIASES}
    for alias, target in operations_names.RESOURCE_ALIASES.items():
        names |= {alias + n[len(target) :] for n in list(names) if n.startswith(target + ".")}
    return names


def lookup(root: object, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def test_every_operation_has_a_name(table: tuple[list[Any], dict[str, Any]]) -> None:
    ops, named = table
    assert len(ops) == 288
    assert sorted(id(op) for op in named.values()) == sorted(id(op) for op in ops)


def test_every_sdk_name_with_an_operation_exists(table: tuple[list[Any], dict[str, Any]]) -> None:
    _, named = table
    reference = generate_operations.reference()
    names = method_names(named)
    # Spec operations outside the SDK's list: none.
    assert names - reference == set()
    sync, async_ = Client(api_key="sk-test"), AsyncClient(api_key="sk-test")
    for name in sorted(names):
        assert callable(lookup(sync, name)), name
        assert callable(lookup(async_, name)), name
        parent, leaf = name.rsplit(".", 1)
        assert callable(getattr(lookup(sync, parent).with_raw_response, leaf)), name


def _split(signature: inspect.Signature) -> tuple[list[str], dict[str, bool]]:
    params = signature.parameters.values()
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    keywords = {p.name: p.default is p.empty for p in params if p.kind is p.KEYWORD_ONLY}
    return positional, keywords


def _differences(ours: Callable[..., Any], theirs: Callable[..., Any]) -> Iterator[str]:
    our_pos, our_kw = _split(inspect.signature(ours))
    their_pos, their_kw = _split(inspect.signature(theirs))
    if our_pos != their_pos:
        yield f"positional {our_pos} vs {their_pos}"
    yield from (f"missing {k}" for k in sorted(set(their_kw) - set(our_kw)))
    yield from (f"extra {k}" for k in sorted(set(our_kw) - set(their_kw)))
    for k in sorted(set(our_kw) & set(their_kw)):
        if our_kw[k] != their_kw[k]:
            yield f"{k} required {our_kw[k]} vs {their_kw[k]}"


def test_signatures_match_the_official_sdk(table: tuple[list[Any], dict[str, Any]]) -> None:
    openai = pytest.importorskip("openai")
    theirs = openai.OpenAI(api_key="sk-test")
    _, named = table
    found: dict[str, list[str]] = {}
    for client in (Client(api_key="sk-test"), AsyncClient(api_key="sk-test")):
        for name in sorted(method_names(named)):
            differences = list(_differences(lookup(client, name), lookup(theirs, name)))
            if differences:
                found[name] = differences
    assert found == KNOWN_DIFFERENCES


def test_list_methods_return_pages_and_async_ones_await() -> None:
    async_ = AsyncClient(api_key="sk-test")
    assert inspect.iscoroutinefunction(async_.models.retrieve)
    assert not inspect.iscoroutinefunction(async_.files.list)
    assert inspect.iscoroutinefunction(async_.chat.completions.create)


def test_generator_is_deterministic() -> None:
    spec = generate_models.load_spec(generate_models.DEFAULT_SPEC)
    runs = []
    for _ in range(2):
        _, named = generate_operations.load(spec)
        nodes = generate_operations.build_tree(named)
        tops = sorted({path[0] for path in nodes})
        runs.append(
            [generate_operations.ModuleWriter(top, nodes).emit() for top in tops]
            + [generate_operations.emit_index(tops)]
        )
    assert runs[0] == runs[1]
