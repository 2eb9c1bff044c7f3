"""The summary of one run of the suite: counts per runtime, pass rate, failures by reason.

A test's endpoint counts as served when every request it made was answered by
Prism (the endpoint is in the public spec), by the local server (the SDK calls it,
the spec lacks it) or by a route the test mocked; a test that sends nothing (the
path-parameter checks) takes the verdict of the other tests of its operation. The
pass rate is over the served tests that ran (skips are not counted).
"""

from __future__ import annotations

import collections
import re
from typing import Any

__all__ = ["served_by", "summarize"]

_SERVED = ("prism", "local", "mock")


def _operation(nodeid: str) -> tuple[str, str, str]:
    path, _, rest = nodeid.partition("::")
    cls, _, test = rest.rpartition("::")
    cls = cls.replace("TestAsync", "Test", 1)
    test = test.split("[", 1)[0].removeprefix("test_")
    test = re.sub(r"^(method|raw_response|streaming_response|path_params)_", "", test)
    return path, cls, test.removesuffix("_with_all_params")


def _own_served(test: dict[str, Any]) -> str | None:
    if test.get("mocked"):
        return "mock"
    by = {request["by"] for request in test.get("requests", ())}
    if "none" in by:
        return "unserved"
    for name in ("prism", "local", "override"):
        if name in by:
            return "mock" if name == "override" else name
    return None


def served_by(
    tests: list[dict[str, Any]], reference: list[dict[str, Any]] | None = None
) -> dict[str, str]:
    """nodeid -> "prism", "local", "mock", "unserved" or "no request".

    `reference` is the baseline's results: a test of a client that sent nothing
    (a method it lacks) is judged by where the official client's requests for the
    same operation went.
    """
    groups: dict[tuple[str, str, str], str] = {}
    for source in (reference or [], tests):
        for test in source:
            found = _own_served(test)
            if found is not None:
                key = _operation(test["nodeid"])
                # One unserved request makes the operation unserved.
                if groups.get(key) != "unserved":
                    groups[key] = found
    own = {test["nodeid"]: _own_served(test) for test in tests}
    return {
        nodeid: found or groups.get(_operation(nodeid), "no request")
        for nodeid, found in own.items()
    }


def _rate(passed: int, total: int) -> str:
    return f"{passed}/{total} = {100.0 * passed / total:.1f} %" if total else "0/0"


def summarize(
    results: dict[str, Any],
    reference: dict[str, Any] | None = None,
    examples: int = 3,
    details: int = 8,
) -> str:
    """A text report of one target's results (the plugin's JSON); see `served_by`."""
    tests: list[dict[str, Any]] = list(results["tests"])
    for error in results.get("collect_errors", ()):
        # The baseline's tests of a module that did not import count as errors.
        lost = [
            t
            for t in (reference or {}).get("tests", ())
            if t["nodeid"].startswith(error["nodeid"] + "::")
        ]
        tests.extend(
            {
                **t,
                "outcome": "error" if t["outcome"] != "skipped" else "skipped",
                "reason": {
                    "category": "test module does not import",
                    "detail": f"{error['nodeid']}: {error['error']}",
                },
            }
            for t in lost
        )
    served = served_by(tests, reference["tests"] if reference else None)
    compat = " (oxide_io.compat installed)" if results["compat"] else ""
    lines = [f"== {results['target']}{compat}"]
    if results.get("adapted"):
        for factory, missing in sorted(results["adapted"].items()):
            lines.append(f"   {factory}() lacks keyword arguments: {', '.join(missing)}")
    for error in results.get("collect_errors", ()):
        lines.append(f"   does not import: {error['nodeid']}: {error['error']}")
    per_runtime: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for test in tests:
        per_runtime[test["runtime"]][test["outcome"]] += 1
    lines.append("   runtime    passed  failed  errors skipped")
    for runtime in sorted(per_runtime):
        c = per_runtime[runtime]
        lines.append(
            f"   {runtime:<9} {c['passed']:>7} {c['failed']:>7} {c['error']:>7} {c['skipped']:>7}"
        )
    ran = [t for t in tests if t["outcome"] != "skipped"]
    by_source: dict[str, collections.Counter[bool]] = collections.defaultdict(collections.Counter)
    for test in ran:
        by_source[served[test["nodeid"]]][test["outcome"] == "passed"] += 1
    total_served = sum(sum(by_source[s].values()) for s in _SERVED)
    passed_served = sum(by_source[s][True] for s in _SERVED)
    lines.append(f"   pass rate over served endpoints: {_rate(passed_served, total_served)}")
    for source in (*_SERVED, "unserved", "no request"):
        if by_source.get(source):
            tally = by_source[source]
            lines.append(f"     {source:<11} {_rate(tally[True], tally[True] + tally[False])}")
    if reference is not None and reference["target"] != results["target"]:
        # Only the tests this run ran: a sampled run against a full baseline.
        ours = {t["nodeid"] for t in tests}
        baseline = {
            t["nodeid"]
            for t in reference["tests"]
            if t["outcome"] == "passed" and t["nodeid"] in ours
        }
        both = sum(1 for t in ran if t["outcome"] == "passed" and t["nodeid"] in baseline)
        name = reference["target"]
        lines.append(f"   of the tests the baseline ({name}) passes: {_rate(both, len(baseline))}")
    failed = [t for t in ran if t["outcome"] != "passed"]
    categories: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for test in failed:
        reason = test.get("reason") or {"category": "unknown", "detail": ""}
        categories[reason["category"]].append(test)
    if failed:
        lines.append(f"   failures by reason ({len(failed)}):")
    for category, members in sorted(categories.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"   {len(members):>6}  {category}")
        counted = collections.Counter(t.get("reason", {}).get("detail", "") for t in members)
        for detail, count in counted.most_common(details):
            sample = [t["nodeid"] for t in members if t.get("reason", {}).get("detail") == detail]
            lines.append(f"   {count:>10}  {detail}")
            for nodeid in sample[:examples]:
                lines.append(f"                 e.g. {nodeid}")
        if len(counted) > details:
            lines.append(f"                 ... and {len(counted) - details} other details")
    return "\n".join(lines)
