"""Servers that misbehave: each call gets its own answer or a typed error, never another's.

A raw server on 127.0.0.1 (`tests.io.scripted`) writes bytes no well-behaved server
would: a response followed by garbage or by a second response, a 200 whose body is
not JSON, a streamed event that is not UTF-8, an error body that echoes the key.
Every test runs with the blocking client and the async one on asyncio and trio.
"""

from __future__ import annotations

import json
import pytest

from oxide_io import APIConnectionError, APIError, APIResponseValidationError
from tests.io.conftest import KEY, MakeClient
from tests.io.scripted import Seen, response, scripted_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _model(name: str) -> bytes:
    return json.dumps({"id": name, "object": "model", "created": 0, "owned_by": "o"}).encode()


def _asked(seen: Seen) -> str:
    return seen.target.rsplit("/", 1)[-1]


# What is written after the real answer, given that answer's model name.
AFTER = {
    "garbage": lambda name: b"\x00garbage\r\n\r\n",
    "duplicate": lambda name: response(200, _model(name)),
    "other_status": lambda name: response(404, b'{"error": {"message": "stale"}}'),
    "blank_line": lambda name: b"\r\n",
    "partial_head": lambda name: b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n",
}


@pytest.mark.parametrize("after", sorted(AFTER))
@pytest.mark.parametrize("separate_write", [False, True], ids=["one_write", "two_writes"])
async def test_bytes_after_a_response_never_answer_the_next_call(
    make_client: MakeClient, after: str, separate_write: bool
) -> None:
    def script(seen: Seen) -> list[bytes]:
        name = _asked(seen)
        answer, extra = response(200, _model(name)), AFTER[after](name)
        return [answer, extra] if separate_write else [answer + extra]

    with scripted_server(script) as server:
        client = make_client(None, base_url=server.base_url, max_retries=0)
        for index in range(4):
            name = f"model-{index}"
            try:
                model = await client.models.retrieve(name)
            except APIError:
                pass  # a typed error is acceptable; another call's answer is not
            else:
                assert model.id == name
            # The extra bytes were written before the next call starts (on loopback
            # they are then in the client's receive buffer).
            assert server.wait_answered(index + 1)
        # Every call found its connection unusable and opened a new one.
        assert server.connections == len(server.seen) == 4
        assert {seen.connection for seen in server.seen} == {1, 2, 3, 4}


async def test_clean_responses_keep_the_connection(make_client: MakeClient) -> None:
    # The control for the test above: without extra bytes one connection serves all.
    with scripted_server(lambda seen: response(200, _model(_asked(seen)))) as server:
        client = make_client(None, base_url=server.base_url, max_retries=0)
        for index in range(4):
            assert (await client.models.retrieve(f"m{index}")).id == f"m{index}"
        assert server.connections == 1
