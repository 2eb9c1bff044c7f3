"""What a type checker sees of `with_raw_response` and `with_streaming_response`.

One mypy run over a small program: `parse()` of a raw response is the method's
own result type (`ChatCompletion`, a stream for `stream=True`, a page for a list
method, the binary answer for a download) on both clients, as the official SDK
types it; a streamed response's `parse()` too. `reveal_type` lines are compared
with what mypy says, and the program must have no error.
"""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

PROGRAM = """\
from oxide_io import AsyncClient, Client


def blocking(client: Client) -> None:
    raw = client.chat.completions.with_raw_response.create(model="m", messages=[])
    reveal_type(raw)
    reveal_type(raw.parse())
    reveal_type(raw.parse(to=dict))
    reveal_type(raw.retries_taken)
    streamed = client.chat.completions.with_raw_response.create(
        model="m", messages=[], stream=True
    )
    reveal_type(streamed.parse())
    reveal_type(client.models.with_raw_response.list().parse())
    reveal_type(client.files.with_raw_response.content("file-1").parse())
    with client.chat.completions.with_streaming_response.create(model="m", messages=[]) as r:
        reveal_type(r.parse())


async def asynchronous(client: AsyncClient) -> None:
    raw = await client.chat.completions.with_raw_response.create(model="m", messages=[])
    reveal_type(raw)
    reveal_type(raw.parse())
    reveal_type((await client.models.with_raw_response.list()).parse())
    async with client.chat.completions.with_streaming_response.create(
        model="m", messages=[]
    ) as r:
        reveal_type(await r.parse())
"""

CHAT = "oxide_proto.types.chat"
EXPECTED = [
    f"oxide_io._sync._api_client.RawResponse[{CHAT}.ChatCompletion]",
    f"{CHAT}.ChatCompletion",
    "dict[Any, Any]",
    "int",
    f"oxide_io._sync._sse_stream.Stream[{CHAT}.ChatCompletionChunk]",
    "oxide_io._sync._page.SyncPage[oxide_proto.types.models.Model]",
    "oxide_io._sync._binary_response.BinaryResponseContent",
    f"{CHAT}.ChatCompletion",
    f"oxide_io._async._api_client.AsyncRawResponse[{CHAT}.ChatCompletion]",
    f"{CHAT}.ChatCompletion",
    "oxide_io._async._page.AsyncPage[oxide_proto.types.models.Model]",
    f"{CHAT}.ChatCompletion",
]


@pytest.mark.timeout(600)
def test_raw_and_streamed_responses_are_typed_per_method(
    tmp_path: pathlib.Path,
) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    program = tmp_path / "program.py"
    program.write_text(PROGRAM, encoding="utf-8")
    stdout, stderr, _ = mypy_api.run(
        [
            str(program),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--hide-error-context",
        ]
    )
    assert stderr == ""
    revealed = re.findall(r'note: Revealed type is "(.*)"', stdout)
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert errors == []
    assert revealed == EXPECTED
