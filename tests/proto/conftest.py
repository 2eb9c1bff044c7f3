"""Fixtures shared by the core's tests."""

from __future__ import annotations

import pytest

from oxide_proto.http import _http11

# The h11 internals `_http11` uses when the probe at its import finds them as
# expected; each has a public-API replacement that must give the same results.
H11_INTERNALS = ("_FAST_HEAD", "_FIELD_TRIPLES", "_RECEIVE_BUFFER")


@pytest.fixture(params=["h11-internals", "h11-public-api"])
def h11_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test over `_http11`'s fast path and again over h11's public API only."""
    if request.param == "h11-public-api":
        for name in H11_INTERNALS:
            monkeypatch.setattr(_http11, name, False)
    else:
        assert all(getattr(_http11, name) for name in H11_INTERNALS)
    return str(request.param)
