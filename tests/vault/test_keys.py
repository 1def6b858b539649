"""Staff private keys: password and recovery-key wrapping, rewrap, session protection."""

from __future__ import annotations

import re
import struct
import time

import pytest

from csirt.vault.errors import (
    KeyFormatError,
    ReceiptFormatError,
    TamperedError,
    WrongPasswordError,
)
from csirt.vault.kdf import KdfParams
from csirt.vault.keys import (
    DEFAULT_PASSWORD_PARAMS,
    PASSWORD_WRAP_V1,
    RECOVERY_KEY_BITS,
    new_recovery_key,
    new_session_secret,
    normalize_recovery_key,
    protect_for_session,
    rewrap,
    unprotect_from_session,
    unwrap_private_key,
    unwrap_with_recovery_key,
    wrap_private_key,
    wrap_with_recovery_key,
    wrapped_key_params,
)
from csirt.vault.sealing import generate_keypair

FAST = KdfParams(time_cost=1, memory_kib=8)
PRIVATE = generate_keypair().private


def test_password_wrap_round_trip_with_its_own_salt() -> None:
    first = wrap_private_key(PRIVATE, "correct horse", params=FAST)
    second = wrap_private_key(PRIVATE, "correct horse", params=FAST)
    assert first != second  # fresh salt and nonce each time
    assert unwrap_private_key(first, "correct horse") == PRIVATE
    assert unwrap_private_key(second, "correct horse") == PRIVATE
    assert PRIVATE not in first


def test_password_wrap_with_default_parameters() -> None:
    assert DEFAULT_PASSWORD_PARAMS.memory_kib >= 64 * 1024
    blob = wrap_private_key(PRIVATE, "パスワード")
    assert wrapped_key_params(blob) == DEFAULT_PASSWORD_PARAMS
    assert unwrap_private_key(blob, "パスワード") == PRIVATE


@pytest.mark.parametrize("wrong", ["correct horsE", "correct horse ", "x"])
def test_wrong_password_is_reported_as_such(wrong: str) -> None:
    blob = wrap_private_key(PRIVATE, "correct horse", params=FAST)
    with pytest.raises(WrongPasswordError):
        unwrap_private_key(blob, wrong)


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        wrap_private_key(PRIVATE, "", params=FAST)


def test_only_private_keys_are_wrapped() -> None:
    with pytest.raises(KeyFormatError):
        wrap_private_key(b"short", "pw", params=FAST)


def test_forged_parameters_are_refused_before_any_work() -> None:
    blob = wrap_private_key(PRIVATE, "pw", params=FAST)
    header = struct.Struct(">BBIB")
    for time_cost, memory_kib, parallelism in [(1, 4 << 20, 1), (200, 8, 1), (1, 8, 0), (0, 8, 1)]:
        forged = header.pack(PASSWORD_WRAP_V1, time_cost, memory_kib, parallelism)
        began = time.monotonic()
        with pytest.raises(TamperedError, match="impossible"):
            unwrap_private_key(forged + blob[header.size :], "pw")
        assert time.monotonic() - began < 0.5


def test_truncated_and_foreign_blobs_are_tampered() -> None:
    blob = wrap_private_key(PRIVATE, "pw", params=FAST)
    with pytest.raises(TamperedError, match="truncated"):
        unwrap_private_key(blob[:60], "pw")
    with pytest.raises(TamperedError, match="expected kind"):
        unwrap_with_recovery_key(blob, new_recovery_key())
    foreign = bytes([0x99]) + blob[1:]
    with pytest.raises(TamperedError, match="expected kind"):
        wrapped_key_params(foreign)


def test_recovery_key_is_readable_and_strong() -> None:
    assert RECOVERY_KEY_BITS >= 128
    keys = {new_recovery_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}", key)
        assert normalize_recovery_key(key.lower().replace("-", " ")) == key


def test_recovery_wrap_round_trip_and_wrong_key() -> None:
    recovery_key = new_recovery_key()
    blob = wrap_with_recovery_key(PRIVATE, recovery_key)
    assert unwrap_with_recovery_key(blob, recovery_key.lower().replace("-", "")) == PRIVATE
    with pytest.raises(WrongPasswordError):
        unwrap_with_recovery_key(blob, new_recovery_key())
    with pytest.raises(ReceiptFormatError, match="recovery key"):
        unwrap_with_recovery_key(
            blob, recovery_key[:-1] + ("0" if recovery_key[-1] != "0" else "1")
        )
    with pytest.raises(TamperedError, match="expected kind"):
        unwrap_private_key(blob, recovery_key)


def test_rewrap_changes_the_password_and_upgrades_the_parameters() -> None:
    blob = wrap_private_key(PRIVATE, "old password", params=FAST)
    stronger = KdfParams(time_cost=2, memory_kib=16)
    new_blob = rewrap(blob, "old password", "new password", params=stronger)
    assert wrapped_key_params(new_blob) == stronger
    assert unwrap_private_key(new_blob, "new password") == PRIVATE
    with pytest.raises(WrongPasswordError):
        unwrap_private_key(new_blob, "old password")
    with pytest.raises(WrongPasswordError):
        rewrap(blob, "not the old password", "new password", params=FAST)


def test_session_protection_round_trip() -> None:
    secret = new_session_secret()
    assert len(secret) == 32
    assert secret != new_session_secret()
    blob = protect_for_session(PRIVATE, secret)
    assert PRIVATE not in blob
    assert unprotect_from_session(blob, secret) == PRIVATE


def test_another_sessions_secret_does_not_open_the_key() -> None:
    blob = protect_for_session(PRIVATE, new_session_secret())
    with pytest.raises(TamperedError):
        unprotect_from_session(blob, new_session_secret())
    with pytest.raises(KeyFormatError):
        unprotect_from_session(blob, b"cookie")
    with pytest.raises(KeyFormatError):
        protect_for_session(b"not a key", new_session_secret())
