# mypy: disable-error-code="no-any-return"
"""Videos: create one, then wait until it is rendered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..._options import NOT_GIVEN, NotGiven
from .._polling import poll_until
from .._resource import AsyncResource

if TYPE_CHECKING:
    from oxide_proto.types.videos import VideoResource

    from .._resource import Body, FileTypes, Headers, Query, TimeoutArg

__all__ = ["AsyncVideosExtras"]


class AsyncVideosExtras(AsyncResource):
    async def poll(
        self, video_id: str, *, poll_interval_ms: int | NotGiven = NOT_GIVEN
    ) -> VideoResource:
        """Waits while the video is `queued` or `in_progress`; returns it (failed ones too)."""
        raw = self.with_raw_response
        return await poll_until(
            self,
            lambda headers: raw.retrieve(video_id, extra_headers=headers),
            lambda video: video.status not in ("queued", "in_progress"),
            what=f"video {video_id!r}",
            poll_interval_ms=poll_interval_ms,
        )

    async def create_and_poll(
        self,
        *,
        prompt: str,
        input_reference: FileTypes | Mapping[str, object] | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        # Spelled as `create()` spells them: a signature check may compare the text.
        seconds: Literal["4", "8", "12"] | NotGiven = NOT_GIVEN,
        size: Literal["720x1280", "1280x720", "1024x1792", "1792x1024"] | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> VideoResource:
        """Starts rendering a video, then `poll()`s until it is done."""
        resource: Any = self
        video = await resource.create(
            prompt=prompt,
            input_reference=input_reference,
            model=model,
            seconds=seconds,
            size=size,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(video.id, poll_interval_ms=poll_interval_ms)
