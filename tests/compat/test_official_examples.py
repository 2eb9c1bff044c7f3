"""The official SDK's README code blocks and `examples/` scripts, run on oxide.

Each program is the official source with its `openai` imports changed to
`oxide_io.compat` (the one-line change a user makes), run in a fresh interpreter
against oxide's MockServer on 127.0.0.1 (OPENAI_API_KEY / OPENAI_BASE_URL point at
it). The SDK's sdist is downloaded at test time into ~/.cache/oxide-tests (or
$XDG_CACHE_HOME), never committed;
without network the test is skipped, except under CI=true where it fails.

Programs known not to run say why in KNOWN_FAILURES (a missing oxide feature, an
endpoint the MockServer does not serve, a real microphone, ...). A known failure
that starts to run, or a program not listed that fails, fails the test, so the list
stays true. `python -m tests.compat.test_official_examples DIR` prints the outcome of
every program for an unpacked sdist in DIR.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator

import pytest

from oxide_io.testing import MockServer

SDK = "openai==3.63.0"
TIMEOUT = 60.0
PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps")

_FRAGMENT = "a fragment: uses names (`client`, ...) that another block defines"
_HTTPX = "builds an httpx/aiohttp client: oxide's transport takes none (by design)"
# The official SDK reads no OPENAI_MTLS_* variable: these programs load the
# certificate into an SSLContext themselves and hand it to an httpx client.
_MTLS = "reads its client certificate from OPENAI_MTLS_* (unset here) for an httpx client"
_LIB = "imports openai.lib.{} (the official hand-written helpers): not in oxide"


def _endpoint(path: str) -> str:
    return f"MockServer does not serve {path}"


# program id -> why it does not run on oxide + MockServer.
KNOWN_FAILURES: dict[str, str] = {
    "README#2": (
        "reads a Kubernetes service account token file that is not there, and would"
        " exchange it at the API's token endpoint"
    ),
    "README#7": _MTLS + " (X.509 workload identity: not in oxide)",
    "README#8": _FRAGMENT,
    "README#9": "reads path/to/image.png, a placeholder path",
    "README#11": _HTTPX,
    "README#16": _FRAGMENT + " (and awaits at top level)",
    "README#17": _FRAGMENT + " (and awaits at top level)",
    "README#19": "reads input.jsonl, a placeholder path",
    "README#20": _FRAGMENT,
    "README#21": "needs flask, not installed here",
    "README#22": "needs flask, not installed here",
    "README#24": _FRAGMENT + " (and awaits at top level)",
    "README#25": _FRAGMENT + " (and awaits at top level)",
    "README#28": _FRAGMENT,
    "README#29": _HTTPX,
    "README#30": _FRAGMENT,
    "README#31": _MTLS,
    "README#32": _MTLS,
    "examples/azure.py": "Azure: needs OPENAI_API_VERSION and an Azure endpoint",
    "examples/azure_ad.py": _LIB.format("azure") + " (and azure-identity)",
    "examples/bedrock.py": "Amazon Bedrock provider (openai.providers): not in oxide",
    "examples/bedrock_runtime.py": "Amazon Bedrock provider (openai.providers): not in oxide",
    "examples/httpx2_client.py": _HTTPX,
    "examples/mtls_httpx.py": _MTLS,
    "examples/mtls_httpx2.py": _MTLS,
    "examples/mtls_httpx2_async.py": _MTLS,
    "examples/mtls_httpx_async.py": _MTLS,
    "examples/responses_websocket.py": _LIB.format("responses_websocket"),
    "examples/speech_to_text.py": "openai.helpers.Microphone: needs real audio; not in oxide",
    "examples/uploads.py": "a command-line tool: needs a file argument",
    "examples/realtime/azure_realtime.py": "needs azure-identity, not installed here",
    "examples/realtime/push_to_talk_app.py": "needs textual and a microphone",
    "examples/realtime/realtime.py": "reads the messages it sends from a terminal (stdin is empty)",
    "examples/live/audio_transcript.py": _LIB.format("live"),
    "examples/live/transcript_grouper.py": _LIB.format("live"),
}

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


def run(source: str, cwd: pathlib.Path, base_url: str) -> tuple[bool, str]:
    """Runs one program; (ran cleanly, the last line of its error output)."""
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-example",
        "OPENAI_BASE_URL": base_url,
        "PYTHONPATH": os.pathsep.join([str(cwd), *sys.path]),
    }
    for name in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_TYPE"):
        env.pop(name, None)
    try:
        done = subprocess.run(
            [sys.executable, "-c", source],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
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
        converted, _ = to_oxide(source)
        cwd = root if program.startswith("README") else (root / program).parent
        return program, run(converted, cwd, base_url)

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


@pytest.mark.timeout(900)  # 64 programs, each a fresh interpreter, each bounded by TIMEOUT
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


if __name__ == "__main__":
    root = pathlib.Path(sys.argv[1])
    with MockServer() as server:
        for program, (ok, why) in outcomes(root, server.base_url).items():
            print(f"{'ok  ' if ok else 'FAIL'} {program}: {why}")
