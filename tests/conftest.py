from __future__ import annotations

import pathlib
import sys

# `tests.splits` and friends are importable without installing the tests.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

# Session fixtures that start the real third-party servers (llmock, hypercorn,
# websockets) on 127.0.0.1: see tests/servers.py.
pytest_plugins = ["tests.servers"]
