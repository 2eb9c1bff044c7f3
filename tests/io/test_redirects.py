"""Redirects over real sockets: followed by the core's rules, credentials kept home.

Raw servers on 127.0.0.1 (`tests.io.scripted`) answer with 3xx; a second server
is another origin (another port). Every test runs with the blocking client and
the async one on asyncio and trio.
"""

from __future__ import annotations

import json
import ssl

import pytest
import trustme

from oxide_io import AuthenticationError, RedirectError
from tests.io.conftest import KEY, MakeClient
from tests.io.scripted import Seen, response, scripted_server
from tests.io.test_uploads import OneShot

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MESSAGES = [{"role": "user", "content": "hi"}]
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "moved and answered"},
                "finish_reason": "stop",
            }
        ],
    }
).encode()


def _moved(status: int, location: str) -> bytes:
    return response(status, b"", headers={"location": location})


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirect_keeps_method_body_and_credentials_on_the_same_origin(
    make_client: MakeClient, status: int
) -> None:
    def script(seen: Seen) -> bytes:
        if seen.target == "/v1/chat/completions":
            return _moved(status, "/v2/chat/completions")
        return response(200, COMPLETION)

    with scripted_server(script) as server:
        client = make_client(None, base_url=server.base_url, organization="org-1")
        completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "moved and answered"
    first, second = server.seen
    assert (second.method, second.target) == ("POST", "/v2/chat/completions")
    assert second.body == first.body and json.loads(second.body)["model"] == "m"
    assert second.headers["authorization"] == f"Bearer {KEY}"
    assert second.headers["openai-organization"] == "org-1"


async def test_303_is_fetched_with_get(make_client: MakeClient) -> None:
    def script(seen: Seen) -> bytes:
        if seen.method == "POST":
            return _moved(303, "/v1/chat/completions/chatcmpl-1")
        return response(200, COMPLETION)

    with scripted_server(script) as server:
        client = make_client(None, base_url=server.base_url)
        completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.id == "chatcmpl-1"
    get = server.seen[1]
    assert (get.method, get.target, get.body) == ("GET", "/v1/chat/completions/chatcmpl-1", b"")
    assert "content-type" not in get.headers


async def test_credentials_are_not_sent_to_another_origin(make_client: MakeClient) -> None:
    # The other origin needs the key and does not get it: a typed 401, from there.
    def other(seen: Seen) -> bytes:
        return response(401, b'{"error": {"message": "no key", "code": "invalid_api_key"}}')

    with scripted_server(other) as elsewhere:
        target = f"{elsewhere.base_url}/chat/completions"
        with scripted_server(lambda seen: _moved(307, target)) as server:
            client = make_client(
                None,
                base_url=server.base_url,
                organization="org-1",
                project="proj-1",
                default_headers={"api-key": "azure-key-0123456789"},
                max_retries=0,
            )
            with pytest.raises(AuthenticationError):
                await client.chat.completions.create(model="m", messages=MESSAGES)
    assert server.seen[0].headers["authorization"] == f"Bearer {KEY}"
    [arrived] = elsewhere.seen
    assert arrived.method == "POST" and json.loads(arrived.body)["model"] == "m"
    for name in ("authorization", "api-key", "openai-organization", "openai-project"):
        assert name not in arrived.headers


async def test_https_to_http_is_not_followed(
    make_client: MakeClient, tls_ca: trustme.CA, ca_path: str
) -> None:
    # A context of its own: the session's is shared with a server that offers h2.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    with scripted_server(lambda seen: response(200, COMPLETION)) as plain:
        target = f"{plain.base_url}/chat/completions"
        with scripted_server(lambda seen: _moved(301, target), tls=context) as secure:
            client = make_client(None, base_url=secure.base_url, verify=ca_path)
            with pytest.raises(RedirectError) as caught:
                await client.chat.completions.create(model="m", messages=MESSAGES)
    assert plain.seen == []
    error = caught.value
    assert (error.status_code, error.location) == (301, target)
    assert target in str(error)
    assert len(secure.seen) == 1  # not retried


async def test_redirect_loop_stops_at_the_limit(make_client: MakeClient) -> None:
    with scripted_server(lambda seen: _moved(302, "/v1/models/loop")) as server:
        client = make_client(None, base_url=server.base_url)
        with pytest.raises(RedirectError) as caught:
            await client.models.retrieve("start")
    assert "more than 5 redirects" in str(caught.value)
    assert len(server.seen) == 6  # the request and five redirects, no retries


@pytest.mark.parametrize("status", [300, 304])
async def test_other_3xx_raise_a_status_error_naming_the_location(
    make_client: MakeClient, status: int
) -> None:
    with scripted_server(lambda seen: _moved(status, "/v1/models/other")) as server:
        client = make_client(None, base_url=server.base_url)
        with pytest.raises(RedirectError) as caught:
            await client.models.retrieve("m")
    assert caught.value.status_code == status
    assert caught.value.location == "/v1/models/other"
    assert len(server.seen) == 1


async def test_streamed_upload_is_not_sent_again(make_client: MakeClient) -> None:
    # A stream that cannot seek was consumed by the first send: a 307 cannot repeat it.
    with scripted_server(lambda seen: _moved(307, "/v1/files/again")) as server:
        client = make_client(None, base_url=server.base_url)
        with pytest.raises(RedirectError) as caught:
            await client.files.create(file=OneShot(b"part one, part two"), purpose="batch")
    assert "cannot be sent again" in str(caught.value)
    assert [seen.target for seen in server.seen] == ["/v1/files"]
    assert b"part one, part two" in server.seen[0].body
