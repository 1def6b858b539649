"""Test factories with traits, e.g. ``users.create(roles=["lead"], totp=True)``."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyotp
from sqlalchemy.orm import Session

from csirt.audit.service import Actor
from csirt.auth import service
from csirt.auth.models import User
from csirt.auth.permissions import Role

_counter = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery staple"
FACTORY = Actor(None, "factory")


@dataclass
class CreatedUser:
    user: User
    password: str
    totp_seed: str | None
    recovery_key: str | None = None


class UserFactory:
    def __init__(self, session: Session, hashing: service.Hashing) -> None:
        self.session = session
        self.hashing = hashing

    def create(
        self,
        roles: list[str] | None = None,
        *,
        username: str | None = None,
        password: str = DEFAULT_PASSWORD,
        totp: bool = False,
        department: str | None = None,
        active: bool = True,
        keypair: bool = False,
        display_name: str = "",
    ) -> CreatedUser:
        name = username or f"user{next(_counter)}"
        user = service.create_user(
            self.session,
            self.hashing,
            name,
            password,
            [Role(r) for r in (roles or ["responder"])],
            actor=FACTORY,
            department=department,
            display_name=display_name,
        )
        user.active = active
        recovery_key = None
        if keypair:  # an intake vault key pair, wrapped under the password (cheap test KDF)
            from csirt.intake.staff_keys import enrol

            recovery_key = enrol(user, password, testing=True)
        seed = None
        if totp:
            seed = pyotp.random_base32()
            service.enable_totp(self.session, self.hashing, user, seed, pyotp.TOTP(seed).now())
            # Let the test's own login use the current code again.
            user.totp_last_step = None
        self.session.flush()
        return CreatedUser(user, password, seed, recovery_key)


def assign_to_case(session: Session, user: User, case_id: int, role: str = "pr") -> None:
    """Put ``user`` on the case (PR and committee reach only cases they are assigned to)."""
    from csirt.cases.models import CaseMember

    session.add(CaseMember(case_id=case_id, user_id=user.id, role=role))
    session.commit()
