"""The organisation intake key (escrow): its public half in the database, its KEK in a file.

Every report's key is also sealed to the organisation's public key, so that officers who get a
key pair later can be given older reports at once, with no other key holder present.  The
private half is stored sealed under a key-encryption key (KEK) kept OUTSIDE the database: a
0600 file (``CSIRT_INTAKE_ESCROW_KEY_FILE``, by default ``instance/intake_escrow.key``),
created on first need.  A database dump alone opens nothing; a dump plus that file opens every
report, so the file is kept out of database backups.  ``CSIRT_INTAKE_ESCROW=off`` (strict mode)
turns all of this off: reports then reach later officers only from a key holder's sign-in.

No Flask here: the caller passes the session and builds :class:`Escrow` from the config.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Config
from csirt import vault
from csirt.auth.models import Setting
from csirt.vault import escrow as vault_escrow

SETTING_KEY = "intake.escrow_key"

EscrowStatus = Literal["off", "none", "ok", "missing_file", "mismatch"]


@dataclass(frozen=True)
class Escrow:
    """Where the organisation intake key is, and whether it is used at all."""

    enabled: bool
    key_file: Path

    @classmethod
    def from_config(cls, config: Config) -> Escrow:
        return cls(enabled=config.intake_escrow, key_file=config.escrow_key_path)

    # --- the public half (database) -------------------------------------------------------

    def _row(self, session: Session) -> Setting | None:
        return session.get(Setting, SETTING_KEY)

    def public_key(self, session: Session) -> bytes | None:
        """The organisation's public key, or None (strict mode, or not created yet)."""
        if not self.enabled:
            return None
        row = self._row(session)
        return bytes.fromhex(row.value["public"]) if row is not None else None

    def ensure_public_key(self, session: Session) -> bytes | None:
        """The organisation's public key, created (with its KEK file) on first need."""
        if not self.enabled:
            return None
        existing = self.public_key(session)
        if existing is not None:
            return existing
        kek = self._read_kek(create=True)
        assert kek is not None
        public, sealed = vault_escrow.new_organisation_key(kek)
        try:
            # A savepoint: another worker may be creating it at the same moment.
            with session.begin_nested():
                session.add(
                    Setting(key=SETTING_KEY, value={"public": public.hex(), "sealed": sealed.hex()})
                )
        except IntegrityError:
            pass
        return self.public_key(session)

    # --- the private half (needs the KEK file) --------------------------------------------

    def keypair(self, session: Session) -> vault.KeyPair | None:
        """The opened organisation key pair, or None if it is off, absent or cannot be opened."""
        if not self.enabled:
            return None
        row = self._row(session)
        if row is None:
            return None
        try:
            kek = self._read_kek(create=False)
        except vault.KeyFormatError:
            return None
        if kek is None:
            return None
        try:
            return vault_escrow.open_escrow_private(
                kek, bytes.fromhex(row.value["sealed"]), bytes.fromhex(row.value["public"])
            )
        except (vault.TamperedError, vault.KeyFormatError):
            return None

    def status(self, session: Session) -> EscrowStatus:
        """off, none (no key yet), ok, missing_file, or mismatch (the file does not open it)."""
        if not self.enabled:
            return "off"
        if self._row(session) is None:
            return "none"
        if not self.key_file.exists():
            return "missing_file"
        return "ok" if self.keypair(session) is not None else "mismatch"

    def _read_kek(self, *, create: bool) -> bytes | None:
        path = self.key_file
        if path.exists():
            return vault_escrow.decode_kek(path.read_text(encoding="ascii"))
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        kek = vault_escrow.new_escrow_kek()
        # Write a 0600 temporary file, then link it into place: never world-readable, never
        # half-written, and a concurrent creator's file wins (os.link refuses to overwrite).
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(vault_escrow.encode_kek(kek) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                return vault_escrow.decode_kek(path.read_text(encoding="ascii"))
        finally:
            temporary.unlink(missing_ok=True)
        return kek
