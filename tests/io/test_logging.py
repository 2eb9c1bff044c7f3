"""Logging through the `oxide` logger, and the API key kept out of every text a user may see.

`OPENAI_LOG=debug` switches logging on, as in the official SDK. Whatever is
logged, printed or raised — log records, reprs of the client and its options,
error messages and their causes, tracebacks — must never contain the key.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from oxide_io import APIConnectionError, APIStatusError, APITimeoutError, AsyncClient, Client
from oxide_io.testing import CutStream, Delay, Fail
from tests.io.blocking import unwrap
from tests.io.conftest import KEY, MakeClient, Setup
from tests.servers import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]
SECRET = KEY[8:]  # any recognisable part of the key


@pytest.fixture
def oxide_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("oxide")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def texts_of(error: BaseException) -> str:
    """Every text an error shows: str, repr, its request, its causes, the traceback."""
    parts = ["".join(traceback.format_exception(type(error), error, error.__traceback__))]
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(getattr(seen, "request", None))]
        parts += [repr(getattr(seen, "body", None)), repr(getattr(seen, "response", None))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_openai_log_switches_logging_on(
    client_class: Any, monkeypatch: pytest.MonkeyPatch, oxide_logger: logging.Logger
) -> None:
    oxide_logger.handlers.clear()
    oxide_logger.setLevel(logging.NOTSET)
    monkeypatch.setenv("OPENAI_LOG", "debug")
    client_class(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    assert oxide_logger.level == logging.DEBUG
    assert len(oxide_logger.handlers) == 1
    client_class(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    assert len(oxide_logger.handlers) == 1  # configured once


async def test_requests_are_logged_without_the_key(
    any_transport: Setup, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="oxide")
    client = make_client(any_transport)
    any_transport.server.enqueue(Fail(429, retry_after_ms=10))
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    messages = [record.getMessage() for record in caplog.records]
    assert any("POST" in m and "/chat/completions" in m for m in messages)
    assert any(m.startswith("Retrying") for m in messages)
    assert SECRET not in caplog.text
    assert all(SECRET not in repr(record.__dict__) for record in caplog.records)


async def test_key_not_in_reprs(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    target = unwrap(client)
    for text in (
        repr(client),
        str(client),
        repr(target._options),
        repr(client.with_options(timeout=3)),
        repr(vars(target)),
    ):
        assert SECRET not in text
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert SECRET not in repr(raw)
    assert SECRET not in repr(unwrap(raw).http_response)
    assert SECRET not in repr(unwrap(raw).http_response.request)


async def test_key_not_in_errors(
    mock: Setup, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="oxide")
    errors: list[BaseException] = []
    client = make_client(mock, max_retries=1, timeout=0.3)
    mock.server.enqueue(Fail(400, message="bad request"))
    with pytest.raises(APIStatusError) as status:
        await client.models.list()
    errors.append(status.value)
    mock.server.enqueue(Delay(3, times=2))
    with pytest.raises(APITimeoutError) as timeout:
        await client.models.list()
    errors.append(timeout.value)
    mock.server.enqueue(CutStream(after_events=1))
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError) as cut:
        async for _ in stream:
            pass
    errors.append(cut.value)
    refused = make_client(base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0)
    with pytest.raises(APIConnectionError) as connect:
        await refused.models.list()
    errors.append(connect.value)
    wrong = make_client(mock, api_key=f"sk-wrong-{SECRET}")
    with pytest.raises(APIStatusError) as unauthorized:
        await wrong.models.list()
    errors.append(unauthorized.value)
    for error in errors:
        assert SECRET not in texts_of(error), type(error)
    assert SECRET not in caplog.text


def test_import_leaves_logging_unloaded_and_a_late_import_still_logs() -> None:
    # `import oxide_io` does not import logging; a program that imports it later
    # and switches the `oxide` logger on gets the records from then on, at the
    # line that logged them.
    code = """if True:
        import sys
        import oxide_io
        from oxide_io._logging import logger
        print("logging" in sys.modules)
        logger.debug("before %s", 1)  # no logging module: nowhere to go
        import logging
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append((record.getMessage(), record.filename))
        logging.getLogger("oxide").addHandler(Keep())
        logging.getLogger("oxide").setLevel(logging.DEBUG)
        logger.debug("after %s", 2)
        logger.info("info %s", 3)
        print(records, logger.isEnabledFor(logging.DEBUG))
    """
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_LOG"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.splitlines() == [
        "False",
        "[('after 2', '<string>'), ('info 3', '<string>')] True",
    ]
