"""The fenced code blocks of the documentation pages and README, and how each is run.

A page's ```python blocks run in order in one namespace, as a reader would type
them into one session, against a server of this process: the embedded MockServer
(`OPENAI_BASE_URL` and `OPENAI_API_KEY` point the examples' `Client()` at it),
or, for a page that says so, the WebSocket API server of the tests.

The README is a page like the others (named `README.md`), so the project's front
page shows only code that works.

Shell blocks run too, each on its own, with `oxide` on the PATH: a ```sh (or
```bash) block as a bash script that must succeed, a ```console block as `$ command` lines
each followed by the output it must print (`...` stands for any text).

Markers are HTML comments, invisible on the site:

- `<!-- docs-test: skip: REASON -->` on the line before a block: the block is not
  run (it needs the real API, or something the local servers do not do), and the
  reason is required; the tests report each such block as skipped with it.
- `<!-- docs-test: server=websocket -->` anywhere on a page: its blocks run
  against the WebSocket server (`client.responses.connect()`, `realtime.connect()`).

A page listed in `OWN_TESTS` has a test of its own that runs its blocks; here
they are reported as skipped, naming that test.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
import types

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

# Blocks in other languages (text, a table of output) are not code to run.
CODE_LANGUAGES = ("python", "sh", "bash", "console")
SHELL_LANGUAGES = ("sh", "bash")
_FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)")
_MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")


class MarkerError(ValueError):
    """A docs-test marker that says nothing usable (no reason, unknown word)."""


@dataclasses.dataclass(frozen=True)
class Block:
    page: pathlib.Path
    line: int  # of the block's first code line, 1-based
    code: str
    skip: str | None  # the reason, when the block is not run
    language: str = "python"

    @property
    def name(self) -> str:
        return f"{_relative(self.page)}:{self.line}"

    def compiled(self) -> types.CodeType:
        # Blank lines in front keep the line numbers of tracebacks the page's own.
        source = "\n" * (self.line - 1) + self.code
        return compile(source, str(self.page), "exec")


@dataclasses.dataclass(frozen=True)
class Page:
    path: pathlib.Path
    blocks: tuple[Block, ...]
    server: str  # "mock" or "websocket"

    @property
    def name(self) -> str:
        return _relative(self.path)


def _relative(path: pathlib.Path) -> str:
    """A docs page by its path under docs/, the README by its own name."""
    return str(path.relative_to(DOCS if path.is_relative_to(DOCS) else ROOT))


def parse(path: pathlib.Path) -> Page:
    """The page's Python blocks with their markers; raises MarkerError on a bad marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    server = "mock"
    previous = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = _MARKER.match(line.strip())
        if marker and marker.group(1).startswith("server="):
            server = marker.group(1).partition("=")[2]
            if server not in ("mock", "websocket"):
                raise MarkerError(f"{path.name}:{index + 1}: unknown server {server!r}")
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                previous = line.strip()
            index += 1
            continue
        indent, language = fence.groups()
        body_start = index + 1
        end = body_start
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        if language in CODE_LANGUAGES:
            code = "\n".join(text[len(indent) :] for text in lines[body_start:end]) + "\n"
            skip = _skip_reason(path, index, previous)
            blocks.append(Block(path, body_start + 1, code, skip, language))
        previous = ""
        index = end + 1
    return Page(path, tuple(blocks), server)


def _skip_reason(path: pathlib.Path, index: int, previous: str) -> str | None:
    marker = _MARKER.match(previous)
    if marker is None or marker.group(1).startswith("server="):
        return None
    words = marker.group(1)
    if not words.startswith("skip"):
        raise MarkerError(f"{path.name}:{index + 1}: unknown marker {words!r}")
    reason = words[len("skip") :].lstrip(":").strip()
    if not reason:
        raise MarkerError(f"{path.name}:{index + 1}: a skipped block must say why")
    return reason


# Pages whose examples a test of their own runs, in a way this generic runner
# cannot (each block in a fresh interpreter, with files beside it).
OWN_TESTS = {
    "coming-from-openai.md": "tests/docs/test_coming_from_openai.py runs it in a fresh interpreter",
}


def pages() -> list[Page]:
    found = []
    for path in [*sorted(DOCS.rglob("*.md")), README]:
        page = parse(path)
        own = OWN_TESTS.get(page.name)
        if own is not None:
            blocks = tuple(dataclasses.replace(b, skip=b.skip or own) for b in page.blocks)
            page = dataclasses.replace(page, blocks=blocks)
        found.append(page)
    return found
