"""API key format: `atr_<prefix>_<secret>`.

The prefix is public (shown in lists, used to find the row); the whole key is hashed with SHA-256 and
compared in constant time. Keys carry 256 bits of randomness, so a fast hash is safe here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_SCHEME = "atr"
PREFIX_BYTES = 6
SECRET_BYTES = 32


@dataclass(frozen=True)
class GeneratedKey:
    prefix: str
    plaintext: str
    hashed: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_key() -> GeneratedKey:
    prefix = secrets.token_hex(PREFIX_BYTES)
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return GeneratedKey(prefix=prefix, plaintext=plaintext, hashed=hash_key(plaintext))


def parse_prefix(plaintext: str) -> str | None:
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != PREFIX_BYTES * 2:
        return None
    return parts[1]


def key_matches(plaintext: str, hashed: str) -> bool:
    return hmac.compare_digest(hash_key(plaintext), hashed)


def webhook_secret(*, signing_key: str, org_id: str, generation: int) -> str:
    """An org's webhook signing secret in the Standard Webhooks format (`whsec_<base64>`).

    Derived, never stored: HMAC-SHA256 of the org and a generation number under the deployment's
    signing key. Rotating bumps the generation; changing the signing key rotates every org's secret.
    """
    digest = hmac.new(
        signing_key.encode(), f"atrium-webhook:{org_id}:{generation}".encode(), hashlib.sha256
    ).digest()
    return "whsec_" + base64.b64encode(digest).decode()
