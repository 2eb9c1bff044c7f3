"""Logging through the stdlib: logger `oxide`, switched on by `OPENAI_LOG=debug|info`.

Nothing here ever formats a credential: requests are logged by method, URL and
header names only, and `redact()` scrubs anything that looks like an API key
from text that reaches a log line or an exception.
"""

from __future__ import annotations

import logging
import os
import re

__all__ = ["logger", "redact", "setup_logging"]

logger = logging.getLogger("oxide")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
# OpenAI keys: sk-..., sk-proj-..., sk-admin-...; also any bearer token in text.
_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]+|(Bearer\s+)\S+")


def redact(text: str) -> str:
    """`text` with API keys and bearer tokens cut down to a recognisable stub."""
    return _SECRET.sub(lambda m: f"{m.group(1)}***" if m.group(1) else f"{m.group(2)}***", text)


def setup_logging() -> None:
    """Applies OPENAI_LOG once, the way the official SDK does."""
    level = _LEVELS.get(os.environ.get("OPENAI_LOG", "").lower())
    if level is None or logger.handlers:
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
