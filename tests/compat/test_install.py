"""`oxide_io.compat.install()`: `import openai` gives oxide, for code one does not own.

Each case runs in a fresh interpreter, since installing changes the import system
of the whole process. A small "third-party library" module that does `import openai`
internally runs against oxide's MockServer on 127.0.0.1, with the official package
installed and with it hidden (as if not installed).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

LIBRARY = '''
"""A library written for the official SDK; it knows nothing of oxide."""
import openai
from openai import OpenAI
from openai.types.chat import ChatCompletion
from openai.types.chat.chat_completion import Choice
from openai._types import NOT_GIVEN


def make_client(base_url, api_key):
    return OpenAI(api_key=api_key, base_url=base_url, max_retries=0)


def chat(client):
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], top_p=NOT_GIVEN
    )
    return isinstance(reply, ChatCompletion) and isinstance(reply.choices[0], Choice)


def list_models(client):
    try:
        client.models.list()
    except openai.RateLimitError as exc:
        return f"rate limited: {exc.status_code}"
    return "listed"
'''

# Hides the official package from the import system, as if it were not installed.
HIDE_OFFICIAL = """
class _Hide:
    def find_spec(self, name, path, target=None):
        if name == "openai" or name.startswith("openai."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Hide())
try:
    import openai
    raise SystemExit("the official package should be hidden")
except ModuleNotFoundError:
    pass
"""

SCENARIO = """
import json, sys
{setup}
import oxide_io.compat
oxide_io.compat.install()
oxide_io.compat.install()  # a second call changes nothing
from oxide_io.testing import MockServer, Fail
import thirdparty_lib
import openai
with MockServer() as server:
    client = thirdparty_lib.make_client(server.base_url, "sk-test")
    typed = thirdparty_lib.chat(client)
    server.enqueue(Fail(429, retry_after=0))
    limited = thirdparty_lib.list_models(client)
    client.close()
from openai.types.responses import ResponseTextDeltaEvent
print(json.dumps({{
    "typed": typed,
    "limited": limited,
    "client": type(client).__module__ + "." + type(client).__name__,
    "same": openai is oxide_io.compat,
    "types": openai.types.__name__,
    "event": ResponseTextDeltaEvent.__module__,
}}))
"""


def _run(code: str, tmp_path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "thirdparty_lib.py").write_text(LIBRARY, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )


@pytest.mark.parametrize("official", ["installed", "hidden"])
def test_a_library_importing_openai_runs_on_oxide(tmp_path: pathlib.Path, official: str) -> None:
    setup = HIDE_OFFICIAL if official == "hidden" else ""
    done = _run(SCENARIO.format(setup=setup), tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "typed": True,
        "limited": "rate limited: 429",
        "client": "oxide_io.compat._clients.OpenAI",
        "same": True,
        "types": "oxide_io.compat.types",
        "event": "oxide_proto.types.responses",
    }


def test_official_package_already_imported_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    code = """
import openai
import oxide_io.compat
try:
    oxide_io.compat.install()
except RuntimeError as exc:
    print("refused:", exc)
print("official still in place:", "site-packages" in openai.__file__)
"""
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "refused: the official openai package is already imported" in done.stdout
    assert "official still in place: True" in done.stdout


def test_uninstall_gives_the_official_package_back(tmp_path: pathlib.Path) -> None:
    code = """
import sys
import oxide_io.compat
oxide_io.compat.install()
import openai.types.chat
assert openai is oxide_io.compat
oxide_io.compat.uninstall()
assert not any(n == "openai" or n.startswith("openai.") for n in sys.modules)
import openai
print("official:", "site-packages" in openai.__file__)
print("compat intact:", oxide_io.compat.types.chat.__name__)
"""
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "official: True" in done.stdout
    assert "compat intact: oxide_io.compat.types.chat" in done.stdout


def test_only_known_paths_are_aliased(tmp_path: pathlib.Path) -> None:
    code = """
import oxide_io.compat
oxide_io.compat.install()
for name in ("openai.lib._uploads", "openai.types.no_such_module", "openai.resources"):
    try:
        __import__(name)
        print("imported", name)
    except ModuleNotFoundError as exc:
        print("missing", exc.name)
from openai.pagination import SyncCursorPage
from openai._exceptions import RateLimitError
import oxide_io
print(SyncCursorPage is oxide_io.SyncPage, RateLimitError is oxide_io.RateLimitError)
"""
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "missing openai.lib._uploads",  # openai.lib is there, for the helpers oxide has
        "missing openai.types.no_such_module",
        "missing openai.resources",
    ]
    assert lines[3] == "True True"


def test_install_is_never_automatic(tmp_path: pathlib.Path) -> None:
    code = """
import oxide_io, oxide_io.compat, oxide_io.compat.types.chat
import openai
print("site-packages" in openai.__file__, oxide_io.compat._modules.installed())
"""
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


PROVIDERS = """
import oxide_io.compat, oxide_io.providers
oxide_io.compat.install()
from openai.lib.bedrock import AsyncBedrockOpenAI, BedrockOpenAI, AwsCredentialsProvider
from openai.providers import bedrock, vertex
from openai.providers.bedrock import BedrockTokenProvider
from openai.providers.vertex import VertexTokenProvider
import openai
assert bedrock is oxide_io.providers.bedrock is openai.providers.bedrock
assert vertex is oxide_io.providers.vertex
assert BedrockOpenAI is openai.BedrockOpenAI is oxide_io.compat.BedrockOpenAI
assert AsyncBedrockOpenAI is oxide_io.compat.AsyncBedrockOpenAI
print("ok")
"""


def test_installed_openai_serves_the_cloud_providers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROVIDERS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
