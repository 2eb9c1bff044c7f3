"""The benchmark report: every measurement of `oxide bench` in one run, as Markdown or JSON.

One run measures, side by side on this machine, oxide's clients (blocking,
asyncio, trio), the official SDK's (when it is installed) and the hand-written
h11 floor (`floor.py`: the least work a Python client can do for a call):

- `requests`: client CPU per call, one non-streaming chat call and one short
  stream, over HTTP/1.1 keep-alive;
- `chunks`: client CPU per chunk of one long stream;
- `events`: `chat.completions.stream()` helper events per second;
- `import`: `import oxide_io` against `import openai`, each in a fresh interpreter;
- `concurrency`: client CPU per request with 1 to 500 concurrent calls on one
  asyncio client, over HTTP/1.1 and HTTP/2 (h2c), with the socket floor
  (`socket_floor.py`) beside the floors over HTTP/1.1;
- `websocket`: ten tool-call round trips over one WebSocket, HTTP keep-alive or
  a new connection per call.

With `peer_python`, openai-oxide (`peer.py`) joins the per-call and import tables.

Every client is measured in rounds, and the report gives for each figure the
median over the rounds and its spread (the interquartile range, Q1-Q3). A ratio
is taken round by round (round i of one client against round i of the other,
run in the same pass) and reported the same way, median and IQR, so that a
drift of the machine's load widens the spread rather than biasing the ratio.
The measuring code is `client.py`, `stream_helpers.py` and `websocket.py`
beside this module (what the scripts of `bench/` run); this module picks the
counts, collects the rounds and writes the report.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import json
import math
import os
import platform
import shlex
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import SECTIONS, stream_helpers, websocket
from . import client as bench_client
from .client import FLOOR_ASYNC, FLOOR_SYNC, installed
from .peer import LABEL as PEER_LABEL
from .peer import Peer, PeerError
from .server import Server, serve

__all__ = [
    "SECTIONS",
    "Counts",
    "Report",
    "Row",
    "Section",
    "Spread",
    "cell",
    "command_line",
    "from_json",
    "machine",
    "number",
    "ratio",
    "run",
    "to_json",
    "to_markdown",
    "versions",
]

SDK = "openai"
FLOOR = "h11 floor"


# -- statistics -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """The median of some samples and their interquartile range (Q1-Q3)."""

    median: float
    q1: float
    q3: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no samples")
        if len(values) == 1:
            return cls(values[0], values[0], values[0], 1)
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), q1, q3, len(values))

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.q1 * factor, self.q3 * factor, self.n)

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "q1": self.q1, "q3": self.q3, "n": self.n}


def ratio(values: Sequence[float], base: Sequence[float]) -> Spread:
    """`values` over `base`, round by round (paired by index), as a spread."""
    if len(values) != len(base):
        raise ValueError(f"{len(values)} rounds against {len(base)}: not paired")
    return Spread.of([v / b for v, b in zip(values, base, strict=True)])


# -- what a report holds ----------------------------------------------------------------


@dataclass
class Row:
    """One client's figure in one group of a section: its samples, in the section's unit."""

    label: str
    # "oxide", "openai", "floor", "socket" (the socket floor) or "peer" (openai-oxide)
    family: str
    runtime: str  # "sync", "asyncio", "trio" (or "" where it does not apply)
    samples: list[float]
    group: str = ""
    vs_sdk: Spread | None = None
    vs_floor: Spread | None = None
    vs_socket: Spread | None = None  # the concurrency sweep's HTTP/1.1 rows only

    @property
    def value(self) -> Spread:
        return Spread.of(self.samples)


@dataclass
class Section:
    key: str
    title: str
    unit: str  # of the samples, e.g. "µs CPU per call"
    intro: str
    rows: list[Row] = field(default_factory=list)
    higher_is_better: bool = False
    ratio_note: str = ""
    sdk_label: str = "÷ openai"
    floor_label: str = "÷ h11 floor"
    socket_label: str = "÷ socket floor"
    notes: list[str] = field(default_factory=list)
    sdk_missing: bool = False  # the SDK is not installed: its column says so


@dataclass
class Report:
    command: str
    date: str
    machine: dict[str, str]
    versions: dict[str, str]
    counts: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not installed, said once


@dataclass(frozen=True)
class Counts:
    """How much each section measures: `quick()` for a smoke run, `full()` for the report."""

    rounds: int  # timed rounds per client (requests, chunks)
    per_round: int  # calls per round (requests)
    passes: int  # passes over the clients, in alternating order
    warmup: int
    short_stream_words: int
    short_streams: int  # streams per round (requests)
    long_stream_words: int
    helper_chunks: int
    helper_rounds: int
    imports: int
    import_warmup: bool  # one unmeasured import first: bytecode caches, page cache
    levels: tuple[int, ...]
    sweep_rounds: int
    sweep_per_round: int
    ws_rounds: int
    ws_delay: float

    @classmethod
    def quick(cls) -> Counts:
        return cls(
            rounds=2,
            per_round=4,
            passes=1,
            warmup=2,
            short_stream_words=5,
            short_streams=2,
            long_stream_words=60,
            helper_chunks=120,
            helper_rounds=2,
            imports=1,
            import_warmup=False,
            levels=(1, 10),
            sweep_rounds=2,
            sweep_per_round=10,
            ws_rounds=1,
            ws_delay=0.0,
        )

    @classmethod
    def full(cls) -> Counts:
        return cls(
            rounds=12,
            per_round=30,
            passes=2,
            warmup=30,
            short_stream_words=20,
            short_streams=10,
            long_stream_words=2000,
            helper_chunks=10_000,
            helper_rounds=5,
            imports=15,
            import_warmup=True,
            levels=(1, 10, 100, 500),
            sweep_rounds=5,
            sweep_per_round=500,
            ws_rounds=9,
            ws_delay=0.0,
        )


# -- the machine ------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or "unknown"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "load average at start": f"{load:.2f}",
    }


def versions() -> dict[str, str]:
    """The versions measured: a package that cannot be imported counts as not installed."""
    return {
        name: _version(distribution) if installed(module) else "not installed"
        for name, distribution, module in (
            ("oxide", "oxide-client", "oxide_io"),
            ("openai", "openai", "openai"),
            ("h11", "h11", "h11"),
            ("trio", "trio", "trio"),
        )
    }


# -- the sections -----------------------------------------------------------------------


def _family_rows(results: Sequence[bench_client.Result], scale: float, group: str) -> list[Row]:
    return [
        Row(
            r.target.label,
            r.target.family,
            r.target.runtime,
            [v * scale for v in r.cpu],
            group,
        )
        for r in results
    ]


def _compare(rows: Sequence[Row]) -> None:
    """Fill the ratios of oxide's (and the peer's) rows: to the SDK client and the floor of
    their kind, per group."""
    by = {(r.group, r.label): r for r in rows}
    for row in rows:
        if row.family not in ("oxide", "peer"):
            continue
        sdk = by.get((row.group, _sdk_for(row.runtime)))
        if sdk is not None:
            row.vs_sdk = ratio(row.samples, sdk.samples)
        floor = by.get((row.group, FLOOR_SYNC if row.runtime == "sync" else FLOOR_ASYNC))
        if floor is not None:
            row.vs_floor = ratio(row.samples, floor.samples)


def _sdk_for(runtime: str) -> str:
    return bench_client.SYNC_BASE if runtime == "sync" else bench_client.ASYNC_BASE


def _missing_notes() -> list[str]:
    notes = []
    if not installed("openai"):
        notes.append(
            "openai is not installed: nothing to compare with in its column "
            "(`pip install 'oxide-client[bench]'` adds it)."
        )
    if not installed("trio"):
        notes.append("trio is not installed: no trio row.")
    return notes


def _measure(server: Server, work: bench_client.Work, counts: Counts, per_round: int) -> Any:
    return bench_client.measure(
        bench_client.targets(server, http2=False),
        work,
        warmup=counts.warmup,
        rounds=counts.rounds,
        per_round=per_round,
        passes=counts.passes,
    )


def section_requests(server: Server, counts: Counts, peer: Peer | None = None) -> Section:
    section = Section(
        "requests",
        "Per call: client CPU time",
        "µs CPU per call",
        "Client CPU time of one non-streaming `chat.completions.create` and of one short "
        "streamed completion (read to its end), HTTP/1.1 keep-alive. Lower is better.",
        ratio_note="below 1: oxide spends less CPU",
    )
    calls = _measure(server, bench_client.request_work(), counts, counts.per_round)
    section.rows += _family_rows(calls, 1e6, "one chat call")
    if peer is not None:
        try:
            cpu = peer.chat_calls(
                server.base_url, counts.warmup, len(calls[0].cpu), counts.per_round
            )
        except PeerError as exc:
            section.notes.append(f"{PEER_LABEL} not measured: {exc}")
        else:
            section.rows.append(
                Row(PEER_LABEL, "peer", "asyncio", [v * 1e6 for v in cpu], "one chat call")
            )
            section.notes.append(
                f"{PEER_LABEL}: `AsyncOpenAI` of `openai_oxide.compat` on asyncio, in its own "
                "interpreter after the others (its rounds are paired with theirs by index)."
            )
    streams = _measure(
        server, bench_client.stream_work(counts.short_stream_words), counts, counts.short_streams
    )
    chunks = streams[0].units // streams[0].calls_ok
    # CPU per chunk times the chunks of a stream: the CPU of one whole stream.
    section.rows += _family_rows(streams, 1e6 * chunks, f"a short stream ({chunks} chunks)")
    _compare(section.rows)
    return section


def section_chunks(server: Server, counts: Counts) -> Section:
    results = bench_client.measure(
        bench_client.targets(server, http2=False),
        bench_client.stream_work(counts.long_stream_words),
        warmup=1,
        rounds=counts.rounds,
        per_round=1,
        passes=counts.passes,
    )
    chunks = results[0].units // results[0].calls_ok
    section = Section(
        "chunks",
        "Per chunk of a long stream: client CPU time",
        "µs CPU per chunk",
        f"One streamed chat completion of {chunks:,} chunks per round, HTTP/1.1 keep-alive: "
        "client CPU time per `ChatCompletionChunk` received. Lower is better.",
        ratio_note="below 1: oxide spends less CPU",
    )
    section.rows = _family_rows(results, 1e6, "")
    _compare(section.rows)
    return section


_HELPER_ROWS = {
    "oxide Client": ("oxide Client", "oxide", "sync"),
    "oxide asyncio": ("oxide AsyncClient (asyncio)", "oxide", "asyncio"),
    "oxide trio": ("oxide AsyncClient (trio)", "oxide", "trio"),
    "SDK OpenAI": (bench_client.SYNC_BASE, "openai", "sync"),
    "SDK AsyncOpenAI": (bench_client.ASYNC_BASE, "openai", "asyncio"),
}


def section_events(server: Server, counts: Counts) -> Section:
    results = stream_helpers.bench(
        server.base_url, stream_helpers.words_for(counts.helper_chunks), counts.helper_rounds
    )
    chunks = next(iter(results.values())).chunks
    section = Section(
        "events",
        "Streaming: helper events per second",
        "events/s",
        f"`chat.completions.stream()` over one stream of {chunks:,} chunks, every helper "
        "event iterated, then `get_final_completion()`; events per second of wall time "
        "(the server in its own process produces the stream, and bounds the fastest "
        "client). Higher is better.",
        higher_is_better=True,
        ratio_note="the SDK's time per stream over oxide's; above 1: oxide is faster",
        sdk_label="x openai",
    )
    rows = {}
    for name, result in results.items():
        label, family, runtime = _HELPER_ROWS[name]
        rows[name] = Row(label, family, runtime, [result.events / w for w in result.wall])
    for name, row in rows.items():
        if row.family != "oxide":
            continue
        sdk = rows.get("SDK OpenAI" if row.runtime == "sync" else "SDK AsyncOpenAI")
        if sdk is not None:
            # The same stream on both sides: compare the times per stream.
            row.vs_sdk = ratio(results[_name_of(sdk)].wall, results[name].wall)
    section.rows = list(rows.values())
    return section


def _name_of(row: Row) -> str:
    return next(name for name, (label, *_) in _HELPER_ROWS.items() if label == row.label)


def section_import(counts: Counts, peer: Peer | None = None) -> Section:
    modules = ["oxide_io", *(["openai"] if installed("openai") else [])]
    measured = bench_client.import_times(counts.imports, modules, counts.import_warmup)
    times = {module: [wall * 1e3 for wall in measured[module][0]] for module in modules}
    section = Section(
        "import",
        "Import time",
        "ms wall",
        "`import oxide_io` against `import openai`, each in a fresh interpreter "
        "(bytecode caches warm). Lower is better.",
        ratio_note="below 1: oxide imports faster",
    )
    section.rows.append(Row("import oxide_io", "oxide", "", times["oxide_io"]))
    if "openai" in times:
        section.rows.append(Row("import openai", "openai", "", times["openai"]))
        section.rows[0].vs_sdk = ratio(times["oxide_io"], times["openai"])
    if peer is not None:
        try:
            if counts.import_warmup:
                peer.import_time()
            peer_times = [peer.import_time() * 1e3 for _ in range(counts.imports)]
        except PeerError as exc:
            section.notes.append(f"{PEER_LABEL} not measured: {exc}")
        else:
            row = Row("import openai_oxide", "peer", "", peer_times)
            if "openai" in times:
                row.vs_sdk = ratio(peer_times, times["openai"])
            section.rows.append(row)
    return section


def section_concurrency(server: Server, counts: Counts) -> Section:
    section = Section(
        "concurrency",
        "Concurrency sweep: client CPU per request",
        "µs CPU per request",
        "Batches of concurrent non-streaming calls on one asyncio client (`asyncio.gather`), "
        "every connection kept alive; client CPU per request at each level, over HTTP/1.1 "
        "keep-alive (the floor: the h11 loop, one kept-alive connection per concurrent call) "
        "and HTTP/2 with prior knowledge (h2c; the floor: the h2 loop, the calls multiplexed "
        "on one connection). Over HTTP/1.1 the socket floor runs too: a prebuilt request "
        "written on an asyncio Protocol, the reply's status checked and its JSON decoded, "
        "no HTTP library; what it spends more alone than among many calls is the lone "
        "call's cost on this machine, which no client's code can remove. Flat rows mean "
        "the pool's work does not grow with its connections. Lower is better.",
        ratio_note="below 1: oxide spends less CPU",
        floor_label="÷ floor (same protocol)",
    )
    for http2 in (False, True):
        proto = "HTTP/2" if http2 else "HTTP/1.1"
        results = bench_client.sweep(
            server, http2, counts.levels, counts.sweep_rounds, counts.sweep_per_round
        )
        for level in counts.levels:
            group = f"{proto}, {level} concurrent"
            rows = [
                Row(r.label, _sweep_family(r.label), "asyncio", [v * 1e6 for v in r.cpu[level]])
                for r in results
            ]
            by = {r.family: r for r in rows}
            oxide = by["oxide"]
            if "openai" in by:
                oxide.vs_sdk = ratio(oxide.samples, by["openai"].samples)
            if "floor" in by:
                oxide.vs_floor = ratio(oxide.samples, by["floor"].samples)
            if "socket" in by:
                oxide.vs_socket = ratio(oxide.samples, by["socket"].samples)
            for row in rows:
                row.group = group
            section.rows += rows
    return section


def _sweep_family(label: str) -> str:
    if label.startswith("oxide"):
        return "oxide"
    if label == bench_client.FLOOR_SOCKET:
        return "socket"
    return "floor" if "floor" in label else "openai"


def section_websocket(counts: Counts) -> Section:
    if not installed("trustme"):
        # The loops run over TLS, with a throwaway CA that trustme makes.
        return Section(
            "websocket",
            "WebSocket tool loops",
            "ms per loop",
            "Not measured: trustme is not installed (`pip install 'oxide-client[bench]'`).",
        )
    loops = websocket.measure(counts.ws_rounds, counts.ws_delay)
    delay = (
        f"the server holds each answer {counts.ws_delay * 1e3:.0f} ms"
        if counts.ws_delay
        else "the server answers at once"
    )
    section = Section(
        "websocket",
        "WebSocket tool loops",
        "ms per loop",
        f"An agent loop: {websocket.CALLS} sequential tool-call round trips (each "
        "`response.create` answered by a function call, the next carrying "
        f"`previous_response_id`), TLS on 127.0.0.1, {delay}; a loop opens its own "
        "connection. Lower is better.",
        ratio_note="below 1: faster than the SDK's `responses.connect()`",
        sdk_label="÷ openai connect()",
    )
    sdk_ws = loops.times.get("openai responses.connect(), asyncio")
    for label, times in loops.times.items():
        if label in loops.failed:
            section.notes.append(f"{label}: failed ({loops.failed[label]})")
            continue
        family = "openai" if label.startswith("openai") else "oxide"
        row = Row(label, family, "", [t * 1e3 for t in times])
        if sdk_ws and family == "oxide" and label not in loops.failed:
            row.vs_sdk = ratio(times, sdk_ws)
        section.rows.append(row)
    return section


# -- running ----------------------------------------------------------------------------


def run(
    sections: Sequence[str],
    counts: Counts,
    command: str,
    progress: Callable[[str], None] = lambda _: None,
    peer_python: str | None = None,
) -> Report:
    """Measure the named sections (in the order of SECTIONS) into a report.

    `peer_python`: an interpreter with openai-oxide, measured beside the others
    in the per-call and import sections.
    """
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections: {', '.join(sorted(unknown))}")
    report = Report(
        command=command,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(),
        versions=versions(),
        counts=counts.__dict__ | {"levels": list(counts.levels)},
    )
    peer = Peer(peer_python) if peer_python else None
    peer_notes = []
    if peer is not None:
        try:
            report.versions["openai-oxide"] = peer.version()
        except PeerError as exc:
            peer_notes.append(f"{PEER_LABEL} not measured: {exc}")
            peer = None
    wanted = [s for s in SECTIONS if s in sections]
    on_server = [s for s in wanted if s in ("requests", "chunks", "events", "concurrency")]
    if on_server:
        with serve() as server:
            for key in on_server:
                progress(key)
                if key == "requests":
                    report.sections.append(section_requests(server, counts, peer))
                else:
                    report.sections.append(_SERVER_SECTIONS[key](server, counts))
    if "import" in wanted:
        progress("import")
        report.sections.append(section_import(counts, peer))
    if "websocket" in wanted:
        progress("websocket")
        report.sections.append(section_websocket(counts))
    report.sections.sort(key=lambda s: SECTIONS.index(s.key))
    report.notes = _missing_notes() + peer_notes
    for section in report.sections:
        section.sdk_missing = not installed("openai")
        for row in section.rows:
            if not all(math.isfinite(v) and v > 0 for v in row.samples):
                raise AssertionError(f"{section.key}: {row.label} measured {row.samples}")
    return report


_SERVER_SECTIONS: dict[str, Callable[[Server, Counts], Section]] = {
    "chunks": section_chunks,
    "events": section_events,
    "concurrency": section_concurrency,
}


# -- writing ----------------------------------------------------------------------------


def number(value: float) -> str:
    """Three significant figures (more left of the point), thousands separated:
    0.000123, 0.123, 12.3, 1,234."""
    if value >= 100 or value <= 0 or not math.isfinite(value):
        return f"{value:,.0f}"
    return f"{value:.{max(0, 2 - math.floor(math.log10(value)))}f}"


def cell(spread: Spread | None) -> str:
    """`median (Q1-Q3)`, or a dash where there is nothing to compare."""
    if spread is None:
        return "-"
    return f"{number(spread.median)} ({number(spread.q1)}-{number(spread.q3)})"


def _section_md(section: Section, charts: dict[str, str]) -> list[str]:
    lines = [f"## {section.title}", "", section.intro, ""]
    if not section.rows:
        return lines
    has_floor = any(r.family == "floor" for r in section.rows)
    has_socket = any(r.family == "socket" for r in section.rows)
    has_sdk = section.sdk_missing or any(r.family == "openai" for r in section.rows)
    groups = list(dict.fromkeys(r.group for r in section.rows))
    header = ["client", f"{section.unit}, median (IQR)"]
    if has_sdk:
        header.append(section.sdk_label)
    if has_floor:
        header.append(section.floor_label)
    if has_socket:
        header.append(section.socket_label)
    if groups != [""]:
        header.insert(0, "case")
    lines.append("| " + " | ".join(header) + " |")
    texts = 2 if groups != [""] else 1  # the leading text columns; the rest are numbers
    lines.append("|" + "|".join([" --- "] * texts + [" ---: "] * (len(header) - texts)) + "|")
    for group in groups:
        first = True
        for row in (r for r in section.rows if r.group == group):
            cells = [row.label, cell(row.value)]
            if section.sdk_missing:
                compared = row.family in ("oxide", "peer")
                cells.append("openai not installed" if compared else "-")
            elif has_sdk:
                cells.append(cell(row.vs_sdk))
            if has_floor:
                cells.append(cell(row.vs_floor))
            if has_socket:
                cells.append(cell(row.vs_socket))
            if group:
                cells.insert(0, group if first else "")
            first = False
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Ratios are taken round by round, the row's figure over the other client's unless "
        f"said otherwise ({section.ratio_note}); -: not compared."
    )
    for note in section.notes:
        lines.append(f"Note: {note}")
    if section.key in charts:
        lines += ["", f"![{section.title}]({charts[section.key]})"]
    lines.append("")
    return lines


def to_markdown(report: Report, charts: dict[str, str] | None = None) -> str:
    """The report as Markdown: a header naming the command, machine and date, then a table a
    section; `charts` maps a section's key to the relative path of its chart."""
    charts = charts or {}
    m, v = report.machine, report.versions
    lines = [
        "# oxide benchmark report",
        "",
        f"- Command: `{report.command}`",
        f"- Date: {report.date}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['os']}; "
        f"load average {m['load average at start']} at start",
        f"- Python: {m['python']}",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in v.items()),
        *(f"- Note: {note}" for note in report.notes),
        "",
        "Every figure is the median over rounds with its interquartile range (Q1-Q3) in "
        "brackets. The server (oxide's mock server) runs in a child process, so CPU time "
        "is the client's alone; wall times include the server and the machine's load.",
        "",
    ]
    for section in report.sections:
        lines += _section_md(section, charts)
    return "\n".join(lines).rstrip() + "\n"


def to_json(report: Report) -> str:
    """Every sample and figure, and what the Markdown needs to be written again (`from_json`)."""

    def row(r: Row) -> dict[str, Any]:
        return {
            "label": r.label,
            "family": r.family,
            "runtime": r.runtime,
            "group": r.group,
            "samples": r.samples,
            "value": r.value.as_dict(),
            "vs_sdk": r.vs_sdk.as_dict() if r.vs_sdk else None,
            "vs_floor": r.vs_floor.as_dict() if r.vs_floor else None,
            "vs_socket": r.vs_socket.as_dict() if r.vs_socket else None,
        }

    data = {
        "command": report.command,
        "date": report.date,
        "machine": report.machine,
        "versions": report.versions,
        "counts": report.counts,
        "notes": report.notes,
        "sections": [
            {f.name: getattr(s, f.name) for f in dataclasses.fields(s) if f.name != "rows"}
            | {"rows": [row(r) for r in s.rows]}
            for s in report.sections
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> Report:
    """A report written by `to_json`, to write its Markdown or charts again."""

    def spread(value: dict[str, float] | None) -> Spread | None:
        if value is None:
            return None
        return Spread(value["median"], value["q1"], value["q3"], int(value["n"]))

    data = json.loads(text)
    report = Report(
        data["command"],
        data["date"],
        data["machine"],
        data["versions"],
        data["counts"],
        notes=data.get("notes", []),
    )
    for raw in data["sections"]:
        rows = raw.pop("rows")
        section = Section(**raw)
        for r in rows:
            section.rows.append(
                Row(
                    r["label"],
                    r["family"],
                    r["runtime"],
                    r["samples"],
                    r["group"],
                    spread(r["vs_sdk"]),
                    spread(r["vs_floor"]),
                    spread(r.get("vs_socket")),
                )
            )
        report.sections.append(section)
    return report


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this run was started, for the header: `oxide bench ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["oxide", *args])
