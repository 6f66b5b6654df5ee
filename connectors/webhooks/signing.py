"""Standard Webhooks signatures: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""

import base64
import hashlib
import hmac


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
