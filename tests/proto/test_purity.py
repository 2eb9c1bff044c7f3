"""The core must stay pure: this test reads every module's imports.

oxide_proto may not reach a socket, TLS, an event loop, a thread, the clock, a
randomness source, the environment or the file system; whatever needs those takes
them as arguments. Checking the source (not sys.modules) catches imports hidden
inside functions too.
"""

from __future__ import annotations

import ast
import pathlib

import oxide_proto

FORBIDDEN = {
    "socket",
    "ssl",
    "asyncio",
    "trio",
    "anyio",
    "selectors",
    "select",
    "threading",
    "multiprocessing",
    "subprocess",
    "concurrent",
    "time",
    "random",
    "secrets",
    "os",
    "pathlib",
    "shutil",
    "tempfile",
    "io",
    "urllib.request",
    "http.client",
    "sniffio",
    "oxide_io",
}
FORBIDDEN_CALLS = {"open", "input", "print", "__import__"}

CORE = pathlib.Path(oxide_proto.__file__).parent


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _forbidden(name: str) -> bool:
    parts = name.split(".")
    return any(".".join(parts[: i + 1]) in FORBIDDEN for i in range(len(parts)))


def test_core_imports_no_io() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        offenders += [f"{path.name}: import {n}" for n in _imports(tree) if _forbidden(n)]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                offenders.append(f"{path.name}:{node.lineno}: calls {node.func.id}()")
    assert offenders == []


def test_every_public_name_is_exported() -> None:
    exported = set(dir(oxide_proto))
    missing = []
    for path in sorted(CORE.rglob("_*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                assert isinstance(node.value, (ast.List, ast.Tuple))
                for elt in node.value.elts:
                    assert isinstance(elt, ast.Constant)
                    if elt.value not in exported:
                        missing.append(f"{path.name}: {elt.value}")
    assert missing == []
