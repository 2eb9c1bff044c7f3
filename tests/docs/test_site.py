"""The documentation site builds with `mkdocs build --strict`.

Strict mode fails on a broken link or anchor, a page missing from the nav, and
an API reference entry (`::: oxide_io.Client`) that does not resolve, so a
renamed public name or a moved page breaks this test, not the published site.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_site_builds_strictly(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs dependency group is not installed")
    pytest.importorskip("mkdocstrings", reason="the docs dependency group is not installed")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=110,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "reference" / "clients" / "index.html").is_file()
    reference = (site / "reference" / "clients" / "index.html").read_text(encoding="utf-8")
    assert "with_options" in reference  # mkdocstrings rendered the class
