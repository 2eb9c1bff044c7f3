"""Every fuzz target's seed corpus, replayed as a test.

Each target's `check(data)` asserts its parser's invariant (see the target's
docstring); running it over the committed seeds keeps the invariants true between
fuzzing runs. A target is named by module and function so one that fails to import
fails alone.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest

FUZZ = pathlib.Path(__file__).resolve().parents[2] / "fuzz"

# (target function as "module:function", seed directory under fuzz/seeds)
TARGETS = [
    ("fuzz.fuzz_websocket:check", "websocket"),
    ("fuzz.fuzz_sse:check", "sse"),
    ("fuzz.fuzz_http1:check", "http1"),
    ("fuzz.fuzz_http2:check", "http2"),
]

CASES = [
    pytest.param(target, path, id=f"{seeds}/{path.name}")
    for target, seeds in TARGETS
    for path in sorted((FUZZ / "seeds" / seeds).iterdir())
    if path.is_file()
]


@pytest.mark.parametrize(("target", "path"), CASES)
def test_seed(target: str, path: pathlib.Path) -> None:
    module, function = target.split(":")
    check = getattr(importlib.import_module(module), function)
    check(path.read_bytes())
