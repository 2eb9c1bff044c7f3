"""`data_residency_base_url`: a region's API host, its mTLS host, and the refusals."""

from __future__ import annotations

import pytest

from oxide_proto import OpenAIError
from oxide_proto.api._data_residency import (
    DATA_RESIDENCY_BASE_URLS,
    MTLS_DATA_RESIDENCY_BASE_URLS,
    data_residency_base_url,
)
from oxide_proto.api._workload_identity import MTLS_API_BASE_URL

REGIONS = ["global", "us", "eu", "ae", "au", "in", "jp"]


def test_the_regions_are_the_official_sdks() -> None:
    assert list(DATA_RESIDENCY_BASE_URLS) == REGIONS
    assert list(MTLS_DATA_RESIDENCY_BASE_URLS) == ["global", "us", "eu"]


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_has_its_host(region: str) -> None:
    host = "api.openai.com" if region == "global" else f"{region}.api.openai.com"
    assert data_residency_base_url(region) == f"https://{host}/v1"


@pytest.mark.parametrize("region", ["global", "us", "eu"])
def test_an_x509_client_goes_to_the_regions_mtls_host(region: str) -> None:
    host = "mtls.api.openai.com" if region == "global" else f"mtls-{region}.api.openai.com"
    assert data_residency_base_url(region, x509=True) == f"https://{host}/v1"
    assert data_residency_base_url("global", x509=True) == MTLS_API_BASE_URL


@pytest.mark.parametrize("region", ["ae", "au", "in", "jp"])
def test_a_region_without_an_mtls_host_refuses_an_x509_client(region: str) -> None:
    with pytest.raises(OpenAIError, match=f"no mTLS endpoint .* {region!r}"):
        data_residency_base_url(region, x509=True)


@pytest.mark.parametrize("wrong", ["EU", "mars", "", None, 3, b"eu"])
def test_an_unknown_region_is_a_value_error(wrong: object) -> None:
    with pytest.raises(ValueError, match=r"Invalid `data_residency`.*'global'"):
        data_residency_base_url(wrong)


def test_options_that_name_an_endpoint_exclude_it_in_the_official_order() -> None:
    with pytest.raises(ValueError, match="`data_residency` and `base_url`"):
        data_residency_base_url("mars", base_url_given=True, websocket_base_url_given=True)
    with pytest.raises(ValueError, match="`data_residency` and `websocket_base_url`"):
        data_residency_base_url("mars", websocket_base_url_given=True, provider_given=True)
    with pytest.raises(OpenAIError, match="`data_residency` and `provider`"):
        data_residency_base_url("mars", provider_given=True)
