"""Errors raised by the vault; messages never contain secrets, receipts or plaintext."""

from __future__ import annotations


class VaultError(Exception):
    """Base class of every error the vault raises."""


class TamperedError(VaultError):
    """A sealed blob failed authentication: altered, truncated, moved, or the wrong key."""


class WrongPasswordError(VaultError):
    """A wrapped private key did not open: the password or recovery key does not match."""


class ReceiptFormatError(VaultError, ValueError):
    """A receipt (or recovery key) has the wrong length, a foreign character or a bad check."""


class VaultBusyError(VaultError):
    """Too many receipt hashes are running; the caller should answer 429 or 503 and retry later."""


class KeyFormatError(VaultError, ValueError):
    """A key argument has the wrong type or length (a programming error, not an attack)."""
