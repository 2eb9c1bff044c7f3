"""`admin_api_key`: the key of the organization-administration endpoints, in every runtime.

As in the official SDK, the endpoints of `client.admin` (paths under
`/organization/`, and a project's role assignments) are sent with the admin key and
every other endpoint with `api_key`; OPENAI_ADMIN_KEY gives the default, and an admin
key alone is enough to build a client. Without an admin key the admin endpoints get
`api_key`, as oxide always sent them.
"""

from __future__ import annotations

import pytest

from oxide_io import AsyncClient, Client, OpenAIError
from tests.io.blocking import wrap
from tests.io.conftest import MakeClient
from tests.io.recording_server import RecordingServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def _auth(recording: RecordingServer) -> list[str | None]:
    return [r.headers.get("authorization") for r in recording.requests]


async def test_admin_endpoints_take_the_admin_key(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url, api_key="sk-user", admin_api_key="sk-admin")
    assert client.admin_api_key == "sk-admin"
    await client.models.list()
    await client.admin.organization.users.list()
    await client.admin.organization.projects.roles.list("proj_1")
    assert _auth(recording) == ["Bearer sk-user", "Bearer sk-admin", "Bearer sk-admin"]
    # A derived client keeps the admin key, or takes a new one.
    await client.with_options(max_retries=0).admin.organization.users.list()
    await client.with_options(admin_api_key="sk-admin2").admin.organization.users.list()
    assert _auth(recording)[-2:] == ["Bearer sk-admin", "Bearer sk-admin2"]


async def test_without_an_admin_key_the_api_key_goes_everywhere(
    recording: RecordingServer, make_client: MakeClient
) -> None:
    client = make_client(base_url=recording.url, api_key="sk-user")
    assert client.admin_api_key is None
    await client.admin.organization.users.list()
    assert _auth(recording) == ["Bearer sk-user"]


async def test_the_admin_key_comes_from_the_environment(
    recording: RecordingServer, runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-env-admin")
    cls = Client if runtime == "sync" else AsyncClient
    # An admin key alone builds a client (no OPENAI_API_KEY here).
    raw = cls(base_url=recording.url)
    client = wrap(raw) if runtime == "sync" else raw
    try:
        assert client.admin_api_key == "sk-env-admin"
        await client.admin.organization.users.list()
        await client.models.list()
        assert _auth(recording) == ["Bearer sk-env-admin", None]
    finally:
        await client.aclose()
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    with pytest.raises(OpenAIError, match="api_key"):
        cls(base_url=recording.url)
