"""The proxy configuration a transport uses: from the `proxy` option or the environment.

The environment is read when a transport is built, not per request. The proxy
module of the core is loaded only when there is a proxy to configure, so a client
in an environment without proxy variables does not pay for it. A SOCKS proxy
without the `socks` extra installed is refused here, when the client is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oxide_proto import ProxyConfig

__all__ = ["ProxyTypes", "proxies_from"]

# A proxy URL for every request, URL patterns mapped to proxy URLs (None: direct),
# or a ready configuration.
if TYPE_CHECKING:
    ProxyTypes = str | Mapping[str, str | None] | ProxyConfig
else:
    # Built when asked for (annotations never evaluate it on import): the core's proxy
    # module loads with the first proxy, and a string in a Union would be compiled.
    def __getattr__(name: str) -> object:
        if name != "ProxyTypes":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from oxide_proto import ProxyConfig

        global ProxyTypes
        ProxyTypes = str | Mapping[str, str | None] | ProxyConfig
        return ProxyTypes


def proxies_from(proxy: ProxyTypes | None, env: Mapping[str, str] | None) -> ProxyConfig | None:
    """The configuration for `proxy`, else the one `env` describes (None: no env);
    None when no request goes through a proxy."""
    if proxy is None and (env is None or not any(name[-6:].lower() == "_proxy" for name in env)):
        return None
    from oxide_proto import ProxyConfig

    if isinstance(proxy, ProxyConfig):
        config = proxy
    elif isinstance(proxy, str):
        config = ProxyConfig.single(proxy)
    elif proxy is not None:
        config = ProxyConfig(proxy)
    else:
        assert env is not None
        config = ProxyConfig.from_env(env)
    if any(each.is_socks for each in config.proxies):
        from oxide_proto import require_socksio

        require_socksio()
    return config if config else None
