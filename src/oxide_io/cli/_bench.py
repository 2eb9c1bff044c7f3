"""`oxide bench`: the benchmark report, measured on this machine against the local mock server.

Runs `oxide_io._bench.report` (oxide's clients, the official SDK when installed,
the hand-written h11 floor and, given `--peer-python`, openai-oxide, side by side
in one run) and writes the report to `--out`: `report.md` (or `report.json`) and,
when matplotlib is installed, one chart a section in PNG and SVG under `charts/`.
The benchmark's modules are imported when the command runs, so the other
commands never load them.
"""

from __future__ import annotations

import pathlib
import sys
import time

import click

from .._bench import SECTIONS

__all__ = ["bench"]


@click.command()
@click.option("--quick", is_flag=True, help="Tiny counts: a smoke run of well under a minute.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default="oxide-bench",
    show_default=True,
    help="Directory for the report and its charts.",
)
@click.option(
    "--only",
    type=click.Choice(SECTIONS),
    multiple=True,
    help="Measure only this section (repeatable; default: all).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Write report.md (tables) or report.json (every sample).",
)
@click.option(
    "--peer-python",
    metavar="PYTHON",
    envvar="OXIDE_BENCH_PEER_PYTHON",
    help="An interpreter with openai-oxide installed: measured beside the others.",
)
def bench(
    quick: bool,
    out: pathlib.Path,
    only: tuple[str, ...],
    output_format: str,
    peer_python: str | None,
) -> None:
    """Benchmark oxide against the official SDK and an h11 floor; write a report.

    Measures per-call CPU time (a chat call, a short stream), per-chunk CPU of a
    long stream, streaming events/s, import time, a concurrency sweep and
    WebSocket tool loops, against a mock server in a child process. The full run
    takes several minutes; each figure is a median with its interquartile range.
    """
    # Imported here: the other commands never pay for the benchmark's modules.
    from .._bench import charts
    from .._bench.report import Counts, command_line, run, to_json, to_markdown

    started = time.monotonic()

    def progress(section: str) -> None:
        click.echo(f"measuring {section} ...", err=True)

    counts = Counts.quick() if quick else Counts.full()
    report = run(only or SECTIONS, counts, command_line(), progress, peer_python)
    out.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, str] = {}
    if charts.available():
        names = charts.draw(report, out / "charts")
        drawn = {key: f"charts/{name}" for key, name in names.items()}
    else:
        click.echo(
            "charts skipped: matplotlib is not installed (pip install 'oxide-client[bench]')",
            err=True,
        )
    if output_format == "json":
        path = out / "report.json"
        path.write_text(to_json(report), encoding="utf-8")
    else:
        path = out / "report.md"
        path.write_text(to_markdown(report, drawn), encoding="utf-8")
    click.echo(f"report written to {path} in {time.monotonic() - started:.0f} s", err=True)
    sys.stdout.flush()
