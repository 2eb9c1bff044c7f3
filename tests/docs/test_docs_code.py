"""Every code block of the documentation runs: Python page by page, shell block by block.

See tests/docs/code_blocks.py for how blocks are found and marked. A page's blocks
share one namespace and run in order; the working directory is a fresh temporary
one, so examples that write files leave nothing behind. Blocks marked skip are
reported as skipped tests, each with its reason. The MockServer answers requests
for structured outputs with JSON fitting their schema, so `parse()` examples work.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import subprocess
import sys
import types
from collections.abc import Iterator

import pytest

from oxide_io import Client
from oxide_io.testing import MockServer
from tests.docs import code_blocks
from tests.io.leaks import client_sockets
from tests.ws_api_server import run_ws_api

KEY = "sk-docs-0123456789"
PAGES = code_blocks.pages()


def test_the_docs_have_code_to_run() -> None:
    names = {page.name for page in PAGES if page.blocks}
    assert {"quickstart.md", "streaming.md", "testing.md", "adapter.md", "README.md"} <= names


def test_a_skip_marker_needs_a_reason(tmp_path: pathlib.Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- docs-test: skip -->\n```python\nx = 1\n```\n", encoding="utf-8")
    with pytest.raises(code_blocks.MarkerError, match="must say why"):
        code_blocks.parse(page)
    page.write_text("<!-- docs-test: skip: needs the API -->\n```python\nx = 1\n```\n")
    (block,) = code_blocks.parse(page).blocks
    assert block.skip == "needs the API" and block.line == 3


@contextlib.contextmanager
def _server(kind: str) -> Iterator[str]:
    if kind == "websocket":
        with run_ws_api() as ws:
            yield ws.base_url
        return
    with MockServer(api_key=KEY) as server:
        yield server.base_url


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if any(b.skip is None and b.language == "python" for b in p.blocks)],
    ids=lambda p: p.name,
)
def test_page_code_runs(
    page: code_blocks.Page, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_LOG", "OPENAI_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with _server(page.server) as base_url:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        # A module of its own, as a script would be: dataclasses and typing look
        # their classes' module up in sys.modules.
        module = types.ModuleType("docs_page")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        try:
            for block in page.blocks:
                if block.skip is None and block.language == "python":
                    exec(block.compiled(), module.__dict__)
        finally:
            # The page's clients stay open in its namespace, as in a script; close
            # them, so that no socket outlives the server (whose port a later test
            # may be given).
            for value in list(module.__dict__.values()):
                if isinstance(value, Client):
                    value.close()
        port = int(base_url.rsplit(":", 1)[1].split("/")[0])
        assert client_sockets(port) == 0, "a connection of the page is still open"


@pytest.mark.parametrize(
    "block",
    [b for p in PAGES for b in p.blocks if b.skip is not None],
    ids=lambda b: b.name,
)
def test_skipped_block(block: code_blocks.Block) -> None:
    # Not run, but at least well-formed.
    if block.language == "python":
        compile(block.code, str(block.page), "exec")
    elif block.language in code_blocks.SHELL_LANGUAGES:
        checked = subprocess.run(["bash", "-n", "-c", block.code], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    pytest.skip(f"{block.name}: {block.skip}")


# -- shell blocks -----------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY) as server:
        yield server


def _shell_env(server: MockServer, tmp_path: pathlib.Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "oxide"  # what `pip install 'oxide-client[cli]'` puts on the PATH
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m oxide_io "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OXIDE_"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        OPENAI_API_KEY=KEY,
        OPENAI_BASE_URL=server.base_url,
        NO_COLOR="1",
    )
    return env


def _console(code: str) -> list[tuple[str, list[str]]]:
    """`$ command` lines, each with the output lines shown after it."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps and line.strip():
            steps[-1][1].append(line)
    return steps


def _matches(shown: str, printed: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in shown.split("..."))
    return re.fullmatch(pattern, printed) is not None


@pytest.mark.parametrize(
    "block",
    [b for p in PAGES for b in p.blocks if b.skip is None and b.language != "python"],
    ids=lambda b: b.name,
)
def test_shell_block_runs(
    block: code_blocks.Block, cli_server: MockServer, tmp_path: pathlib.Path
) -> None:
    env = _shell_env(cli_server, tmp_path)
    work = tmp_path / "work"
    work.mkdir()

    def bash(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=100,
        )

    if block.language in code_blocks.SHELL_LANGUAGES:
        result = bash(block.code)
        assert result.returncode == 0, f"{block.name}:\n{result.stdout}\n{result.stderr}"
        return
    steps = _console(block.code)
    assert steps, f"{block.name}: a console block shows `$ command` lines"
    for command, shown in steps:
        result = bash(command + " 2>&1 || true")
        printed = result.stdout.splitlines()
        assert len(printed) == len(shown), f"{block.name}: {command}\n{result.stdout}"
        for want, got in zip(shown, printed, strict=True):
            assert _matches(want, got), f"{block.name}: {want!r} vs {got!r}"
