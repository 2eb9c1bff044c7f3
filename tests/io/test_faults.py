"""Servers that misbehave: each call gets its own answer or a typed error, never another's.

A raw server on 127.0.0.1 (`tests.io.scripted`) writes bytes no well-behaved server
would: a response followed by garbage or by a second response, a 200 whose body is
not JSON, a streamed event that is not UTF-8, an error body that echoes the key.
Every test runs with the blocking client and the async one on asyncio and trio.
"""

from __future__ import annotations

import functools
import gzip
import json
import traceback

import pytest

from oxide_io import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    MalformedEventError,
    ResponseTooLargeError,
)
from oxide_proto import LimitExceededError
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


# -- a success status whose body is not the API's JSON ---------------------------------

NOT_JSON = {
    "captive_portal": (b"<html><body>Please log in to the hotel wifi</body></html>", "text/html"),
    "not_utf8": (b'{"id": "\xff\xfe\xfd", "object": "model"}', "application/json"),
    "truncated": (b'{"id": "m", "object": "mo', "application/json"),
    "empty_object_cut": (b"{", "application/json"),
}


@pytest.mark.parametrize("name", sorted(NOT_JSON))
async def test_success_status_with_a_body_that_is_not_json(
    make_client: MakeClient, name: str
) -> None:
    body, content_type = NOT_JSON[name]
    # Truncated JSON arrives the way a clean close delivers it: no length, then EOF.
    headers = {"x-request-id": "req_portal"}
    if name == "truncated":
        headers["connection"] = "close"
    answer = response(200, body, headers=headers, content_type=content_type)
    if name == "truncated":
        answer = answer.replace(f"content-length: {len(body)}\r\n".encode(), b"")

    with scripted_server(lambda seen: answer) as server:
        client = make_client(None, base_url=server.base_url)
        with pytest.raises(APIResponseValidationError) as caught:
            await client.models.retrieve("m")
    error = caught.value
    assert not isinstance(error, ValueError)  # neither JSONDecodeError nor UnicodeDecodeError
    assert error.status_code == 200
    assert error.request_id == "req_portal"
    assert repr(body[:20])[2:-1] in error.message
    assert isinstance(error.body, str)
    assert error.body == body.decode("utf-8", "replace")
    assert len(server.seen) == 1  # the same request would get the same answer


def _chunk(text: str) -> bytes:
    payload = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


async def test_streamed_event_that_is_not_utf8(make_client: MakeClient) -> None:
    # The first event is good; the second has a byte that is not UTF-8 in its data.
    bad = _chunk("caf\u00e9").replace(b"caf\\u00e9", b"caf\xe9")
    body = _chunk("hello") + bad + b"data: [DONE]\n\n"
    answer = response(
        200, body, headers={"x-request-id": "req_sse"}, content_type="text/event-stream"
    )
    with scripted_server(lambda seen: answer) as server:
        client = make_client(None, base_url=server.base_url)
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        received = []
        with pytest.raises(MalformedEventError) as caught:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content)
    assert received == ["hello"]  # never the altered text
    error = caught.value
    assert isinstance(error, APIResponseValidationError)
    assert error.status_code == 200
    assert error.request_id == "req_sse"
    assert "not UTF-8" in error.message
    assert "\ufffd" in error.data


# -- limits ------------------------------------------------------------------------------


@functools.cache
def _gzip(data_size: int, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    return gzip.compress(prefix + b"a" * data_size + suffix, compresslevel=6)


MIB = 1024 * 1024
LIMITS = {
    # name: (answer, content type, limit name, limit value, streamed)
    "decompression_bomb": (
        lambda: _gzip(64 * MIB + 1, b'{"id": "'),
        "application/json",
        "max_decoded_size",
        64 * MIB,
        False,
    ),
    "huge_header": (None, "application/json", "max_head_size", 64 * 1024, False),
    "sse_line": (
        lambda: _gzip(16 * MIB + 1, b"data: "),
        "text/event-stream",
        "max_line_size",
        16 * MIB,
        True,
    ),
    "sse_event": (
        lambda: gzip.compress((b"data: " + b"a" * (9 * MIB) + b"\n") * 2 + b"\n"),
        "text/event-stream",
        "max_event_size",
        16 * MIB,
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
async def test_limit_errors_are_typed_and_name_the_limit(
    make_client: MakeClient, name: str
) -> None:
    make_body, content_type, limit_name, limit, streamed = LIMITS[name]
    if make_body is None:
        answer = response(200, _model("m"), headers={"x-big": "a" * (64 * 1024 + 1)})
    else:
        answer = response(
            200, make_body(), headers={"content-encoding": "gzip"}, content_type=content_type
        )
    with scripted_server(lambda seen: answer) as server:
        client = make_client(None, base_url=server.base_url)  # retries on: none happen
        with pytest.raises(ResponseTooLargeError) as caught:
            if streamed:
                stream = await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                async for _ in stream:
                    pass
            else:
                await client.models.retrieve("m")
        assert len(server.seen) == 1  # the same answer would break the same limit
    error = caught.value
    assert isinstance(error, APIConnectionError)
    assert (error.limit_name, error.limit) == (limit_name, limit)
    assert limit_name in str(error)
    assert isinstance(error.__cause__, LimitExceededError)


# -- credentials echoed by the server --------------------------------------------------

AZURE_KEY = "azure0123456789abcdef0123456789"


def _echo(seen: Seen) -> bytes:
    """A proxy that quotes the request's credentials back, in each shape of answer."""
    quoted = f"{seen.headers.get('authorization')} / api-key {seen.headers.get('api-key')}"
    kind = _asked(seen)
    if kind == "json":
        body = json.dumps({"error": {"message": f"Invalid key: {quoted}", "code": "k"}})
        return response(401, body.encode())
    if kind == "text":
        return response(403, f"<html>denied for {quoted}</html>".encode(), content_type="text/html")
    return response(200, f"<html>not json: {quoted}</html>".encode(), content_type="text/html")


@pytest.mark.parametrize("kind", ["json", "text", "not_json_200"])
async def test_errors_never_show_the_credentials_the_server_echoes(
    make_client: MakeClient, kind: str
) -> None:
    with scripted_server(_echo) as server:
        client = make_client(
            None,
            base_url=server.base_url,
            max_retries=0,
            default_headers={"api-key": AZURE_KEY},
        )
        with pytest.raises(APIError) as caught:
            await client.models.retrieve(kind)
    error = caught.value
    assert server.seen[0].headers["authorization"] == f"Bearer {KEY}"  # it was echoed
    shown = "".join(
        [
            str(error),
            repr(error),
            error.message,
            repr(error.body),
            "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        ]
    )
    assert KEY not in shown
    assert AZURE_KEY not in shown
    assert "Bearer sk-test***" in shown  # recognisable, as in the logs


async def test_stream_error_event_never_shows_the_credentials(make_client: MakeClient) -> None:
    def script(seen: Seen) -> bytes:
        event = {"error": {"message": f"bad key {seen.headers['authorization']}"}}
        body = f"data: {json.dumps(event)}\n\n".encode()
        return response(200, body, content_type="text/event-stream")

    with scripted_server(script) as server:
        client = make_client(None, base_url=server.base_url, max_retries=0)
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        with pytest.raises(APIError) as caught:
            async for _ in stream:
                pass
    error = caught.value
    assert KEY not in f"{error} {error!r} {error.body!r}"


# -- WebSocket event payloads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b'{"type": "caf\xe9"}', "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("<html>gateway</html>", "not valid JSON"),
        ('["an", "array"]', "not an object"),
    ],
    ids=["binary_not_utf8", "nested", "html", "array"],
)
def test_websocket_payloads_that_are_not_json_objects(data: str | bytes, detail: str) -> None:
    from oxide_proto import parse_event_payload

    with pytest.raises(MalformedEventError, match=detail) as caught:
        parse_event_payload(data)
    assert isinstance(caught.value, APIResponseValidationError)
    assert len(caught.value.data) <= 2000
