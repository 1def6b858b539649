"""Staff key pairs: enrolment at sign-in, session protection, password changes, recovery."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from csirt import vault
from csirt.intake import staff_keys
from csirt.intake.models import StaffKeySession
from csirt.intake.staff_keys import VaultLockedError


def test_unlock_enrols_once_and_protects_per_session(users: Any, db_session: Session) -> None:
    created = users.create(roles=["intake_officer"])
    user, password = created.user, created.password
    cookie: dict[str, Any] = {}
    with pytest.raises(VaultLockedError):
        staff_keys.current_private_key(db_session, cookie, user)
    unlocked = staff_keys.unlock_at_login(db_session, user, password, testing=True)
    assert unlocked is not None
    assert unlocked.enrolled
    staff_keys.store_in_cookie(cookie, unlocked)
    db_session.flush()
    private = staff_keys.current_private_key(db_session, cookie, user)
    assert vault.public_key_of(private) == user.public_key
    row = db_session.get(StaffKeySession, unlocked.session_id)
    assert row is not None
    assert private not in row.protected_key
    assert staff_keys.has_pending_recovery(db_session, cookie, user)
    recovery = staff_keys.pop_pending_recovery(db_session, cookie, user)
    assert recovery is not None
    assert staff_keys.pop_pending_recovery(db_session, cookie, user) is None
    assert not staff_keys.has_pending_recovery(db_session, cookie, user)
    again = staff_keys.unlock_at_login(db_session, user, password, testing=True)
    assert again is not None
    assert not again.enrolled
    # Another user's cookie, a wrong secret, a malformed secret: all locked.
    other = users.create(roles=["intake_officer"], keypair=True).user
    with pytest.raises(VaultLockedError):
        staff_keys.current_private_key(db_session, cookie, other)
    for secret in (staff_keys._encode(bytes(32)), "***", staff_keys._encode(b"short")):
        wrong = dict(cookie, vault_secret=secret)
        with pytest.raises(VaultLockedError):
            staff_keys.current_private_key(db_session, wrong, user)
    assert staff_keys.pop_pending_recovery(db_session, {}, user) is None
    staff_keys.end_session(db_session, cookie)
    assert cookie == {}
    db_session.flush()
    assert db_session.get(StaffKeySession, unlocked.session_id) is None


def test_roles_without_intake_get_no_key(users: Any, db_session: Session) -> None:
    created = users.create(roles=["responder"])
    assert staff_keys.unlock_at_login(db_session, created.user, created.password) is None
    assert created.user.public_key is None
    assert not staff_keys.rewrap_for_new_password(created.user, "a", "b")


def test_password_change_and_reset_then_recovery(users: Any, db_session: Session) -> None:
    created = users.create(roles=["custodian"], keypair=True)
    user = created.user
    assert staff_keys.rewrap_for_new_password(
        user, created.password, "new password 123", testing=True
    )
    assert not staff_keys.rewrap_for_new_password(user, "not the password", "x", testing=True)
    # An administrator reset: the key stays wrapped under the old password and does not open.
    assert staff_keys.unlock_at_login(db_session, user, "reset password 456", testing=True) is None
    cookie: dict[str, Any] = {}
    assert created.recovery_key is not None
    with pytest.raises(vault.WrongPasswordError):
        staff_keys.restore_with_recovery_key(
            db_session, cookie, user, vault.new_recovery_key(), "reset password 456"
        )
    fresh = staff_keys.restore_with_recovery_key(
        db_session, cookie, user, created.recovery_key, "reset password 456", testing=True
    )
    assert fresh != created.recovery_key
    db_session.flush()
    assert staff_keys.current_private_key(db_session, cookie, user)
    assert staff_keys.unlock_at_login(db_session, user, "reset password 456", testing=True)
    # A key session made for an older key pair is refused.
    staff_keys.enrol(user, "reset password 456", testing=True)
    with pytest.raises(VaultLockedError):
        staff_keys.current_private_key(db_session, cookie, user)
    nobody = users.create(roles=["custodian"]).user
    with pytest.raises(vault.WrongPasswordError):
        staff_keys.restore_with_recovery_key(db_session, {}, nobody, fresh, "x")
