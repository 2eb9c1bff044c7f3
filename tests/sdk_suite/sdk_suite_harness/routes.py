"""Which endpoint answers with which type, in the official SDK and in oxide.

The official SDK's resource methods each call `self._get/_post/_delete(path, ...,
cast_to=T)` or `self._get_api_list(path, page=P[T])`; reading their source with
`ast` gives, per (HTTP method, path template), the type the SDK decodes the answer
into (evaluated in the resource module's own namespace, so names resolve as the SDK
resolves them). oxide declares the same facts as `Operation` constants in its
resource modules. The local server answers from the first table; the type checker
pairs the two tables by endpoint to learn which oxide type stands for an official
one (`Assistant` is `AssistantObject` in oxide, for example).
"""

from __future__ import annotations

import ast
import functools
import importlib
import pathlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OfficialRoute",
    "official_routes",
    "oxide_operations",
    "path_key",
    "PathMatcher",
]

_VERBS = {"_get": "GET", "_post": "POST", "_delete": "DELETE", "_put": "PUT", "_patch": "PATCH"}
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def path_key(method: str, template: str) -> tuple[str, str]:
    """An endpoint with its parameter names erased: ("GET", "/models/{}")."""
    return method.upper(), _PLACEHOLDER.sub("{}", template)


@dataclass(frozen=True)
class OfficialRoute:
    """One endpoint of the official SDK and what its answer decodes to."""

    method: str
    template: str
    # The `cast_to` type, or for a list the page's item type (`page` set).
    cast_to: Any
    page: Any | None
    streams: bool
    module: str
    # The answer is bytes (`HttpxBinaryResponseContent`), not JSON.
    binary: bool


def _path_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    # path_template("/x/{id}", id=id)
    if (
        isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("{}")
        return "".join(parts)
    return None


def _unwrap_cast(node: ast.expr) -> ast.expr:
    # cast(Any, Union) -> Union
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "cast"
        and len(node.args) == 2
    ):
        return node.args[1]
    return node


def _routes_of_module(module_name: str, path: pathlib.Path) -> list[OfficialRoute]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = importlib.import_module(module_name)
    namespace = vars(module)
    routes: list[OfficialRoute] = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
            and node.args
        ):
            continue
        name = node.func.attr
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        template = _path_of(node.args[0])
        if template is None:
            continue
        if name in _VERBS and "cast_to" in keywords:
            method = _VERBS[name]
            cast_node = _unwrap_cast(keywords["cast_to"])
            page = None
        elif name == "_get_api_list" and "page" in keywords:
            method_node = keywords.get("method")
            method = (
                str(method_node.value).upper() if isinstance(method_node, ast.Constant) else "GET"
            )
            page_node = keywords["page"]
            page = eval(ast.unparse(page_node), namespace)  # the SDK's own expression
            cast_node = (
                page_node.slice if isinstance(page_node, ast.Subscript) else keywords["model"]
            )
        else:
            continue
        try:
            cast_to = eval(ast.unparse(cast_node), namespace)
        except Exception:  # a name only bound under TYPE_CHECKING: leave it untyped
            cast_to = object
        routes.append(
            OfficialRoute(
                method=method,
                template=template,
                cast_to=cast_to,
                page=page,
                streams="stream_cls" in keywords,
                module=module_name,
                binary=getattr(cast_to, "__name__", "") == "HttpxBinaryResponseContent",
            )
        )
    return routes


@functools.cache
def official_routes() -> dict[tuple[str, str], OfficialRoute]:
    """Every endpoint the installed official SDK calls, by `path_key`.

    Read before `oxide_io.compat.install()` makes `import openai` resolve to oxide
    (the plugin sees to it): the table keeps the official classes themselves.
    """
    import openai.resources

    root = pathlib.Path(openai.resources.__file__).parent
    table: dict[tuple[str, str], OfficialRoute] = {}
    for info in pkgutil.walk_packages([str(root)], "openai.resources."):
        if info.ispkg:
            continue
        relative = info.name.removeprefix("openai.resources.").replace(".", "/") + ".py"
        for route in _routes_of_module(info.name, root / relative):
            # Sync and async classes repeat each route; the first is kept.
            table.setdefault(path_key(route.method, route.template), route)
    return table


@functools.cache
def oxide_operations() -> dict[tuple[str, str], Any]:
    """Every `oxide_proto.Operation` of oxide's resource modules, by `path_key`."""
    import oxide_io._sync.resources as resources
    from oxide_proto import Operation

    table: dict[tuple[str, str], Any] = {}
    for info in pkgutil.walk_packages(resources.__path__, resources.__name__ + "."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, Operation):
                table.setdefault(path_key(value.method, value.path), value)
    return table


class PathMatcher:
    """Matches a request path against path templates ("/models/{model}")."""

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        # Literal templates win over ones with placeholders, and longer literal
        # prefixes over shorter ones, as a router would order them.
        def rank(key: tuple[str, str]) -> tuple[int, int]:
            return (key[1].count("{}"), -len(key[1]))

        self._patterns = [
            (key, re.compile("^" + re.escape(key[1]).replace(r"\{\}", "[^/]+") + "$"))
            for key in sorted(keys, key=rank)
        ]

    def match(self, method: str, path: str) -> tuple[str, str] | None:
        for key, pattern in self._patterns:
            if key[0] == method.upper() and pattern.match(path):
                return key
        return None
