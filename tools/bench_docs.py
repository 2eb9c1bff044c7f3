"""Puts a saved `oxide bench` run into the documentation: docs/performance.md and its charts.

    oxide bench --format json --out /tmp/oxide-bench    # the measurements, every sample
    python tools/bench_docs.py /tmp/oxide-bench/report.json

Writes the report's Markdown into docs/performance.md between the markers
`<!-- bench-report:start -->` and `<!-- bench-report:end -->` (the text around
them is the page's own), its headings one level down, and draws its charts as
SVG into docs/performance/ (PNG is left out of the repository). Needs
matplotlib. `--check` only verifies that the page holds the report of that run.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
import tempfile

from oxide_io._bench import charts
from oxide_io._bench.report import from_json, to_markdown

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "performance.md"
CHARTS = ROOT / "docs" / "performance"
START, END = "<!-- bench-report:start -->", "<!-- bench-report:end -->"


def embedded(report_md: str) -> str:
    """The report as a part of the page: no title of its own, every heading one level down."""
    lines = report_md.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join("#" + line if line.startswith("## ") else line for line in lines).strip()


def page_with(page: str, report_md: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(page):
        raise SystemExit(f"{PAGE} has no {START} ... {END} markers")
    body = f"{START}\n\n{embedded(report_md)}\n\n{END}"
    return pattern.sub(lambda _: body, page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("report", type=pathlib.Path, help="report.json of an `oxide bench` run")
    parser.add_argument("--check", action="store_true", help="verify, write nothing")
    args = parser.parse_args(argv)
    report = from_json(args.report.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        names = charts.draw(report, pathlib.Path(tmp))
        links = {key: f"performance/{name}" for key, name in names.items()}
        page = page_with(PAGE.read_text(encoding="utf-8"), to_markdown(report, links))
        if args.check:
            if page != PAGE.read_text(encoding="utf-8"):
                print(f"{PAGE} does not hold the report of {args.report}", file=sys.stderr)
                return 1
            return 0
        CHARTS.mkdir(exist_ok=True)
        for name in names.values():
            (CHARTS / name).write_bytes((pathlib.Path(tmp) / name).read_bytes())
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)} and {len(names)} charts in docs/performance/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
