"""Google Vertex AI: the base URL a Vertex client uses and the token it may send,
as pure functions.

Vertex serves the OpenAI Responses API of a project and location at
`https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/openai/v1`
(`aiplatform.googleapis.com` for the `global` location), authenticated by a
Google OAuth access token sent as `Authorization: Bearer`. As in the official SDK's
`openai.providers.vertex()`, the project and location come from the arguments,
then GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION (the environment is passed in);
an explicit base URL is the whole API root and wins over both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ..base._errors import OpenAIError

__all__ = ["checked_vertex_token", "vertex_base_url"]

# Project ids, including the older domain-scoped ones (`example.com:project`);
# a leading dot would make a `.` or `..` path segment.
_PROJECT = re.compile(r"[a-zA-Z0-9_-][a-zA-Z0-9_.:-]*")
_LOCATION = re.compile(r"[a-z0-9-]+")
# A bearer token goes into a header as it is: visible ASCII only.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def vertex_base_url(
    *,
    env: Mapping[str, str],
    project: str | None = None,
    location: str | None = None,
    base_url: str | None = None,
) -> str:
    """The API root of a Vertex client; raises `OpenAIError` for a missing or bad
    project or location, or a base URL that is not a plain http(s) API root."""
    if base_url is None:
        project = project or env.get("GOOGLE_CLOUD_PROJECT")
        location = location or env.get("GOOGLE_CLOUD_LOCATION")
        if not project or _PROJECT.fullmatch(project) is None:
            raise OpenAIError(
                "Vertex needs a Google Cloud project id: pass project= to vertex() or set "
                "GOOGLE_CLOUD_PROJECT"
            )
        if not location or _LOCATION.fullmatch(location) is None:
            raise OpenAIError(
                "Vertex needs a location (such as us-central1 or global): pass location= "
                "to vertex() or set GOOGLE_CLOUD_LOCATION"
            )
        host = (
            "aiplatform.googleapis.com"
            if location == "global"
            else f"{location}-aiplatform.googleapis.com"
        )
        base_url = f"https://{host}/v1/projects/{project}/locations/{location}/publishers/openai/v1"
    try:
        parts = urlsplit(base_url)
        hostname = parts.hostname
        username, password = parts.username, parts.password
    except ValueError as exc:
        raise OpenAIError(f"the Vertex base_url {base_url!r} is not a URL ({exc})") from None
    if (
        parts.scheme not in ("http", "https")
        or not hostname
        or username
        or password
        or parts.query
        or parts.fragment
    ):
        raise OpenAIError(
            "the Vertex base_url must be an http(s) API root without credentials, query or fragment"
        )
    host = hostname.rstrip(".")
    if parts.scheme != "https" and (host == "googleapis.com" or host.endswith(".googleapis.com")):
        raise OpenAIError("Google Vertex endpoints must be reached over https")
    return base_url


def checked_vertex_token(token: object) -> str:
    """`token` (what a Vertex token provider returned), checked to be a non-empty
    string of visible ASCII that can go into an `Authorization` header."""
    if not isinstance(token, str) or _TOKEN.fullmatch(token) is None:
        raise OpenAIError(
            "the Vertex token provider must return a non-empty access token of visible "
            f"ASCII characters, not a {type(token).__name__} that is not one"
        )
    return token
