"""Envelope encryption for everything secret Atrium stores (tokens, workspace secrets, client secrets).

Each value gets its own random 256-bit data key; the value is sealed with AES-GCM under that data key,
and the data key is sealed (wrapped) with AES-GCM under a key-encryption key from configuration
(`ATRIUM_VAULT_KEYS`). Both seals bind the record's identity as associated data, so a sealed value
copied into another row (another user's connection, another org's secret) does not open.

The configured keys form a list: the first one wraps new data keys, every one unwraps. Rotating is
adding a new key in front, re-wrapping every record (`make rotate-keys`, which only touches the small
wrapped data keys) and then dropping the old key: no downtime, no re-encryption of the values.

A sealed value is one opaque byte string:

    version (1) | key-id length (1) | key id | wrap nonce (12) | wrapped data key (48)
                | data nonce (12) | ciphertext + tag
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = 1
NONCE = 12
WRAPPED_KEY = 32 + 16


class VaultConfigError(RuntimeError):
    """The configured keys are missing or malformed: the process must not start."""


class VaultError(Exception):
    """A sealed value does not open: unknown key id, wrong record identity, or tampered bytes."""


@dataclass(frozen=True)
class Keyring:
    """Key-encryption keys by id; `primary` wraps new data keys."""

    keys: dict[str, bytes]
    primary: str

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """Parse `id:base64key,id:base64key` (first = primary). Keys are 32 bytes, url-safe base64."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key_id, sep, encoded = item.partition(":")
            key_id = key_id.strip()
            if not sep or not key_id or len(key_id) > 64:
                raise VaultConfigError(
                    "ATRIUM_VAULT_KEYS entries must look like '<id>:<base64 32-byte key>'."
                )
            try:
                raw = base64.urlsafe_b64decode(encoded.strip() + "=" * (-len(encoded.strip()) % 4))
            except (binascii.Error, ValueError) as exc:
                raise VaultConfigError(f"ATRIUM_VAULT_KEYS: key {key_id!r} is not base64.") from exc
            if len(raw) != 32:
                raise VaultConfigError(f"ATRIUM_VAULT_KEYS: key {key_id!r} must be 32 bytes, got {len(raw)}.")
            if key_id in keys:
                raise VaultConfigError(f"ATRIUM_VAULT_KEYS: key id {key_id!r} appears twice.")
            keys[key_id] = raw
            order.append(key_id)
        if not order:
            raise VaultConfigError("ATRIUM_VAULT_KEYS is empty: set at least one key (see .env.example).")
        return cls(keys=keys, primary=order[0])


def generate_key() -> str:
    """A new key-encryption key, url-safe base64 (what `ATRIUM_VAULT_KEYS` expects after `<id>:`)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@cache
def _keyring_for(spec: str) -> Keyring:
    return Keyring.parse(spec)


def keyring() -> Keyring:
    """The configured keyring (parsed once per distinct setting, so tests may override the setting)."""
    return _keyring_for(settings.ATRIUM_VAULT_KEYS)


def seal(plaintext: str, *, aad: str, ring: Keyring | None = None) -> bytes:
    """Encrypt `plaintext` for the record identified by `aad`."""
    ring = ring or keyring()
    data_key = AESGCM.generate_key(bit_length=256)
    data_nonce = os.urandom(NONCE)
    ciphertext = AESGCM(data_key).encrypt(data_nonce, plaintext.encode(), aad.encode())
    return _pack(ring, ring.primary, data_key, aad) + data_nonce + ciphertext


def unseal(sealed: bytes, *, aad: str, ring: Keyring | None = None) -> str:
    """Decrypt a value sealed for the record identified by `aad`. Raises VaultError."""
    ring = ring or keyring()
    _, data_key, rest = _unpack(ring, bytes(sealed), aad)
    try:
        return AESGCM(data_key).decrypt(rest[:NONCE], rest[NONCE:], aad.encode()).decode()
    except InvalidTag as exc:
        raise VaultError("The sealed value does not belong to this record or was altered.") from exc


def key_id(sealed: bytes) -> str:
    """The id of the key that wraps this value's data key."""
    data = bytes(sealed)
    if len(data) < 2 or data[0] != VERSION:
        raise VaultError("Not a sealed value.")
    return data[2 : 2 + data[1]].decode()


def rewrap(sealed: bytes, *, aad: str, ring: Keyring | None = None) -> bytes | None:
    """The value with its data key wrapped by the primary key, or None if it already is.

    The ciphertext is kept as is; only the 48-byte wrapped data key changes. Raises VaultError if the
    value does not open (so a rotation stops at a record it could not prove readable)."""
    ring = ring or keyring()
    data = bytes(sealed)
    current, data_key, rest = _unpack(ring, data, aad)
    try:  # prove the whole value opens before rewriting it
        AESGCM(data_key).decrypt(rest[:NONCE], rest[NONCE:], aad.encode())
    except InvalidTag as exc:
        raise VaultError("The sealed value does not belong to this record or was altered.") from exc
    if current == ring.primary:
        return None
    return _pack(ring, ring.primary, data_key, aad) + rest


def _wrap_aad(key_id: str, aad: str) -> bytes:
    return f"atrium-vault-v{VERSION}|{key_id}|{aad}".encode()


def _pack(ring: Keyring, kid: str, data_key: bytes, aad: str) -> bytes:
    wrap_nonce = os.urandom(NONCE)
    wrapped = AESGCM(ring.keys[kid]).encrypt(wrap_nonce, data_key, _wrap_aad(kid, aad))
    encoded = kid.encode()
    return bytes([VERSION, len(encoded)]) + encoded + wrap_nonce + wrapped


def _unpack(ring: Keyring, data: bytes, aad: str) -> tuple[str, bytes, bytes]:
    kid = key_id(data)
    offset = 2 + data[1]
    kek = ring.keys.get(kid)
    if kek is None:
        raise VaultError(f"The value is wrapped by key {kid!r}, which is not configured.")
    wrap_nonce = data[offset : offset + NONCE]
    wrapped = data[offset + NONCE : offset + NONCE + WRAPPED_KEY]
    rest = data[offset + NONCE + WRAPPED_KEY :]
    if len(wrapped) != WRAPPED_KEY or len(rest) < NONCE + 16:
        raise VaultError("The sealed value is truncated.")
    try:
        data_key = AESGCM(kek).decrypt(wrap_nonce, wrapped, _wrap_aad(kid, aad))
    except InvalidTag as exc:
        raise VaultError("The sealed value does not belong to this record or was altered.") from exc
    return kid, data_key, rest
