"""Fixtures for the conformance suite: Prism once per session, clients pointed at it.

Without Node.js and npm the suite cannot run: in CI (`CI` set) that fails every
test loudly, elsewhere the tests are skipped with the reason. At the end of the
session the summary prints how many of the spec's operations pass the sweep
(`test_operations.py`) and names each one that does not, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from oxide_io import Client
from tests.conformance.prism import PrismUnavailable, run_prism

KEY = "sk-conformance"
SWEEP = "tests/conformance/test_operations.py::test_operation["


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    try:
        with run_prism() as url:
            yield url
    except PrismUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Prism is required in CI: {exc}", pytrace=False)
        pytest.skip(f"Prism unavailable: {exc}")


@pytest.fixture(scope="session")
def client(prism_url: str) -> Iterator[Client]:
    # No retries: Prism's answers are deterministic, and a retry would hide a 5xx.
    with Client(api_key=KEY, base_url=prism_url, max_retries=0, timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


# -- coverage summary ---------------------------------------------------------------

_passed: dict[str, list[str]] = {}  # operation -> notes
_failed: dict[str, str] = {}  # operation -> why


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.nodeid.startswith(SWEEP):
        return
    name = report.nodeid[len(SWEEP) : -1]
    if report.when == "call" and report.passed:
        _passed[name] = [str(v) for k, v in report.user_properties if k == "note"]
    elif report.skipped and hasattr(report, "wasxfail"):
        _failed[name] = f"known: {report.wasxfail}"
    elif report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        _failed[name] = crash.message.splitlines()[0] if crash else str(report.longrepr)[:200]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _passed and not _failed:
        return
    from tests.conformance.arguments import load_calls

    total = len(load_calls())
    write = terminalreporter.write_line
    terminalreporter.section("conformance against the OpenAPI spec (Prism)")
    write(f"operations passing {len(_passed)} / {total}")
    for name, notes in sorted(_passed.items()):
        for note in notes:
            write(f"  passing, {name}: {note}")
    for name, why in sorted(_failed.items()):
        write(f"  NOT passing, {name}: {why}")
    missing = total - len(_passed) - len(_failed)
    if missing:
        write(f"  {missing} operations not run (deselected or skipped)")
