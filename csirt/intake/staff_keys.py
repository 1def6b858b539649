"""Staff key pairs for the intake vault: enrolment, unlock at sign-in, per-session protection.

A staff member who holds INTAKE_READ or IDENTITY_DECIDE gets an X25519 key pair as soon as their
password is known: when the account is created (CLI, administrator, demo seed), or at the first
sign-in for someone whose role changed later.  The private key is stored wrapped under their
password; the one-time recovery key is made and shown at their first sign-in (the private key is
at hand then).  Whenever someone gets a key pair or signs in, the reports they lack are sealed to
them (csirt.intake.keyring).  At each sign-in the key is unwrapped and re-encrypted under a
fresh random secret that lives only in their session cookie; the encrypted blob is kept
server-side in ``staff_key_sessions``.  A database dump therefore holds no usable private key,
and neither does the cookie alone.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from csirt import vault
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.auth.service import audit_user
from csirt.db import utcnow
from csirt.intake import keyring
from csirt.intake.escrow import Escrow
from csirt.intake.models import IdentityKeyWrap, StaffKeySession, SubmissionKeyWrap
from csirt.vault.kdf import KdfParams
from csirt.vault.keys import DEFAULT_PASSWORD_PARAMS

SESSION_ID_KEY = "vault_sid"
SESSION_SECRET_KEY = "vault_secret"  # noqa: S105 (the name of a session entry)
KEY_HOLDER_PERMISSIONS = (Permission.INTAKE_READ, Permission.IDENTITY_DECIDE)
# Tests: the same construction, at the smallest cost.
TEST_PASSWORD_PARAMS = KdfParams(time_cost=1, memory_kib=1024, parallelism=1)


class VaultLockedError(Exception):
    """The signed-in user has no usable private key in this session."""


@dataclass(frozen=True)
class UnlockedSession:
    """What the sign-in view puts in the session cookie, and whether a key was just enrolled."""

    session_id: str
    secret: str
    enrolled: bool


def needs_keypair(user: User) -> bool:
    """Whether this user should hold a key pair (intake officers and custodians)."""
    return any(user.can(permission) for permission in KEY_HOLDER_PERMISSIONS)


def password_params(testing: bool) -> KdfParams:
    return TEST_PASSWORD_PARAMS if testing else DEFAULT_PASSWORD_PARAMS


def enrol(user: User, password: str, *, testing: bool = False) -> str:
    """Give the user a fresh key pair wrapped under the password; return the recovery key."""
    return _new_recovery_key(user, _new_keypair(user, password, testing))


def _new_keypair(user: User, password: str, testing: bool) -> bytes:
    """Give the user a fresh key pair, wrapped under ``password``; return its private half."""
    keypair = vault.generate_keypair()
    user.public_key = keypair.public
    _wrap_under(user, keypair.private, password, testing)
    return keypair.private


def _wrap_under(user: User, private: bytes, password: str, testing: bool) -> None:
    user.wrapped_private_key = vault.wrap_private_key(
        private, password, params=password_params(testing)
    )


def _new_recovery_key(user: User, private: bytes) -> str:
    """Wrap the private key under a fresh recovery key too; return that key (shown once)."""
    recovery_key = vault.new_recovery_key()
    user.recovery_wrapped_key = vault.wrap_with_recovery_key(private, recovery_key)
    return recovery_key


def provide_keypair(
    db_session: Session,
    user: User,
    password: str,
    *,
    actor: audit.Actor | None = None,
    escrow: Escrow | None = None,
    testing: bool = False,
) -> bool:
    """Give a key holder a key pair now that their password is known; True if one was made.

    No recovery key yet: it is made and shown once at the first sign-in.  The reports the user
    may see are sealed to the new key from the organisation key (escrow), if there is one.
    """
    if user.wrapped_private_key is not None or not needs_keypair(user):
        return False
    _new_keypair(user, password, testing)
    user.recovery_wrapped_key = None
    db_session.flush()
    audit_user(db_session, AuditAction.VAULT_ENROL, user, actor=actor)
    keyring.wrap_from_escrow(db_session, escrow, [user])
    return True


def _encode(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def _open_session(db_session: Session, user: User, private: bytes) -> tuple[str, bytes]:
    secret = vault.new_session_secret()
    row = StaffKeySession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        protected_key=vault.protect_for_session(private, secret),
    )
    db_session.add(row)
    return row.id, secret


def unlock_at_login(
    db_session: Session,
    user: User,
    password: str,
    *,
    testing: bool = False,
    escrow: Escrow | None = None,
) -> UnlockedSession | None:
    """Unwrap (or first create) the user's key at sign-in; None if it does not open.

    The password has just been verified, so a WrongPasswordError means the key was wrapped under
    an earlier password (e.g. an administrator reset it): the user restores with the recovery key.
    While the key is open, the reports (and, for a custodian, the identities) this user holds are
    sealed to colleagues who lack them, and the escrow seals to this user what they lack.
    """
    if user.wrapped_private_key is None:
        if not needs_keypair(user):
            return None
        provide_keypair(db_session, user, password, escrow=escrow, testing=testing)
    assert user.wrapped_private_key is not None
    try:
        private = vault.unwrap_private_key(user.wrapped_private_key, password)
    except (vault.WrongPasswordError, vault.TamperedError):
        return None
    enrolled_key: str | None = None
    if user.recovery_wrapped_key is None:
        enrolled_key = _new_recovery_key(user, private)
    session_id, secret = _open_session(db_session, user, private)
    if enrolled_key is not None:
        row = db_session.get(StaffKeySession, session_id)
        assert row is not None
        row.pending_recovery = vault.secret_seal(
            secret, enrolled_key.encode("ascii"), context=b"csirt:pending-recovery"
        )
    _forget_old_sessions(db_session)
    if user.active:
        keyring.wrap_from_escrow(db_session, escrow, [user])
        keyring.rewrap_from_holder(db_session, user, private, escrow)
    return UnlockedSession(session_id, _encode(secret), enrolled_key is not None)


def _keep_for_session(db_session: Session, flask_session: Any, user: User, private: bytes) -> None:
    """Keep the private key open for this session: a server row, its secret in the cookie."""
    session_id, secret = _open_session(db_session, user, private)
    store_in_cookie(flask_session, UnlockedSession(session_id, _encode(secret), False))


def _forget_old_sessions(db_session: Session, hours: int = 24) -> None:
    cutoff = utcnow() - timedelta(hours=hours)
    db_session.execute(delete(StaffKeySession).where(StaffKeySession.created_at < cutoff))


def store_in_cookie(flask_session: Any, unlocked: UnlockedSession | None) -> None:
    """Put the session id and secret into the (signed) session cookie."""
    flask_session.pop(SESSION_ID_KEY, None)
    flask_session.pop(SESSION_SECRET_KEY, None)
    if unlocked is not None:
        flask_session[SESSION_ID_KEY] = unlocked.session_id
        flask_session[SESSION_SECRET_KEY] = unlocked.secret


def carry(flask_session: Any) -> tuple[str, str] | None:
    """Take the vault entries out of a session that is about to be cleared."""
    sid, secret = flask_session.get(SESSION_ID_KEY), flask_session.get(SESSION_SECRET_KEY)
    if isinstance(sid, str) and isinstance(secret, str):
        return sid, secret
    return None


def restore(flask_session: Any, carried: tuple[str, str] | None) -> None:
    """Put back what carry() took."""
    if carried is not None:
        flask_session[SESSION_ID_KEY], flask_session[SESSION_SECRET_KEY] = carried


def _row_and_secret(
    db_session: Session, flask_session: Any, user: User
) -> tuple[StaffKeySession, bytes]:
    carried = carry(flask_session)
    if carried is None:
        raise VaultLockedError("no key in this session")
    row = db_session.get(StaffKeySession, carried[0])
    if row is None or row.user_id != user.id:
        raise VaultLockedError("the session's key is gone")
    try:
        return row, _decode(carried[1])
    except (binascii.Error, ValueError):
        raise VaultLockedError("the session secret is malformed") from None


def current_private_key(db_session: Session, flask_session: Any, user: User) -> bytes:
    """The signed-in user's private key; VaultLockedError if this session has none."""
    row, secret = _row_and_secret(db_session, flask_session, user)
    try:
        private = vault.unprotect_from_session(row.protected_key, secret)
    except (vault.TamperedError, vault.KeyFormatError):
        raise VaultLockedError("the session secret does not open the key") from None
    if user.public_key is None or vault.public_key_of(private) != user.public_key:
        raise VaultLockedError("the session's key is not the user's current key")
    return private


def has_pending_recovery(db_session: Session, flask_session: Any, user: User) -> bool:
    """Whether this session still has a freshly enrolled recovery key to show."""
    try:
        row, _secret = _row_and_secret(db_session, flask_session, user)
    except VaultLockedError:
        return False
    return row.pending_recovery is not None


def pop_pending_recovery(db_session: Session, flask_session: Any, user: User) -> str | None:
    """The recovery key enrolled at this sign-in, once; None afterwards."""
    try:
        row, secret = _row_and_secret(db_session, flask_session, user)
    except VaultLockedError:
        return None
    if row.pending_recovery is None:
        return None
    try:
        plain = vault.secret_open(secret, row.pending_recovery, context=b"csirt:pending-recovery")
    except (vault.TamperedError, vault.KeyFormatError):
        return None
    finally:
        row.pending_recovery = None
    return plain.decode("ascii")


def end_session(db_session: Session, flask_session: Any) -> None:
    """Delete this session's server-side key (at sign-out)."""
    carried = carry(flask_session)
    if carried is not None:
        db_session.execute(delete(StaffKeySession).where(StaffKeySession.id == carried[0]))
    store_in_cookie(flask_session, None)


def rewrap_for_new_password(
    user: User, old_password: str, new_password: str, *, testing: bool = False
) -> bool:
    """Re-wrap the private key when the password changes; False if the old wrap did not open."""
    if user.wrapped_private_key is None:
        return False
    try:
        user.wrapped_private_key = vault.rewrap(
            user.wrapped_private_key, old_password, new_password, params=password_params(testing)
        )
    except (vault.WrongPasswordError, vault.TamperedError):
        return False
    return True


def replace_keypair(
    db_session: Session,
    flask_session: Any,
    user: User,
    password: str,
    *,
    escrow: Escrow | None = None,
    testing: bool = False,
) -> str:
    """A new key pair for someone whose key no longer opens; return its recovery key.

    For an officer whose password was reset and whose recovery key is lost.  The old key's wraps
    open nothing any more: they are deleted, so that the organisation key (now) and colleagues'
    sign-ins (later) seal the reports -- and, for a custodian, the identities -- to the new key.
    Identities released to this user by an approved request must be requested again.
    """
    if not needs_keypair(user):
        raise VaultLockedError("this role holds no intake key")
    db_session.execute(delete(SubmissionKeyWrap).where(SubmissionKeyWrap.user_id == user.id))
    db_session.execute(delete(IdentityKeyWrap).where(IdentityKeyWrap.user_id == user.id))
    db_session.expire_all()
    end_session(db_session, flask_session)
    private = _new_keypair(user, password, testing)
    fresh = _new_recovery_key(user, private)
    _keep_for_session(db_session, flask_session, user, private)
    audit_user(db_session, AuditAction.VAULT_ENROL, user, details={"replaced": True})
    keyring.wrap_from_escrow(db_session, escrow, [user])
    return fresh


def restore_with_recovery_key(
    db_session: Session,
    flask_session: Any,
    user: User,
    recovery_key: str,
    password: str,
    *,
    testing: bool = False,
    escrow: Escrow | None = None,
) -> str:
    """Re-wrap the key under the current password using the recovery key; return a new one.

    Raises WrongPasswordError, TamperedError or ReceiptFormatError (a mistyped recovery key).
    """
    if user.recovery_wrapped_key is None:
        raise vault.WrongPasswordError("no recovery key was enrolled")
    private = vault.unwrap_with_recovery_key(user.recovery_wrapped_key, recovery_key)
    _wrap_under(user, private, password, testing)
    fresh = _new_recovery_key(user, private)
    end_session(db_session, flask_session)  # the old row held the key under its old wrap
    _keep_for_session(db_session, flask_session, user, private)
    audit_user(db_session, AuditAction.VAULT_RESTORE, user)
    keyring.wrap_from_escrow(db_session, escrow, [user])
    keyring.rewrap_from_holder(db_session, user, private, escrow)
    return fresh
