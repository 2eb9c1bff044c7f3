"""Runs the official SDK's own `tests/api_resources` against the official client and oxide.

    bash scripts/sdk-suite [--target official|oxide|both] [--sample N --seed S] [pytest args]

1. Reads the pinned official version from constraints.txt and downloads its sdist
   (`pip download --no-binary :all: --no-deps openai==X`) into `.sdk-suite/`
   (ignored by git) unless it is there; nothing of it is committed.
2. Builds a run directory per target under `.sdk-suite/`: a `tests` package with
   the sdist's `api_resources` copied unchanged, and `tests/utils.py` (where the
   tests import `assert_matches_type` from) being the official one for the
   baseline and a re-export of `sdk_suite_harness.checker` for oxide. The
   official `tests/conftest.py` is replaced by `sdk_suite_harness.plugin`.
3. Starts Prism on the public spec (installed into `.prism/` by npm on first use,
   as the conformance tests do) and runs pytest once per target in that
   directory; the plugin's front server sends each request to Prism or answers it
   itself (see `sdk_suite_harness/server.py`).
4. Prints each target's summary (see `sdk_suite_harness/summary.py`); the JSON
   results stay in `.sdk-suite/results-<target>.json`.

Arguments it does not know go to pytest (`-k models`, `-x`, a path such as
`tests/api_resources/test_models.py`, relative to the run directory).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator

from tests.conformance.prism import SPEC, PrismUnavailable, run_prism

from .sdk_suite_harness.summary import summarize

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = ROOT / ".sdk-suite"
HARNESS_PATH = pathlib.Path(__file__).resolve().parent
PYTEST_TIMEOUT = 60


def pinned_version() -> str:
    """The official SDK version constraints.txt pins."""
    text = (ROOT / "constraints.txt").read_text()
    found = re.search(r"^openai==(\S+)\s*$", text, re.MULTILINE)
    if found is None:
        raise SystemExit("constraints.txt pins no openai==VERSION")
    return found[1]


def sdist_tests(version: str) -> pathlib.Path:
    """The `tests` directory of the official sdist, downloaded on first use."""
    unpacked = CACHE / f"openai-{version}"
    if (unpacked / "tests" / "api_resources").is_dir():
        return unpacked / "tests"
    CACHE.mkdir(exist_ok=True)
    archive = CACHE / f"openai-{version}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-binary",
                ":all:",
                "--no-deps",
                f"openai=={version}",
                "-d",
                str(CACHE),
            ],
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return unpacked / "tests"


def run_dir(target: str, official: pathlib.Path) -> pathlib.Path:
    """The directory pytest runs in for `target`, rebuilt each time."""
    directory = CACHE / f"run-{target}"
    if directory.exists():
        shutil.rmtree(directory)
    tests = directory / "tests"
    tests.mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    shutil.copytree(official / "api_resources", tests / "api_resources")
    shutil.copytree(official / "respx2", tests / "respx2")
    if target == "official":
        shutil.copy(official / "utils.py", tests / "utils.py")
    else:
        (tests / "utils.py").write_text(
            "from sdk_suite_harness.checker import assert_matches_type as assert_matches_type\n"
        )
    (directory / "pytest.ini").write_text(
        "[pytest]\n"
        f"timeout = {PYTEST_TIMEOUT}\n"
        "testpaths = tests/api_resources\n"
        "addopts = -p no:cacheprovider\n"
    )
    return directory


def run_target(
    target: str,
    official: pathlib.Path,
    prism: str | None,
    sample: int,
    seed: int,
    pytest_args: list[str],
    src: pathlib.Path,
) -> pathlib.Path:
    directory = run_dir(target, official)
    results = CACHE / f"results-{target}.json"
    results.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(directory), str(HARNESS_PATH), str(src)]),
        "SDK_SUITE_TARGET": target,
        "SDK_SUITE_PRISM": prism or "",
        "SDK_SUITE_SPEC": str(SPEC),
        "SDK_SUITE_RESULTS": str(results),
        "SDK_SUITE_SAMPLE": str(sample),
        "SDK_SUITE_SEED": str(seed),
    }
    plugins = ["-p", "sdk_suite_harness.plugin"]
    if target == "official":
        plugins += ["-p", "tests.respx2.plugin"]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        "pytest.ini",
        "-q",
        "--no-header",
        "-rN",
        "--tb=no",
        "--continue-on-collection-errors",
        *plugins,
        *pytest_args,
    ]
    print(f"== running the suite against {target}: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=directory, env=env, check=False)
    return results


@contextlib.contextmanager
def _prism(enabled: bool) -> Iterator[str | None]:
    if not enabled:
        yield None
        return
    try:
        with run_prism(SPEC) as url:
            yield url
    except PrismUnavailable as exc:
        raise SystemExit(f"Prism is needed for the suite: {exc}") from exc


def _run(
    targets: list[str],
    no_prism: bool,
    sample: int,
    seed: int,
    pytest_args: list[str],
    src: pathlib.Path,
) -> list[pathlib.Path]:
    official = sdist_tests(pinned_version())
    with _prism(not no_prism) as prism:
        return [run_target(t, official, prism, sample, seed, pytest_args, src) for t in targets]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("official", "oxide", "both"), default="both")
    parser.add_argument("--sample", type=int, default=0, help="run N tests picked at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument(
        "--no-prism", action="store_true", help="answer only locally (the spec's endpoints 404)"
    )
    parser.add_argument("--examples", type=int, default=3, help="example tests per detail")
    parser.add_argument("--details", type=int, default=8, help="details shown per reason")
    parser.add_argument(
        "--src",
        default=str(ROOT / "src"),
        help="the source tree whose oxide_io is tested (default: this checkout's src)",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="only print the summary of the last run's results (.sdk-suite/results-*.json)",
    )
    args, pytest_args = parser.parse_known_args(argv)
    targets = ["official", "oxide"] if args.target == "both" else [args.target]
    outputs: list[pathlib.Path] = [CACHE / f"results-{target}.json" for target in targets]
    if not args.summary:
        src = pathlib.Path(args.src).resolve()
        outputs = _run(targets, args.no_prism, args.sample, args.seed, pytest_args, src)
    status = 0
    baseline = CACHE / "results-official.json"
    reference = json.loads(baseline.read_text()) if baseline.exists() else None
    for output in outputs:
        if not output.exists():
            print(f"== no results in {output}: pytest did not finish")
            status = 1
            continue
        results = json.loads(output.read_text())
        print(summarize(results, reference, examples=args.examples, details=args.details))
    return status


if __name__ == "__main__":
    sys.exit(main())
