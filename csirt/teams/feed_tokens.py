"""Calendar feed tokens: one per person, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.teams.base import record
from csirt.teams.models import StaffProfile
from csirt.teams.people import profile_for


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(session: Session, user: User) -> str:
    """A new calendar feed token for this person (the old one stops working); shown once."""
    token = secrets.token_urlsafe(32)
    profile_for(session, user).feed_token_hash = _token_hash(token)
    session.flush()
    record(session, AuditAction.STAFF_FEED_TOKEN, user, "user", user.id)
    return token


def user_for_feed_token(session: Session, token: str) -> User | None:
    """The active person whose feed token this is."""
    if not token or len(token) > 200:
        return None
    profile = session.scalar(
        select(StaffProfile).where(StaffProfile.feed_token_hash == _token_hash(token))
    )
    if profile is None or not profile.user.active:
        return None
    return profile.user
