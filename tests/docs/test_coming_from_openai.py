"""docs/coming-from-openai.md: its examples run as written, against the embedded server.

Each runs in a fresh interpreter (the install example changes the import system),
with OPENAI_API_KEY and OPENAI_BASE_URL pointing at a MockServer on 127.0.0.1.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from oxide_io.testing import Fail, MockServer

GUIDE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "coming-from-openai.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def _run(code: str, server: MockServer, tmp_path: pathlib.Path) -> str:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-guide",
        "OPENAI_BASE_URL": server.base_url,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_guide_has_its_six_examples() -> None:
    assert len(_blocks()) == 6


def test_one_line_change_example(tmp_path: pathlib.Path) -> None:
    with MockServer(api_key="sk-guide") as server:
        server.reply_text = "This is a test"
        assert _run(_blocks()[0], server, tmp_path) == "This is a test\n"
        server.enqueue(Fail(429, retry_after=0), Fail(429, retry_after=0), Fail(429))
        assert _run(_blocks()[0], server, tmp_path) == "rate limited: 429\n"


def test_module_level_client_example(tmp_path: pathlib.Path) -> None:
    code = _blocks()[1].replace('openai.api_key = "sk-..."', 'openai.api_key = "sk-guide"')
    with MockServer(api_key="sk-guide") as server:
        _run(code + "print(len(models.data) > 0)\n", server, tmp_path)
        assert server.requests[-1].path == "/v1/models"


@pytest.mark.parametrize("official", ["installed", "hidden"])
def test_install_example(tmp_path: pathlib.Path, official: str) -> None:
    (tmp_path / "some_library.py").write_text(
        "import openai\nCLIENT_CLASS = openai.OpenAI\n", encoding="utf-8"
    )
    hide = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'openai':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
    )
    code = (hide if official == "hidden" else "") + _blocks()[2]
    code += "print(some_library.CLIENT_CLASS is oxide_io.compat.OpenAI)\n"
    with MockServer() as server:
        assert _run(code, server, tmp_path) == "True\n"


def test_responses_websocket_lanes_example(tmp_path: pathlib.Path) -> None:
    with MockServer(api_key="sk-guide") as server:
        out = _run(_blocks()[3], server, tmp_path).splitlines()
        creates = [r for r in server.requests if r.http_version == "websocket"]
    # Each lane printed its own response's answer, news first as the code asks.
    assert len(out) == 2 and "Headlines?" in out[0] and "Rain?" in out[1]
    assert len(creates) == 2


def test_transcript_grouper_example(tmp_path: pathlib.Path) -> None:
    with MockServer(api_key="sk-guide") as server:
        out = _run(_blocks()[4], server, tmp_path)
    assert out.splitlines() == [
        "user Tell me",
        "user Tell me more",
        "closed: speaker_change",
        "assistant Here it is.",
        "closed: manual",
    ]


def test_agents_function_tool_example(tmp_path: pathlib.Path) -> None:
    with MockServer(api_key="sk-guide") as server:
        out = _run(_blocks()[5], server, tmp_path)
    assert out.splitlines() == [
        "['city']",
        '{"city":"Oslo","days":3,"sky":"clear"}',
        "OutputValidationError",
    ]
