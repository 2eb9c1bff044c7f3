"""`oxide bench`: the report's structure, never its timings.

`oxide bench --quick` runs as a process (what the console script runs) against
the mock server it starts itself, and the tests read what it wrote: the header
names the command, machine, date and versions; every section has its table;
every number in a table is positive and finite; every chart exists as PNG and
SVG when matplotlib is installed, or a note says charts were skipped. A run
that cannot import the official SDK reports that instead of failing. The
statistics and the Markdown are also checked on figures made up here.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from oxide_io._bench import SECTIONS
from oxide_io._bench.report import (
    Report,
    Row,
    Section,
    Spread,
    cell,
    from_json,
    ratio,
    to_json,
    to_markdown,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
# a cell of a table: `median (q1-q3)`
SPREAD_CELL = re.compile(r"^(\S+) \((\S+)-(\S+)\)$")
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
TITLES = {
    "requests": "Per call: client CPU time",
    "chunks": "Per chunk of a long stream: client CPU time",
    "events": "Streaming: helper events per second",
    "import": "Import time",
    "concurrency": "Concurrency sweep: client CPU per request",
    "websocket": "WebSocket tool loops",
}


def run_bench(*args: str, hide_openai: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OXIDE_"))}
    if hide_openai:
        # A None entry in sys.modules makes the SDK look not installed to find_spec.
        code = (
            "import sys; sys.modules['openai'] = None; from oxide_io.cli import main; "
            f"sys.exit(main({list(args)!r}))"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "oxide_io", *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=110)
    assert done.returncode == 0, done.stderr
    return done


def tables(markdown: str) -> dict[str, list[list[str]]]:
    """Each section's table rows (header and separator left out), by the section's title."""
    out: dict[str, list[list[str]]] = {}
    title = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            title = line[3:]
            out[title] = []
        elif line.startswith("|") and title:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] not in ("case", "client") and not cells[0].startswith("---"):
                out[title].append(cells)
    return out


def check_numbers(rows: list[list[str]]) -> int:
    """Every figure cell is `median (q1-q3)` with q1 <= median <= q3, all positive, finite."""
    checked = 0
    for row in rows:
        for text in row:
            match = SPREAD_CELL.match(text)
            if match is None:
                continue
            median, q1, q3 = (float(v.replace(",", "")) for v in match.groups())
            for value in (median, q1, q3):
                assert math.isfinite(value) and value > 0, row
            assert q1 <= median <= q3, row
            checked += 1
    return checked


@pytest.mark.timeout(120)
def test_quick_report_is_well_formed(tmp_path: pathlib.Path) -> None:
    done = run_bench("bench", "--quick", "--out", str(tmp_path))
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    head = report.split("\n## ", 1)[0]
    assert head.startswith("# oxide benchmark report")
    assert f"- Command: `oxide bench --quick --out {tmp_path}`" in head
    assert re.search(r"^- Date: \d{4}-\d\d-\d\d \d\d:\d\d UTC$", head, re.M)
    assert re.search(r"^- Machine: .+, \d+ cores, .+$", head, re.M)
    assert re.search(r"^- Python: CPython \d+\.\d+\.\d+$", head, re.M)
    assert re.search(r"^- Versions: oxide \S+, openai 3\.\S+, h11 \S+, trio \S+$", head, re.M)

    found = tables(report)
    assert list(found) == [TITLES[key] for key in SECTIONS]
    for title, rows in found.items():
        assert rows, title
        labels = " ".join(" ".join(row) for row in rows)
        assert "oxide" in labels and "openai" in labels, title
        # a figure a row at least, and a ratio for every oxide row against the SDK
        assert check_numbers(rows) >= len(rows) + sum("oxide" in " ".join(r) for r in rows)
    assert "h11 floor (blocking)" in report and "h11 floor (asyncio)" in report

    if HAS_MATPLOTLIB:
        assert "charts skipped" not in done.stderr
        for key in SECTIONS:
            png = tmp_path / "charts" / f"{key}.png"
            svg = tmp_path / "charts" / f"{key}.svg"
            assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
            assert ET.parse(svg).getroot().tag.endswith("svg")
            assert f"![{TITLES[key]}](charts/{key}.svg)" in report
    else:
        assert "charts skipped: matplotlib is not installed" in done.stderr
        assert "![" not in report


@pytest.mark.timeout(120)
def test_without_the_sdk_the_report_says_so(tmp_path: pathlib.Path) -> None:
    run_bench(
        "bench",
        "--quick",
        "--only",
        "import",
        "--only",
        "chunks",
        "--format",
        "json",
        "--out",
        str(tmp_path),
        hide_openai=True,
    )
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [s["key"] for s in data["sections"]] == ["chunks", "import"]
    assert any(note.startswith("openai is not installed") for note in data["notes"])
    for section in data["sections"]:
        assert {row["family"] for row in section["rows"]} <= {"oxide", "floor"}
        for row in section["rows"]:
            assert row["vs_sdk"] is None
            assert row["samples"] and all(math.isfinite(v) and v > 0 for v in row["samples"])
            value = row["value"]
            assert value["q1"] <= value["median"] <= value["q3"]
    chunks = data["sections"][0]
    oxide = [row for row in chunks["rows"] if row["family"] == "oxide"]
    assert oxide and all(row["vs_floor"]["median"] > 0 for row in oxide)
    # The Markdown of the same run: the SDK's column says it is not installed.
    markdown = to_markdown(from_json((tmp_path / "report.json").read_text(encoding="utf-8")))
    assert "\n- Versions: oxide " in markdown and ", openai not installed, " in markdown
    assert "\n- Note: openai is not installed" in markdown
    found = tables(markdown)
    assert list(found) == [TITLES["chunks"], TITLES["import"]]
    assert "| client | µs CPU per chunk, median (IQR) | ÷ openai | ÷ h11 floor |" in markdown
    for rows in found.values():
        for row in rows:
            assert row[2] == (
                "openai not installed" if row[0].startswith(("oxide", "import")) else "-"
            )
        assert check_numbers(rows) >= len(rows)


def test_unknown_section_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oxide_io", "bench", "--only", "everything"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Invalid value for '--only'" in done.stderr


@pytest.mark.parametrize(
    "script", ["bench_client.py", "bench_websocket.py", "bench_stream_helpers_client.py"]
)
def test_bench_scripts_are_entry_points(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


# -- the statistics and the Markdown, on made-up figures -----------------------------------


def test_spread_is_median_and_quartiles() -> None:
    spread = Spread.of([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (spread.median, spread.q1, spread.q3, spread.n) == (3.0, 2.0, 4.0, 5)
    assert Spread.of([7.0]) == Spread(7.0, 7.0, 7.0, 1)
    with pytest.raises(ValueError, match="no samples"):
        Spread.of([])


def test_ratio_pairs_rounds_by_index() -> None:
    # Round i against round i: a drift that hits both sides alike cancels out.
    assert ratio([1.0, 2.0, 4.0], [2.0, 4.0, 8.0]) == Spread(0.5, 0.5, 0.5, 3)
    with pytest.raises(ValueError, match="not paired"):
        ratio([1.0], [1.0, 2.0])


def test_markdown_of_made_up_figures() -> None:
    section = Section("chunks", "Per chunk", "µs CPU per chunk", "Made up.", ratio_note="n")
    oxide = Row("oxide Client", "oxide", "sync", [10.0, 12.0, 11.0])
    oxide.vs_sdk = ratio(oxide.samples, [100.0, 120.0, 110.0])
    section.rows = [oxide, Row("openai OpenAI", "openai", "sync", [100.0, 120.0, 110.0])]
    report = Report(
        "oxide bench",
        "2026-01-01 00:00 UTC",
        {"cpu": "CPU", "cores": "2", "python": "CPython 3.12.0", "os": "OS"}
        | {"load average at start": "0.5"},
        {"oxide": "1", "openai": "2", "h11": "3", "trio": "4"},
        {},
        [section],
    )
    text = to_markdown(report, {"chunks": "charts/chunks.svg"})
    assert "| client | µs CPU per chunk, median (IQR) | ÷ openai |" in text
    assert "| --- | ---: | ---: |" in text
    assert "| oxide Client | 11.0 (10.5-11.5) | 0.100 (0.100-0.100) |" in text
    assert "| openai OpenAI | 110 (105-115) | - |" in text
    assert "![Per chunk](charts/chunks.svg)" in text
    assert cell(None) == "-"


def test_the_socket_floor_has_its_own_column_and_survives_json() -> None:
    section = Section("concurrency", "Sweep", "µs CPU per request", "Made up.", ratio_note="n")
    oxide = Row("oxide AsyncClient", "oxide", "asyncio", [200.0, 220.0, 210.0], "HTTP/1.1, 1")
    floor = Row("h11 floor (asyncio)", "floor", "asyncio", [100.0, 110.0, 105.0], "HTTP/1.1, 1")
    socket = Row("socket floor (asyncio)", "socket", "asyncio", [50.0, 55.0, 52.5], "HTTP/1.1, 1")
    oxide.vs_floor = ratio(oxide.samples, floor.samples)
    oxide.vs_socket = ratio(oxide.samples, socket.samples)
    section.rows = [oxide, floor, socket]
    report = Report(
        "oxide bench",
        "2026-01-01 00:00 UTC",
        {"cpu": "CPU", "cores": "2", "python": "CPython 3.12.0", "os": "OS"}
        | {"load average at start": "0.5"},
        {"oxide": "1", "h11": "3"},
        {},
        [section],
    )
    text = to_markdown(report)
    assert "| ÷ h11 floor | ÷ socket floor |" in text
    assert "| oxide AsyncClient | 210 (205-215) | 2.00 (2.00-2.00) | 4.00 (4.00-4.00) |" in text
    assert "| socket floor (asyncio) | 52.5 (51.2-53.8) | - | - |" in text
    again = from_json(to_json(report))
    assert again.sections[0].rows[0].vs_socket == oxide.vs_socket
    assert to_markdown(again) == text


def test_the_docs_hold_a_well_formed_report() -> None:
    # docs/performance.md embeds the committed run (tools/bench_docs.py), its charts beside.
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    report = page.split("<!-- bench-report:start -->", 1)[1].split("<!-- bench-report:end -->")[0]
    assert re.search(r"^- Command: `oxide bench[^`]*`$", report, re.M)
    assert re.search(r"^- Machine: .+, \d+ cores, .+$", report, re.M)
    found = tables(report.replace("\n### ", "\n## "))
    assert list(found) == [TITLES[key] for key in SECTIONS]
    for rows in found.values():
        assert check_numbers(rows) >= len(rows)
    for key in SECTIONS:
        assert f"![{TITLES[key]}](performance/{key}.svg)" in report
        assert ET.parse(ROOT / "docs" / "performance" / f"{key}.svg").getroot().tag.endswith("svg")


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="tools/bench_docs.py draws with matplotlib")
def test_the_docs_report_is_the_saved_run() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "bench_docs.py"),
            "--check",
            str(ROOT / "docs" / "performance" / "report.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


PEER_PYTHON = os.environ.get("OXIDE_BENCH_PEER_PYTHON")


@pytest.mark.timeout(120)
def test_a_peer_that_cannot_run_is_a_note(tmp_path: pathlib.Path) -> None:
    # This interpreter has no openai-oxide: the report says so and goes on without it.
    args = ["--quick", "--only", "import", "--format", "json", "--out", str(tmp_path)]
    run_bench("bench", *args, "--peer-python", sys.executable)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    (note,) = [n for n in data["notes"] if n.startswith("openai-oxide (Rust core) not measured")]
    assert "No module named 'openai_oxide'" in note
    assert "openai-oxide" not in data["versions"]
    assert {row["family"] for row in data["sections"][0]["rows"]} == {"oxide", "openai"}


@pytest.mark.skipif(not PEER_PYTHON, reason="OXIDE_BENCH_PEER_PYTHON names no openai-oxide")
@pytest.mark.timeout(120)
def test_the_peer_is_measured_beside_the_others(tmp_path: pathlib.Path) -> None:
    args = ["--quick", "--only", "requests", "--only", "import", "--out", str(tmp_path)]
    run_bench("bench", *args, "--format", "json", "--peer-python", str(PEER_PYTHON))
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["versions"]["openai-oxide"].split()[1:3] == ["on", "Python"]
    for section in data["sections"]:
        (peer,) = [row for row in section["rows"] if row["family"] == "peer"]
        assert all(math.isfinite(v) and v > 0 for v in peer["samples"])
        assert peer["vs_sdk"]["median"] > 0
