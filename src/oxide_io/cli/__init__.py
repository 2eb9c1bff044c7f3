"""The `oxide` command line: chat, Responses, every API method, a local mock server.

    oxide chat "Why is the sky blue?"           # streams the reply
    oxide api models.list                       # any method, JSON out
    oxide mock-server --port 8000               # a local API to try it on

It is installed with the `cli` extra (`pip install 'oxide-client[cli]'`): click
parses the arguments and completes them in the shell, rich draws progress bars.
Nothing here is imported by `import oxide_io`.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The `oxide` console script; returns the exit status."""
    try:
        import click  # noqa: F401
    except ImportError:
        print(
            "oxide: the command line needs click: pip install 'oxide-client[cli]'",
            file=sys.stderr,
        )
        return 1
    from ._app import run

    return run(argv)
