"""Envelope encryption of a submission: one key per submission, one key for the reporter's identity.

- A random submission key seals every field, message and attachment of one submission with
  XChaCha20-Poly1305.  Each blob is bound to its submission id and field name, so a blob copied
  to another row or column does not open.
- The submission key is sealed (X25519 sealed box) to each intake officer's public key, and
  sealed under the receipt's key (AEAD bound to the submission id) for the reporter's mailbox.
- The identity, when given, is sealed under a separate identity key that is sealed only to
  custodians; an approved request re-seals it to that one officer (wrap_identity_key again).
- Plaintexts are padded (PADME: at most about 12 % overhead, at least 256 bytes) so a blob's
  size reveals only a coarse bucket of the original size.  Attachments are sealed whole, like
  fields, with names such as ``attachment:3:original``; the intake's upload cap bounds memory.
  A chunked secretstream format can come later under a new format byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from csirt.vault.errors import KeyFormatError, TamperedError
from csirt.vault.sealing import (
    KEY_BYTES,
    KeyPair,
    new_secret_key,
    open_sealed,
    seal_for,
    secret_open,
    secret_seal,
)

SubmissionId = int | str

MIN_PADDED_BYTES = 256
_LENGTH = struct.Struct(">Q")
# A one-byte purpose tag inside each sealed-box wrap, so a wrapped identity key is never
# accepted where a submission key belongs (sealed boxes carry no associated data).
_SUBMISSION_KEY_TAG = b"S"
_IDENTITY_KEY_TAG = b"I"


def padded_length(length: int) -> int:
    """Return the PADME bucket for a plaintext of `length` bytes (never below MIN_PADDED_BYTES)."""
    length = max(length, MIN_PADDED_BYTES)
    exponent = length.bit_length() - 1
    mantissa_bits = exponent - exponent.bit_length()
    mask = (1 << mantissa_bits) - 1
    return (length + mask) & ~mask


def _pad(data: bytes) -> bytes:
    framed = _LENGTH.pack(len(data)) + data
    return framed + bytes(padded_length(len(framed)) - len(framed))


def _unpad(padded: bytes) -> bytes:
    if len(padded) < _LENGTH.size:
        raise TamperedError("padded plaintext is too short")
    (length,) = _LENGTH.unpack_from(padded)
    end = _LENGTH.size + length
    if end > len(padded) or any(padded[end:]):
        raise TamperedError("padded plaintext is malformed")
    return padded[_LENGTH.size : end]


def _id_text(submission_id: SubmissionId) -> str:
    if isinstance(submission_id, bool) or not isinstance(submission_id, int | str):
        raise TypeError("a submission id is an int or a str")
    text = str(submission_id)
    if not text or ":" in text or (isinstance(submission_id, int) and submission_id < 0):
        raise ValueError("a submission id is a non-negative int or a non-empty str without ':'")
    return text


def _context(submission_id: SubmissionId, purpose: str) -> bytes:
    return f"csirt:submission:{_id_text(submission_id)}:{purpose}".encode()


def _field_context(submission_id: SubmissionId, name: str) -> bytes:
    if not name:
        raise ValueError("a field name must not be empty")
    return _context(submission_id, f"field:{name}")


def _require_key(key: bytes, what: str) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise KeyFormatError(f"{what} must be {KEY_BYTES} bytes")
    return bytes(key)


def _open_tagged(keypair_or_private: KeyPair | bytes, blob: bytes, tag: bytes) -> bytes:
    plain = open_sealed(keypair_or_private, blob)
    if len(plain) != len(tag) + KEY_BYTES or plain[: len(tag)] != tag:
        raise TamperedError("sealed key is not of the expected kind")
    return plain[len(tag) :]


def new_submission_key() -> bytes:
    """Return a fresh random key for one submission."""
    return new_secret_key()


def seal_field(sub_key: bytes, name: str, data: bytes, submission_id: SubmissionId) -> bytes:
    """Seal one field (answers, message, attachment, ...) of a submission, padded."""
    key = _require_key(sub_key, "a submission key")
    return secret_seal(key, _pad(data), context=_field_context(submission_id, name))


def open_field(sub_key: bytes, name: str, blob: bytes, submission_id: SubmissionId) -> bytes:
    """Open a sealed field; raise TamperedError if altered or moved to another field or row."""
    key = _require_key(sub_key, "a submission key")
    return _unpad(secret_open(key, blob, context=_field_context(submission_id, name)))


def wrap_submission_key_for_officer(sub_key: bytes, officer_public: bytes) -> bytes:
    """Seal a submission key to one intake officer's public key."""
    return seal_for(officer_public, _SUBMISSION_KEY_TAG + _require_key(sub_key, "a submission key"))


def open_submission_key_as_officer(officer: KeyPair | bytes, blob: bytes) -> bytes:
    """Recover a submission key with an officer's key pair (or raw private key)."""
    return _open_tagged(officer, blob, _SUBMISSION_KEY_TAG)


def wrap_submission_key_for_receipt(
    sub_key: bytes, receipt_key: bytes, submission_id: SubmissionId
) -> bytes:
    """Seal a submission key under the key derived from the reporter's receipt."""
    return secret_seal(
        _require_key(receipt_key, "a receipt key"),
        _require_key(sub_key, "a submission key"),
        context=_context(submission_id, "key-for-receipt"),
    )


def open_submission_key_with_receipt(
    receipt_key: bytes, blob: bytes, submission_id: SubmissionId
) -> bytes:
    """Recover a submission key with the receipt's key; TamperedError for another receipt or row."""
    key = secret_open(
        _require_key(receipt_key, "a receipt key"),
        blob,
        context=_context(submission_id, "key-for-receipt"),
    )
    if len(key) != KEY_BYTES:
        raise TamperedError("sealed submission key has the wrong length")
    return key


def new_identity_key() -> bytes:
    """Return a fresh random key for one reporter's identity, separate from the submission key."""
    return new_secret_key()


def seal_identity(identity_key: bytes, data: bytes, submission_id: SubmissionId) -> bytes:
    """Seal the reporter's identity (name, contact) under the identity key, padded."""
    key = _require_key(identity_key, "an identity key")
    return secret_seal(key, _pad(data), context=_context(submission_id, "identity"))


def open_identity(identity_key: bytes, blob: bytes, submission_id: SubmissionId) -> bytes:
    """Open the sealed identity; raise TamperedError if altered or from another submission."""
    key = _require_key(identity_key, "an identity key")
    return _unpad(secret_open(key, blob, context=_context(submission_id, "identity")))


def wrap_identity_key(identity_key: bytes, public_key: bytes) -> bytes:
    """Seal an identity key to a custodian, or to an officer once a custodian approved."""
    return seal_for(public_key, _IDENTITY_KEY_TAG + _require_key(identity_key, "an identity key"))


def open_identity_key(holder: KeyPair | bytes, blob: bytes) -> bytes:
    """Recover an identity key with a custodian's (or approved officer's) key pair."""
    return _open_tagged(holder, blob, _IDENTITY_KEY_TAG)


@dataclass(frozen=True)
class SubmissionEnvelope:
    """A submission id with its opened key: the convenient face of the functions above."""

    submission_id: SubmissionId
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _id_text(self.submission_id)
        _require_key(self.key, "a submission key")

    @classmethod
    def create(cls, submission_id: SubmissionId) -> SubmissionEnvelope:
        """Return an envelope with a fresh submission key."""
        return cls(submission_id, new_submission_key())

    @classmethod
    def open_as_officer(
        cls, submission_id: SubmissionId, officer: KeyPair | bytes, wrapped: bytes
    ) -> SubmissionEnvelope:
        """Open the envelope with an officer's key pair and their wrap of the submission key."""
        return cls(submission_id, open_submission_key_as_officer(officer, wrapped))

    @classmethod
    def open_with_receipt(
        cls, submission_id: SubmissionId, receipt_key: bytes, wrapped: bytes
    ) -> SubmissionEnvelope:
        """Open the envelope with the receipt's key and the receipt wrap of the submission key."""
        return cls(
            submission_id, open_submission_key_with_receipt(receipt_key, wrapped, submission_id)
        )

    def seal_field(self, name: str, data: bytes) -> bytes:
        """Seal one field of this submission."""
        return seal_field(self.key, name, data, self.submission_id)

    def open_field(self, name: str, blob: bytes) -> bytes:
        """Open one field of this submission."""
        return open_field(self.key, name, blob, self.submission_id)

    def wrap_for_officer(self, officer_public: bytes) -> bytes:
        """Seal this submission's key to an intake officer (at intake, or on a granted access)."""
        return wrap_submission_key_for_officer(self.key, officer_public)

    def wrap_for_receipt(self, receipt_key: bytes) -> bytes:
        """Seal this submission's key under the receipt's key."""
        return wrap_submission_key_for_receipt(self.key, receipt_key, self.submission_id)
