"""The socket floor of the concurrency sweep: it does the sweep's work and refuses any other.

A floor that took an error page or a wrong body for an answer would measure
nothing, so these tests make it meet a 500, another reply, a response cut in
pieces and bytes after the body, against the mock server on 127.0.0.1. The
sweep itself runs once with the fewest calls, for the table's columns.
"""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest

from oxide_io._bench import client as bench_client
from oxide_io._bench.server import Server
from oxide_io._bench.socket_floor import AsyncSocketFloorClient, BadResponse, response_body
from oxide_io.testing import Fail, MockServer

BODY = b'{"ok": true}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


def test_a_whole_response_gives_its_body() -> None:
    assert response_body(RESPONSE) == BODY


@pytest.mark.parametrize("size", [1, 2, 7, 40])
def test_a_response_in_pieces_is_whole_only_at_its_last_byte(size: int) -> None:
    buffer = bytearray()
    for at in range(0, len(RESPONSE), size):
        buffer += RESPONSE[at : at + size]
        body = response_body(buffer)
        assert body == (BODY if len(buffer) == len(RESPONSE) else None)


def test_anything_but_a_200_with_a_length_is_refused() -> None:
    with pytest.raises(BadResponse, match="not a 200"):
        response_body(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n")
    with pytest.raises(BadResponse, match="Content-Length"):
        response_body(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    with pytest.raises(BadResponse, match="after the response"):
        response_body(RESPONSE + b"HTTP/1.1")


def _client(server: MockServer) -> AsyncSocketFloorClient:
    return AsyncSocketFloorClient(
        base_url=server.base_url,
        api_key=bench_client.API_KEY,
        model=bench_client.MODEL,
        messages=bench_client._messages(bench_client.PROMPT),
    )


async def _calls(client: AsyncSocketFloorClient, count: int) -> int:
    work = bench_client.request_work()
    try:
        return sum([await work.acall(client) for _ in range(count)])
    finally:
        await client.aclose()


def test_the_sweeps_calls_pass_its_check_on_one_kept_alive_connection() -> None:
    async def calls(client: AsyncSocketFloorClient) -> tuple[int, int]:
        work = bench_client.request_work()
        try:
            done = sum([await work.acall(client) for _ in range(5)])
            return done, len(client._idle)
        finally:
            await client.aclose()

    with MockServer(http2=False) as server:
        client = _client(server)
        # One connection served them all: every call after the first reused it.
        assert asyncio.run(calls(client)) == (5, 1)
        assert [r.json for r in server.requests] == [
            {"model": bench_client.MODEL, "messages": bench_client._messages(bench_client.PROMPT)}
        ] * 5
        assert client._idle == []  # closed by aclose


def test_an_error_status_fails_the_call() -> None:
    with MockServer(http2=False) as server:
        server.enqueue(Fail(500, should_retry=False))
        with pytest.raises(BadResponse, match="not a 200"):
            asyncio.run(_calls(_client(server), 1))


def test_another_reply_fails_the_sweeps_check() -> None:
    with (
        MockServer(http2=False, reply_text="something else") as server,
        pytest.raises(bench_client.BadReply),
    ):
        asyncio.run(_calls(_client(server), 1))


def test_it_sends_only_the_request_it_was_made_for() -> None:
    async def other() -> None:
        with MockServer(http2=False) as server:
            client = _client(server)
            with pytest.raises(ValueError, match="only the request"):
                await client.chat.completions.create(model="gpt-4o", messages=[])

    asyncio.run(other())


def test_the_sweep_table_shows_flatness_and_both_floors() -> None:
    with MockServer(http2=False) as server:
        results = bench_client.sweep(Server(server.base_url, None), False, [1, 2], 1, 2)
    labels = [r.label for r in results]
    assert labels[0].startswith("oxide") and bench_client.FLOOR_SOCKET in labels
    assert bench_client.FLOOR_ASYNC in labels
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bench_client.concurrency_table(False, results, [1, 2])
    table = out.getvalue()
    assert "÷ c=2" in table and "oxide ÷ h11 floor" in table and "oxide ÷ socket floor" in table
    last = table.strip().splitlines()[-1].split()
    # At the largest level every client's flatness is its own figure over itself.
    assert last[0] == "2" and last[2::2][: len(results)] == ["1.00"] * len(results)
