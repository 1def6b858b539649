"""Sealed boxes and secret-key AEAD: round trips, wrong keys, wrong contexts, formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csirt.vault.errors import KeyFormatError, TamperedError
from csirt.vault.sealing import (
    SEALED_BOX_V1,
    SECRET_V1,
    generate_keypair,
    new_secret_key,
    open_sealed,
    public_key_of,
    seal_for,
    secret_open,
    secret_seal,
)

KEYPAIR = generate_keypair()
OTHER_KEYPAIR = generate_keypair()
KEY = new_secret_key()


def test_keypair_is_raw_x25519_and_repr_hides_the_private_key() -> None:
    assert len(KEYPAIR.public) == 32
    assert len(KEYPAIR.private) == 32
    assert public_key_of(KEYPAIR.private) == KEYPAIR.public
    assert KEYPAIR.private.hex() not in repr(KEYPAIR)
    assert KEYPAIR.public != OTHER_KEYPAIR.public


def test_new_secret_keys_are_random_32_bytes() -> None:
    keys = {new_secret_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) == 32 for key in keys)


@given(st.binary(max_size=2000))
def test_sealed_box_round_trip_with_keypair_or_private_bytes(data: bytes) -> None:
    blob = seal_for(KEYPAIR.public, data)
    assert blob[0] == SEALED_BOX_V1
    assert open_sealed(KEYPAIR, blob) == data
    assert open_sealed(KEYPAIR.private, blob) == data


def test_sealed_box_does_not_open_with_another_key() -> None:
    blob = seal_for(KEYPAIR.public, b"tip text")
    with pytest.raises(TamperedError):
        open_sealed(OTHER_KEYPAIR, blob)


def test_sealing_twice_gives_different_blobs() -> None:
    assert seal_for(KEYPAIR.public, b"x") != seal_for(KEYPAIR.public, b"x")
    assert secret_seal(KEY, b"x", context=b"c") != secret_seal(KEY, b"x", context=b"c")


@given(st.binary(max_size=2000), st.binary(max_size=100))
def test_secret_seal_round_trip(data: bytes, context: bytes) -> None:
    blob = secret_seal(KEY, data, context=context)
    assert blob[0] == SECRET_V1
    assert len(blob) == 1 + 24 + len(data) + 16
    assert secret_open(KEY, blob, context=context) == data


def test_secret_open_refuses_wrong_key_and_wrong_context() -> None:
    blob = secret_seal(KEY, b"answers", context=b"submission:42:answers")
    with pytest.raises(TamperedError):
        secret_open(new_secret_key(), blob, context=b"submission:42:answers")
    for context in (b"submission:43:answers", b"submission:42:identity", b""):
        with pytest.raises(TamperedError):
            secret_open(KEY, blob, context=context)


def test_blob_kinds_are_not_interchangeable() -> None:
    sealed_box = seal_for(KEYPAIR.public, b"x" * 40)
    with pytest.raises(TamperedError, match="known format"):
        secret_open(KEY, sealed_box, context=b"")
    secret = secret_seal(KEY, b"x" * 40, context=b"")
    with pytest.raises(TamperedError, match="known format"):
        open_sealed(KEYPAIR, secret)


@pytest.mark.parametrize("blob", [b"", b"\x21", bytes([SECRET_V1]) + bytes(39)])
def test_short_secret_blobs_are_tampered(blob: bytes) -> None:
    with pytest.raises(TamperedError):
        secret_open(KEY, blob, context=b"")


@pytest.mark.parametrize("blob", [b"", bytes([SEALED_BOX_V1]) + bytes(47)])
def test_short_sealed_boxes_are_tampered(blob: bytes) -> None:
    with pytest.raises(TamperedError):
        open_sealed(KEYPAIR, blob)


@pytest.mark.parametrize("bad_key", [b"", b"k" * 31, b"k" * 33, "k" * 32])
def test_malformed_keys_are_a_key_format_error(bad_key: bytes) -> None:
    with pytest.raises(KeyFormatError):
        secret_seal(bad_key, b"x", context=b"")
    with pytest.raises(KeyFormatError):
        secret_open(bad_key, b"x" * 64, context=b"")
    with pytest.raises(KeyFormatError):
        seal_for(bad_key, b"x")
    with pytest.raises(KeyFormatError):
        open_sealed(bad_key, b"x" * 64)
    with pytest.raises(KeyFormatError):
        public_key_of(bad_key)


def test_context_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        secret_seal(KEY, b"x", context="submission:1")  # type: ignore[arg-type]
