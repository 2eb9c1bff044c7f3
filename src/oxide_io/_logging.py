"""Logging through the stdlib: logger `oxide`, switched on by `OPENAI_LOG=debug|info`.

Nothing here ever formats a credential: requests are logged by method, URL and
header names only, and `redact()` scrubs anything that looks like an API key
from text that reaches a log line or an exception.

`import oxide_io` does not import `logging` (about a tenth of its import time):
oxide logs at DEBUG and INFO only, and until some code has imported `logging` no
handler or level can have been set, so such a record would go nowhere. `logger`
looks for the module in `sys.modules` until it is there, and is the `oxide` logger from
then on; `OPENAI_LOG` imports it when it asks for logging.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

__all__ = ["DEBUG", "INFO", "logger", "redact", "setup_logging"]

# The stdlib's values (fixed by the logging module's documentation).
DEBUG = 10
INFO = 20


# The `oxide` logger, once found: `logging.getLogger` takes the logging module's lock
# and walks four functions, at each call's check for DEBUG otherwise, and the logger
# it returns for a name is the same object for the life of the process.
_found: logging.Logger | None = None


def _logger() -> logging.Logger | None:
    """The `oxide` logger once some code has imported `logging`; None before."""
    global _found
    real = _found
    if real is None:
        logging = sys.modules.get("logging")
        if logging is None:
            return None
        real = _found = logging.getLogger("oxide")
    return real


class _Logger:
    """The `oxide` logger's DEBUG and INFO calls, without importing `logging` for them."""

    __slots__ = ()

    def isEnabledFor(self, level: int) -> bool:  # logging.Logger's name, for a drop-in
        # Asked at every call: the found logger without a call to `_logger()`.
        real = _found or _logger()
        return real is not None and real.isEnabledFor(level)

    def debug(self, msg: str, *args: object) -> None:
        real = _logger()
        if real is not None and real.isEnabledFor(DEBUG):
            real.debug(msg, *args, stacklevel=2)

    def info(self, msg: str, *args: object) -> None:
        real = _logger()
        if real is not None and real.isEnabledFor(INFO):
            real.info(msg, *args, stacklevel=2)


logger = _Logger()

_LEVELS = {"debug": DEBUG, "info": INFO}
# OpenAI keys: sk-..., sk-proj-..., sk-admin-...; also any bearer token in text.
_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]+|(Bearer\s+)\S+")


def redact(text: str) -> str:
    """`text` with API keys and bearer tokens cut down to a recognisable stub."""
    return _SECRET.sub(lambda m: f"{m.group(1)}***" if m.group(1) else f"{m.group(2)}***", text)


def setup_logging() -> None:
    """Applies OPENAI_LOG once, the way the official SDK does."""
    level = _LEVELS.get(os.environ.get("OPENAI_LOG", "").lower())
    if level is None:
        return
    import logging

    logger = logging.getLogger("oxide")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s",
            "%Y-%m-%d %H:%M:%S",
        )
    )
    logger.addHandler(handler)
    logger.setLevel(level)
