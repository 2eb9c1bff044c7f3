"""`data_residency=`: a named regional API endpoint instead of a base URL.

The official SDK's option ("global", "us", "eu", "ae", "au", "in" or "jp")
picks the API host of a region; a client authenticated with an X.509 workload
identity goes to that region's mTLS host instead, which exists for "global", "us"
and "eu" only. The option names an endpoint, so it excludes the options that name
one too (`base_url`, `websocket_base_url`, `provider`); the WebSocket URL is then
derived from the regional base URL. The token exchange of a workload identity
keeps its own endpoint whatever the region.

`data_residency_base_url` is the one decision: the base URL for a region, or the
error that says why there is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ..base._errors import OpenAIError
from ._workload_identity import MTLS_API_BASE_URL

__all__ = [
    "DATA_RESIDENCY_BASE_URLS",
    "MTLS_DATA_RESIDENCY_BASE_URLS",
    "DataResidency",
    "data_residency_base_url",
]

DataResidency = Literal["global", "us", "eu", "ae", "au", "in", "jp"]

DATA_RESIDENCY_BASE_URLS: Mapping[str, str] = {
    "global": "https://api.openai.com/v1",
    "us": "https://us.api.openai.com/v1",
    "eu": "https://eu.api.openai.com/v1",
    "ae": "https://ae.api.openai.com/v1",
    "au": "https://au.api.openai.com/v1",
    "in": "https://in.api.openai.com/v1",
    "jp": "https://jp.api.openai.com/v1",
}
# Where a client that proves itself with its TLS certificate goes, by region.
MTLS_DATA_RESIDENCY_BASE_URLS: Mapping[str, str] = {
    "global": MTLS_API_BASE_URL,
    "us": "https://mtls-us.api.openai.com/v1",
    "eu": "https://mtls-eu.api.openai.com/v1",
}


def data_residency_base_url(
    data_residency: object,
    *,
    x509: bool = False,
    base_url_given: bool = False,
    websocket_base_url_given: bool = False,
    provider_given: bool = False,
) -> str:
    """The API base URL of region `data_residency` (its mTLS host with `x509`).

    A `ValueError` when `base_url` or `websocket_base_url` is given too, or for a
    region that is not one of `DATA_RESIDENCY_BASE_URLS`; an `OpenAIError` with a
    `provider`, or for an X.509 client in a region without an mTLS host. The
    checks run in the official SDK's order, so the same mistake gets the same error.
    """
    if base_url_given:
        raise ValueError("The `data_residency` and `base_url` arguments are mutually exclusive")
    if websocket_base_url_given:
        raise ValueError(
            "The `data_residency` and `websocket_base_url` arguments are mutually exclusive"
        )
    if provider_given:
        raise OpenAIError("The `data_residency` and `provider` arguments are mutually exclusive")
    if not isinstance(data_residency, str) or data_residency not in DATA_RESIDENCY_BASE_URLS:
        raise ValueError(
            f"Invalid `data_residency` {data_residency!r}; expected one of "
            + ", ".join(repr(name) for name in DATA_RESIDENCY_BASE_URLS)
        )
    if not x509:
        return DATA_RESIDENCY_BASE_URLS[data_residency]
    if data_residency not in MTLS_DATA_RESIDENCY_BASE_URLS:
        raise OpenAIError(
            f"X.509 workload identity has no mTLS endpoint in data residency region "
            f"{data_residency!r}; expected one of "
            + ", ".join(repr(name) for name in MTLS_DATA_RESIDENCY_BASE_URLS)
        )
    return MTLS_DATA_RESIDENCY_BASE_URLS[data_residency]
