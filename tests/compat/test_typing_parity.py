"""Type checkers see `oxide_io.compat` as precisely as `oxide_io` itself.

One small program is written twice, against `oxide_io.Client` / `AsyncClient`
and against `oxide_io.compat.OpenAI` / `AsyncOpenAI`, with a `reveal_type()` of
each call's result; `mypy --strict` (and pyright, when it runs here) must accept
both and reveal the same, precise type for each line: a `ChatCompletion`, a
`Stream[ChatCompletionChunk]` for `stream=True`, never `Any`. The generic
`client.get/post/patch/put/delete(path, cast_to=...)` reveal the `cast_to` class
(or the stream `stream_cls` names), `client.webhooks.unwrap()` the union of the
webhook events, as the official SDK types them.

`import openai` after `oxide_io.compat.install()` is a runtime redirection: a type
checker resolves `openai` to the official package's own annotations, so code that
spells `import openai` is checked against the official SDK, not against oxide.
Only code that imports `oxide_io.compat` (e.g. `import oxide_io.compat as openai`)
is checked against oxide's types, which is what this test covers.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(600)

_AUDIO = 'file=("memo.mp3", b"..."), model="whisper-1"'
# (expression, the type every checker must reveal, as a regex over its spelling)
CALLS: list[tuple[str, str]] = [
    (
        'client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])',
        r"ChatCompletion",
    ),
    (
        'client.chat.completions.create(model="m", messages=[], stream=True)',
        r"Stream\[.*ChatCompletionChunk\]",
    ),
    ('client.responses.create(model="m", input="hi")', r"Response"),
    ('client.responses.create(model="m", input="hi", stream=True)', r"Stream\[.*\]"),
    ('client.embeddings.create(model="m", input="hi")', r"CreateEmbeddingResponse"),
    ('client.files.create(file=("a.txt", b"a"), purpose="user_data")', r"FileObject"),
    ("client.models.list()", r"Page\[.*Model\]"),
    ('client.models.retrieve("m")', r"Model"),
    (
        'client.chat.completions.parse(model="m", messages=[], response_format=Plan)',
        r"ParsedChatCompletion\[.*Plan\]",
    ),
    (
        'client.responses.parse(model="m", input="hi", text_format=Plan)',
        r"ParsedResponse\[.*Plan\]",
    ),
    (
        'client.chat.completions.with_raw_response.create(model="m", messages=[])',
        r"RawResponse\[.*ChatCompletion\]",
    ),
    ('client.moderations.create(input="hi")', r"ModerationCreateResponse"),
    ('client.images.generate(prompt="a cat")', r"ImagesResponse"),
    (
        'client.responses.parse(model="m", input="hi", text_format=Plan, parse_as=Plan)',
        r"ParsedResponse\[.*Plan\]",
    ),
    ('client.responses.parse(model="m", input="hi", parse_as=Plan)', r"ParsedResponse\[.*Plan\]"),
    # The result type follows `response_format`, as the official overloads have it.
    (f"client.audio.transcriptions.create({_AUDIO})", r"\bCreateTranscriptionResponseJson$"),
    *[
        (
            f'client.audio.transcriptions.create({_AUDIO}, response_format="{fmt}")',
            pattern,
        )
        for fmt, pattern in [
            ("json", r"\bCreateTranscriptionResponseJson$"),
            ("verbose_json", r"\bCreateTranscriptionResponseVerboseJson$"),
            ("diarized_json", r"\bCreateTranscriptionResponseDiarizedJson$"),
            ("text", r"^(builtins\.)?str$"),
            ("srt", r"^(builtins\.)?str$"),
            ("vtt", r"^(builtins\.)?str$"),
        ]
    ],
    (
        f"client.audio.transcriptions.create({_AUDIO}, stream=True)",
        r"Stream\[.*TranscriptTextDeltaEvent.*\]",
    ),
    (f"client.audio.translations.create({_AUDIO})", r"\bCreateTranslationResponseJson$"),
    *[
        (f'client.audio.translations.create({_AUDIO}, response_format="{fmt}")', pattern)
        for fmt, pattern in [
            ("json", r"\bCreateTranslationResponseJson$"),
            ("verbose_json", r"\bCreateTranslationResponseVerboseJson$"),
            ("text", r"^(builtins\.)?str$"),
            ("srt", r"^(builtins\.)?str$"),
            ("vtt", r"^(builtins\.)?str$"),
        ]
    ],
    ('client.get("/models/m", cast_to=Model)', r"\bModel$"),
    ('client.get("/models", cast_to=object)', r"^(builtins\.)?object$"),
    ('client.get("/files/f/content", cast_to=str)', r"^(builtins\.)?str$"),
    (
        'client.get("/chat/completions", cast_to=ChatCompletionChunk, stream=True)',
        r"^(oxide_io\._sync\._sse_stream\.)?Stream\[.*ChatCompletionChunk\]$",
    ),
    ('client.post("/chat/completions", cast_to=ChatCompletion, body={})', r"\bChatCompletion$"),
    (
        'client.post("/chat/completions", cast_to=ChatCompletion, body={}, stream=True,'
        " stream_cls=Stream[ChatCompletionChunk])",
        r"^(oxide_io\._sync\._sse_stream\.)?Stream\[.*ChatCompletionChunk\]$",
    ),
    ('client.patch("/models/m", cast_to=Model, body={})', r"\bModel$"),
    ('client.put("/models/m", cast_to=Model, body={})', r"\bModel$"),
    ('client.delete("/models/m", cast_to=type(None))', r"^None$"),
    (
        'client.webhooks.unwrap("{}", {})',
        r"WebhookBatchCompleted\b.*\bWebhookResponseIncomplete\b.*\bUnknownModel\b",
    ),
]
ASYNC_CALLS: list[tuple[str, str]] = [
    (
        'await client.chat.completions.create(model="m", messages=[])',
        r"ChatCompletion",
    ),
    (
        'await client.chat.completions.create(model="m", messages=[], stream=True)',
        r"AsyncStream\[.*ChatCompletionChunk\]",
    ),
    ('await client.responses.create(model="m", input="hi")', r"Response"),
    (
        f'await client.audio.transcriptions.create({_AUDIO}, response_format="verbose_json")',
        r"\bCreateTranscriptionResponseVerboseJson$",
    ),
    (
        f'await client.audio.translations.create({_AUDIO}, response_format="srt")',
        r"^(builtins\.)?str$",
    ),
    ('await client.get("/models/m", cast_to=Model)', r"\bModel$"),
    (
        'await client.post("/chat/completions", cast_to=ChatCompletion, body={}, stream=True,'
        " stream_cls=AsyncStream[ChatCompletionChunk])",
        r"^(oxide_io\._async\._sse_stream\.)?AsyncStream\[.*ChatCompletionChunk\]$",
    ),
    ('await client.delete("/models/m", cast_to=Model)', r"\bModel$"),
    (
        'client.webhooks.unwrap("{}", {})',
        r"WebhookBatchCompleted\b.*\bWebhookResponseIncomplete\b.*\bUnknownModel\b",
    ),
]


def _program(sync_client: str, async_client: str, imports: str) -> str:
    lines = [
        "from __future__ import annotations",
        "import dataclasses",
        imports,
        # The classes the generic methods are given, the same in both programs.
        "from oxide_io import AsyncStream, Stream",
        "from oxide_proto.types import ChatCompletion, ChatCompletionChunk, Model",
        "",
        "@dataclasses.dataclass",
        "class Plan:",
        "    city: str",
        "",
        "def blocking() -> None:",
        f'    client = {sync_client}(api_key="k")',
    ]
    lines += [f"    reveal_type({call})" for call, _ in CALLS]
    lines += ["", "async def concurrent() -> None:", f'    client = {async_client}(api_key="k")']
    lines += [f"    reveal_type({call})" for call, _ in ASYNC_CALLS]
    return "\n".join(lines) + "\n"


PROGRAMS = {
    "oxide_io": _program("Client", "AsyncClient", "from oxide_io import AsyncClient, Client"),
    "compat": _program("openai.OpenAI", "openai.AsyncOpenAI", "import oxide_io.compat as openai"),
}
EXPECTED = [pattern for _, pattern in CALLS + ASYNC_CALLS]


def _write(tmp_path: pathlib.Path) -> dict[str, pathlib.Path]:
    paths = {}
    for name, text in PROGRAMS.items():
        path = tmp_path / f"program_{name}.py"
        path.write_text(text)
        paths[name] = path
    return paths


def _check_reveals(reveals: dict[str, list[str]]) -> None:
    # The programs' own `Plan` classes live in differently named modules.
    reveals = {k: [re.sub(r"program_\w+\.", "", r) for r in v] for k, v in reveals.items()}
    assert reveals["compat"] == reveals["oxide_io"]
    assert len(reveals["oxide_io"]) == len(EXPECTED)
    for revealed, pattern in zip(reveals["oxide_io"], EXPECTED, strict=True):
        assert not re.search(r"\bAny\b", revealed), revealed
        assert re.search(pattern, revealed), (pattern, revealed)


def test_mypy_strict_reveals_the_same_precise_types(tmp_path: pathlib.Path) -> None:
    paths = _write(tmp_path)
    reveals: dict[str, list[str]] = {}
    for name, path in paths.items():
        done = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
            capture_output=True,
            text=True,
            timeout=540,
        )
        lines = done.stdout.splitlines()
        errors = [line for line in lines if ": error:" in line]
        assert errors == [], "\n".join(errors)
        reveals[name] = [
            m.group(1) for line in lines if (m := re.search(r'Revealed type is "(.*)"', line))
        ]
    _check_reveals(reveals)


def test_pyright_reveals_the_same_precise_types(tmp_path: pathlib.Path) -> None:
    pyright = shutil.which("pyright", path=str(pathlib.Path(sys.executable).parent))
    if pyright is None:
        pytest.skip("pyright is not installed")
    paths = _write(tmp_path)
    reveals: dict[str, list[str]] = {}
    for name, path in paths.items():
        done = subprocess.run(
            [pyright, "--pythonpath", sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=540,
            cwd=tmp_path,
        )
        lines = done.stdout.splitlines()
        if not any("informations" in line or "information" in line for line in lines):
            pytest.skip(f"pyright did not run here: {done.stdout[-300:]}{done.stderr[-300:]}")
        errors = [line for line in lines if " - error:" in line]
        assert errors == [], "\n".join(errors)
        reveals[name] = [
            m.group(1) for line in lines if (m := re.search(r'Type of ".*" is "(.*)"', line))
        ]
    _check_reveals(reveals)
