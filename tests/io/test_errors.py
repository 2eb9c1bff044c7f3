"""API errors and client options: the typed error for each status, and what each option sends.

Each status class maps to the official SDK's exception with `status_code`,
`request_id`, `body` (the API's `error` object), `message`, `code`, `param`
and `type`. Options come from arguments or the SDK's environment variables and
reach the wire as headers and query parameters.
"""

from __future__ import annotations

import pytest

from oxide_io import (
    APIStatusError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from oxide_io.testing import Fail
from tests.io.blocking import unwrap
from tests.io.conftest import KEY, MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]

STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (503, InternalServerError),
]


@pytest.mark.parametrize(("status", "error_class"), STATUS_CLASSES)
async def test_status_error_classes(
    mock: Setup, make_client: MakeClient, status: int, error_class: type[APIStatusError]
) -> None:
    client = make_client(mock, max_retries=0)
    mock.server.enqueue(
        Fail(status, message=f"failing with {status}", type="test_error", code="c1", param="p1")
    )
    with pytest.raises(error_class) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    error = caught.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.request_id is not None
    assert error.request_id == error.headers["x-request-id"]
    assert error.body == {
        "message": f"failing with {status}",
        "type": "test_error",
        "param": "p1",
        "code": "c1",
    }
    assert (error.code, error.param, error.type) == ("c1", "p1", "test_error")
    assert f"failing with {status}" in error.message
    assert str(status) in error.message
    assert len(mock.server.requests) == 1


async def test_error_body_that_is_not_json(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=0)
    mock.server.enqueue(Fail(502, body=b"<html>bad gateway</html>"))
    with pytest.raises(InternalServerError) as caught:
        await client.models.list()
    assert caught.value.status_code == 502
    assert caught.value.code is None
    assert "bad gateway" in caught.value.message


async def test_errors_with_raw_response(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, max_retries=0)
    mock.server.enqueue(Fail(400, message="bad"))
    with pytest.raises(BadRequestError):
        await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    raw = await client.models.with_raw_response.retrieve("gpt-4o")
    assert raw.status_code == 200
    assert raw.request_id == raw.headers["x-request-id"]
    assert raw.parse().id == "gpt-4o"


async def test_wrong_key_is_an_authentication_error(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, api_key="sk-wrong-key-000000")
    with pytest.raises(AuthenticationError) as caught:
        await client.models.list()
    assert caught.value.status_code == 401
    assert len(mock.server.requests) == 1  # 401 is never retried
    assert "sk-wrong-key-000000" not in str(caught.value)


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_missing_api_key(client_class: type[Client] | type[AsyncClient]) -> None:
    with pytest.raises(OpenAIError, match="api_key"):
        client_class(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(OpenAIError, match="api_key"):
        client_class(api_key="", base_url="http://127.0.0.1:9/v1")


async def test_environment_variables(
    mock: Setup, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", mock.server.base_url)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-123")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-456")
    client = make_client(None, api_key=None)
    assert client.base_url == mock.server.base_url
    await client.models.list()
    headers = mock.server.requests[-1].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["openai-organization"] == "org-123"
    assert headers["openai-project"] == "proj-456"
    # Arguments win over the environment.
    client = make_client(mock, organization="org-arg")
    await client.models.list()
    assert mock.server.requests[-1].headers["openai-organization"] == "org-arg"


async def test_default_headers_and_query(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock, default_headers={"x-custom": "one"}, default_query={"q": "1"})
    await client.models.list()
    request = mock.server.requests[-1]
    assert request.headers["x-custom"] == "one"
    assert request.query == {"q": "1"}
    await client.models.list(extra_headers={"x-custom": "two", "x-more": "m"})
    assert mock.server.requests[-1].headers["x-custom"] == "two"
    assert mock.server.requests[-1].headers["x-more"] == "m"
    assert mock.server.requests[-1].headers["x-stainless-retry-count"] == "0"


async def test_with_options_shares_the_pool(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    await client.models.list()
    derived = client.with_options(default_headers={"x-derived": "yes"}, max_retries=5)
    assert derived.max_retries == 5
    assert client.max_retries == 2
    await derived.models.list()
    assert mock.server.requests[-1].headers["x-derived"] == "yes"
    assert unwrap(derived._transport) is unwrap(client._transport)
    assert len(client._transport.connections) == 1
    await client.models.list()
    assert "x-derived" not in mock.server.requests[-1].headers
    assert len(client._transport.connections) == 1
    with pytest.raises(TypeError):
        client.with_options(no_such_option=1)
