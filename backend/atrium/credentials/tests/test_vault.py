"""The vault's envelope encryption, without a database."""

from __future__ import annotations

import pytest

from atrium.credentials import vault
from atrium.credentials.vault import Keyring, VaultConfigError, VaultError

KEY_A = vault.generate_key()
KEY_B = vault.generate_key()


def ring(spec: str) -> Keyring:
    return Keyring.parse(spec)


def test_a_sealed_value_opens_only_for_its_record():
    # given a value sealed for one record
    keys = ring(f"a:{KEY_A}")
    sealed = vault.seal("sk-live-123", aad="workspace-secret|org-1|OPENAI_API_KEY", ring=keys)
    # then the bytes hold no plaintext, and it opens for that record only
    assert b"sk-live-123" not in sealed
    assert vault.unseal(sealed, aad="workspace-secret|org-1|OPENAI_API_KEY", ring=keys) == "sk-live-123"
    with pytest.raises(VaultError):
        vault.unseal(sealed, aad="workspace-secret|org-2|OPENAI_API_KEY", ring=keys)


def test_two_seals_of_one_value_differ():
    keys = ring(f"a:{KEY_A}")
    assert vault.seal("same", aad="x", ring=keys) != vault.seal("same", aad="x", ring=keys)


def test_tampered_or_truncated_values_do_not_open():
    keys = ring(f"a:{KEY_A}")
    sealed = bytearray(vault.seal("value", aad="x", ring=keys))
    sealed[-1] ^= 1
    with pytest.raises(VaultError):
        vault.unseal(bytes(sealed), aad="x", ring=keys)
    with pytest.raises(VaultError):
        vault.unseal(bytes(sealed[:40]), aad="x", ring=keys)


def test_rotation_rewraps_the_data_key_and_keeps_the_ciphertext():
    # given a value sealed under key a
    old = ring(f"a:{KEY_A}")
    sealed = vault.seal("token", aad="rec", ring=old)
    # when b becomes primary and the value is re-wrapped
    both = ring(f"b:{KEY_B},a:{KEY_A}")
    rewrapped = vault.rewrap(sealed, aad="rec", ring=both)
    # then it is wrapped by b, opens with b alone, and its ciphertext tail is unchanged
    assert rewrapped is not None
    assert vault.key_id(rewrapped) == "b"
    assert vault.unseal(rewrapped, aad="rec", ring=ring(f"b:{KEY_B}")) == "token"
    assert rewrapped[-(12 + 5 + 16) :] == sealed[-(12 + 5 + 16) :]
    assert vault.rewrap(rewrapped, aad="rec", ring=both) is None
    # and without key a the old value no longer opens
    with pytest.raises(VaultError, match="not configured"):
        vault.unseal(sealed, aad="rec", ring=ring(f"b:{KEY_B}"))


def test_rewrap_refuses_a_value_of_another_record():
    both = ring(f"b:{KEY_B},a:{KEY_A}")
    sealed = vault.seal("token", aad="rec-1", ring=ring(f"a:{KEY_A}"))
    with pytest.raises(VaultError):
        vault.rewrap(sealed, aad="rec-2", ring=both)


@pytest.mark.parametrize(
    "spec",
    ["", "nokey", f"a:{KEY_A},a:{KEY_B}", "a:not-base64!!", "a:c2hvcnQ"],
    ids=["empty", "no-colon", "duplicate-id", "not-base64", "short-key"],
)
def test_malformed_key_lists_are_refused(spec):
    with pytest.raises(VaultConfigError):
        Keyring.parse(spec)
