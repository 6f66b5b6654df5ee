"""API keys: made once, shown once, kept only as a salted hash.

A key reads ``lk.<tenant>.<key id>.<secret>``: the tenant names the ledger whose clients
hold it, the key id names its client (principal ``apikey:<key id>``), and the secret is 32
random bytes. The auth topic keeps ``HMAC-SHA256(salt, secret)`` with a random salt per
key. A slow hash would protect low-entropy passwords; a 256-bit random secret cannot be
guessed from its hash, and a fast one costs a request a microsecond.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = ["KEY_PRINCIPAL_PREFIX", "TENANT_NAME", "ApiKey", "KeyHash", "new_key", "parse_key"]

KEY_PRINCIPAL_PREFIX = "apikey:"
TENANT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEY = re.compile(r"lk\.([A-Za-z0-9_-]{1,64})\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")
_SECRET_BYTES = 32


@dataclass(frozen=True)
class KeyHash:
    """What the auth topic keeps of a key: its salt and the secret's keyed hash, in hex."""

    salt: str
    digest: str

    @classmethod
    def of(cls, secret: str, salt: bytes | None = None) -> KeyHash:
        """The hash of ``secret`` under ``salt`` (a new random salt by default)."""
        salt = secrets.token_bytes(16) if salt is None else salt
        return cls(salt.hex(), hmac.new(salt, secret.encode(), hashlib.sha256).hexdigest())

    def verifies(self, secret: str) -> bool:
        """Whether ``secret`` is the key's, compared in constant time."""
        expected = KeyHash.of(secret, bytes.fromhex(self.salt)).digest
        return hmac.compare_digest(expected, self.digest)


@dataclass(frozen=True)
class ApiKey:
    """A key as a client presents it."""

    tenant: str
    key_id: str
    secret: str

    @property
    def principal(self) -> str:
        """The principal of the key's client."""
        return f"{KEY_PRINCIPAL_PREFIX}{self.key_id}"

    @property
    def text(self) -> str:
        """The key as handed out (once)."""
        return f"lk.{self.tenant}.{self.key_id}.{self.secret}"


def new_key(tenant: str) -> ApiKey:
    """A fresh key for ``tenant``."""
    if TENANT_NAME.fullmatch(tenant) is None:
        raise ValueError(f"tenant names are 1 to 64 of A-Z a-z 0-9 _ -, not {tenant!r}")
    secret = base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES)).decode().rstrip("=")
    return ApiKey(tenant, secrets.token_hex(16), secret)


def parse_key(text: str) -> ApiKey | None:
    """The key ``text`` spells, or None when it is not shaped like one."""
    match = _KEY.fullmatch(text)
    return None if match is None else ApiKey(match.group(1), match.group(2), match.group(3))
