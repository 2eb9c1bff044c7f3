"""The platform headers every request carries, as the official SDK sends them.

The official SDK describes its caller on every request: `X-Stainless-Lang`,
`-Package-Version`, `-OS`, `-Arch`, `-Runtime`, `-Runtime-Version` and `-Async`
(`false` for a blocking client, `async:asyncio` or `async:trio` for an async one).
The API's side reads them for its statistics, and code written against the SDK (its
own tests among it) checks them, so oxide sends the same names with values of the
same vocabulary; the package version is oxide's own, as is the User-Agent.

Reading the platform is I/O the core must not do, and it never changes while the
process runs: it happens here, once per process and runtime, and each request gets
the precomputed pairs (`build_request(platform_headers=...)`), so the per-request
cost is one dictionary update.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["platform_headers"]

Pairs = tuple[tuple[str, str], ...]

_cache: dict[str, Pairs] = {}


def platform_headers(runtime: str | None) -> Pairs:
    """The header pairs for a client on `runtime` ("asyncio", "trio"; None: blocking)."""
    mode = "false" if runtime is None else f"async:{runtime}"
    found = _cache.get(mode)
    if found is None:
        from oxide_proto import __version__

        found = (
            ("X-Stainless-Lang", "python"),
            ("X-Stainless-Package-Version", __version__),
            *_describe(),
            ("X-Stainless-Async", mode),
        )
        _cache[mode] = found
    return found


def _describe() -> Pairs:
    import platform

    return (
        ("X-Stainless-OS", _system()),
        ("X-Stainless-Arch", _machine()),
        ("X-Stainless-Runtime", _safely(platform.python_implementation)),
        ("X-Stainless-Runtime-Version", _safely(platform.python_version)),
    )


def _safely(read: Callable[[], str]) -> str:
    try:
        value = read()
    except Exception:
        return "unknown"
    return value or "unknown"


def _system() -> str:
    import platform

    try:
        system = platform.system().lower()
        full = platform.platform().lower()
    except Exception:
        return "Unknown"
    # Mobile systems report their kernel's name (Darwin, Linux): the full platform
    # string is what tells them apart.
    if "iphone" in full or "ipad" in full:
        return "iOS"
    if "android" in full:
        return "Android"
    if system == "linux":
        try:
            distribution = platform.freedesktop_os_release().get("ID", "").lower()
        except OSError:
            distribution = ""
        # The BSDs' Linux compatibility layers report Linux as the system.
        return {"freebsd": "FreeBSD", "openbsd": "OpenBSD"}.get(distribution, "Linux")
    named = {"darwin": "MacOS", "windows": "Windows", "freebsd": "FreeBSD", "openbsd": "OpenBSD"}
    if system in named:
        return named[system]
    return f"Other:{full}" if full else "Unknown"


# `platform.machine()` (lower-cased) to the SDK's names for the architecture.
_MACHINES = {"x86_64": "x64", "amd64": "x64", "arm64": "arm64", "aarch64": "arm64", "arm": "arm"}


def _machine() -> str:
    import platform

    try:
        machine = platform.machine().lower()
    except Exception:
        return "unknown"
    if machine in _MACHINES:
        return _MACHINES[machine]
    if sys.maxsize <= 2**32:
        return "x32"
    return f"other:{machine}" if machine else "unknown"
