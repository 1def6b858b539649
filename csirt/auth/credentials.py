"""Checking a signed-in user's credentials in the console: the app's password hasher, the lockout
limits from its config, and the password check every "enter your password again" form uses."""

from __future__ import annotations

from typing import TypedDict

from flask import current_app

from csirt.auth.service import Hashing


class Lockout(TypedDict):
    """The lockout limits the auth service's checks take (``CSIRT_LOGIN_*``)."""

    max_failures: int
    lock_minutes: int


def current_hashing() -> Hashing:
    """The app's password hasher (and TOTP seed sealer)."""
    hashing: Hashing = current_app.extensions["csirt.hashing"]
    return hashing


def lockout() -> Lockout:
    """The lockout limits from the app's config."""
    config = current_app.config["CSIRT"]
    return Lockout(max_failures=config.login_max_failures, lock_minutes=config.login_lock_minutes)


def password_matches(password_hash: str, password: str) -> bool:
    """Tell whether ``password`` is the one ``password_hash`` was made from."""
    try:
        current_hashing().hasher.verify(password_hash, password)
    except Exception:  # argon2 raises several kinds; all mean "wrong"
        return False
    return True
