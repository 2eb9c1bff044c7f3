"""`openai.auth`: workload identity authentication under the official names.

`OpenAI(workload_identity={...})` trades the workload's own token (from one of the
providers here, or any ``{"token_type", "get_token"}`` mapping) for an access
token at the token endpoint, caches it and refreshes it before it expires.
An X.509 identity (`x509_workload_identity`) has no subject token: the client
certificate in the client's `verify=` SSLContext (or `cert=`) proves who the
workload is, at the mTLS token endpoint.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from oxide_proto.api._workload_identity import (
    DEFAULT_REFRESH_BUFFER_SECONDS as DEFAULT_REFRESH_BUFFER_SECONDS,
)
from oxide_proto.api._workload_identity import (
    DEFAULT_TOKEN_EXCHANGE_URL as DEFAULT_TOKEN_EXCHANGE_URL,
)
from oxide_proto.api._workload_identity import (
    TOKEN_EXCHANGE_GRANT_TYPE as TOKEN_EXCHANGE_GRANT_TYPE,
)

from .._async._workload_identity import AsyncWorkloadIdentityAuth as AsyncWorkloadIdentityAuth
from .._sync._workload_identity import SyncWorkloadIdentityAuth as WorkloadIdentityAuth
from .._workload_providers import SubjectTokenProvider as SubjectTokenProvider
from .._workload_providers import (
    azure_managed_identity_token_provider as azure_managed_identity_token_provider,
)
from .._workload_providers import gcp_id_token_provider as gcp_id_token_provider
from .._workload_providers import (
    k8s_service_account_token_provider as k8s_service_account_token_provider,
)

__all__ = [
    "SubjectTokenProvider",
    "SubjectTokenWorkloadIdentity",
    "WorkloadIdentity",
    "WorkloadIdentityAuth",
    "X509WorkloadIdentity",
    "azure_managed_identity_token_provider",
    "gcp_id_token_provider",
    "k8s_service_account_token_provider",
    "x509_workload_identity",
]


class _RefreshBuffer(TypedDict, total=False):
    refresh_buffer_seconds: float


class WorkloadIdentity(_RefreshBuffer):
    """The `workload_identity=` option of a subject-token identity."""

    identity_provider_id: str
    service_account_id: str
    provider: SubjectTokenProvider


SubjectTokenWorkloadIdentity = WorkloadIdentity


class X509WorkloadIdentity(_RefreshBuffer):
    """An identity proven by the TLS client certificate the client's transport holds."""

    type: Literal["x509"]
    identity_provider_id: str
    service_account_id: str


def x509_workload_identity(
    *,
    identity_provider_id: str,
    service_account_id: str,
    refresh_buffer_seconds: float | None = None,
) -> X509WorkloadIdentity:
    """The `workload_identity=` of a workload proven by its TLS client certificate."""
    identity: X509WorkloadIdentity = {
        "type": "x509",
        "identity_provider_id": identity_provider_id,
        "service_account_id": service_account_id,
    }
    if refresh_buffer_seconds is not None:
        identity["refresh_buffer_seconds"] = refresh_buffer_seconds
    return identity
