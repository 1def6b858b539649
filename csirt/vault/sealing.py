"""Sealing primitives (libsodium through PyNaCl): public-key sealed boxes and secret-key AEAD.

Every blob starts with one format byte naming its kind and version, so that a blob of one kind
is never opened as another and a future format can coexist with this one.  Every failure to
open -- altered byte, truncation, wrong key, wrong context, unknown format -- raises
TamperedError; nothing here ever returns unauthenticated bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nacl.utils
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_ABYTES,
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
)
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from csirt.vault.errors import KeyFormatError, TamperedError

KEY_BYTES: int = crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES: int = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES: int = crypto_aead_xchacha20poly1305_ietf_ABYTES
PUBLIC_KEY_BYTES = PublicKey.SIZE
PRIVATE_KEY_BYTES = PrivateKey.SIZE

# Format bytes: high nibble = kind, low nibble = version.
SEALED_BOX_V1 = 0x11  # X25519 + XSalsa20-Poly1305 sealed box, anonymous sender
SECRET_V1 = 0x21  # XChaCha20-Poly1305-IETF with the context as associated data
# SealedBox adds an ephemeral public key and a MAC.
_SEALED_BOX_OVERHEAD = PUBLIC_KEY_BYTES + 16


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair (raw 32-byte keys)."""

    public: bytes
    private: bytes = field(repr=False)


def _require_key(value: bytes, size: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != size:
        raise KeyFormatError(f"{what} must be {size} bytes")
    return bytes(value)


def generate_keypair() -> KeyPair:
    """Return a fresh X25519 key pair."""
    private = PrivateKey.generate()
    return KeyPair(public=bytes(private.public_key), private=bytes(private))


def public_key_of(private: bytes) -> bytes:
    """Return the public key belonging to a raw private key."""
    key = _require_key(private, PRIVATE_KEY_BYTES, "a private key")
    return bytes(PrivateKey(key).public_key)


def new_secret_key() -> bytes:
    """Return a fresh random 32-byte key for secret_seal."""
    return nacl.utils.random(KEY_BYTES)


def seal_for(public_key: bytes, data: bytes) -> bytes:
    """Seal data so that only the holder of public_key's private key can open it."""
    key = PublicKey(_require_key(public_key, PUBLIC_KEY_BYTES, "a public key"))
    return bytes([SEALED_BOX_V1]) + SealedBox(key).encrypt(data)


def open_sealed(keypair_or_private: KeyPair | bytes, blob: bytes) -> bytes:
    """Open a seal_for blob; raise TamperedError on any alteration or the wrong key."""
    private = (
        keypair_or_private.private
        if isinstance(keypair_or_private, KeyPair)
        else keypair_or_private
    )
    box = SealedBox(PrivateKey(_require_key(private, PRIVATE_KEY_BYTES, "a private key")))
    if len(blob) < 1 + _SEALED_BOX_OVERHEAD or blob[0] != SEALED_BOX_V1:
        raise TamperedError("not a sealed box of a known format")
    try:
        return box.decrypt(bytes(blob[1:]))
    except CryptoError:
        raise TamperedError("sealed box does not open: altered or sealed to another key") from None


def _associated_data(format_byte: int, context: bytes) -> bytes:
    if not isinstance(context, bytes):
        raise TypeError("context must be bytes")
    return bytes([format_byte]) + context


def secret_seal(key: bytes, data: bytes, *, context: bytes) -> bytes:
    """Encrypt and authenticate data under key, bound to context (e.g. b"submission:42:answers")."""
    key = _require_key(key, KEY_BYTES, "a secret key")
    nonce = nacl.utils.random(NONCE_BYTES)  # 192-bit random nonces: no counter to keep
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(
        data, _associated_data(SECRET_V1, context), nonce, key
    )
    return bytes([SECRET_V1]) + nonce + ciphertext


def secret_open(key: bytes, blob: bytes, *, context: bytes) -> bytes:
    """Open a secret_seal blob; raise TamperedError on alteration, wrong key or wrong context."""
    key = _require_key(key, KEY_BYTES, "a secret key")
    associated = _associated_data(SECRET_V1, context)
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != SECRET_V1:
        raise TamperedError("not a sealed blob of a known format")
    nonce, ciphertext = bytes(blob[1 : 1 + NONCE_BYTES]), bytes(blob[1 + NONCE_BYTES :])
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, associated, nonce, key)
    except CryptoError:
        raise TamperedError("sealed blob does not open: altered, moved or wrong key") from None
