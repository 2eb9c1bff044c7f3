"""The pytest plugin that runs the official SDK's `tests/api_resources` against a client.

Loaded with `-p` by `run.py` in the run directory; `SDK_SUITE_TARGET` picks the
client: "official" (the installed `openai`, the baseline) or "oxide". It replaces
what the official `tests/conftest.py` provides, which needs pytest-asyncio:

- `client`: a blocking client per strictness (the tests parametrize it with
  `[False, True]`, "loose" and "strict"), built like the official conftest builds
  it. For oxide: `openai.OpenAI` after `oxide_io.compat.install()` when that
  exists, else `oxide_io.Client`, given only the keyword arguments its signature
  takes (the ones it lacks are listed in the results, not silently dropped).
- `async_client`: every async test runs under each runtime, asyncio and trio
  (`sdk_suite_runtime`), in that runtime's session loop (see `loops.py`) with the
  session's client of that loop and strictness, as the official conftest keeps
  one session client on one session loop. The official parametrization's third
  case, the official SDK's optional aiohttp transport, is skipped for both
  clients: aiohttp is not installed here and oxide has no such transport.
- `respx2_mock` (oxide only): the official tests mock a few binary endpoints with
  respx2, which patches the official SDK's HTTP library; here the mocked answers
  are served by the front server over HTTP instead.

Every test's outcome, the requests it made (and who answered them) and, for a
failure, its classified reason go to the JSON file `SDK_SUITE_RESULTS`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pathlib
import random
import re
import sys
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytest

from .checker import oxide_counterparts
from .classify import classify
from .loops import Loop, start_loop
from .routes import official_routes
from .server import FrontServer

TARGET = os.environ.get("SDK_SUITE_TARGET", "oxide")
RUNTIMES = ("asyncio", "trio")
API_KEY = "My API Key"
ADMIN_API_KEY = "My Admin API Key"

# The official helper's bare asserts explain themselves, as the official conftest has it.
pytest.register_assert_rewrite("tests.utils")


def _install_compat() -> bool:
    """Makes `import openai` resolve to oxide when `oxide_io.compat` exists.

    The official SDK's endpoint table and the checker's type pairs are read first,
    from the official package; then its modules leave `sys.modules`, so that the
    tests' imports cannot reach it, and it is checked that `openai` is oxide's.
    """
    try:
        from oxide_io import compat  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return False
    official_routes()
    oxide_counterparts(object)
    for name in [n for n in sys.modules if n == "openai" or n.startswith("openai.")]:
        del sys.modules[name]
    compat.install()
    module = importlib.import_module("openai")
    client = getattr(module, "OpenAI", None)
    if not getattr(client, "__module__", "").startswith("oxide"):
        raise RuntimeError(f"after oxide_io.compat.install(), openai.OpenAI is {client!r}")
    return True


# `import openai` resolves to oxide from here on, before any test module imports it.
COMPAT = TARGET == "oxide" and _install_compat()

_front: FrontServer | None = None
_results: dict[str, dict[str, Any]] = {}
_marks: dict[str, int] = {}
_adapted: dict[str, list[str]] = {}
_collect_errors: list[dict[str, str]] = []


def _server() -> FrontServer:
    assert _front is not None, "the front server starts in pytest_configure"
    return _front


def pytest_configure(config: pytest.Config) -> None:
    global _front
    spec_path = os.environ.get("SDK_SUITE_SPEC")
    spec = json.loads(pathlib.Path(spec_path).read_text()) if spec_path else {}
    _front = FrontServer(os.environ.get("SDK_SUITE_PRISM") or None, spec)
    _front.start()
    # The test modules read it at import, for their respx2 marks.
    os.environ["TEST_API_BASE_URL"] = _front.url
    config.addinivalue_line("markers", "respx2(**kwargs): routes mocked by the official tests")


def pytest_unconfigure(config: pytest.Config) -> None:
    _close_async_clients()
    if _front is not None:
        _front.stop()
    out = os.environ.get("SDK_SUITE_RESULTS")
    if out:
        payload = {
            "target": TARGET,
            "compat": COMPAT,
            "adapted": _adapted,
            "collect_errors": _collect_errors,
            "tests": list(_results.values()),
        }
        pathlib.Path(out).write_text(json.dumps(payload, indent=1))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sdk_suite_runtime" in metafunc.fixturenames:
        metafunc.parametrize("sdk_suite_runtime", RUNTIMES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("async_client") if callspec else None
        if isinstance(param, dict) and param.get("http_client") == "aiohttp":
            item.add_marker(
                pytest.mark.skip(
                    reason="aiohttp transport of the official SDK (not installed; "
                    "oxide's async runtimes are the asyncio and trio cases)"
                )
            )
    sample = int(os.environ.get("SDK_SUITE_SAMPLE") or 0)
    if sample and sample < len(items):
        rng = random.Random(int(os.environ.get("SDK_SUITE_SEED") or 0))
        keep = set(rng.sample(range(len(items)), sample))
        deselected = [item for i, item in enumerate(items) if i not in keep]
        items[:] = [item for i, item in enumerate(items) if i in keep]
        config.hook.pytest_deselected(items=deselected)


def _accepted(factory: Callable[..., Any], wanted: dict[str, Any], label: str) -> Any:
    """`factory(**wanted)` without the keyword arguments it does not take, noted in the results.

    By signature, and by retrying after a TypeError naming one (a `**kwargs`
    constructor that passes them on), so that one missing option does not hide
    everything else the suite can show.
    """
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        parameters = {}  # type: ignore[assignment]
    kwargs = dict(wanted)
    if parameters and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        kwargs = {k: v for k, v in wanted.items() if k in parameters}
    for _ in range(len(wanted) + 1):
        try:
            made = factory(**kwargs)
        except TypeError as exc:
            found = _UNEXPECTED.search(str(exc))
            if found is None or found["arg"] not in kwargs:
                raise
            del kwargs[found["arg"]]
            continue
        missing = sorted(set(wanted) - set(kwargs))
        if missing:
            _adapted[label] = missing
        return made
    raise AssertionError("unreachable: each retry drops one argument")


_UNEXPECTED = re.compile(r"unexpected keyword argument '(?P<arg>\w+)'")


def _client_kwargs(strict: bool) -> dict[str, Any]:
    return {
        "base_url": _server().url,
        "api_key": API_KEY,
        "admin_api_key": ADMIN_API_KEY,
        "_strict_response_validation": strict,
    }


def _make_client(strict: bool) -> Any:
    kwargs = _client_kwargs(strict)
    if TARGET == "official" or COMPAT:
        import openai

        if TARGET == "official":
            kwargs["http_client"] = openai.DefaultHttpx2Client()
        return _accepted(openai.OpenAI, kwargs, "OpenAI")
    import oxide_io

    return _accepted(oxide_io.Client, kwargs, "oxide_io.Client")


def _make_async_client(strict: bool) -> Any:
    kwargs = _client_kwargs(strict)
    if TARGET == "official" or COMPAT:
        import openai

        if TARGET == "official":
            kwargs["http_client"] = openai.DefaultAsyncHttpx2Client()
        return _accepted(openai.AsyncOpenAI, kwargs, "AsyncOpenAI")
    import oxide_io

    return _accepted(oxide_io.AsyncClient, kwargs, "oxide_io.AsyncClient")


@pytest.fixture(scope="session")
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    strict = getattr(request, "param", True)
    made = _make_client(bool(strict))
    try:
        yield made
    finally:
        made.close()


@dataclass(frozen=True)
class AsyncClientSpec:
    """What `async_client` becomes inside the test's event loop."""

    strict: bool
    runtime: str


@pytest.fixture
def sdk_suite_runtime(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def async_client(request: pytest.FixtureRequest, sdk_suite_runtime: str) -> Any:
    param = getattr(request, "param", True)
    strict = param if isinstance(param, bool) else bool(param.get("strict", True))
    if not inspect.iscoroutinefunction(request.function):
        # A blocking test that only inspects the async client's methods.
        return _async_client(sdk_suite_runtime, strict)
    return AsyncClientSpec(strict, sdk_suite_runtime)


class _Route:
    def __init__(self, method: str, path: str) -> None:
        self._method = method
        self._path = path

    def mock(self, return_value: Any = None, **_: Any) -> _Route:
        _server().override(
            self._method,
            self._path,
            int(return_value.status_code),
            list(return_value.headers.items()),
            bytes(return_value.content),
        )
        return self


class RouteOverrides:
    """respx2's `MockRouter` calls the official tests make, served over HTTP."""

    def __getattr__(self, method: str) -> Callable[[str], _Route]:
        if method not in {"get", "post", "put", "patch", "delete"}:
            raise AttributeError(method)
        return lambda path: _Route(method.upper(), path)


if TARGET == "oxide":

    @pytest.fixture
    def respx2_mock() -> Iterator[RouteOverrides]:
        try:
            yield RouteOverrides()
        finally:
            _server().clear_overrides()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    spec = kwargs.get("async_client")
    runtime = spec.runtime if isinstance(spec, AsyncClientSpec) else "asyncio"

    loop = _loop(runtime)
    if isinstance(spec, AsyncClientSpec):
        kwargs["async_client"] = _async_client(runtime, spec.strict)

    async def main() -> None:
        await function(**kwargs)

    loop.run(main)
    return True


_loops: dict[str, Loop] = {}
_async_clients: dict[tuple[str, bool], Any] = {}


def _loop(runtime: str) -> Loop:
    if runtime not in _loops:
        _loops[runtime] = start_loop(runtime)
    return _loops[runtime]


def _async_client(runtime: str, strict: bool) -> Any:
    """The session's async client of `runtime` and strictness, made in that loop."""
    key = (runtime, strict)
    if key not in _async_clients:

        async def make() -> Any:
            return _make_async_client(strict)

        _async_clients[key] = _loop(runtime).run(make)
    return _async_clients[key]


def _close_async_clients() -> None:
    for (runtime, _), made in _async_clients.items():
        close = getattr(made, "aclose", None) or made.close
        _loops[runtime].run(close)
    _async_clients.clear()
    for loop in _loops.values():
        loop.close()
    _loops.clear()


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # A test module that does not import (a name its imports lack) loses all its tests.
    if report.failed:
        lines = str(report.longrepr).strip().splitlines()
        errors = [line for line in lines if line.startswith("E ")] or lines[-1:]
        _collect_errors.append({"nodeid": report.nodeid, "error": errors[-1][:300]})


def pytest_runtest_setup(item: pytest.Item) -> None:
    _marks[item.nodeid] = _server().mark()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _record(item, call, report)
    return report


def _record(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    entry = _results.setdefault(
        item.nodeid,
        {"nodeid": item.nodeid, "outcome": "passed", "runtime": _runtime(item)},
    )
    if report.skipped:
        entry["outcome"] = "skipped"
        entry["reason"] = {"category": "skipped", "detail": str(report.longrepr)[-200:]}
    elif report.failed and entry["outcome"] != "failed":
        entry["outcome"] = "failed" if report.when == "call" else "error"
        excinfo = call.excinfo
        if excinfo is not None:
            entry["reason"] = classify(excinfo.value, item.name)
            entry["exception"] = f"{type(excinfo.value).__name__}: {excinfo.value}"[:600]
            frames = traceback.extract_tb(excinfo.tb)
            entry["where"] = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-3:]]
    if report.when == "teardown" and item.nodeid in _marks:
        served = _server().since(_marks.pop(item.nodeid))
        entry["requests"] = [asdict(s) for s in served]
        if "respx2_mock" in getattr(item, "fixturenames", ()):
            entry["mocked"] = True


def _runtime(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "sdk_suite_runtime" in callspec.params:
        return str(callspec.params["sdk_suite_runtime"])
    return "blocking"
