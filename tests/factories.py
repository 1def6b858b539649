"""Test factories with traits: ``users.create(roles=["lead"], totp=True)``,
``cases.create(triaged=True, with_datasets=2, phase="contain", members=[alice])``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyotp
from flask import Flask, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.service import Actor
from csirt.auth import service
from csirt.auth.models import User
from csirt.auth.permissions import Role

_counter = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery staple"
FACTORY = Actor(None, "factory")


def api_headers(
    db_session: Session, user: User, scopes: Sequence[str] = ("read", "write")
) -> dict[str, str]:
    """The headers of an API client holding a new token of ``user`` (committed)."""
    _row, plain = service.create_token(
        db_session, user, name="t", actor=FACTORY, scopes=tuple(scopes)
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


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


# (name, holder, vocabulary items, persons): the founding story's first data sets.
DATASETS = (
    (
        "選挙人名簿（市内全有権者）",
        "北区選挙管理委員会事務局",
        ("name", "sex", "birth_date", "address"),
        680_000,
    ),
    ("短時間勤務職員名簿", "（公財）教育スポーツ振興事業団", ("name", "address", "phone"), 1_000),
    ("アルバイト応募者", "（公財）産業振興センター", ("name", "age", "address", "phone"), 11),
)


class CaseFactory:
    """Cases and their records, built through the services that own them.

    Traits: ``members`` (users put on the case, role ``member_role``), ``with_datasets=N``
    (affected data sets added through the records service, which tells triage: on an app with its
    reactions wired, triage runs for real), ``triaged=True`` (at least one data set, and a
    triage run must follow), ``phase`` (the case is put straight into that phase, bypassing the
    lifecycle's gates: a state to start from, not a transition under test).
    """

    def __init__(self, session: Session, users: UserFactory, app: Flask | None = None) -> None:
        self.session = session
        self.users = users
        self.app = app

    def create(
        self,
        *,
        title: str = "テスト事案",
        actor: User | None = None,
        members: Sequence[User] = (),
        member_role: str = "investigator",
        with_datasets: int = 0,
        triaged: bool = False,
        phase: str | None = None,
        commit: bool = False,
        **fields: Any,
    ) -> Any:
        from csirt.cases.creation import create_case
        from csirt.cases.models import CaseMember, Phase

        creator = actor if actor is not None else self.users.create(roles=["lead"]).user
        case = create_case(self.session, title=title, actor=creator, **fields)
        for user in members:
            self.session.add(CaseMember(case_id=case.id, user_id=user.id, role=member_role))
        if phase is not None:
            case.phase = Phase(phase).value
        self.session.flush()
        count = max(with_datasets, 1 if triaged else 0)
        if count:
            self._datasets(case, creator, count)
        if triaged:
            from csirt.triage.models import TriageRun

            runs = self.session.scalar(
                select(func.count()).select_from(TriageRun).where(TriageRun.case_id == case.id)
            )
            assert runs, "triaged=True: no triage run followed the data sets (reactions wired?)"
        if commit:
            self.session.commit()
        return case

    def _datasets(self, case: Any, actor: User, count: int) -> None:
        from csirt.records import service as records_service
        from csirt.records.validation import DatasetInput

        def add_all() -> None:
            for n in range(count):
                name, holder, items, persons = DATASETS[n % len(DATASETS)]
                data = DatasetInput(
                    name=name if n < len(DATASETS) else f"{name} {n + 1}",
                    holder=holder,
                    items=items,
                    persons=persons,
                    persons_estimated=False,
                    exposure="public_internet",
                    exposed_from=None,
                    exposed_until=None,
                    encrypted=False,
                    secondary_damage="",
                )
                records_service.add_dataset(self.session, case, actor, data)
            self.session.flush()

        if has_app_context() or self.app is None:
            add_all()
        else:
            with self.app.app_context():
                add_all()
