"""The core's folders are its layers, and imports only go down.

`base` (records, headers, errors, URLs) is at the bottom; the protocols (`http`,
`sse`, `websocket`) build on it and know nothing of the OpenAI API; `api` maps the
API onto them; `helpers` (accumulators, schemas) and the generated `types` sit on
top. A protocol module that imported the API layer or the generated types could no
longer be reused or fuzzed on its own, so this test reads every import statement.
"""

from __future__ import annotations

import ast
import pathlib

import oxide_proto

CORE = pathlib.Path(oxide_proto.__file__).parent

# layer -> the layers its modules may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "http": {"base"},
    "sse": {"base", "http"},
    "websocket": {"base", "http"},
    "api": {"base", "http", "sse", "types"},
    "helpers": {"base", "api", "types"},
    "sessions": {"base", "http", "websocket", "api", "helpers", "types"},
    "types": {"base", "api"},
}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "oxide_proto" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ALLOWED else None


def _imports(path: pathlib.Path, root: pathlib.Path) -> list[tuple[int, str]]:
    """The absolute module names `path` (under `root`, the core) imports, by line."""
    package = ["oxide_proto", *path.relative_to(root).parts[:-1]]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from .. import api` names a layer through the alias
            for alias in node.names:
                found.append((node.lineno, f"{target}.{alias.name}"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_every_core_module_lives_in_a_layer() -> None:
    loose = [p.name for p in CORE.glob("*.py") if p.name not in ("__init__.py", "_version.py")]
    assert loose == []
    assert {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()} == set(ALLOWED)


def _violations(root: pathlib.Path) -> list[str]:
    offenders = []
    for layer, allowed in ALLOWED.items():
        for path in sorted((root / layer).rglob("*.py")):
            for line, target in _imports(path, root):
                other = _layer_of(target)
                if other is not None and other != layer and other not in allowed:
                    offenders.append(f"{path.relative_to(root)}:{line} imports {target}")
    return offenders


def test_imports_only_go_down_the_layers() -> None:
    assert _violations(CORE) == []


def test_an_upward_import_is_found(tmp_path: pathlib.Path) -> None:
    (tmp_path / "http").mkdir()
    (tmp_path / "http" / "_h.py").write_text(
        "from ..api._decode import decode\nfrom oxide_proto import types\nfrom .. import helpers\n"
    )
    assert _violations(tmp_path) == [
        "http/_h.py:1 imports oxide_proto.api._decode",
        "http/_h.py:1 imports oxide_proto.api._decode.decode",
        "http/_h.py:2 imports oxide_proto.types",
        "http/_h.py:3 imports oxide_proto.helpers",
    ]
