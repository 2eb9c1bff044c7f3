from __future__ import annotations

import pathlib
import sys

# `tests.splits` and friends are importable without installing the tests.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
