"""`client.webhooks`: checking that a delivery came from the API, then decoding it.

The API has no webhook operation to call: these helpers read what an HTTP
server received. The signature check is the core's (`verify_webhook_signature`);
only the clock and the client's `webhook_secret` come from here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from oxide_proto import WEBHOOK_TOLERANCE, decode_webhook_event, verify_webhook_signature

from .._resource import AsyncResource

if TYPE_CHECKING:  # annotations only: importing the event types waits for the first event
    from oxide_proto import UnknownModel
    from oxide_proto.types import WebhookEvent

__all__ = ["AsyncWebhooksExtras"]


class AsyncWebhooksExtras(AsyncResource):
    def unwrap(
        self,
        payload: str | bytes,
        headers: Mapping[str, str],
        *,
        secret: str | None = None,
    ) -> WebhookEvent | UnknownModel:
        """Checks the signature of a webhook delivery, then returns its typed event.

        `payload` is the raw request body (not re-serialised JSON) and `headers`
        its headers. Raises `InvalidWebhookSignatureError` as `verify_signature()`
        does; an event type this package does not know yet comes back as an
        `UnknownModel` keeping every field.
        """
        self.verify_signature(payload, headers, secret=secret)
        return decode_webhook_event(payload)

    def verify_signature(
        self,
        payload: str | bytes,
        headers: Mapping[str, str],
        *,
        secret: str | None = None,
        tolerance: int = WEBHOOK_TOLERANCE,
    ) -> None:
        """Raises `InvalidWebhookSignatureError` unless the API signed `payload` with `secret`.

        `secret` defaults to the client's `webhook_secret` (OPENAI_WEBHOOK_SECRET);
        without one this raises `ValueError`. A delivery stamped more than
        `tolerance` seconds (five minutes) from now is refused as a replay.
        """
        if secret is None:
            secret = self._client._options.webhook_secret
        if secret is None:
            raise ValueError(
                "no webhook secret: set OPENAI_WEBHOOK_SECRET, pass webhook_secret= to the "
                "client, or pass secret= to this method"
            )
        verify_webhook_signature(
            payload, headers, secret=secret, now=time.time(), tolerance=tolerance
        )
