"""The README's first command: `python -m oxide_io.demo` works offline and says what it timed."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_offline_streams_then_times_warm_calls() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "oxide_io.demo", "--offline", "--calls", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "using the embedded server at http://127.0.0.1:" in out
    assert "This reply comes from the oxide mock server." in out
    for runtime in ("blocking Client", "AsyncClient on asyncio", "AsyncClient on trio"):
        line = next(line for line in out.splitlines() if line.startswith(f"[{runtime}"))
        assert "first call" in line and "(includes connecting)" in line, line
        assert "then median" in line and "over 2 calls" in line, line
