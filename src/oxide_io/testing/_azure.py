"""Azure OpenAI's URL layout, served by the same endpoints as the API's own.

An Azure client (`AzureOpenAI(azure_endpoint=server root)`) sends
`/openai/deployments/{deployment}/chat/completions?api-version=...` for the
endpoints that run a deployed model, and `/openai/{path}?api-version=...` for
the rest, with the key in an `api-key` header (or an Entra ID token as a
bearer). `azure_as_api` turns such a request into the API request the mock
already answers: the path under `/v1`, the deployment as the body's `model`
(Azure runs the deployment whatever model the body names) and the key as a
bearer. A request without `api-version` gets Azure's 404.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import attrs

from ._wire import Answer, error_answer

if TYPE_CHECKING:  # the request type lives beside the app, which imports this module
    from ._app import RecordedRequest

__all__ = ["azure_as_api", "is_azure"]

_PREFIX = "/openai/"
_DEPLOYMENTS = "/openai/deployments/"


def is_azure(path: str) -> bool:
    return path.startswith(_PREFIX)


def azure_as_api(request: RecordedRequest) -> RecordedRequest | Answer:
    """The `/v1` request an Azure-style `request` stands for, or the error Azure
    answers when it stands for none."""
    if "api-version" not in request.query:
        return error_answer(404, "Resource not found", code="404")
    rest = request.path[len(_PREFIX) :]
    json_body, body = request.json, request.body
    if request.path.startswith(_DEPLOYMENTS):
        deployment, _, rest = request.path[len(_DEPLOYMENTS) :].partition("/")
        if not deployment or not rest:
            return error_answer(404, "Resource not found", code="404")
        if isinstance(json_body, dict):
            json_body = {**json_body, "model": deployment}
            body = json.dumps(json_body).encode()
    headers = dict(request.headers)
    key = headers.pop("api-key", None)
    if key is not None and "authorization" not in headers:
        headers["authorization"] = f"Bearer {key}"
    query = {name: value for name, value in request.query.items() if name != "api-version"}
    return attrs.evolve(
        request, path=f"/v1/{rest}", query=query, headers=headers, body=body, json=json_body
    )
