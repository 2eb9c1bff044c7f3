"""Webhook signatures in the core: valid, tampered, expired, rotated secrets, missing headers."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from oxide_proto import (
    InvalidWebhookSignatureError,
    UnknownModel,
    decode_webhook_event,
    verify_webhook_signature,
)
from oxide_proto.types.webhooks import WebhookBatchCompleted

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
NOW = 1_750_000_000
PAYLOAD = (
    b'{"id":"evt_1","object":"event","type":"batch.completed",'
    b'"created_at":1750000000,"data":{"id":"batch_1"}}'
)


def sign(payload: bytes, *, at: int = NOW, key: bytes = KEY, ident: str = "wh_1") -> str:
    mac = hmac.new(key, f"{ident}.{at}.".encode() + payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(signature: str, *, at: int = NOW, ident: str = "wh_1") -> dict[str, str]:
    return {"webhook-id": ident, "webhook-timestamp": str(at), "webhook-signature": signature}


def test_valid_signature_passes_and_event_decodes() -> None:
    verify_webhook_signature(PAYLOAD, headers(sign(PAYLOAD)), secret=SECRET, now=NOW)
    verify_webhook_signature(PAYLOAD.decode(), headers(sign(PAYLOAD)), secret=SECRET, now=NOW)
    event = decode_webhook_event(PAYLOAD)
    assert isinstance(event, WebhookBatchCompleted)
    assert event.data.id == "batch_1"


def test_header_names_in_any_case() -> None:
    mixed = {k.title(): v for k, v in headers(sign(PAYLOAD)).items()}
    verify_webhook_signature(PAYLOAD, mixed, secret=SECRET, now=NOW)


def test_any_of_several_signatures_may_match() -> None:
    rotated = f"{sign(PAYLOAD, key=b'old-key')} {sign(PAYLOAD)}"
    verify_webhook_signature(PAYLOAD, headers(rotated), secret=SECRET, now=NOW)


def test_plain_secret_is_used_as_utf8_key() -> None:
    signature = sign(PAYLOAD, key=b"plain-secret")
    verify_webhook_signature(PAYLOAD, headers(signature), secret="plain-secret", now=NOW)


@pytest.mark.parametrize(
    ("payload", "signature", "at", "now", "message"),
    [
        (PAYLOAD + b" ", sign(PAYLOAD), NOW, NOW, "does not match"),
        (PAYLOAD, sign(PAYLOAD, key=b"other"), NOW, NOW, "does not match"),
        (PAYLOAD, sign(PAYLOAD, at=NOW - 301), NOW - 301, NOW, "too old"),
        (PAYLOAD, sign(PAYLOAD, at=NOW + 301), NOW + 301, NOW, "too new"),
    ],
)
def test_refused(payload: bytes, signature: str, at: int, now: int, message: str) -> None:
    with pytest.raises(InvalidWebhookSignatureError, match=message):
        verify_webhook_signature(payload, headers(signature, at=at), secret=SECRET, now=now)


def test_tolerance_edges() -> None:
    old = sign(PAYLOAD, at=NOW - 300)
    verify_webhook_signature(PAYLOAD, headers(old, at=NOW - 300), secret=SECRET, now=NOW + 0.9)
    with pytest.raises(InvalidWebhookSignatureError):
        verify_webhook_signature(PAYLOAD, headers(old, at=NOW - 300), secret=SECRET, now=NOW + 1)


def test_missing_header_and_bad_timestamp() -> None:
    partial = headers(sign(PAYLOAD))
    del partial["webhook-id"]
    with pytest.raises(InvalidWebhookSignatureError, match="webhook-id"):
        verify_webhook_signature(PAYLOAD, partial, secret=SECRET, now=NOW)
    bad = {**headers(sign(PAYLOAD)), "webhook-timestamp": "soon"}
    with pytest.raises(InvalidWebhookSignatureError, match="timestamp format"):
        verify_webhook_signature(PAYLOAD, bad, secret=SECRET, now=NOW)


def test_bad_whsec_secret() -> None:
    with pytest.raises(ValueError, match="base64"):
        verify_webhook_signature(PAYLOAD, headers(sign(PAYLOAD)), secret="whsec_!!", now=NOW)


def test_unknown_event_type_keeps_its_fields() -> None:
    event = decode_webhook_event({"id": "evt_2", "type": "future.thing", "data": {"x": 1}})
    assert isinstance(event, UnknownModel)
    assert event.type == "future.thing"
