"""Every sealed blob the vault produces detects any change to any byte, truncation or extension."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csirt.vault.envelope import (
    new_identity_key,
    new_submission_key,
    open_field,
    open_identity,
    open_identity_key,
    open_submission_key_as_officer,
    open_submission_key_with_receipt,
    seal_field,
    seal_identity,
    wrap_identity_key,
    wrap_submission_key_for_officer,
    wrap_submission_key_for_receipt,
)
from csirt.vault.errors import TamperedError, WrongPasswordError
from csirt.vault.kdf import KdfParams
from csirt.vault.keys import (
    new_recovery_key,
    new_session_secret,
    protect_for_session,
    unprotect_from_session,
    unwrap_private_key,
    unwrap_with_recovery_key,
    wrap_private_key,
    wrap_with_recovery_key,
)
from csirt.vault.sealing import (
    generate_keypair,
    new_secret_key,
    open_sealed,
    seal_for,
    secret_open,
    secret_seal,
)

FAST = KdfParams(time_cost=1, memory_kib=8)
# Format byte, params and salt of a wrapped key: altering them changes the derived key, which
# is indistinguishable from a wrong password.  Every later byte must read as tampering.
WRAP_HEADER_BYTES = 1 + 1 + 4 + 1 + 16


@dataclass(frozen=True)
class Kind:
    """One kind of blob, its opener and what it must yield untouched."""

    name: str
    blob: bytes
    opener: Callable[[bytes], bytes]
    plaintext: bytes
    password_header: int = 0

    def allowed_errors(self, position: int) -> tuple[type[Exception], ...]:
        if position < self.password_header:
            return (TamperedError, WrongPasswordError)
        return (TamperedError,)


def _kinds() -> list[Kind]:
    keypair = generate_keypair()
    key = new_secret_key()
    sub_key = new_submission_key()
    identity_key = new_identity_key()
    session = new_session_secret()
    recovery = new_recovery_key()
    data = b"tip text: the voter roll is on a USB stick"
    return [
        Kind(
            "secret",
            secret_seal(key, data, context=b"ctx"),
            lambda b: secret_open(key, b, context=b"ctx"),
            data,
        ),
        Kind("sealed box", seal_for(keypair.public, data), lambda b: open_sealed(keypair, b), data),
        Kind(
            "password wrap",
            wrap_private_key(keypair.private, "pw", params=FAST),
            lambda b: unwrap_private_key(b, "pw"),
            keypair.private,
            WRAP_HEADER_BYTES,
        ),
        Kind(
            "recovery wrap",
            wrap_with_recovery_key(keypair.private, recovery, params=FAST),
            lambda b: unwrap_with_recovery_key(b, recovery),
            keypair.private,
            WRAP_HEADER_BYTES,
        ),
        Kind(
            "session",
            protect_for_session(keypair.private, session),
            lambda b: unprotect_from_session(b, session),
            keypair.private,
        ),
        Kind(
            "field",
            seal_field(sub_key, "answers", data, 42),
            lambda b: open_field(sub_key, "answers", b, 42),
            data,
        ),
        Kind(
            "receipt wrap",
            wrap_submission_key_for_receipt(sub_key, key, 42),
            lambda b: open_submission_key_with_receipt(key, b, 42),
            sub_key,
        ),
        Kind(
            "officer wrap",
            wrap_submission_key_for_officer(sub_key, keypair.public),
            lambda b: open_submission_key_as_officer(keypair, b),
            sub_key,
        ),
        Kind(
            "identity",
            seal_identity(identity_key, b"Hanako, 090-0000-0000", 42),
            lambda b: open_identity(identity_key, b, 42),
            b"Hanako, 090-0000-0000",
        ),
        Kind(
            "identity key wrap",
            wrap_identity_key(identity_key, keypair.public),
            lambda b: open_identity_key(keypair, b),
            identity_key,
        ),
    ]


KINDS = _kinds()


def _flip(blob: bytes, position: int, mask: int) -> bytes:
    return blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1 :]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_untouched_blob_opens(kind: Kind) -> None:
    assert kind.opener(kind.blob) == kind.plaintext


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_changing_any_byte_is_detected(kind: Kind, mask: int) -> None:
    for position in range(len(kind.blob)):
        with pytest.raises(kind.allowed_errors(position)):
            kind.opener(_flip(kind.blob, position, mask))


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_truncation_and_extension_are_detected(kind: Kind) -> None:
    for length in range(len(kind.blob)):
        with pytest.raises(kind.allowed_errors(length)):
            kind.opener(kind.blob[:length])
    for suffix in (b"\x00", b"\xff" * 16):
        with pytest.raises(TamperedError):
            kind.opener(kind.blob + suffix)


@given(st.sampled_from(KINDS), st.data())
def test_any_random_change_is_detected(kind: Kind, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(kind.blob) - 1))
    mask = data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(kind.allowed_errors(position)):
        kind.opener(_flip(kind.blob, position, mask))


@given(st.sampled_from(KINDS), st.binary(min_size=1, max_size=400))
def test_random_bytes_never_open(kind: Kind, junk: bytes) -> None:
    with pytest.raises((TamperedError, WrongPasswordError)):
        kind.opener(junk)
