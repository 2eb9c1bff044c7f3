"""`openai.lib.beta.agents`, `openai.lib.realtime_translation` and `openai.helpers` in the
compat namespace: every official public name is there (or listed as absent, with why),
after `install()` too."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest

import oxide_io.compat as compat
from oxide_io.compat import _modules

# Official names oxide does not serve yet, by module, each with why.
ABSENT: dict[str, set[str]] = {}


def _public(module: object) -> set[str]:
    return {
        name
        for name in getattr(module, "__all__", None) or dir(module)
        if not name.startswith("_") and type(getattr(module, name)).__name__ != "module"
    }


@pytest.mark.parametrize(
    "rel",
    [
        "lib.beta.agents",
        "lib.realtime_translation",
        "helpers",
        "helpers.microphone",
        "helpers.local_audio_player",
    ],
)
def test_the_official_public_names_are_served(rel: str) -> None:
    official = importlib.import_module(f"openai.{rel}")
    ours = importlib.import_module(f"oxide_io.compat.{rel}")
    wanted = _public(official)
    if rel.startswith("helpers."):
        # The official modules also hold their imports (numpy, asyncio, ...): only
        # the helper class is theirs.
        wanted = {
            name
            for name in wanted
            if isinstance(getattr(official, name), type)
            and getattr(official, name).__module__ == official.__name__
        }
    absent = ABSENT.get(rel, set())
    assert absent <= wanted
    assert sorted(name for name in wanted - absent if not hasattr(ours, name)) == []
    assert not any(hasattr(ours, name) for name in absent)


@pytest.fixture
def installed() -> Iterator[None]:
    saved = {
        name: module
        for name, module in sys.modules.items()
        if name == "openai" or name.startswith("openai.")
    }
    for name in saved:
        del sys.modules[name]
    compat.install()
    try:
        yield
    finally:
        compat.uninstall()
        sys.modules.update(saved)


@pytest.mark.usefixtures("installed")
def test_the_official_paths_give_oxides_objects() -> None:
    from openai.helpers import LocalAudioPlayer, Microphone
    from openai.lib.beta.agents import AgentTurnResult, FunctionTool, function_tool
    from openai.lib.realtime_translation import AsyncTranslationSession, TranslationSession

    from oxide_io._async._translation_session import AsyncTranslationSession as Async
    from oxide_io._sync._translation_session import SyncTranslationSession as Sync
    from oxide_proto.helpers._agent_tools import AgentFunctionTool as OxideFunctionTool
    from oxide_proto.helpers._agent_turn import AgentTurnResult as OxideResult

    assert (TranslationSession, AsyncTranslationSession) == (Sync, Async)
    assert FunctionTool is OxideFunctionTool and AgentTurnResult is OxideResult
    from oxide_proto.helpers._agent_tools import agent_function_tool as oxide_function_tool

    assert function_tool is oxide_function_tool
    assert Microphone.__module__ == LocalAudioPlayer.__module__ == "oxide_io.compat._voice"
    assert sys.modules["openai.lib.beta.agents"] is sys.modules["oxide_io.compat.lib.beta.agents"]


@pytest.mark.parametrize(
    ("path", "name", "arguments"),
    [
        ("helpers", "Microphone", {"channels": 2, "timeout": 1.0}),
        ("helpers.microphone", "Microphone", {}),
        ("helpers", "LocalAudioPlayer", {"should_stop": lambda: True}),
        ("helpers.local_audio_player", "LocalAudioPlayer", {}),
    ],
)
def test_the_audio_helpers_import_and_say_what_they_need(
    path: str, name: str, arguments: dict[str, object]
) -> None:
    helper = getattr(importlib.import_module(f"oxide_io.compat.{path}"), name)
    with pytest.raises(compat.OpenAIError) as caught:
        helper(**arguments)
    error = caught.value
    assert type(error).__name__ == "MissingDependencyError"
    assert error.extra == "voice-helpers"  # type: ignore[attr-defined]
    assert error.libraries == ("numpy", "sounddevice")  # type: ignore[attr-defined]
    assert f"openai.helpers.{name}" in str(error)
    assert "`voice-helpers` extra" in str(error)


def test_the_modules_are_registered_as_packages_where_official_ones_are() -> None:
    assert "lib.beta" in _modules.EXTRA_MODULES
    assert importlib.import_module("oxide_io.compat.lib.beta").__path__ is not None  # type: ignore[attr-defined]
    assert importlib.import_module("oxide_io.compat.helpers").__path__ is not None  # type: ignore[attr-defined]
