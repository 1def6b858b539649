"""Staff private keys at rest: wrapped under a password or a recovery key, and per login session.

Wrapped blob layout (all integers big-endian)::

    format(1) time_cost(1) memory_kib(4) parallelism(1) salt(16) check(16) nonce(24) ct+tag

One Argon2id run over the password and the blob's own random salt gives 64 bytes: the first
half is hashed into the 16-byte check value, the second half is the XChaCha20-Poly1305 key.
The header is the AEAD's associated data, and the AEAD alone decides whether the key opens.
The check value only names the cause of a failure: a wrong password (WrongPasswordError) or a
blob altered after it was written (TamperedError).  An altered header (salt, parameters) also
reads as a wrong password, as it changes the derived key.  The check value tells an attacker
nothing the ciphertext would not: testing a guess against either costs the same Argon2id run.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from csirt.vault.errors import KeyFormatError, TamperedError, WrongPasswordError
from csirt.vault.kdf import (
    MAX_MEMORY_KIB,
    MAX_PARALLELISM,
    MAX_TIME_COST,
    SALT_BYTES,
    KdfParams,
    argon2id,
)
from csirt.vault.receipts import BITS_PER_SYMBOL, generate_grouped_code, normalize_grouped_code
from csirt.vault.sealing import (
    KEY_BYTES,
    NONCE_BYTES,
    PRIVATE_KEY_BYTES,
    TAG_BYTES,
    new_secret_key,
    secret_open,
    secret_seal,
)

PASSWORD_WRAP_V1 = 0x31
RECOVERY_WRAP_V1 = 0x41
SESSION_CONTEXT = b"csirt:staff-session:private-key"

# About 210 ms per wrap or unwrap on the development machine, once per login.  This is RFC 9106's
# second recommended option (64 MiB, t=3) with p=1; SecureDrop hashes journalist passwords with
# 64 MiB, t=4, p=2.
DEFAULT_PASSWORD_PARAMS = KdfParams(time_cost=3, memory_kib=64 * 1024, parallelism=1)
# A recovery key already carries RECOVERY_KEY_BITS of entropy; stretching it buys nothing, but
# using the same construction keeps one code path.
DEFAULT_RECOVERY_PARAMS = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)

RECOVERY_KEY_RANDOM_CHARS = 27
RECOVERY_KEY_GROUP = 4
RECOVERY_KEY_BITS = RECOVERY_KEY_RANDOM_CHARS * BITS_PER_SYMBOL  # 135
SESSION_SECRET_BYTES = KEY_BYTES

_HEADER = struct.Struct(">BBIB")
_CHECK_BYTES = 16
_CHECK_PERSON = b"csirt:kek-check"
_PREFIX_BYTES = _HEADER.size + SALT_BYTES
_MIN_WRAPPED = _PREFIX_BYTES + _CHECK_BYTES + 1 + NONCE_BYTES + TAG_BYTES


def _require_private(private: bytes) -> bytes:
    if not isinstance(private, bytes | bytearray) or len(private) != PRIVATE_KEY_BYTES:
        raise KeyFormatError(f"a private key must be {PRIVATE_KEY_BYTES} bytes")
    return bytes(private)


def _derive(secret: bytes, salt: bytes, params: KdfParams) -> tuple[bytes, bytes]:
    output = argon2id(secret, salt, params, 64)
    check = hashlib.blake2b(output[:32], digest_size=_CHECK_BYTES, person=_CHECK_PERSON).digest()
    return check, output[32:]


def _wrap(format_byte: int, private: bytes, secret: bytes, params: KdfParams) -> bytes:
    salt = secrets.token_bytes(SALT_BYTES)
    prefix = (
        _HEADER.pack(format_byte, params.time_cost, params.memory_kib, params.parallelism) + salt
    )
    check, kek = _derive(secret, salt, params)
    return prefix + check + secret_seal(kek, _require_private(private), context=prefix)


def _parse_params(blob: bytes, format_byte: int | None) -> KdfParams:
    if len(blob) < _MIN_WRAPPED:
        raise TamperedError("wrapped key is truncated")
    found, time_cost, memory_kib, parallelism = _HEADER.unpack_from(blob)
    expected = (PASSWORD_WRAP_V1, RECOVERY_WRAP_V1) if format_byte is None else (format_byte,)
    if found not in expected:
        raise TamperedError("not a wrapped key of the expected kind")
    # Refuse before computing: a forged header must not make us burn memory or time.
    if not (
        1 <= parallelism <= MAX_PARALLELISM
        and 1 <= time_cost <= MAX_TIME_COST
        and 8 * parallelism <= memory_kib <= MAX_MEMORY_KIB
    ):
        raise TamperedError("wrapped key has impossible KDF parameters")
    return KdfParams(time_cost=time_cost, memory_kib=memory_kib, parallelism=parallelism)


def _unwrap(format_byte: int, blob: bytes, secret: bytes) -> bytes:
    blob = bytes(blob)
    params = _parse_params(blob, format_byte)
    prefix = blob[:_PREFIX_BYTES]
    stored_check = blob[_PREFIX_BYTES : _PREFIX_BYTES + _CHECK_BYTES]
    check, kek = _derive(secret, prefix[_HEADER.size :], params)
    password_matches = hmac.compare_digest(check, stored_check)
    # The AEAD decides; the check value only names the cause of a failure.
    try:
        private = secret_open(kek, blob[_PREFIX_BYTES + _CHECK_BYTES :], context=prefix)
    except TamperedError:
        if not password_matches:
            raise WrongPasswordError("the password does not open this key") from None
        raise
    if not password_matches:
        raise TamperedError("wrapped key's check value was altered")
    if len(private) != PRIVATE_KEY_BYTES:  # pragma: no cover - authenticated, so only a bug
        raise TamperedError("wrapped key has the wrong length")
    return private


def _password_bytes(password: str) -> bytes:
    if not password:
        raise ValueError("the password must not be empty")
    return password.encode("utf-8")


def wrap_private_key(
    private: bytes, password: str, *, params: KdfParams = DEFAULT_PASSWORD_PARAMS
) -> bytes:
    """Wrap a private key under a password (Argon2id with a fresh salt, parameters stored)."""
    return _wrap(PASSWORD_WRAP_V1, private, _password_bytes(password), params)


def unwrap_private_key(blob: bytes, password: str) -> bytes:
    """Unwrap a password-wrapped key; raise WrongPasswordError or TamperedError."""
    return _unwrap(PASSWORD_WRAP_V1, blob, _password_bytes(password))


def wrapped_key_params(blob: bytes) -> KdfParams:
    """Return the KDF parameters a wrapped key was made with (to decide on a rewrap)."""
    return _parse_params(bytes(blob), None)


def rewrap(
    blob: bytes,
    old_password: str,
    new_password: str,
    *,
    params: KdfParams = DEFAULT_PASSWORD_PARAMS,
) -> bytes:
    """Re-wrap a key under a new password, with a new salt and the current parameters."""
    return wrap_private_key(unwrap_private_key(blob, old_password), new_password, params=params)


def new_recovery_key() -> str:
    """Return a fresh recovery key of RECOVERY_KEY_BITS random bits, grouped for writing down."""
    return generate_grouped_code(RECOVERY_KEY_RANDOM_CHARS, RECOVERY_KEY_GROUP)


def normalize_recovery_key(text: str) -> str:
    """Return the canonical form of a typed recovery key or raise ReceiptFormatError."""
    return normalize_grouped_code(
        text, RECOVERY_KEY_RANDOM_CHARS, RECOVERY_KEY_GROUP, what="recovery key"
    )


def wrap_with_recovery_key(
    private: bytes, recovery_key: str, *, params: KdfParams = DEFAULT_RECOVERY_PARAMS
) -> bytes:
    """Wrap a private key under a recovery key (shown once at enrolment)."""
    secret = normalize_recovery_key(recovery_key).encode("ascii")
    return _wrap(RECOVERY_WRAP_V1, private, secret, params)


def unwrap_with_recovery_key(blob: bytes, recovery_key: str) -> bytes:
    """Unwrap a recovery-wrapped key; WrongPasswordError, TamperedError or ReceiptFormatError."""
    secret = normalize_recovery_key(recovery_key).encode("ascii")
    return _unwrap(RECOVERY_WRAP_V1, blob, secret)


def new_session_secret() -> bytes:
    """Return a fresh secret for one login session (it lives only in the user's cookie)."""
    return new_secret_key()


def protect_for_session(private: bytes, session_secret: bytes) -> bytes:
    """Encrypt an unwrapped private key under a session secret, for server-side storage."""
    return secret_seal(session_secret, _require_private(private), context=SESSION_CONTEXT)


def unprotect_from_session(blob: bytes, session_secret: bytes) -> bytes:
    """Recover the private key of a session; raise TamperedError for another session's secret."""
    return secret_open(session_secret, blob, context=SESSION_CONTEXT)
