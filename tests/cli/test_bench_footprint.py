"""The footprint benchmark: its workload runs, and callgrind's files are read right.

The figures themselves need valgrind and minutes; here the child runs once without
valgrind against the mock server in a child process (a failing call fails it), and
the readers are checked on a made-up callgrind file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from oxide_io._bench.footprint import Footprint, by_function, function_table, summary, table
from oxide_io._bench.server import serve

# Two functions; `main` calls `helper` (the cost line after `calls=` is the call's
# inclusive cost, which is not main's own); names are compressed after first use.
CALLGRIND = """\
# callgrind format
version: 1
positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
summary: 150 40 10 3 4 1 2 3 1

ob=(1) /lib/python
fl=(1) ceval.c
fn=(1) main
10 100 30 5 1 2 0 1 1 0
+2 20 5 5 1 1 1 0 1 1
cfn=(2) helper
calls=1 40
* 30 5 0 1 1 0 1 1 0
fn=(2)
40 30 5 0 1 1 0 1 1 0
fn=(1)
-3 0 0 0 0 0 0 0 0 0
"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(False) as server:
        yield server.base_url


@pytest.mark.parametrize("target", ["floor_asyncio", "asyncio", "sync"])
def test_the_workload_runs(url: str, target: str) -> None:
    command = [sys.executable, "-m", "oxide_io._bench.footprint", "run"]
    done = subprocess.run(
        [*command, target, url, "2", "2"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_summary_and_each_function_s_own_events() -> None:
    assert summary(CALLGRIND)["Ir"] == 150
    assert summary(CALLGRIND)["DLmw"] == 1
    functions = by_function(CALLGRIND)
    assert functions["main"]["Ir"] == 120  # not the 30 of the call to helper
    assert functions["main"]["DLmr"] == 2
    assert functions["helper"]["Ir"] == 30
    # Counting switched off before the end: the figures are on the `totals:` line.
    switched_off = CALLGRIND.replace("summary: 150", "summary: 0\ntotals: 150")
    assert summary(switched_off)["Ir"] == 150
    with pytest.raises(ValueError):
        summary("not callgrind")


def test_the_tables() -> None:
    fp = Footprint(Ir=1000.0, ILmr=20.0, DLmr=30.0, DLmw=5.0, I1mr=7.0, D1mr=8.0, D1mw=1.0)
    assert fp.code == 20 and fp.data == 35
    assert table([("asyncio", "pages", fp)]).splitlines()[2] == (
        "| asyncio | pages | 1,000 | 20 | 35 | 7 | 9 |"
    )
    base = {"eval": Footprint(DLmr=10.0), "alloc": Footprint(DLmr=4.0)}
    other = {"eval": Footprint(DLmr=25.0), "hash": Footprint(DLmw=2.0)}
    rows = function_table(base, other, ("floor", "oxide"), 2).splitlines()[2:]
    assert rows == ["| eval | 25.0 | 10.0 | +15.0 |", "| alloc | 0.0 | 4.0 | -4.0 |"]
