"""Standard Webhooks signatures: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``,
made for what the ledger sends and checked on what it receives (Lithic's ASA requests, an
RDFI decisioning webhook's answers).

Three headers come with each message: ``webhook-id``, ``webhook-timestamp`` (seconds since
the epoch) and ``webhook-signature``, a space-separated list of ``v1,<base64>`` items. A
secret is text, ``whsec_`` and the base64 of the key bytes (``secret_key`` decodes it). A
timestamp more than five minutes from our clock is refused, as the scheme's SDKs do, so a
captured message cannot be replayed later.
"""

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Final

ID_HEADER: Final = "webhook-id"
TIMESTAMP_HEADER: Final = "webhook-timestamp"
SIGNATURE_HEADER: Final = "webhook-signature"
TIMESTAMP_TOLERANCE_S: Final = 300

# Bounds on what an unauthenticated sender can make us parse or hash.
_ID_LENGTH_MAX = 256
_SIGNATURE_HEADER_MAX = 1024  # a handful of signatures while a sender rotates its secret
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SECRET_PREFIX = "whsec_"


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one attempt."""
    signed = b"%s.%d.%s" % (webhook_id.encode(), timestamp, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt: the id stays, the timestamp is the attempt's."""
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(key, webhook_id, timestamp, body),
            "content-type": "application/json"}


class SignatureError(Exception):
    """The message does not carry a valid, current signature; the reason is for logs."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_...`` secret (the prefix is optional)."""
    text = secret.strip().removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("the secret is not whsec_ followed by base64") from error
    if not key:
        raise ValueError("the secret is empty")
    return key


def verify_signature(key: bytes, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise ``SignatureError`` unless one of the message's signatures is valid and current.

    ``headers`` is looked up with the lower-case names (aiohttp's headers ignore case).
    """
    webhook_id = headers.get(ID_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    signatures = headers.get(SIGNATURE_HEADER)
    if webhook_id is None or timestamp is None or signatures is None:
        raise SignatureError("a signature header is missing")
    if not 0 < len(webhook_id) <= _ID_LENGTH_MAX or not webhook_id.isascii():
        raise SignatureError("the webhook id is malformed")
    if _TIMESTAMP.fullmatch(timestamp) is None:
        raise SignatureError("the timestamp is malformed")
    if abs(now - int(timestamp)) > TIMESTAMP_TOLERANCE_S:
        raise SignatureError("the timestamp is outside the tolerance")
    if len(signatures) > _SIGNATURE_HEADER_MAX:
        raise SignatureError("the signature header is too long")
    signed = b"%s.%s.%s" % (webhook_id.encode(), timestamp.encode(), body)
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    for item in signatures.split():
        version, _, encoded = item.partition(",")
        if version != "v1":
            continue  # other versions may appear alongside v1 one day
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise SignatureError("no signature matches")
