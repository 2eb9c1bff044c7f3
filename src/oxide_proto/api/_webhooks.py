"""Webhook deliveries: checking their signature and decoding their event.

The API signs webhooks the Standard Webhooks way: an HMAC-SHA256, under the
endpoint's secret, of `{webhook-id}.{webhook-timestamp}.{body}`, sent base64 as
`v1,<signature>` in `webhook-signature` (several values, space-separated, while a
secret is being rotated: any one may match). The secret is shown as `whsec_`
followed by the base64 of the key. A delivery whose timestamp lies more than
`tolerance` seconds from now, either way, is refused as a possible replay.

Pure: the caller passes the current time as `now` (seconds since the epoch).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..base._errors import InvalidWebhookSignatureError
from ..base._headers import Headers
from ..base._types import ResponseInfo

if TYPE_CHECKING:
    from ..types.webhooks import WebhookEvent
    from ._model import UnknownModel

__all__ = ["WEBHOOK_TOLERANCE", "decode_webhook_event", "verify_webhook_signature"]

# Five minutes, as the official SDK and the Standard Webhooks libraries allow.
WEBHOOK_TOLERANCE = 300


def _header(headers: Mapping[str, str] | Headers, name: str) -> str:
    if isinstance(headers, Headers):
        value = headers.get(name)
    else:
        value = next(
            (v for k, v in headers.items() if isinstance(k, str) and k.lower() == name), None
        )
    if not isinstance(value, str) or not value:
        raise InvalidWebhookSignatureError(f"the webhook has no {name} header")
    return value


def _key(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        return secret.encode("utf-8")
    try:
        return base64.b64decode(secret[len("whsec_") :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret starting with whsec_ must continue in base64") from None


def verify_webhook_signature(
    payload: str | bytes,
    headers: Mapping[str, str] | Headers,
    *,
    secret: str,
    now: float,
    tolerance: float = WEBHOOK_TOLERANCE,
) -> None:
    """Raises `InvalidWebhookSignatureError` unless `payload` was signed with `secret`.

    `payload` is the request body exactly as received (re-serialised JSON will
    not match); `headers` its headers (names in any case). The error says what
    failed: a missing header, a timestamp that is not an integer, too old or
    too new relative to `now` give or take `tolerance` seconds, or no matching
    signature. Raises `ValueError` for a `whsec_` secret that is not base64.
    """
    signature_header = _header(headers, "webhook-signature")
    timestamp = _header(headers, "webhook-timestamp")
    webhook_id = _header(headers, "webhook-id")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidWebhookSignatureError("Invalid webhook timestamp format") from None
    # Whole seconds on both sides, as the timestamp is.
    current = int(now)
    if current - sent_at > tolerance:
        raise InvalidWebhookSignatureError("Webhook timestamp is too old")
    if sent_at > current + tolerance:
        raise InvalidWebhookSignatureError("Webhook timestamp is too new")
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    # Each value is "v1,<base64>"; a bare value is compared as it is.
    candidates = [part[3:] if part.startswith("v1,") else part for part in signature_header.split()]
    if not any(hmac.compare_digest(expected, c.encode("latin-1", "replace")) for c in candidates):
        raise InvalidWebhookSignatureError(
            "The given webhook signature does not match the expected signature"
        )


def decode_webhook_event(
    payload: str | bytes | Mapping[str, object], *, response: ResponseInfo | None = None
) -> WebhookEvent | UnknownModel:
    """The typed event of a webhook body, chosen by its `type` (`WebhookBatchCompleted`, ...).

    An event type this package does not know yet decodes to an `UnknownModel`
    that keeps every field. Raises `ValueError` when the body is not JSON.
    """
    from ..types.webhooks import WebhookEvent
    from ._decode import decode

    data = payload if isinstance(payload, Mapping) else json.loads(payload)
    event: WebhookEvent | UnknownModel = decode(WebhookEvent, data, response=response)
    return event
