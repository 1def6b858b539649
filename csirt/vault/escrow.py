"""The organisation intake key: an X25519 key pair whose private half is sealed under a KEK.

Every submission key is also sealed to the organisation's public key (the same sealed box as
for an officer), so that an officer who gets a key pair later can be given older reports without
any other key holder present.  The private half is stored only sealed under a key-encryption
key (KEK) that is kept outside the database (a file): the database alone opens nothing.

KEK file layout: one line of URL-safe base64 of 32 random bytes.
"""

from __future__ import annotations

import base64
import binascii

from csirt.vault.errors import KeyFormatError, TamperedError
from csirt.vault.sealing import (
    KEY_BYTES,
    PRIVATE_KEY_BYTES,
    KeyPair,
    generate_keypair,
    new_secret_key,
    public_key_of,
    secret_open,
    secret_seal,
)

ESCROW_CONTEXT = b"csirt:intake-escrow:private-key"


def new_escrow_kek() -> bytes:
    """Return a fresh random key-encryption key for the organisation intake key."""
    return new_secret_key()


def encode_kek(kek: bytes) -> str:
    """The text written to the KEK file."""
    if len(kek) != KEY_BYTES:
        raise KeyFormatError(f"a KEK is {KEY_BYTES} bytes")
    return base64.urlsafe_b64encode(kek).decode("ascii")


def decode_kek(text: str) -> bytes:
    """Read a KEK file's text; KeyFormatError if it is not one."""
    try:
        kek = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyFormatError("the escrow key file is not base64") from None
    if len(kek) != KEY_BYTES:
        raise KeyFormatError(f"the escrow key file must hold {KEY_BYTES} bytes")
    return kek


def new_organisation_key(kek: bytes) -> tuple[bytes, bytes]:
    """Return (public key, private key sealed under the KEK) of a fresh organisation key pair."""
    keypair = generate_keypair()
    return keypair.public, seal_escrow_private(kek, keypair.private)


def seal_escrow_private(kek: bytes, private: bytes) -> bytes:
    """Seal the organisation's private key under the KEK."""
    if len(private) != PRIVATE_KEY_BYTES:
        raise KeyFormatError(f"a private key must be {PRIVATE_KEY_BYTES} bytes")
    return secret_seal(kek, private, context=ESCROW_CONTEXT)


def open_escrow_private(kek: bytes, sealed: bytes, public: bytes) -> KeyPair:
    """Open the organisation key pair; TamperedError if the KEK does not open it."""
    private = secret_open(kek, sealed, context=ESCROW_CONTEXT)
    if len(private) != PRIVATE_KEY_BYTES or public_key_of(private) != public:
        raise TamperedError("the organisation private key does not match its public key")
    return KeyPair(public=public, private=private)
