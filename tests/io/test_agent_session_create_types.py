"""What a type checker sees of `beta.agents.sessions.create()`, as the official SDK's
overloads type it.

One mypy run over a small program: without `stream` the result is an `AgentSession`;
with `stream=True` it is the agent event stream, generic in `output_type`, whose
`get_final_result()` is a turn result of that type; both clients. `reveal_type` lines
are compared with what mypy says, and the program must have no error.
"""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

PROGRAM = """\
from dataclasses import dataclass

from oxide_io import AsyncClient, Client


@dataclass
class Total:
    total: int


def blocking(client: Client) -> None:
    sessions = client.beta.agents.sessions
    reveal_type(sessions.create(environment={"type": "none"}, output_type=Total))
    stream = sessions.create(
        environment={"type": "none"},
        input="add",
        stream=True,
        output_type=Total,
        tool_handlers={"add": lambda args: args},
    )
    reveal_type(stream)
    reveal_type(stream.get_final_result().output_parsed)
    for event in stream:
        pass


async def asynchronous(client: AsyncClient) -> None:
    sessions = client.beta.agents.sessions
    reveal_type(await sessions.create(environment={"type": "none"}))
    stream = await sessions.create(environment={"type": "none"}, stream=True, output_type=Total)
    reveal_type(stream)
    reveal_type((await stream.get_final_result()).output_parsed)
    async for event in stream:
        pass
"""

SESSION = "oxide_proto.types.agents.AgentSession"
EXPECTED = [
    SESSION,
    "oxide_io._sync._agent_stream.SyncAgentSessionEventStream[program.Total]",
    "program.Total | None",
    SESSION,
    "oxide_io._async._agent_stream.AsyncAgentSessionEventStream[program.Total]",
    "program.Total | None",
]


@pytest.mark.timeout(600)
def test_create_is_typed_by_stream_and_output_type(tmp_path: pathlib.Path) -> None:
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
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert errors == []
    revealed = re.findall(r'note: Revealed type is "(.*)"', stdout)
    assert revealed == EXPECTED
