"""Charts of a benchmark report, PNG and SVG, drawn with matplotlib when it is installed.

matplotlib is optional (the `bench` extra): without it `draw()` says so and the
report is written without charts. One chart a section: horizontal bars of each
client's median with its interquartile range as an error bar, coloured by family
(oxide, the official SDK, the h11 floor, openai-oxide), one panel per case; the concurrency
sweep is drawn as lines, CPU per request against the number of concurrent calls.
The SVG files carry no date or random ids, so a chart redrawn from the same
figures is the same file.
"""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Any

from .report import Report, Row, Section, number

__all__ = ["available", "draw"]

COLOURS = {
    "oxide": "#d9480f",
    "openai": "#1c7ed6",
    "floor": "#868e96",
    "socket": "#343a40",
    "peer": "#2f9e44",
}


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    matplotlib.rcParams["svg.hashsalt"] = "oxide-bench"  # stable ids in the SVG
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    import matplotlib.pyplot as plt

    return plt


def _error(rows: list[Row]) -> list[list[float]]:
    spreads = [r.value for r in rows]
    return [[s.median - s.q1 for s in spreads], [s.q3 - s.median for s in spreads]]


def _bars(plt: Any, section: Section) -> Any:
    groups = list(dict.fromkeys(r.group for r in section.rows))
    heights = [sum(1 for r in section.rows if r.group == g) for g in groups]
    figure, axes = plt.subplots(
        len(groups),
        1,
        figsize=(8, 0.9 + 0.42 * sum(heights) + 0.5 * len(groups)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for ax, group in zip(axes[:, 0], groups, strict=True):
        rows = [r for r in section.rows if r.group == group][::-1]  # first row on top
        medians = [r.value.median for r in rows]
        ax.barh(
            [r.label for r in rows],
            medians,
            xerr=_error(rows),
            color=[COLOURS[r.family] for r in rows],
            capsize=3,
        )
        for y, row in enumerate(rows):
            # The label starts past the error bar, so the two never overlap.
            ax.annotate(
                f" {number(row.value.median)}",
                (row.value.q3, y),
                va="center",
                fontsize=8,
                xytext=(4, 0),
                textcoords="offset points",
            )
        ax.set_xlim(0, max(r.value.q3 for r in rows) * 1.3)
        if group:
            ax.set_title(group, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel(
        section.unit + (" (higher is better)" if section.higher_is_better else "")
    )
    figure.suptitle(section.title, fontsize=11, x=0.01, ha="left")
    return figure


def _sweep(plt: Any, section: Section) -> Any:
    protocols = list(dict.fromkeys(r.group.split(",")[0] for r in section.rows))
    figure, axes = plt.subplots(1, len(protocols), figsize=(8, 3.6), squeeze=False, sharey=True)
    for ax, proto in zip(axes[0], protocols, strict=True):
        rows = [r for r in section.rows if r.group.startswith(proto + ",")]
        for label in dict.fromkeys(r.label for r in rows):
            mine = [r for r in rows if r.label == label]
            levels = [int(r.group.split(", ")[1].split()[0]) for r in mine]
            ax.errorbar(
                levels,
                [r.value.median for r in mine],
                yerr=_error(mine),
                label=label,
                color=COLOURS[mine[0].family],
                marker="o",
                capsize=3,
            )
        ax.set_xscale("log")
        ax.set_xticks(levels, [str(n) for n in levels])
        ax.set_title(proto, fontsize=9, loc="left")
        ax.set_xlabel("concurrent calls", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    # Set once all panels are drawn: the panels share their y axis.
    axes[0, 0].set_ylim(0, max(r.value.q3 for r in section.rows) * 1.1)
    axes[0, 0].set_ylabel(section.unit, fontsize=8)
    axes[0, 0].legend(fontsize=7)
    figure.suptitle(section.title, fontsize=11, x=0.01, ha="left")
    return figure


def draw(report: Report, directory: pathlib.Path) -> dict[str, str]:
    """Writes `<section>.png` and `<section>.svg` into `directory`; returns the SVG names."""
    plt = _pyplot()
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for section in report.sections:
        if not section.rows:
            continue
        figure = _sweep(plt, section) if section.key == "concurrency" else _bars(plt, section)
        figure.tight_layout()
        for suffix, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
            figure.savefig(directory / f"{section.key}.{suffix}", dpi=110, metadata=metadata)
        plt.close(figure)
        written[section.key] = f"{section.key}.svg"
    return written
