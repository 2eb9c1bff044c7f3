"""The headers that describe the caller, seen from the server's log, in every runtime.

Every request carries the official SDK's platform headers (`X-Stainless-Lang` and the
rest), with the values the official SDK computes on this machine, except the package
version, which is oxide's; `X-Stainless-Async` names the runtime. The read timeout
goes out as the official SDK writes it ("600", not "600.0"), and a non-streaming
call asks for JSON.
"""

from __future__ import annotations

import pytest

import oxide_io
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello"}]


def _stainless(headers: object) -> dict[str, str]:
    items = headers.items()  # type: ignore[attr-defined]
    return {k.lower(): v for k, v in items if k.lower().startswith("x-stainless-")}


async def test_every_request_describes_the_platform(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    client = make_client(mock)
    await client.models.list()
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    first, second = (_stainless(r.headers) for r in mock.server.requests[-2:])
    assert first == second
    assert first["x-stainless-lang"] == "python"
    assert first["x-stainless-package-version"] == oxide_io.__version__
    assert first["x-stainless-async"] == ("false" if runtime == "sync" else f"async:{runtime}")
    assert first["x-stainless-read-timeout"] == "600"
    assert first["x-stainless-retry-count"] == "0"
    official = pytest.importorskip("openai._base_client")
    expected = {
        k.lower(): v
        for k, v in official.platform_headers("0", platform=None).items()
        if k not in ("X-Stainless-Package-Version",)
    }
    assert {k: first[k] for k in expected} == expected


async def test_a_client_or_a_call_can_replace_or_remove_them(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock, default_headers={"X-Stainless-Lang": "mine"})
    await client.models.list(extra_headers={"X-Stainless-OS": None})
    sent = _stainless(mock.server.requests[-1].headers)
    assert sent["x-stainless-lang"] == "mine"
    assert "x-stainless-os" not in sent
    assert "x-stainless-arch" in sent


async def test_a_stream_accepts_json_as_the_official_sdk_does(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    plain = mock.server.requests[-1].headers
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert [chunk async for chunk in stream]
    streamed = mock.server.requests[-1].headers
    assert plain["accept"] == streamed["accept"] == "application/json"
    assert "cache-control" not in plain
    assert streamed["cache-control"] == "no-cache"
