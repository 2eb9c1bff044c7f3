"""The official SDK's README code blocks and `examples/` scripts, run on oxide.

Each program is the official source with its `openai` imports changed to
`oxide_io.compat` (the one-line change a user makes), run in a fresh interpreter
against oxide's MockServer on 127.0.0.1 (OPENAI_API_KEY / OPENAI_BASE_URL point at
it). The SDK's sdist is downloaded at test time into ~/.cache/oxide-tests (or
$XDG_CACHE_HOME), never committed;
without network the test is skipped, except under CI=true where it fails.

Some programs are run the way their own text says to run them (`INVOCATIONS`):
a command-line tool gets its arguments, an interactive one its typed lines, the
Azure and Bedrock examples their environment, a placeholder path a real file, and a README
fragment the client an earlier block made (an `await` at top level runs in an
event loop, as in the notebook or REPL the README writes for).

Programs known not to run say why in KNOWN_FAILURES (a missing oxide feature, an
httpx object, a real microphone, ...). A known failure that starts to run, or a
program not listed that fails, fails the test, so the list stays true.
`python -m tests.compat.test_official_examples DIR` prints the outcome of every
program for an unpacked sdist in DIR.
"""

from __future__ import annotations

import base64
import concurrent.futures
import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping

import pytest

from oxide_io.testing import MockServer

SDK = "openai==3.63.0"
TIMEOUT = 60.0
PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps")

_FRAGMENT = "a fragment: uses names (`client`, ...) that another block defines"
_HTTPX = "builds an httpx/aiohttp client: oxide's transport takes none (by design)"
# The official SDK reads no OPENAI_MTLS_* variable: these programs load the
# certificate into an SSLContext themselves and hand it to an httpx client.
_MTLS = (
    "loads a client certificate from OPENAI_MTLS_* (unset here) into an SSLContext for"
    " an httpx client (DefaultHttpx*Client(verify=context)); oxide takes the same"
    " context as the client's own verify= instead"
)


# program id -> why it does not run on oxide + MockServer.
KNOWN_FAILURES: dict[str, str] = {
    "README#2": (
        "reads a Kubernetes service account token file that is not there, and would"
        " exchange it at the API's token endpoint"
    ),
    "README#7": _MTLS,
    "README#11": _HTTPX,
    "README#17": (
        "reads `first_page.after`, which the official SDK's page has not either"
        " (AttributeError there too)"
    ),
    "README#29": _HTTPX,
    "README#30": _FRAGMENT + " (and an httpx client: " + _HTTPX + ")",
    "README#31": _MTLS,
    "README#32": _MTLS,
    "examples/azure_ad.py": (
        "an Azure resource's settings (OPENAI_API_VERSION, ...) and a sign-in with"
        " azure-identity's DefaultAzureCredential: not installed here, and it needs an"
        " Azure AD identity (openai.lib.azure itself is served)"
    ),
    "examples/httpx2_client.py": _HTTPX,
    "examples/mtls_httpx.py": _MTLS,
    "examples/mtls_httpx2.py": _MTLS,
    "examples/mtls_httpx2_async.py": _MTLS,
    "examples/mtls_httpx_async.py": _MTLS,
    "examples/realtime/azure_realtime.py": "needs azure-identity, not installed here",
    "examples/realtime/push_to_talk_app.py": "needs textual and a microphone",
}


@dataclasses.dataclass(frozen=True)
class Invocation:
    """How to run a program whose source alone is not all it needs.

    `args` and `stdin` as its own text says to run it ("{scratch}" is a fresh
    folder holding `files`); `env` added to the environment ("{origin}" is the
    server's scheme://host:port); `prelude`, official-SDK code put before a README
    fragment (the client an earlier block made); `postlude`, code put after the
    program that exercises what it defined (a web app's routes) and fails it when
    they answer wrong; `top_level_await`, run in an event loop like a notebook
    cell; `files`, placeholder path -> a file of the sdist to copy there, or its
    bytes (README blocks then run in that folder).
    """

    args: tuple[str, ...] = ()
    stdin: str = ""
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    prelude: str = ""
    postlude: str = ""
    top_level_await: bool = False
    files: Mapping[str, str | bytes] = dataclasses.field(default_factory=dict)


_CLIENT = "from openai import OpenAI\n\nclient = OpenAI()\n"
_ASYNC_CLIENT = "from openai import AsyncOpenAI\n\nclient = AsyncOpenAI()\n"
_FINE_TUNE_LINE = (
    b'{"messages": [{"role": "user", "content": "Hi"},'
    b' {"role": "assistant", "content": "Hello"}]}\n'
)
# The size examples/generate_file.sh is told to make in uploads.py's own instructions.
_UPLOAD_SIZE = 1_048_576

# The README's webhook receivers are Flask apps that serve on port 8000 when run as
# the main program. A shared machine may have that port taken, so the app is loaded
# under another name (its `app.run()` is left out) and its route is called through
# Flask's test client: a webhook signed with OPENAI_WEBHOOK_SECRET is taken ("ok"),
# the same body with another signature refused (400).
_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"oxide-example-webhook-secret").decode()
_WEBHOOK_APP = Invocation(
    env={"OPENAI_WEBHOOK_SECRET": _WEBHOOK_SECRET},
    prelude='__name__ = "webhook_receiver"\n',
    postlude="""
import base64 as _b64, hashlib as _hashlib, hmac as _hmac, json as _json, os as _os, time as _time

_body = _json.dumps({
    "id": "evt_1", "object": "event", "type": "response.completed",
    "created_at": int(_time.time()), "data": {"id": "resp_1"},
})
_stamp = str(int(_time.time()))
_key = _b64.b64decode(_os.environ["OPENAI_WEBHOOK_SECRET"].removeprefix("whsec_"))
_mac = _hmac.new(_key, f"evt_1.{_stamp}.{_body}".encode(), _hashlib.sha256).digest()
_headers = {"webhook-id": "evt_1", "webhook-timestamp": _stamp, "content-type": "application/json"}
_signed = {**_headers, "webhook-signature": "v1," + _b64.b64encode(_mac).decode()}
_web = app.test_client()
_good = _web.post("/webhook", data=_body, headers=_signed)
assert (_good.status_code, _good.data) == (200, b"ok"), (_good.status_code, _good.data)
_bad = _web.post("/webhook", data=_body, headers={**_headers, "webhook-signature": "v1,AAAA"})
assert _bad.status_code == 400, (_bad.status_code, _bad.data)
""",
)

INVOCATIONS: dict[str, Invocation] = {
    "README#8": Invocation(prelude=_CLIENT),
    "README#9": Invocation(files={"path/to/image.png": "examples/picture.png"}),
    "README#16": Invocation(prelude=_ASYNC_CLIENT, top_level_await=True),
    "README#17": Invocation(prelude=_ASYNC_CLIENT, top_level_await=True),
    "README#19": Invocation(files={"input.jsonl": _FINE_TUNE_LINE * 10}),
    "README#20": Invocation(
        prelude=_CLIENT + "audio_bytes = open('speech.wav', 'rb').read()\n",
        files={"speech.wav": "examples/realtime/speech.wav"},
    ),
    "README#21": _WEBHOOK_APP,
    "README#22": _WEBHOOK_APP,
    "README#24": Invocation(prelude=_ASYNC_CLIENT, top_level_await=True),
    "README#25": Invocation(prelude=_ASYNC_CLIENT, top_level_await=True),
    "README#28": Invocation(prelude=_CLIENT),
    "examples/azure.py": Invocation(
        env={
            "OPENAI_API_VERSION": "2024-10-21",
            "AZURE_OPENAI_ENDPOINT": "{origin}",
            "AZURE_OPENAI_API_KEY": "sk-example",
            "AZURE_OPENAI_DEPLOYMENT_NAME": "gpt-4o-mini",
        }
    ),
    # Amazon Bedrock, with the server standing for the endpoint (AWS_BEDROCK_BASE_URL):
    # a bearer token from the environment, and SigV4 with the environment's AWS keys.
    "examples/bedrock.py": Invocation(
        env={
            "AWS_REGION": "us-west-2",
            "AWS_BEDROCK_BASE_URL": "{origin}/v1",
            "AWS_BEARER_TOKEN_BEDROCK": "bedrock-example-token",
            "BEDROCK_RESPONSES_MODEL": "gpt-4o-mini",
        }
    ),
    "examples/bedrock_runtime.py": Invocation(
        env={
            "AWS_REGION": "us-west-2",
            "AWS_BEDROCK_BASE_URL": "{origin}/v1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "BEDROCK_MODEL": "gpt-4o-mini",
        }
    ),
    # With a file it transcribes that file; without one it records the microphone.
    "examples/speech_to_text.py": Invocation(args=("realtime/speech.wav",)),
    "examples/uploads.py": Invocation(
        args=("{scratch}/big_test_file.txt", "disk", "--verify-and-delete"),
        files={"big_test_file.txt": bytes(_UPLOAD_SIZE)},
    ),
    "examples/realtime/realtime.py": Invocation(stdin="Say hello\nq\n"),
    # A WAV file streamed to a Live session in real time (about 20 s with its listening).
    "examples/live/audio_transcript.py": Invocation(args=("../realtime/speech.wav",)),
    # Not over the sdist's own speech.wav, which other programs read.
    "examples/realtime/speech.py": Invocation(args=("--output", "{scratch}/speech.wav")),
}

# Runs a program given as argv[1] with `await` allowed at top level.
_AWAIT_RUNNER = (
    "import ast, asyncio, sys\n"
    "code = compile(sys.argv.pop(1), '<block>', 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)\n"
    "pending = eval(code, {'__name__': '__main__'})\n"
    "if pending is not None:\n"
    "    asyncio.run(pending)\n"
)

_IMPORT = re.compile(r"^(\s*)(from\s+openai(?=[\s.])|import\s+openai\b)(.*)$", re.MULTILINE)


def to_oxide(source: str) -> tuple[str, int]:
    """`source` with its openai imports pointed at oxide_io.compat; and how many changed."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        indent, head, rest = match.groups()
        if head.startswith("from"):
            return f"{indent}from oxide_io.compat{rest}"
        # `import openai` / `import openai.types.x as y`: bind the same names.
        if rest.startswith("."):
            dotted, _, alias = rest.partition(" as ")
            target = f"oxide_io.compat{dotted.strip()}"
            return f"{indent}import {target} as {alias.strip() or 'openai'}"
        alias = rest.partition(" as ")[2].strip() or "openai"
        return f"{indent}import oxide_io.compat as {alias}"

    return _IMPORT.sub(swap, source), count


def readme_blocks(readme: str) -> Iterator[tuple[str, str]]:
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", readme, re.DOTALL)):
        yield f"README#{index + 1}", block


def programs(root: pathlib.Path) -> Iterator[tuple[str, str]]:
    """(id, source) of the README's Python blocks and the example scripts."""
    yield from readme_blocks((root / "README.md").read_text(encoding="utf-8"))
    examples = root / "examples"
    for folder in ("", "responses", "realtime", "live"):
        for path in sorted((examples / folder).glob("*.py")):
            if path.name.startswith("test_") or path.name in ("__init__.py", "audio_util.py"):
                continue
            yield f"examples/{path.relative_to(examples).as_posix()}", path.read_text("utf-8")


def run(
    source: str,
    cwd: pathlib.Path,
    base_url: str,
    how: Invocation = Invocation(),
    sdist: pathlib.Path | None = None,
) -> tuple[bool, str]:
    """Runs one program; (ran cleanly, the last line of its error output)."""
    origin = base_url.removesuffix("/").removesuffix("/v1")
    with tempfile.TemporaryDirectory(prefix="oxide-example-") as scratch:
        for name, content in how.files.items():
            target = pathlib.Path(scratch, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                assert sdist is not None, "files copied from the sdist need its folder"
                shutil.copyfile(sdist / content, target)
        if how.files and not how.args:
            cwd = pathlib.Path(scratch)
        env = {
            **os.environ,
            "OPENAI_API_KEY": "sk-example",
            "OPENAI_BASE_URL": base_url,
            "PYTHONPATH": os.pathsep.join([str(cwd), *sys.path]),
        }
        for name in (
            "AZURE_OPENAI_API_KEY",
            "AZURE_OPENAI_ENDPOINT",
            "OPENAI_API_TYPE",
            "AWS_BEARER_TOKEN_BEDROCK",
            "AWS_PROFILE",
        ):
            env.pop(name, None)
        env.update({name: value.format(origin=origin) for name, value in how.env.items()})
        args = [arg.format(scratch=scratch) for arg in how.args]
        command = (
            [sys.executable, "-c", _AWAIT_RUNNER, source]
            if how.top_level_await
            else [sys.executable, "-c", source]
        )
        try:
            done = subprocess.run(
                [*command, *args],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                cwd=cwd,
                env=env,
                input=how.stdin,
            )
        except subprocess.TimeoutExpired:
            return False, f"did not finish in {TIMEOUT:.0f} s"
    if done.returncode == 0:
        return True, ""
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return False, lines[-1] if lines else f"exit status {done.returncode}"


def outcomes(root: pathlib.Path, base_url: str) -> dict[str, tuple[bool, str]]:
    def one(item: tuple[str, str]) -> tuple[str, tuple[bool, str]]:
        program, source = item
        how = INVOCATIONS.get(program, Invocation())
        converted, _ = to_oxide(how.prelude + source + how.postlude)
        cwd = root if program.startswith("README") else (root / program).parent
        return program, run(converted, cwd, base_url, how, root)

    # Two at a time: each program is mostly interpreter start-up.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, list(programs(root))))


def _cache() -> pathlib.Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    folder = pathlib.Path(root) / "oxide-tests" / "openai-sdist"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def sdist() -> pathlib.Path:
    folder = _cache()
    unpacked = folder / SDK.replace("==", "-")
    if not (unpacked / "README.md").exists():
        done = subprocess.run(
            [*PIP_DOWNLOAD, SDK, "-d", str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        archives = sorted(folder.glob("openai-*.tar.gz"))
        if done.returncode != 0 or not archives:
            reason = f"could not download the {SDK} sdist: {done.stderr.strip()[-300:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
        with tarfile.open(archives[-1]) as archive:
            if hasattr(tarfile, "data_filter"):  # refuses links and paths out of `folder`
                archive.extractall(folder, filter="data")
            else:  # pragma: no cover - Python releases before the filter existed
                archive.extractall(folder)
    return unpacked


def test_import_rewrite() -> None:
    source = "import openai\nfrom openai import OpenAI\n  from openai.types.chat import X\n"
    converted, count = to_oxide(source + "import openai_helpers\n")
    assert count == 3
    assert converted.splitlines() == [
        "import oxide_io.compat as openai",
        "from oxide_io.compat import OpenAI",
        "  from oxide_io.compat.types.chat import X",
        "import openai_helpers",
    ]


@pytest.mark.timeout(900)  # 74 programs, each a fresh interpreter, each bounded by TIMEOUT
def test_official_readme_and_examples_run_on_oxide(sdist: pathlib.Path) -> None:
    with MockServer() as server:
        results = outcomes(sdist, server.base_url)
    ran = sorted(program for program, (ok, _) in results.items() if ok)
    failed = {program: why for program, (ok, why) in results.items() if not ok}
    print(f"\n{len(ran)} of {len(results)} programs ran on oxide")
    for program, why in sorted(failed.items()):
        print(f"  {program}: {why}")
    unexpected = {p: why for p, why in failed.items() if p not in KNOWN_FAILURES}
    now_running = sorted(set(KNOWN_FAILURES) & set(ran))
    assert unexpected == {}
    assert now_running == []
    assert set(KNOWN_FAILURES) <= set(results)
    assert set(INVOCATIONS) <= set(results)


if __name__ == "__main__":
    root = pathlib.Path(sys.argv[1])
    with MockServer() as server:
        for program, (ok, why) in outcomes(root, server.base_url).items():
            print(f"{'ok  ' if ok else 'FAIL'} {program}: {why}")
