"""Subject token providers for `workload_identity=`: where a workload finds its own token.

Each returns the official SDK's provider mapping, ``{"token_type", "get_token"}``;
`get_token()` is called (blocking) whenever the client needs a new access token:

- `k8s_service_account_token_provider`: the token file Kubernetes mounts into the pod;
- `azure_managed_identity_token_provider`: Azure's instance metadata service (IMDS);
- `gcp_id_token_provider`: a Google Cloud instance's identity token from its metadata
  server.

The metadata services are reached directly, never through a proxy (they answer on
a link-local address inside the cloud). `endpoint=` (an oxide extension) points a
provider at another URL, e.g. a local stand-in in tests. Failures raise
`SubjectTokenProviderError` naming the cause.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Literal, TypedDict

from oxide_proto.api._workload_identity import SubjectTokenProviderError

__all__ = [
    "AZURE_IMDS_TOKEN_URL",
    "GCP_IDENTITY_URL",
    "K8S_TOKEN_PATH",
    "SubjectTokenProvider",
    "azure_managed_identity_token_provider",
    "gcp_id_token_provider",
    "k8s_service_account_token_provider",
]

K8S_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
AZURE_IMDS_TOKEN_URL = "http://169.254.169.254/metadata/identity/oauth2/token"
GCP_IDENTITY_URL = (
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity"
)
# No proxy from the environment: the metadata services are only reachable directly.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SubjectTokenProvider(TypedDict):
    """Where the subject token comes from: its kind (``"jwt"`` or ``"id"``) and a
    function returning it."""

    token_type: Literal["jwt", "id"]
    get_token: Any


def _no_http_client(http_client: object) -> None:
    if http_client is not None:
        raise TypeError(
            "oxide's token providers take no httpx client: they call the metadata "
            "service directly; leave http_client unset (endpoint= and timeout= are taken)"
        )


def k8s_service_account_token_provider(
    token_file_path: str | Path = K8S_TOKEN_PATH,
) -> SubjectTokenProvider:
    """The Kubernetes service account token mounted at `token_file_path`, read anew
    at each exchange (the kubelet rotates it)."""

    def get_token() -> str:
        try:
            token = Path(token_file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SubjectTokenProviderError(
                f"Could not read the service account token file {str(token_file_path)!r}: {exc}"
            ) from exc
        if not token:
            raise SubjectTokenProviderError(
                f"The service account token file {str(token_file_path)!r} is empty"
            )
        return token

    return {"token_type": "jwt", "get_token": get_token}


def _fetch(url: str, headers: dict[str, str], timeout: float, source: str) -> bytes:
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with _DIRECT.open(request, timeout=timeout) as answer:
            body: bytes = answer.read()
            return body
    except urllib.error.HTTPError as exc:
        raise SubjectTokenProviderError(
            f"{source} refused the subject token request: HTTP {exc.code}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise SubjectTokenProviderError(f"{source} could not be reached: {exc}") from exc


def azure_managed_identity_token_provider(
    resource: str = "https://management.azure.com/",
    *,
    object_id: str | None = None,
    client_id: str | None = None,
    msi_res_id: str | None = None,
    api_version: str = "2018-02-01",
    timeout: float = 10.0,
    http_client: object = None,
    endpoint: str = AZURE_IMDS_TOKEN_URL,
) -> SubjectTokenProvider:
    """An Azure managed identity's token for `resource`, from the instance metadata
    service (choose among several identities with `object_id`, `client_id` or
    `msi_res_id`)."""
    _no_http_client(http_client)
    params = {"api-version": api_version, "resource": resource}
    for name, value in (("object_id", object_id), ("client_id", client_id)):
        if value is not None:
            params[name] = value
    if msi_res_id is not None:
        params["msi_res_id"] = msi_res_id
    url = f"{endpoint}?{urllib.parse.urlencode(params)}"

    def get_token() -> str:
        source = "Azure's instance metadata service"
        body = _fetch(url, {"Metadata": "true"}, timeout, source)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise SubjectTokenProviderError(f"{source} answered without an access_token")
        return token

    return {"token_type": "jwt", "get_token": get_token}


def gcp_id_token_provider(
    audience: str = "https://api.openai.com/v1",
    *,
    timeout: float = 10.0,
    http_client: object = None,
    endpoint: str = GCP_IDENTITY_URL,
) -> SubjectTokenProvider:
    """A Google Cloud instance's identity token for `audience`, from its metadata server."""
    _no_http_client(http_client)
    url = f"{endpoint}?{urllib.parse.urlencode({'audience': audience})}"

    def get_token() -> str:
        source = "The Google Cloud metadata server"
        token = _fetch(url, {"Metadata-Flavor": "Google"}, timeout, source).decode().strip()
        if not token:
            raise SubjectTokenProviderError(f"{source} answered with an empty token")
        return token

    return {"token_type": "id", "get_token": get_token}
