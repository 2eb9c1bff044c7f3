"""openai-oxide, a Rust-backed client for Python, as an optional peer in the report.

It installs on interpreters this project does not run on (CPython 3.9), so it
runs in an interpreter of its own (`--peer-python`, the python of a virtual
environment that has `openai-oxide`), in a child process, against the same local
server: its `openai_oxide.compat.AsyncOpenAI` makes the same non-streaming chat
call, checked against the same reply, in rounds timed with that process's CPU
clock (which counts the threads of its Rust runtime too). Its import time is
measured the same way as the others'. When the interpreter is not given, cannot
import the package or fails, the report says so and goes on without it.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from .client import _IMPORT_SNIPPET, API_KEY, EXPECTED, MODEL, PROMPT

__all__ = ["LABEL", "Peer", "PeerError"]

LABEL = "openai-oxide (Rust core)"

# Runs in the peer's interpreter: Python 3.9 syntax, nothing of oxide's imported.
# It ends with os._exit: the package's extension can crash at interpreter exit,
# after the figures are out.
_CALLS = """
import asyncio, json, os, sys, time
from openai_oxide.compat import AsyncOpenAI

base_url, key, model, prompt, expected, warmup, rounds, per_round = json.loads(sys.argv[1])


async def main():
    client = AsyncOpenAI(api_key=key, base_url=base_url)
    messages = [{"role": "user", "content": prompt}]

    async def call():
        reply = await client.chat.completions.create(model=model, messages=messages)
        text = reply.choices[0].message.content
        if text != expected:
            raise SystemExit("unexpected reply %r" % (text,))

    for _ in range(warmup):
        await call()
    cpu = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(per_round):
            await call()
        cpu.append((time.process_time() - start) / per_round)
    return cpu


print(json.dumps(asyncio.run(main())), flush=True)
os._exit(0)
"""


class PeerError(RuntimeError):
    """The peer could not be measured; the message says why, for the report."""


@dataclass(frozen=True)
class Peer:
    python: str  # the interpreter that has openai-oxide

    def _run(self, code: str, *args: str, timeout: float) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        try:
            done = subprocess.run(
                [self.python, "-c", code, *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PeerError(f"{self.python}: {exc}") from None
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise PeerError(f"{self.python}: {last}")
        return lines[-1]

    def version(self) -> str:
        """`openai-oxide X on Python Y`, or PeerError when it does not import."""
        code = (
            "import sys, importlib.metadata as m, openai_oxide; "
            "print(m.version('openai-oxide'), sys.version.split()[0])"
        )
        package, python = self._run(code, timeout=60).split()
        return f"{package} on Python {python}"

    def chat_calls(self, base_url: str, warmup: int, rounds: int, per_round: int) -> list[float]:
        """CPU seconds per chat call, one per round."""
        args = [base_url, API_KEY, MODEL, PROMPT, EXPECTED, warmup, rounds, per_round]
        out = self._run(_CALLS, json.dumps(args), timeout=60 + rounds * per_round)
        cpu = json.loads(out)
        if len(cpu) != rounds or not all(isinstance(v, float) and v > 0 for v in cpu):
            raise PeerError(f"{self.python}: unexpected figures {out[:80]!r}")
        return [float(v) for v in cpu]

    def import_time(self) -> float:
        """Wall seconds of `import openai_oxide` in a fresh interpreter."""
        return float(
            self._run(_IMPORT_SNIPPET.format(module="openai_oxide"), timeout=60).split()[0]
        )
